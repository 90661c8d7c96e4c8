"""Word- and sentence-level diffs of two article texts, with summary statistics.

Pure functions, no I/O. The word diff is diff-match-patch's algorithm run on words rather than
characters: every distinct token becomes one Unicode code point (the library's
``linesToChars`` trick), the C++ ``fast_diff_match_patch`` diffs the code strings with its
semantic cleanup, and the result maps back to tokens, so an edit never splits a word. The
pure-Python ``diff_match_patch`` stands in when the C++ extension is missing or fails.

On top of it, ``align_sentences`` pairs the sentences of both texts the NewsEdits way:
identical sentences first (in order: unchanged; out of order: moved), then the remaining ones
by word similarity (edited, or moved when also out of order), the rest added or deleted.

Every diff is bounded by a time limit. When it is hit the word diff degrades to one deletion
and one insertion between the common prefix and suffix (``timed_out``), never to a wrong diff:
joined, the EQUAL and DELETE texts are always the old text and EQUAL and INSERT the new one.
"""

from __future__ import annotations

import heapq
import math
import re
import time
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, cached_property
from itertools import accumulate, chain, islice
from operator import itemgetter
from typing import Any

from diff_match_patch import diff_match_patch

from monitor.models import (
    DiffOp,
    DiffStats,
    FieldChange,
    Op,
    SentenceDiff,
    SentenceStatus,
    TextDiff,
    Version,
    VersionDiff,
)
from monitor.normalize import CJK_CHARACTERS

# Two leftover sentences are paired as one edited sentence when at least half of their words
# survive the word diff (2 * unchanged words / all words). Below that a reader sees a new
# sentence rather than an edit, and NewsEdits found 0.5 to separate the two well.
SIMILARITY_THRESHOLD = 0.5

# Code points available for tokens: U+0001..U+10FFFF without the surrogates, which are not
# characters. U+0000 is skipped: C code may take it for the end of a string.
_SURROGATES = range(0xD800, 0xE000)
_MAX_DISTINCT_TOKENS = 0x10FFFF - len(_SURROGATES)

# Tokens per chunk of a long diff, tokens in an anchor (four words and their spaces), and
# how far past a chunk's start to look for one.
_CHUNK = 512
_ANCHOR = 8
_ANCHOR_SEARCH = 64

# Punctuation that often ends a word ("said," "2024."): always a token of its own.
_WORD_ENDINGS = frozenset(".,;:!?)]\"'”’»")

_CHAR_OPS = {"=": Op.EQUAL, "-": Op.DELETE, "+": Op.INSERT}

# Sentence ends: Latin, Armenian, Arabic, Urdu and Devanagari marks need whitespace after
# them; CJK full-width marks do not, since those scripts put no space between sentences.
_TERMINALS = ".!?…։؟۔।॥"
_CJK_TERMINALS = "。！？｡"
_CLOSERS = "\"'”’»)]」』）》〉】〕"
_OPENERS = "\"'“‘«„([¿¡「『（《〈【〔"
_BOUNDARY = re.compile(
    rf"[{re.escape(_TERMINALS)}]+[{re.escape(_CLOSERS)}]*\s+"
    rf"|[{_CJK_TERMINALS}]+[{re.escape(_CLOSERS)}]*\s*"
)
_HIRAGANA_FIRST, _HIRAGANA_LAST = "\u3040", "\u309f"
# Chinese and Japanese text: no spaces between words, so every character is a token.
_CJK = re.compile(f"[{CJK_CHARACTERS}]")
_PARAGRAPH = re.compile(r"\S[^\n]*")  # a line from its first visible character
_LAST_WORD = re.compile(r"\S+\Z")
_DOTTED = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")  # "U.S", "a.m": the final dot is the terminal
# Not sentence ends when followed by a capital ("Dr. Smith", "Jan. 6"). Words that commonly end
# a sentence too ("Inc.", "Jr.", "etc.", "ft.") are left out: a missed split is cheaper to
# read than two sentences glued together.
_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "mx", "dr", "prof", "st", "sen", "rep", "gov", "gen", "lt", "col"),
        *("sgt", "capt", "cmdr", "adm", "maj", "rev", "hon", "pres", "supt", "det", "insp"),
        *("mt", "vs", "approx", "dept", "univ", "fig", "vol"),
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
    }
)
_NUMBER_ABBREVIATIONS = frozenset({"no", "nos", "p", "pp", "art", "para"})  # "No. 10"


def tokenize(text: str) -> list[str]:
    """Split text into words, single punctuation marks and whitespace runs; joins back to it.

    A word is a run of letters, digits and combining marks, kept whole across apostrophes
    ("don’t") and the separators of numbers ("30,000", "3.5", "10:30"); dotted abbreviations
    ("U.S.", "e.g.") are one token. Hyphens separate words, so "Reichlin-Melnick" is three
    tokens and a changed half of a compound shows as such. Chinese characters and Japanese
    kana, written without spaces between words, are one token each, so an edit inside a
    clause shows as the characters changed ("680" -> "650"), not the whole clause.
    """
    if _CJK.search(text):
        return _token_pattern(cjk=True).findall(text)
    # Same tokens as ``_token_pattern().findall(text)`` at twice the speed: split on spaces
    # in C, take the common pieces ("word", "word,") as they are, and run the regex only on
    # the rest, merging the spaces into whatever whitespace the pieces start or end with.
    tokens: list[str] = []
    append = tokens.append
    findall = _token_pattern().findall
    for piece in text.split(" "):
        if piece.isalnum():
            append(piece)
            append(" ")
        elif piece[-1:] in _WORD_ENDINGS and piece[:-1].isalnum():
            append(piece[:-1])
            append(piece[-1])
            append(" ")
        else:
            parts = findall(piece)
            if parts and tokens and parts[0].isspace():
                tokens[-1] += parts.pop(0)  # the space before the piece
            tokens.extend(parts)
            if tokens and tokens[-1].isspace():
                tokens[-1] += " "
            else:
                append(" ")
    last = tokens.pop()  # the space after the last piece is not in the text
    if len(last) > 1:
        append(last[:-1])
    return tokens


def word_diff(old: str, new: str, timeout: float = 1.0) -> tuple[tuple[DiffOp, ...], bool]:
    """Word-level diff of two texts and whether the time limit (seconds; <= 0: none) was hit."""
    diff = _diff_tokens(tokenize(old), tokenize(new), _deadline(timeout))
    return diff.ops, diff.timed_out


def split_sentences(text: str) -> list[tuple[int, str]]:
    """The sentences of a text, each with the index of its paragraph.

    Paragraphs are separated by line breaks: the normalized text has one paragraph per block
    and a blank line between blocks, and a single line break in other input is a paragraph
    break too. A sentence ends at . ! ? … (and the Armenian, Arabic, Urdu and Devanagari
    equivalents), after any closing quotes or brackets, when whitespace and then a capital, a
    digit or an opening quote follow; at 。！？ with or without whitespace after, since
    Chinese and Japanese put none between sentences (but 「…。」と goes on). Titles, months
    and initials ("Dr.", "Jan.", "J. Smith", "U.S.") do not end one. A quotation of several
    sentences is split inside the quotes like any other text: it keeps the splitter simple
    and its pieces are still whole sentences to a reader.
    """
    return [(paragraph, text[start:end]) for paragraph, start, end in _sentence_spans(text)]


def align_sentences(old: str, new: str, timeout: float = 1.0) -> tuple[SentenceDiff, ...]:
    """Pair the sentences of two texts, in the reading order of the new one.

    Identical sentences are paired first: those in the longest in-order run are unchanged,
    the others moved. The remaining sentences are paired by word similarity, most similar
    first and at least ``SIMILARITY_THRESHOLD``: edited when in order, moved otherwise (with
    their word diff either way). Sentences left over were added or deleted.
    """
    deadline = _deadline(timeout)
    pair = _Prepared.of(old, new)
    words = _diff_tokens(pair.old_tokens, pair.new_tokens, deadline)
    return _align(*pair.sides(words.flags), words, deadline)


def diff_texts(old: str, new: str, timeout: float = 1.0) -> TextDiff:
    """Word diff, sentence alignment and summary statistics of two texts.

    The word diff and the sentence alignment each get ``timeout`` seconds, so a text too
    large to diff word by word within its limit still gets its sentences aligned.
    """
    pair = _Prepared.of(old, new)
    words = _diff_tokens(pair.old_tokens, pair.new_tokens, _deadline(timeout))
    sentences = _align(*pair.sides(words.flags), words, _deadline(timeout))
    statuses = Counter(sentence.status for sentence in sentences)
    stats = DiffStats(
        words_added=words.added_words,
        words_removed=words.removed_words,
        sentences_added=statuses[SentenceStatus.ADDED],
        sentences_removed=statuses[SentenceStatus.DELETED],
        sentences_edited=statuses[SentenceStatus.EDITED],
        sentences_moved=statuses[SentenceStatus.MOVED],
        similarity=words.similarity,
        chars_changed=sum(len(text) for op, text in words.ops if op != Op.EQUAL),
    )
    return TextDiff(words.ops, sentences, stats, words.timed_out)


def diff_versions(old: Version, new: Version, timeout: float = 1.0) -> VersionDiff:
    """The metadata fields that differ between two versions, and the diff of their bodies."""
    pairs = (
        ("headline", old.title, new.title),
        ("feed_title", old.feed_title, new.feed_title),
        ("byline", old.byline, new.byline),
        ("published", *_dates(old.published, new.published)),
        ("modified", *_dates(old.modified, new.modified)),
        ("canonical_url", old.canonical_url, new.canonical_url),
    )
    fields = tuple(FieldChange(name, a, b) for name, a, b in pairs if a != b)
    return VersionDiff(fields, diff_texts(old.text, new.text, timeout))


def _dates(old: datetime | None, new: datetime | None) -> tuple[str | None, str | None]:
    """Two dates as the pages wrote them; none when they are the same instant (a date read
    back in another offset is not an edit)."""
    if old == new:
        return None, None
    return _isoformat(old), _isoformat(new)


def _isoformat(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# --- tokens -------------------------------------------------------------------------------


@cache
def _word_class() -> str:
    """A regex class of word characters: ``\\w`` plus the combining marks of the BMP.

    Python's ``\\w`` leaves out combining marks, which would cut Hindi, Thai or Arabic words
    apart at every vowel sign. Built once, on first use (a scan of the BMP takes ~15 ms).
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code))[0] != "M":
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    marks = "".join(
        re.escape(chr(first)) + ("" if first == last else "-" + re.escape(chr(last)))
        for first, last in ranges
    )
    return rf"[\w{marks}]"


@cache
def _token_pattern(cjk: bool = False) -> re.Pattern[str]:
    """The token regex; with ``cjk``, for text with Chinese or Japanese in it.

    There each CJK character is a token and no word runs into one ("680元" is two tokens).
    The lookahead that keeps them apart costs time, so text without CJK goes without it.
    """
    word = _word_class()
    cjk_char = ""
    if cjk:
        word = f"(?:(?![{CJK_CHARACTERS}]){word})"
        cjk_char = f"|[{CJK_CHARACTERS}]"
    # Whitespace first: it is every other token, and failing it on a letter is cheap.
    return re.compile(
        r"\s+" + cjk_char + r"|[^\W\d_]\.(?:[^\W\d_]\.)+"  # U.S., e.g.
        rf"|{word}+(?:[.,:](?<=\d.)(?=\d){word}+|['’](?={word}){word}+)*"  # 30,000 3.5 don’t
        r"|.",
        re.DOTALL,
    )


def _is_word(token: str) -> int:
    """1 for a word, 0 for whitespace or a punctuation mark: summed, it counts words."""
    first = token[0]
    # A word token starts with a word character or, rarely, a combining mark.
    return int(first.isalnum() or first == "_" or unicodedata.category(first)[0] == "M")


# --- word diff ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _WordDiff:
    """A token diff, with the word counts the statistics and the sentence pairing need.

    The counts are worked out on first use: ``word_diff`` needs none of them.
    """

    ops: tuple[DiffOp, ...]
    matches: tuple[tuple[int, int, int], ...]  # EQUAL runs: old token, new token, length
    old: Sequence[str]  # the tokens
    new: Sequence[str]
    timed_out: bool

    @cached_property
    def flags(self) -> dict[str, int]:
        """Every token of both sides: 1 for a word, else 0."""
        return {token: _is_word(token) for token in dict.fromkeys(chain(self.old, self.new))}

    @cached_property
    def old_words(self) -> int:
        return sum(map(self.flags.__getitem__, self.old))

    @cached_property
    def new_words(self) -> int:
        return sum(map(self.flags.__getitem__, self.new))

    @cached_property
    def removed_words(self) -> int:
        """Words inside DELETE ops: those of the old tokens between the matches."""
        return self._words_between(self.old, [(at, length) for at, _, length in self.matches])

    @cached_property
    def added_words(self) -> int:
        return self._words_between(self.new, [(at, length) for _, at, length in self.matches])

    @property
    def similarity(self) -> float:
        """Share of the words of both sides left unchanged (of all tokens if there are none)."""
        if self.old_words or self.new_words:
            equal_words = self.old_words - self.removed_words
            return 2 * equal_words / (self.old_words + self.new_words)
        if self.old or self.new:
            equal_tokens = sum(length for _, _, length in self.matches)
            return 2 * equal_tokens / (len(self.old) + len(self.new))
        return 1.0

    def _words_between(self, tokens: Sequence[str], matches: list[tuple[int, int]]) -> int:
        count = 0
        end = 0
        for at, length in [*matches, (len(tokens), 0)]:
            count += sum(map(self.flags.__getitem__, tokens[end:at]))
            end = at + length
        return count


def _deadline(timeout: float) -> float:
    """A ``time.perf_counter`` deadline; a timeout <= 0 means none, as in diff-match-patch."""
    return time.perf_counter() + timeout if timeout > 0 else math.inf


def _diff_tokens(old: Sequence[str], new: Sequence[str], deadline: float) -> _WordDiff:
    """Diff two token lists, coarsely (one delete, one insert) when past the deadline."""
    distinct = dict.fromkeys(chain(old, new))
    prefix = _common_prefix(old, new)
    suffix = _common_suffix(old, new, prefix)
    middle_old = old[prefix : len(old) - suffix]
    middle_new = new[prefix : len(new) - suffix]
    runs: list[tuple[Op, int]] = [(Op.EQUAL, prefix)]
    timed_out = False
    if middle_old and middle_new:
        middle = _diff_middle(middle_old, middle_new, distinct, deadline)
        if middle is None:
            timed_out = True
            middle = [(Op.DELETE, len(middle_old)), (Op.INSERT, len(middle_new))]
        runs.extend(middle)
    else:
        runs.extend(((Op.DELETE, len(middle_old)), (Op.INSERT, len(middle_new))))
    runs.append((Op.EQUAL, suffix))
    return _assemble(old, new, runs, timed_out)


def _common_prefix(old: Sequence[str], new: Sequence[str]) -> int:
    limit = min(len(old), len(new))
    count = 0
    while count < limit and old[count] == new[count]:
        count += 1
    return count


def _common_suffix(old: Sequence[str], new: Sequence[str], prefix: int) -> int:
    limit = min(len(old), len(new)) - prefix  # the suffix must not overlap the prefix
    count = 0
    while count < limit and old[-1 - count] == new[-1 - count]:
        count += 1
    return count


def _diff_middle(
    old: Sequence[str], new: Sequence[str], distinct: Iterable[str], deadline: float
) -> list[tuple[Op, int]] | None:
    """Token-count runs of a diff of two token lists; None when past the deadline.

    ``distinct`` holds every token of both lists once, in order of first appearance: the
    order fixes each token's code point, and so makes the diff deterministic.
    """
    distinct = list(distinct)
    if len(distinct) > _MAX_DISTINCT_TOKENS:
        # Not enough code points to give every token its own: a fine diff is out of reach.
        return None
    codes = dict(zip(distinct, _code_chars(len(distinct)), strict=True))
    return _anchored_diff(_encode(old, codes), _encode(new, codes), deadline)


def _encode(items: Sequence[str], codes: Mapping[str, str]) -> str:
    """The code string of a non-empty sequence."""
    # itemgetter looks all items up in one C call; for one item it returns it bare, which
    # joins to the same one-character string.
    return "".join(itemgetter(*items)(codes))


def _code_chars(count: int) -> Iterable[str]:
    """``count`` distinct characters, none of them a surrogate or U+0000."""
    codes = chain(range(1, _SURROGATES.start), range(_SURROGATES.stop, 0x110000))
    return map(chr, islice(codes, count))


def _anchored_diff(old: str, new: str, deadline: float) -> list[tuple[Op, int]] | None:
    """Diff long code strings chunk by chunk, cut at sparse anchors both sides share.

    Myers' diff costs O(N·D): on a long article with scattered edits both grow with the
    length, and one diff of 13,000 tokens with 5% of the words edited takes ~4 ms in C++.
    Every ``_CHUNK`` tokens, the first run of ``_ANCHOR`` tokens found exactly once in each
    text becomes an anchor (patience diff's idea, sparsely); the anchors that keep their
    order cut the texts into chunks diffed on their own, in about a millisecond together. A
    unique stretch of equal text is where the full diff aligns anyway, so the result matches
    it except, rarely, where semantic cleanup would have merged edits across an anchor.
    """
    if min(len(old), len(new)) < 2 * _CHUNK:
        return _char_diff(old, new, deadline, semantic=True)
    candidates = []
    for start in range(_CHUNK, len(old) - _CHUNK // 2, _CHUNK):
        for at in range(start, start + _ANCHOR_SEARCH, _ANCHOR // 2):
            window = old[at : at + _ANCHOR]
            other = new.find(window)
            if (
                other >= 0
                and new.find(window, other + 1) < 0
                and old.find(window) == at
                and old.find(window, at + 1) < 0
            ):
                candidates.append((at, other))
                break
    runs: list[tuple[Op, int]] = []
    old_at = new_at = 0
    for anchor_old, anchor_new in [*_increasing_pairs(candidates), (len(old), len(new))]:
        if anchor_new < new_at:
            continue  # overlaps the previous anchor in the new text
        chunk = _char_diff(old[old_at:anchor_old], new[new_at:anchor_new], deadline, semantic=True)
        if chunk is None:
            return None
        runs.extend(chunk)
        runs.append((Op.EQUAL, min(_ANCHOR, len(old) - anchor_old)))  # 0 past the end
        old_at, new_at = anchor_old + _ANCHOR, anchor_new + _ANCHOR
    return runs


def _load_fast_diff() -> Callable[..., Any] | None:
    try:
        from fast_diff_match_patch import diff
    except ImportError:  # the pure-Python port does the same, only slower
        return None
    return diff  # type: ignore[no-any-return]


_FAST_DIFF = _load_fast_diff()


def _char_diff(
    old: str, new: str, deadline: float, *, semantic: bool
) -> list[tuple[Op, int]] | None:
    """Character-count runs of diff-match-patch's diff; None when past the deadline.

    ``semantic`` runs diff_cleanupSemantic, which folds short equalities between edits into
    them: on code strings an equality is counted in tokens, so "the" or a lone space between
    two replaced words does not survive, and the diff reads as whole phrases replaced.
    """
    if not old or not new:
        return [(Op.DELETE, len(old)), (Op.INSERT, len(new))]
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        return None
    limit = 0.0 if math.isinf(remaining) else remaining
    runs = _fast_char_diff(old, new, limit, semantic)
    if runs is None:
        runs = _python_char_diff(old, new, limit, semantic)
    if time.perf_counter() > deadline:
        # diff-match-patch gives up on the rest with a delete+insert when out of time; the
        # caller's coarse diff says the same more plainly and sets ``timed_out``.
        return None
    return runs


def _fast_char_diff(
    old: str, new: str, limit: float, semantic: bool
) -> list[tuple[Op, int]] | None:
    if _FAST_DIFF is None:
        return None
    try:
        raw = _FAST_DIFF(
            old,
            new,
            timelimit=limit,
            checklines=False,
            cleanup="Semantic" if semantic else "No",
            counts_only=True,
        )
        runs = [(_CHAR_OPS[op], count) for op, count in raw]
    except Exception:  # a C extension with undocumented errors (e.g. astral text on Windows)
        return None
    # Trust but verify: counts are in the extension's code units, which must be ours.
    old_count = sum(count for op, count in runs if op != Op.INSERT)
    new_count = sum(count for op, count in runs if op != Op.DELETE)
    return runs if (old_count, new_count) == (len(old), len(new)) else None


def _python_char_diff(old: str, new: str, limit: float, semantic: bool) -> list[tuple[Op, int]]:
    engine = diff_match_patch()
    engine.Diff_Timeout = limit
    diffs = engine.diff_main(old, new, checklines=False)
    if semantic:
        engine.diff_cleanupSemantic(diffs)
    return [(Op(op), len(text)) for op, text in diffs]


def _assemble(
    old: Sequence[str], new: Sequence[str], runs: Iterable[tuple[Op, int]], timed_out: bool
) -> _WordDiff:
    """Join token runs into ops: one DELETE then one INSERT between equalities, none empty."""
    ops: list[DiffOp] = []
    matches: list[tuple[int, int, int]] = []
    old_at = new_at = 0  # positions reached in old and new
    edit_old = edit_new = 0  # where the pending edit block started

    def flush_edits() -> None:
        if old_at > edit_old:
            ops.append((Op.DELETE, "".join(old[edit_old:old_at])))
        if new_at > edit_new:
            ops.append((Op.INSERT, "".join(new[edit_new:new_at])))

    for op, count in runs:
        if not count:
            continue
        if op == Op.DELETE:
            old_at += count
        elif op == Op.INSERT:
            new_at += count
        else:
            flush_edits()
            text = "".join(old[old_at : old_at + count])
            if ops and ops[-1][0] == Op.EQUAL:
                text = ops.pop()[1] + text
                match_old, match_new, length = matches.pop()
                matches.append((match_old, match_new, length + count))
            else:
                matches.append((old_at, new_at, count))
            ops.append((Op.EQUAL, text))
            old_at += count
            new_at += count
            edit_old, edit_new = old_at, new_at
    flush_edits()
    return _WordDiff(tuple(ops), tuple(matches), old, new, timed_out)


# --- sentences ----------------------------------------------------------------------------


def _sentence_spans(
    text: str, start: int = 0, end: int | None = None, first: int = 0
) -> list[tuple[int, int, int]]:
    """(paragraph index, start, end) of every sentence of a text, by character offsets;
    of its lines from ``start`` to ``end`` only, numbered from ``first``. A line's sentences
    depend on that line alone."""
    spans = []
    lines = _PARAGRAPH.finditer(text, start, len(text) if end is None else end)
    for paragraph, line in enumerate(lines, first):
        start, stop = line.start(), line.start() + len(line.group().rstrip())
        for boundary in _BOUNDARY.finditer(text, start, stop):
            if boundary.end() < stop and _is_sentence_end(text, start, boundary):
                spans.append((paragraph, start, boundary.start() + len(boundary.group().rstrip())))
                start = boundary.end()
        spans.append((paragraph, start, stop))
    return spans


def _starts_sentence(char: str) -> bool:
    """A digit, an opening quote, or a letter that is not lower case (caseless scripts too)."""
    return char.isdigit() or char in _OPENERS or (char.isalpha() and not char.islower())


def _is_sentence_end(text: str, paragraph_start: int, boundary: re.Match[str]) -> bool:
    following = text[boundary.end()]
    if not _starts_sentence(following):
        return False
    if _HIRAGANA_FIRST <= following <= _HIRAGANA_LAST and boundary.group().rstrip()[-1] in _CLOSERS:
        return False  # 「…。」と言った: a particle after a quotation goes on with the sentence
    at = boundary.start()
    if text[at] != "." or text[at + 1] == ".":
        return True  # !, ?, … and ".." are never abbreviations
    last = _LAST_WORD.search(text, paragraph_start, at)
    word = last.group().lstrip(_OPENERS) if last else ""
    lowered = word.lower()
    if lowered in _ABBREVIATIONS or (lowered in _NUMBER_ABBREVIATIONS and following.isdigit()):
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial: "J. Smith"
    return _DOTTED.fullmatch(word) is None


@dataclass(frozen=True)
class _Prepared:
    """Two texts' tokens and sentences, worked out once for the lines they share.

    An edit mostly leaves the text around it as it was: the lines before the first change
    and after the last are the same in both texts, and so are their tokens and sentences,
    since a line break followed by a visible character ends a token and a sentence in any
    text. Only the old text and the new one's changed middle are tokenized and split into
    sentences (about 30% of a newsroom page's comparison, issue 16).
    """

    old_tokens: list[str]
    new_tokens: list[str]
    old_spans: list[tuple[int, int, int]]
    new_spans: list[tuple[int, int, int]]
    old_offsets: list[int]
    old: str
    new: str

    @classmethod
    def of(cls, old: str, new: str) -> _Prepared:
        old_tokens = tokenize(old)
        old_offsets = list(accumulate(map(len, old_tokens), initial=0))
        old_spans = _sentence_spans(old)
        head, tail = _shared_lines(old, new)
        old_end, new_end = len(old) - tail, len(new) - tail
        first = bisect_left(old_offsets, head)
        last = bisect_left(old_offsets, old_end)
        if old_offsets[first] != head or old_offsets[last] != old_end:  # pragma: no cover
            head = tail = 0  # not at token edges after all: work the new text out whole
            first, last, old_end, new_end = 0, len(old_tokens), len(old), len(new)
        new_tokens = [*old_tokens[:first], *tokenize(new[head:new_end]), *old_tokens[last:]]
        # Sentences: the old text's in the shared head and tail, the new text's in between.
        before = bisect_left(old_spans, head, key=_span_start)
        after = bisect_left(old_spans, old_end, key=_span_start)
        lines = old_spans[before - 1][0] + 1 if before else 0
        middle = _sentence_spans(new, head, new_end, lines)
        lines = middle[-1][0] + 1 if middle else lines
        shift = len(new) - len(old)
        moved = lines - old_spans[after][0] if after < len(old_spans) else 0
        tail_spans = [(p + moved, a + shift, b + shift) for p, a, b in old_spans[after:]]
        new_spans = [*old_spans[:before], *middle, *tail_spans]
        return cls(old_tokens, new_tokens, old_spans, new_spans, old_offsets, old, new)

    def sides(self, flags: Mapping[str, int]) -> tuple[_Side, _Side]:
        """Both texts ready for the sentence alignment."""
        return (
            _Side.of(self.old, self.old_tokens, flags, self.old_spans, self.old_offsets),
            _Side.of(self.new, self.new_tokens, flags, self.new_spans),
        )


def _span_start(span: tuple[int, int, int]) -> int:
    return span[1]


def _shared_lines(old: str, new: str) -> tuple[int, int]:
    """The lengths of a head and a tail both texts share, each ending or starting at a line
    start (a line break before it, a visible character at it, in both texts) and not
    overlapping in either; (0, 0) when they share none."""
    limit = min(len(old), len(new))
    same = _same_prefix(old, new, limit)
    head = old.rfind("\n", 0, same) + 1
    while head and not (_visible(old, head) and _visible(new, head)):
        head = old.rfind("\n", 0, head - 1) + 1
    same = _same_prefix(old[::-1], new[::-1], limit - head)  # the common suffix
    # A line start inside the shared tail, with its line break shared too.
    at = old.find("\n", len(old) - same)
    while at != -1 and not (_visible(old, at + 1) and _visible(new, at + 1 + len(new) - len(old))):
        at = old.find("\n", at + 1)
    tail = len(old) - at - 1 if at != -1 else 0
    return head, tail


def _visible(text: str, at: int) -> bool:
    return at < len(text) and not text[at].isspace()


def _same_prefix(old: str, new: str, limit: int) -> int:
    """The length of the longest common prefix (at most ``limit``): slices compared in C;
    of the reversed texts, the common suffix."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if old[low:middle] == new[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class _Side:
    """One text prepared for alignment: its tokens, sentences and word counts."""

    text: str
    tokens: Sequence[str]
    spans: list[tuple[int, int, int]]  # paragraph, start and end offset of each sentence
    ranges: list[tuple[int, int]]  # the tokens of each sentence, as a slice
    words: list[int]  # words[t]: the number of words among the first t tokens

    @classmethod
    def of(
        cls,
        text: str,
        tokens: Sequence[str],
        flags: Mapping[str, int],
        spans: list[tuple[int, int, int]],
        offsets: list[int] | None = None,
    ) -> _Side:
        """``spans``: the text's sentences; ``offsets`` (of each token), where known."""
        if offsets is None:
            offsets = list(accumulate(map(len, tokens), initial=0))
        ranges = [(bisect_left(offsets, a), bisect_left(offsets, b)) for _, a, b in spans]
        words = list(accumulate(map(flags.__getitem__, tokens), initial=0))
        return cls(text, tokens, spans, ranges, words)

    def sentence(self, index: int) -> str:
        _, start, end = self.spans[index]
        return self.text[start:end]

    def word_count(self, index: int) -> int:
        start, end = self.ranges[index]
        return self.words[end] - self.words[start]


@dataclass(frozen=True)
class _Pairing:
    """The old-to-new sentence pairs found, by kind."""

    unchanged: list[tuple[int, int]]  # identical, in order
    moved: list[tuple[int, int]]  # identical, out of order
    similar: dict[tuple[int, int], tuple[tuple[DiffOp, ...], float]]  # ops and similarity


def _align(old: _Side, new: _Side, words: _WordDiff, deadline: float) -> tuple[SentenceDiff, ...]:
    """Pair identical sentences in order, then moved, then edited in place, then similar."""
    old_texts = [old.sentence(i) for i in range(len(old.spans))]
    new_texts = [new.sentence(j) for j in range(len(new.spans))]
    unchanged = _identical_in_order(old_texts, new_texts, deadline)
    old_free = set(range(len(old_texts))) - {i for i, _ in unchanged}
    new_free = set(range(len(new_texts))) - {j for _, j in unchanged}
    moved = _identical_moved(old_texts, new_texts, sorted(old_free), sorted(new_free))
    old_free -= {i for i, _ in moved}
    new_free -= {j for _, j in moved}
    similar = _pair_in_place(old, new, words, old_free, new_free, deadline)
    old_free -= {i for i, _ in similar}
    new_free -= {j for _, j in similar}
    similar.update(_pair_similar(old, new, sorted(old_free), sorted(new_free), deadline))
    return _sentence_diffs(old, new, _Pairing(unchanged, moved, similar))


def _identical_in_order(
    old: Sequence[str], new: Sequence[str], deadline: float
) -> list[tuple[int, int]]:
    """The longest in-order run of identical sentences, as (old, new) index pairs.

    A diff of the two sentence lists, each sentence a code point, gives it: its equalities
    are a longest common subsequence. Past the deadline only the common ends are kept, and
    the identical sentences in between come out as moved.
    """
    prefix = _common_prefix(old, new)
    suffix = _common_suffix(old, new, prefix)
    pairs = [(i, i) for i in range(prefix)]
    middle_old = old[prefix : len(old) - suffix]
    middle_new = new[prefix : len(new) - suffix]
    if middle_old and middle_new:
        distinct = dict.fromkeys(chain(middle_old, middle_new))
        codes = dict(zip(distinct, _code_chars(len(distinct)), strict=True))
        runs = _char_diff(
            _encode(middle_old, codes),
            _encode(middle_new, codes),
            deadline,
            semantic=False,
        )
        i = j = prefix
        for op, count in runs or ():
            if op == Op.EQUAL:
                pairs.extend(zip(range(i, i + count), range(j, j + count), strict=True))
            i += count if op != Op.INSERT else 0
            j += count if op != Op.DELETE else 0
    offset = len(new) - len(old)
    pairs.extend((i, i + offset) for i in range(len(old) - suffix, len(old)))
    return pairs


def _identical_moved(
    old: Sequence[str], new: Sequence[str], old_free: Iterable[int], new_free: Iterable[int]
) -> list[tuple[int, int]]:
    """Pair leftover identical sentences, first with first: they changed places."""
    waiting: dict[str, list[int]] = {}
    for j in reversed(list(new_free)):
        waiting.setdefault(new[j], []).append(j)
    pairs = []
    for i in old_free:
        candidates = waiting.get(old[i])
        if candidates:
            pairs.append((i, candidates.pop()))
    return pairs


def _pair_in_place(
    old: _Side,
    new: _Side,
    words: _WordDiff,
    old_free: set[int],
    new_free: set[int],
    deadline: float,
) -> dict[tuple[int, int], tuple[tuple[DiffOp, ...], float]]:
    """Pair the edited sentences that the word diff of the whole texts already aligns.

    Most edits leave a sentence where it was, and the whole-text diff then holds its word
    diff: the words it keeps equal between old sentence i and new sentence j give their
    similarity, and its ops cut to the two sentences are their diff. That is linear in the
    text, where diffing every candidate pair on its own took ~0.1 ms a pair.
    """
    shared = _shared_words(old, new, words, old_free, new_free)
    candidates = []
    for (i, j), count in shared.items():
        if not count:
            continue  # only punctuation or spaces in common
        similarity = 2 * count / (old.word_count(i) + new.word_count(j))
        if similarity >= SIMILARITY_THRESHOLD:
            candidates.append((-similarity, i, j))
    candidates.sort()
    old_at_op = list(
        accumulate((len(t) if op != Op.INSERT else 0 for op, t in words.ops), initial=0)
    )
    new_at_op = list(
        accumulate((len(t) if op != Op.DELETE else 0 for op, t in words.ops), initial=0)
    )
    pairs: dict[tuple[int, int], tuple[tuple[DiffOp, ...], float]] = {}
    paired_old: set[int] = set()
    paired_new: set[int] = set()
    for _, i, j in candidates:
        if i in paired_old or j in paired_new:
            continue
        paired_old.add(i)
        paired_new.add(j)
        cut = _cut_ops(words.ops, old_at_op, new_at_op, old.spans[i][1:], new.spans[j][1:])
        if cut is None:
            # The whole-text diff aligned the pair's edges elsewhere (a neighbour moved, say):
            # its cut would read worse than a diff of the two sentences on their own.
            diff = _diff_tokens(_sentence_tokens(old, i), _sentence_tokens(new, j), deadline)
            pairs[i, j] = (diff.ops, diff.similarity)
        else:
            ops, equal_words = _refine(cut, deadline)
            similarity = 2 * (shared[i, j] + equal_words) / (old.word_count(i) + new.word_count(j))
            pairs[i, j] = (ops, similarity)
    return pairs


def _shared_words(
    old: _Side, new: _Side, words: _WordDiff, old_free: set[int], new_free: set[int]
) -> Counter[tuple[int, int]]:
    """The words the whole-text diff keeps equal between each free old sentence i and free
    new sentence j (pairs sharing only punctuation or spaces count 0)."""
    new_sentence_at = [-1] * len(new.tokens)  # the sentence of each token; -1 between them
    for j, (start, end) in enumerate(new.ranges):
        new_sentence_at[start:end] = [j] * (end - start)
    match_starts = [match[0] for match in words.matches]
    shared: Counter[tuple[int, int]] = Counter()  # equal words of old i and new j
    for i in sorted(old_free):
        first, last = old.ranges[i]
        at = max(bisect_right(match_starts, first) - 1, 0)
        for old_at, new_at, length in words.matches[at:]:
            if old_at >= last:
                break
            low, high = max(old_at, first), min(old_at + length, last)
            while low < high:
                token = new_at + low - old_at
                j = new_sentence_at[token]
                if j < 0:
                    low += 1
                    continue
                end = min(high, low + new.ranges[j][1] - token)
                if j in new_free:
                    shared[i, j] += old.words[end] - old.words[low]
                low = end
    return shared


def _refine(ops: tuple[DiffOp, ...], deadline: float) -> tuple[tuple[DiffOp, ...], int]:
    """Re-diff the replacements of a cut that share a token; also the words that became equal.

    Semantic cleanup over the whole text folds short equalities into long edits, and a
    sentence cut out of such an edit would show "12." replaced by "15." where a diff of the
    sentence alone shows "12" replaced by "15" and the full stop kept.
    """
    refined: list[DiffOp] = []
    equal_words = 0
    for at, (op, text) in enumerate(ops):
        if op == Op.INSERT and at and ops[at - 1][0] == Op.DELETE:
            deleted, inserted = tokenize(ops[at - 1][1]), tokenize(text)
            if not {token for token in deleted if not token.isspace()}.isdisjoint(inserted):
                diff = _diff_tokens(deleted, inserted, deadline)
                refined.pop()
                refined.extend(diff.ops)
                equal_words += diff.old_words - diff.removed_words
                continue
        refined.append((op, text))
    return _merge_ops(refined), equal_words


def _cut_ops(
    ops: Sequence[DiffOp],
    old_at: Sequence[int],
    new_at: Sequence[int],
    old_span: tuple[int, int],
    new_span: tuple[int, int],
) -> tuple[DiffOp, ...] | None:
    """The part of a diff between an old and a new span, as a diff of the two spans' texts.

    None when an equality is only partly inside both spans: the diff aligned the text at
    the spans' edges with text outside the other span.
    """
    old_start, old_end = old_span
    new_start, new_end = new_span
    at = max(min(bisect_right(old_at, old_start), bisect_right(new_at, new_start)) - 2, 0)
    pieces: list[DiffOp] = []
    while at < len(ops) and (old_at[at] < old_end or new_at[at] < new_end):
        op, text = ops[at]
        old_low, old_high = old_start - old_at[at], old_end - old_at[at]
        new_low, new_high = new_start - new_at[at], new_end - new_at[at]
        if op == Op.DELETE:
            pieces.append((Op.DELETE, text[max(old_low, 0) : max(old_high, 0)]))
        elif op == Op.INSERT:
            pieces.append((Op.INSERT, text[max(new_low, 0) : max(new_high, 0)]))
        else:
            old_low, old_high = max(old_low, 0), max(min(old_high, len(text)), 0)
            new_low, new_high = max(new_low, 0), max(min(new_high, len(text)), 0)
            low, high = max(old_low, new_low), min(old_high, new_high)
            if low >= high:  # no text of this equality is inside both spans
                if old_high > old_low or new_high > new_low:
                    return None
            elif (old_low, old_high) != (new_low, new_high):
                return None
            else:
                pieces.append((Op.EQUAL, text[low:high]))
        at += 1
    return _merge_ops(pieces)


def _merge_ops(pieces: Iterable[DiffOp]) -> tuple[DiffOp, ...]:
    """Drop empty ops and merge the rest: equalities, and one DELETE then one INSERT between."""
    merged: list[DiffOp] = []
    deleted: list[str] = []
    inserted: list[str] = []
    for op, text in pieces:
        if not text:
            continue
        if op == Op.DELETE:
            deleted.append(text)
        elif op == Op.INSERT:
            inserted.append(text)
        else:
            merged.extend(_edit_block(deleted, inserted))
            deleted, inserted = [], []
            if merged and merged[-1][0] == Op.EQUAL:
                text = merged.pop()[1] + text
            merged.append((Op.EQUAL, text))
    merged.extend(_edit_block(deleted, inserted))
    return tuple(merged)


def _edit_block(deleted: list[str], inserted: list[str]) -> list[DiffOp]:
    block: list[DiffOp] = []
    if deleted:
        block.append((Op.DELETE, "".join(deleted)))
    if inserted:
        block.append((Op.INSERT, "".join(inserted)))
    return block


def _pair_similar(
    old: _Side, new: _Side, old_free: Sequence[int], new_free: Sequence[int], deadline: float
) -> dict[tuple[int, int], tuple[tuple[DiffOp, ...], float]]:
    """Pair leftover sentences by word similarity, most similar first, above the threshold.

    These are the sentences the whole-text diff did not align: moved and edited, or edited
    beyond its reach. Word diffs of every pair would be quadratic, so candidates come from an
    inverted index with prefix filtering: words are ordered rarest first, and two sentences
    whose word sets reach the Dice threshold t must share one of the rarest
    ``n - ceil(n*t/(2-t)) + 1`` words of each. Dice over the (occurrence-numbered, case-folded)
    word sets bounds the word-diff similarity from above, so pairs are word-diffed lazily,
    best bound first, and the greedy choice by true similarity is exact.
    """
    old_keys = {i: _word_keys(_sentence_tokens(old, i)) for i in old_free}
    new_keys = {j: _word_keys(_sentence_tokens(new, j)) for j in new_free}
    frequency = Counter(chain.from_iterable(chain(old_keys.values(), new_keys.values())))

    def rarest(keys: frozenset[str]) -> list[str]:
        size = len(keys)
        overlap = math.ceil(size * SIMILARITY_THRESHOLD / (2 - SIMILARITY_THRESHOLD) - 1e-9)
        ordered = sorted(keys, key=lambda key: (frequency[key], key))
        return ordered[: size - max(overlap, 1) + 1]

    index: dict[str, list[int]] = {}
    for j, keys in new_keys.items():
        for key in rarest(keys):
            index.setdefault(key, []).append(j)
    heap: list[tuple[float, int, int, bool]] = []
    for i, keys in old_keys.items():
        if not keys:
            continue
        candidates = set(chain.from_iterable(index.get(key, ()) for key in rarest(keys)))
        for j in candidates:
            other = new_keys[j]
            bound = 2 * len(keys & other) / (len(keys) + len(other))
            if bound >= SIMILARITY_THRESHOLD:
                heap.append((-bound, i, j, False))
    heapq.heapify(heap)

    pairs: dict[tuple[int, int], tuple[tuple[DiffOp, ...], float]] = {}
    diffs: dict[tuple[int, int], _WordDiff] = {}
    paired_old: set[int] = set()
    paired_new: set[int] = set()
    while heap and time.perf_counter() < deadline:
        _, i, j, exact = heapq.heappop(heap)
        if i in paired_old or j in paired_new:
            continue
        if exact:
            pairs[i, j] = (diffs[i, j].ops, diffs[i, j].similarity)
            paired_old.add(i)
            paired_new.add(j)
            continue
        diff = _diff_tokens(_sentence_tokens(old, i), _sentence_tokens(new, j), deadline)
        if diff.similarity >= SIMILARITY_THRESHOLD:
            diffs[i, j] = diff
            heapq.heappush(heap, (-diff.similarity, i, j, True))
    return pairs


def _sentence_tokens(side: _Side, index: int) -> Sequence[str]:
    start, end = side.ranges[index]
    return side.tokens[start:end]


def _word_keys(tokens: Iterable[str]) -> frozenset[str]:
    """The case-folded words of a sentence; repeats are numbered to make a multiset a set."""
    words = [token.casefold() for token in tokens if _is_word(token)]
    keys = frozenset(words)
    if len(keys) == len(words):
        return keys
    seen: Counter[str] = Counter()
    numbered = []
    for word in words:
        numbered.append(f"{word}\x00{seen[word]}" if seen[word] else word)
        seen[word] += 1
    return frozenset(numbered)


def _sentence_diffs(old: _Side, new: _Side, pairing: _Pairing) -> tuple[SentenceDiff, ...]:
    """Sentence diffs in the new text's reading order, deletions where they stood."""
    anchors = sorted(pairing.unchanged)
    anchor_old = [i for i, _ in anchors]
    in_frame = []
    for i, j in sorted(pairing.similar):
        at = bisect_left(anchor_old, i)
        before = anchors[at - 1][1] if at else -1
        after = anchors[at][1] if at < len(anchors) else len(new.spans)
        if before < j < after:
            in_frame.append((i, j))
    edited = set(_increasing_pairs(in_frame))

    entries: list[tuple[tuple[int, int, int], SentenceDiff]] = []

    def add_pair(
        status: SentenceStatus, i: int, j: int, ops: tuple[DiffOp, ...], similarity: float
    ) -> None:
        diff = SentenceDiff(
            status, old.sentence(i), new.sentence(j), i, j, new.spans[j][0], ops, similarity
        )
        entries.append(((j, 0, 0), diff))

    for i, j in pairing.unchanged:
        add_pair(SentenceStatus.UNCHANGED, i, j, (), 1.0)
    for i, j in pairing.moved:
        add_pair(SentenceStatus.MOVED, i, j, (), 1.0)
    for (i, j), (ops, similarity) in pairing.similar.items():
        status = SentenceStatus.EDITED if (i, j) in edited else SentenceStatus.MOVED
        add_pair(status, i, j, ops, similarity)

    paired_new = {entry.new_index for _, entry in entries}
    for j, (paragraph, _, _) in enumerate(new.spans):
        if j not in paired_new:
            diff = SentenceDiff(SentenceStatus.ADDED, None, new.sentence(j), None, j, paragraph)
            entries.append(((j, 0, 0), replace(diff, similarity=0.0)))

    # A deleted sentence goes after the new counterpart of the last old sentence before it
    # that stayed in order: where a reader of the new text would have met it.
    in_order = sorted([*pairing.unchanged, *edited])
    in_order_old = [i for i, _ in in_order]
    paired_old = {entry.old_index for _, entry in entries}
    for i, (paragraph, _, _) in enumerate(old.spans):
        if i in paired_old:
            continue
        at = bisect_left(in_order_old, i)
        place = in_order[at - 1][1] if at else -1
        diff = SentenceDiff(SentenceStatus.DELETED, old.sentence(i), None, i, None, paragraph)
        entries.append(((place, 1, i), replace(diff, similarity=0.0)))
    entries.sort(key=lambda entry: entry[0])
    return tuple(diff for _, diff in entries)


def _increasing_pairs(pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of pairs (sorted by old index) whose new index increases."""
    tails: list[int] = []  # tails[k]: new index ending the best run of length k + 1
    tail_at: list[int] = []  # position in pairs of that tail
    previous: list[int] = [-1] * len(pairs)
    for position, (_, j) in enumerate(pairs):
        length = bisect_left(tails, j)
        if length == len(tails):
            tails.append(j)
            tail_at.append(position)
        else:
            tails[length] = j
            tail_at[length] = position
        previous[position] = tail_at[length - 1] if length else -1
    run: list[tuple[int, int]] = []
    position = tail_at[-1] if tail_at else -1
    while position >= 0:
        run.append(pairs[position])
        position = previous[position]
    return run[::-1]
