"""Pure classification (monitor/classify.py): hand-made edits with their significance and tags."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.classify import classify, numbers_in, quotations_in
from monitor.config import ClassifyRules
from monitor.diff import diff_versions
from monitor.models import Significance, Version

T0 = datetime(2025, 2, 4, 9, 0, tzinfo=UTC)
LEDE = "The council approved the harbour plan on Monday after a long debate."
MIDDLE = (
    "About 30,000 residents live near the harbour. "
    '"This is a good day for the city," said the mayor, Ana Ruiz. '
    "Work is due to start in the spring."
)
MIDDLE_REORDERED = (
    '"This is a good day for the city," said the mayor, Ana Ruiz. '
    "Work is due to start in the spring. "
    "About 30,000 residents live near the harbour."
)
LAST = "Opponents said they would appeal against the decision in the courts."
BACKGROUND = " ".join(
    f"Sentence {word} adds background about the history of the old harbour district."
    for word in ("one", "two", "three", "four")
)
STORY = "\n\n".join((LEDE, MIDDLE, LAST, BACKGROUND))
BASE = Version(
    article_id=1,
    number=1,
    content_hash="a",
    text=STORY,
    fetched_at=T0,
    url="https://news.example/harbour",
    title="Council approves harbour plan",
    byline="Jo Smith",
    published=T0,
)


def edited(text: str = STORY, **fields: object) -> Version:
    return replace(BASE, number=2, content_hash="b", text=text, **fields)


def verdict(new: Version, old: Version = BASE, now: datetime = T0 + timedelta(hours=1)):
    rules = ClassifyRules()
    return classify(old, new, diff_versions(old, new, rules.diff_timeout), rules, now)


CASES = [
    # (what, the edit of BASE, significance, tags)
    (
        "whitespace and case only",
        edited(STORY.replace("appeal against", "appeal  AGAINST")),
        Significance.COSMETIC,
        (),
    ),
    ("a typo fixed", edited(STORY.replace("decision", "decisoin")), Significance.COSMETIC, ()),
    (
        "a figure changed",
        edited(STORY.replace("30,000", "40,000")),
        Significance.MINOR,
        ("numbers",),
    ),
    (
        "a quotation changed",
        edited(STORY.replace("a good day", "a great day")),
        Significance.MINOR,
        ("quotes",),
    ),
    (
        "the headline changed",
        edited(title="Council rejects harbour plan"),
        Significance.MAJOR,
        ("headline",),
    ),
    ("the byline changed", edited(byline="Sam Jones"), Significance.MINOR, ("byline",)),
    (
        "the lede edited",
        edited(STORY.replace("after a long debate", "after a short debate")),
        Significance.MINOR,
        ("lede",),
    ),
    (
        "a correction appended",
        edited(STORY + "\n\nCorrection: an earlier version misspelt the mayor's name."),
        Significance.MAJOR,
        ("correction",),
    ),
    (
        "sentences reordered",
        edited(STORY.replace(MIDDLE, MIDDLE_REORDERED)),
        Significance.MINOR,  # a moved sentence costs no words
        ("reordered",),
    ),
    (
        "a long passage removed",
        edited(STORY.replace("\n\n" + BACKGROUND, "")),
        Significance.MAJOR,
        ("deletion",),
    ),
    (
        "rewritten from scratch",
        edited("Fog closed the airport for most of Tuesday.\n\nFlights resume tomorrow."),
        Significance.REWRITE,
        ("quotes", "lede", "deletion"),
    ),
]


@pytest.mark.parametrize(
    ("new", "significance", "tags"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_classify(new, significance, tags):
    result = verdict(new)
    assert (result.significance, result.tags) == (significance, tags)


def test_an_edit_long_after_publication_is_late():
    new = edited(STORY.replace("30,000", "40,000"))
    assert "late" not in verdict(new, now=T0 + timedelta(hours=23)).tags
    assert verdict(new, now=T0 + timedelta(hours=24)).tags == ("numbers", "late")


def test_a_cosmetic_edit_is_never_late():
    new = edited(STORY.replace("appeal against", "Appeal against"))
    assert verdict(new, now=T0 + timedelta(days=30)).tags == ()


def test_numbers_and_quotations_are_counted():
    assert numbers_in("30,000 people, 3.5 km, 30,000 again") == {"30,000": 2, "3.5": 1}
    assert quotations_in('He said "no way" and “no way”, «non».') == {"no way": 2, "non": 1}
    assert quotations_in(None) == {}
