"""Alert channels: where change events go, and the seam every channel fits.

A channel is one small class with a ``kind`` (its config ``type``) and a one-line
docstring that doubles as user help (``channel_kinds`` lists them). ``send`` returns when
a message was delivered and raises ``DeliveryError`` when it was not; the outbox relay
decides from ``permanent`` and ``retry_after`` whether and when to try again.

Inside, imports point one way: ``outbox`` -> ``channels`` (the registry) -> each channel
-> ``base`` and ``payload``; ``routing`` stands alone. This package only re-exports.
"""

from __future__ import annotations

from monitor.alerts.apprise_channel import AppriseChannel
from monitor.alerts.base import AlertChannel, DeliveryError
from monitor.alerts.channels import CHANNEL_CLASSES, build_channel, channel_kinds
from monitor.alerts.email import EmailChannel
from monitor.alerts.webhook import WebhookChannel

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
