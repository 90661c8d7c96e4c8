"""Several `newsmonitor run` nodes on one PostgreSQL database: do they split the work?

Usage: ``python -m bench.cluster [--nodes 1,2,3] [--feeds 60] [--entries 25] [--hosts 12]
[--latency-ms 80] [--concurrency 4] [--feed-interval 10] [--seconds 40]`` (or
``make bench-cluster``).

A static newsroom (``bench/newsroom.py``) is served by nginx behind the latency proxy
(``bench/latency.py``): the sites are spread over 127.0.0.1 ... 127.0.0.<hosts>, every
response comes a round trip late, and the proxy counts the requests in flight per host.
One cold `newsmonitor check --all` fills a PostgreSQL database once; each node count then
runs on a fresh copy of it (``CREATE DATABASE ... TEMPLATE``) with every tracked article
made due at once, and the nodes are started together. The bench watches nginx's access log:

- articles/s: distinct articles re-checked (each answers 304: nothing changed) divided by
  the time from the first article request to the moment every article was requested at
  least once, and the ratio to one node (issue 17's target: 3 nodes >= 2.5x one node);
- articles checked by each node (from its log) and article requests per article (1 when
  no node repeats another's work);
- feed fetches per feed per interval (1: a feed is fetched once per interval across the
  cluster, not once per node), counted over ``--seconds``;
- the most requests one host had in flight at once, by the proxy's count, against
  ``per_host_concurrency`` (which must hold cluster-wide);
- the nodes' CPU (user + system, start-up included) and the warnings, errors and
  tracebacks in their logs.

Why ``[fetch] concurrency`` is lowered (``--concurrency``, 4 by default, the shipped
default is 128): this machine has two cores shared by every node, PostgreSQL, nginx and
the proxy. At the shipped limit one node alone would use all the slots the hosts allow
(hosts x per-host) and the cores would be what limits, whatever the node count. With 4
slots a node does at most 4 requests per round trip: the cluster's throughput is then
bound by how many nodes share the work, which is what the bench is about. The bench
prints the configuration it used.

PostgreSQL: ``NEWSMONITOR_TEST_PG_URL`` or postgresql://postgres@127.0.0.1:5432/test (the
user must be allowed to create databases).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from bench.newsroom import Newsroom
from bench.run_all import (
    Nginx,
    Proxy,
    _proc_cpu,
    ensure_nginx,
    free_port,
    machine,
)
from monitor.config import FetchSettings

ROOT = Path(__file__).resolve().parents[1]
# Where the nodes' code comes from: this checkout, or (--tree) another one, such as
# `git archive` of an older commit for a before figure.
TREE = ROOT
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_RATIO = 2.5  # issue 17: 3 nodes at least 2.5x one node's articles per second
# APScheduler's word for a job still running when it comes due again: not a problem.
SKIPPED_RUN = "maximum number of running instances reached"
ARTICLES_LOGGED = re.compile(r"articles checked in [\d.]+s: (\d+) articles")
REQUEST_LINE = re.compile(r'"GET (\S+) HTTP/[\d.]+" (\d{3}) ')


@dataclass
class Outcome:
    """What one node count did."""

    nodes: int
    articles: int = 0
    covered: int = 0  # distinct articles requested
    article_requests: int = 0
    span: float = 0.0  # first article request to the last article first covered
    watched: float = 0.0
    feed_requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    per_host_max: int = 0
    node_cpu: float = 0.0
    tracebacks: int = 0
    errors: int = 0
    shares: list[int] = field(default_factory=list)  # articles each node checked

    @property
    def articles_per_s(self) -> float:
        return self.covered / self.span if self.span else 0.0


@contextmanager
def database(admin_url: URL, template: str | None = None) -> Iterator[str]:
    """A new database on the server (a copy of ``template``, if given), dropped on exit;
    its store URL."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"newsmonitor_cluster_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(
            text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        )
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_config(
    path: Path,
    room: Newsroom,
    store_url: str,
    concurrency: int,
    feed_interval: float,
    workers: int = 1,
) -> None:
    tables = "".join(
        f'[[feeds]]\nname = "{room.layout.site(n)}"\nurl = "{url}"\n'
        f'interval = "{feed_interval:g}s"\n'
        for n, url in enumerate(room.feed_urls())
    )
    path.write_text(
        "# Written by bench/cluster.py.\n"
        "[fetch]\nallow_private_addresses = true\n"
        f"concurrency = {concurrency}\n"
        '[daemon]\narticles_every = "1s"\nrelay_every = "5s"\ngrace = "5s"\n'
        f"[extract]\nworkers = {workers}\n"
        # Every article re-checked once an hour: made due once, each is checked once.
        '[tracking]\nschedule = [{ until = "3650d", every = "1h" }]\n'
        f'[storage]\nurl = "{store_url}"\n' + tables,
        encoding="utf-8",
    )


def newsmonitor(config: Path, *args: str) -> list[str]:
    """The command line of a node or a check, run with its working directory at ``TREE``."""
    return [sys.executable, "-m", "monitor", "--config", str(config), *args]


class AccessLog:
    """nginx's access log read from where it was when this was made."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0
        self._tail = b""

    def lines(self) -> list[tuple[str, str]]:
        """(path, status) of the requests logged since the last call."""
        try:
            with self.path.open("rb") as log:
                log.seek(self.offset)
                data = log.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data = self._tail + data
        complete, _, self._tail = data.rpartition(b"\n")
        found = []
        for line in complete.decode("utf-8", "replace").splitlines():
            match = REQUEST_LINE.search(line)
            if match:
                found.append((match[1], match[2]))
        return found


def run_nodes(
    count: int,
    room: Newsroom,
    nginx: Nginx,
    proxy: Proxy,
    config: Path,
    store_url: str,
    work: Path,
    watch: float,
    timeout: float,
) -> Outcome:
    """``count`` nodes on ``store_url`` with every article due: what they did."""
    article_paths = {room.layout.article_path(*key) for key in room.layout.articles()}
    feed_paths = {room.layout.feed_path(n) for n in range(room.layout.feeds)}
    outcome = Outcome(count, articles=len(article_paths))
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE articles SET next_check = now()"))
    engine.dispose()
    proxy.reset()
    log = AccessLog(nginx.access_log)
    logs = [work / f"node-{count}-{n}.log" for n in range(count)]
    processes = []
    for path in logs:
        with path.open("wb") as out:
            processes.append(
                subprocess.Popen(newsmonitor(config, "run"), cwd=TREE, stdout=out, stderr=out)
            )
    seen: set[str] = set()
    first = last = 0.0
    started = time.monotonic()
    try:
        while time.monotonic() - started < max(watch, 0.0) or len(seen) < len(article_paths):
            if time.monotonic() - started > timeout:
                print(f"  timed out after {timeout:g} s: {len(seen)} articles covered")
                break
            time.sleep(0.1)
            now = time.monotonic()
            for path, status in log.lines():
                outcome.statuses[status] += 1
                if path in feed_paths:
                    outcome.feed_requests[path] += 1
                elif path in article_paths:
                    outcome.article_requests += 1
                    first = first or now
                    if path not in seen:
                        seen.add(path)
                        last = now
        outcome.watched = time.monotonic() - started
        outcome.node_cpu = sum(_proc_cpu(p.pid) for p in processes)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    outcome.covered = len(seen)
    outcome.span = last - first
    outcome.per_host_max = max(proxy.stats()["per_host_max"].values(), default=0)
    for path in logs:
        content = path.read_text(encoding="utf-8", errors="replace")
        outcome.shares.append(sum(int(n) for n in ARTICLES_LOGGED.findall(content)))
        outcome.tracebacks += content.count("Traceback")
        outcome.errors += sum(
            1
            for line in content.splitlines()
            if (" ERROR " in line or " WARNING " in line) and SKIPPED_RUN not in line
        )
    return outcome


def report(outcomes: list[Outcome], feeds: int, interval: float, per_host: int) -> list[str]:
    one = outcomes[0].articles_per_s if outcomes and outcomes[0].nodes == 1 else 0.0
    lines = [
        "| nodes | articles/s | x one node | articles checked by each node | "
        "article requests per article | "
        "feed fetches per feed per interval | per-host max in flight (limit) | node CPU s | "
        "warnings+errors in logs | tracebacks |",
        "|---:" * 10 + "|",
    ]
    for o in outcomes:
        intervals = o.watched / interval
        per_interval = sum(o.feed_requests.values()) / feeds / intervals if intervals else 0.0
        ratio = f"{o.articles_per_s / one:.2f}x" if one else "-"
        lines.append(
            f"| {o.nodes} | {o.articles_per_s:.1f} ({o.covered}/{o.articles} in {o.span:.1f} s) "
            f"| {ratio} | {' / '.join(map(str, o.shares))} "
            f"| {o.article_requests / max(1, o.covered):.2f} | {per_interval:.2f} | "
            f"{o.per_host_max} ({per_host}) | {o.node_cpu:.1f} | {o.errors} | {o.tracebacks} |"
        )
    return lines


def verdicts(outcomes: list[Outcome], per_host: int) -> list[str]:
    def mark(ok: bool) -> str:
        return "OK  " if ok else "MISS"

    lines = []
    by_count = {o.nodes: o for o in outcomes}
    if 1 in by_count and 3 in by_count and by_count[1].articles_per_s:
        ratio = by_count[3].articles_per_s / by_count[1].articles_per_s
        lines.append(
            f"{mark(ratio >= TARGET_RATIO)} 3 nodes >= {TARGET_RATIO}x one node: {ratio:.2f}x"
        )
    worst = max((o.per_host_max for o in outcomes), default=0)
    lines.append(
        f"{mark(worst <= per_host)} per-host in flight <= {per_host} cluster-wide: {worst}"
    )
    dup = max((o.article_requests / max(1, o.covered) for o in outcomes), default=0.0)
    lines.append(
        f"{mark(dup <= 1.05)} each article fetched once per due time: {dup:.2f} per article"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cluster", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--nodes", default="1,2,3", help="node counts, comma-separated")
    parser.add_argument("--feeds", type=int, default=60)
    parser.add_argument("--entries", type=int, default=25, help="articles per feed")
    parser.add_argument("--hosts", type=int, default=12, help="loopback addresses of the sites")
    parser.add_argument("--latency-ms", type=float, default=80.0, help="round-trip time")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="[fetch] concurrency of each node (see above)"
    )
    parser.add_argument("--feed-interval", type=float, default=10.0, help="seconds")
    parser.add_argument(
        "--seconds", type=float, default=40.0, help="least time each node count runs"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="most time per node count")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument(
        "--tree", type=Path, help="run the nodes from this source tree (default: this one)"
    )
    args = parser.parse_args()
    global TREE
    TREE = args.tree.resolve() if args.tree else ROOT
    counts = [int(n) for n in args.nodes.split(",")]
    per_host = FetchSettings().per_host_concurrency
    admin_url = make_url(os.environ.get("NEWSMONITOR_TEST_PG_URL", DEFAULT_PG_URL)).set(
        drivername="postgresql+psycopg"
    )
    for line in machine():
        print(line)
    head = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    ).stdout.strip()
    print(f"newsmonitor: nodes from {TREE}; bench from {ROOT} at {head or 'unknown'}")
    binary = ensure_nginx()
    work = Path(tempfile.mkdtemp(prefix="newsmonitor-cluster-"))
    work.chmod(0o755)  # nginx's workers run as an unprivileged user and read the newsroom
    nginx: Nginx | None = None
    proxy: Proxy | None = None
    outcomes: list[Outcome] = []
    try:
        port, public_port = free_port(), free_port()
        room = Newsroom.build(
            work / "newsroom",
            args.feeds,
            args.entries,
            1,
            f"http://127.0.0.1:{public_port}",
            args.hosts,
        )
        nginx = Nginx(binary, work / "nginx", room.web_root, port)
        proxy = Proxy(args.hosts, public_port, port, args.latency_ms)
        print(
            f"newsroom: {args.feeds} feeds x {args.entries} = {args.feeds * args.entries} "
            f"articles on {args.hosts} loopback hosts, {args.latency_ms:g} ms round trip\n"
            f"each node: [fetch] concurrency = {args.concurrency} (shipped: "
            f"{FetchSettings().concurrency}; lowered so that nodes, not this machine's "
            f"{os.cpu_count()} cores, limit), per_host_concurrency = {per_host} (shipped), "
            f"feeds every {args.feed_interval:g} s, articles job every 1 s",
            flush=True,
        )
        with database(admin_url) as seed_url:
            config = work / "seed.toml"
            # Seeding is not measured: every slot and core may help.
            write_config(config, room, seed_url, 64, args.feed_interval, workers=0)
            t = time.perf_counter()
            seeded = subprocess.run(
                newsmonitor(config, "check", "--all"), cwd=TREE, capture_output=True, text=True
            )
            if seeded.returncode not in (0, 1):
                sys.exit(f"seeding failed ({seeded.returncode}): {seeded.stderr[-2000:]}")
            print(
                f"seeded by one cold `check --all` in {time.perf_counter() - t:.0f} s", flush=True
            )
            seed_db = make_url(seed_url).database
            for count in counts:
                with database(admin_url, template=seed_db) as url:
                    config = work / f"nodes-{count}.toml"
                    write_config(config, room, url, args.concurrency, args.feed_interval)
                    print(f"{count} node(s) ...", flush=True)
                    outcome = run_nodes(
                        count, room, nginx, proxy, config, url, work, args.seconds, args.timeout
                    )
                    outcomes.append(outcome)
                    print(
                        f"  {outcome.articles_per_s:.1f} articles/s, "
                        f"{outcome.article_requests} article requests for {outcome.covered} "
                        f"articles, statuses {dict(outcome.statuses)}",
                        flush=True,
                    )
    finally:
        if proxy is not None:
            proxy.stop()
        if nginx is not None:
            nginx.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    for line in report(outcomes, args.feeds, args.feed_interval, per_host):
        print(line)
    print()
    for line in verdicts(outcomes, per_host):
        print(line)


if __name__ == "__main__":
    main()
