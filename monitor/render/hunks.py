"""Pick the sentences of a body diff worth showing and group them into hunks.

One implementation for the terminal, text and HTML renderings, so all three show the
same sentences: every changed sentence, ``context`` unchanged sentences on each side,
and a count of what was left out between hunks.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from monitor.models import Op, SentenceDiff, SentenceStatus, TextDiff

PARAGRAPH_BREAK = "\n\n"
# Any line break separates paragraphs, as in the diff engine's sentence splitter.
_LINE_BREAK = re.compile(r"\s*\n\s*")

# Where a sentence sits: ("new", n) is paragraph n of the new text, ("old", n) paragraph
# n of the old text (deleted sentences that fall between new paragraphs), None unknown.
ParagraphKey = tuple[str, int] | None


@dataclass(frozen=True)
class Hunk:
    """A run of sentences to show, split into paragraphs, with the counts left out around it."""

    paragraphs: tuple[tuple[SentenceDiff, ...], ...]
    keys: tuple[ParagraphKey, ...]  # one per paragraph
    skipped_before: int  # sentences left out between the previous hunk (or the start) and this
    skipped_after: int  # sentences left out after this hunk; only the last hunk has any

    @property
    def sentences(self) -> tuple[SentenceDiff, ...]:
        return tuple(s for paragraph in self.paragraphs for s in paragraph)

    @property
    def label(self) -> str:
        """Where the hunk is, for a header: "paragraph 3", "paragraphs 3-5" (1-based)."""
        new = [key[1] for key in self.keys if key is not None and key[0] == "new"]
        if new:
            first, last = min(new) + 1, max(new) + 1
            return f"paragraph {first}" if first == last else f"paragraphs {first}-{last}"
        old = [key[1] for key in self.keys if key is not None]
        if old:
            first, last = min(old) + 1, max(old) + 1
            if first == last:
                return f"old paragraph {first}"
            return f"old paragraphs {first}-{last}"
        return "text"


def is_change(sentence: SentenceDiff) -> bool:
    return sentence.status != SentenceStatus.UNCHANGED


def body_note(body: TextDiff) -> str:
    """What to say when a body diff has no hunks to show."""
    if any(op != Op.EQUAL for op, _ in body.ops):
        return "Only spacing or paragraph breaks changed in the body text."
    return "Body text unchanged."


def has_body_changes(body: TextDiff) -> bool:
    """Whether the body differs at all, by its ops or its sentence alignment."""
    return any(op != Op.EQUAL for op, _ in body.ops) or any(is_change(s) for s in body.sentences)


def old_text(ops: tuple[tuple[Op, str], ...]) -> str:
    return "".join(text for op, text in ops if op != Op.INSERT)


def new_text(ops: tuple[tuple[Op, str], ...]) -> str:
    return "".join(text for op, text in ops if op != Op.DELETE)


def body_sentences(body: TextDiff) -> tuple[SentenceDiff, ...]:
    """The sentence alignment, or one rebuilt paragraph by paragraph from the ops.

    A diff that hit its time limit may come without an alignment; then the old text's
    paragraphs are shown deleted and the new text's added, which is what a rewrite is.
    """
    if body.sentences or not has_body_changes(body):
        return body.sentences
    old = [p for p in old_text(body.ops).split(PARAGRAPH_BREAK) if p.strip()]
    new = [p for p in new_text(body.ops).split(PARAGRAPH_BREAK) if p.strip()]
    deleted = [
        SentenceDiff(SentenceStatus.DELETED, text, None, old_index=i, paragraph=i, similarity=0.0)
        for i, text in enumerate(old)
    ]
    added = [
        SentenceDiff(SentenceStatus.ADDED, None, text, new_index=i, paragraph=i, similarity=0.0)
        for i, text in enumerate(new)
    ]
    return (*deleted, *added)


def old_paragraphs(sentences: tuple[SentenceDiff, ...], old: str) -> dict[int, int]:
    """The paragraph of the old text each old sentence stood in, keyed by ``old_index``.

    Found by looking the sentences up in the old text in order, so the numbering is the
    same for kept and deleted sentences; a sentence not found ends the search (the rest
    stay unknown rather than guessed).
    """
    breaks = [match.end() for match in _LINE_BREAK.finditer(old)]
    found: dict[int, int] = {}
    cursor = 0
    for index, text in sorted(
        (s.old_index, s.old) for s in sentences if s.old and s.old_index is not None
    ):
        position = old.find(text, cursor)
        if position < 0:
            break
        found[index] = bisect_right(breaks, position)
        cursor = position + len(text)
    return found


def paragraph_keys(
    sentences: tuple[SentenceDiff, ...], old: str | None = None
) -> tuple[ParagraphKey, ...]:
    """Each sentence's paragraph, placing deleted sentences among the new text's paragraphs.

    A deleted sentence only knows its paragraph in the old text. It joins the paragraph of
    the kept sentence before it (or else after it) when the two shared a paragraph in the
    old text, which needs ``old``, the old text, or when the kept sentences on both sides
    share a new paragraph; otherwise it stands between paragraphs and keeps its old
    paragraph number.
    """
    keys: list[ParagraphKey] = [
        None
        if s.paragraph is None
        else ("old", s.paragraph)
        if s.status == SentenceStatus.DELETED
        else ("new", s.paragraph)
        for s in sentences
    ]
    in_old = old_paragraphs(sentences, old) if old is not None else {}

    def old_paragraph(sentence: SentenceDiff) -> int | None:
        return None if sentence.old_index is None else in_old.get(sentence.old_index)

    start = 0
    while start < len(sentences):
        if sentences[start].status != SentenceStatus.DELETED:
            start += 1
            continue
        end = start
        while end < len(sentences) and sentences[end].status == SentenceStatus.DELETED:
            end += 1
        before = sentences[start - 1] if start > 0 else None
        after = sentences[end] if end < len(sentences) else None
        for i in range(start, end):
            mine = old_paragraph(sentences[i])
            if before is not None and mine is not None and old_paragraph(before) == mine:
                keys[i] = keys[start - 1]
            elif after is not None and mine is not None and old_paragraph(after) == mine:
                keys[i] = keys[end]
            elif before is not None and after is not None and keys[start - 1] == keys[end]:
                keys[i] = keys[start - 1]  # cut from the middle of a paragraph
        start = end
    return tuple(keys)


def body_hunks(body: TextDiff, context: int = 1) -> tuple[Hunk, ...]:
    """The hunks of a body diff: what every rendering shows of it."""
    return select_hunks(body_sentences(body), context, old_text(body.ops))


def select_hunks(
    sentences: tuple[SentenceDiff, ...], context: int = 1, old: str | None = None
) -> tuple[Hunk, ...]:
    """The changed sentences with ``context`` unchanged ones around each, grouped into hunks.

    ``old``, the old text, lets deleted sentences join the paragraph they were cut from.
    """
    shown = _near_changes(sentences, max(context, 0))
    keys = paragraph_keys(sentences, old)
    runs: list[tuple[int, int]] = []  # [start, end) of each run of shown sentences
    for i, visible in enumerate(shown):
        if not visible:
            continue
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    hunks: list[Hunk] = []
    previous_end = 0
    for number, (start, end) in enumerate(runs):
        last = number == len(runs) - 1
        paragraphs, paragraph_of = _split_paragraphs(sentences[start:end], keys[start:end])
        hunks.append(
            Hunk(
                paragraphs=paragraphs,
                keys=paragraph_of,
                skipped_before=start - previous_end,
                skipped_after=len(sentences) - end if last else 0,
            )
        )
        previous_end = end
    return tuple(hunks)


def _near_changes(sentences: tuple[SentenceDiff, ...], context: int) -> list[bool]:
    """Whether each sentence is within ``context`` sentences of a change (linear in length)."""
    distance = [len(sentences) + 1] * len(sentences)
    last = None
    for i, sentence in enumerate(sentences):
        last = i if is_change(sentence) else last
        if last is not None:
            distance[i] = i - last
    last = None
    for i in range(len(sentences) - 1, -1, -1):
        last = i if is_change(sentences[i]) else last
        if last is not None:
            distance[i] = min(distance[i], last - i)
    return [d <= context for d in distance]


def _split_paragraphs(
    sentences: tuple[SentenceDiff, ...], keys: tuple[ParagraphKey, ...]
) -> tuple[tuple[tuple[SentenceDiff, ...], ...], tuple[ParagraphKey, ...]]:
    paragraphs: list[list[SentenceDiff]] = []
    paragraph_keys_: list[ParagraphKey] = []
    for sentence, key in zip(sentences, keys, strict=True):
        if not paragraphs or key != paragraph_keys_[-1]:
            paragraphs.append([])
            paragraph_keys_.append(key)
        paragraphs[-1].append(sentence)
    return tuple(tuple(p) for p in paragraphs), tuple(paragraph_keys_)
