"""Short phrases every rendering of a diff shares: times, side labels, the stats line."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from monitor.models import DiffStats, SentenceDiff

# Readers know these names better than the dataclass field names.
FIELD_NAMES = {
    "headline": "Headline",
    "feed_title": "Feed title",
    "byline": "Byline",
    "published": "Published",
    "modified": "Modified",
    "canonical_url": "Canonical URL",
}


def field_name(field: str) -> str:
    return FIELD_NAMES.get(field, field.replace("_", " ").capitalize())


def format_time(moment: datetime) -> str:
    """Minutes in UTC: precise enough to tell versions apart at a glance."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def side_label(label: str, moment: datetime | None) -> str:
    """A side's label with its time appended, unless the label already carries it."""
    if moment is None:
        return label
    stamp = format_time(moment)
    return label if stamp in label else f"{label} ({stamp})"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def stats_line(stats: DiffStats) -> str:
    """One line of counts, e.g. "+3 words, -1 word; sentences: 1 added, ...; 92% similar"."""
    words = f"+{_plural(stats.words_added, 'word')}, -{_plural(stats.words_removed, 'word')}"
    sentences = (
        f"sentences: {stats.sentences_added} added, {stats.sentences_removed} removed, "
        f"{stats.sentences_edited} edited, {stats.sentences_moved} moved"
    )
    return f"{words}; {sentences}; {percent(stats.similarity)} similar"


def percent(share: float) -> str:
    """A share as a percentage that never rounds a difference away ("99.8%", not "100%")."""
    if 0.99 < share < 1:
        return f"{math.floor(share * 1000) / 10:.1f}%"
    return f"{math.floor(share * 100):.0f}%" if share < 1 else "100%"


def moved_note(sentence: SentenceDiff) -> str:
    """Where a moved sentence came from, in 1-based sentence numbers of the old text."""
    if sentence.old_index is None:
        return "moved"
    return f"moved from sentence {sentence.old_index + 1}"


TIMED_OUT_NOTE = "The texts differ too much to compare word by word in time: shown as a rewrite."
NO_DIFFERENCES = "No differences between these versions."
