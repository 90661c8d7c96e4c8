"""`newsmonitor run`: APScheduler jobs that call the pipeline and the alert relay.

One asyncio scheduler holds a job per feed (its interval, jittered so feeds do not fire in
lockstep, or its cron expression), a job that re-checks tracked articles as they come due,
and the relay (which also sends digests when they are due). Every job has
``max_instances=1``, coalesces missed runs and has a misfire grace time; between jobs the
process sleeps on the event loop's timer, so idle means idle.

Signals: SIGTERM/SIGINT stop new work, give in-flight checks ``[daemon] grace`` to finish,
flush the outbox and exit 0; a second one exits at once (every store write is a
transaction, so nothing is half-written). SIGHUP reloads the configuration: feeds added,
removed or re-timed without a restart; an invalid file is reported and the old one kept.

Store calls go through ``StoreRunner``, so a lock held by another process delays only the
write that waits for it, in a thread: fetching and alert delivery go on. A store that cannot be
written at all stops the daemon with one line (exit 3) rather than fetching in vain.

Several daemons may share one PostgreSQL store (issue 17): each registers as a node and
heartbeats (a job every ``[daemon] heartbeat``), which renews the leases of the work it has
claimed (see pipeline.py); APScheduler stays each node's own clock. A SQLite store has one
daemon: a second one refuses to start, naming the first. On a clean shutdown the node's
row goes and its claims are freed at once; a node that dies is seen as lost and its
claims come free when their leases run out.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.alerts.outbox import Relay, open_channels
from monitor.config import FeedConfig, Settings, load_settings
from monitor.errors import ConfigError, ReadOnlyStoreError, StoreError
from monitor.extract import TrafilaturaExtractor
from monitor.fetch import Fetcher
from monitor.health import DaemonHealth
from monitor.models import CheckReport, FeedStatus, Node
from monitor.pipeline import Claimant, Monitor
from monitor.runlease import DAEMON_LOCK, owner_id, take_daemon_lease
from monitor.seeds import load_seeds
from monitor.store import DaemonStore
from monitor.store.runner import StoreRunner

log = logging.getLogger(__name__)

ARTICLES_JOB = "articles"
RELAY_JOB = "relay"
HEARTBEAT_JOB = "heartbeat"
START_ATTEMPTS = 3  # a store call of the start that fails for a passing reason is retried
FEED_JOB_PREFIX = "feed:"
EXIT_AT_ONCE = 130  # the second signal: stop now
EXIT_STORE_READ_ONLY = 3  # as `check` when the run cannot be done


def _version() -> str:
    """This newsmonitor's version, as a node shows it (the package's, not ``monitor``'s
    ``__version__``: importing ``monitor`` would load the CLI)."""
    try:
        return importlib.metadata.version("newsmonitor")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def feed_trigger(feed: FeedConfig, max_jitter: timedelta) -> CronTrigger | IntervalTrigger:
    """The schedule of a feed's job: its cron expression, else its jittered interval."""
    if feed.cron:
        return CronTrigger.from_crontab(feed.cron, timezone=UTC)
    jitter = min(max_jitter, feed.interval / 10).total_seconds()
    return IntervalTrigger(
        seconds=feed.interval.total_seconds(), jitter=jitter or None, timezone=UTC
    )


class Daemon:
    """The long-running monitor: schedule, signals, reloads, clean shutdown."""

    def __init__(
        self,
        settings: Settings,
        store: DaemonStore,
        config_path: str | os.PathLike[str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.store = store
        self.config_path = Path(config_path) if config_path else None
        self.clock = clock
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[object]] = set()
        self._signals = 0
        self._exit_code = 0
        self.runner = StoreRunner(store)
        # PostgreSQL: several nodes split the work through claims. SQLite: one daemon per
        # file (a second refuses), which claims nothing, so that a lock held elsewhere
        # delays only its writes, never its fetching.
        self.shared = not store.in_place
        started = clock()
        self.node = Node(
            owner_id(), socket.gethostname(), os.getpid(), _version(), started, started
        )
        # /healthz and /metrics on [daemon] metrics (None: not configured).
        self.health = DaemonHealth.configure(settings, store, self.node.id, _version(), clock)

    @property
    def exit_code(self) -> int:
        """0, or why the daemon stopped on its own (``EXIT_STORE_READ_ONLY``)."""
        return self._exit_code

    @property
    def stopping(self) -> bool:
        """Whether a signal or a read-only store has told the daemon to stop."""
        return self._stopping.is_set()

    async def run(self) -> int:
        """Run until a signal stops the daemon; the exit code."""
        try:
            await self._at_start(self._check_writable)
            if not self.shared:
                await self._at_start(self._hold_sqlite_store)
            self._handle_signals()
            async with self.opened():
                await self._at_start(self._heartbeat_job)  # counted before the first claim
                self.scheduler.resume()
                log.info(
                    "newsmonitor running: %d feeds, %d seeds, %d alert channels",
                    len(self.settings.feeds),
                    len(self.monitor.seeds),
                    len(self.relay.channels),
                )
                await self._stopping.wait()
                await self.shutdown()
        finally:
            self.runner.close()
        return self._exit_code

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[Daemon]:
        """The daemon with its jobs scheduled but paused, its fetcher and channels open.

        ``run`` resumes the scheduler; tests run the jobs one at a time with ``run_job``
        under their own clock instead of waiting for the timer.
        """
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": int(self.settings.daemon.misfire_grace.total_seconds()),
            },
        )
        observer = self.health.observe_fetch if self.health else None
        async with (
            self.health or nullcontext(),
            Fetcher(self.settings.fetch, clock=self.clock, observer=observer) as fetcher,
        ):
            self.fetcher = fetcher
            self.monitor = self._monitor(self.settings)
            async with open_channels(self.settings) as channels:
                self.relay = Relay(
                    self.store, channels, lease=self.settings.outbox.lease, runner=self.runner
                )
                self._schedule_all()
                self.scheduler.start(paused=True)
                yield self

    def _handle_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.on_stop_signal, sig)
        loop.add_signal_handler(signal.SIGHUP, self.on_reload_signal)

    async def run_job(self, job_id: str) -> None:
        """Run the scheduled job ``job_id`` (``ARTICLES_JOB``, ``RELAY_JOB``, ``FEED_JOB_PREFIX``
        and a feed's name) now, as the scheduler runs it when it comes due."""
        job = self.scheduler.get_job(job_id)
        if job is None:
            raise KeyError(job_id)
        await job.func(*job.args)

    async def _at_start(self, step: Callable[[], Awaitable[None]]) -> None:
        """``step`` of the start, tried again when the store fails it for a passing reason
        (a connection ended by a server restart or failover, a lock): a node must not die
        of what every later job survives. A store that cannot be written stops it at once."""
        for attempt in range(START_ATTEMPTS):
            try:
                await step()
                return
            except ReadOnlyStoreError:
                raise
            except StoreError as exc:
                if attempt + 1 == START_ATTEMPTS:
                    raise
                log.warning("starting: %s; trying again", exc)
                await asyncio.sleep(1.0)

    async def _hold_sqlite_store(self) -> None:
        now = self.clock()
        until = now + self.settings.daemon.claim_lease
        await self.runner.write(take_daemon_lease, self.store, self.node.id, now, until)

    async def _check_writable(self) -> None:
        """Write once before any fetching: a store that cannot be written (a read-only
        file or database) stops the daemon now with ReadOnlyStoreError, not after an
        hour of fetches that could never be recorded."""
        probe = f"daemon:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        now = self.clock()
        await self.runner.write(self.store.acquire_lock, probe[:64], probe, now, now)
        await self.runner.write(self.store.release_lock, probe[:64], probe)

    # jobs

    def _monitor(self, settings: Settings) -> Monitor:
        seeds = load_seeds(settings.seeds.dir, settings.ignore)
        extractor = TrafilaturaExtractor()
        claimant = None
        if self.shared:
            claimant = Claimant(self.node.id, self.clock, settings.daemon.claim_lease)
        return Monitor(settings, self.store, self.fetcher, extractor, seeds, self.runner, claimant)

    def _schedule_all(self) -> None:
        daemon = self.settings.daemon
        self.scheduler.add_job(
            self._tracked(self._articles_job),
            IntervalTrigger(seconds=daemon.articles_every.total_seconds(), timezone=UTC),
            id=ARTICLES_JOB,
            next_run_time=self.clock(),
        )
        self.scheduler.add_job(
            self._tracked(self._relay_job),
            IntervalTrigger(seconds=daemon.relay_every.total_seconds(), timezone=UTC),
            id=RELAY_JOB,
            next_run_time=self.clock(),
        )
        self.scheduler.add_job(
            self._tracked(self._heartbeat_job),
            IntervalTrigger(seconds=daemon.heartbeat.total_seconds(), timezone=UTC),
            id=HEARTBEAT_JOB,
        )
        for feed in self.settings.feeds:
            self._schedule_feed(feed, first_run=self.clock())

    def _schedule_feed(self, feed: FeedConfig, first_run: datetime | None = None) -> None:
        self.scheduler.add_job(
            self._tracked(self._feed_job),
            feed_trigger(feed, self.settings.daemon.jitter),
            args=(feed.name,),
            id=FEED_JOB_PREFIX + feed.name,
            name=f"feed {feed.name}",
            replace_existing=True,
            **({"next_run_time": first_run} if first_run else {}),
        )

    def _tracked(self, job: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """``job`` that registers itself as in-flight work and refuses to start when stopping."""

        async def run(*args: object) -> None:
            if self._stopping.is_set():
                return
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            try:
                await job(*args)
            except StoreError as exc:  # the store's trouble, not a bug: no traceback
                log.warning("job %s: %s", getattr(job, "__name__", job), exc)
            except Exception:  # a job's failure is logged; the daemon keeps running
                log.exception("job %s failed", getattr(job, "__name__", job))
            finally:
                self._tasks.discard(task)
            if self.monitor.read_only is not None and not self._stopping.is_set():
                log.error(
                    "stopping: the store cannot be written (%s); nothing fetched could be recorded",
                    self.monitor.read_only,
                )
                self._exit_code = EXIT_STORE_READ_ONLY
                self._stopping.set()

        run.__name__ = getattr(job, "__name__", "job")
        return run

    async def _feed_job(self, name: str) -> None:
        started = time.monotonic()
        report = await self.monitor.check_scheduled_feed(self.clock(), name)
        if self.health:
            self.health.passed("feed", report)
        (feed,) = report.feeds
        if feed.status == FeedStatus.SKIPPED:
            return  # backing off after failures, or checked by `check` a moment ago
        self._log_report(f"feed {name}", report, time.monotonic() - started)

    async def _articles_job(self) -> None:
        started = time.monotonic()
        report = await self.monitor.check_due_articles(self.clock())
        if self.health:
            self.health.passed("articles", report)
        if report.articles_checked:
            self._log_report("articles", report, time.monotonic() - started)

    async def _heartbeat_job(self) -> None:
        """This node is alive: its row's heartbeat and its claims' leases are renewed; the
        nodes alive are counted, so that each claims its share of the due hosts."""
        now = self.clock()
        daemon = self.settings.daemon
        self.node = replace(self.node, heartbeat=now)
        alive_since = now - daemon.lost_after
        nodes = await self.runner.write(
            self.store.heartbeat, self.node, now + daemon.claim_lease, alive_since
        )
        self.monitor.nodes = max(1, nodes)
        if not self.shared:
            until = now + daemon.claim_lease
            holder = await self.runner.write(
                self.store.acquire_lock, DAEMON_LOCK, self.node.id, now, until
            )
            if holder is not None and not self._stopping.is_set():
                log.error("stopping: %s took this SQLite store over", holder)
                self._exit_code = EXIT_STORE_READ_ONLY
                self._stopping.set()

    async def _relay_job(self) -> None:
        report = await self.relay.run_once(self.clock())
        if report.delivered or report.retried or report.dead:
            log.info(
                "alerts: %d delivered, %d to retry, %d dead",
                report.delivered,
                report.retried,
                report.dead,
                extra={"delivered": report.delivered, "retried": report.retried},
            )
        for error in report.errors:
            log.warning("alert delivery: %s", error)

    @staticmethod
    def _log_report(label: str, report: CheckReport, seconds: float) -> None:
        counts = {
            kind: sum(1 for c in report.changes if c.kind == kind)
            for kind in ("new", "changed", "reverted", "removed", "restored", "moved")
        }
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "no changes"
        if report.store_errors:
            summary += f"; {len(report.store_errors)} writes failed (done again next time)"
        log.info(
            "%s checked in %.2fs: %d articles, %s",
            label,
            seconds,
            report.articles_checked,
            summary,
            extra={
                "job": label,
                "duration": round(seconds, 3),
                "articles_checked": report.articles_checked,
                "changes": counts,
                "errors": len(report.errors),
                "store_errors": len(report.store_errors),
            },
        )
        for feed in report.feeds:
            if feed.error:
                log.warning("feed %s: %s", feed.name, feed.error, extra={"feed": feed.name})
            elif feed.warning:
                log.info("feed %s: %s", feed.name, feed.warning, extra={"feed": feed.name})
        for error in report.errors:
            log.warning("%s", error)

    # signals

    def on_stop_signal(self, sig: signal.Signals) -> None:
        """SIGTERM/SIGINT: stop new work and let ``run`` shut down; a second one exits now."""
        self._signals += 1
        if self._signals > 1:
            log.warning("second %s: exiting at once", sig.name)
            logging.shutdown()
            os._exit(EXIT_AT_ONCE)
        log.info(
            "%s: finishing in-flight checks (up to %s), then exiting",
            sig.name,
            self.settings.daemon.grace,
        )
        self._stopping.set()

    def on_reload_signal(self) -> None:
        """SIGHUP: reload the configuration and the seeds; keep the running ones if invalid."""
        log.info("SIGHUP: reloading %s", self.config_path or "the configuration")
        try:
            new = load_settings(self.config_path)
            seeds = load_seeds(new.seeds.dir, new.ignore)
        except ConfigError as exc:
            log.error("configuration not reloaded, keeping the running one: %s", exc)
            return
        old = {feed.name: feed for feed in self.settings.feeds}
        wanted = {feed.name: feed for feed in new.feeds}
        for name in old.keys() - wanted.keys():
            self.scheduler.remove_job(FEED_JOB_PREFIX + name)
            log.info("feed %s removed", name)
        self.settings = new
        self.monitor.reload(new)
        if self.health:
            self.health.reload(new)
        self.monitor.use_seeds(seeds)
        for name, feed in wanted.items():
            if name not in old:
                self._schedule_feed(feed, first_run=self.clock())
                log.info("feed %s added", name)
            elif feed != old[name]:
                self._schedule_feed(feed)
                log.info("feed %s rescheduled", name)
        if [c.name for c in new.alerts] != list(self.relay.channels):
            log.warning("alert channels changed: they take effect after a restart")

    async def shutdown(self) -> None:
        """Let in-flight checks finish within the grace period, close, flush the outbox."""
        # Pause, not shut down, first: APScheduler's shutdown cancels running coroutine jobs,
        # and in-flight checks are to be given their grace period.
        self.scheduler.pause()
        grace = self.settings.daemon.grace.total_seconds()
        pending = [task for task in self._tasks if task is not asyncio.current_task()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                log.warning(
                    "%d checks did not finish within %ss; they will be redone", len(late), grace
                )
        self.scheduler.shutdown(wait=False)
        await self.monitor.close()
        try:
            await self.runner.write(self.store.remove_node, self.node.id)
            if not self.shared:
                await self.runner.write(self.store.release_lock, DAEMON_LOCK, self.node.id)
        except StoreError as exc:  # shown as lost; its claims run out by themselves
            log.warning("this node could not be removed from the store: %s", exc)
        report = await self.relay.run_once(self.clock())
        log.info("stopped (%d alerts delivered on the way out)", report.delivered)


async def run_daemon(settings: Settings, store: DaemonStore, config_path: str | None) -> int:
    """What `newsmonitor run` runs."""
    return await Daemon(settings, store, config_path).run()
