"""The site's lines inside an article body: calls to read elsewhere and picture credits."""

from __future__ import annotations

import pytest

from monitor.boilerplate import MAX_BOILERPLATE, is_boilerplate, without_boilerplate
from monitor.extract import TrafilaturaExtractor


@pytest.mark.parametrize(
    "line",
    [
        "Read more: Looted colonial art: Germany to set up new contact point",
        "Lesen Sie auch: Spielabbruch in der Kreisliga",
        "LE PUEDE INTERESAR: La ficha de Juan Orlando Hernández",
        "(Le puede interesar: Buscan responsables de bus quemado)",
        "Czytaj też: Wyścig zbrojeń ruszył z kopyta",
        "Sign up for the CorkBeo newsletter",
        "Das Thema könnte dich auch interessieren:",
        "NOTAS RELACIONADAS",
        "Related: Alaska Airlines delays full Oneworld membership",
        "Foto: MDR/Bernd Cramer",
        "(Bild: Dieter Stork)",
        "© Oli Scarff/Getty Images",
        "Photo (cc) : svenwerk",
        "Bild anzeigen",
        "Crédits photos : Bestimage",
        "Quelle: dpa-AFX",
        "SOURCE: News agencies",
        "Follow The Gleaner on Twitter and Instagram @JamaicaGleaner",
        "For the latest stories and breaking news updates download the Nationnews apps.",
        "Submit your letter to the editor via this form.",
        "We want to hear what you think about this article.",
    ],
)
def test_calls_and_credits_are_boilerplate(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        # Prose that begins with the same words is the article's own.
        "Bilder zeigen, dass der Damm schon vor Jahren brüchig war.",
        "Anzeigenkunden zogen sich nach dem Skandal zurück.",
        "Related species live on the other side of the island.",
        "Subscribers to the regional paper received the news a day late.",
        "Sources say the deal is close to being signed.",
        "Quellen im Rathaus bestätigen den Plan.",
        "Follow-up talks are planned on Monday, on Twitter the mayor said.",
        "Followers of the team were on Twitter all night.",
        "Read more " + "about the long history of the dam and its builders " * 6,
    ],
)
def test_prose_is_not_boilerplate(line: str) -> None:
    assert not is_boilerplate(line)


def test_a_long_paragraph_is_never_boilerplate() -> None:
    line = "Read more: " + "x" * MAX_BOILERPLATE

    assert not is_boilerplate(line)


def test_without_boilerplate_keeps_the_order_of_the_rest() -> None:
    paragraphs = ("First.", "Read more: elsewhere", "Second.", "Foto: dpa", "Third.")

    assert without_boilerplate(paragraphs) == ("First.", "Second.", "Third.")


def test_the_extractor_drops_a_read_more_line_from_the_body() -> None:
    prose = (
        "The council voted on Tuesday to rebuild the old bridge over the river, after two "
        "years of debate about its cost and the closure of the road during the works."
    )
    html = (
        "<html><head><meta charset='utf-8'><title>Bridge</title></head><body><article>"
        f"<h1>Bridge to be rebuilt</h1><p>{prose}</p>"
        "<p>Read more: Why the old bridge was closed in 2019</p>"
        f"<p>{prose.replace('Tuesday', 'Wednesday')}</p></article></body></html>"
    ).encode()

    page = TrafilaturaExtractor().extract(html, "https://news.example.org/bridge")

    assert not any("Read more" in paragraph for paragraph in page.paragraphs)
    assert any("Wednesday" in paragraph for paragraph in page.paragraphs)
