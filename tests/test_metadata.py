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


@pytest.mark.parametrize("placeholder", ["Name", "Cortesía", "Autor", "Staff", "By", "admin"])
def test_placeholder_bylines_are_no_bylines(extract, placeholder: str) -> None:
    head = f'<title>Konzert</title><meta name="author" content="{placeholder}">'

    assert extract(page(head)).byline is None


def test_the_newsroom_as_author_is_a_byline(extract) -> None:
    # "Redaktion" (the editorial team) attributes the piece; "Name" is an unfilled field.
    head = '<title>Konzert</title><meta name="author" content="Redaktion">'

    assert extract(page(head)).byline == "Redaktion"


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


# --- the visible headline, confirmed by the declarations (second round) ----------------


def read(html: str, url: str = URL, guesses: Guesses | None = None) -> object:
    """read_metadata on a page given as text (no trafilatura: its guesses are passed in)."""
    return read_metadata(lxml.html.fromstring(html), url, guesses or Guesses())


def test_blog_title_under_a_site_name_h1_that_links_home() -> None:
    html = (
        "<html><head><title>Nach langer Zeit | Ein Hundetagebuch</title></head><body>"
        "<h1><a href='https://www.example-news.at/'>Ein Hundetagebuch</a></h1>"
        "<h2>Nach langer Zeit</h2><p>Text.</p></body></html>"
    )

    assert read(html).headline == "Nach langer Zeit"


def test_the_one_h1_beats_an_seo_variant_of_the_title() -> None:
    html = (
        "<html><head><meta property='og:title' content='VW-Chef Diess warnt vor Tesla'>"
        "</head><body><h1>VW-Chef warnt vor Tesla und dem Golf aus China</h1></body></html>"
    )

    assert read(html).headline == "VW-Chef warnt vor Tesla und dem Golf aus China"


def test_a_kicker_marked_up_inside_the_h1_is_not_the_headline() -> None:
    html = (
        "<html><head><meta property='og:title' content='Luftfahrt hebt nach Corona ab'>"
        "</head><body><h1><span class='kicker'>Auftragshoch bei FACC</span> "
        "Luftfahrt hebt nach Corona ab</h1></body></html>"
    )

    assert read(html).headline == "Luftfahrt hebt nach Corona ab"


def test_an_h1_that_is_plain_text_keeps_its_whole_wording() -> None:
    html = (
        "<html><head><meta property='og:title' content='Marita Kramer verpasst Peking'>"
        '</head><body><h1>"Pure Leere": Marita Kramer verpasst Peking</h1></body></html>'
    )

    assert read(html).headline == '"Pure Leere": Marita Kramer verpasst Peking'


def test_a_site_name_guess_that_is_the_title_does_not_hide_the_headline() -> None:
    title = "Ergebnisse: Schülerinnen A, Aalen, 19.5.2007"
    html = (
        f"<html><head><title>{title} | Leichtathletik Ostalb</title></head><body>"
        f"<h1>{title}</h1><h3>Leichtathletik Ostalb</h3></body></html>"
    )

    assert read(html, guesses=Guesses(title=title, sitename=title)).headline == title


def test_a_section_heading_loses_to_the_longer_part_of_the_title() -> None:
    html = (
        "<html><head><title>Bundespolizei - Aktuelles - Illegale Migration nimmt zu"
        "</title></head><body><h3>Aktuelles</h3><h3>Illegale Migration nimmt zu</h3>"
        "</body></html>"
    )

    assert read(html).headline == "Illegale Migration nimmt zu"


# --- bylines marked in the page, and "By …" lines -------------------------------------


@pytest.mark.parametrize(
    ("byline_html", "expected"),
    [
        ('<span class="author vcard"><a class="url fn n" href="/a">Anna Berger</a></span>',
         "Anna Berger"),
        ('<div class="post-date-author">Veröffentlicht am 8. Februar 2022 von PETA-Team</div>',
         "PETA-Team"),
        ('<span class="meta-prep meta-prep-author">Posted by</span> '
         '<span class="author vcard">uriebe</span>', "uriebe"),
        ("<p>Von Fiona Bornhöft und Mariam Hofbeck | 1. Januar 2023</p>",
         "Fiona Bornhöft und Mariam Hofbeck"),
        ("<p>Autor: Klausmartin Friedrich</p>", "Klausmartin Friedrich"),
        ("<p>Autor: <a href='/a/7'>Klausmartin Friedrich</a> Tags: 1907, 1931, Braunschweig, "
         "Büssing, Feuerwehr, Haubenfahrzeuge, Nachkriegszeit, Oldtimer, Tanklöschfahrzeug</p>",
         "Klausmartin Friedrich"),
        ("<div class='meta'>06.11.2023 13:30 von Olga</div>", "Olga"),
    ],
)  # fmt: skip
def test_bylines_marked_or_written_in_the_page(byline_html: str, expected: str) -> None:
    html = f"<html><body><article><h1>Konzert</h1>{byline_html}<p>Text.</p></article></body></html>"

    assert read(html).byline == expected


@pytest.mark.parametrize(
    "byline_html",
    [
        # A photo credit, a reader's comment, and a sentence that starts with "Von".
        '<figure><span class="gallery__item--bu--autor">Foto: Ingo Schneider</span></figure>',
        '<div class="comments"><span class="comment-author vcard"><b class="fn">Karl</b>'
        "</span></div>",
        "<p>Von Kopf bis Fuß: Frost-Schützer für Mountainbiker</p>",
    ],
)
def test_what_is_not_a_byline(byline_html: str) -> None:
    html = f"<html><body><article><h1>Konzert</h1>{byline_html}<p>Text.</p></article></body></html>"

    assert read(html).byline is None


def test_meta_author_that_names_the_site_gives_way_to_the_byline() -> None:
    html = (
        "<html><head><meta name='author' content='Badische Zeitung'>"
        "<meta property='og:site_name' content='Badische Zeitung'></head><body><article>"
        "<h1>Konzert</h1><p class='info'>Von Lisa Petrich</p><p>Text.</p></article></body></html>"
    )

    assert read(html).byline == "Lisa Petrich"


# --- a UTC timestamp read on the URL's day --------------------------------------------


@pytest.mark.parametrize(
    ("url_day", "declared", "offset_hours"),
    [
        ("2019/01/01", "2018-12-31T23:11:59+00:00", 1),
        ("2020/02/24", "2020-02-25T02:25:54Z", -3),
    ],
)
def test_a_utc_timestamp_is_shown_on_the_day_its_url_names(
    url_day: str, declared: str, offset_hours: int
) -> None:
    html = (
        f"<html><head><meta property='article:published_time' content='{declared}'>"
        "</head><body><p>Text.</p></body></html>"
    )
    published = read(html, url=f"https://blog.example.org/{url_day}/post/").published

    assert published == datetime.fromisoformat(declared)  # the same instant
    assert published.utcoffset() == timedelta(hours=offset_hours)
    assert published.date().isoformat() == url_day.replace("/", "-")


def test_a_utc_timestamp_far_from_the_url_day_is_left_alone() -> None:
    html = (
        "<html><head><meta property='article:published_time' content='2020-03-05T12:00:00Z'>"
        "</head><body><p>Text.</p></body></html>"
    )
    published = read(html, url="https://blog.example.org/2020/02/24/post/").published

    assert published == datetime(2020, 3, 5, 12, tzinfo=UTC)
    assert published.utcoffset() == timedelta(0)


def test_a_placeholder_date_is_no_date() -> None:
    html = (
        "<html><head><meta property='article:published_time' content='0001-01-01T00:00:00Z'>"
        "<meta name='date' content='x'></head><body><p>Text.</p></body></html>"
    )

    assert read(html, url="https://news.example.org/2019/11/19/story/").published is None


def test_a_line_break_in_the_heading_is_a_space_and_its_kicker_is_cut() -> None:
    html = (
        "<html><head><title>Open Progress - Why thinking together wins | The Economist</title>"
        "<meta property='og:title' content='Why thinking together wins'></head><body>"
        "<h1><span class='sub'>Open Progress</span><br><span>Why thinking together wins</span>"
        "</h1></body></html>"
    )

    assert read(html).headline == "Why thinking together wins"


def test_a_heading_that_matches_the_og_title_drops_the_kicker_twitter_leaves_out() -> None:
    html = (
        "<html><head><meta property='og:title' content='Grenzen: Paris und Berlin entfremden sich'>"
        "<meta name='twitter:title' content='Paris und Berlin entfremden sich'></head><body>"
        "<h2><span>Grenzen</span>: Paris und Berlin entfremden sich</h2></body></html>"
    )

    assert read(html).headline == "Paris und Berlin entfremden sich"


# --- a UTC timestamp read on the page's own clock, and pages that declare no date -------


def test_a_utc_timestamp_takes_the_offset_of_the_pages_other_times() -> None:
    html = (
        "<html><head><meta property='article:published_time' content='2022-05-04T03:37:37Z'>"
        "</head><body><time datetime='2022-05-03T23:37:37-04:00'>3 May, 2022, 11:37 pm</time>"
        "<p>Text.</p></body></html>"
    )
    published = read(html).published

    assert published == datetime(2022, 5, 4, 3, 37, 37, tzinfo=UTC)  # the same instant
    assert published.utcoffset() == timedelta(hours=-4)
    assert published.date().isoformat() == "2022-05-03"


def test_a_local_midnight_written_in_utc_is_the_next_day() -> None:
    html = (
        "<html><head><meta property='article:published_time' content='2022-11-06T23:00:00.000Z'>"
        "</head><body><p>Text.</p></body></html>"
    )
    published = read(html).published

    assert published == datetime(2022, 11, 6, 23, tzinfo=UTC)
    assert published.date().isoformat() == "2022-11-07"


@pytest.mark.parametrize(
    "declared",
    [
        "2022-11-06T19:00:00Z",  # an evening hour: a publication, not a midnight
        "2022-11-06T23:12:00Z",  # not on the hour
    ],
)
def test_other_utc_times_keep_their_utc_day(declared: str) -> None:
    html = (
        f"<html><head><meta property='article:published_time' content='{declared}'>"
        "</head><body><p>Text.</p></body></html>"
    )

    assert read(html).published.date().isoformat() == "2022-11-06"


def test_a_bare_day_is_not_moved_by_the_pages_offset() -> None:
    node = {"@type": "DiscussionForumPosting", "datePublished": "2020-09-18"}
    html = (
        f"<html><head>{json_ld(node)}</head><body>"
        "<time datetime='2020-09-18T08:56:40-0700'>Sep 18, 2020</time><p>Text.</p></body></html>"
    )

    assert read(html).published.date().isoformat() == "2020-09-18"


@pytest.mark.parametrize(
    ("body", "day"),
    [
        # The label and the date in two elements; the date beats trafilatura's guess.
        ('<div><span class="sub">Erschienen am:</span><h2> 13.10.2021 </h2></div>', "2021-10-13"),
        ("<p>Letzte Änderung: 31.10.2023 - 14:49:39<br>Erschienen am: 01.11.2023</p>",
         "2023-11-01"),
        ("<p>Written: 2023-11-07 15:03:30 / Updated: 2023-11-07 15:30:46</p>", "2023-11-07"),
        ("<p>Posted on March 3, 2020 by Jane</p>", "2020-03-03"),
        ("<p>Datum: 18.10.2021</p><p>Im Bundesgesetzblatt vom 17. August 2021 …</p>",
         "2021-10-18"),
        # "veröffentlicht" inside another word is no label.
        ("<p>Unveröffentlicht 12.12.2012 blieb der Entwurf, den die Redaktion im Archiv fand."
         "</p><time datetime='2021-02-01'>1. Februar</time>", "2021-02-01"),
    ],
)  # fmt: skip
def test_a_page_without_declarations_is_dated_by_its_labelled_date(body: str, day: str) -> None:
    html = f"<html><body><article><h1>Konzert</h1>{body}<p>Text.</p></article></body></html>"

    assert read(html, guesses=Guesses(date="2021-10-15")).published.date().isoformat() == day


def test_the_first_time_element_outside_related_articles_dates_the_page() -> None:
    html = (
        "<html><body><ul class='related-posts'><li><article><p class='post-date'>"
        "<time datetime='2009-04-11 18:06:36'>11. April 2009</time></p></article></li></ul>"
        "<article><h1>Konzert</h1><time class='field-node-create-date'>29.04.2020, 12:01 Uhr"
        "</time><p>Text.</p></article></body></html>"
    )

    assert read(html, guesses=Guesses(date="2020-04-30")).published.date().isoformat() == (
        "2020-04-29"
    )


def test_a_date_on_a_line_of_its_own_under_the_headline_dates_the_page() -> None:
    html = (
        "<html><body><nav>12.12.2012</nav><h1>Wie spreche ich mit meiner Tochter?</h1>"
        "<div><a href='/familie'>Familie</a><span> 17/02/2022 </span></div>"
        "<p>Text.</p></body></html>"
    )

    assert read(html, guesses=Guesses(date="2023-01-19")).published.date().isoformat() == (
        "2022-02-17"
    )


def test_a_date_inside_a_sentence_under_the_headline_is_some_events() -> None:
    html = (
        "<html><body><h1>Zentrum am Berg eröffnet</h1><p>Das Zentrum wurde am 18. Oktober 2021"
        " offiziell eröffnet.</p></body></html>"
    )

    assert read(html, guesses=Guesses(date="2021-10-20")).published.date().isoformat() == (
        "2021-10-20"
    )


# --- the day the page shows under its headline (issue 15) -------------------------------


def dated_page(head: str, under: str, *, lang: str = "de", h1: str = "Konzert") -> str:
    """A page declaring ``head``, with ``under`` printed right under its headline."""
    return (
        f"<html lang='{lang}'><head>{head}</head><body><h1>{h1}</h1>{under}"
        "<p>Text.</p></body></html>"
    )


def test_a_republished_page_is_dated_by_the_day_it_shows() -> None:
    html = dated_page(
        "<meta property='article:published_time' content='2021-11-29T14:13:37+00:00'>",
        "<div><span>Christoph Hein</span> <span>ca. 8 Min.</span> <span>12.01.2022</span></div>",
    )

    assert read(html).published.date().isoformat() == "2022-01-12"


def test_a_utc_time_shown_on_the_day_before_keeps_its_instant() -> None:
    html = dated_page(
        "<meta property='article:published_time' content='2022-05-04T00:44:52Z'>",
        "<p>Por Rodolfo Costa | Brasília | 03/05/2022 21:44</p>",
        lang="pt-BR",
    )
    published = read(html).published

    assert published == datetime(2022, 5, 4, 0, 44, 52, tzinfo=UTC)  # the same instant
    assert published.date().isoformat() == "2022-05-03"


@pytest.mark.parametrize(
    ("lang", "day"),
    [("en-US", "2020-02-10"), ("en", "2020-02-10"), ("en-GB", "2020-10-02"), ("fr", "2020-10-02")],
)
def test_a_shown_numeric_day_is_read_in_the_pages_language(lang: str, day: str) -> None:
    html = dated_page("", "<div>The Guardian</div><div>02/10/2020</div>", lang=lang)

    assert read(html, guesses=Guesses(date="2020-03-01")).published.date().isoformat() == day


@pytest.mark.parametrize(
    "under",
    [
        # The declared day is among those shown: the other one is a revision's.
        "<p>29. Dezember 2022</p><p>30. Dezember 2022</p>",
        # A day labelled as an update's is no publication's, in its line or the one before.
        "<p>Updated Mar 12, 2023 @ 10:42 am</p>",
        "<span>Aktualisiert:</span><span>12.03.2023</span>",
        # A day inside a sentence, or labelled as an event's, is some event's.
        "<p>Der nächste Stammtisch findet am 5. Februar 2023 im Saal statt.</p>",
        "<p>Termin: 21.02.2023, 19 Uhr</p>",
        "<b>Release:</b><b>14.11.2023</b>",
        # A range's end, a photo credit and a widget of recent posts are no date lines.
        "<p>9-23 Feb 2023 | Mo-Fr 9–16</p>",
        "<p>© Kurt Wessolek, 31.05.2013</p>",
        "<div class='widget widget_recent_entries'><h2>Recent Posts</h2>"
        "<span>October 30, 2023</span></div>",
    ],
)
def test_the_declared_day_stands_against_these_shown_days(under: str) -> None:
    html = dated_page(
        "<meta property='article:published_time' content='2022-12-30T07:00:40+01:00'>", under
    )

    assert read(html).published.date().isoformat() == "2022-12-30"


def test_a_shown_day_outside_the_urls_month_is_another_items() -> None:
    html = dated_page(
        "<meta property='article:published_time' content='2019-10-01T10:00:00+02:00'>",
        "<p>18. Januar 2019</p>",
    )

    assert read(html, url="https://blog.example.org/2019/10/laufschuh/").published == (
        datetime(2019, 10, 1, 10, tzinfo=timezone(timedelta(hours=2)))
    )


def test_the_date_line_follows_the_heading_that_carries_the_headline() -> None:
    html = (
        "<html lang='de'><head><meta property='og:title' content='Schneesport und Wildtiere'>"
        "</head><body><h1>Alpenclub</h1><p>12.12.2012</p><nav>Hütten</nav>"
        "<h2>Schneesport und Wildtiere</h2><p>Erscheinungsdatum</p><p>25.01.2022</p>"
        "<p>Text.</p></body></html>"
    )
    metadata = read(html, guesses=Guesses(date="2022-01-15"))

    assert metadata.headline == "Schneesport und Wildtiere"
    assert metadata.published.date().isoformat() == "2022-01-25"


def test_the_article_nodes_creation_day_stands_in_for_its_publication() -> None:
    node = {"@type": "NewsArticle", "dateCreated": "2020-04-27T17:58:19+02:00"}
    html = (
        f"<html><head>{json_ld(node)}</head><body><ul><li><time itemprop='datePublished'>"
        "28.04.2020, 10:27 Uhr</time></li></ul><p>Text.</p></body></html>"
    )

    assert read(html).published.date().isoformat() == "2020-04-27"


@pytest.mark.parametrize(
    "body",
    [
        # A page layout's main column beside a sidebar is no sidebar.
        "<div class='lay'><h1>Jugada del oficialismo</h1></div><div class='lay-sidebar'>"
        "<div class='sidebar__main'><span>3 de mayo de 2022</span><p>Text.</p></div></div>",
        # Nor is a container of the headline itself, whatever its classes say.
        "<div class='article has-comments'><h1>Jugada del oficialismo</h1>"
        "<span>3 de mayo de 2022</span><p>Text.</p></div>",
    ],
)
def test_a_date_line_in_the_pages_own_layout_is_the_headlines(body: str) -> None:
    html = (
        "<html lang='es'><head><meta property='article:published_time' "
        f"content='2022-05-04T00:53:29Z'></head><body><main>{body}</main></body></html>"
    )

    assert read(html).published.date().isoformat() == "2022-05-03"
