"""Pure: the article's headline — the heading readers see, confirmed by what the page
declares — without a kicker or the site's name.

The page ``<title>`` carries the site's name ("… | Gelbe Liste", "…-新华网"), and a site that
renames itself or changes its title separator must not make a headline change on every
tracked article (issue 15). So the headline is the visible ``<h1>`` (else ``<h2>``/``<h3>``)
that JSON-LD ``headline``, ``og:title``, ``twitter:title`` or the ``<title>`` confirms, whole
or as a part around a separator; else the page's one ``<h1>``; else a declared title with the
site's name cut off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html

from monitor.declarations import clean, json_str, key, same, site_names

__all__ = ["HEADING_LEVELS", "headline", "strip_site_affix"]

# Headings that may carry the article's headline, the likeliest first.
HEADING_LEVELS = ("h1", "h2", "h3")
# Longer than this, a heading is a paragraph set in large type, not a headline.
MAX_HEADLINE = 300
# What sits between a headline and the site's name in a <title>: spaced punctuation, or a
# bare hyphen before CJK text ("…-新华网").
_SEPARATORS = re.compile(r"\s+[|\-–—›»·:/~•]+\s+|\s*[|›»·•]\s*|-(?=[^\x00-\x7f]+$)")


@dataclass(frozen=True)
class _Heading:
    """One <h1>…<h3> of the page: its level, its cleaned text and the element."""

    level: str
    text: str
    element: lxml.html.HtmlElement


def headline(
    tree: lxml.html.HtmlElement,
    url: str,
    meta: dict[str, str],
    article: dict[str, Any],
    title_guess: str | None,
    sitename_guess: str | None,
) -> str | None:
    """The article's own headline: the visible heading its declarations confirm; else the
    page's one <h1>; else a declared title without the site's name; else the first
    heading; else trafilatura's guess."""
    title_element = tree.find(".//title")
    page_title = clean(title_element.text_content() if title_element is not None else None)
    # A "site name" that is the page's whole <title> (or trafilatura's guess of the title)
    # is the article's title misfiled.
    sites = [
        site
        for site in site_names(url, meta, sitename_guess)
        if not same(site, page_title or "") and not same(site, title_guess or "")
    ]
    keys = {key(site) for site in sites}
    declared = [
        clean(json_str(article, "headline")),
        clean(meta.get("og:title")),
        clean(meta.get("twitter:title")),
        page_title,
    ]
    headings = [heading for heading in _headings(tree, url) if key(heading.text) not in keys]
    # A declared title that is only the site's name (a blog's og:title) names no article.
    stripped = [
        strip_site_affix(text, sites) for text in declared if text and key(text) not in keys
    ]
    # A heading equal to a whole declared title is the headline. Failing that, one equal
    # to a run of a title's parts around its separators ("Section: Headline | Site"): the
    # longest, as a site's or section's name is the shorter part.
    whole = {key(text) for text in declared if text} - keys
    for level in HEADING_LEVELS:
        for heading in headings:
            if heading.level == level and key(heading.text) in whole:
                return _trimmed(heading, stripped, sites)
    parts = {key(run) for text in declared if text for run in _part_runs(text)} - keys
    confirmed = [heading for heading in headings if key(heading.text) in parts]
    if confirmed:
        return _trimmed(max(confirmed, key=lambda heading: len(heading.text)), stripped, sites)
    h1s = [heading for heading in headings if heading.level == "h1"]
    if len(h1s) == 1:
        # The page's one <h1> is what readers see as the headline, where the declarations
        # are often an SEO variant.
        return _trimmed(h1s[0], stripped, sites)
    if stripped:
        return stripped[0]
    if headings:
        return min(headings, key=lambda heading: HEADING_LEVELS.index(heading.level)).text
    return clean(title_guess)


def strip_site_affix(title: str, sites: Iterable[str]) -> str:
    """``title`` without a leading or trailing part that names the site (or its domain)."""
    keys = {key(site) for site in sites if key(site)}
    if not keys:
        return title
    parts = _SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    # Strip the site's name from the end, else from the start; what remains is rejoined from
    # the original text so inner separators ("Köln – Bonn") survive.
    spans = [match.span() for match in _SEPARATORS.finditer(title)]
    if _names_site(parts[-1], keys):
        return title[: spans[-1][0]].strip() or title
    if _names_site(parts[0], keys):
        return title[spans[0][1] :].strip() or title
    return title


def _part_runs(title: str) -> Iterator[str]:
    """Each run of consecutive parts of ``title`` split at its separators, text between
    kept as it is."""
    spans = [(0, 0), *(match.span() for match in _SEPARATORS.finditer(title)), (len(title),) * 2]
    for first in range(len(spans) - 1):
        for last in range(first + 1, len(spans)):
            yield title[spans[first][1] : spans[last][0]]


def _names_site(part: str, keys: set[str]) -> bool:
    part_key = key(part)
    return bool(part_key) and any(
        part_key == site or part_key in site or site in part_key for site in keys
    )


def _headings(tree: lxml.html.HtmlElement, url: str) -> Iterator[_Heading]:
    """The page's headings, in page order, except those that link home: a site's logo or
    name is often its first <h1>."""
    for element in tree.iter(*HEADING_LEVELS):
        text = clean(_text_with_breaks(element))
        if not text or len(text) > MAX_HEADLINE:
            continue
        if any(_is_home(link.get("href"), url) for link in element.iter("a")):
            continue
        yield _Heading(element.tag, text, element)


def _trimmed(heading: _Heading, titles: list[str], sites: list[str]) -> str:
    """``heading``'s text without what is not the headline: a kicker marked up inside it,
    or the site's name after a separator."""
    return _within_kicker(heading, titles) or strip_site_affix(heading.text, sites)


def _within_kicker(heading: _Heading, titles: list[str]) -> str | None:
    """The declared title that ``heading`` holds with more around it, when what is more is
    marked up apart: a kicker ("Tunesien"), a label or a date in its own element."""
    whole = key(heading.text)
    apart = {key(element.text_content()) for element in heading.element.iterdescendants()}
    for title in titles:
        title_key = key(title)
        if title_key and title_key != whole and title_key in whole:
            rest = whole.replace(title_key, "", 1)
            if rest in apart:
                return title
    return None


def _text_with_breaks(element: lxml.html.HtmlElement) -> str:
    """``element``'s text, a ``<br>`` read as a space ("Open Progress<br>Why …")."""
    if element.find(".//br") is None:
        return str(element.text_content())
    pieces = [element.text or ""]
    for child in element.iterdescendants():
        if child.tag == "br":
            pieces.append(" ")
        elif isinstance(child.tag, str):
            pieces.append(child.text or "")
        pieces.append(child.tail or "")
    return "".join(pieces)


def _is_home(href: str | None, url: str) -> bool:
    if not href:
        return False
    target = urlsplit(urljoin(url, href.strip()))
    return target.path in ("", "/") and not target.query and not target.fragment
