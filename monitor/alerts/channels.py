"""The channel registry: every channel type by its config ``type``, and how one is built."""

from __future__ import annotations

from collections.abc import Mapping

from monitor.alerts.apprise_channel import AppriseChannel
from monitor.alerts.base import AlertChannel
from monitor.alerts.email import EmailChannel
from monitor.alerts.webhook import WebhookChannel
from monitor.config import (
    DEFAULT_USER_AGENT,
    AlertChannelConfig,
    AppriseConfig,
    EmailConfig,
    WebhookConfig,
)

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
