"""Pure: a parsed article page (+ trafilatura's guesses) -> headline, byline and its own dates.

``headline`` and ``byline`` read the first two (issue 15); the dates are read here: the
article's declared ones (Open Graph, its own JSON-LD node, then other metas and ``<time>``),
kept with the page's own UTC offset, so the page's local day survives; a time declared in
UTC is seen from the page's clock (its URL's day, the offset of its other times). A page
that declares no date is dated by its text ("Veröffentlicht am …", its own ``<time>``, a
date under its headline). Last, the day the page prints under its headline
(``shown_dates``) overrides a declared day it does not show: that is the reader's day.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

import lxml.html

from monitor.byline import byline
from monitor.dates import parse_page_date
from monitor.declarations import json_ld_article, json_str, meta_values, publisher_keys
from monitor.headline import headline, strip_site_affix
from monitor.shown_dates import (
    FIRST_WEB_YEAR,
    UNDER_HEADLINE_CHARS,
    ShownDay,
    in_other_content,
    shown_days,
)

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
# Other <meta> times, read only for the page's UTC offset.
_OTHER_DATE_META = ("date", "dc.date", "dcterms.date", "last-modified")
# A date after a word that says it is the publication's, in the page's text. Not
# "Erscheinungsdatum": in a book review, that is the book's.
_DATE_LABELS = (
    "veröffentlicht", "erschienen", "publiziert", "erstellt", "published", "posted", "written",
    "publié", "publicado", "pubblicato", "datum", "date",
)  # fmt: skip
# What follows a date label: a preposition, a colon, the date.
_AFTER_DATE_LABEL = (
    r"(?:\s+(?:am|on|le|el|il))?\s*:?\s*"
    r"(?P<date>\d{4}-\d\d-\d\d(?:[ T]\d\d:\d\d)?|\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}"
    r"|\d{1,2}\.?\s+[^\W\d_]{3,}\.?\s+\d{4}|[^\W\d_]{3,}\.?\s+\d{1,2},?\s+\d{4})"
)
_AFTER_LABEL = re.compile(_AFTER_DATE_LABEL, re.IGNORECASE)
# The same where the texts of two elements run together ("14:49:39Erschienen am: …").
_LOOSE_AFTER_LABEL = re.compile(_AFTER_DATE_LABEL.replace("\\s+", "\\s*"), re.IGNORECASE)
_PAGE_TEXT = "//body//text()[not(ancestor::script or ancestor::style)]"
# The texts after the first <h1> (how far down a date still belongs to the headline:
# shown_dates.UNDER_HEADLINE_CHARS).
_AFTER_HEADLINE = (
    "(//h1)[1]/following::text()[not(ancestor::script or ancestor::style)][position() <= 30]"
)
_AROUND_SHOWN_DATE = " \t\r\n|–—-·•,"
# A date written as a line of its own: "21.11.2022", "17/02/2022", "3. Mai 2021", "May 3, 2021".
_SHOWN_DATE = re.compile(
    r"\d{4}-\d\d-\d\d|\d{1,2}\.\s?\d{1,2}\.\s?\d{4}|\d{1,2}/\d{1,2}/\d{4}"
    r"|\d{1,2}\.?\s+[^\W\d_]{3,}\.?\s+\d{4}|[^\W\d_]{3,}\.?\s+\d{1,2},?\s+\d{4}"
)
# A UTC time on the hour from here to 23:00 is taken for a local midnight (UTC+1 … UTC+4):
# later, a real evening publication on the hour is more likely than a midnight so far east.
LOCAL_MIDNIGHT_HOUR = 20
# A day in an article's URL path: /2019/01/01/, /2017/7/12/.
_URL_DAY = re.compile(r"/((?:19|20)\d\d)/(\d{1,2})/(\d{1,2})/")
# A time with a numeric offset other than "Z" ("…T23:37:37-04:00", "… +0200").
_DECLARED_OFFSET = re.compile(r"\d:\d\d(?::\d\d)?(?:[.,]\d+)?\s*[+-]\d\d:?\d\d\s*$")


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
    title = headline(tree, url, meta, article, guesses.title, guesses.sitename)
    published = _on_local_day(published, url, tree, meta, article) or _shown_date(
        tree, guesses.date
    )
    return Metadata(
        headline=title,
        byline=byline(tree, meta, article, guesses.author, publisher_keys(url, meta, article)),
        published=_as_shown(published, shown_days(tree, title, url)),
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
        # schema.org's creation day, where the article node gives no publication day.
        + [json_str(article, "dateCreated"), _time_itemprop(tree, "datepublished")]
    )
    modified = _first_date(
        [meta.get(MODIFIED_META[0]), json_str(article, "dateModified")]
        + [meta.get(key) for key in MODIFIED_META[1:]]
        + [_time_itemprop(tree, "datemodified")]
    )
    return published, modified


def _on_local_day(
    moment: datetime | None,
    url: str,
    tree: lxml.html.HtmlElement,
    meta: dict[str, str],
    article: dict[str, Any],
) -> datetime | None:
    """``moment``, when it is given in UTC, seen from the page's own clock.

    A CMS that writes UTC says nothing of the page's own offset, and near midnight the UTC
    day is not the day the page shows. In order of trust: the day its URL names
    (``/2019/01/01/``); the offset the page's other declared times carry
    (``<time datetime="…-04:00">``); a local midnight written in UTC. The instant stays the
    same; only its offset changes. A bare day (read as midnight UTC) is left as it is.
    """
    if moment is None or moment.utcoffset() != timedelta(0) or moment.time() == time(0):
        return moment
    match = _URL_DAY.search(url)
    if match:
        try:
            return _seen_on(moment, date(*map(int, match.groups())))
        except ValueError:
            pass
    offset = _page_offset(tree, meta, article)
    if offset is not None:
        return moment.astimezone(offset)
    if moment.hour >= LOCAL_MIDNIGHT_HOUR and moment.time() == time(moment.hour):
        # "2022-11-06T23:00:00Z": a day stored as midnight east of Greenwich (here UTC+1)
        # and written in UTC; a publication on the stroke of an evening hour is rare.
        return moment.astimezone(timezone(timedelta(hours=24 - moment.hour)))
    return moment


def _as_shown(moment: datetime | None, shown: tuple[ShownDay, ...]) -> datetime | None:
    """``moment`` on the day the page prints under its headline, where it prints another.

    A page that declares one day and shows its reader another was re-published (the shown
    day is the new one) or declared a UTC time that falls on another day than its own
    clock's; either way the page's day is the one it shows. A shown day that is the
    declared one, even among others, confirms it; a day labelled as an update's is not
    a publication's. A day or so apart keeps the instant, seen on the page's clock.
    """
    if moment is None and not shown:
        return None
    if moment is not None and any(found.day == moment.date() for found in shown):
        return moment
    days = [found.day for found in shown if not found.updated]
    if not days:
        return moment
    if moment is not None:
        seen = _seen_on(moment, days[0])
        if seen.date() == days[0]:
            return seen
    return datetime.combine(days[0], time(0), UTC)


def _seen_on(moment: datetime, day: date) -> datetime:
    """``moment`` with the smallest whole-hour offset that puts it on ``day``, when it falls
    on the day before or after; else ``moment`` as it is."""
    days = (day - moment.date()).days  # no overflow, unlike date arithmetic near year 1
    hours = {-1: -(moment.hour + 1), 1: 24 - moment.hour}.get(days)
    if hours is None or not -12 <= hours <= 14:
        return moment
    try:
        return moment.astimezone(timezone(timedelta(hours=hours)))
    except OverflowError:  # a placeholder date at the edge of the calendar
        return moment


def _page_offset(
    tree: lxml.html.HtmlElement, meta: dict[str, str], article: dict[str, Any]
) -> tzinfo | None:
    """The UTC offset other than zero that the page's declared times carry most often, or
    None: a site keeps one clock, and a page that writes its publication time in UTC often
    writes the same instant in local time elsewhere (a <time> element, another <meta>)."""
    declared = [meta.get(key) for key in (*PUBLISHED_META, *MODIFIED_META, *_OTHER_DATE_META)]
    declared += [json_str(article, "datePublished"), json_str(article, "dateModified")]
    declared += [element.get("datetime") for element in tree.iter("time")]
    offsets: Counter[timedelta] = Counter()
    for text in declared:
        parsed = parse_page_date(text) if text and _DECLARED_OFFSET.search(text) else None
        offset = parsed.utcoffset() if parsed is not None else None
        if offset:
            offsets[offset] += 1
    return timezone(offsets.most_common(1)[0][0]) if offsets else None


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


def _first_time(tree: lxml.html.HtmlElement) -> str | None:
    """The first <time> of the page outside lists of other articles and comments."""
    for element in tree.iter("time"):
        if not in_other_content(element):
            return (element.get("datetime") or element.text_content() or "").strip() or None
    return None


def _shown_date(tree: lxml.html.HtmlElement, guessed: str | None) -> datetime | None:
    """Where the page declares no date: the one its text labels as the publication's, then
    its first <time> outside lists of other articles, then a date written under its
    headline, then trafilatura's guess."""
    for read in (_labelled_date, _first_time, _date_under_headline):
        found = _first_date([read(tree)])
        if found is not None:
            return found
    return _first_date([guessed])


def _labelled_date(tree: lxml.html.HtmlElement) -> str | None:
    """The first date the page's text labels as the publication's ("Veröffentlicht am
    16.08.2019", "Erschienen am: 13.10.2021", "Written: 2023-11-07 15:03:30")."""
    if _label_then_date(tree.text_content(), _LOOSE_AFTER_LABEL, whole_words=False) is None:
        return None  # a cheap look first, where texts run together: most pages have none
    # The label and the date are often in two elements ("<span>Erschienen am:</span>
    # <h2>13.10.2021</h2>"): the page's texts are read with a space between them.
    return _label_then_date(" ".join(tree.xpath(_PAGE_TEXT)), _AFTER_LABEL, whole_words=True)


def _label_then_date(text: str, after: re.Pattern[str], *, whole_words: bool) -> str | None:
    """The first date in ``text`` right after one of the date labels. Labels are found with
    ``str.find``: one regex of alternatives tried at every position of a page is slow."""
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lowers to two characters: positions would shift
        lowered = text
    found: list[tuple[int, str]] = []
    for label in _DATE_LABELS:
        position = lowered.find(label)
        while position >= 0:
            end = position + len(label)
            if not whole_words or not (
                (position and lowered[position - 1].isalnum())
                or (end < len(lowered) and lowered[end].isalnum())
            ):
                date_match = after.match(text, end)
                if date_match:
                    found.append((position, date_match.group("date")))
                    break
            position = lowered.find(label, end)
    return min(found)[1] if found else None


def _date_under_headline(tree: lxml.html.HtmlElement) -> str | None:
    """The first date written as a line of its own in the few lines after the page's <h1>,
    where article templates print it ("Familie | 17/02/2022")."""
    seen = 0
    for text in tree.xpath(_AFTER_HEADLINE):
        # A date that is a line of its own: one inside a sentence is some event's.
        found = _SHOWN_DATE.fullmatch(text.strip(_AROUND_SHOWN_DATE))
        if found:
            return found.group(0)
        seen += len(text)
        if seen > UNDER_HEADLINE_CHARS:
            break
    return None
