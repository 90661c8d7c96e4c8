"""Storage faults as a user meets them: `check` on a full disk, a read-only store, the
daemon while another connection holds a lock, several processes on one PostgreSQL store.

Every process here is a real `newsmonitor` subprocess against feeds on loopback; faults
are real (a size-limited tmpfs, a read-only mount or transaction, locks held by a second
connection). See ``storefaults.py``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.shared_store import longest_gap, run_setup
from monitor.store.sql import SQLStore
from tests.conftest import postgresql_schema
from tests.storefaults import mount_point, read_only, resize, row_lock, tmpfs, write_lock
from tests.test_pipeline import STORY, page, rss
from tests.test_store_faults import incompressible_page
from tests.webserver import WebServer

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = 60


def newsmonitor(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_config(path: Path, web: WebServer, url: str, extra: str = "") -> Path:
    path.write_text(
        f'[[feeds]]\nname = "world"\nurl = "{web.url("/feed")}"\ninterval = "1s"\n'
        + "[fetch]\nallow_private_addresses = true\nretries = 0\ndeadline = 10\n"
        + "[extract]\nworkers = 1\n"
        + f'[storage]\nurl = "{url}"\nlock_timeout = "1s"\n'
        + extra,
        encoding="utf-8",
    )
    return path


def test_check_on_a_full_disk_reports_and_the_next_run_completes(web, tmp_path, small_disk):
    url, disk = small_disk
    slugs = [f"story-{n}" for n in range(ENTRIES)]
    web.set("/feed", rss([(f"Story {s}", f"/a/{s}") for s in slugs], web))
    for slug in slugs:  # 60 pages of 60 kB that do not compress: more than the disk holds
        web.set(f"/a/{slug}", incompressible_page(f"Story {slug}", 60_000))
    config = write_config(tmp_path / "monitor.toml", web, url)

    full = newsmonitor(config, "check", "--json")
    assert full.returncode == 3, full.stderr
    assert "Traceback" not in full.stderr
    report = json.loads(full.stdout)  # what it did, what failed and why
    assert report["store_errors"] and 0 < len(report["changes"]) < ENTRIES
    assert any("full" in e or "No space" in e for e in report["store_errors"])
    assert "writes failed; the next run does that work again" in full.stderr

    resize(disk, "256m")  # space is back
    after = newsmonitor(config, "check", "--json")  # no --all: the feed is due again
    assert after.returncode == 0, after.stderr
    done = json.loads(after.stdout)
    assert done["store_errors"] == []
    captured = len(report["changes"]) + len(done["changes"])
    assert captured == ENTRIES and {c["kind"] for c in done["changes"]} == {"new"}
    with SQLStore.open(url) as store:
        assert store.incomplete_articles() == []
        assert len(store.list_articles()) == ENTRIES
        assert store.counts()["versions"] == ENTRIES


def populate(web: WebServer, config: Path) -> None:
    """Two versions of one article, so that every read command has something to show."""
    web.set("/feed", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    assert newsmonitor(config, "check", "--all").returncode == 0
    web.set("/a/harbour", page("Harbour vote", [*STORY, "The vote was 31 to 12."]))
    assert newsmonitor(config, "check", "--all").returncode == 0


READ_COMMANDS = (
    ("status", "--json"),
    ("feeds", "--json"),
    ("articles", "--json"),
    ("history", "1", "--json"),
    ("diff", "1", "--format", "json"),
    ("alerts", "--json"),
    ("seeds", "--json"),
)


def assert_read_only_store_is_read_not_run(config: Path) -> None:
    for command in READ_COMMANDS:
        result = newsmonitor(config, *command)
        assert result.returncode == 0, (command, result.stderr)
        json.loads(result.stdout)
    history = json.loads(newsmonitor(config, "history", "1", "--json").stdout)
    assert [v["number"] for v in history["versions"]] == [1, 2]
    for command in (("run",), ("check",)):
        started = time.monotonic()
        result = newsmonitor(config, *command, timeout=60)
        assert result.returncode == 3, (command, result.stdout, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert "read-only" in lines[0] or "cannot be written" in lines[0], lines[0]
        assert time.monotonic() - started < 30  # no fetching in vain


def test_a_read_only_sqlite_store_serves_every_read_command(web, tmp_path):
    with tmpfs(mount_point(), "64m") as disk:
        config = write_config(tmp_path / "monitor.toml", web, f"sqlite:///{disk / 'monitor.db'}")
        populate(web, config)
        read_only(disk)
        assert_read_only_store_is_read_not_run(config)


def test_a_read_only_sqlite_store_is_read_with_its_log(web, tmp_path):
    """A process killed before closing the store leaves its write-ahead log beside it: a
    read-only store is read with what the log holds."""
    with tmpfs(mount_point(), "64m") as disk:
        db = disk / "monitor.db"
        config = write_config(tmp_path / "monitor.toml", web, f"sqlite:///{db}")
        populate(web, config)
        leave_log = (
            "import os, sqlite3\n"
            f"raw = sqlite3.connect({str(db)!r})\n"
            "raw.execute('PRAGMA wal_autocheckpoint = 0')\n"
            "raw.execute(\"UPDATE feeds SET last_error = 'only in the log'\")\n"
            "raw.commit()\n"
            "os._exit(0)\n"
        )
        subprocess.run([sys.executable, "-c", leave_log], check=True)
        assert (disk / "monitor.db-wal").stat().st_size > 0
        read_only(disk)
        (feed,) = json.loads(newsmonitor(config, "feeds", "--json").stdout)
        assert feed["last_error"] == "only in the log"


def test_a_read_only_postgresql_store_serves_every_read_command(web, tmp_path, postgresql_admin):
    with postgresql_schema(postgresql_admin) as url:
        populate(web, write_config(tmp_path / "monitor.toml", web, url))
        schema = url.split("search_path%3D")[1].split("&")[0]
        read_only_url = postgresql_admin.url.update_query_dict(
            {"options": f"-csearch_path={schema} -cdefault_transaction_read_only=on"}
        ).render_as_string(hide_password=False)
        config = write_config(tmp_path / "read-only.toml", web, read_only_url)
        assert_read_only_store_is_read_not_run(config)


# One lock must not freeze the daemon


class Daemon:
    """`newsmonitor run` in a subprocess, its log in a file."""

    def __init__(self, config: Path) -> None:
        self.log = config.parent / "daemon.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(config), "run"],
                cwd=ROOT,
                stdout=out,
                stderr=out,
            )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


def eventually(condition: Callable[[], object], timeout: float, what: str) -> float:
    """Wait (bounded) for ``condition``; when it came true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return time.monotonic()


def versions_of(url: str, slug: str) -> int:
    with SQLStore.open(url) as store:
        article = next((a for a in store.list_articles() if a.url.endswith(slug)), None)
        return article.versions if article else 0


def daemon_config(tmp_path: Path, web: WebServer, url: str) -> Path:
    web.set("/feed", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/wire", rss([("Ferry timetable", "/a/ferry")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    web.set("/a/ferry", page("Ferry timetable", STORY[:2]))
    config = write_config(
        tmp_path / "monitor.toml",
        web,
        url,
        f'[[feeds]]\nname = "wire"\nurl = "{web.url("/wire")}"\ninterval = "1s"\n'
        '[daemon]\narticles_every = "1s"\nrelay_every = "1s"\njitter = "0s"\ngrace = "5s"\n'
        '[tracking]\nschedule = [{ until = "1h", every = "1s" }]\n',
    )
    return config


def fetch_gap(web: WebServer, start: float, end: float) -> float:
    """The longest time between two requests reaching ``web`` from ``start`` to ``end``."""
    return longest_gap([request.at for request in list(web.requests)], start, end)


HOLD = 6.0


def test_the_daemon_keeps_fetching_while_sqlite_is_locked(web, tmp_path):
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    daemon = Daemon(daemon_config(tmp_path, web, url))
    try:
        eventually(
            lambda: versions_of(url, "harbour") and versions_of(url, "ferry"), 60, "first capture"
        )
        with write_lock(url):  # another process's transaction: nothing can be written
            held_from = time.monotonic()
            web.set("/a/harbour", page("Harbour vote", [*STORY, "The vote was 31 to 12."]))
            time.sleep(HOLD)
            held_until = time.monotonic()
        # Fetching went on (at most a lock-timeout's wait and a tick, not the whole hold) ...
        assert fetch_gap(web, held_from, held_until) < 2.5
        # ... and the edit made while nothing could be written is recorded afterwards.
        eventually(lambda: versions_of(url, "harbour") == 2, 30, "the edit to be recorded")
    finally:
        assert daemon.stop() == 0
    log = daemon.text()
    assert "Traceback" not in log, log
    assert "database is locked" in log  # the reason, logged


def test_the_daemon_keeps_recording_other_articles_while_a_row_is_held(web, tmp_path, pg_store_url):
    url = pg_store_url
    daemon = Daemon(daemon_config(tmp_path, web, url))
    try:
        eventually(
            lambda: versions_of(url, "harbour") and versions_of(url, "ferry"), 60, "first capture"
        )
        with SQLStore.open(url) as store:
            harbour = next(a for a in store.list_articles() if a.url.endswith("harbour"))
        with row_lock(url, harbour.id):  # another node holds this article's row
            held_from = time.monotonic()
            web.set("/a/harbour", page("Harbour vote", [*STORY, "The vote was 31 to 12."]))
            web.set("/a/ferry", page("Ferry timetable", [*STORY[:2], "Two crossings are cut."]))
            # The other article's edit is recorded while the row is held ...
            eventually(lambda: versions_of(url, "ferry") == 2, HOLD, "the other edit")
            assert versions_of(url, "harbour") == 1
            time.sleep(max(0.0, held_from + HOLD - time.monotonic()))
            held_until = time.monotonic()
        assert fetch_gap(web, held_from, held_until) < 2.5  # lock timeout + a tick, at most
        # ... and the held one's once the row is free.
        eventually(lambda: versions_of(url, "harbour") == 2, 30, "the held edit")
    finally:
        assert daemon.stop() == 0
    log = daemon.text()
    assert "Traceback" not in log, log
    assert "lock timeout" in log


def test_several_processes_share_one_postgresql_store(postgresql_admin):
    """`check` beside two `run` processes on one store, a changing newsroom, and article
    rows held by another connection midway (the bench, shorter: bench/shared_store.py)."""
    pg_url = postgresql_admin.url.render_as_string(hide_password=False)
    outcome = run_setup("check + 2 run", 2, seconds=10, hold=4, lock_timeout=1.5, pg_url=pg_url)
    assert outcome.tracebacks == []
    assert dict(outcome.duplicates) == {}  # no event recorded twice, of any kind
    assert outcome.sent_twice == 0 and outcome.sent > 0  # each event id sent once
    assert outcome.lost == [] and outcome.entries > 15  # no entry lost
    assert outcome.longest_stall < 4  # fetching went on while rows were held
    assert outcome.fetches > 100
