"""Search and export on a big archive (issue 19): phrase search latency, export throughput
and the exporting process's peak memory.

Usage: ``python -m bench.evidence [--articles N] [--searches N] [--pg URL | --no-pg]``.
Fills a SQLite store (and a fresh schema on PostgreSQL) with N articles of 10 versions
each (bench/web.py's generator, bulk-loaded, then indexed with ``reindex_search``), and
prints:

- search p50/p95 for phrases quoted from stored texts (a figure and the words around it:
  found in a few articles), for phrases in no version, and for a common phrase (in over a
  quarter of the articles), as `search` runs them at its default limit (the newest 50
  articles; the check of candidates stops once they are found), the common one also on
  its 5th page (``offset`` 200) and, like quoted ones, with ``--all`` (every candidate
  read and checked), against issue 19's target of 100 ms at p95 on 100,000 versions;
- ``export --jsonl`` in a separate process: versions per second (target >= 2,000) and its
  peak RSS, at a fifth of the store and at the whole, so that flat memory shows as two
  equal figures; and a tenth with ``--sentences`` (a sentence diff per version pair).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.web import DEFAULT_PG, fill, percentile, pg_schema
from monitor.cli import main as _cli  # noqa: F401  (cli_archive is imported through cli)
from monitor.cli_archive import SEARCH_LIMIT
from monitor.store.sql import SQLStore

TARGET_SEARCH_MS = 100.0
TARGET_EXPORT_RATE = 2_000.0


def quoted_phrases(store: SQLStore, count: int, seed: int = 11) -> list[str]:
    """``count`` phrases as a reader would quote them: a figure and the words around it."""
    rng = random.Random(seed)
    total = store.counts()["articles"]
    phrases: list[str] = []
    while len(phrases) < count:
        version = store.get_version(rng.randint(1, total), rng.randint(1, 10))
        if version is None:
            continue
        figures = re.findall(r"\w+ \d+,\d+ people", version.text)
        phrases.append(rng.choice(figures))
    return phrases


def timed_searches(
    store: SQLStore, phrases: list[str], limit: int | None = SEARCH_LIMIT, offset: int = 0
) -> tuple[list[float], int]:
    """Milliseconds per search (as `search` asks: one more than it lists, to know whether
    more exist; ``limit`` None: `search --all`), and the articles listed over all of them."""
    times, found = [], 0
    for phrase in phrases:
        started = time.perf_counter()
        wanted = None if limit is None else limit + 1
        found += len(store.search_phrase(phrase, limit=wanted, offset=offset)[:limit])
        times.append((time.perf_counter() - started) * 1000)
    return times, found


def export_in_child(
    url: str, folder: Path, articles: int | None, sentences: bool = False
) -> dict[str, float]:
    """Run the export in a fresh process (its memory is the export's alone)."""
    mode = "sentences" if sentences else "plain"
    command = [sys.executable, "-m", "bench.evidence", "--export-child", url, str(folder)]
    result = subprocess.run(
        [*command, str(articles or 0), mode],
        capture_output=True,
        text=True,
        check=True,
    )
    versions, seconds, rss_mb = result.stdout.split()
    return {"versions": float(versions), "seconds": float(seconds), "rss_mb": float(rss_mb)}


def export_child(url: str, folder: str, limit: str, sentences: str) -> None:
    """The child's side: export (the first ``limit`` articles' versions, when not 0)."""
    from monitor.export import export_dataset
    from monitor.store.evidence import EvidenceTables

    with SQLStore.open(url, read_only=True) as store:
        if int(limit):
            last = int(limit)
            every = EvidenceTables.iter_versions

            def first_only(self: SQLStore, batch: int = 500):  # type: ignore[no-untyped-def]
                for version in every(self, batch):
                    if version.article_id > last:
                        return
                    yield version

            store.iter_versions = first_only.__get__(store)  # type: ignore[method-assign]
        started = time.perf_counter()
        report = export_dataset(store, Path(folder), "jsonl", sentences == "sentences")
        seconds = time.perf_counter() - started
    print(report.versions, f"{seconds:.3f}", f"{peak_rss_mb():.1f}")


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM, not ``ru_maxrss``: that one
    keeps the high-water mark of the parent it was forked from across exec."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (kilobytes,) = re.findall(r"VmHWM:\s+(\d+) kB", status)
    return int(kilobytes) / 1024


def run_one(name: str, url: str, articles: int, searches: int, workdir: Path) -> None:
    with SQLStore.open(url) as store:
        started = time.perf_counter()
        fill(store, articles)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        indexed = store.reindex_search()
        index_s = time.perf_counter() - started
        with store.engine.begin() as conn:  # what autovacuum does after a bulk load
            conn.exec_driver_sql("ANALYZE")
        print(
            f"{name}: {indexed:,} versions (filled in {filled:.1f} s, "
            f"indexed in {index_s:.1f} s: {indexed / index_s:,.0f} versions/s)"
        )
        quoted = quoted_phrases(store, searches)
        absent = [f"{phrase} abroad" for phrase in quoted]
        common = ["police report"] * max(3, searches // 10)
        store.search_phrase(quoted[0])  # warm the caches once
        kinds: list[tuple[str, list[str], int | None, int]] = [
            ("quoted", quoted, SEARCH_LIMIT, 0),
            ("absent", absent, SEARCH_LIMIT, 0),
            ("common", common, SEARCH_LIMIT, 0),
            ("common, 5th page", common, SEARCH_LIMIT, 4 * SEARCH_LIMIT),
            ("quoted, --all", quoted, None, 0),
            ("common, --all", common, None, 0),
        ]
        for kind, phrases, limit, offset in kinds:
            times, found = timed_searches(store, phrases, limit, offset)
            verdict = "ok" if percentile(times, 0.95) <= TARGET_SEARCH_MS else "OVER"
            print(
                f"  search {kind:16} n={len(times):4}  p50 {statistics.median(times):7.1f} ms"
                f"  p95 {percentile(times, 0.95):7.1f} ms  ({found / len(times):,.1f} articles"
                f" found each; target p95 <= {TARGET_SEARCH_MS:.0f} ms: {verdict})"
            )
    runs = (
        ("a fifth", articles // 5, False),
        ("all", None, False),
        ("a tenth, --sentences", articles // 10, True),
    )
    for share, limit, sentences in runs:
        figures = export_in_child(url, workdir / f"export-{name}-{share}", limit, sentences)
        rate = figures["versions"] / figures["seconds"]
        verdict = "ok" if rate >= TARGET_EXPORT_RATE else "UNDER"
        # The target is the plain export's; sentences cost a diff per pair of versions.
        target = "" if sentences else f" (target >= {TARGET_EXPORT_RATE:,.0f}: {verdict})"
        print(
            f"  export --jsonl, {share}: {figures['versions']:,.0f} versions in "
            f"{figures['seconds']:.1f} s = {rate:,.0f} versions/s{target}, "
            f"peak RSS {figures['rss_mb']:.0f} MB"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--export-child":
        export_child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--searches", type=int, default=100)
    parser.add_argument("--pg", default=os.environ.get("NEWSMONITOR_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsmonitor-bench-evidence-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'evidence.db'}"
        run_one("SQLite", url, args.articles, args.searches, workdir)
        if not args.no_pg:
            with pg_schema(args.pg) as pg_url:
                run_one("PostgreSQL", pg_url, args.articles, args.searches, workdir)


if __name__ == "__main__":
    main()
