"""Bylines (issue 15): the markup patterns real pages write their authors in.

Each page is built here for one failure class seen on real pages; trafilatura's guesses are
passed in (none), so the page's own markup is what is read.
"""

from __future__ import annotations

import json

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


# --- issue 15, second round: declarations read whole, lists of other articles, credits ---


def json_ld(data: object) -> str:
    return f"<script type='application/ld+json'>{json.dumps(data)}</script>"


def test_a_json_ld_author_given_by_reference_is_read_from_the_graph() -> None:
    # SEO plugins name the author once, in a Person node, and refer to it by @id.
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Article", "author": {"@id": "https://x.example/#/schema/person/1"}},
            {
                "@type": "Person",
                "@id": "https://x.example/#/schema/person/1",
                "name": "Anna Berger",
            },
        ],
    }
    # A related article's byline, which the page-wide scans would take otherwise.
    body = '<aside><span class="author">Jan Novak</span></aside>'

    assert byline_of(body, json_ld(graph)) == "Anna Berger"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # The newsroom the JSON-LD names as an organisation gives way to the person …
        ("<p>Von Cosima Künzel</p>", "Cosima Künzel"),
        # … and is the byline where no one else is named.
        ("", "LN"),
    ],
)
def test_an_organisation_declared_in_json_ld_gives_way_to_a_person(
    body: str, expected: str
) -> None:
    head = json_ld({"@type": "NewsArticle", "author": {"@type": "Organization", "name": "LN"}})

    assert byline_of(body, head) == expected


@pytest.mark.parametrize(
    ("head", "body", "guess", "expected"),
    [
        # The site's name in a credit, split by trafilatura into an agency "AFP" and the site.
        ("<meta property='og:site_name' content='The Local'>"
         "<meta name='twitter:label1' content='Written by'>"
         "<meta name='twitter:data1' content='AFP/The Local'>", "", "AFP; The Local",
         "AFP/The Local"),
        # A domain as the author, which trafilatura writes as words.
        ("", '<span class="author">Autor: www.koffergepackt.com</span>',
         "Autor www koffergepackt com", "www.koffergepackt.com"),
        # An HTML escape, which trafilatura split at its semicolon.
        (json_ld({"@type": "Article", "author": {"@type": "Person",
                                                 "name": "Redacci&oacute;n Example News"}}),
         "", "Redacci; Oacute; N Example News", "Redacción Example News"),
    ],
)  # fmt: skip
def test_a_guess_that_resplits_a_declaration_names_nobody_new(
    head: str, body: str, guess: str, expected: str
) -> None:
    assert byline_of(body, head, Guesses(author=guess)) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # A template's "dates_auteurs" that gives the print issue, then the byline.
        ('<div class="dates_auteurs">En kiosques : <a href="/2020/07">juillet 2020</a></div>'
         '<div class="dates_auteurs"><span class="auteurs">Didier Roy</span>, 21 juin 2018</div>',
         "Didier Roy"),
        # A picture's licence line names its photographer.
        ('<div class="license-info"><span class="author-name"><a class="license-author">'
         "Nenad Stojkovic</a></span></div><p>Von Mark Newton</p>", "Mark Newton"),
        # An author box that also holds a rating: its first line.
        ('<div class="author"><a href="/autoren/gq/">Georg Quaas</a>, 21. Jan. 2015'
         '<div class="rating"><span>12 Stimmen, 3.17 von 5 Sternen für diesen Artikel</span>'
         "<form><input type='submit' value='Bewerten'></form></div></div>", "Georg Quaas"),
        # Teasers of other articles carry their own bylines; so do related lists' rel=author.
        ('<div class="fachartikel-listing"><div class="item__author">Von Jörn Mecher am '
         "08.12.2022</div></div><p>Von Jörg Staff</p>", "Jörg Staff"),
        ('<a rel="author" href="/u/tt">Tatyana Turner</a><ul class="related-posts"><li>'
         '<a rel="author" href="/u/cs">Claire Stottlemyer</a></li></ul>', "Tatyana Turner"),
    ],
)  # fmt: skip
def test_marked_bylines_of_the_article_itself(body: str, expected: str) -> None:
    assert byline_of(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "<h2>Übersicht der Vor- und Nachteile beim <strong>Leasing</strong> von Firmenwägen</h2>",
        "<p>You can get an idea of the timeline through <a href='/log'>the history</a>,\nBy June"
        " 2016, most of the code base was ported.</p>",
    ],
)
def test_headings_and_months_are_no_bylines(body: str) -> None:
    assert byline_of(body) is None


def test_a_page_that_names_no_one_has_no_byline_not_the_sites_name() -> None:
    # The byline is hashed with the text: a site that renamed itself would otherwise make a
    # new version of every unsigned article it publishes.
    head = "<title>Leben | Greenpeace</title><meta property='og:site_name' content='Greenpeace'>"

    assert byline_of("<p>Nachhaltiger leben für Klima und Umwelt.</p>", head) is None


def test_an_article_loaded_into_a_list_of_articles_keeps_its_byline() -> None:
    # Infinite-scroll templates put the article itself, with its headline, in the list.
    html = (
        "<html><body><div class='alm-listing'><div class='alm-reveal'><h1>Nicole Hacohen"
        " comenzará la temporada</h1><span class='writter'>Por: Juan Diego</span>"
        "<p>La temporada comienza en Glasgow.</p></div></div></body></html>"
    )

    assert read_metadata(lxml.html.fromstring(html), URL, Guesses()).byline == "Juan Diego"


@pytest.mark.parametrize(
    ("byline_html", "expected"),
    [
        # The visible byline names a co-author the JSON-LD leaves out.
        ('<span class="author">Rudolf Fischer, Simon Kohler</span>',
         "Rudolf Fischer, Simon Kohler"),
        # A role after the name is no co-author.
        ('<span class="author">Rudolf Fischer, Online-Redaktion Veröffentlicht</span>',
         "Rudolf Fischer"),
    ],
)  # fmt: skip
def test_co_authors_the_declarations_leave_out(byline_html: str, expected: str) -> None:
    head = json_ld({"@type": "Article", "author": {"@type": "Person", "name": "Rudolf Fischer"}})

    assert byline_of(byline_html, head) == expected


def test_an_institution_as_the_declared_author_gives_way_to_a_person() -> None:
    head = "<meta name='author' content='Bayerische Landesanstalt für Wald und Forstwirtschaft'>"

    assert byline_of('<span class="author">Joachim Hamberger</span>', head) == "Joachim Hamberger"


def read_byline(body: str, head: str = "") -> str | None:
    html = f"<html><head>{head}</head><body><h1>Wahl</h1><div>{body}</div></body></html>"
    return read_metadata(lxml.html.fromstring(html), URL, Guesses()).byline


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # An agency's dateline.
        ("<p>Hamburg (dpa/lno) – Trotz eines Gespräches bleiben die Fronten verhärtet.</p>"
         "<p>Mehr dazu morgen.</p>", "dpa/lno"),
        # The writer's credit after the article's last sentence.
        ("<p>Die Wahl ist entschieden.</p><p>Nun muss geliefert werden.</p>"
         "<p>Die Politik bleibt spannend. (Christian P. Stadtfeld) +++</p>",
         "Christian P. Stadtfeld"),
        # A parenthesis after a sentence elsewhere is a book's publisher, not a credit.
        ("<p>Sein Buch erschien 2019. (Kiepenheuer &amp; Witsch)</p><p>Er liest heute.</p>"
         "<p>Der Eintritt ist frei.</p>", None),
        # A dateline's place in parentheses is no credit.
        ("<p>Rostow (Russland) - Fünf Kinder sterben bei einem Brand.</p><p>Mehr morgen.</p>",
         None),
        # A team after a name, with a colon, is no dateline.
        ("<p><b>Eileen Gu (China/Ski Freestyle):</b> Seit 2019 startet sie für China.</p>",
         None),
    ],
)  # fmt: skip
def test_credits_in_parentheses(body: str, expected: str | None) -> None:
    assert read_byline(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<small>04.02.2022 | 13:10 Uhr | Uta Helkenberg</small>", "Uta Helkenberg"),
        ("<p class='text-muted'>11.12.2019 - Amelie Loevenich</p>", "Amelie Loevenich"),
        # One capitalized word after a date is a category more often than a name; so are
        # words joined by a slash.
        ("<p>17.03.2020 - Botschaft</p>", None),
        ("<p>12.05.2021 - Gemeinde/ Stadt</p>", None),
    ],
)
def test_a_date_then_the_writer(body: str, expected: str | None) -> None:
    assert read_byline(body) == expected


def test_a_line_that_quotes_the_title_is_no_byline() -> None:
    head = "<title>Mein Motto Konsumsparen: Fazit und Pläne</title>"
    body = (
        "<h6>Text: Mein Motto Konsumsparen: Fazit und Pläne @example-news.at</h6>"
        "<p>Geschrieben von: Jane Doe</p>"
    )

    assert read_byline(body, head) == "Jane Doe"


@pytest.mark.parametrize(
    ("guess", "expected"),
    [
        # A reader whose name the page writes only in its comments.
        ("Stephangoeldi", None),
        # A date.
        ("On August 3", None),
        # A name the page writes in the article.
        ("Jane Doe", "Jane Doe"),
    ],
)
def test_a_guess_of_a_commenter_or_a_date_is_no_byline(guess: str, expected: str | None) -> None:
    body = (
        "<p>Written with care by our own Jane Doe, on August 3.</p>"
        '<ol class="commentlist"><li><div class="comment-author"><a>stephangoeldi</a> said, '
        "on August 3, 2019</div><p>Thanks!</p></li></ol>"
    )

    assert byline_of(body, guesses=Guesses(author=guess)) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # A blog's "by <user>" line, where no line names a person.
        (
            '<div class="meta"><a href="/c/1">Schule</a> by damianduchamps on August 3, 2019</div>',
            "damianduchamps",
        ),
        # A button's "Text vorlesen" before the byline.
        ("<p>Text vorlesen</p><p>Von David Hutzler</p>", "David Hutzler"),
    ],
)
def test_a_user_name_in_a_by_line(body: str, expected: str) -> None:
    assert byline_of(body) == expected


def _article(paragraphs: str) -> str | None:
    html = f"<html><body><article><h1>Derby</h1>{paragraphs}</article></body></html>"
    return read_metadata(lxml.html.fromstring(html), URL, Guesses()).byline


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        # The writer signs off in italics, as the last paragraph of the article.
        ("<p><b><i>Stefan Wasmer</i></b></p>", "Stefan Wasmer"),
        ("<p><em>Jane Roe</em></p>", "Jane Roe"),
        # A bold line alone heads a last section; a list in italics is a schedule.
        ("<p><b>After Divorce</b></p>", None),
        ("<p><i>Thursday, Saturday, Sunday</i></p>", None),
        # Not the last paragraph: an italic line inside the text.
        ("<p><i>Jane Roe</i></p><p>The match ended at midnight.</p>", None),
    ],
)
def test_a_name_in_italics_signing_off_the_article_is_its_byline(
    last: str, expected: str | None
) -> None:
    body = "<p>The home side scored twice.</p><p>The visitors answered once.</p>"
    assert _article(body + last) == expected


@pytest.mark.parametrize(
    ("credits", "expected"),
    [
        # A magazine's credits: the writer's label and the name in elements of their own.
        (
            "<div class='credits'><div>Interview</div><div>SVEN MICHAELSEN</div>"
            "<div>Fotos</div><div>Ellen von Unwerth</div></div>",
            "SVEN MICHAELSEN",
        ),
        ("<div><span>Text:</span> <span>Jane Roe</span></div>", "Jane Roe"),
        # The photographer's label is no writer's; a label followed by a sentence neither.
        ("<div><div>Fotos</div><div>Ellen von Unwerth</div></div>", None),
        ("<div><div>Text</div><div>Die Saison beginnt am Dienstag</div></div>", None),
    ],
)
def test_the_name_beside_a_writers_credit_label_is_the_byline(
    credits: str, expected: str | None
) -> None:
    assert byline_of(credits) == expected
