"""Run every corpus feed through parse_feed and compare entry counts with feedparser's.

Usage: ``python bench/feed_corpus.py [CORPORA_DIR] [-v]``. ``CORPORA_DIR`` defaults to
``../shared/corpora`` next to the repository. Reads ``feedparser_tests/MANIFEST.jsonl``
and ``real_feeds/INVENTORY.tsv``; each file is parsed with the HTTP headers the manifest
gives it. A file counts as 0 entries when parse_feed raises FeedParseError (we only
raise it for documents with no entries), so the expected count is exactly feedparser
6.0.14's ``n_entries``. Exit status 1 on any mismatch, crash or timeout.
"""

from __future__ import annotations

import csv
import json
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from monitor.errors import FeedParseError
from monitor.feeds import parse_feed

DEFAULT_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
# The manifest's reference run served feedparser_tests under this address.
FEEDPARSER_TESTS_BASE = "http://127.0.0.1:8097/tests/"
REAL_FEEDS_BASE = "https://feeds.example.com/real_feeds/"
TIMEOUT_SECONDS = 10.0  # per file; the slowest one takes well under a second


@dataclass(frozen=True)
class CorpusFile:
    """One feed file with what feedparser 6.0.14 made of it."""

    path: Path
    name: str  # corpus-relative, for reports
    url: str
    headers: dict[str, str]
    expected_entries: int


@dataclass(frozen=True)
class Mismatch:
    """A file whose entry count differs from the reference."""

    name: str
    expected: int
    got: int
    error: str | None  # the FeedParseError message, when one was raised


@dataclass
class CorpusReport:
    """What one run over the corpora measured."""

    files: int = 0
    entries: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    crashes: list[tuple[str, str]] = field(default_factory=list)  # (file, "Type: message")
    errors_by_reason: Counter[str] = field(default_factory=Counter)  # FeedParseError reasons
    bozo_files: int = 0
    seconds: float = 0.0
    slowest: tuple[str, float] = ("", 0.0)

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.crashes


class _Timeout(Exception):
    """A single file took longer than TIMEOUT_SECONDS."""


def load_corpus(corpora: Path) -> list[CorpusFile]:
    """Every file listed by the two corpus manifests."""
    return [*_feedparser_tests(corpora / "feedparser_tests"), *_real_feeds(corpora / "real_feeds")]


def _feedparser_tests(folder: Path) -> Iterator[CorpusFile]:
    with (folder / "MANIFEST.jsonl").open(encoding="utf-8") as manifest:
        for line in manifest:
            if not line.strip():
                continue
            row = json.loads(line)
            yield CorpusFile(
                path=folder / row["path"],
                name=f"feedparser_tests/{row['path']}",
                url=FEEDPARSER_TESTS_BASE + row["path"],
                headers={str(k): str(v) for k, v in (row.get("http_headers") or {}).items()},
                expected_entries=int(row["ref_feedparser"]["n_entries"]),
            )


def _real_feeds(folder: Path) -> Iterator[CorpusFile]:
    with (folder / "INVENTORY.tsv").open(encoding="utf-8", newline="") as inventory:
        for row in csv.DictReader(inventory, delimiter="\t"):
            yield CorpusFile(
                path=folder / row["path"],
                name=f"real_feeds/{row['path']}",
                url=REAL_FEEDS_BASE + row["path"],
                headers={},
                expected_entries=int(row["n_entries"]),
            )


def run_corpus(corpora: Path = DEFAULT_CORPORA, verbose: bool = False) -> CorpusReport:
    """Parse every corpus file, timing each, and collect mismatches and crashes."""
    report = CorpusReport()
    started = time.perf_counter()
    for item in load_corpus(corpora):
        body = item.path.read_bytes()
        error: str | None = None
        got = 0
        began = time.perf_counter()
        try:
            with _deadline(TIMEOUT_SECONDS):
                feed = parse_feed(body, item.url, item.headers)
            got = len(feed.entries)
            report.entries += got
            report.bozo_files += feed.bozo
        except FeedParseError as exc:
            error = str(exc)
            report.errors_by_reason[_reason(error, item.url)] += 1
        except Exception as exc:  # a crash is what this benchmark exists to find
            report.crashes.append((item.name, f"{type(exc).__name__}: {exc}"))
            continue
        finally:
            took = time.perf_counter() - began
            if took > report.slowest[1]:
                report.slowest = (item.name, took)
        report.files += 1
        if got != item.expected_entries:
            report.mismatches.append(Mismatch(item.name, item.expected_entries, got, error))
        if verbose:
            print(f"{item.name}\t{got}\t{took * 1000:.1f} ms\t{error or ''}")
    report.seconds = time.perf_counter() - started
    return report


def _reason(message: str, url: str) -> str:
    """The reason part of a FeedParseError message, without the URL or line numbers."""
    reason = message.removeprefix(f"{url}: ")
    if reason.startswith("not a feed: XML syntax error"):
        return "not a feed: XML syntax error"
    return reason


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise _Timeout if the block runs too long; only in the main thread (SIGALRM)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise _Timeout(f"no result after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def print_report(report: CorpusReport) -> None:
    """Human-readable summary on stdout."""
    print(f"files parsed:       {report.files}")
    print(f"entries:            {report.entries}")
    print(f"bozo feeds kept:    {report.bozo_files}")
    print(f"crashes:            {len(report.crashes)}")
    for name, error in report.crashes:
        print(f"  {name}: {error}")
    print(f"mismatches:         {len(report.mismatches)}")
    for mismatch in report.mismatches:
        print(
            f"  {mismatch.name}: expected {mismatch.expected}, got {mismatch.got}"
            + (f" ({mismatch.error})" if mismatch.error else "")
        )
    print(f"FeedParseError:     {sum(report.errors_by_reason.values())}")
    for reason, count in report.errors_by_reason.most_common():
        print(f"  {count:5d}  {reason}")
    print(f"total time:         {report.seconds:.2f} s")
    print(f"slowest file:       {report.slowest[0]} ({report.slowest[1] * 1000:.0f} ms)")


def main(argv: list[str]) -> int:
    """Entry point: run, print, and return the exit status."""
    verbose = "-v" in argv
    paths = [arg for arg in argv if arg != "-v"]
    corpora = Path(paths[0]) if paths else DEFAULT_CORPORA
    if not (corpora / "feedparser_tests").is_dir() or not (corpora / "real_feeds").is_dir():
        print(f"corpora not found under {corpora}", file=sys.stderr)
        return 2
    report = run_corpus(corpora, verbose=verbose)
    print_report(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
