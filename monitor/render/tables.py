"""Listings of records (feeds, articles, alerts, changes) that read at any width and in pipes.

On a terminal a listing is a rich table laid out for the console's width: columns keep
their natural width and never wrap, flexible ones share what is left, and the least useful
columns are dropped before anything breaks; URLs shorten in the middle (host and end
kept), titles at a word. Piped, the same records are plain tab-separated lines, one record
per line with every value whole, so that ``newsmonitor articles | grep …`` works (issue 14).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

Cell = str | Text
# How a flexible column fits its width: "wrap" folds lines at words (errors, details),
# "words" cuts one line at a word with "…" (titles), "url" cuts in the middle (addresses).
Fit = Literal["wrap", "words", "url"]
ELLIPSIS = "…"


@dataclass(frozen=True)
class Column:
    """One column of a listing: how it fits and how much it is worth keeping.

    ``fit`` None: as wide as its widest cell, never wrapped (ids, states, times, counts).
    Otherwise the column is flexible: at least ``min_width``, sharing the width left over
    with the other flexible columns in proportion to ``ratio``. When the columns do not
    fit, those with the lowest ``keep`` go first (and empty columns before any)."""

    header: str
    keep: int = 5
    fit: Fit | None = None
    min_width: int = 12
    ratio: int = 1
    justify: Literal["left", "right"] = "left"


def plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _cell_width(cell: Cell) -> int:
    return max((cell_len(line) for line in plain(cell).splitlines()), default=0)


def shorten_url(url: str, width: int) -> str:
    """``url`` in at most ``width`` characters, cut in the middle: the host and the end
    say which page it is (``https://www.washingtonpost.com/…/2026/12/04/story-slug/``)."""
    if len(url) <= width:
        return url
    parts = urlsplit(url)
    heads = (f"{parts.scheme}://{parts.netloc}", parts.netloc, parts.netloc.removeprefix("www."))
    for head in heads:  # the scheme goes first, then "www."
        room = width - len(head) - 3  # "/…/"
        if parts.netloc and room >= 8:
            return _middle_cut(url, head, room)
    return ELLIPSIS + url[len(url) - width + 1 :]  # no room for the host: the end tells


def _middle_cut(url: str, head: str, room: int) -> str:
    tail = url[-room:]
    boundary = tail.find("/")
    if 0 <= boundary < len(tail) - 1:
        return f"{head}/{ELLIPSIS}/{tail[boundary + 1 :]}"  # the end from a whole segment
    return f"{head}/{ELLIPSIS}{url[-(room + 1) :]}"  # no "/" to start from: "/…" is enough


def shorten_words(text: str, width: int) -> str:
    """``text`` on one line of at most ``width`` cells, cut after a whole word."""
    text = " ".join(text.split())
    if cell_len(text) <= width:
        return text
    cut = text[: max(width - 1, 0)]
    while cut and cell_len(cut) > width - 1:
        cut = cut[:-1]
    if " " in cut and text[len(cut)] != " ":
        cut = cut.rsplit(" ", 1)[0]  # the word that does not fit goes whole
    return cut.rstrip() + ELLIPSIS


def layout(columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int) -> dict[int, int]:
    """{column index: width} of the columns that fit in ``width`` cells, borders included;
    columns left out were dropped, emptiest and least kept first."""
    # Headers are never cut: a column is at least as wide as its header.
    natural = [
        max([_cell_width(row[i]) for row in rows] + [cell_len(c.header)])
        for i, c in enumerate(columns)
    ]
    empty = {i for i in range(len(columns)) if all(not plain(row[i]) for row in rows)}
    kept = [i for i in range(len(columns)) if i not in empty or len(empty) == len(columns)]

    def needed(index: int) -> int:
        column = columns[index]
        if column.fit is None:
            return natural[index]
        return max(min(column.min_width, natural[index]), cell_len(column.header))

    while len(kept) > 1 and sum(map(needed, kept)) + 3 * len(kept) + 1 > width:
        kept.remove(min(reversed(kept), key=lambda i: columns[i].keep))
    widths = {i: needed(i) for i in kept}
    spare = width - sum(widths.values()) - 3 * len(kept) - 1
    flexible = [i for i in kept if columns[i].fit is not None]
    while spare > 0 and (growing := [i for i in flexible if widths[i] < natural[i]]):
        shares = sum(columns[i].ratio for i in growing)
        given = 0
        for i in growing:
            share = min(max(spare * columns[i].ratio // shares, 1), natural[i] - widths[i])
            share = min(share, spare - given)
            widths[i] += share
            given += share
        spare -= given
        if given == 0:
            break
    return widths


def _fitted(cell: Cell, fit: Fit | None, width: int) -> Text:
    """The cell made to fit a single-line column (a wrapping one folds it itself), as Text:
    a title with "[bold]" in it is shown as written, never read as markup."""
    if fit == "url":
        return Text(shorten_url(plain(cell), width))
    if fit == "words" and _cell_width(cell) > width:
        return Text(shorten_words(plain(cell), width))
    return Text(cell) if isinstance(cell, str) else cell


@dataclass(frozen=True)
class Listing:
    """Records under a title, to show as a fitted table or as plain lines."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]

    def table(self, width: int) -> Table:
        """The records as a rich table at most ``width`` cells wide (see ``layout``)."""
        widths = layout(self.columns, self.rows, width)
        table = Table(title=self.title)
        for index, column_width in widths.items():
            column = self.columns[index]
            table.add_column(
                column.header,
                justify=column.justify,
                width=column_width,
                no_wrap=column.fit != "wrap",
                overflow="fold" if column.fit == "wrap" else "ellipsis",
            )
        for row in self.rows:
            table.add_row(*(_fitted(row[i], self.columns[i].fit, widths[i]) for i in widths))
        return table

    def lines(self) -> list[str]:
        """A header line, then one tab-separated line per record with every value whole."""

        def line(cells: Sequence[str]) -> str:
            return "\t".join(" ".join(cell.split()) for cell in cells)

        header = line([column.header for column in self.columns])
        return [header] + [line([plain(cell) for cell in row]) for row in self.rows]


def print_listing(console: Console, listing: Listing) -> None:
    """A table fitted to a terminal; plain lines when the console is a pipe or a file."""
    if console.is_terminal:
        console.print(listing.table(console.width))
        return
    # Written to the file as they are: rich would turn the tabs into spaces.
    console.file.write("".join(line + "\n" for line in listing.lines()))
