"""Bylines (issue 15): the markup patterns real pages write their authors in.

Each page is built here for one failure class seen on real pages; trafilatura's guesses are
passed in (none), so the page's own markup is what is read.
"""

from __future__ import annotations

import lxml.html
import pytest

from monitor.metadata import Guesses, read_metadata

URL = "https://www.example-news.at/kultur/2021/konzert"


def byline_of(body: str, head: str = "", guesses: Guesses | None = None) -> str | None:
    html = (
        f"<html><head><meta charset='utf-8'>{head}</head><body><article><h1>Konzert</h1>"
        f"{body}<p>The orchestra opened the season on Tuesday.</p></article></body></html>"
    )
    return read_metadata(lxml.html.fromstring(html), URL, guesses or Guesses()).byline


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # The prefix and the name in elements of their own, with no space between them.
        ('<div><span class="x1">By</span><span><a href="/team/jr">J.R. Stone</a></span></div>',
         "J.R. Stone"),
        # The next label right after the name, in the next element.
        ("<p><span>Autor:</span> Fritz Imhof<span>Quelle: Livenet</span></p>", "Fritz Imhof"),
        # A colon after the name is no next label.
        ("<p>Autor Mark Newton:</p>", "Mark Newton"),
        # A label that credits text and photos at once.
        ("<p><span>Text &amp; Fotos:</span> Ivan Valetny</p>", "Ivan Valetny"),
        # French, and a next label written with a space before its colon.
        ("<p>Auteur : Kossivi Tiassou Edition : M-A. Pioerron</p>", "Kossivi Tiassou"),
    ],
)  # fmt: skip
def test_byline_lines_across_elements(body: str, expected: str) -> None:
    assert byline_of(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<h4 class="vcard author"><span class="fn">vom Krimiblogger</span></h4>', "Krimiblogger"),
        # "von" inside a name is a particle, not the word that introduces it.
        ('<span class="author vcard"><a class="url fn n">Walter von Aachen</a></span>',
         "Walter von Aachen"),
        ('<p class="author">Pressemitteilung von Katja Kipping</p>', "Katja Kipping"),
    ],
)  # fmt: skip
def test_marked_bylines_with_a_by_word(body: str, expected: str) -> None:
    assert byline_of(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        '<footer><div class="copyright">Theme: ColorMag von <a href="https://themes.example"'
        ' rel="author">ThemeGrill</a>.</div></footer>',
        '<div class="site-credit">Theme: <a href="https://themes.example/graphy">Graphy</a>'
        " by Themegraphy</div>",
        # Only the rest of a label, no name.
        "<p><span>Text &amp; Fotos:</span></p>",
    ],
)
def test_theme_credits_and_bare_labels_are_no_bylines(body: str) -> None:
    assert byline_of(body) is None


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        ("<meta name='author' content='Nils'>",
         "<p><strong>Eine Kolumne von Nils Pickert</strong></p>", "Nils Pickert"),
        # A sidebar heading in capitals.
        ("", "<a rel='author' href='/author/henry/'>Henry</a><aside><h3>MEHR VON HENRY STEINHAU"
         "</h3></aside>", "Henry Steinhau"),
        # Nothing to complete with: the first name stays.
        ("<meta name='author' content='Lynn'>", "<p>Liebe Grüße!</p>", "Lynn"),
        # Not from the article's sentences, nor from a longer name of something else.
        ("<meta name='author' content='Google'>",
         "<p>We are bringing the intelligence of our tools to attacks against your Google "
         "Account, with a holistic view of the threats you encounter on the web.</p>"
         "<nav><a>Google Safe Browsing</a></nav>", "Google"),
    ],
)  # fmt: skip
def test_a_first_name_alone_is_completed_from_the_page(head: str, body: str, expected: str) -> None:
    assert byline_of(body, head) == expected


def test_a_name_escaped_twice_in_the_declarations_is_unescaped() -> None:
    head = "<meta name='author' content='Mar&amp;iacute;a L&amp;oacute;pez'>"

    assert byline_of("", head) == "María López"


def test_the_writer_of_an_seo_plugins_twitter_card() -> None:
    head = (
        "<meta name='twitter:label1' content='Verfasst von'>"
        "<meta name='twitter:data1' content='Karoline Herr'>"
        "<meta name='twitter:label2' content='Geschätzte Lesezeit'>"
        "<meta name='twitter:data2' content='4 Minuten'>"
    )

    assert byline_of("", head) == "Karoline Herr"


def test_a_twitter_card_that_is_not_about_the_writer_names_nobody() -> None:
    head = (
        "<meta name='twitter:label1' content='Geschätzte Lesezeit'>"
        "<meta name='twitter:data1' content='4 Minuten'>"
    )

    assert byline_of("", head) is None


def test_the_author_of_a_cited_paper_is_not_the_byline() -> None:
    body = (
        '<div class="c-author-list"><span class="author">Marwan H. Adwan</span></div>'
        '<ol><li itemprop="citation" itemscope itemtype="http://schema.org/ScholarlyArticle">'
        '<meta itemprop="author" content="NH. Shear, SP. Spielberg, ">'
        '<meta itemprop="datePublished" content="1988">Shear NH. Anticonvulsant …</li></ol>'
    )
    html = f"<html><body><article><h1>Drug reactions</h1>{body}</article></body></html>"
    metadata = read_metadata(lxml.html.fromstring(html), URL, Guesses())

    assert metadata.byline == "Marwan H. Adwan"
    assert metadata.published is None


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        # Words that begin in lower case are no name.
        ("<meta name='author' content='deinen Hochzeitsbloggern'>",
         "<p><em>Autor: Samuel Diekmann (Sponsored Post), Redner</em></p>", "Samuel Diekmann"),
        # An organisation gives way to a person; the person's role after a comma is cut.
        ("<meta name='author' content='Hanns-Seidel-Stiftung e.V.'>",
         "<p><strong>Autorin: Uta Staschewski, Projektleiterin der HSS in Tunesien.</strong></p>",
         "Uta Staschewski"),
        # Where no one else is named, the organisation is the byline.
        ("<meta name='author' content='Web Commerce GmbH'>", "", "Web Commerce GmbH"),
    ],
)  # fmt: skip
def test_people_before_organisations_and_phrases(head: str, body: str, expected: str) -> None:
    assert byline_of(body, head) == expected


def test_a_sentence_that_starts_with_von_and_a_list_is_no_byline() -> None:
    assert byline_of("<p>Von Künstlern, Bands, DJs und anderen Leuten gemacht.</p>") is None


def test_names_joined_by_a_bare_comma_get_their_space() -> None:
    head = "<meta property='author' content=\"Sadhbh O'Sullivan,Elisabeth Kochan\">"

    assert byline_of("", head) == "Sadhbh O'Sullivan, Elisabeth Kochan"
