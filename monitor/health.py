"""`/healthz` and `/metrics` of one `newsmonitor run`, on ``[daemon] metrics`` (issue 17).

- ``GET /healthz``: 200 and ``{"status": "ok", ...}`` when the store answers and the last
  successful pass (a feed or articles job without refused store writes) ended less than
  ``stale_after`` ago: three times the daemon's shortest job interval (``[daemon]
  articles_every`` or a feed's ``interval``, whichever is shorter), counted from the start
  until the first pass. Otherwise 503 with the reason, in the same short JSON document.
- ``GET /metrics``: the Prometheus text format (monitor/metrics.py). The store's gauges
  are read at each scrape; a store that does not answer within ``STORE_TIMEOUT`` leaves
  ``newsmonitor_store_up 0`` and the rest of the page as it was.

Store reads run in a thread of their own, one at a time: a store that hangs holds that one
thread, never the event loop nor the store threads the jobs use; while it hangs, scrapes
and health checks answer at once that the store is not answering.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from monitor.config import Settings, parse_listen_address
from monitor.errors import ConfigError, StoreError
from monitor.metrics import CONTENT_TYPE, DaemonMetrics, StoreReading
from monitor.models import CheckReport
from monitor.store import DaemonStore

log = logging.getLogger(__name__)

STALE_PASSES = 3  # /healthz fails after this many of the shortest interval without a pass
STORE_TIMEOUT = 3.0  # seconds a scrape or health check waits for the store

T = TypeVar("T")


def stale_after(settings: Settings) -> timedelta:
    """How old the last successful pass may be before the daemon is unhealthy."""
    intervals = [settings.daemon.articles_every]
    intervals += [feed.interval for feed in settings.feeds if not feed.cron]
    return STALE_PASSES * min(intervals)


@dataclass(frozen=True)
class Health:
    """The verdict of /healthz: whether the daemon is healthy, and why not."""

    healthy: bool
    reason: str


def judge(
    now: datetime,
    last_pass: datetime | None,
    started: datetime,
    stale: timedelta,
    store: StoreReading,
) -> Health:
    """Healthy when the store answered and a pass succeeded less than ``stale`` ago (before
    the first pass: the daemon started less than ``stale`` ago)."""
    if not store.up:
        return Health(False, f"the store does not answer: {store.error}")
    since = last_pass or started
    age = now - since
    if age > stale:
        what = "no successful pass" if last_pass else "no successful pass since the start"
        return Health(
            False,
            f"{what} for {age.total_seconds():.0f}s "
            f"(more than {stale.total_seconds():g}s: {STALE_PASSES}x the shortest interval)",
        )
    return Health(True, "ok")


def read_store(store: DaemonStore, node: str, now: datetime) -> StoreReading:
    """The store's gauges (blocking): alerts by state, the outbox's lag, and the claims
    ``node`` holds."""
    try:
        alerts = {str(state): count for state, count in store.count_alerts().items()}
        oldest = store.oldest_queued_alert()
        claims = next((len(n.claims) for n in store.list_nodes(now) if n.id == node), 0)
    except StoreError as exc:
        return StoreReading(up=False, error=str(exc))
    return StoreReading(up=True, alerts=alerts, oldest_queued=oldest, claims=claims)


class DaemonHealth:
    """What /healthz and /metrics tell of one daemon: fed by its fetcher and its jobs,
    served on ``[daemon] metrics``. Use as ``async with`` around the daemon's work."""

    def __init__(
        self,
        address: str,
        settings: Settings,
        store: DaemonStore,
        node: str,
        version: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.address = address
        self.settings = settings
        self.store = store
        self.node = node
        self.clock = clock
        self.started = clock()
        self.stale_after = stale_after(settings)
        self.metrics = DaemonMetrics(node, version)
        self.url = ""  # where it listens, once started
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="health-store")
        self._reading: Future[Any] | None = None
        self._runner: web.AppRunner | None = None

    @classmethod
    def configure(
        cls,
        settings: Settings,
        store: DaemonStore,
        node: str,
        version: str,
        clock: Callable[[], datetime],
    ) -> DaemonHealth | None:
        """The daemon's endpoint, or None when ``[daemon] metrics`` is not set."""
        address = settings.daemon.metrics
        if not address:
            return None
        return cls(address, settings, store, node, version, clock)

    def reload(self, settings: Settings) -> None:
        """New settings (SIGHUP): new intervals judge /healthz; the address stays."""
        self.settings = settings
        self.stale_after = stale_after(settings)

    def observe_fetch(self, status: int | None, seconds: float) -> None:
        """The fetcher's observer (fetch.py ``FetchObserver``)."""
        self.metrics.observe_fetch(status, seconds)

    def passed(self, job: str, report: CheckReport) -> None:
        """A feed or articles job ended with ``report``."""
        self.metrics.observe_pass(job, report, self.clock())

    async def __aenter__(self) -> DaemonHealth:
        host, port = parse_listen_address(self.address)
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"{self.settings.source}: daemon.metrics: cannot listen on {self.address}: "
                f"{exc.strerror or exc}"
            ) from exc
        self._runner = runner
        server: Any = site._server  # port 0 asks the OS for one: read back which
        bound = server.sockets[0].getsockname()[1] if server and server.sockets else port
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound}"
        log.info("health and metrics on %s/healthz and %s/metrics", self.url, self.url)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._reader.shutdown(wait=False, cancel_futures=True)

    async def _healthz(self, request: web.Request) -> web.Response:
        now = self.clock()
        reading = await self._read(read_store, self.store, self.node, now)
        last = self.metrics.last_success_at
        verdict = judge(now, last, self.started, self.stale_after, reading)
        document = {
            "status": "ok" if verdict.healthy else "unhealthy",
            "reason": verdict.reason,
            "node": self.node,
            "last_pass": last.isoformat() if last else None,
            "stale_after_s": self.stale_after.total_seconds(),
        }
        return web.Response(
            text=json.dumps(document),
            status=200 if verdict.healthy else 503,
            content_type="application/json",
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        now = self.clock()
        reading = await self._read(read_store, self.store, self.node, now)
        body = self.metrics.render(reading, now)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def _read(
        self, fn: Callable[[DaemonStore, str, datetime], StoreReading], *args: Any
    ) -> StoreReading:
        """``fn(*args)`` in the health thread, within ``STORE_TIMEOUT``; a reading of a
        store that is down when it fails, times out, or still hangs from before."""
        if self._reading is not None and not self._reading.done():
            return StoreReading(up=False, error="an earlier read is still waiting for it")
        future = self._reader.submit(fn, *args)
        self._reading = future
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), STORE_TIMEOUT)
        except TimeoutError:
            return StoreReading(up=False, error=f"no answer within {STORE_TIMEOUT:g}s")
