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
    feeds_listing,
    group_problems,
    print_check_report,
    print_delivery,
    print_feed_problems,
    problem_line,
    summary_lines,
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


def written(console: Console) -> list[str]:
    """Every line the console wrote, also those written past rich (piped listings)."""
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue().splitlines()


def test_check_report_prints_changes_and_summary_then_notes_on_the_other_console() -> None:
    out, notes = console(), console()
    report = CheckReport(
        FEEDS, (CHANGE,), 4, errors=("https://x/b: HTTP 500",), store_errors=("https://x/c",)
    )
    print_check_report(out, notes, report)
    lines = written(out)
    assert lines[1].split("\t") == [
        "changed", "7", "v1→v2", "world", "major", "Toll [bold]rises[/bold]", "numbers", CHANGE.url
    ]  # fmt: skip
    assert lines[2:] == [
        "Check summary: 3 feeds and 4 articles checked",
        "changes: 0 new, 1 changed, 0 reverted, 0 removed, 0 restored, 0 moved",
        "errors: 3 (1 feeds, 1 article pages, 1 writes not stored)",
    ]
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
    states = [("world", "https://x/rss", state), ("new", "https://y/", None)]
    table = text(feeds_listing(states, {}).table(120))
    assert "ok (200)" in table and "2026-11-28 12:00" in table and "never checked" in table
    drift = Drift("s", 0.825, 2, 1, 1, numbers_added=("40,000",), numbers_removed=("30,000",))
    assert drift_summary(drift) == (
        "82% like the seed; sentences +2 -1 ~1; figures 30,000 -> 40,000"
    )
    assert drift_summary(None) == ""
    seeded = replace(CHANGE, seed_id="s", drift=drift)
    row = text(changes_table([seeded]))
    assert "Toll [bold]rises[/bold]" in row and "seed s 82% like" in row


# What a first check of real feeds reported (issue 14): new articles whose page failed were
# warnings, so the summary said "errors 0" under 101 lines of them.
FALLBACK = "; using the feed entry's text"
WAPO_FAILURES = tuple(
    f"https://www.washingtonpost.com/politics/story-{n}/: "
    f"cannot resolve host 'www.washingtonpost.com'{FALLBACK}"
    for n in range(36)
)
SINGLE_HOSTS = tuple(
    f"http://{host}/a: cannot resolve host '{host}'{FALLBACK}"
    for host in ("eev.ee", "www.bbc.com", "nypost.com", "recode.net", "techcrunch.com")
)
FIRST_CHECK = CheckReport(
    (FeedReport("wapo", FeedStatus.OK, 200, 36), FeedReport("df", FeedStatus.OK, 200, 5)),
    (),
    41,
    errors=("https://x.example/b: HTTP 500",),
    warnings=(*WAPO_FAILURES, *SINGLE_HOSTS, "https://x.example/s: no longer matches seed s"),
)


def test_page_failures_count_as_errors_and_group_by_host_and_reason() -> None:
    assert summary_lines(FIRST_CHECK)[2:] == [
        "errors: 42 (0 feeds, 42 article pages, 0 writes not stored)",
        "warnings: 1",
    ]
    assert [problem_line(group) for group in group_problems(FIRST_CHECK)] == [
        "36 × washingtonpost.com: cannot resolve host",
        "5 hosts, one page each: cannot resolve host (bbc.com, eev.ee, nypost.com, recode.net, …)",
        "https://x.example/b: HTTP 500",
        "https://x.example/s: no longer matches seed s",
    ]


def test_on_a_terminal_the_summary_comes_last_and_new_articles_are_counted() -> None:
    screen = Console(record=True, width=80, file=io.StringIO(), force_terminal=True)
    news = tuple(
        Change(ChangeKind.NEW, n, "wapo" if n % 3 else "df", f"https://x/{n}", NOW, title="T")
        for n in range(30)
    )
    report = replace(FIRST_CHECK, changes=(*news, CHANGE))
    print_check_report(screen, screen, report, RelayReport(delivered=1))
    lines = screen.export_text().splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert sum("│ changed │" in line for line in lines) == 1 and "│ new " not in "".join(lines)
    assert "30 new articles (wapo 20, df 10); `newsmonitor articles` lists them" in lines
    assert lines[-5:] == [
        "alerts: 1 delivered, 0 queued for retry, 0 dead",
        "Check summary: 2 feeds and 41 articles checked",
        "changes: 30 new, 1 changed, 0 reverted, 0 removed, 0 restored, 0 moved",
        "errors: 42 (0 feeds, 42 article pages, 0 writes not stored)",
        "warnings: 1",
    ]
    assert len(lines) < 30


def test_feeds_show_their_failing_pages() -> None:
    state = FeedState("wapo", "https://x/rss", last_checked=NOW, last_status=200, entries=36)
    listing = feeds_listing([("wapo", "https://x/rss", state)], {"wapo": 36})
    assert listing.lines()[1].split("\t")[:3] == ["wapo", "ok (200)", "36"]
