"""Throughput of one `check` pass over a loopback site with many articles.

Usage: ``python -m bench.pipeline [--articles N] [--db sqlite|postgresql]``. Prints the time
of the first pass (every article new: fetch, extract, store), of a second pass over
unchanged pages fetched whole (fetch, extract, compare), of a third where every page
answers 304 (one conditional request each), and articles per second for each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config import settings_from_dict
from monitor.pipeline import check_once
from monitor.store.sql import open_store
from tests.webserver import Reply, WebServer

PARAGRAPH = (
    "The council met on {day} to discuss item {n} of the agenda, which concerns the harbour, "
    "the budget and the new tram line; the debate lasted {n} minutes and ended with a vote."
)


def article(n: int) -> str:
    body = "".join(f"<p>{PARAGRAPH.format(day=d, n=n)}</p>" for d in ("Monday", "Tuesday"))
    return (
        f"<html><head><title>Story {n}</title></head><body><nav>Home</nav>"
        f"<article><h1>Story {n}</h1>{body}<p>Paragraph {n} closes the story.</p></article>"
        "<footer>Footer</footer></body></html>"
    )


def serve(web: WebServer, count: int, validators: bool) -> None:
    items = "".join(
        f"<item><title>Story {n}</title><link>{web.url(f'/a/{n}')}</link></item>"
        for n in range(count)
    )
    web.set("/feed", Reply(f'<rss version="2.0"><channel><title>b</title>{items}</channel></rss>'))
    for n in range(count):
        etag = f'"{n}"' if validators else None
        web.set(f"/a/{n}", Reply(article(n), etag=etag))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    web = WebServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = (
                f"sqlite:///{Path(tmp) / 'bench.db'}"
                if args.db == "sqlite"
                else os.environ.get(
                    "NEWSMONITOR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
                )
            )
            settings = settings_from_dict(
                {
                    "feeds": [{"name": "bench", "url": web.url("/feed")}],
                    "fetch": {"allow_private_addresses": True, "per_host_concurrency": 8},
                    "storage": {"url": url},
                }
            )
            store = open_store(url)
            now = datetime.now(UTC)
            # Validators appear in pass 2, so pass 3 is answered with 304s throughout.
            passes = [("new articles", False), ("unchanged, fetched whole", True), ("304s", True)]
            for index, (label, validators) in enumerate(passes):
                serve(web, args.articles, validators)
                started = time.perf_counter()
                report = asyncio.run(
                    check_once(settings, store, now + timedelta(hours=index), force=True)
                )
                elapsed = time.perf_counter() - started
                print(
                    f"{label:28s} {report.articles_checked:5d} articles  {elapsed:6.2f}s  "
                    f"{report.articles_checked / elapsed:7.1f} articles/s  "
                    f"{len(report.changes)} changes"
                )
            store.close()
    finally:
        web.stop()


if __name__ == "__main__":
    main()
