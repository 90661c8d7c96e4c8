"""Several `newsmonitor run` nodes on one PostgreSQL store split the work (issue 17).

Real processes against a newsroom on three loopback hosts that keeps changing (edits,
removals, moves, a new entry per feed at every step; ``bench.shared_store``'s
``ChangingNewsroom``), alerts sent to a recording webhook receiver, short intervals and
leases so that a bounded run sees many rounds. Faults are real: a node killed with
SIGKILL, the nodes' connections ended with ``pg_terminate_backend``. A PostgreSQL server
restart would end every other test using this machine's server, so that test runs only
with ``NEWSMONITOR_TEST_PG_RESTART`` set to the command that restarts it.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bench.shared_store import ChangingNewsroom
from monitor.alerts.outbox import PER_CHANNEL
from monitor.normalize import normalize_url
from monitor.store.sql import SQLStore
from tests.conftest import postgresql_schema
from tests.webserver import Reply, Request, WebServer

ROOT = Path(__file__).resolve().parents[1]
HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
FEED_INTERVAL = 3.0  # seconds
LEASE = 4.0  # [daemon] claim_lease, seconds
STEP_EVERY = 2.0
# A text served at least this long while the store answers must be stored: re-checked
# every 2 s, the nodes see it twice over (a text served for less, as when a page is edited
# and removed at once, or while the database restarts, may pass unseen by any monitor).
MUST_SEE = 6.0
# What no node may log: races the claims exist to prevent, and any crash.
FORBIDDEN = re.compile(
    r"Traceback|deadlock|could not serialize|duplicate key|UniqueViolation|ERROR"
)


def newsmonitor(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "--config", str(config), *args]


@dataclass
class Cluster:
    """Newsrooms on three loopback hosts, a webhook receiver, the store and the nodes."""

    url: str
    tmp: Path
    rooms: list[ChangingNewsroom] = field(default_factory=list)
    servers: list[WebServer] = field(default_factory=list)
    # (webhook id, time.time()) of each delivery, as they came: one append, so that
    # concurrent handlers cannot pull the two apart.
    receipts: list[tuple[str, float]] = field(default_factory=list)
    edits: set[tuple[str, str]] = field(default_factory=set)  # (entry URL, sentence)
    # What each page shows now (its last sentence, or None while removed) and since when.
    shown: dict[str, tuple[str | None, float]] = field(default_factory=dict)
    nodes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    # (start, end) of each time the store was down on purpose, monotonic; end None while
    # it lasts. Nothing can be stored then, so that time does not count towards MUST_SEE.
    outages: list[tuple[float, float | None]] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.tmp / "monitor.toml"

    def start_newsrooms(self) -> None:
        for host in HOSTS:
            web = WebServer(host).start()
            self.servers.append(web)
            self.rooms.append(ChangingNewsroom(web, feeds=1, articles=4))
        receiver = WebServer().start()
        self.servers.append(receiver)

        def hook(request: Request) -> Reply:
            self.receipts.append((request.headers.get("webhook-id", ""), time.time()))
            return Reply("ok", content_type="text/plain")

        receiver.set("/hook", hook)
        feeds = "".join(
            f'[[feeds]]\nname = "n{n}"\nurl = "{web.url("/feed/0")}"\n'
            f'interval = "{FEED_INTERVAL:g}s"\n'
            for n, web in enumerate(self.servers[: len(HOSTS)])
        )
        self.config.write_text(
            feeds
            + "[fetch]\nallow_private_addresses = true\nretries = 0\ndeadline = 10\n"
            + "[extract]\nworkers = 1\n"
            + '[daemon]\narticles_every = "1s"\nrelay_every = "1s"\njitter = "0s"\n'
            + f'grace = "5s"\nheartbeat = "1s"\nclaim_lease = "{LEASE:g}s"\n'
            + '[tracking]\nschedule = [{ until = "1h", every = "2s" }]\n'
            + f'[storage]\nurl = "{self.url}"\nlock_timeout = "5s"\n'
            + '[outbox]\ncheck_wait = "1s"\nlease = "5s"\n'
            + f'[[alerts]]\nname = "hook"\ntype = "webhook"\nurl = "{receiver.url("/hook")}"\n'
            + 'secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"\n'
            + 'kinds = ["new", "changed", "reverted", "removed", "restored", "moved"]\n'
            + 'min_significance = "cosmetic"\n',
            encoding="utf-8",
        )

    def start_nodes(self, count: int) -> None:
        for _ in range(count):
            log = self.tmp / f"node-{len(self.logs)}.log"
            with log.open("wb") as out:
                self.nodes.append(
                    subprocess.Popen(
                        newsmonitor(self.config, "run"), cwd=ROOT, stdout=out, stderr=out
                    )
                )
            self.logs.append(log)
        self.look()  # the texts shown from the start

    def step(self) -> None:
        """One newsroom step on every host."""
        for room in self.rooms:
            room.step()
        self.look()

    def look(self, final: bool = False) -> None:
        """Note what each page shows from now on; a text that was shown ``MUST_SEE`` or
        longer (``final``: every text shown that long until now) must have been stored."""
        now = time.monotonic()
        for room in self.rooms:
            for path, lines in room.text.items():
                url = normalize_url(room.web.url(path))
                line = None if path in room.removed else lines[-1]
                before, since = self.shown.get(url, (None, now))
                seen = self.store_up(since, now)
                if (final or line != before) and before is not None and seen >= MUST_SEE:
                    self.edits.add((url, before))
                if line != before or url not in self.shown:
                    self.shown[url] = (line, now)

    def store_up(self, start: float, end: float) -> float:
        """How long of ``start`` … ``end`` the store was not down on purpose."""
        down = 0.0
        for began, ended in list(self.outages):
            over = min(end, end if ended is None else ended) - max(start, began)
            down += max(0.0, over)
        return end - start - down

    @contextmanager
    def outage(self) -> Iterator[None]:
        """The store down for the block's duration (a restart, say)."""
        began = time.monotonic()
        self.outages.append((began, None))
        try:
            yield
        finally:
            self.outages[self.outages.index((began, None))] = (began, time.monotonic())

    def settle(self) -> None:
        for room in self.rooms:
            room.settle()
        self.look()

    @contextmanager
    def stepping(self) -> Iterator[None]:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(STEP_EVERY):
                self.step()

        worker = threading.Thread(target=loop)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join()

    def stop_nodes(self) -> None:
        self.look(final=True)
        for node in self.nodes:
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
        for node in self.nodes:
            node.wait(60)

    def close(self) -> None:
        for node in self.nodes:
            if node.poll() is None:
                node.kill()
                node.wait()
        for web in self.servers:
            web.stop()

    def status(self) -> dict[str, object]:
        done = subprocess.run(
            newsmonitor(self.config, "status", "--json"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        document: dict[str, object] = json.loads(done.stdout)
        return document

    def node_id(self, process: subprocess.Popen[bytes], engine: Engine) -> str:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT id FROM nodes WHERE pid = :pid"), {"pid": process.pid}
            ).scalar()
        assert found is not None, f"node {process.pid} never registered"
        return str(found)

    def forbidden_lines(self) -> list[str]:
        return [
            f"{log.name}: {line}"
            for log in self.logs
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
            if FORBIDDEN.search(line)
        ]


@pytest.fixture
def cluster(postgresql_admin: Engine, tmp_path: Path) -> Iterator[Cluster]:
    tag = f"cluster-{secrets.token_hex(4)}"
    with postgresql_schema(postgresql_admin) as url:
        # Named, so that the fault test ends only these nodes' connections.
        named = make_url(url).update_query_dict({"application_name": tag})
        found = Cluster(named.render_as_string(hide_password=False), tmp_path)
        try:
            found.start_newsrooms()
            yield found
        finally:
            found.close()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def assert_every_effect_once(
    cluster: Cluster, exactly_once: bool = True, killed_at: float | None = None
) -> None:
    """No version stored twice; every entry and every edit captured; each alert in the
    store delivered, and (``exactly_once``) received once per event id, but for those the
    node killed at ``killed_at`` had sent by then, their "delivered" marks cut off."""
    store = SQLStore.open(cluster.url)
    try:
        published = {u for room in cluster.rooms for u in room.published}
        texts: dict[str, list[str]] = {}
        for url in sorted(published):
            article = store.find_article([url])
            assert article is not None, f"lost entry {url}"
            versions = store.list_versions(article.id)
            assert versions, f"no version of {url}"
            hashes = [v.content_hash for v in versions]
            twice = [a for a, b in itertools.pairwise(hashes) if a == b]
            assert not twice, f"{url}: one text stored as consecutive versions"
            texts[url] = [v.text for v in versions]
        missed = [
            (url, line)
            for url, line in sorted(cluster.edits)
            if url in texts and not any(line in t for t in texts[url])
        ]
        assert not missed, f"edits never stored: {missed[:5]}"
        changes = store.list_changes()
        content = Counter(
            (c.article_id, c.version) for c in changes if c.kind in ("new", "changed")
        )
        assert [key for key, n in content.items() if n > 1] == []
        alerts = store.list_alerts()
        assert {a.status for a in alerts} == {"delivered"}, Counter(a.status for a in alerts)
        event_ids = {a.event_id for a in alerts}
    finally:
        store.close()
    received = [event for event, _ in cluster.receipts]
    assert event_ids <= set(received)  # every event reached the receiver
    if exactly_once:
        times = Counter(received)
        first = dict(reversed(cluster.receipts))  # each event's first receipt
        # A request the killed node had sent may be handled a moment after the signal.
        cut_off = [
            e
            for e, n in times.items()
            if n > 1 and killed_at is not None and first[e] <= killed_at + 1
        ]
        # Sent by the killed node, then by another once its lease ran out: no more than
        # the node sends at once, each received twice, no more.
        assert len(cut_off) <= PER_CHANNEL and all(times[e] == 2 for e in cut_off), cut_off
        assert [e for e, n in times.items() if n > 1 and e not in cut_off] == []


def test_three_nodes_split_the_work_and_survive_a_killed_node(cluster: Cluster) -> None:
    engine = create_engine(cluster.url)
    try:
        cluster.start_nodes(3)
        wait_until(lambda: len(cluster.status()["nodes"]) == 3, "three nodes")  # type: ignore[arg-type]
        with cluster.stepping():
            time.sleep(20)
            # Kill a node while it holds hosts: their due articles must be taken over.
            victim = cluster.nodes[0]
            victim_id = cluster.node_id(victim, engine)

            def held() -> list[str]:
                with engine.connect() as conn:
                    return list(
                        conn.execute(
                            text(
                                "SELECT name FROM claims WHERE claimed_by = :id "
                                "AND kind = 'host' AND lease_until > now()"
                            ),
                            {"id": victim_id},
                        ).scalars()
                    )

            def rechecked_since(host: str, moment: datetime) -> float:
                """The share of ``host``'s articles checked after ``moment``."""
                with engine.connect() as conn:
                    done, total = conn.execute(
                        text(
                            "SELECT count(*) FILTER (WHERE last_checked > :at), count(*) "
                            "FROM articles WHERE host = :host"
                        ),
                        {"at": moment, "host": host},
                    ).one()
                return float(done) / max(1, total)

            wait_until(lambda: bool(held()), "the victim to hold a host")
            hosts = held()
            victim.send_signal(signal.SIGKILL)
            killed_at = datetime.now(UTC)
            victim.wait()
            # Due every 2 s, its articles wait for the lease to run out, then another
            # node claims the host and re-checks them.
            for host in hosts:
                wait_until(
                    lambda host=host: rechecked_since(host, killed_at) >= 0.5,  # type: ignore[misc]
                    f"{host} taken over",
                    timeout=LEASE + 4 - (datetime.now(UTC) - killed_at).total_seconds(),
                )
            time.sleep(4)  # lost after three missed heartbeats
            status = cluster.status()
            listed = {n["id"]: n for n in status["nodes"]}  # type: ignore[attr-defined]
            assert listed[victim_id]["lost"] is True
            assert sum(not n["lost"] for n in listed.values()) == 2
            time.sleep(10)
        cluster.settle()
        time.sleep(8)  # a quiet spell: every article re-checked after the last step
        cluster.stop_nodes()
    finally:
        engine.dispose()
    # Each feed once per interval across the cluster, not once per node: no two fetches of
    # one feed in one interval (a fetch late on a loaded machine brings the next one closer
    # by as much, never by half an interval), and no more fetches than intervals.
    for web in cluster.servers[: len(HOSTS)]:
        stamps = sorted(r.at for r in web.hits("/feed/0"))
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        assert gaps and min(gaps) >= FEED_INTERVAL / 2, sorted(gaps)[:5]
        assert len(stamps) <= (stamps[-1] - stamps[0]) / FEED_INTERVAL + 2
    assert cluster.forbidden_lines() == []
    assert_every_effect_once(cluster, killed_at=killed_at.timestamp())
    remaining = cluster.status()
    assert remaining["nodes"] == [  # the two stopped cleanly; the killed one is left, lost
        n
        for n in remaining["nodes"]
        if n["id"] == victim_id  # type: ignore[attr-defined]
    ]


def test_nodes_recover_when_their_connections_are_ended(cluster: Cluster) -> None:
    """pg_terminate_backend on every connection of the nodes, again and again, mid-run."""
    tag = make_url(cluster.url).query["application_name"]
    admin = create_engine(make_url(cluster.url).difference_update_query(["application_name"]))
    ended = 0
    try:
        cluster.start_nodes(3)
        wait_until(lambda: len(cluster.status()["nodes"]) == 3, "three nodes")  # type: ignore[arg-type]
        with cluster.stepping():
            time.sleep(4)
            for _ in range(6):
                with admin.connect() as conn:
                    ended += len(
                        conn.execute(
                            text(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE application_name = :tag"
                            ),
                            {"tag": tag},
                        ).all()
                    )
                time.sleep(3)
        cluster.settle()
        time.sleep(10)
        cluster.stop_nodes()
    finally:
        admin.dispose()
    assert ended >= 6
    assert [node.returncode for node in cluster.nodes] == [0, 0, 0]
    tracebacks = [line for line in cluster.forbidden_lines() if "Traceback" in line]
    assert tracebacks == []
    # An alert whose "delivered" mark was cut off is sent again after its lease: receivers
    # deduplicate by event id. Nothing is lost, and the store holds each once.
    assert_every_effect_once(cluster, exactly_once=False)


def test_a_second_daemon_on_one_sqlite_store_refuses_in_one_line(tmp_path: Path) -> None:
    """SQLite stays the one-machine store: never two daemons doing everything."""
    cluster = Cluster(f"sqlite:///{tmp_path / 'monitor.db'}", tmp_path)
    try:
        cluster.start_newsrooms()
        cluster.start_nodes(1)
        wait_until(lambda: len(cluster.status()["nodes"]) == 1, "the first daemon")  # type: ignore[arg-type]
        second = subprocess.run(
            newsmonitor(cluster.config, "run"), cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        lines = [line for line in second.stderr.splitlines() if line.strip()]
        assert second.returncode == 3 and len(lines) == 1, second.stderr
        assert f"process {cluster.nodes[0].pid} on" in lines[0] and "PostgreSQL" in lines[0]
        with cluster.stepping():
            time.sleep(6)
        cluster.settle()
        time.sleep(6)
        cluster.stop_nodes()
        # Stopped cleanly, it lets the next daemon start at once.
        cluster.start_nodes(1)
        wait_until(lambda: len(cluster.status()["nodes"]) == 1, "the next daemon")  # type: ignore[arg-type]
        cluster.stop_nodes()
    finally:
        cluster.close()
    assert [node.returncode for node in cluster.nodes] == [0, 0]
    assert cluster.forbidden_lines() == []
    assert_every_effect_once(cluster)


def test_a_node_older_than_the_schema_refuses_to_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with SQLStore.open(url) as store, store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))  # a newer node's
    config = tmp_path / "monitor.toml"
    config.write_text(
        f'[[feeds]]\nname = "n0"\nurl = "http://127.0.0.1:9/feed"\n[storage]\nurl = "{url}"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        newsmonitor(config, "run"), cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 3 and len(lines) == 1, done.stderr
    assert "schema is at revision 0099" in lines[0] and "upgrade newsmonitor" in lines[0]


@pytest.mark.skipif(
    not os.environ.get("NEWSMONITOR_TEST_PG_RESTART"),
    reason="restarts the PostgreSQL server: set NEWSMONITOR_TEST_PG_RESTART to the command",
)
def test_nodes_recover_from_a_server_restart(cluster: Cluster) -> None:
    restart = os.environ["NEWSMONITOR_TEST_PG_RESTART"]
    cluster.start_nodes(3)
    with cluster.stepping():
        time.sleep(8)
        # A restart after a long test run may take seconds (its shutdown checkpoint): texts
        # shown only around it cannot be stored by any node.
        with cluster.outage():
            subprocess.run(restart, shell=True, check=True, timeout=120)
        time.sleep(15)
    cluster.settle()
    time.sleep(10)
    cluster.stop_nodes()
    assert [node.returncode for node in cluster.nodes] == [0, 0, 0]
    assert [line for line in cluster.forbidden_lines() if "Traceback" in line] == []
    assert_every_effect_once(cluster, exactly_once=False)
