"""Several processes on one PostgreSQL store: is every effect recorded once, nothing lost,
and does a lock held elsewhere stall fetching?

Usage: ``python -m bench.shared_store [--seconds 40] [--hold 8] [--lock-timeout 2]``

A newsroom on loopback changes while the processes run: articles are edited, removed
(410) and restored, moved (301), and every feed publishes a new entry at each step. Two
set-ups share one fresh PostgreSQL schema each: `check` beside one `run`, then `check`
beside two `run` processes (the shipped defaults but for short intervals and a short lock
timeout, so that a bounded run sees many rounds). Midway, another connection holds rows
of the articles every process works on ``FOR UPDATE`` for ``--hold`` seconds (as a node
stuck in a transaction would; ``--lock tables`` holds the articles, versions and changes
tables against every writer instead). Afterwards
every process is stopped, one last `check --all` and `alerts send` run, and the bench
prints, per set-up:

- duplicates per kind: a version's event recorded twice, or back-to-back identical
  removed / restored / moved events of one article (target 0);
- event ids the webhook receiver got more than once (target 0);
- lost entries: entries the feeds published that have no stored version (target 0);
- the longest gap between two requests reaching the newsroom while the lock was held
  (target: at most the lock timeout), beside the longest gap in an equally long window
  just before it, when nothing was held.

PostgreSQL: ``NEWSMONITOR_TEST_PG_URL`` or postgresql://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from monitor.models import ChangeKind
from monitor.normalize import normalize_url
from monitor.store.sql import SQLStore
from tests.test_pipeline import STORY, page, rss
from tests.webserver import Reply, Request, WebServer

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CONTENT = (ChangeKind.NEW, ChangeKind.CHANGED, ChangeKind.REVERTED)
LIFECYCLE = (ChangeKind.REMOVED, ChangeKind.RESTORED, ChangeKind.MOVED)
LOCKED_TABLES = "articles, versions, changes"


class ChangingNewsroom:
    """Feeds and pages on a ``WebServer`` that change one ``step`` at a time."""

    def __init__(self, web: WebServer, feeds: int, articles: int) -> None:
        self.web = web
        self.feeds = feeds
        self.steps = itertools.count(1)
        self.entries: dict[int, list[str]] = {f: [] for f in range(feeds)}
        self.text: dict[str, list[str]] = {}
        self.removed: set[str] = set()
        self.moved: dict[str, str] = {}
        self._lock = threading.Lock()
        for f in range(feeds):
            for n in range(articles):
                self._publish(f, f"/f{f}/story-{n}")
            self._serve_feed(f, 0)

    @property
    def published(self) -> set[str]:
        """Every entry URL the feeds ever carried (normalized)."""
        return {normalize_url(self.web.url(p)) for paths in self.entries.values() for p in paths}

    def _publish(self, feed: int, path: str) -> None:
        self.entries[feed].append(path)
        self.text[path] = [*STORY, f"First report from {path}."]
        self._serve_page(path)

    def _serve_page(self, path: str) -> None:
        if path in self.removed:
            self.web.set(path, Reply("gone", status=410, content_type="text/plain"))
            return
        where = self.moved.get(path)
        if where is not None:
            self.web.set(path, Reply("", status=301, headers={"Location": self.web.url(where)}))
            self.web.set(where, page(f"Story {path}", self.text[path]))
            return
        self.web.set(path, page(f"Story {path}", self.text[path]))

    def _serve_feed(self, feed: int, step: int) -> None:
        items = [(f"Story {p}", p) for p in self.entries[feed][-25:]]
        self.web.set(f"/feed/{feed}", replace(rss(items, self.web), etag=f'"{feed}-{step}"'))

    def step(self) -> None:
        """Edit a fifth of the live articles, remove one, restore the one removed before,
        move one now and then, and publish a new entry in every feed."""
        with self._lock:
            n = next(self.steps)
            live = [
                p for paths in self.entries.values() for p in paths[:-2] if p not in self.removed
            ]
            for path in live[n % 5 :: 5]:
                self.text[path] = [*self.text[path][:-1], f"Update {n}: figures revised."]
                self._serve_page(path)
            for path in list(self.removed):
                self.removed.discard(path)
                self._serve_page(path)
            if live:
                gone = live[(7 * n) % len(live)]
                self.removed.add(gone)
                self._serve_page(gone)
                if n % 3 == 0:
                    mover = live[(11 * n) % len(live)]
                    if mover not in self.removed and mover not in self.moved:
                        self.moved[mover] = f"{mover}-moved"
                        self._serve_page(mover)
            for f in range(self.feeds):
                self._publish(f, f"/f{f}/new-{n}")
                self._serve_feed(f, n)

    def settle(self) -> None:
        """Everything that was removed is back: the final check sees every entry."""
        with self._lock:
            for path in list(self.removed):
                self.removed.discard(path)
                self._serve_page(path)


@dataclass
class Outcome:
    """What one set-up did."""

    label: str
    duplicates: Counter[str] = field(default_factory=Counter)
    sent_twice: int = 0
    sent: int = 0
    lost: list[str] = field(default_factory=list)
    entries: int = 0
    versions: int = 0
    fetches: int = 0
    longest_stall: float = 0.0
    usual_stall: float = 0.0  # the same, in as long a window before the lock
    lock_timeout: float = 0.0
    tracebacks: list[str] = field(default_factory=list)


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server, dropped on exit; its store URL."""
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    schema = f"newsmonitor_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def write_config(path: Path, web: WebServer, url: str, feeds: int, lock_timeout: float) -> None:
    tables = "".join(
        f'[[feeds]]\nname = "f{f}"\nurl = "{web.url(f"/feed/{f}")}"\ninterval = "2s"\n'
        for f in range(feeds)
    )
    path.write_text(
        tables
        + "[fetch]\nallow_private_addresses = true\nretries = 0\ndeadline = 10\n"
        + '[daemon]\narticles_every = "1s"\nrelay_every = "1s"\njitter = "0s"\ngrace = "5s"\n'
        + '[tracking]\nschedule = [{ until = "1h", every = "2s" }]\n'
        + f'[storage]\nurl = "{url}"\nlock_timeout = {lock_timeout}\n'
        + '[outbox]\ncheck_wait = "1s"\nlease = "30s"\n'
        + f'[[alerts]]\nname = "hook"\ntype = "webhook"\nurl = "{web.url("/hook")}"\n'
        + f'secret = "{SECRET}"\n'
        + 'kinds = ["new", "changed", "reverted", "removed", "restored", "moved"]\n'
        + 'min_significance = "cosmetic"\n',
        encoding="utf-8",
    )


def command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "--config", str(config), *args]


@contextmanager
def held_against_writers(url: str, what: str, rows: int = 4) -> Iterator[None]:
    """Another connection holds ``rows`` article rows FOR UPDATE (``what`` "rows"), or
    the articles, versions and changes tables against writers ("tables")."""
    engine: Engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            if what == "tables":
                conn.execute(text(f"LOCK TABLE {LOCKED_TABLES} IN EXCLUSIVE MODE"))
            else:
                conn.execute(
                    text("SELECT id FROM articles ORDER BY id LIMIT :n FOR UPDATE"), {"n": rows}
                )
            yield
    finally:
        engine.dispose()


def run_setup(
    label: str,
    daemons: int,
    seconds: float,
    hold: float,
    lock_timeout: float,
    pg_url: str,
    feeds: int = 3,
    articles: int = 5,
    step_every: float = 2.0,
    lock: str = "rows",
) -> Outcome:
    """``daemons`` `run` processes and a `check` loop on one store for ``seconds``, with the
    store held against writers for ``hold`` seconds midway; what came of it."""
    outcome = Outcome(label, lock_timeout=lock_timeout)
    web = WebServer().start()
    received: list[str] = []

    def hook(request: Request) -> Reply:
        received.append(request.headers.get("webhook-id", ""))
        return Reply("ok", content_type="text/plain")

    web.set("/hook", hook)
    room = ChangingNewsroom(web, feeds, articles)
    with pg_schema(pg_url) as url, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "monitor.toml"
        write_config(config, web, url, feeds, lock_timeout)
        logs = [Path(tmp) / f"run-{n}.log" for n in range(daemons)]
        checks_log = Path(tmp) / "check.log"
        subprocess.run(command(config, "status"), cwd=ROOT, capture_output=True, check=True)
        processes = []
        for log in logs:
            with log.open("wb") as out:
                processes.append(
                    subprocess.Popen(command(config, "run"), cwd=ROOT, stdout=out, stderr=out)
                )
        stop = threading.Event()

        def check_loop() -> None:
            with checks_log.open("ab") as out:
                while not stop.is_set():
                    subprocess.run(
                        command(config, "check", "--json", "--wait", "5"),
                        cwd=ROOT,
                        stdout=subprocess.DEVNULL,
                        stderr=out,
                    )
                    stop.wait(1.0)

        def step_loop() -> None:
            while not stop.wait(step_every):
                room.step()

        workers = [threading.Thread(target=check_loop), threading.Thread(target=step_loop)]
        for worker in workers:
            worker.start()
        started = time.monotonic()
        time.sleep(max(0.0, seconds / 2 - hold / 2))
        with held_against_writers(url, lock):
            held_from = time.monotonic()
            time.sleep(hold)
            held_until = time.monotonic()
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        stop.set()
        for worker in workers:
            worker.join()
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(60)
        room.settle()
        final = subprocess.run(
            command(config, "check", "--all", "--json"), cwd=ROOT, capture_output=True, text=True
        )
        subprocess.run(
            command(config, "alerts", "send", "--wait", "5"), cwd=ROOT, capture_output=True
        )
        stamps = [r.at for r in list(web.requests) if r.path != "/hook"]
        outcome.fetches = len(stamps)
        outcome.longest_stall = longest_gap(stamps, held_from, held_until)
        outcome.usual_stall = longest_gap(stamps, held_from - hold, held_from)
        for log in [*logs, checks_log]:
            if "Traceback" in log.read_text(encoding="utf-8", errors="replace"):
                outcome.tracebacks.append(log.name)
        if "Traceback" in final.stderr:
            outcome.tracebacks.append("final check")
        with SQLStore.open(url) as store:
            measure(store, room, outcome)
    web.stop()
    outcome.sent = len(received)
    outcome.sent_twice = sum(n - 1 for n in Counter(received).values() if n > 1)
    return outcome


def longest_gap(stamps: list[float], start: float, end: float) -> float:
    """The longest time between two requests (or a window's edge) from start to end."""
    during = [start, *(s for s in stamps if start <= s <= end), end]
    return max(b - a for a, b in itertools.pairwise(during))


def measure(store: SQLStore, room: ChangingNewsroom, outcome: Outcome) -> None:
    """Duplicates per kind and lost entries, read from the store."""
    changes = store.list_changes()
    content = Counter((c.article_id, c.version) for c in changes if c.kind in CONTENT)
    for (article_id, version), n in content.items():
        if n > 1:
            kinds = {c.kind for c in changes if (c.article_id, c.version) == (article_id, version)}
            outcome.duplicates["/".join(sorted(kinds))] += n - 1
    by_article: dict[int, list] = {}
    for change in sorted(changes, key=lambda c: c.id):
        by_article.setdefault(change.article_id, []).append(change)
    for history in by_article.values():
        for before, after in itertools.pairwise(history):
            same = (before.kind, before.version, before.detail) == (
                after.kind,
                after.version,
                after.detail,
            )
            if after.kind in LIFECYCLE and same:
                outcome.duplicates[str(after.kind)] += 1
    published = room.published
    outcome.entries = len(published)
    for url in sorted(published):
        article = store.find_article([url])
        if article is None or not store.list_versions(article.id):
            outcome.lost.append(url)
    outcome.versions = store.counts()["versions"]


def report(outcomes: list[Outcome]) -> str:
    kinds = ["new", "changed", "reverted", "removed", "restored", "moved"]
    lines = [
        "| set-up | entries | versions | fetches | "
        + " | ".join(f"dup {k}" for k in kinds)
        + " | sent twice | lost entries | longest stall, lock held (lock timeout)"
        + " | longest stall, before | tracebacks |",
        "|---" * (len(kinds) + 9) + "|",
    ]
    for o in outcomes:
        dups = " | ".join(
            str(sum(n for kind, n in o.duplicates.items() if k in kind.split("/"))) for k in kinds
        )
        lines.append(
            f"| {o.label} | {o.entries} | {o.versions} | {o.fetches} | {dups} | "
            f"{o.sent_twice} of {o.sent} | {len(o.lost)} | "
            f"{o.longest_stall:.2f} s ({o.lock_timeout:g} s) | {o.usual_stall:.2f} s | "
            f"{len(o.tracebacks)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--hold", type=float, default=8.0)
    parser.add_argument("--lock-timeout", type=float, default=2.0)
    parser.add_argument("--feeds", type=int, default=4)
    parser.add_argument("--articles", type=int, default=10)
    parser.add_argument("--lock", choices=["rows", "tables"], default="rows")
    args = parser.parse_args()
    pg_url = os.environ.get("NEWSMONITOR_TEST_PG_URL", DEFAULT_PG_URL)
    outcomes = []
    for daemons in (1, 2):
        label = f"check + {daemons} run"
        print(f"{label}: {args.seconds:g} s, {args.lock} held {args.hold:g} s midway", flush=True)
        outcome = run_setup(
            label,
            daemons,
            args.seconds,
            args.hold,
            args.lock_timeout,
            pg_url,
            feeds=args.feeds,
            articles=args.articles,
            lock=args.lock,
        )
        outcomes.append(outcome)
        if outcome.lost:
            print(f"  lost: {', '.join(outcome.lost[:5])}")
        if outcome.tracebacks:
            print(f"  tracebacks in: {', '.join(outcome.tracebacks)}")
    print(report(outcomes))


if __name__ == "__main__":
    main()
