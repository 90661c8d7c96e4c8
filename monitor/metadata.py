"""Pure: a parsed article page (+ trafilatura's guesses) -> headline, byline and its own dates.

``headline`` and ``byline`` read the first two (issue 15); the dates are read here: the
article's declared ones (Open Graph, its own JSON-LD node, then other metas and ``<time>``),
kept with the page's own UTC offset, so the page's local day survives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import lxml.html

from monitor.byline import byline
from monitor.dates import parse_page_date
from monitor.declarations import json_ld_article, json_str, meta_values, publisher_keys
from monitor.headline import headline, strip_site_affix

__all__ = ["Guesses", "Metadata", "read_metadata", "strip_site_affix"]

# <meta> names/properties carrying the publication time, most specific first.
PUBLISHED_META: tuple[str, ...] = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "dc.date.issued",
    "dcterms.issued",
    "parsely-pub-date",
    "sailthru.date",
    "pubdate",
    "publishdate",
)
# <meta> names/properties carrying the last-modified time, most specific first.
MODIFIED_META: tuple[str, ...] = (
    "article:modified_time",
    "og:updated_time",
    "og:article:modified_time",
    "datemodified",
    "dcterms.modified",
    "dc.date.modified",
    "lastmod",
)
# No web page was published before the web: an earlier date is a template's placeholder.
FIRST_WEB_YEAR = 1991
# A day in an article's URL path: /2019/01/01/, /2017/7/12/.
_URL_DAY = re.compile(r"/((?:19|20)\d\d)/(\d{1,2})/(\d{1,2})/")


@dataclass(frozen=True)
class Guesses:
    """What trafilatura found on its own: used only where the page declares nothing better."""

    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None


@dataclass(frozen=True)
class Metadata:
    """The article's headline, byline and dates (aware, in the page's own offset)."""

    headline: str | None
    byline: str | None
    published: datetime | None
    modified: datetime | None


def read_metadata(tree: lxml.html.HtmlElement, url: str, guesses: Guesses) -> Metadata:
    """Headline, byline, published and modified of the article in ``tree``."""
    meta = meta_values(tree)
    article = json_ld_article(tree)
    published, modified = _declared_dates(tree, meta, article)
    return Metadata(
        headline=headline(tree, url, meta, article, guesses.title, guesses.sitename),
        byline=byline(tree, meta, article, guesses.author, publisher_keys(url, meta, article)),
        published=_on_url_day(published, url) or _first_date([guesses.date]),
        modified=modified,
    )


def _declared_dates(
    tree: lxml.html.HtmlElement, meta: dict[str, str], article: dict[str, Any]
) -> tuple[datetime | None, datetime | None]:
    """(published, modified) as the article declares them.

    The Open Graph article time and the article's own JSON-LD node come first: itemprop
    metas and <time> elements also mark the items of related-article lists.
    """
    published = _first_date(
        [meta.get(PUBLISHED_META[0]), json_str(article, "datePublished")]
        + [meta.get(key) for key in PUBLISHED_META[1:]]
        + [_time_itemprop(tree, "datepublished")]
    )
    modified = _first_date(
        [meta.get(MODIFIED_META[0]), json_str(article, "dateModified")]
        + [meta.get(key) for key in MODIFIED_META[1:]]
        + [_time_itemprop(tree, "datemodified")]
    )
    return published, modified


def _on_url_day(moment: datetime | None, url: str) -> datetime | None:
    """``moment`` seen from the day its URL names (``/2019/01/01/``), when it is given in
    UTC and falls on the day before or after.

    A CMS that writes UTC says nothing of the page's own offset, and near midnight the UTC
    day is not the day the page shows; the URL's day is. The instant stays the same: it
    gets the smallest whole-hour offset that puts it on that day.
    """
    match = _URL_DAY.search(url)
    if moment is None or moment.utcoffset() != timedelta(0) or not match:
        return moment
    try:
        url_day = date(*map(int, match.groups()))
    except ValueError:
        return moment
    days = (url_day - moment.date()).days  # no overflow, unlike date arithmetic near year 1
    hours = {-1: -(moment.hour + 1), 1: 24 - moment.hour}.get(days)
    if hours is None or not -12 <= hours <= 14:
        return moment
    try:
        return moment.astimezone(timezone(timedelta(hours=hours)))
    except OverflowError:  # a placeholder date at the edge of the calendar
        return moment


def _first_date(candidates: list[str | None]) -> datetime | None:
    """The first candidate that parses to a date a web page can have: templates print
    ``0001-01-01`` where a date is missing."""
    for candidate in candidates:
        parsed = parse_page_date(candidate)
        if parsed is not None and parsed.year >= FIRST_WEB_YEAR:
            return parsed
    return None


def _time_itemprop(tree: lxml.html.HtmlElement, itemprop: str) -> str | None:
    for element in tree.iter("time"):
        if (element.get("itemprop") or "").strip().lower() == itemprop:
            return (element.get("datetime") or element.text_content() or "").strip() or None
    return None
