"""Phrases every rendering of a diff shares (render/summary.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.models import DiffStats, SentenceDiff, SentenceStatus
from monitor.render.summary import field_name, moved_note, percent, side_label, stats_line

NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("share", "expected"),
    [(0.0, "0%"), (0.5, "50%"), (0.985, "98%"), (0.996, "99.6%"), (0.9999, "99.9%"), (1.0, "100%")],
)
def test_percent_never_rounds_a_difference_away(share: float, expected: str) -> None:
    assert percent(share) == expected


def test_side_labels_carry_their_time_in_utc_once() -> None:
    assert side_label("v1", None) == "v1"
    assert side_label("v1", NOON) == "v1 (2026-11-28 12:00 UTC)"
    assert side_label("v1", NOON.astimezone(timezone(timedelta(hours=2)))) == (
        "v1 (2026-11-28 12:00 UTC)"
    )
    assert side_label("v1, 2026-11-28 12:00 UTC", NOON) == "v1, 2026-11-28 12:00 UTC"


def test_stats_line_field_names_and_moved_notes() -> None:
    stats = DiffStats(1, 2, 1, 0, 3, 1, 0.5)
    assert stats_line(stats) == (
        "+1 word, -2 words; sentences: 1 added, 0 removed, 3 edited, 1 moved; 50% similar"
    )
    assert field_name("headline") == "Headline" and field_name("some_field") == "Some field"
    moved = SentenceDiff(SentenceStatus.MOVED, "a", "a", old_index=3)
    assert moved_note(moved) == "moved from sentence 4"
    assert moved_note(SentenceDiff(SentenceStatus.MOVED, "a", "a")) == "moved"
