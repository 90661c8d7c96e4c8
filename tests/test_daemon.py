"""The daemon as a service runs it: a subprocess against loopback feeds, driven by signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.models import AlertStatus
from monitor.store.sql import SQLStore
from tests.test_pipeline import STORY, page, rss
from tests.webserver import Reply, Request, WebServer

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def eventually(condition: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    """Wait for a condition the daemon brings about in its own time (bounded)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


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


class Daemon:
    """`newsmonitor run` in a subprocess, with its log kept in a file."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.log = config.parent / "daemon.log"
        command = [sys.executable, "-m", "monitor", "--config", str(config), "run"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--log-format", "json"], cwd=ROOT, stdout=log, stderr=log
            )

    def lines(self) -> list[dict[str, object]]:
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


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[Callable[[Path], Daemon]]:
    started: list[Daemon] = []

    def start(config: Path) -> Daemon:
        daemon = Daemon(config)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


def hook_events(web: WebServer) -> list[dict[str, object]]:
    return [json.loads(request.body) for request in web.hits("/hook")]


def store_of(config: Path) -> SQLStore:
    return SQLStore.open(f"sqlite:///{config.parent / 'monitor.db'}")


def test_checks_on_schedule_detects_alerts_and_stops_cleanly(web, tmp_path, daemon_factory):
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    web.set("/hook", Reply("ok"))
    config = tmp_path / "monitor.toml"
    write_config(config, web, {"world": "/rss"})
    daemon = daemon_factory(config)
    eventually(lambda: len(web.hits("/rss")) >= 3, what="three scheduled feed checks")
    eventually(lambda: [e["type"] for e in hook_events(web)] == ["article.new"], what="new alert")

    web.set("/a/harbour", page("Harbour vote", [*STORY, "Update: the vote was annulled."]))
    eventually(lambda: len(hook_events(web)) == 2, what="the edit's alert")
    assert hook_events(web)[-1]["type"] == "article.changed"

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


def test_failing_feed_backs_off_and_recovers(web, tmp_path, daemon_factory):
    web.set("/rss", Reply("down", status=500))
    config = tmp_path / "monitor.toml"
    write_config(config, web, {"flaky": "/rss"})
    daemon_factory(config)

    def failures() -> int:
        with store_of(config) as store:
            state = store.get_feed("flaky")
            return state.failures if state else 0

    eventually(lambda: failures() >= 3, what="three failures")
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
    web.set("/rss", rss([], web))
    eventually(lambda: failures() == 0, timeout=30, what="recovery")


def test_sighup_adds_feeds_and_survives_a_broken_config(web, tmp_path, daemon_factory):
    web.set("/one", rss([], web))
    web.set("/two", rss([], web))
    config = tmp_path / "monitor.toml"
    write_config(config, web, {"one": "/one"})
    daemon = daemon_factory(config)
    eventually(lambda: web.hits("/one"), what="first feed checked")
    assert web.hits("/two") == []

    write_config(config, web, {"one": "/one", "two": "/two"})
    daemon.signal(signal.SIGHUP)
    eventually(lambda: web.hits("/two"), what="the added feed checked")
    assert daemon.logged("feed two added")

    config.write_text("[[feeds]]\nname = 'broken'\nurl = 'ftp://nowhere'\n")
    daemon.signal(signal.SIGHUP)
    eventually(lambda: daemon.logged("not reloaded"), what="the reload refused")
    hits = len(web.hits("/two"))
    eventually(lambda: len(web.hits("/two")) > hits + 1, what="old config still running")
    assert daemon.process.poll() is None
    assert daemon.stop() == 0


def test_sigterm_during_a_check_exits_0_and_loses_nothing(web, tmp_path, daemon_factory):
    arrived = threading.Event()
    slow_page = page("Harbour vote", STORY)

    def slow(request: Request) -> Reply:
        arrived.set()
        time.sleep(1.5)
        return slow_page(request)  # type: ignore[operator,no-any-return]

    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", slow)
    web.set("/hook", Reply("ok"))
    config = tmp_path / "monitor.toml"
    write_config(config, web, {"world": "/rss"})
    daemon = daemon_factory(config)
    assert arrived.wait(20)
    started = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - started < 8 + 5  # within the grace period
    with store_of(config) as store:
        (article,) = store.list_articles()
        assert article.versions == 1  # the in-flight check was allowed to finish
        assert store.count_alerts()[AlertStatus.DELIVERED] == 1


def test_second_signal_exits_at_once(web, tmp_path, daemon_factory):
    arrived = threading.Event()

    def stuck(_request: Request) -> Reply:
        arrived.set()
        time.sleep(6)
        return Reply("late")

    web.set("/rss", stuck)
    config = tmp_path / "monitor.toml"
    write_config(config, web, {"world": "/rss"})
    daemon = daemon_factory(config)
    assert arrived.wait(20)
    daemon.signal(signal.SIGTERM)
    time.sleep(0.3)
    daemon.signal(signal.SIGTERM)
    assert daemon.process.wait(5) == 130
    with store_of(config) as store:  # the store opens cleanly after the hard exit
        assert store.list_articles() == []
