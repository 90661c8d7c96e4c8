"""Pure classification of a version diff: how much it matters, and what kind of edit it is.

``classify`` takes both versions, their diff, the rules and ``now``; it does no I/O. The
significance ladder is cosmetic < minor < major < rewrite; tags say what changed:

- ``headline``: the page title or the feed title changed (beyond case and punctuation)
- ``byline``: the byline changed
- ``numbers``: a figure changed in an edited sentence or the headline ("30,000" -> "40,000")
- ``quotes``: words inside quotation marks changed, or a quotation was added or removed
- ``correction``: an editor's note appeared ("Correction:", "This article has been updated")
- ``lede``: the first paragraph changed
- ``deletion``: substantial text was removed
- ``reordered``: sentences moved
- ``late``: the edit came long after publication (a stealth edit is news in itself)

A figure or a quotation is never cosmetic, however few characters changed. Typography is
never an edit (issue 14): a version that differs from the last only in quotation-mark
style, dashes, ellipses, special spaces, soft hyphens and zero-width characters or NFKC
compatibility forms (``normalize.typography_fold``) is cosmetic with no tags, and within a
real edit such restyled words count as unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from monitor.models import (
    Classification,
    DiffOp,
    Op,
    SentenceStatus,
    Significance,
    TextDiff,
    Thresholds,
    Version,
    VersionDiff,
)
from monitor.normalize import CJK_CHARACTERS, straighten_quotes, typography_fold

HEADLINE_FIELDS = ("headline", "feed_title")
# A figure: digits with their thousands/decimal separators, as one token ("30,000", "3.5").
_NUMBER = re.compile(r"\d(?:[\d.,]*\d)?")
# A quotation, its marks straightened, inside one paragraph (a quotation running over
# several opens each with a mark and closes only at its end). Single quotes open after no
# word character and close before none, and take in apostrophes between letters
# ("'It isn't,'"); a passage shorter than six characters is more likely an apostrophe's.
_QUOTED = re.compile(r"\"([^\"\n]{2,})\"|(?<![\w'])'((?:[^'\n]|(?<=\w)'(?=\w)){6,}?)'(?!\w)")
# A word; each Chinese or Japanese character counts as one, as in the diff's statistics.
_WORD = re.compile(rf"[{CJK_CHARACTERS}]|[^\W{CJK_CHARACTERS}]+")
_PLAIN_WORD = re.compile(r"\w+")
_CJK = re.compile(f"[{CJK_CHARACTERS}]")
# A correction note's colon may follow its word on the next line ("Correction\n:").
_NOTE_ACROSS_LINES = re.compile(r"\n\s*:")
_CORRECTION = re.compile(
    r"\b(?:correction|clarification|editor['’]s note|update[ds]?)\s*:"
    r"|\bthis (?:article|story|report|piece) (?:has been|was) (?:updated|corrected|amended)"
    r"|\ban earlier version of this (?:article|story|report|piece)"
    r"|\bhas been (?:corrected|amended) to\b",
    re.IGNORECASE,
)


def classify(
    old: Version, new: Version, diff: VersionDiff, rules: Thresholds, now: datetime
) -> Classification:
    """The significance and tags of the change from ``old`` to ``new``."""
    if _typography_only(old, new, diff.body):
        return Classification(Significance.COSMETIC, ())
    lines = _Lines.of(old.text, new.text)
    tags = _tags(old, new, diff, rules, now, lines)
    return Classification(_significance(diff, tags, rules, lines), tuple(tags))


@dataclass(frozen=True)
class _Lines:
    """The lines only the old text has (``gone``) and only the new one has (``came``).

    Quotations, correction notes and words never span lines (a correction note that could
    is looked for in the whole texts), so their counts differ by what these lines hold.
    Searching them rather than both whole texts saves milliseconds on a long article with
    a few lines changed (quotations), and most of the rest of the classification (issue 16).
    """

    old: str
    new: str
    gone: str
    came: str

    @classmethod
    def of(cls, old: str, new: str) -> _Lines:
        old_lines, new_lines = Counter(old.split("\n")), Counter(new.split("\n"))
        gone = "\n".join((old_lines - new_lines).elements())
        came = "\n".join((new_lines - old_lines).elements())
        return cls(old, new, gone, came)

    def more_corrections(self) -> bool:
        """Whether the new text has more correction notes than the old one."""
        if _NOTE_ACROSS_LINES.search(self.old) or _NOTE_ACROSS_LINES.search(self.new):
            old, new = self.old, self.new
        else:
            old, new = self.gone, self.came
        return len(_CORRECTION.findall(new)) > len(_CORRECTION.findall(old))

    def longest(self) -> int:
        """The word count of the longer text (at least 1)."""
        if _CJK.search(self.old) or _CJK.search(self.new):
            return max(_word_count(self.old), _word_count(self.new), 1)
        old = len(_PLAIN_WORD.findall(self.old))
        new = old - len(_PLAIN_WORD.findall(self.gone)) + len(_PLAIN_WORD.findall(self.came))
        return max(old, new, 1)


def _tags(
    old: Version,
    new: Version,
    diff: VersionDiff,
    rules: Thresholds,
    now: datetime,
    lines: _Lines,
) -> list[str]:
    body = diff.body
    tags: list[str] = []
    headlines = [f for f in diff.fields if f.field in HEADLINE_FIELDS]
    if any(_fold(f.old) != _fold(f.new) for f in headlines):
        tags.append("headline")
    if any(f.field == "byline" and _fold(f.old) != _fold(f.new) for f in diff.fields):
        tags.append("byline")
    # Sentences left as they were cannot have changed a figure: only the others are read.
    pairs = [(s.old, s.new) for s in body.sentences if s.old and s.new and s.old != s.new]
    pairs += [(f.old or "", f.new or "") for f in headlines]
    if body.timed_out:
        pairs.append(("".join(_side(body.ops, Op.DELETE)), "".join(_side(body.ops, Op.INSERT))))
    if any(numbers_in(a) != numbers_in(b) for a, b in pairs):
        tags.append("numbers")
    if _quoted_words(lines.gone) != _quoted_words(lines.came):
        tags.append("quotes")
    if lines.more_corrections():
        tags.append("correction")
    if any(s.paragraph == 0 and s.status != SentenceStatus.UNCHANGED for s in body.sentences):
        tags.append("lede")
    if any(s.status == SentenceStatus.MOVED for s in body.sentences):
        tags.append("reordered")
    stats = body.stats
    if stats.words_removed - stats.words_added >= rules.deletion_words:
        tags.append("deletion")
    published = new.published or old.published or old.fetched_at
    if (tags or not _body_cosmetic(body.ops)) and now - published >= rules.late_after:
        tags.append("late")
    return tags


def _significance(
    diff: VersionDiff, tags: list[str], rules: Thresholds, lines: _Lines
) -> Significance:
    body = diff.body
    stats = body.stats
    if body.timed_out or stats.similarity < rules.rewrite_similarity:
        return Significance.REWRITE
    substantive = {"numbers", "quotes", "headline", "byline"} & set(tags)
    if not substantive and (_body_cosmetic(body.ops) or _typo_only(body.ops, rules.typo_chars)):
        return Significance.COSMETIC
    changed = _changed_words(body)
    longest = lines.longest()
    if (
        changed >= rules.major_words
        or changed / longest >= rules.major_ratio
        or {"headline", "correction", "deletion"} & set(tags)
    ):
        return Significance.MAJOR
    return Significance.MINOR


def _typography_only(old: Version, new: Version, body: TextDiff) -> bool:
    """Whether the two versions differ in typography at most, in every compared field."""
    fields = ((old.title, new.title), (old.feed_title, new.feed_title), (old.byline, new.byline))
    if not all(a == b or _restyled(a or "", b or "") for a, b in fields):
        return False
    if old.text == new.text:
        return True
    # Most edits are real: one changed run of words settles it without folding whole texts
    # (a few milliseconds each); only a text whose every run is restyled is folded whole.
    if not body.timed_out and not all(_restyled(r, a) for r, a in _hunks(body.ops)):
        return False
    return _restyled(old.text, new.text)


def _changed_words(body: TextDiff) -> int:
    """Words added, removed or edited, sentence by sentence: a moved sentence costs nothing,
    nor does a word only restyled ("don't" -> "don’t")."""
    if body.timed_out or not body.sentences:
        return body.stats.words_added + body.stats.words_removed
    total = 0
    for sentence in body.sentences:
        if sentence.status == SentenceStatus.ADDED:
            total += _word_count(sentence.new)
        elif sentence.status == SentenceStatus.DELETED:
            total += _word_count(sentence.old)
        else:
            total += sum(
                _word_count(removed) + _word_count(added)
                for removed, added in _hunks(sentence.ops)
                if not _restyled(removed, added)
            )
    return total


def _restyled(removed: str, added: str) -> bool:
    """Whether a replacement changes typography only."""
    return typography_fold(removed) == typography_fold(added)


def _word_count(text: str | None) -> int:
    text = text or ""
    # The CJK-aware pattern is several times slower than \w+, which counts the same
    # wherever there is no Chinese or Japanese.
    return len((_WORD if _CJK.search(text) else _PLAIN_WORD).findall(text))


def _body_cosmetic(ops: Iterable[DiffOp]) -> bool:
    """Whether the texts differ only in whitespace, punctuation and case."""
    ops = list(ops)
    return _fold("".join(_side(ops, Op.DELETE, keep_equal=True))) == _fold(
        "".join(_side(ops, Op.INSERT, keep_equal=True))
    )


def _typo_only(ops: Iterable[DiffOp], max_chars: int) -> bool:
    """Whether every change is a small edit inside one word (no figures), within budget."""
    budget = max_chars
    for removed, added in _hunks(ops):
        if _restyled(removed, added):
            continue
        if any(ch.isspace() for ch in removed + added) or not removed or not added:
            return False
        if _NUMBER.search(removed) or _NUMBER.search(added):
            return False
        budget -= _edit_distance(removed, added)
        if budget < 0:
            return False
    return True


def _hunks(ops: Iterable[DiffOp]) -> Iterator[tuple[str, str]]:
    """(removed, added) for each run of non-equal ops."""
    removed: list[str] = []
    added: list[str] = []
    for op, text in ops:
        if op == Op.EQUAL:
            if removed or added:
                yield "".join(removed), "".join(added)
                removed, added = [], []
        elif op == Op.DELETE:
            removed.append(text)
        else:
            added.append(text)
    if removed or added:
        yield "".join(removed), "".join(added)


def _side(ops: Iterable[DiffOp], side: Op, keep_equal: bool = False) -> Iterator[str]:
    return (text for op, text in ops if op == side or (keep_equal and op == Op.EQUAL))


def quotations_in(text: str | None) -> Counter[str]:
    """The quoted passages in ``text`` as written, whitespace folded, with how often each
    occurs; found in any quotation-mark style (“”, "", „“, «», ‘’, '', 「」)."""
    text = text or ""
    found: Counter[str] = Counter()
    for match in _QUOTED.finditer(straighten_quotes(text)):
        start, end = match.span(1) if match.group(1) is not None else match.span(2)
        found[" ".join(text[start:end].split())] += 1
    return found


def _quoted_words(text: str) -> Counter[str]:
    """The quotations of a text by their words, what the ``quotes`` tag compares.

    Only words count: a change of quotation-mark style, of punctuation or of typography
    inside (“don’t” for "don't") is no change of what was quoted (issue 14). Whole texts
    are compared, not sentences: the splitter cuts a quotation of several sentences apart,
    and a moved quotation leaves the multiset as it was.
    """
    return Counter(
        " ".join(_WORD.findall(typography_fold(passage).casefold()))
        for passage in quotations_in(text).elements()
    )


def numbers_in(text: str) -> Counter[str]:
    """The figures in ``text`` ("30,000", "3.5"), with how often each occurs; full-width and
    superscript digits count as the plain ones they stand for."""
    # Only NFKC matters to digits (full-width, superscript); ASCII has nothing to fold.
    return Counter(_NUMBER.findall(text if text.isascii() else unicodedata.normalize("NFKC", text)))


def _fold(text: str | None) -> str:
    """Text with case, punctuation and whitespace removed: what a cosmetic edit can't change."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance; the strings are single words, so the quadratic table is tiny."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]
