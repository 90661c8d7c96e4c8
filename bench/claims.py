"""Claiming due work at scale (issue 17): is it fast with 1,000,000 tracked articles, and
does memory stay flat?

Usage: ``python -m bench.claims [--articles 1000000] [--hosts 5000] [--due 0.05]
[--claims 300]``

Fills a fresh PostgreSQL schema (migrated to the current schema) with ``--articles``
tracked articles spread over ``--hosts`` hosts, in one INSERT ... SELECT on the server;
``--due`` of them are due now (scattered over the last hour), the rest later today. Then,
as three nodes taking turns would, it claims hosts (``claim_hosts``: each node's share of
the hosts with due articles, most overdue first, past the hosts the other nodes hold), reads
a round of the claimed hosts' due articles (``due_on_hosts``) and releases the hosts; each node
keeps some hosts held meanwhile, so every claim looks past hosts held by live leases.
Prints the p50/p95/max of each of the three calls and of the claim query alone, as the
store runs it and on the server (EXPLAIN ANALYZE: this machine's load disturbs it least),
target ≤ 20 ms at p95; and this process's resident memory every ``--claims``/5 rounds
(target: flat).

PostgreSQL: ``NEWSMONITOR_TEST_PG_URL`` or postgresql://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, text

from bench.shared_store import pg_schema
from monitor.models import HostClaim
from monitor.pipeline import ROUND_TRIPS
from monitor.store.claims import hosts_to_claim
from monitor.store.sql import SQLStore

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NODES = ("node-a", "node-b", "node-c")
LEASE = timedelta(minutes=2)
FEEDS = [f"feed-{n}" for n in range(200)]  # every feed the fill below uses


def fill(store: SQLStore, articles: int, hosts: int, due: float, now: datetime) -> float:
    """``articles`` rows over ``hosts`` hosts, a share ``due`` of them due; seconds taken."""
    started = time.perf_counter()
    with store.engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO articles (feed, url, current_url, host, status, first_seen,
                                      last_in_feed, next_check, versions, swings, revision)
                SELECT 'feed-' || (n % 200),
                       'https://h' || (n % :hosts) || '.example/story-' || n,
                       'https://h' || (n % :hosts) || '.example/story-' || n,
                       'h' || (n % :hosts) || '.example',
                       'active', :now - interval '1 day', :now,
                       CASE WHEN random() < :due
                            THEN :now - random() * interval '1 hour'
                            ELSE :now + random() * interval '1 day' END,
                       1, 0, 0
                FROM generate_series(1, :articles) AS n
                """
            ),
            {"hosts": hosts, "now": now, "due": due, "articles": articles},
        )
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # As autovacuum leaves a table: statistics, and the visibility map that lets the
        # claim read the (next_check, host) index alone.
        conn.execute(text("VACUUM ANALYZE articles"))
    return time.perf_counter() - started


def time_claim_query(store: SQLStore) -> list[float]:
    """Times of the statement that picks the hosts to claim, as the store runs them."""
    samples: list[float] = []
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().startswith("SELECT anon_1.host"):
            samples.append(time.perf_counter() - started.pop(id(cursor)))

    event.listen(store.engine, "before_cursor_execute", before)
    event.listen(store.engine, "after_cursor_execute", after)
    return samples


def server_times(store: SQLStore, now: datetime, runs: int = 50) -> list[float]:
    """The claim query's execution time on the server (no client, no network), while the
    three nodes hold what they claimed last: the query this machine's load disturbs least."""
    from sqlalchemy.dialects import postgresql

    samples = []
    for n in range(runs):
        query = hosts_to_claim(now, NODES[n % len(NODES)])
        sql = str(
            query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        )
        with store.engine.connect() as conn:
            plan = conn.execute(text("EXPLAIN (ANALYZE) " + sql)).scalars().all()
        (line,) = [p for p in plan if p.startswith("Execution Time:")]
        samples.append(float(line.split()[2]) / 1000)
    return samples


def resident_mb() -> float:
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"p50 {statistics.median(ordered) * 1000:6.2f} ms, p95 {p95 * 1000:6.2f} ms, "
        f"max {ordered[-1] * 1000:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--hosts", type=int, default=5000)
    parser.add_argument("--due", type=float, default=0.05)
    parser.add_argument("--claims", type=int, default=300)
    args = parser.parse_args()
    url = os.environ.get("NEWSMONITOR_TEST_PG_URL", DEFAULT_PG_URL)
    now = datetime.now(UTC)
    with pg_schema(url) as schema_url:
        store = SQLStore.open(schema_url)
        try:
            seconds = fill(store, args.articles, args.hosts, args.due, now)
            with store.engine.connect() as conn:
                due = conn.execute(
                    text("SELECT count(*) FROM articles WHERE next_check <= :now"), {"now": now}
                ).scalar()
            print(
                f"{args.articles:,} articles on {args.hosts:,} hosts, {due:,} due; "
                f"filled in {seconds:.1f} s"
            )
            claims: list[float] = []
            reads: list[float] = []
            releases: list[float] = []
            held: dict[str, list[str]] = {node: [] for node in NODES}
            memory = [resident_mb()]
            selects = time_claim_query(store)
            for n in range(args.claims):
                node = NODES[n % len(NODES)]
                claim = HostClaim(node, now, now + LEASE, nodes=len(NODES), limit=64)
                started = time.perf_counter()
                hosts = store.claim_hosts(claim)
                claims.append(time.perf_counter() - started)
                started = time.perf_counter()
                # A round's read, as the daemon makes it (issue 17's short rounds).
                store.due_on_hosts(now, hosts, FEEDS, per_host=2 * ROUND_TRIPS)
                reads.append(time.perf_counter() - started)
                # Each node keeps its last round's hosts held while it claims the next.
                started = time.perf_counter()
                store.release_claims(node, "host", held[node])
                releases.append(time.perf_counter() - started)
                held[node] = hosts
                if (n + 1) % max(1, args.claims // 5) == 0:
                    memory.append(resident_mb())
            print(f"claim query, as the store runs it: {percentiles(selects)}")
            served = server_times(store, now)
            print(f"claim query, on the server (EXPLAIN ANALYZE): {percentiles(served)}")
            print(f"claim_hosts, the whole transaction ({len(claims)}): {percentiles(claims)}")
            print(f"due_on_hosts, a round's read of the claimed hosts: {percentiles(reads)}")
            print(f"release_claims: {percentiles(releases)}")
            print("resident memory, MB: " + " -> ".join(f"{mb:.1f}" for mb in memory))
        finally:
            store.close()


if __name__ == "__main__":
    main()
