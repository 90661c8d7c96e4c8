"""A diff as self-contained HTML for email: tables and inline styles, nothing else.

Mail clients drop ``<style>`` blocks, scripts and external resources, so every style is
inline and the layout is tables. All text from an article or feed goes through ``esc``;
the only things written unescaped are this module's own tags and constant styles, so
nothing in the input can become a tag or an attribute.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

from monitor.models import DiffDocument, DiffOp, FieldChange, Op, SentenceDiff, SentenceStatus
from monitor.render import summary
from monitor.render.hunks import Hunk, body_hunks, body_note, has_body_changes

HtmlMode = Literal["inline", "side-by-side"]

FONT = "font-family:Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1a1a1a;"
OUTER = f"width:100%;max-width:760px;border-collapse:collapse;{FONT}"
CELL = "padding:8px 12px;vertical-align:top;"
HEADER_CELL = f"{CELL}background-color:#f4f5f7;border-bottom:1px solid #d0d4da;"
HEADLINE = "margin:0 0 6px 0;font-size:19px;font-weight:bold;"
META = "margin:0 0 4px 0;font-size:13px;color:#555555;"
LINK = "color:#1a56b0;text-decoration:underline;word-break:break-all;"
SECTION = "margin:12px 0 4px 0;font-size:13px;font-weight:bold;color:#555555;"
PARAGRAPH = "margin:0 0 10px 0;"
NOTE = "margin:8px 0;font-size:13px;color:#777777;"
DEL = "background-color:#ffdcdc;color:#8a1010;text-decoration:line-through;"
INS = "background-color:#d4f5d4;color:#0b5a0b;text-decoration:none;"
MOVED = "background-color:#efe3fa;color:#5a2a82;"
MOVED_BADGE = "font-size:12px;color:#5a2a82;font-weight:bold;"
GRID = "width:100%;border-collapse:collapse;table-layout:fixed;"
GRID_HEAD = "padding:4px 8px;text-align:left;font-size:13px;color:#555555;width:50%;"
GRID_CELL = "padding:4px 8px;vertical-align:top;width:50%;border-top:1px solid #eceef1;"
OLD_SIDE = "background-color:#fff1f1;"
NEW_SIDE = "background-color:#f0fbf0;"
SIGNIFICANCE_COLORS = {
    "cosmetic": "#6b7280",
    "minor": "#1a56b0",
    "major": "#b45309",
    "rewrite": "#b91c1c",
}

# C0 and C1 control characters (but tab and newline) have no business in a mail body and
# some parsers choke on them; they are shown as the replacement character instead.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def esc(text: str) -> str:
    """Text from the input, made inert: every <, >, &, and quote escaped, controls replaced."""
    return html.escape(_CONTROL.sub("\ufffd", text), quote=True)


def render_html(
    doc: DiffDocument,
    mode: HtmlMode = "inline",
    context: int = 1,
    full_document: bool = True,
    links: bool = True,
) -> str:
    """The document as HTML: a whole page when ``full_document``, else a fragment to embed.

    ``links=False`` writes no ``<a href>`` at all (the article URL is shown as text), for
    fragments that travel in alert payloads and get embedded by receivers we do not know.
    """
    rows = [header_row(doc, links)]
    body = doc.diff.body
    if not doc.diff.fields and not has_body_changes(body):
        rows.append(
            row(f'<p style="{PARAGRAPH}font-weight:bold;">{esc(summary.NO_DIFFERENCES)}</p>')
        )
    else:
        if doc.diff.fields:
            rows.append(row(field_changes(doc.diff.fields)))
        rows.append(row(body_html(doc, mode, context)))
    fragment = f'<table style="{OUTER}">' + "".join(rows) + "</table>"
    if not full_document:
        return fragment + "\n"
    title = esc(doc.title or "Article changed")
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head>"
        f'<body style="margin:0;padding:12px;background-color:#ffffff;">{fragment}</body>'
        "</html>\n"
    )


def row(content: str, style: str = CELL) -> str:
    return f'<tr><td style="{style}">{content}</td></tr>'


def header_row(doc: DiffDocument, links: bool = True) -> str:
    """Headline, feed, URL, both sides, the verdict and the counts."""
    parts = [f'<p style="{HEADLINE}">{esc(doc.title or "(untitled)")}</p>']
    if doc.feed or doc.article_id is not None:
        where = esc(doc.feed) if doc.feed else ""
        if doc.article_id is not None:
            where += f"{' &middot; ' if where else ''}article {doc.article_id}"
        parts.append(f'<p style="{META}">{where}</p>')
    parts.append(f'<p style="{META}">{url_html(doc.url, links)}</p>')
    old = esc(summary.side_label(doc.old_label, doc.old_time))
    new = esc(summary.side_label(doc.new_label, doc.new_time))
    parts.append(
        f'<p style="{META}"><span style="{DEL}">old</span> {old}'
        f' &rarr; <span style="{INS}">new</span> {new}</p>'
    )
    significance = doc.classification.significance
    color = SIGNIFICANCE_COLORS.get(significance, "#1a1a1a")
    verdict = f'<strong style="color:{color};">{esc(str(significance).upper())}</strong>'
    if doc.classification.tags:
        verdict += " &middot; " + esc(", ".join(doc.classification.tags))
    parts.append(f'<p style="{META}">{verdict}</p>')
    parts.append(f'<p style="{META}">{esc(summary.stats_line(doc.diff.body.stats))}</p>')
    return row("".join(parts), HEADER_CELL)


def url_html(url: str, links: bool = True) -> str:
    """The article URL, a link only when it is plain http(s): no javascript: or data: hrefs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return esc(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        # Shown as text only; the colon as a character reference too, so that a filter
        # scanning the mail for "javascript:" finds nothing to flag.
        return esc(url).replace(":", "&#58;")
    if not links:
        return esc(url)
    return f'<a href="{esc(url)}" style="{LINK}">{esc(url)}</a>'


def field_changes(fields: Iterable[FieldChange]) -> str:
    """A small table: field name, old value struck through, new value highlighted."""
    cells = []
    for change in fields:
        old = f'<del style="{DEL}">{esc(change.old)}</del>' if change.old is not None else ""
        new = f'<ins style="{INS}">{esc(change.new)}</ins>' if change.new is not None else ""
        cells.append(
            f'<tr><td style="{GRID_CELL}width:20%;font-weight:bold;">'
            f"{esc(summary.field_name(change.field))}</td>"
            f'<td style="{GRID_CELL}width:40%;">{old}</td>'
            f'<td style="{GRID_CELL}width:40%;">{new}</td></tr>'
        )
    return f'<p style="{SECTION}">Fields</p><table style="{GRID}">{"".join(cells)}</table>'


def body_html(doc: DiffDocument, mode: HtmlMode, context: int) -> str:
    """The body's hunks in the chosen layout, with notes for rewrites and skipped text."""
    body = doc.diff.body
    parts = [f'<p style="{SECTION}">Text</p>']
    if body.timed_out:
        parts.append(f'<p style="{NOTE}">{esc(summary.TIMED_OUT_NOTE)}</p>')
    hunks = body_hunks(body, context)
    if not hunks:
        parts.append(f'<p style="{NOTE}">{esc(body_note(body))}</p>')
    for hunk in hunks:
        if hunk.skipped_before:
            parts.append(skipped(hunk.skipped_before))
        parts.append(f'<p style="{SECTION}">{esc(hunk.label.capitalize())}</p>')
        if mode == "side-by-side":
            parts.append(side_by_side(hunk, doc.old_label, doc.new_label))
        else:
            parts += [inline_paragraph(p) for p in hunk.paragraphs]
        if hunk.skipped_after:
            parts.append(skipped(hunk.skipped_after))
    return "".join(parts)


def skipped(count: int) -> str:
    noun = "sentence" if count == 1 else "sentences"
    return f'<p style="{NOTE}">&hellip; {count} unchanged {noun}</p>'


def inline_paragraph(sentences: Iterable[SentenceDiff]) -> str:
    inner = " ".join(inline_sentence(s) for s in sentences)
    return f'<p style="{PARAGRAPH}">{inner}</p>'


def inline_sentence(sentence: SentenceDiff) -> str:
    """One sentence in the inline view: its old and new cells of the side-by-side view run
    together, except that an edit shows its words interleaved and a move is marked."""
    status = sentence.status
    if status == SentenceStatus.MOVED:
        badge = f'<span style="{MOVED_BADGE}">[{esc(summary.moved_note(sentence))}]</span> '
        text = word_diff(sentence.ops) if sentence.ops else esc(sentence.new or "")
        return f'{badge}<span style="{MOVED}">{text}</span>'
    if status == SentenceStatus.EDITED and sentence.ops:
        return word_diff(sentence.ops)
    old, new = sides(sentence)
    if status == SentenceStatus.UNCHANGED:
        return new
    return " ".join(side for side in (old, new) if side)


def word_diff(ops: Iterable[DiffOp], *, old: bool = True, new: bool = True) -> str:
    """Deleted words in <del>, inserted in <ins>; ``old``/``new`` pick which sides to show."""
    parts = []
    for op, text in ops:
        if op == Op.EQUAL:
            parts.append(esc(text))
        elif op == Op.DELETE and old:
            parts.append(f'<del style="{DEL}">{esc(text)}</del>')
        elif op == Op.INSERT and new:
            parts.append(f'<ins style="{INS}">{esc(text)}</ins>')
    return "".join(parts)


def side_by_side(hunk: Hunk, old_label: str, new_label: str) -> str:
    """A two-column table, old | new, one row per aligned sentence."""
    rows = [
        f'<tr><th style="{GRID_HEAD}">{esc(old_label)}</th>'
        f'<th style="{GRID_HEAD}">{esc(new_label)}</th></tr>'
    ]
    for index, paragraph in enumerate(hunk.paragraphs):
        for position, sentence in enumerate(paragraph):
            # A thicker rule where a new paragraph starts keeps paragraphs apart.
            border = "border-top:2px solid #c9ced6;" if index and not position else ""
            old, new = sides(sentence)
            old_style = OLD_SIDE if old and sentence.status != SentenceStatus.UNCHANGED else ""
            new_style = NEW_SIDE if new and sentence.status != SentenceStatus.UNCHANGED else ""
            rows.append(
                f'<tr><td style="{GRID_CELL}{border}{old_style}">{old}</td>'
                f'<td style="{GRID_CELL}{border}{new_style}">{new}</td></tr>'
            )
    return f'<table style="{GRID}">{"".join(rows)}</table>'


def sides(sentence: SentenceDiff) -> tuple[str, str]:
    """The old and new cells of one sentence's row, as HTML."""
    old, new = sentence.old or "", sentence.new or ""
    match sentence.status:
        case SentenceStatus.UNCHANGED:
            return esc(old or new), esc(new or old)
        case SentenceStatus.ADDED:
            return "", f'<ins style="{INS}">{esc(new)}</ins>'
        case SentenceStatus.DELETED:
            return f'<del style="{DEL}">{esc(old)}</del>', ""
        case SentenceStatus.MOVED:
            badge = f'<span style="{MOVED_BADGE}">[{esc(summary.moved_note(sentence))}]</span> '
            if sentence.ops:
                return badge + word_diff(sentence.ops, new=False), badge + word_diff(
                    sentence.ops, old=False
                )
            return badge + esc(old or new), badge + esc(new)
        case _:
            if sentence.ops:
                return word_diff(sentence.ops, new=False), word_diff(sentence.ops, old=False)
            return f'<del style="{DEL}">{esc(old)}</del>', f'<ins style="{INS}">{esc(new)}</ins>'
