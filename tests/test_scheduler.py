"""The daemon (monitor/scheduler.py): its jobs driven one at a time under a test clock, and as a
service runs it: a subprocess against loopback feeds, driven by signals.

In-process tests never wait for the timer: ``Daemon.opened`` schedules the jobs paused and
``run_job`` runs one now. The subprocess tests wait only for process events (a log line, the
exit), each with a bounded timeout.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import FeedConfig, load_settings
from monitor.models import AlertStatus
from monitor.scheduler import (
    ARTICLES_JOB,
    FEED_JOB_PREFIX,
    HEARTBEAT_JOB,
    RELAY_JOB,
    Daemon,
    feed_trigger,
)
from monitor.store.sql import SQLStore
from tests.test_pipeline import STORY, page, rss
from tests.webserver import Reply, Request, WebServer

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
Record = dict[str, Any]


def write_config(path: Path, web: WebServer, feeds: dict[str, str], extra: str = "") -> None:
    tables = "".join(
        f'[[feeds]]\nname = "{name}"\nurl = "{web.url(route)}"\ninterval = "1s"\n'
        for name, route in feeds.items()
    )
    path.write_text(
        tables
        + "[fetch]\nallow_private_addresses = true\nretries = 0\ndeadline = 10\n"
        + '[daemon]\narticles_every = "1s"\nrelay_every = "1s"\njitter = "0s"\ngrace = "8s"\n'
        + '[tracking]\nschedule = [{ until = "1h", every = "1s" }]\n'
        + f'[[alerts]]\nname = "hook"\ntype = "webhook"\nurl = "{web.url("/hook")}"\n'
        + f'secret = "{SECRET}"\nkinds = ["new", "changed"]\n'
        + f'[storage]\nurl = "sqlite:///{path.parent / "monitor.db"}"\n'
        + extra,
        encoding="utf-8",
    )


def hook_events(web: WebServer) -> list[dict[str, object]]:
    return [json.loads(request.body) for request in web.hits("/hook")]


def store_of(config: Path) -> SQLStore:
    return SQLStore.open(f"sqlite:///{config.parent / 'monitor.db'}")


# In process: the jobs under a test clock


class Clock:
    """A clock the test moves: the daemon's, the pipeline's and the fetcher's ``now``."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@asynccontextmanager
async def opened_daemon(config: Path, clock: Clock) -> AsyncIterator[Daemon]:
    settings = load_settings(config)
    with SQLStore.open(settings.storage.url) as store:
        daemon = Daemon(settings, store, config, clock=clock)
        try:
            async with daemon.opened():
                yield daemon
        finally:
            daemon.runner.close()


async def test_jobs_are_scheduled_with_the_configured_defaults(web, tmp_path):
    web.set("/one", rss([], web))
    config = tmp_path / "monitor.toml"
    cron = f'[[feeds]]\nname = "two"\nurl = "{web.url("/two")}"\ncron = "0 * * * *"\n'
    write_config(config, web, {"one": "/one"}, cron)
    clock = Clock()
    async with opened_daemon(config, clock) as daemon:
        jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
        assert set(jobs) == {ARTICLES_JOB, RELAY_JOB, HEARTBEAT_JOB, "feed:one", "feed:two"}
        assert web.hits("/one") == []  # paused: nothing runs until `run` resumes it
        for job in jobs.values():
            assert (job.max_instances, job.coalesce) == (1, True)
            assert job.misfire_grace_time == daemon.settings.daemon.misfire_grace.total_seconds()
        assert isinstance(jobs["feed:one"].trigger, IntervalTrigger)
        assert isinstance(jobs["feed:two"].trigger, CronTrigger)
        assert jobs["feed:one"].next_run_time == clock.now  # a new feed is checked at once
        await daemon.shutdown()
    assert daemon.exit_code == 0


@pytest.mark.parametrize(
    ("interval", "max_jitter", "jitter"),
    [
        (timedelta(minutes=10), timedelta(seconds=30), 30.0),  # capped by [daemon] jitter
        (timedelta(minutes=1), timedelta(seconds=30), 6.0),  # a tenth of the interval
        (timedelta(minutes=1), timedelta(0), None),  # no jitter at all
    ],
)
def test_feed_trigger_jitters_an_interval_by_at_most_a_tenth(interval, max_jitter, jitter):
    feed = FeedConfig(name="world", url="https://example.org/rss", interval=interval)
    trigger = feed_trigger(feed, max_jitter)
    assert isinstance(trigger, IntervalTrigger)
    assert trigger.interval == interval and trigger.jitter == jitter
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    for _ in range(20):
        fire = trigger.get_next_fire_time(now, now)
        assert fire is not None
        assert now + interval <= fire <= now + interval + timedelta(seconds=jitter or 0)


def test_feed_trigger_uses_the_cron_expression_in_utc():
    feed = FeedConfig(name="world", url="https://example.org/rss", cron="30 6 * * *")
    trigger = feed_trigger(feed, timedelta(seconds=30))
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, now) == datetime(2024, 5, 2, 6, 30, tzinfo=UTC)


async def test_failing_feed_backs_off_and_recovers(web, tmp_path):
    web.set("/rss", Reply("down", status=500))
    config = tmp_path / "monitor.toml"
    write_config(config, web, {"flaky": "/rss"})
    clock = Clock()
    async with opened_daemon(config, clock) as daemon:

        def failures() -> int:
            state = daemon.store.get_feed("flaky")
            return state.failures if state else 0

        def next_due() -> datetime:
            state = daemon.store.get_feed("flaky")
            assert state is not None and state.next_due is not None
            return state.next_due

        for tick in range(3):  # the scheduler's ticks, each when the feed is due again
            if tick:
                clock.now = max(clock.now, next_due())
            await daemon.run_job(FEED_JOB_PREFIX + "flaky")
        assert failures() >= 3
        assert len(web.hits("/rss")) >= 3
        with store_of(config) as store:
            state = store.get_feed("flaky")
            assert (
                state is not None
                and state.last_status == 500
                and "HTTP 500" in (state.last_error or "")
            )
            assert state.next_due is not None and state.last_checked is not None
            assert (state.next_due - state.last_checked).total_seconds() >= 4  # backed off
        hits = len(web.hits("/rss"))
        clock.advance(timedelta(seconds=1))  # a tick before the backoff is over: skipped
        await daemon.run_job(FEED_JOB_PREFIX + "flaky")
        assert len(web.hits("/rss")) == hits
        web.set("/rss", rss([], web))
        clock.now = next_due()
        await daemon.run_job(FEED_JOB_PREFIX + "flaky")
        assert failures() == 0  # recovered
        await daemon.shutdown()


async def test_sighup_adds_feeds_and_survives_a_broken_config(web, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="monitor")
    web.set("/one", rss([], web))
    web.set("/two", rss([], web))
    config = tmp_path / "monitor.toml"
    write_config(config, web, {"one": "/one"})
    clock = Clock()
    async with opened_daemon(config, clock) as daemon:
        await daemon.run_job(FEED_JOB_PREFIX + "one")
        assert web.hits("/one")
        assert web.hits("/two") == []

        write_config(config, web, {"one": "/one", "two": "/two"})
        daemon.on_reload_signal()  # what SIGHUP runs
        await daemon.run_job(FEED_JOB_PREFIX + "two")
        assert web.hits("/two")
        assert "feed two added" in caplog.text

        config.write_text("[[feeds]]\nname = 'broken'\nurl = 'ftp://nowhere'\n")
        daemon.on_reload_signal()
        assert "not reloaded" in caplog.text
        hits = len(web.hits("/two"))
        for _ in range(2):  # the old configuration still runs
            clock.advance(timedelta(seconds=2))
            await daemon.run_job(FEED_JOB_PREFIX + "two")
        assert len(web.hits("/two")) > hits + 1
        assert not daemon.stopping
        daemon.on_stop_signal(signal.SIGTERM)
        await daemon.shutdown()
    assert daemon.exit_code == 0


# As a service: `newsmonitor run` in a subprocess


class DaemonProcess:
    """`newsmonitor run` in a subprocess; its JSON log lines are read as they are written."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.log = config.parent / "daemon.log"
        command = [sys.executable, "-m", "monitor", "--config", str(config), "run"]
        self.process = subprocess.Popen(
            [*command, "--log-format", "json"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        self._fresh: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.log.open("w", encoding="utf-8") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                self._fresh.put(line)
        self._fresh.put(None)

    def wait_for(
        self, wanted: Callable[[Record], object], what: str, count: int = 1, timeout: float = 20
    ) -> Record:
        """The ``count``-th log record from now on that is ``wanted`` (a bounded wait)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._fresh.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"timed out waiting for {what}") from None
            if line is None:
                tail = self.log.read_text(encoding="utf-8")[-2000:]
                raise AssertionError(f"the daemon exited before {what}:\n{tail}")
            record = json.loads(line) if line.startswith("{") else {}
            if record and wanted(record):
                count -= 1
                if count == 0:
                    return record

    def wait_for_message(self, text: str, timeout: float = 20) -> Record:
        return self.wait_for(lambda r: text in str(r.get("message")), repr(text), timeout=timeout)

    def lines(self) -> list[dict[str, object]]:
        self._reader.join(10)  # the whole log, once the process has exited
        return [
            json.loads(line)
            for line in self.log.read_text(encoding="utf-8").splitlines()
            if line.startswith("{")
        ]

    def logged(self, text: str) -> bool:
        return any(text in str(line.get("message")) for line in self.lines())

    def signal(self, sig: signal.Signals) -> None:
        os.kill(self.process.pid, sig)

    def stop(self, timeout: float = 15) -> int:
        self.signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(10)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[Callable[[Path], DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(config: Path) -> DaemonProcess:
        daemon = DaemonProcess(config)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


def delivered(record: Record) -> bool:
    return str(record.get("message")).startswith("alerts:") and bool(record.get("delivered"))


def test_checks_on_schedule_detects_alerts_and_stops_cleanly(web, tmp_path, daemon_factory):
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    web.set("/hook", Reply("ok"))
    config = tmp_path / "monitor.toml"
    write_config(config, web, {"world": "/rss"})
    daemon = daemon_factory(config)
    daemon.wait_for(lambda r: r.get("job") == "feed world", "a scheduled feed check")
    daemon.wait_for(delivered, "the new article's alert", timeout=20)
    assert [e["type"] for e in hook_events(web)] == ["article.new"]
    daemon.wait_for(lambda r: r.get("job") == "feed world", "two more feed checks", count=2)
    assert len(web.hits("/rss")) >= 3

    web.set("/a/harbour", page("Harbour vote", [*STORY, "Update: the vote was annulled."]))
    daemon.wait_for(delivered, "the edit's alert")
    assert len(hook_events(web)) == 2
    assert hook_events(web)[-1]["type"] == "article.changed"
    daemon.signal(signal.SIGHUP)
    daemon.wait_for_message("SIGHUP: reloading")

    status = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "status", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    document = json.loads(status.stdout)
    assert document["articles"] == 1 and document["versions"] == 2
    assert document["alerts"]["delivered"] == 2
    assert document["feeds"][0]["last_status"] in (200, 304)

    beside = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "check", "--all", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert beside.returncode == 0, beside.stderr
    assert daemon.stop() == 0
    assert daemon.logged("stopped")
    assert any(line.get("job") == "feed world" for line in daemon.lines())
    assert SECRET not in daemon.log.read_text()


def test_sigterm_during_a_check_exits_0_and_loses_nothing(web, tmp_path, daemon_factory):
    arrived = threading.Event()
    release = threading.Event()
    slow_page = page("Harbour vote", STORY)

    def slow(request: Request) -> Reply:
        arrived.set()
        release.wait(20)  # until the daemon has been told to stop
        return slow_page(request)  # type: ignore[operator,no-any-return]

    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", slow)
    web.set("/hook", Reply("ok"))
    config = tmp_path / "monitor.toml"
    write_config(config, web, {"world": "/rss"})
    daemon = daemon_factory(config)
    try:
        assert arrived.wait(20)
        started = time.monotonic()
        daemon.signal(signal.SIGTERM)
        daemon.wait_for_message("finishing in-flight checks")
        release.set()  # the in-flight check answers after the signal
        assert daemon.process.wait(15) == 0
        assert time.monotonic() - started < 8 + 5  # within the grace period
    finally:
        release.set()
    with store_of(config) as store:
        (article,) = store.list_articles()
        assert article.versions == 1  # the in-flight check was allowed to finish
        assert store.count_alerts()[AlertStatus.DELIVERED] == 1


def test_second_signal_exits_at_once(web, tmp_path, daemon_factory):
    arrived = threading.Event()
    release = threading.Event()

    def stuck(_request: Request) -> Reply:
        arrived.set()
        release.wait(20)
        return Reply("late")

    web.set("/rss", stuck)
    config = tmp_path / "monitor.toml"
    write_config(config, web, {"world": "/rss"})
    daemon = daemon_factory(config)
    try:
        assert arrived.wait(20)
        daemon.signal(signal.SIGTERM)
        daemon.wait_for_message("finishing in-flight checks")
        daemon.signal(signal.SIGTERM)
        assert daemon.process.wait(5) == 130
    finally:
        release.set()
    with store_of(config) as store:  # the store opens cleanly after the hard exit
        assert store.list_articles() == []
