"""The terminal rendering of a diff: rich renderables, styles, literal markup."""

from __future__ import annotations

import re

from monitor.render.terminal import render_terminal
from tests.render.documents import (
    MOVED_DOC,
    NO_DIFF_DOC,
    TIMED_OUT_DOC,
    console,
    exported,
    long_doc,
    make_doc,
    nasty_doc,
    segments,
    styled,
)


def test_terminal_shows_header_fields_and_inline_word_diff() -> None:
    text = exported(render_terminal(make_doc()))
    for expected in (
        "Storm kills 15",
        "https://example.com/storm",
        "Example News",
        "v1 (2026-11-28 12:00 UTC)",
        "v2 (2026-11-28 13:05 UTC)",
        "MAJOR",
        "headline, numbers",
        "Headline: Storm kills 12 → Storm kills 15",
        "The toll rose to 1215.",
        "Officials declined to comment.",
        "A shelter opened.",
    ):
        assert expected in text
    renderable = render_terminal(make_doc())
    deleted, inserted = styled(renderable, "12"), styled(renderable, "15")
    assert deleted.strike and deleted.color is not None and deleted.color.name == "red"
    assert not inserted.strike and inserted.color is not None and inserted.color.name == "green"
    assert styled(renderable, "Officials declined to comment.").strike
    added = styled(renderable, "A shelter opened.")
    assert added.color is not None and added.color.name == "green"
    assert styled(renderable, "MAJOR").color is not None


def test_terminal_styles_reach_the_console_output() -> None:
    out = console()
    out.print(render_terminal(make_doc()))
    ansi = out.export_text(styles=True, clear=False)
    assert re.search(r"\x1b\[[0-9;]*\b9;31m12\x1b", ansi)  # strike + red
    assert re.search(r"\x1b\[[0-9;]*32m15\x1b", ansi)  # green
    assert "line-through" in out.export_html(inline_styles=True)


def test_terminal_context_moved_no_differences_and_rewrite() -> None:
    long_text = exported(render_terminal(long_doc(), context=1))
    assert "… 22 unchanged sentences" in long_text
    assert "Sentence 10." not in long_text
    moved = render_terminal(MOVED_DOC)
    assert "[moved from sentence 4] Schools shut." in exported(moved)
    assert styled(moved, "Schools shut.").color is not None
    assert "No differences between these versions." in exported(render_terminal(NO_DIFF_DOC))
    rewrite = exported(render_terminal(TIMED_OUT_DOC))
    assert "shown as a rewrite" in rewrite
    assert "Markets rallied." in rewrite


def test_terminal_shows_markup_in_article_text_literally() -> None:
    doc = nasty_doc()
    text = exported(render_terminal(doc))
    assert "[bold]x[/bold] [/] [link=https://evil]y[/link]" in text
    assert "<script>alert(1)</script>" in text
    # Had the markup been parsed, "x" and "y" would be segments of their own, "y" a link.
    rendered = segments(render_terminal(doc))
    assert any("[bold]x[/bold]" in chunk for chunk, _ in rendered)
    assert not [chunk for chunk, _ in rendered if chunk.strip() in ("x", "y")]
    assert not [style for _, style in rendered if style is not None and style.link]
