"""What the views share (monitor/web/site.py): filters and cursors from query strings, and
the figures line of an edit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.models import Change, ChangeKind, Significance
from monitor.web.site import (
    WebError,
    cursor_of,
    figures_changed,
    filter_query,
    parse_cursor,
    parse_filter,
)


def test_filters_read_back_the_query_that_made_them() -> None:
    query = {
        "feed": "world",
        "seed": "000_x",
        "article": "7",
        "kind": "changed",
        "significance": "major",
        "tag": "flip-flop",
        "since": "2026-12-01",
        "until": "2026-12-03",
    }
    where = parse_filter(query)
    assert where.kind == ChangeKind.CHANGED and where.min_significance == Significance.MAJOR
    assert where.since == datetime(2026, 12, 1, tzinfo=UTC)
    assert where.until == datetime(2026, 12, 4, tzinfo=UTC)  # the whole last day
    assert filter_query(where) == query
    assert filter_query(parse_filter({"feed": " ", "tag": ""})) == {}


@pytest.mark.parametrize(
    "query", [{"kind": "edited"}, {"since": "soon"}, {"tag": "<b>"}, {"article": "x"}]
)
def test_a_bad_filter_is_a_400_naming_it(query: dict[str, str]) -> None:
    with pytest.raises(WebError) as caught:
        parse_filter(query)
    assert caught.value.status == 400 and str(caught.value).startswith(next(iter(query)))


def test_cursors_round_trip_to_the_microsecond() -> None:
    moment = datetime(2026, 12, 4, 21, 21, 43, 123456, tzinfo=UTC)
    change = Change(ChangeKind.NEW, 1, "world", "https://x", moment, id=42)
    assert parse_cursor(cursor_of(change)) == (moment, 42)
    assert parse_cursor(None) is None
    with pytest.raises(WebError):
        parse_cursor("12-x")


def test_figures_pair_what_left_with_what_came() -> None:
    assert figures_changed("30,000 homes by 2030", "40,000 homes by 2030") == "30,000 → 40,000"
    assert figures_changed("1 500 000 people", "1 600 000 people") == "1 500 000 → 1 600 000"
    assert figures_changed("a 1 b 2 c 3", "a 4 b 5 c 6") == "1 → 4; 2 → 5 …"
    assert figures_changed("still 5", "still 5, now with words") == ""
