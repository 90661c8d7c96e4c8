"""Apprise channel: a short notification to any service the optional ``apprise`` knows.

Chat services cap message length and render little markup, so the body is the events'
summary lines with a bounded excerpt of the text diff, not the whole mail body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from monitor.alerts.base import Channel, DeliveryError
from monitor.alerts.payload import subject, summary_lines
from monitor.config import AppriseConfig
from monitor.errors import ConfigError
from monitor.models import AlertMessage

BODY_LIMIT = 3500  # characters; under the tightest common cap (Telegram's 4096)
DIFF_EXCERPT = 1200  # characters of a single event's text diff


def notification_body(message: AlertMessage, limit: int = BODY_LIMIT) -> str:
    """Plain text: each event's summary, a diff excerpt for a lone event, cut at ``limit``."""
    blocks = []
    for event in message.events:
        lines = summary_lines(event)
        diff = event.get("diff")
        if len(message.events) == 1 and isinstance(diff, Mapping) and diff.get("text"):
            lines += ["", _excerpt(str(diff["text"]), DIFF_EXCERPT)]
        blocks.append("\n".join(lines))
    return _excerpt("\n\n".join(blocks), limit)


def _excerpt(text: str, limit: int) -> str:
    text = text.rstrip("\n")
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit("\n", 1)[0] if "\n" in text[:limit] else text[: limit - 1]
    return cut + "\n…"


class AppriseChannel(Channel[AppriseConfig]):
    """Notify Slack, Matrix, Telegram, ntfy and more through Apprise URLs (extra: apprise)."""

    kind: ClassVar[str] = "apprise"

    def __init__(self, config: AppriseConfig) -> None:
        super().__init__(config)
        try:
            import apprise
        except ImportError as exc:
            raise ConfigError(
                f"alert channel {config.name!r}: type 'apprise' needs the apprise package;"
                " install newsmonitor[apprise]"
            ) from exc
        self._apprise: Any = apprise.Apprise()
        for index, url in enumerate(config.urls):
            # The URL itself carries tokens: the message names its position only.
            if not self._apprise.add(url.get_secret_value()):
                raise ConfigError(
                    f"alert channel {config.name!r}: urls[{index}] is not a URL apprise supports"
                )

    async def send(self, message: AlertMessage) -> None:
        """Notify every configured URL; raise ``DeliveryError`` if any of them failed."""
        title = subject(message.events)
        body = notification_body(message)
        # apprise's notify blocks on its own HTTP calls.
        try:
            delivered = await asyncio.to_thread(self._apprise.notify, body=body, title=title)
        except Exception as exc:
            # A plugin raising is apprise's bug, not a verdict on the message: retry.
            reason = f"apprise raised {type(exc).__name__}"
            raise DeliveryError(self.name, reason, permanent=False) from exc
        if not delivered:
            # apprise reports one bool for all URLs and logs the details itself.
            raise DeliveryError(
                self.name, "apprise reported a failed notification", permanent=False
            )

    async def aclose(self) -> None:
        """Nothing held between notifications."""
