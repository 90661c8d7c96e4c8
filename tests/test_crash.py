"""Crash safety and concurrency: `check` killed at many moments, runs side by side."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from monitor.models import AlertStatus, ChangeKind
from monitor.store.sql import SQLStore
from tests.test_pipeline import STORY, page, rss
from tests.webserver import Reply, Request, WebServer

ROOT = Path(__file__).resolve().parents[1]
FEEDS, PER_FEED = 4, 5
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def newsroom(web: WebServer, edition: int) -> None:
    """FEEDS feeds of PER_FEED articles; every edition edits every article."""
    for f in range(FEEDS):
        slugs = [f"s{f}-{n}" for n in range(PER_FEED)]
        web.set(f"/feed/{f}", rss([(f"Story {s}", f"/a/{s}") for s in slugs], web))
        for slug in slugs:
            body = [*STORY, f"Edition {edition} of story {slug} adds one more paragraph."]
            render = page(f"Story {slug}", body)

            def slow(request: Request, render=render) -> Reply:
                time.sleep(0.03)  # so a run takes long enough to be killed in the middle
                return render(request)  # type: ignore[operator,no-any-return]

            web.set(f"/a/{slug}", slow)


def config_for(tmp_path: Path, web: WebServer) -> Path:
    config = tmp_path / "monitor.toml"
    feeds = "".join(
        f'[[feeds]]\nname = "f{f}"\nurl = "{web.url(f"/feed/{f}")}"\n' for f in range(FEEDS)
    )
    config.write_text(
        feeds
        + "[fetch]\nallow_private_addresses = true\nretries = 0\nper_host_concurrency = 4\n"
        + f'[storage]\nurl = "sqlite:///{tmp_path / "monitor.db"}"\n'
        + f'[[alerts]]\nname = "hook"\ntype = "webhook"\nurl = "{web.url("/hook")}"\n'
        + f'secret = "{SECRET}"\nkinds = ["new", "changed"]\n'
        + '[outbox]\ncheck_wait = "2s"\nlease = "1s"\n',
        encoding="utf-8",
    )
    return config


def check_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "monitor", "--config", str(config), "check", "--all", "--json"]


def wait_for_lease(db: Path, timeout: float = 30) -> None:
    """Until a running `check` holds the store's lease (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            with sqlite3.connect(db) as raw:
                tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
                if "locks" in tables and raw.execute("SELECT count(*) FROM locks").fetchone()[0]:
                    return
        time.sleep(0.05)
    raise AssertionError("no check took the lease")


def assert_consistent(db: Path) -> None:
    """The invariants a crash must never break."""
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with SQLStore.open(f"sqlite:///{db}") as store:
        changes = store.list_changes()
        alerts = store.list_alerts()
        for article in store.list_articles():
            numbers = [v.number for v in store.list_versions(article.id)]
            assert numbers == list(range(1, article.versions + 1)), article
        per_version = Counter(
            (c.article_id, c.version)
            for c in changes
            if c.kind in (ChangeKind.NEW, ChangeKind.CHANGED, ChangeKind.REVERTED)
        )
        stored = {(a.id, n) for a in store.list_articles() for n in range(1, a.versions + 1)}
        assert set(per_version) == stored  # every version has its change ...
        assert set(per_version.values()) <= {1}  # ... exactly once
        alerted = Counter(a.change_id for a in alerts)
        assert set(alerted) == {c.id for c in changes if c.kind in ("new", "changed")}
        assert set(alerted.values()) <= {1}


def test_check_killed_at_twenty_moments_loses_and_duplicates_nothing(web, tmp_path):
    received: list[str] = []
    web.set("/hook", lambda request: received.append(request.headers["webhook-id"]) or Reply("ok"))
    config = config_for(tmp_path, web)
    db = tmp_path / "monitor.db"
    newsroom(web, 0)
    started = time.monotonic()
    subprocess.run(check_command(config), cwd=ROOT, capture_output=True, timeout=120, check=True)
    full_run = time.monotonic() - started
    for moment in range(20):
        newsroom(web, moment + 1)
        process = subprocess.Popen(
            check_command(config), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(0.4 + full_run * moment / 20)  # from start-up to the end of a run
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        assert_consistent(db)
    # Alerts claimed by killed runs stay leased for up to 1s: the final check's relay waits
    # for them within its check_wait (2s), as any next run would, with no sleep here.
    final = subprocess.run(
        check_command(config), cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert final.returncode == 0, final.stderr
    assert_consistent(db)
    with SQLStore.open(f"sqlite:///{db}") as store:
        articles = store.list_articles()
        assert len(articles) == FEEDS * PER_FEED
        for article in articles:  # the last edition is stored for every article
            latest = store.latest_version(article.id)
            assert latest is not None and "Edition 20 " in latest.text
        alerts = store.list_alerts()
        assert {a.status for a in alerts} == {AlertStatus.DELIVERED}
        assert {a.event_id for a in alerts} == set(received)  # nothing lost


def test_two_checks_and_a_daemon_share_one_store(web, tmp_path):
    web.set("/hook", Reply("ok"))
    config = config_for(tmp_path, web)
    db = tmp_path / "monitor.db"
    newsroom(web, 0)
    feed = web.routes["/feed/0"]

    def slow_feed(_request: Request) -> Reply:
        time.sleep(4)  # the first check is still busy when the second one starts
        return feed  # type: ignore[return-value]

    web.set("/feed/0", slow_feed)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        first = subprocess.Popen(
            check_command(config),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for_lease(db)  # the first check is running: it holds the store's lease
        second = subprocess.run(
            [*check_command(config), "--wait", "0"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        assert second.returncode == 0
        assert "another check is running" in second.stderr
        assert json.loads(out)["feeds"]
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    assert_consistent(db)
    with SQLStore.open(f"sqlite:///{db}") as store:
        assert len(store.list_articles()) == FEEDS * PER_FEED


@pytest.mark.parametrize("wait", ["60"])
def test_a_waiting_check_runs_after_the_first(web, tmp_path, wait):
    web.set("/hook", Reply("ok"))
    config = config_for(tmp_path, web)
    newsroom(web, 0)
    first = subprocess.Popen(
        check_command(config), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for_lease(tmp_path / "monitor.db")
    second = subprocess.run(
        [*check_command(config), "--wait", wait],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.wait(60) == 0
    assert second.returncode == 0 and "another check is running" not in second.stderr
    assert json.loads(second.stdout)["articles_checked"] == FEEDS * PER_FEED
