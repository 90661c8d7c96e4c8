"""The web pages and feeds on a big archive: 100,000 versions and 20,000 changes.

Usage: ``python -m bench.web [--articles N] [--requests N] [--pg URL | --no-pg]``. Fills a
SQLite store (and a fresh schema on PostgreSQL, the test server's by default) with N
articles of 10 versions each and two changes each (new, and the latest edit with its
classified stats), starts ``newsmonitor serve`` on loopback in this process, and times
real HTTP requests: the Changes page (the first, a filtered and a deep one), an article
page with its diff (a different article each time, so each diff is computed), and the
Atom feed of 50 entries with their diffs, cold (each entry's diff rendered for the first
time) and warm (kept). Prints p50 and p95 of each against the targets of issue 18:
Changes and article pages <= 100 ms, the feed <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from monitor.config import Settings, settings_from_dict
from monitor.models import Article, Change, ChangeKind, DiffStats, Significance, Version
from monitor.store import ChangeFilter
from monitor.store.rows import to_columns
from monitor.store.schema import articles, changes, versions
from monitor.store.sql import SQLStore
from monitor.web.app import start_site, stop_site
from monitor.web.site import cursor_of

VERSIONS_PER_ARTICLE = 10
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FEEDS = ("world", "politics", "business", "science", "wire")
TARGETS_MS = {"changes": 100.0, "article": 100.0, "atom": 150.0}
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WORDS = (
    "council",
    "budget",
    "harbour",
    "minister",
    "court",
    "report",
    "police",
    "election",
    "market",
    "energy",
    "water",
    "school",
    "hospital",
    "tram",
    "senate",
    "copper",
    "glacier",
    "shipping",
    "union",
    "vote",
    "price",
    "inquiry",
    "plan",
)


def article_text(rng: random.Random, sentences: int = 14) -> list[str]:
    """About 1,500 characters of news-like sentences, with figures."""
    return [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize()
        + f" {rng.randint(2, 90)},{rng.randint(100, 999)} people."
        for _ in range(sentences)
    ]


def edited(rng: random.Random, sentences: list[str]) -> list[str]:
    """The same text with one figure and one word changed, the way articles get edited."""
    result = list(sentences)
    index = rng.randrange(len(result))
    words = result[index].split()
    words[rng.randrange(len(words))] = rng.choice(WORDS)
    result[index] = " ".join(words[:-2]) + f" {rng.randint(2, 90)},000 people."
    return result


def fill(store: SQLStore, count: int, seed: int = 7) -> None:
    """``count`` articles, ``VERSIONS_PER_ARTICLE`` versions and 2 changes each, in bulk."""
    rng = random.Random(seed)
    stats = DiffStats(2, 2, 0, 0, 1, 0, 0.98, 14)
    article_rows, version_rows, change_rows = [], [], []
    for n in range(1, count + 1):
        feed = FEEDS[n % len(FEEDS)]
        url = f"https://news.example.org/{feed}/{n}"
        first = T0 + timedelta(minutes=n)
        article = Article(
            id=n,
            feed=feed,
            url=url,
            current_url=url,
            first_seen=first,
            last_in_feed=first,
            title=f"Story {n}: {' '.join(rng.choice(WORDS) for _ in range(6))}",
            versions=VERSIONS_PER_ARTICLE,
        )
        article_rows.append(to_columns(article))
        text_now = article_text(rng)
        for number in range(1, VERSIONS_PER_ARTICLE + 1):
            if number > 1:
                text_now = edited(rng, text_now)
            version = Version(
                article_id=n,
                number=number,
                content_hash=secrets.token_hex(32),
                text="\n\n".join(text_now),
                fetched_at=first + timedelta(hours=number),
                url=url,
                title=article.title,
            )
            version_rows.append(
                {**to_columns(version), "published_offset": None, "modified_offset": None}
            )
        new = Change(ChangeKind.NEW, n, feed, url, first, article.title, 1)
        last = Change(
            ChangeKind.CHANGED,
            n,
            feed,
            url,
            first + timedelta(hours=VERSIONS_PER_ARTICLE),
            article.title,
            version=VERSIONS_PER_ARTICLE,
            previous_version=VERSIONS_PER_ARTICLE - 1,
            significance=list(Significance)[n % 4],
            tags=("numbers",) if n % 3 else ("numbers", "lede"),
            stats=stats,
        )
        for change in (new, last):
            row = to_columns(change)
            del row["id"]
            row["tags"] = json.dumps(list(change.tags)) if change.tags else None
            row["stats"] = json.dumps(asdict(change.stats)) if change.stats else None
            row["drift"] = None
            change_rows.append(row)
    with store._write("bench fill") as conn:
        for table, rows in ((articles, article_rows), (versions, version_rows)):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[start : start + 5000])
        for start in range(0, len(change_rows), 5000):
            conn.execute(insert(changes), change_rows[start : start + 5000])


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(settings: Settings, store: SQLStore, count: int, requests: int) -> dict[str, Any]:
    """Milliseconds per request of each kind, as a client on loopback sees them."""
    runner, address = await start_site(settings, store, "127.0.0.1", 0)
    base = address.rstrip("/")
    rng = random.Random(11)
    results: dict[str, list[float]] = {}
    try:
        async with aiohttp.ClientSession() as session:

            async def timed(kind: str, path: str) -> None:
                started = time.perf_counter()
                async with session.get(base + path) as response:
                    await response.read()
                    assert response.status == 200, (path, response.status)
                results.setdefault(kind, []).append((time.perf_counter() - started) * 1000)

            # The first diff builds the tokenizer's tables (once per process): not a page's cost.
            await timed("warm-up", "/")
            await timed("warm-up", f"/articles/{count}")
            for index in range(requests):
                await timed("changes", "/")
                await timed("changes", "/?feed=world&significance=major")
                await timed("changes", f"/?after={_deep_cursor(store, 5000 + index)}")
                await timed("article", f"/articles/{rng.randint(1, count)}")
            edits = ChangeFilter(kind=ChangeKind.CHANGED)
            for index in range(requests):
                # Each request is a different run of 50 edits, below the newest ones the
                # server renders at start: every diff in it is rendered for the first time.
                after = _deep_cursor(store, 500 + 50 * index, edits)
                await timed("atom-cold", f"/changes.atom?kind=changed&after={after}")
                await timed("atom", f"/changes.atom?kind=changed&after={after}")
    finally:
        await stop_site(runner)
    return {
        kind: {
            "n": len(samples),
            "p50": round(statistics.median(samples), 1),
            "p95": round(percentile(samples, 0.95), 1),
        }
        for kind, samples in results.items()
        if kind != "warm-up"
    }


def _deep_cursor(store: SQLStore, offset: int, where: ChangeFilter | None = None) -> str:
    """The cursor of the change ``offset`` rows down the Changes page (a deep page)."""
    page = store.page_changes(where or ChangeFilter(), offset + 1)
    return cursor_of(page[-1])


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server at ``url``, dropped afterwards."""
    admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    schema = f"newsmonitor_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield admin.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_one(name: str, url: str, count: int, requests: int, workdir: Path) -> dict[str, Any]:
    settings = settings_from_dict(
        {
            "storage": {"url": url},
            "seeds": {"dir": str(workdir / "seeds")},
            "feeds": [
                {"name": feed, "url": f"https://news.example.org/{feed}.xml"} for feed in FEEDS
            ],
        },
        source=workdir / "bench.toml",
    )
    with SQLStore.open(url) as store:
        started = time.perf_counter()
        fill(store, count)
        filled = time.perf_counter() - started
        counts = store.counts()
        figures = asyncio.run(measure(settings, store, count, requests))
    print(
        f"{name}: {counts['versions']:,} versions, {counts['changes']:,} changes "
        f"(filled in {filled:.1f} s)"
    )
    for kind, figure in figures.items():
        target = TARGETS_MS.get(kind.removesuffix("-cold"))
        verdict = ""
        if target is not None:
            verdict = "ok" if figure["p95"] <= target else "OVER"
            verdict = f"  target p95 <= {target:.0f} ms: {verdict}"
        print(
            f"  {kind:10} n={figure['n']:4}  p50 {figure['p50']:7.1f} ms  "
            f"p95 {figure['p95']:7.1f} ms{verdict}"
        )
    return {"store": name, "counts": counts, "fill_s": round(filled, 1), "figures": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--pg", default=os.environ.get("NEWSMONITOR_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsmonitor-bench-web-") as tmp:
        workdir = Path(tmp)
        run_one("SQLite", f"sqlite:///{workdir / 'web.db'}", args.articles, args.requests, workdir)
        if not args.no_pg:
            with pg_schema(args.pg) as url:
                run_one("PostgreSQL", url, args.articles, args.requests, workdir)


if __name__ == "__main__":
    main()
