"""Listings that read at 80 columns and in pipes (render/tables.py): issue 14."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text

from monitor.render.tables import (
    Column,
    Listing,
    layout,
    print_listing,
    shorten_url,
    shorten_words,
)

WAPO = "https://www.washingtonpost.com/news/post-nation/wp/2026/12/04/story-slug/"
TITLE = "Singapore dethrones US as world's most competitive economy"
COLUMNS = (
    Column("id", keep=9, justify="right"),
    Column("feed", keep=8),
    Column("status", keep=2),
    Column("title", keep=7, fit="words", min_width=16, ratio=2),
    Column("url", keep=7, fit="url", min_width=26),
    Column("last error", keep=6, fit="wrap", min_width=16),
)
ROWS = [
    [str(n), "wapo-national", Text("active"), TITLE, WAPO, "not a feed: HTML page"]
    for n in range(1, 4)
]


def test_urls_shorten_in_the_middle_keeping_host_and_end() -> None:
    assert shorten_url(WAPO, 80) == WAPO
    assert shorten_url(WAPO, 56) == "https://www.washingtonpost.com/…/2026/12/04/story-slug/"
    # Narrower: the scheme goes, then "www.", the host and a whole last segment stay.
    assert shorten_url(WAPO, 36) == "www.washingtonpost.com/…/story-slug/"
    assert shorten_url(WAPO, 30) == "washingtonpost.com/…tory-slug/"
    for width in range(8, 80):
        assert len(shorten_url(WAPO, width)) <= width


def test_titles_are_cut_after_a_whole_word() -> None:
    assert shorten_words(TITLE, 80) == TITLE
    assert shorten_words(TITLE, 30) == "Singapore dethrones US as…"
    assert shorten_words(TITLE, 12) == "Singapore…"
    assert shorten_words("跳楼出正宗康银阁", 9) == "跳楼出正…"  # CJK: two cells a character


@pytest.mark.parametrize("width", [80, 120])
def test_a_table_keeps_its_right_edge_and_whole_names(width: int) -> None:
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(Listing("Articles", COLUMNS, ROWS).table(width))
    lines = console.export_text().splitlines()
    body = [line for line in lines[1:] if line.strip()]
    assert all(len(line) <= width for line in lines)
    assert all(line.rstrip()[-1] in "┓┃┩│┘" for line in body)  # the right edge is drawn
    rows = [line for line in body if line.startswith("│")]
    assert len(rows) == 3  # one line each: nothing wrapped letter by letter
    assert "wapo-national" in rows[0]  # never "wapo-nationa/l"
    assert "washingtonpost.com/…" in rows[0] and "-slug/ │" in rows[0]  # host and end
    assert ("not a feed: HTML page" in rows[0]) == (width == 120)  # dropped at 80


def test_low_value_and_empty_columns_go_first() -> None:
    assert list(layout(COLUMNS, ROWS, 200)) == [0, 1, 2, 3, 4, 5]
    assert list(layout(COLUMNS, ROWS, 80)) == [0, 1, 3, 4]
    blank = [[*row[:5], ""] for row in ROWS]
    assert list(layout(COLUMNS, blank, 120)) == [0, 1, 2, 3, 4]  # no empty "last error"


def test_piped_listings_are_plain_tab_separated_lines_with_whole_values() -> None:
    file = io.StringIO()
    console = Console(width=80, file=file)
    assert not console.is_terminal
    print_listing(console, Listing("Articles", COLUMNS, ROWS))
    lines = file.getvalue().splitlines()
    assert lines[0] == "id\tfeed\tstatus\ttitle\turl\tlast error"
    assert lines[1] == f"1\twapo-national\tactive\t{TITLE}\t{WAPO}\tnot a feed: HTML page"
    assert len(lines) == 4 and not any(set(line) & set("│┃━─") for line in lines)
