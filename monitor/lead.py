"""Pure: the article's lead (standfirst, deck, intro) that the body extractors leave out.

Many sites print the article's opening summary between the headline and the body, in an
element of its own (``<p class="lead">``, ``<div class="article__intro">``, ``<h2
class="deck">``), often inside the article's ``<header>``: trafilatura's precision mode
drops headers and teasers, and every extractor's choice of the main block can stop short of
it. The lead is the article's own text, so it is put back in front of the body (issue 15).

It is found by position and by name, never by size alone: an element whose class or id names
a lead (one of ``LEAD_NAMES``), after the article's headline (the nearest ``<h1>`` before the
body, else the nearest ``<h2>``) and before the body's first paragraph. A block that holds
pictures, scripts or mostly links, a short line (a byline, a date, a rating), a name shared
by sibling blocks (a list of teasers) or one that also names an author, a caption or a
picture is not a lead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import lxml.etree
import lxml.html

from monitor.normalize import normalize_text

__all__ = ["LEAD_NAMES", "with_lead"]

# Words a class or id uses for a lead, matched as whole words of it (``article-lead``,
# ``c-entry-summary``, ``contentHeaderAbstract``).
LEAD_NAMES = (
    "lead", "intro", "introduction", "teaser", "excerpt", "standfirst", "summary", "abstract",
    "chapo", "chapeau", "description", "preface",
)  # fmt: skip
# Words that make a lead-named block something else: "author-description",
# "picture-description", "lead-asset", "mini-card__subtitle", "site-description". A deck
# (dek, subtitle, strapline) is display text under the headline, a second headline rather
# than the body's opening; reference article bodies (schema.org articleBody) leave it out.
_NOT_LEAD_NAMES = (
    "author", "byline", "caption", "credit", "picture", "image", "img", "photo", "gallery",
    "slideshow", "video", "media", "asset", "profile", "card", "meta", "date", "time", "site",
    "comment", "comments", "share", "social", "newsletter", "ad", "ads", "related", "nav",
    "menu", "deck", "dek", "subtitle", "subheadline", "subhead", "subline", "strapline",
)  # fmt: skip
# A lead is a sentence or two: fewer words is a byline, a date or a label.
MIN_LEAD_WORDS = 8
# More is a section of the page, not an opening summary.
MAX_LEAD_CHARS = 1500
# At most this many lead blocks (a subtitle and an intro); more is a list of something.
MAX_LEAD_BLOCKS = 2
# Link text over this share of a block's text: a teaser of another article.
MAX_LINK_SHARE = 0.5
# Words of the body's first paragraph looked up in the page to find where the body starts.
_PROBE_WORDS = 4
# The body's first paragraph of at least this length marks its start (shorter ones are
# often a dateline or a label that appears elsewhere on the page too).
_PROBE_MIN_CHARS = 40

_NAME_WORDS = re.compile(r"[\s_\-]+|(?<=[a-z])(?=[A-Z])")
_LEAD = frozenset(LEAD_NAMES)
_NOT_LEAD = frozenset(_NOT_LEAD_NAMES)
_STARTS = lxml.etree.XPath("//body//text()[contains(normalize-space(.), $probe)]")
# The article's headline: the nearest <h1> before the body, or <h2> on a page without one.
_HEADLINES = (lxml.etree.XPath("preceding::h1[1]"), lxml.etree.XPath("preceding::h2[1]"))
# Containers and inline or form elements are never the lead block itself.
_NOT_BLOCKS = frozenset(
    {
        "html", "body", "main", "article", "section", "header", "footer", "nav", "aside",
        "form", "figure", "figcaption", "ul", "ol", "a", "img", "time", "button", "input",
        "script", "style", "noscript",
    }
)  # fmt: skip
_EMBEDS = ("img", "picture", "video", "iframe", "figure", "script", "noscript", "svg", "form")
# Block elements that end a paragraph of the lead.
_BLOCKS = frozenset(
    {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "dd", "dt", "br"}
)
_SPACES = re.compile(r"\s+")


def with_lead(tree: lxml.html.HtmlElement, body: Sequence[str]) -> tuple[str, ...]:
    """``body`` (normalized paragraphs) with the page's lead in front, if it has one that
    the body does not already hold."""
    lead = _lead(tree, body)
    return (*lead, *body) if lead else tuple(body)


def _lead(tree: lxml.html.HtmlElement, body: Sequence[str]) -> tuple[str, ...]:
    start = _body_start(tree, body)
    if start is None:
        return ()
    headlines = next((found for find in _HEADLINES if (found := find(start))), None)
    if not headlines:
        return ()
    around_start = {start, *start.iterancestors()}
    placed = [
        element
        for element in _between(headlines[0], start)
        if element.tag not in _NOT_BLOCKS and element not in around_start and _names_a_lead(element)
    ]
    # Sibling blocks of one name are a list (of teasers, of slides), not the lead.
    names = [(element.tag, element.get("class"), element.get("id")) for element in placed]
    joined = " ".join(" ".join(body).split())
    readable = [
        element
        for element, name in zip(placed, names, strict=True)
        if names.count(name) == 1 and _reads_as_lead(element, joined)
    ]
    blocks = [
        element
        for element in readable
        if not any(other in readable for other in element.iterancestors())
    ]
    if len(blocks) > MAX_LEAD_BLOCKS:
        return ()
    lead: list[str] = []
    for paragraph in (paragraph for element in blocks for paragraph in _paragraphs(element)):
        # A site may print its summary twice (as a dek and as an abstract).
        if paragraph not in lead and " ".join(paragraph.split()) not in joined:
            lead.append(paragraph)
    return tuple(lead)


def _between(
    first: lxml.html.HtmlElement, stop: lxml.html.HtmlElement
) -> Iterator[lxml.html.HtmlElement]:
    """The elements after ``first`` (and its content) up to ``stop``, in document order.

    Only the stretch between headline and body is walked, not the whole page.
    """
    node: lxml.html.HtmlElement | None = first
    while node is not None:
        for sibling in node.itersiblings():
            for element in sibling.iter():
                if element is stop:
                    return
                if isinstance(element.tag, str):
                    yield element
        node = node.getparent()


def _body_start(tree: lxml.html.HtmlElement, body: Sequence[str]) -> lxml.html.HtmlElement | None:
    """The element holding the start of the body's first real paragraph, or None."""
    first = next((paragraph for paragraph in body if len(paragraph) >= _PROBE_MIN_CHARS), None)
    if first is None:
        return None
    probe = " ".join(first.split()[:_PROBE_WORDS])
    for text in _STARTS(tree, probe=probe):
        parent = text.getparent()
        if parent is not None and parent.tag not in ("script", "style", "title"):
            return parent if text.is_text else parent.getparent()
    return None


def _names_a_lead(element: lxml.html.HtmlElement) -> bool:
    words = {
        word.lower()
        for attribute in ("class", "id")
        for word in _NAME_WORDS.split(element.get(attribute) or "")
        if word
    }
    return bool(words & _LEAD) and not words & _NOT_LEAD


def _reads_as_lead(element: lxml.html.HtmlElement, body: str) -> bool:
    """Text, not pictures or links; a sentence or two; not already in the body."""
    if next(element.iter(*_EMBEDS), None) is not None:
        return False
    text = " ".join(element.text_content().split())
    if len(text.split()) < MIN_LEAD_WORDS or len(text) > MAX_LEAD_CHARS:
        return False
    links = sum(len(" ".join(link.text_content().split())) for link in element.iter("a"))
    return links <= MAX_LINK_SHARE * len(text) and text not in body


def _paragraphs(element: lxml.html.HtmlElement) -> tuple[str, ...]:
    """The element's text, one normalized paragraph per block, the tree left as it was."""
    text = "".join(_block_text(element)).replace("\n", "\n\n")
    canonical = normalize_text(text)
    return tuple(canonical.split("\n\n")) if canonical else ()


def _block_text(element: lxml.html.HtmlElement) -> Iterator[str]:
    block = element.tag in _BLOCKS
    if block:
        yield "\n"
    yield _SPACES.sub(" ", element.text or "")
    for child in element:
        if isinstance(child.tag, str):
            yield from _block_text(child)
        yield _SPACES.sub(" ", child.tail or "")
    if block:
        yield "\n"
