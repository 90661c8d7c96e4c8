"""The channel seam: what every alert channel is, and how its failures are reported."""

from __future__ import annotations

from typing import ClassVar, Generic, Protocol, TypeVar

from monitor.clock import Clock, utc_now
from monitor.config import AlertChannelConfig, AppriseConfig, EmailConfig, WebhookConfig
from monitor.errors import MonitorError
from monitor.models import AlertMessage

ConfigT = TypeVar("ConfigT", WebhookConfig, EmailConfig, AppriseConfig)


class DeliveryError(MonitorError):
    """A channel could not deliver a message.

    ``permanent`` failures (a 4xx answer, a refused recipient) are not retried;
    transient ones are, no sooner than ``retry_after`` seconds when the receiver said so.
    The message names the channel and what went wrong, never a secret.
    """

    def __init__(
        self,
        channel: str,
        message: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{channel}: {message}")
        self.channel = channel
        self.reason = message
        self.permanent = permanent
        self.retry_after = retry_after


class AlertChannel(Protocol):
    """Delivers alert messages somewhere: ``send`` returns on success, raises on failure."""

    kind: ClassVar[str]  # the config's ``type``

    @property
    def name(self) -> str: ...

    @property
    def config(self) -> AlertChannelConfig: ...

    async def send(self, message: AlertMessage) -> None:
        """Deliver ``message`` once; raise ``DeliveryError`` when it was not delivered."""
        ...

    async def aclose(self) -> None:
        """Release connections the channel holds."""
        ...


class Channel(Generic[ConfigT]):
    """What every channel keeps: its config, the name it goes by (the config's), a clock."""

    kind: ClassVar[str]

    def __init__(self, config: ConfigT, clock: Clock = utc_now) -> None:
        self.config: ConfigT = config
        self.name = config.name
        self._clock = clock
