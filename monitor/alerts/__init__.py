"""Alert channels: where change events go, and the seam every channel fits.

A channel is one small class with a ``kind`` (its config ``type``) and a one-line
docstring that doubles as user help (``channel_kinds`` lists them). ``send`` returns when
a message was delivered and raises ``DeliveryError`` when it was not; the outbox relay
decides from ``permanent`` and ``retry_after`` whether and when to try again.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.alerts.apprise_channel import AppriseChannel
from monitor.alerts.base import AlertChannel, DeliveryError
from monitor.alerts.email import EmailChannel
from monitor.alerts.webhook import WebhookChannel
from monitor.config import (
    DEFAULT_USER_AGENT,
    AlertChannelConfig,
    AppriseConfig,
    EmailConfig,
    WebhookConfig,
)

__all__ = [
    "CHANNEL_CLASSES",
    "AlertChannel",
    "AppriseChannel",
    "DeliveryError",
    "EmailChannel",
    "WebhookChannel",
    "build_channel",
    "channel_kinds",
]

CHANNEL_CLASSES: Mapping[str, type[AlertChannel]] = {
    cls.kind: cls for cls in (WebhookChannel, EmailChannel, AppriseChannel)
}


def channel_kinds() -> list[tuple[str, str]]:
    """(kind, one-line help) of every channel type, for a ``--features``-style listing."""
    return [
        (kind, (cls.__doc__ or "").strip().splitlines()[0])
        for kind, cls in sorted(CHANNEL_CLASSES.items())
    ]


def build_channel(
    config: AlertChannelConfig, *, user_agent: str = DEFAULT_USER_AGENT
) -> AlertChannel:
    """The channel ``config`` describes; ``ConfigError`` if it cannot be built here."""
    match config:
        case WebhookConfig():
            return WebhookChannel(config, user_agent=user_agent)
        case EmailConfig():
            return EmailChannel(config)
        case AppriseConfig():
            return AppriseChannel(config)
