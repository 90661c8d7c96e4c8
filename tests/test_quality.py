"""The quality gate: block, challenge and paywall pages and collapsed extractions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from monitor.models import Version
from monitor.quality import (
    COLLAPSE_MIN_WORDS,
    SHORT_PAGE_WORDS,
    suspect_reason,
    swing_note,
    word_count,
    words_of,
)

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def version(text: str, title: str | None = None) -> Version:
    return Version(1, 1, "", text, NOW, "https://x.org/a", title=title)


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


@pytest.mark.parametrize(
    ("latest", "new", "reason"),
    [
        (None, version("Just a moment..."), "block"),
        (None, version(words(10), title="Access denied"), "block"),
        (None, version("Subscribe now to continue reading. " + words(20)), "block"),
        (None, version("Please enable JavaScript and cookies"), "block"),
        # A long article that quotes such a phrase is still the article.
        (None, version("Page not found. " + words(SHORT_PAGE_WORDS)), None),
        (version(words(200)), version(words(60)), "collapsed from 200 to 60 words"),
        (version(words(200)), version(words(80)), None),
        # Short articles may shrink a lot: only a text of some length can collapse.
        (version(words(COLLAPSE_MIN_WORDS - 1)), version(words(5)), None),
        (None, version(words(5)), None),
    ],
)
def test_suspect_reason(latest: Version | None, new: Version, reason: str | None) -> None:
    found = suspect_reason(latest, new)
    if reason is None:
        assert found is None
    else:
        assert found is not None and reason in found


def test_swing_note_flags_an_unstable_page() -> None:
    assert swing_note(1) == "a suspect fetch was not confirmed by the next one"
    assert "swings between fetches (2 times)" in swing_note(2)


def test_a_word_count_known_already_is_not_counted_again() -> None:
    # Counted by the worker that extracted the page, or stored with the version: the gate
    # takes that count (here deliberately not the text's, to tell the two apart).
    latest = version(words(200))
    assert words_of(latest) == word_count(latest.text) == 200
    assert suspect_reason(latest, replace(version(words(60)), words=150)) is None
    assert suspect_reason(replace(latest, words=1000), version(words(300))) is not None
