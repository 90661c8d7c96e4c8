"""Pure classification (monitor/classify.py): hand-made edits with their significance and tags."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.classify import _CORRECTION, _Lines, _word_count, classify, numbers_in, quotations_in
from monitor.config import ClassifyRules
from monitor.diff import diff_versions
from monitor.feeds import parse_feed
from monitor.models import Significance, Version
from monitor.normalize import normalize_text

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"

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
    rules = ClassifyRules().thresholds()
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


# --- typography is not an edit (issue 14) --------------------------------------------------

TYPESET_MIDDLE = MIDDLE.replace(
    '"This is a good day for the city,"', "“This is a good day for the city,”"
)


@pytest.mark.parametrize(
    ("what", "old_text", "new_text"),
    [
        ("double quotes curled", STORY, STORY.replace(MIDDLE, TYPESET_MIDDLE)),
        (
            "an apostrophe curled inside a quotation",
            STORY.replace("This is a good day", "This isn't a bad day"),
            STORY.replace("This is a good day", "This isn’t a bad day"),
        ),
        (
            "single quotes curled",
            STORY.replace("said the mayor", "said the 'newly elected' mayor"),
            STORY.replace("said the mayor", "said the ‘newly elected’ mayor"),
        ),
        (
            "a hyphen in the lede became an em dash",
            STORY.replace("long debate.", "long debate - a record."),
            STORY.replace("long debate.", "long debate—a record."),
        ),
        ("three dots became an ellipsis", STORY, STORY.replace("courts.", "courts…")),
        ("full-width figures", STORY, STORY.replace("30,000", "３０,０００")),
        ("a superscript", STORY + " 3 km2.", STORY + " 3 km²."),
        ("a ligature", STORY + " The final figure.", STORY + " The ﬁnal ﬁgure."),
    ],
)
def test_a_typography_only_change_is_cosmetic_without_tags(what, old_text, new_text):
    old = replace(BASE, text=old_text)
    result = verdict(edited(new_text), old=old, now=T0 + timedelta(days=30))
    assert (result.significance, result.tags) == (Significance.COSMETIC, ())


def test_typography_in_the_headline_and_byline_is_cosmetic():
    old = replace(BASE, title='Council\'s "yes" to harbour plan - at last', byline="Jo O'Neil")
    new = edited(title="Council’s “yes” to harbour plan — at last", byline="Jo O’Neil")
    assert (verdict(new, old=old).significance, verdict(new, old=old).tags) == (
        Significance.COSMETIC,
        (),
    )


def test_curly_apostrophes_do_not_count_as_changed_words():
    # Ten contractions curled and one word edited: a minor edit, not a major one.
    contractions = " ".join(f"They don't know, item {n} isn't done." for n in range(10))
    old = replace(BASE, text=STORY + "\n\n" + contractions)
    curled = contractions.replace("'", "’")
    new = edited(STORY.replace("short", "long").replace("long debate", "heated debate"))
    new = replace(new, text=new.text + "\n\n" + curled)
    result = verdict(new, old=old)
    assert result.significance == Significance.MINOR
    assert result.tags == ("lede",)


def test_a_typo_fix_among_curled_quotes_is_still_cosmetic():
    new = edited(STORY.replace(MIDDLE, TYPESET_MIDDLE).replace("decision", "decisoin"))
    assert verdict(new).significance == Significance.COSMETIC


def test_changed_words_inside_curled_quotes_still_tag_quotes():
    new = edited(STORY.replace(MIDDLE, TYPESET_MIDDLE.replace("good day", "great day")))
    assert verdict(new).tags == ("quotes",)


def test_quotations_are_found_in_every_style_and_figures_ignore_typography():
    assert quotations_in("He said 'we will wait' and left.") == {"we will wait": 1}
    assert quotations_in("He said ‘we will wait’ and left.") == {"we will wait": 1}
    assert quotations_in("「我们会等」他说") == {"我们会等": 1}
    assert quotations_in("“It isn’t over,” she said.") == {"It isn’t over,": 1}
    assert quotations_in("They're 'not quite' done, the players' union said.") == {"not quite": 1}
    assert numbers_in("３０,０００ people") == numbers_in("30,000 people") == {"30,000": 1}


# Real feeds with plenty of typography: a news site, a blog, a tech magazine.
TYPESET_FEEDS = (
    "rss-parser/input/guardian.rss",
    "netnewswire-rsparser/DaringFireball.rss",
    "netnewswire-rsparser/macworld.rss",
    "netnewswire-rsparser/cloudblog.rss",
)
_STRAIGHTEN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-"})


def straightened(text: str) -> str:
    """What a CMS that drops typesetting makes of a text: straight quotes, hyphens, dots."""
    return text.translate(_STRAIGHTEN).replace("…", "...")


def typeset(text: str) -> str:
    """What a typesetting CMS makes of a text: curly quotes, dashes, no-break and soft hyphens."""
    text = re.sub(r"(\w)'(\w)", "\\1’\\2", text)
    text = re.sub(r'"([^"\n]*)"', "“\\1”", text)
    text = text.replace(" - ", " — ").replace("...", "…")
    text = re.sub(r"\b(\w{1,2}) ", "\\1\u00a0", text)  # no-break space after short words
    return re.sub(r"(\w{4})(\w{4,})", "\\1\u00ad\\2", text)  # soft hyphens in long words


def corpus_versions() -> list[tuple[str, Version]]:
    """One version per entry of the typeset real feeds, from the entry's title and text."""
    if not (CORPORA / "real_feeds").is_dir():
        pytest.skip(f"real feeds corpus not found under {CORPORA}")
    versions = []
    for path in TYPESET_FEEDS:
        feed = parse_feed((CORPORA / "real_feeds" / path).read_bytes(), f"https://{path}")
        for entry in feed.entries:
            text, title = normalize_text(entry.summary), normalize_text(entry.title)
            versions.append((path, replace(BASE, text=text, title=title, byline=None)))
    return versions


@pytest.mark.parametrize("restyle", [straightened, typeset])
def test_real_feeds_restyled_are_cosmetic(restyle):
    restyled = 0
    for path, old in corpus_versions():
        new = replace(
            old,
            number=2,
            text=normalize_text(restyle(old.text)),
            title=normalize_text(restyle(old.title)),
        )
        if (new.text, new.title) == (old.text, old.title):
            continue
        restyled += 1
        result = verdict(new, old=old)
        assert (result.significance, result.tags) == (Significance.COSMETIC, ()), (path, old.title)
    # Of 152 entries, 114 straightened and 66 typeset change (no-break spaces and soft hyphens
    # are normalized away before a version is stored; the rest was typeset already).
    assert restyled >= 50


def test_real_feeds_quotations_edited_are_still_tagged():
    edits = 0
    for path, old in corpus_versions():
        quotations = quotations_in(old.text)
        quoted = next((q for q in quotations if len(q.split()) > 2), None)
        if quoted is None:
            continue
        if straightened(quoted) not in straightened(old.text):
            continue  # the quoted passage has typography beyond quotes and dashes
        words = quoted.split()
        words[1] = "zanzibar"
        text = straightened(old.text).replace(straightened(quoted), " ".join(words), 1)
        new = replace(old, number=2, text=text)
        edits += 1
        assert "quotes" in verdict(new, old=old).tags, (path, old.title, quoted)
    assert edits >= 10


def test_a_price_edited_in_a_short_chinese_listing_is_minor():
    # A real listing of a Chinese forum feed: words are characters, so 18.8 -> 16.8 is two
    # words of some fifty, not two of ten space-less clauses.
    if not (CORPORA / "real_feeds").is_dir():
        pytest.skip(f"real feeds corpus not found under {CORPORA}")
    path = CORPORA / "real_feeds" / "netnewswire-rsparser" / "kc0011.rss"
    entries = parse_feed(path.read_bytes(), "https://www.kc0011.net/").entries
    text = next(normalize_text(e.summary) for e in entries if "18.8元" in e.summary)
    old = replace(BASE, text=text)
    result = verdict(replace(old, number=2, text=text.replace("18.8元", "16.8元")), old=old)
    assert (result.significance, result.tags) == (Significance.MINOR, ("numbers", "lede"))


def test_a_correction_note_split_over_two_lines_is_still_one():
    """The counts come from the changed lines only, unless a note may span lines."""
    note = "\n\nCorrection\n: an earlier version misspelt the mayor's name."
    assert "correction" in verdict(edited(STORY + note)).tags
    # Already there before the edit: no new note, whatever else changed.
    before = edited(STORY + note)
    assert "correction" not in verdict(edited(STORY + note + " Updated."), old=before).tags


def test_the_changed_lines_count_notes_and_words_as_the_whole_texts_do():
    texts = [version.text for _, version in corpus_versions()[:40]]
    assert texts
    notes = ("Correction: a figure was wrong.", "Update: more to follow.", "日本語の訂正。")
    for at, text in enumerate(texts):
        lines = text.split("\n")
        lines.insert(at % (len(lines) + 1), notes[at % len(notes)])
        new = "\n".join(lines[: len(lines) - at % 3])
        changed = _Lines.of(text, new)
        whole = len(_CORRECTION.findall(new)) > len(_CORRECTION.findall(text))
        assert changed.more_corrections() == whole
        assert changed.longest() == max(_word_count(text), _word_count(new), 1)
