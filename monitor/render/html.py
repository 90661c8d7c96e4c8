"""A diff as self-contained HTML for email: tables and inline styles, nothing else.

Mail clients drop ``<style>`` blocks, scripts and external resources, so every style is
inline and the layout is tables. All text from an article or feed goes through ``esc``;
the only things written unescaped are this module's own tags and constant styles, so
nothing in the input can become a tag or an attribute.

Made to be read (issue 14): article text carries ``dir="auto"`` and ``lang=""`` (see
``ARTICLE_TEXT``), long words and URLs wrap anywhere so that two columns fit a 400 px
screen, a deleted run and the inserted run beside it are kept a space apart, and every
text colour has at least 4.5:1 contrast (WCAG AA) against its background.
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
# `anywhere`, unlike `break-word`, also lowers a cell's minimum width, so a long URL or word
# cannot push a table wider than a phone's screen.
WRAP = "overflow-wrap:anywhere;"
OUTER = f"width:100%;max-width:760px;border-collapse:collapse;{WRAP}{FONT}"
CELL = "padding:8px 12px;vertical-align:top;"
HEADER_CELL = f"{CELL}background-color:#f4f5f7;border-bottom:1px solid #d0d4da;"
HEADLINE = "margin:0 0 6px 0;font-size:19px;font-weight:bold;"
META = "margin:0 0 4px 0;font-size:13px;color:#555555;"
LINK = f"color:#1a56b0;text-decoration:underline;{WRAP}"
SECTION = "margin:12px 0 4px 0;font-size:13px;font-weight:bold;color:#555555;"
PARAGRAPH = "margin:0 0 10px 0;"
NOTE = "margin:8px 0;font-size:13px;color:#666666;"
DEL = "background-color:#ffdcdc;color:#8a1010;text-decoration:line-through;"
INS = "background-color:#d4f5d4;color:#0b5a0b;text-decoration:none;"
MOVED = "background-color:#efe3fa;color:#5a2a82;"
MOVED_BADGE = "font-size:12px;color:#5a2a82;font-weight:bold;"
GRID = "width:100%;border-collapse:collapse;table-layout:fixed;"
GRID_HEAD = "padding:4px 8px;text-align:left;font-size:13px;color:#555555;width:50%;"
GRID_CELL = f"padding:4px 8px;vertical-align:top;width:50%;border-top:1px solid #eceef1;{WRAP}"
OLD_SIDE = "background-color:#fff1f1;"
NEW_SIDE = "background-color:#f0fbf0;"
SIGNIFICANCE_COLORS = {
    "cosmetic": "#4b5563",
    "minor": "#1a56b0",
    "major": "#b45309",
    "rewrite": "#b91c1c",
}

# The text of the article (headline, paragraphs, field values): its direction from its own
# first strong character (Urdu, Arabic, Hebrew read right to left) and its language unknown,
# which `lang=""` says: `<html lang="en">` is for our English labels, and an article's
# language is not extracted (Page has none), so it must not inherit "en".
ARTICLE_TEXT = 'dir="auto" lang=""'

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
    parts = [f'<p {ARTICLE_TEXT} style="{HEADLINE}">{esc(doc.title or "(untitled)")}</p>']
    if doc.feed or doc.article_id is not None:
        # <bdi>: a right-to-left feed name must not reorder the English around it.
        where = f"<bdi>{esc(doc.feed)}</bdi>" if doc.feed else ""
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
    if not web_url(url):
        # Shown as text only; the colon as a character reference too, so that a filter
        # scanning the mail for "javascript:" finds nothing to flag.
        return esc(url).replace(":", "&#58;")
    return link_html(url, url) if links else esc(url)


def web_url(url: str) -> bool:
    """True for a plain http(s) URL with a host: the only kind ever written as a link."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def link_html(url: str, label: str) -> str:
    """``label`` as a link to ``url``, which the caller has checked with ``web_url``."""
    return f'<a href="{esc(url)}" style="{LINK}">{esc(label)}</a>'


def field_changes(fields: Iterable[FieldChange]) -> str:
    """A small table: field name, old value struck through, new value highlighted."""
    cells = []
    for change in fields:
        old = _run_html(Op.DELETE, change.old) if change.old is not None else ""
        new = _run_html(Op.INSERT, change.new) if change.new is not None else ""
        cells.append(
            f'<tr><td style="{GRID_CELL}width:20%;font-weight:bold;">'
            f"{esc(summary.field_name(change.field))}</td>"
            f'<td {ARTICLE_TEXT} style="{GRID_CELL}width:40%;">{old}</td>'
            f'<td {ARTICLE_TEXT} style="{GRID_CELL}width:40%;">{new}</td></tr>'
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
    return f'<p {ARTICLE_TEXT} style="{PARAGRAPH}">{inner}</p>'


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
    """Deleted words in <del>, inserted in <ins>; ``old``/``new`` pick which sides to show.

    A deleted run and an inserted one that touch get a space between them: "30,000 40,000",
    not "30,00040,000", also where a mail client drops the styles (issue 14).
    """
    parts = []
    previous: tuple[Op, str] = (Op.EQUAL, "")
    for op, text in ops:
        if (op == Op.DELETE and not old) or (op == Op.INSERT and not new):
            continue
        if _touching_runs(previous, (op, text)):
            parts.append(" ")
        parts.append(_run_html(op, text))
        previous = (op, text)
    return "".join(parts)


def _touching_runs(before: tuple[Op, str], after: tuple[Op, str]) -> bool:
    """A deletion next to an insertion (either order) with no whitespace between them."""
    kinds = {before[0], after[0]}
    touching = not before[1][-1:].isspace() and not after[1][:1].isspace()
    return kinds == {Op.DELETE, Op.INSERT} and touching


def _run_html(op: Op, text: str) -> str:
    if op == Op.DELETE:
        return f'<del style="{DEL}">{esc(text)}</del>'
    if op == Op.INSERT:
        return f'<ins style="{INS}">{esc(text)}</ins>'
    return esc(text)


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
                f'<tr><td {ARTICLE_TEXT} style="{GRID_CELL}{border}{old_style}">{old}</td>'
                f'<td {ARTICLE_TEXT} style="{GRID_CELL}{border}{new_style}">{new}</td></tr>'
            )
    return f'<table style="{GRID}">{"".join(rows)}</table>'


def sides(sentence: SentenceDiff) -> tuple[str, str]:
    """The old and new cells of one sentence's row, as HTML."""
    old, new = sentence.old or "", sentence.new or ""
    match sentence.status:
        case SentenceStatus.UNCHANGED:
            return esc(old or new), esc(new or old)
        case SentenceStatus.ADDED:
            return "", _run_html(Op.INSERT, new)
        case SentenceStatus.DELETED:
            return _run_html(Op.DELETE, old), ""
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
            return _run_html(Op.DELETE, old), _run_html(Op.INSERT, new)
