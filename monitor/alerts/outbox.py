"""The relay: deliver queued alerts from the outbox, at least once, and never lose one.

Alerts are written by the pipeline in the same transaction as their changes. The relay
leases due rows (so two relays, or a relay and a crashed one, never send the same row at
the same time), renews the lease of each row just before sending it (a relay whose lease ran
out while it worked through a batch, and whose rows another relay took, skips them), sends
each through its channel within the lease, and records the outcome under its lease:
delivered; queued again after an exponential backoff with jitter (or the receiver's
Retry-After); or dead after a permanent failure, ``max_attempts`` or ``max_age``. A relay
killed between sending and recording leaves the row leased; when the lease runs out it is
sent again with the same event id, which receivers use to deduplicate.

Digest channels hold their alerts until the oldest is ``digest`` old, then send them all
as one message.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from monitor.alerts.base import AlertChannel, DeliveryError
from monitor.alerts.channels import build_channel
from monitor.alerts.payload import DIGEST_TYPE, TEST_KEY, build_event, digest_id, event_type
from monitor.clock import Clock, utc_now
from monitor.compare import compare_stored
from monitor.config import AlertChannelConfig, Settings
from monitor.errors import ConfigError, MonitorError, StoreError
from monitor.models import (
    Alert,
    AlertAttempt,
    AlertClaim,
    AlertMessage,
    AlertStatus,
    Change,
    ChangeKind,
    DiffDocument,
    RelayReport,
    Significance,
)
from monitor.store import ArchiveStore, OutboxStore
from monitor.store.runner import StoreRunner

LEASE = timedelta(minutes=5)
BACKOFF = timedelta(seconds=30)  # after the first failure; doubled after each next one
MAX_BACKOFF = timedelta(hours=2)
BATCH = 100
PER_CHANNEL = 4  # deliveries in flight to one channel: a burst must not flood a receiver
LEASE_SHARE = 0.8  # a send must end within this share of the lease, renewed just before it


def retry_delay(attempts: int, retry_after: float | None, jitter: float) -> timedelta:
    """Backoff after ``attempts`` failed attempts; ``jitter`` in [0, 1) spreads retries."""
    backoff = min(BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF) * (1 + 0.25 * jitter)
    if retry_after is not None:
        return max(backoff, timedelta(seconds=retry_after))
    return backoff


class Relay:
    """Delivers due alerts of the configured channels."""

    def __init__(
        self,
        store: OutboxStore,
        channels: Mapping[str, AlertChannel],
        owner: str | None = None,
        lease: timedelta = LEASE,
        random_source: Callable[[], float] = random.random,
        runner: StoreRunner | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.channels = channels
        self.owner = owner or f"relay-{secrets.token_hex(6)}"
        self.lease = lease
        self._random = random_source
        # Read when a lease is renewed mid-pass: ``now`` of the pass is stale by then.
        self._clock = clock
        self._own_runner = runner is None
        self.db = runner or StoreRunner(store)

    def close(self) -> None:
        if self._own_runner:
            self.db.close()

    async def run_once(self, now: datetime) -> RelayReport:
        """Send every alert due at ``now`` (in batches) and every digest that is due.

        A store that refuses the relay's writes ends the pass with the reason in the report;
        what was not sent stays queued."""
        report = RelayReport()
        try:
            await self._run_once(now, report)
        except StoreError as exc:
            report.errors.append(f"the outbox could not be read or updated: {exc}")
        return report

    async def _run_once(self, now: datetime, report: RelayReport) -> None:
        limits = {name: asyncio.Semaphore(PER_CHANNEL) for name in self.channels}

        async def deliver_one(alert: Alert) -> RelayReport:
            limit = limits.get(alert.channel) or contextlib.nullcontext()
            try:
                async with limit:
                    return await self._deliver([alert], now)
            except StoreError as exc:  # it stays leased, and is sent again when that ends
                return RelayReport(errors=[f"alert {alert.event_id}: {exc}"])

        while batch := await self.db.write(
            self.store.claim_alerts, now, AlertClaim(self.owner, now + self.lease, limit=BATCH)
        ):
            results = await asyncio.gather(*(deliver_one(alert) for alert in batch))
            for result in results:
                report.add(result)
        for name, channel in self.channels.items():
            window = channel.config.digest
            oldest = await self.db.read(self.store.oldest_queued_digest, name)
            if window is None or oldest is None or oldest + window > now:
                continue
            claim = AlertClaim(
                self.owner, now + self.lease, limit=10_000, digest=True, channel=name
            )
            held = await self.db.write(self.store.claim_alerts, now, claim)
            if held:
                report.add(await self._deliver(held, now))

    async def deliver_pending(
        self, clock: Callable[[], datetime], wait: float, poll: float = 0.5
    ) -> RelayReport:
        """Deliver what is due now, retrying soon-due alerts for at most ``wait`` seconds.

        ``newsmonitor check`` calls this before it exits; whatever is still queued after
        ``wait`` stays in the outbox for the next run or the daemon.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        report = RelayReport()
        while True:
            report.add(await self.run_once(clock()))
            try:
                queued = await self.db.read(self.store.list_alerts, AlertStatus.QUEUED)
            except StoreError as exc:
                report.errors.append(f"the outbox could not be read: {exc}")
                return report
            pending = [
                alert for alert in queued if not alert.digest and alert.channel in self.channels
            ]
            soonest = min((a.next_attempt or clock() for a in pending), default=None)
            if soonest is None:
                return report
            pause = max((soonest - clock()).total_seconds(), poll)
            if loop.time() + pause > deadline:
                return report
            await asyncio.sleep(pause)

    async def _deliver(self, alerts: Sequence[Alert], now: datetime) -> RelayReport:
        """Send ``alerts`` (one, or a digest's worth) and record the outcome of each."""
        report = RelayReport()
        first = alerts[0]
        channel = self.channels.get(first.channel)
        if channel is None:
            error = f"channel {first.channel!r} is not configured (any more)"
            for alert in alerts:
                await self._finish(alert, AlertStatus.DEAD, now, error=error)
            report.dead += len(alerts)
            report.errors.append(error)
            return report
        # The lease may have run out while earlier rows of the batch were sent (a slow
        # receiver): renew it now, and leave rows that another relay took meanwhile to it.
        renewed_until = self._clock() + self.lease
        held = await self.db.write(
            self.store.renew_alerts, [a.id for a in alerts], self.owner, renewed_until
        )
        alerts = [alert for alert in alerts if alert.id in held]
        if not alerts:
            return report
        first = alerts[0]
        if len(alerts) == 1 and not first.digest:
            message = AlertMessage(
                first.event_id, first.event_type, first.created_at, (first.payload,)
            )
        else:
            message = AlertMessage(
                digest_id(a.event_id for a in alerts),
                DIGEST_TYPE,
                now,
                tuple(a.payload for a in alerts),
            )
        try:
            # Within the lease: a send still going when it ends could be repeated by
            # another relay. Most channels time out much sooner on their own.
            async with asyncio.timeout(self.lease.total_seconds() * LEASE_SHARE):
                await channel.send(message)
        except TimeoutError:
            limit = self.lease.total_seconds() * LEASE_SHARE
            timeout = DeliveryError(
                first.channel, f"no answer within {limit:g}s (the relay's lease)", permanent=False
            )
            report.add(await self._failed(alerts, channel, timeout, now))
            return report
        except DeliveryError as exc:
            report.add(await self._failed(alerts, channel, exc, now))
            return report
        for alert in alerts:
            await self._finish(alert, AlertStatus.DELIVERED, now, alert.attempts + 1)
        report.delivered += len(alerts)
        return report

    async def _failed(
        self, alerts: Sequence[Alert], channel: AlertChannel, exc: DeliveryError, now: datetime
    ) -> RelayReport:
        """Record a failed send of ``alerts``: queued again after a backoff, or dead."""
        report = RelayReport(errors=[str(exc)])
        jitter = self._random()
        config: AlertChannelConfig = channel.config
        for alert in alerts:
            attempts = alert.attempts + 1
            expired = now - alert.created_at >= config.max_age
            if exc.permanent or attempts >= config.max_attempts or expired:
                await self._finish(alert, AlertStatus.DEAD, now, attempts, error=str(exc))
                report.dead += 1
            else:
                retry_at = now + retry_delay(attempts, exc.retry_after, jitter)
                await self._finish(alert, AlertStatus.QUEUED, now, attempts, retry_at, str(exc))
                report.retried += 1
        return report

    async def _finish(
        self,
        alert: Alert,
        status: AlertStatus,
        now: datetime,
        attempts: int | None = None,
        next_attempt: datetime | None = None,
        error: str | None = None,
    ) -> None:
        attempts = alert.attempts if attempts is None else attempts
        attempt = AlertAttempt(alert.id, self.owner, status, attempts, now, next_attempt, error)
        await self.db.write(self.store.finish_alert, attempt)


@asynccontextmanager
async def open_channels(settings: Settings) -> AsyncIterator[dict[str, AlertChannel]]:
    """Every configured channel, by name, closed on exit."""
    channels = {config.name: build_channel(config) for config in settings.alerts}
    try:
        yield channels
    finally:
        for channel in channels.values():
            await channel.aclose()


async def deliver(settings: Settings, store: OutboxStore, wait: float = 0.0) -> RelayReport:
    """Deliver what is due in the outbox, retrying for up to ``wait`` seconds."""
    async with open_channels(settings) as channels:
        relay = Relay(store, channels, lease=settings.outbox.lease)
        try:
            return await relay.deliver_pending(utc_now, wait)
        finally:
            relay.close()


async def send_test(settings: Settings, store: ArchiveStore, name: str, now: datetime) -> str:
    """Send a sample alert to channel ``name`` at once; say what was sent.

    The sample is the latest stored change with its diff when there is one, so what the
    receiver sees is what a real alert looks like; else a made-up change.
    """
    configs = {config.name: config for config in settings.alerts}
    if name not in configs:
        known = ", ".join(configs) or "none configured"
        raise ConfigError(f"{settings.source}: no alert channel named {name!r} ({known})")
    change, document = _sample_change(settings, store, now)
    event_id = f"test_{secrets.token_hex(8)}"
    # Marked, so that no receiver takes the sample for a real edit: the mail subject and
    # the apprise title start with "[test]", a webhook receiver reads "test": true.
    payload = {**build_event(change, event_id, document, now), TEST_KEY: True}
    message = AlertMessage(event_id, event_type(change), now, (payload,))
    only = settings.model_copy(update={"alerts": (configs[name],)})
    async with open_channels(only) as channels:
        await channels[name].send(message)
    title = change.title or change.url
    return f"{event_type(change)} of {title!r} (event {event_id})"


def _sample_change(
    settings: Settings, store: ArchiveStore, now: datetime
) -> tuple[Change, DiffDocument | None]:
    for change in reversed(store.list_changes()):
        if change.kind not in (ChangeKind.CHANGED, ChangeKind.REVERTED) or not change.version:
            continue
        article = store.get_article(change.article_id)
        if article is None:
            continue
        try:
            document = compare_stored(store, settings, article, now, end=change.version)
        except MonitorError:
            continue
        return change, document
    sample = Change(
        kind=ChangeKind.CHANGED,
        article_id=0,
        feed="sample",
        url="https://example.org/news/sample-article",
        detected_at=now,
        title="Sample alert from Newsmonitor",
        version=2,
        previous_version=1,
        significance=Significance.MINOR,
        tags=("numbers",),
        detail="a test alert: no change has been stored yet",
    )
    return sample, None
