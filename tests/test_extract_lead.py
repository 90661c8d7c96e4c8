"""The article's lead put back in front of the body, and the whole article chosen over a
block of it (issue 15)."""

from __future__ import annotations

import lxml.html
import pytest

from monitor.extract import TrafilaturaExtractor, _whole_article
from monitor.lead import with_lead
from tests.test_extract import BODY, URL

LEAD = (
    "The council's vote ends a year of argument over who pays for the city's buses and "
    "trams, and how much."
)


def lead_page(in_header: str = "", after_body: str = "") -> bytes:
    """A news page whose article header holds the headline, ``in_header`` and a byline."""
    body = "".join(f"<p>{p}</p>" for p in BODY)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Council approves transport budget | Example News</title></head><body>
<nav><a href="/">Home</a> <a href="/politics">Politics</a></nav>
<main><article>
<header class="article-header"><h1>Council approves transport budget</h1>
{in_header}
<p class="byline">By Jane Reporter</p></header>
<div class="article-body">{body}</div>
{after_body}
</article></main><footer><p>© 2024 Example News</p></footer></body></html>""".encode()


@pytest.fixture(scope="module")
def extractor() -> TrafilaturaExtractor:
    return TrafilaturaExtractor()


@pytest.mark.parametrize(
    "lead",
    [
        f'<p class="article-lead">{LEAD}</p>',
        f'<div class="c-article__intro"><p>{LEAD}</p></div>',
        f'<div class="entryExcerpt">{LEAD}</div>',
    ],
    ids=["p.article-lead", "div.intro", "camelCase-excerpt"],
)
def test_the_lead_precision_drops_with_the_header_comes_first(
    extractor: TrafilaturaExtractor, lead: str
) -> None:
    page = extractor.extract(lead_page(in_header=lead), URL, "text/html; charset=utf-8")

    assert page.paragraphs == (LEAD, *BODY)


@pytest.mark.parametrize(
    "in_header",
    [
        # A deck is a second headline, not the body's opening.
        f'<h2 class="article-subtitle">{LEAD}</h2>',
        # A list of teasers shares one name, and is mostly links.
        "".join(
            f'<div class="teaser"><a href="/s/{i}">Another story about the city budget and its '
            f"critics, number {i}</a></div>"
            for i in range(3)
        ),
        # Short lines are a byline, a date or a label.
        '<p class="intro">Updated 5 March 2024</p>',
        # A picture's description is a caption.
        f'<div class="image-description">{LEAD}</div>',
        f'<div class="lead-media"><img src="/p.jpg" alt=""><p>{LEAD}</p></div>',
    ],
    ids=["deck", "teasers", "date", "caption", "lead-image"],
)
def test_what_is_not_a_lead_stays_out(extractor: TrafilaturaExtractor, in_header: str) -> None:
    page = extractor.extract(lead_page(in_header=in_header), URL, "text/html; charset=utf-8")

    assert page.paragraphs == BODY


def test_a_lead_named_block_after_the_body_is_not_the_lead(
    extractor: TrafilaturaExtractor,
) -> None:
    teaser = f'<div class="teaser-text"><p>{LEAD}</p></div>'

    page = extractor.extract(lead_page(after_body=teaser), URL, "text/html; charset=utf-8")

    assert LEAD not in page.paragraphs
    assert page.paragraphs[: len(BODY)] == BODY


def test_a_lead_the_body_already_holds_is_not_repeated() -> None:
    tree = lxml.html.fromstring(lead_page(in_header=f'<p class="lead">{BODY[0]}</p>'))

    assert with_lead(tree, BODY) == BODY


def test_a_lead_edit_changes_the_text(extractor: TrafilaturaExtractor) -> None:
    before = extractor.extract(lead_page(f'<p class="lead">{LEAD}</p>'), URL)
    edited = LEAD.replace("a year", "two years")
    after = extractor.extract(lead_page(f'<p class="lead">{edited}</p>'), URL)

    assert before.paragraphs[1:] == after.paragraphs[1:]
    assert after.paragraphs[0] == edited


BLOCK = ("Why did you vote for the budget? Because the buses have waited for too long.",)
WHOLE = (
    "The mayor answered our questions on the new transport budget.",
    *BLOCK,
    "What about the critics of the plan? They raise fair points about the forecasts.",
    "Will fares rise after the freeze? Not before the tram extension opens, she said.",
)


def test_the_whole_article_wins_over_the_block_precision_kept() -> None:
    # Precision kept one block of an interview; recall stopped there too; readability has
    # it all: agreement alone would keep the block.
    visible = sum(map(len, WHOLE))

    assert _whole_article([BLOCK, BLOCK, WHOLE], visible, 50) == WHOLE


@pytest.mark.parametrize(
    ("candidates", "visible"),
    [
        # Longer, but without precision's text: another part of the page.
        ([BLOCK, WHOLE[:1] + WHOLE[2:] + WHOLE[2:]], 1000),
        # Holds it, but most of the page's paragraph text is elsewhere (teasers, comments).
        ([BLOCK, WHOLE], 10 * sum(map(len, WHOLE))),
        # Holds it with a little more: precision's body stands (agreement decides).
        ([WHOLE[:3], WHOLE], sum(map(len, WHOLE))),
    ],
    ids=["elsewhere", "small-share", "not-twice"],
)
def test_a_longer_candidate_is_not_the_whole_article(
    candidates: list[tuple[str, ...]], visible: int
) -> None:
    assert _whole_article(candidates, visible, 50) == ()


def test_of_two_whole_articles_the_shorter_wins() -> None:
    longer = (*WHOLE, "Share this article on Facebook and Twitter and read our other stories.")

    assert _whole_article([BLOCK, longer, WHOLE], sum(map(len, longer)), 50) == WHOLE
