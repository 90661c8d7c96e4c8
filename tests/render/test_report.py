"""Report tables and lines (render/report.py): what `check`, the demo and read commands print."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

from rich.console import Console, RenderableType

from monitor.models import (
    Change,
    ChangeKind,
    CheckReport,
    Drift,
    FeedReport,
    FeedState,
    FeedStatus,
    RelayReport,
    Significance,
)
from monitor.render.report import (
    NOTHING_DUE,
    changes_table,
    drift_summary,
    feeds_table,
    print_check_report,
    print_delivery,
    print_feed_problems,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CHANGE = Change(
    ChangeKind.CHANGED,
    7,
    "world",
    "https://x/a",
    NOW,
    title="Toll [bold]rises[/bold]",
    version=2,
    previous_version=1,
    significance=Significance.MAJOR,
    tags=("numbers",),
)
FEEDS = (
    FeedReport("world", FeedStatus.OK, 200, 3),
    FeedReport("wire", FeedStatus.ERROR, error="HTTP 500"),
    FeedReport("local", FeedStatus.OK, 200, 1, warning="malformed XML"),
)


def console() -> Console:
    return Console(record=True, width=120, file=io.StringIO())


def text(renderable: RenderableType) -> str:
    out = console()
    out.print(renderable)
    return out.export_text()


def test_check_report_prints_tables_then_notes_on_the_other_console() -> None:
    out, notes = console(), console()
    report = CheckReport(
        FEEDS, (CHANGE,), 4, errors=("https://x/b: HTTP 500",), store_errors=("https://x/c",)
    )
    print_check_report(out, notes, report)
    tables = out.export_text()
    assert "Changes" in tables and "Check summary" in tables
    assert "Toll [bold]rises[/bold]" in tables and "v1→v2" in tables
    assert notes.export_text().splitlines() == [
        "feed wire: HTTP 500",
        "feed local: malformed XML",
        "error: https://x/b: HTTP 500",
        "not stored: https://x/c",
    ]


def test_a_check_with_nothing_due_says_so_and_prints_no_change_table() -> None:
    out, notes = console(), console()
    print_check_report(out, notes, CheckReport((FeedReport("world", FeedStatus.SKIPPED),), (), 0))
    tables = out.export_text()
    assert "Changes" not in tables and "Check summary" in tables
    assert notes.export_text() == NOTHING_DUE + "\n"


def test_feed_problems_as_the_demo_words_them_and_the_relay_line() -> None:
    out = console()
    print_feed_problems(out, FEEDS, failed=" failed")
    print_delivery(out, RelayReport(delivered=2, retried=1, errors=["hook: HTTP 500"]))
    assert out.export_text().splitlines() == [
        "feed wire failed: HTTP 500",
        "feed local: malformed XML",
        "alerts: 2 delivered, 1 queued for retry, 0 dead",
        "alert error: hook: HTTP 500",
    ]


def test_feeds_table_and_drift_summary() -> None:
    state = FeedState("world", "https://x/rss", last_checked=NOW, last_status=200, entries=3)
    table = text(feeds_table([("world", "https://x/rss", state), ("new", "https://y/", None)]))
    assert "ok (200)" in table and "2026-11-28 12:00" in table and "never checked" in table
    drift = Drift("s", 0.825, 2, 1, 1, numbers_added=("40,000",), numbers_removed=("30,000",))
    assert drift_summary(drift) == (
        "82% like the seed; sentences +2 -1 ~1; figures 30,000 -> 40,000"
    )
    assert drift_summary(None) == ""
    seeded = replace(CHANGE, seed_id="s", drift=drift)
    row = text(changes_table([seeded]))
    assert "seed s" in row and "82% like the seed" in row
