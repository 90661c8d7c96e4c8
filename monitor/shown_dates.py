"""Pure: the days an article page shows its reader in the lines under its headline.

Issue 15: where a page's declarations and the date printed under its headline disagree,
the reader (and the evaluation gold) goes by the printed one: a site that re-publishes an
article stamps the new day on the page and keeps the old ``datePublished``; a UTC
timestamp falls on another day than the one printed on the page's own clock. A day
printed there with an "updated" label is the last modification's, never the publication's;
one inside a sentence or after an event's label ("Termin:") is the event's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import lxml.html

from monitor.dates import month_number

__all__ = [
    "FIRST_WEB_YEAR",
    "UNDER_HEADLINE_CHARS",
    "ShownDay",
    "in_other_content",
    "shown_days",
]

# No web page was published before the web: an earlier date is a template's placeholder.
FIRST_WEB_YEAR = 1991
# The texts after the headline where a template prints its date line ("Von X | 12.01.2022"):
# a bare position limit, filtered in Python, costs a third of XPath predicates that test
# every following node of the page.
_AFTER = "following::text()[position() <= 120]"
_AFTER_TEXTS = 30
# How far down, in characters of text, a date still belongs to the headline.
UNDER_HEADLINE_CHARS = 300
# A date line is short and mostly date: a longer text, or one with more words than a
# byline and a place around the date, is a sentence, and its dates are events.
_LINE_CHARS = 80
_LINE_WORDS = 4
_MONTH_WORD = r"[^\W\d_]{3,}\.?"
_DAY = re.compile(
    r"(?<![\w.\-–])(?:(?P<iso>\d{4}-\d\d-\d\d)"
    r"|(?P<n1>\d{1,2})(?P<sep>[./])\s?(?P<n2>\d{1,2})(?P=sep)\s?(?P<n3>\d{4})"
    rf"|(?P<day>\d{{1,2}})\.?\s+(?:de\s+)?(?P<month>{_MONTH_WORD})(?:\s+de)?,?\s+(?P<year>\d{{4}})"
    rf"|(?P<month2>{_MONTH_WORD})\s+(?P<day2>\d{{1,2}}),?\s+(?P<year2>\d{{4}}))(?!\d)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+")
# Labels of a day that is a modification's, in the page's languages.
_UPDATED = re.compile(
    r"update|aktualisiert|geändert|änderung|bearbeitet|editiert|edited|modified|revised|actualizado"
    r"|actualización|mis à jour|modifié|aggiornato|bijgewerkt|päivitetty",
    re.IGNORECASE,
)
# Labels of an event's day ("Termin: 21.02.2020, 19 Uhr", "Release:") or a photo's credit
# ("© Jane Doe, 31.05.2013"): no publication's.
_EVENT = re.compile(
    r"\b(?:termine?|veranstaltung|event|wann|when|deadline|frist|release)\b"
    r"|©|\b(?:foto|photo|bild)\b",
    re.IGNORECASE,
)
# Class or id marks of page parts that date other content: related articles, sidebars,
# comments.
_OTHER_CONTENT = ("related", "sidebar", "widget", "recent", "popular", "comment")
# The same without "sidebar", which also names the layout of a page that has one: the main
# column of "lay-sidebar" holds the headline's own date line.
_OTHER_ITEMS = tuple(mark for mark in _OTHER_CONTENT if mark != "sidebar")
# A day in an article's URL path names the month it was published in: /2019/10/.
_URL_MONTH = re.compile(r"/((?:19|20)\d\d)/(\d{1,2})/")


@dataclass(frozen=True)
class ShownDay:
    """A day printed under the headline; ``updated`` when a label says it is a revision's."""

    day: date
    updated: bool = False


def _headline_element(
    tree: lxml.html.HtmlElement, headline: str | None
) -> lxml.html.HtmlElement | None:
    """The heading that carries ``headline`` (the first <h1> may be the site's logo), else
    the first <h1>."""
    wanted = " ".join((headline or "").split())
    if wanted:
        for heading in tree.iter("h1", "h2", "h3"):
            if " ".join(heading.text_content().split()) == wanted:
                return heading
    return next(tree.iter("h1"), None)


def shown_days(tree: lxml.html.HtmlElement, headline: str | None, url: str) -> tuple[ShownDay, ...]:
    """The days written as date lines in the few texts after the headline, in page order.

    Numeric days are read in the page's language (``07/05/2022`` is May 7 unless the page
    is in US English). A day outside the month the URL names (``/2019/10/``) is some other
    item's.
    """
    heading = _headline_element(tree, headline)
    if heading is None:
        return ()
    month_first = _month_first(tree)
    url_month = _URL_MONTH.search(url)
    found: list[ShownDay] = []
    seen, previous = 0, ""
    for text in _texts_after(heading):
        line = " ".join(text.split())
        if len(line) <= _LINE_CHARS:
            found += _days_in_line(line, previous, month_first)
        previous = line
        seen += len(line)
        if seen > UNDER_HEADLINE_CHARS:
            break
    if url_month:
        month = (int(url_month.group(1)), int(url_month.group(2)))
        found = [shown for shown in found if (shown.day.year, shown.day.month) == month]
    return tuple(found)


def in_other_content(
    element: lxml.html.HtmlElement,
    within: set[lxml.html.HtmlElement] | None = None,
    marks: tuple[str, ...] = _OTHER_CONTENT,
) -> bool:
    """Whether ``element`` sits in a list of other articles, a sidebar or the comments
    (an ancestor's class or id has one of ``marks``), looking up to the first of its
    ancestors in ``within``."""
    for ancestor in element.iterancestors():
        if ancestor.tag in ("body", "html") or (within and ancestor in within):
            return False  # their classes describe the whole page ("one-sidebar")
        names = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}".lower()
        if any(mark in names for mark in marks):
            return True
    return False


def _texts_after(heading: lxml.html.HtmlElement) -> Iterator[str]:
    """The first texts after ``heading`` in page order; blanks, scripts and the texts of
    other content (a "Recent posts" widget after the headline) left out. Lazily: the
    caller stops a few lines down, and each text's ancestors are looked at only if it
    gets that far."""
    taken = 0
    # A container of the headline itself is the page's layout ("lay-sidebar"), not other
    # content.
    around_headline = set(heading.iterancestors())
    for text in heading.xpath(_AFTER):
        parent = text.getparent()
        if parent is None or not text.strip():
            continue
        if not text.is_tail and parent.tag in ("script", "style"):
            continue
        if not in_other_content(parent, around_headline, _OTHER_ITEMS):
            yield str(text)
            taken += 1
            if taken == _AFTER_TEXTS:
                return


def _days_in_line(line: str, previous: str, month_first: bool) -> list[ShownDay]:
    """The days of one short text that is a date line, not a sentence or an event's label."""
    days = []
    for match in _DAY.finditer(line):
        day = _day_of(match, month_first)
        rest = line[: match.start()] + line[match.end() :]
        if day is None or day.year < FIRST_WEB_YEAR or len(_WORD.findall(rest)) > _LINE_WORDS:
            continue
        # A label sits before the day, in its line or alone in the text before it
        # ("<span>Aktualisiert:</span> <time>11.04.2020</time>").
        label = line[: match.start()]
        if not label.strip():
            label = previous[-40:]
        if not _EVENT.search(label):
            days.append(ShownDay(day, updated=bool(_UPDATED.search(label))))
    return days


def _day_of(match: re.Match[str], month_first: bool) -> date | None:
    try:
        if match.group("iso"):
            return date.fromisoformat(match.group("iso"))
        if match.group("n1"):
            first, second = int(match.group("n1")), int(match.group("n2"))
            if match.group("sep") == "/" and month_first:
                first, second = second, first
            return date(int(match.group("n3")), second, first)
        day, month, year = match.group("day", "month", "year")
        if month is None:
            day, month, year = match.group("day2", "month2", "year2")
        number = month_number(month)
        return date(int(year), number, int(day)) if number else None
    except ValueError:
        return None


def _month_first(tree: lxml.html.HtmlElement) -> bool:
    """Whether the page writes numeric dates month first: US English ("en-US", or a bare
    "en", which US sites mostly declare); everywhere else the day comes first."""
    language = (tree.get("lang") or "").strip().lower().replace("_", "-")
    if not language:
        for meta in tree.iter("meta"):
            if (meta.get("property") or "").strip().lower() == "og:locale":
                language = (meta.get("content") or "").strip().lower().replace("_", "-")
                break
    return language in ("en", "en-us")
