"""Plain unified-style text of a diff, for email bodies and logs.

Lines start with "  " (unchanged context), "- " (old side), "+ " (new side) or "> " (a
moved sentence); inside an edited sentence the changed words are marked wdiff style,
``[-deleted-]`` on the old line and ``{+inserted+}`` on the new one.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.models import DiffDocument, DiffOp, Op, SentenceDiff, SentenceStatus
from monitor.render import summary
from monitor.render.hunks import Hunk, ParagraphKey, body_hunks, body_note, has_body_changes

DELETE_MARKS = ("[-", "-]")
INSERT_MARKS = ("{+", "+}")


def render_text(doc: DiffDocument, context: int = 1) -> str:
    """The whole document as text: header, field changes, then the body's hunks."""
    lines = header_lines(doc)
    body = doc.diff.body
    if not doc.diff.fields and not has_body_changes(body):
        lines += ["", summary.NO_DIFFERENCES]
        return _finish(lines)
    for change in doc.diff.fields:
        lines += ["", f"@@ {one_line(summary.field_name(change.field))} @@"]
        if change.old is not None:
            lines.append("- " + one_line(change.old))
        if change.new is not None:
            lines.append("+ " + one_line(change.new))
    if body.timed_out:
        lines += ["", summary.TIMED_OUT_NOTE]
    hunks = body_hunks(body, context)
    if not hunks:
        lines += ["", body_note(body)]
    for hunk in hunks:
        lines += hunk_lines(hunk)
    return _finish(lines)


def header_lines(doc: DiffDocument) -> list[str]:
    """What changed where: headline, URL, feed, both sides, verdict and counts."""
    lines = [one_line(doc.title) if doc.title else "(untitled)", "URL: " + one_line(doc.url)]
    if doc.feed or doc.article_id is not None:
        where = [one_line(doc.feed)] if doc.feed else []
        if doc.article_id is not None:
            where.append(f"article {doc.article_id}")
        lines.append("Feed: " + ", ".join(where))
    lines += [
        "--- " + one_line(summary.side_label(doc.old_label, doc.old_time)),
        "+++ " + one_line(summary.side_label(doc.new_label, doc.new_time)),
    ]
    verdict = f"Significance: {doc.classification.significance}"
    if doc.classification.tags:
        verdict += "; tags: " + ", ".join(one_line(tag) for tag in doc.classification.tags)
    lines += [verdict, "Changes: " + summary.stats_line(doc.diff.body.stats)]
    return lines


def hunk_lines(hunk: Hunk) -> list[str]:
    """One hunk: a header per paragraph, a line per sentence, "…" where text was left out."""
    lines: list[str] = []
    if hunk.skipped_before:
        lines += ["", skipped_line(hunk.skipped_before)]
    for key, paragraph in zip(hunk.keys, hunk.paragraphs, strict=True):
        lines += ["", f"@@ {paragraph_label(key)} @@"]
        for sentence in paragraph:
            lines += sentence_lines(sentence)
    if hunk.skipped_after:
        lines += ["", skipped_line(hunk.skipped_after)]
    return lines


def paragraph_label(key: ParagraphKey) -> str:
    if key is None:
        return "text"
    side, index = key
    return f"paragraph {index + 1}" if side == "new" else f"old paragraph {index + 1}"


def skipped_line(count: int) -> str:
    return f"… {count} unchanged sentence" + ("" if count == 1 else "s")


def sentence_lines(sentence: SentenceDiff) -> list[str]:
    """The lines of one sentence; an edit is an old line and a new line, words marked."""
    old, new = sentence.old or "", sentence.new or ""
    match sentence.status:
        case SentenceStatus.UNCHANGED:
            return ["  " + one_line(new or old)]
        case SentenceStatus.ADDED:
            return ["+ " + one_line(new)]
        case SentenceStatus.DELETED:
            return ["- " + one_line(old)]
        case SentenceStatus.MOVED:
            text = wdiff(sentence.ops, old=True, new=True) if sentence.ops else one_line(new)
            return [f"> ({summary.moved_note(sentence)}) {text}"]
        case _:
            if not sentence.ops:
                return ["- " + one_line(old), "+ " + one_line(new)]
            return [
                "- " + wdiff(sentence.ops, old=True, new=False),
                "+ " + wdiff(sentence.ops, old=False, new=True),
            ]


def wdiff(ops: Iterable[DiffOp], *, old: bool, new: bool) -> str:
    """A word diff on one line: deletions marked when ``old``, insertions when ``new``."""
    parts: list[str] = []
    for op, text in ops:
        if op == Op.EQUAL:
            parts.append(one_line(text))
        elif op == Op.DELETE and old:
            parts.append(mark(one_line(text), DELETE_MARKS))
        elif op == Op.INSERT and new:
            parts.append(mark(one_line(text), INSERT_MARKS))
    return "".join(parts)


def mark(text: str, marks: tuple[str, str]) -> str:
    """Wrap changed words in marks, leaving surrounding spaces outside so words stay apart."""
    core = text.strip()
    if not core:
        return marks[0] + text + marks[1]
    start = text.index(core)
    return text[:start] + marks[0] + core + marks[1] + text[start + len(core) :]


def one_line(text: str) -> str:
    """Line breaks of any kind become spaces: every rendered line keeps its prefix."""
    return " ".join(text.splitlines())


def _finish(lines: list[str]) -> str:
    return "\n".join(line.rstrip() for line in lines) + "\n"
