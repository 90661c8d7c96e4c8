"""A diff for the terminal: a header panel, field changes and the body as an inline word diff.

Every piece of article or feed text reaches rich as a ``Text`` object, never as a markup
string, so an article that contains "[bold]" or "[/]" is shown as written.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text

from monitor.models import DiffDocument, DiffOp, FieldChange, Op, SentenceDiff, SentenceStatus
from monitor.render import summary
from monitor.render.hunks import Hunk, body_hunks, body_note, has_body_changes

DELETE_STYLE = "red strike"
INSERT_STYLE = "bold green underline"
ADDED_STYLE = "green"
MOVED_STYLE = "magenta"
NOTE_STYLE = "dim"
SIGNIFICANCE_STYLES = {
    "cosmetic": "dim",
    "minor": "cyan",
    "major": "bold yellow",
    "rewrite": "bold red",
}


def render_terminal(doc: DiffDocument, context: int = 1) -> RenderableType:
    """The whole document as one rich renderable, to print on any console."""
    parts: list[RenderableType] = [header_panel(doc)]
    body = doc.diff.body
    if not doc.diff.fields and not has_body_changes(body):
        parts.append(Text(summary.NO_DIFFERENCES, style="bold"))
        return Group(*parts)
    if doc.diff.fields:
        parts.append(field_changes(doc.diff.fields))
    if body.timed_out:
        parts.append(Text(summary.TIMED_OUT_NOTE, style="yellow"))
    hunks = body_hunks(body, context)
    if not hunks:
        parts.append(Text(body_note(body), style=NOTE_STYLE))
    for hunk in hunks:
        parts += hunk_renderables(hunk)
    return Group(*parts)


def header_panel(doc: DiffDocument) -> Panel:
    """Headline, feed, URL, both sides, the verdict and the counts in a box."""
    lines: list[Text] = []
    if doc.feed or doc.article_id is not None:
        where = Text.assemble(("feed ", NOTE_STYLE), doc.feed or "-")
        if doc.article_id is not None:
            where.append(f"  article {doc.article_id}", style=NOTE_STYLE)
        lines.append(where)
    lines.append(Text(doc.url, style="blue underline"))
    lines.append(labelled("old ", summary.side_label(doc.old_label, doc.old_time), "red"))
    lines.append(labelled("new ", summary.side_label(doc.new_label, doc.new_time), "green"))
    significance = doc.classification.significance
    verdict = Text.assemble((str(significance).upper(), SIGNIFICANCE_STYLES.get(significance, "")))
    if doc.classification.tags:
        verdict.append("  ")
        verdict.append(", ".join(doc.classification.tags), style="italic")
    lines.append(verdict)
    lines.append(Text(summary.stats_line(doc.diff.body.stats), style=NOTE_STYLE))
    title = Text(doc.title or "(untitled)", style="bold")
    return Panel(Group(*lines), title=title, title_align="left", expand=True)


def labelled(label: str, value: str, style: str) -> Text:
    return Text.assemble((label, f"bold {style}"), value)


def field_changes(fields: Iterable[FieldChange]) -> Group:
    """One line per changed field: old struck through, an arrow, the new value."""
    lines: list[Text] = []
    for change in fields:
        line = Text.assemble((summary.field_name(change.field) + ": ", "bold"))
        line.append(change.old if change.old is not None else "(none)", style=DELETE_STYLE)
        line.append(" → ")
        line.append(change.new if change.new is not None else "(none)", style=INSERT_STYLE)
        lines.append(line)
    return Group(*lines)


def hunk_renderables(hunk: Hunk) -> list[RenderableType]:
    """A rule naming the hunk's place, its paragraphs, and "…" where text was left out."""
    parts: list[RenderableType] = []
    if hunk.skipped_before:
        parts.append(skipped(hunk.skipped_before))
    parts.append(Rule(Text(hunk.label, style=NOTE_STYLE), align="left", style=NOTE_STYLE))
    for index, paragraph in enumerate(hunk.paragraphs):
        if index:
            parts.append(Text())  # a blank line: wrapped paragraphs would otherwise run together
        parts.append(paragraph_text(paragraph))
    if hunk.skipped_after:
        parts.append(skipped(hunk.skipped_after))
    return parts


def skipped(count: int) -> Text:
    noun = "sentence" if count == 1 else "sentences"
    return Text(f"… {count} unchanged {noun}", style=NOTE_STYLE)


def paragraph_text(sentences: Iterable[SentenceDiff]) -> Text:
    """One paragraph's sentences joined by spaces, each styled by what happened to it."""
    text = Text()
    for i, sentence in enumerate(sentences):
        if i:
            text.append(" ")
        text.append_text(sentence_text(sentence))
    return text


def sentence_text(sentence: SentenceDiff) -> Text:
    old, new = sentence.old or "", sentence.new or ""
    match sentence.status:
        case SentenceStatus.UNCHANGED:
            return Text(new or old)
        case SentenceStatus.ADDED:
            return Text(new, style=ADDED_STYLE)
        case SentenceStatus.DELETED:
            return Text(old, style=DELETE_STYLE)
        case SentenceStatus.MOVED:
            # Text.assemble keeps the note's style to the note (a Text's own style would
            # spread over everything appended to it).
            text = Text.assemble((f"[{summary.moved_note(sentence)}] ", MOVED_STYLE))
            if sentence.ops:
                return text.append_text(word_diff(sentence.ops))
            return text.append(new, style=MOVED_STYLE)
        case _:
            if sentence.ops:
                return word_diff(sentence.ops)
            return Text.assemble((old, DELETE_STYLE), " ", (new, INSERT_STYLE))


def word_diff(ops: Iterable[DiffOp]) -> Text:
    """Deletions struck through in red, insertions in green, the rest plain."""
    text = Text()
    for op, chunk in ops:
        style = {Op.DELETE: DELETE_STYLE, Op.INSERT: INSERT_STYLE}.get(op, "")
        text.append(chunk, style=style)
    return text
