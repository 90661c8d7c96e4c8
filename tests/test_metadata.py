"""Metadata (issue 15): the article's own headline, real bylines, the page's own day.

Each page is built here for one failure class seen on real pages; the extractor runs whole
(trafilatura included), because its guesses are what the page's declarations must beat.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import lxml.html
import pytest

from monitor.extract import TrafilaturaExtractor
from monitor.metadata import Guesses, read_metadata, strip_site_affix
from monitor.models import Page

URL = "https://www.example-news.at/kultur/2021/konzert"
BODY = "".join(
    f"<p>{text}</p>"
    for text in (
        "The orchestra opened the season on Tuesday evening with a programme of works "
        "by composers from the region, to a hall sold out weeks in advance.",
        "Critics praised the new conductor, who took over the ensemble last spring after "
        "the long illness of her predecessor, for her brisk tempi.",
        "The second concert of the series is planned for next month and will be broadcast "
        "live on regional radio for the first time.",
    )
)


def page(head: str, *, h1: str | None = None, byline_html: str = "") -> bytes:
    """A small article page: ``head`` inside <head>, an optional <h1>, the body."""
    heading = f"<h1>{h1}</h1>" if h1 else ""
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body>"
        f"<article>{heading}{byline_html}{BODY}</article></body></html>"
    ).encode()


def json_ld(node: dict[str, object]) -> str:
    return f'<script type="application/ld+json">{json.dumps(node)}</script>'


@pytest.fixture(scope="module")
def extract() -> object:
    extractor = TrafilaturaExtractor()

    def run(html: bytes, url: str = URL) -> Page:
        return extractor.extract(html, url)

    return run


# --- the headline without the site's name ---------------------------------------------


@pytest.mark.parametrize(
    ("title", "site"),
    [
        ("Konzert eröffnet die Saison › evang.at", None),
        ("Konzert eröffnet die Saison | Gelbe Liste", "Gelbe Liste"),
        ("Konzert eröffnet die Saison - California Globe", "California Globe"),
        ("Example News | Konzert eröffnet die Saison", "Example News"),
        ("Konzert eröffnet die Saison — example-news.at", None),
    ],
)
def test_site_name_affix_is_stripped_from_the_title(extract, title: str, site: str | None) -> None:
    site_meta = f'<meta property="og:site_name" content="{site}">' if site else ""
    result = extract(page(f"<title>{title}</title>{site_meta}"))

    assert result.title == "Konzert eröffnet die Saison"


def test_cjk_title_with_bare_hyphen_affix(extract) -> None:
    head = (
        "<title>武汉的声音：有英勇的你-新华网</title>"
        '<meta property="og:site_name" content="新华网">'
    )

    assert extract(page(head), "http://www.xinhuanet.com/a.htm").title == "武汉的声音：有英勇的你"


def test_h1_that_agrees_with_the_title_wins_whatever_the_affix(extract) -> None:
    """A site renaming itself or changing its separator must not change the headline."""
    titles = ["Konzert eröffnet die Saison | Kulturblatt", "Konzert eröffnet die Saison :: KB 2"]
    headlines = {
        extract(page(f"<title>{title}</title>", h1="Konzert eröffnet die Saison")).title
        for title in titles
    }

    assert headlines == {"Konzert eröffnet die Saison"}


def test_json_ld_headline_beats_the_page_title(extract) -> None:
    head = "<title>Kultur – Aktuelles</title>" + json_ld(
        {"@type": "NewsArticle", "headline": "Konzert eröffnet die Saison"}
    )

    assert extract(page(head)).title == "Konzert eröffnet die Saison"


def test_inner_separators_of_a_headline_survive() -> None:
    title = "Köln - Bonn: neue Linie | Stadtblatt"

    assert strip_site_affix(title, ["Stadtblatt"]) == "Köln - Bonn: neue Linie"
    assert strip_site_affix("Köln - Bonn", ["Stadtblatt"]) == "Köln - Bonn"


# --- bylines --------------------------------------------------------------------------


@pytest.mark.parametrize("placeholder", ["Name", "Cortesía", "Redacción", "Staff", "By", "admin"])
def test_placeholder_bylines_are_no_bylines(extract, placeholder: str) -> None:
    head = f'<title>Konzert</title><meta name="author" content="{placeholder}">'

    assert extract(page(head)).byline is None


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("Anna Berger", "Anna Berger"),
        ({"@type": "Person", "name": "Anna Berger"}, "Anna Berger"),
        (
            [{"@type": "Person", "name": "Anna Berger"}, "Jan Novak", {"name": "Staff"}],
            "Anna Berger, Jan Novak",
        ),
    ],
)
def test_json_ld_author_shapes(extract, author: object, expected: str) -> None:
    head = "<title>Konzert</title>" + json_ld({"@type": "Article", "author": author})
    byline_html = '<p class="byline">Von Redaktion Kultur und Gästen</p>'

    assert extract(page(head, byline_html=byline_html)).byline == expected


def test_rel_author_beats_free_text(extract) -> None:
    byline_html = (
        '<p class="byline">View all posts by <a rel="author" href="/u/1">Anna Berger</a></p>'
    )

    assert extract(page("<title>Konzert</title>", byline_html=byline_html)).byline == "Anna Berger"


# --- the page's own day ---------------------------------------------------------------


def test_published_keeps_the_pages_offset_and_day(extract) -> None:
    head = (
        "<title>Konzert</title>"
        '<meta property="article:published_time" content="2021-03-03T00:30+01:00">'
    )
    published = extract(page(head)).published

    assert published == datetime(2021, 3, 2, 23, 30, tzinfo=UTC)  # the same instant
    assert published is not None and published.utcoffset() == timedelta(hours=1)
    assert published.date().isoformat() == "2021-03-03"


def test_article_node_date_beats_related_list_dates() -> None:
    html = (
        "<html><head>"
        + json_ld({"@type": "Article", "datePublished": "2021-03-03T10:00:00+01:00"})
        + "</head><body><aside><div itemscope><meta itemprop='datePublished' "
        "content='2019-01-01'></div></aside><article><p>x</p></article></body></html>"
    )
    tree = lxml.html.fromstring(html)
    published = read_metadata(tree, URL, Guesses()).published

    assert published == datetime(2021, 3, 3, 10, tzinfo=timezone(timedelta(hours=1)))
