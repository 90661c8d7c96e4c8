"""Pure: a parsed article page (+ trafilatura's guesses) -> headline, byline and its own dates.

Issue 15: the page ``<title>`` carries the site's name ("… | Gelbe Liste", "…-新华网"), and a
site that renames itself or changes its title separator would otherwise make a headline
change on every tracked article. So the headline is the article's own (JSON-LD ``headline``,
``og:title``, ``<title>``), with the site-name affix cut off, confirmed by the ``<h1>`` when
one agrees. Bylines prefer structured declarations (JSON-LD ``author``, ``rel=author``,
``<meta name="author">``) over free text, and drop placeholders ("Name", "Staff", "admin").
Dates keep the page's own UTC offset, so the page's local day survives.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import lxml.html

from monitor.dates import parse_page_date
from monitor.normalize import normalize_text

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
_ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Report|LiveBlogPosting)$")
# What sits between a headline and the site's name in a <title>: spaced punctuation, or a
# bare hyphen before CJK text ("…-新华网").
_SEPARATORS = re.compile(r"\s+[|\-–—›»·:/~•]+\s+|\s*[|›»·•]\s*|-(?=[^\x00-\x7f]+$)")
# Placeholders that templates print where an author's name should be (issue 15).
_PLACEHOLDER_BYLINES = frozenset((
    "name", "by", "von", "por", "par", "admin", "administrator", "author", "autor", "auteur",
    "editor", "editors", "redaktion", "redacción", "redaccion", "redazione", "rédaction",
    "staff", "cortesía", "cortesia", "guest", "anonymous", "anonym", "unknown", "user",
    "webmaster", "wordpressadmin", "wpadmin", "human", "team",
))  # fmt: skip
_BYLINE_PREFIX = re.compile(
    r"^(?:view all posts by|zeige alle beiträge von|alle beiträge von|posted by|written by"
    r"|geschrieben von|by|von|por|par)\s+",
    re.IGNORECASE,
)


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
    meta = _meta_values(tree)
    article = _json_ld_article(tree)
    published, modified = _declared_dates(tree, meta, article)
    return Metadata(
        headline=_headline(tree, url, meta, article, guesses),
        byline=_byline(tree, meta, article, guesses.author),
        published=published or parse_page_date(guesses.date),
        modified=modified,
    )


# --- headline ------------------------------------------------------------------------


def _headline(
    tree: lxml.html.HtmlElement,
    url: str,
    meta: dict[str, str],
    article: dict[str, Any],
    guesses: Guesses,
) -> str | None:
    """The article's own headline: a declared one, affix stripped; the <h1> if it agrees."""
    sites = _site_names(url, meta, guesses.sitename)
    title_element = tree.find(".//title")
    declared = [
        _clean(_json_str(article, "headline")),
        _clean(meta.get("og:title")),
        _clean(meta.get("twitter:title")),
        _clean(title_element.text_content() if title_element is not None else None),
    ]
    keys = {_key(site) for site in sites}
    # A declared title that is only the site's name (a blog's og:title) names no article.
    candidates = [
        strip_site_affix(text, sites) for text in declared if text and _key(text) not in keys
    ]
    h1s = [text for text in map(_clean, _h1_texts(tree)) if text]
    for h1 in h1s:
        # The <h1> confirmed by a declaration is the most stable choice: it carries no
        # separator and no site name at all.
        if any(_same(h1, text) or _affix_of(text, h1) for text in declared if text):
            return h1
    if candidates:
        return candidates[0]
    return h1s[0] if h1s else _clean(guesses.title)


def strip_site_affix(title: str, sites: Iterable[str]) -> str:
    """``title`` without a leading or trailing part that names the site (or its domain)."""
    keys = {_key(site) for site in sites if _key(site)}
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


def _affix_of(title: str, h1: str) -> bool:
    """True when ``title`` is ``h1`` plus a separated affix (the site's name, whatever it is)."""
    for match in _SEPARATORS.finditer(title):
        before, after = title[: match.start()], title[match.end() :]
        if _same(before, h1) or _same(after, h1):
            return True
    return False


def _names_site(part: str, keys: set[str]) -> bool:
    key = _key(part)
    return bool(key) and any(key == site or key in site or site in key for site in keys)


def _site_names(url: str, meta: dict[str, str], sitename: str | None) -> list[str]:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    names = [meta.get("og:site_name"), meta.get("application-name"), sitename, host]
    if host:
        names.append(host.split(".")[-2] if host.count(".") else host)
    return [name for name in names if name]


def _h1_texts(tree: lxml.html.HtmlElement) -> Iterator[str]:
    for element in tree.iter("h1"):
        yield element.text_content()


def _key(text: str | None) -> str:
    """Letters and digits only, case-folded: "Helge.at" and "helge at" are one name."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(char for char in folded if char.isalnum())


def _same(first: str, second: str) -> bool:
    return bool(_key(first)) and _key(first) == _key(second)


# --- byline --------------------------------------------------------------------------


def _byline(
    tree: lxml.html.HtmlElement,
    meta: dict[str, str],
    article: dict[str, Any],
    guess: str | None,
) -> str | None:
    """Authors from JSON-LD, rel=author, <meta name=author>, then trafilatura's guess."""
    sources: list[list[str]] = [
        _json_ld_authors(article.get("author")),
        _rel_author_texts(tree),
        [meta.get("author") or ""],
        (guess or "").split(";"),
    ]
    for names in sources:
        kept = _real_names(names)
        if kept:
            return ", ".join(kept)
    return None


def _json_ld_authors(value: object) -> list[str]:
    """JSON-LD ``author``: a string, an object with ``name``, or a list of either."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _json_ld_authors(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _json_ld_authors(item)]
    return []


def _rel_author_texts(tree: lxml.html.HtmlElement) -> list[str]:
    names: list[str] = []
    for link in tree.iter("a"):
        if "author" in (link.get("rel") or "").lower().split():
            names.append(link.text_content())
    return names


def _real_names(names: Iterable[str]) -> list[str]:
    """Cleaned, de-duplicated names; placeholders, URLs and sentences dropped."""
    kept: list[str] = []
    for raw in names:
        name = _BYLINE_PREFIX.sub("", _clean(raw) or "").strip(" ,;:|→»")
        if not name or _key(name) in _PLACEHOLDER_BYLINES or "://" in name:
            continue
        if len(name) > 80 or name.startswith("@"):
            continue
        if all(not _same(name, other) for other in kept):
            kept.append(name)
    return kept


# --- dates ---------------------------------------------------------------------------


def _declared_dates(
    tree: lxml.html.HtmlElement, meta: dict[str, str], article: dict[str, Any]
) -> tuple[datetime | None, datetime | None]:
    """(published, modified) as the article declares them.

    The Open Graph article time and the article's own JSON-LD node come first: itemprop
    metas and <time> elements also mark the items of related-article lists.
    """
    published = _first_date(
        [meta.get(PUBLISHED_META[0]), _json_str(article, "datePublished")]
        + [meta.get(key) for key in PUBLISHED_META[1:]]
        + [_time_itemprop(tree, "datepublished")]
    )
    modified = _first_date(
        [meta.get(MODIFIED_META[0]), _json_str(article, "dateModified")]
        + [meta.get(key) for key in MODIFIED_META[1:]]
        + [_time_itemprop(tree, "datemodified")]
    )
    return published, modified


def _first_date(candidates: list[str | None]) -> datetime | None:
    for candidate in candidates:
        parsed = parse_page_date(candidate)
        if parsed is not None:
            return parsed
    return None


def _time_itemprop(tree: lxml.html.HtmlElement, itemprop: str) -> str | None:
    for element in tree.iter("time"):
        if (element.get("itemprop") or "").strip().lower() == itemprop:
            return (element.get("datetime") or element.text_content() or "").strip() or None
    return None


# --- declarations: <meta> and JSON-LD ------------------------------------------------


def _meta_values(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """Lower-cased meta name/property/itemprop -> first non-empty content."""
    values: dict[str, str] = {}
    for meta in tree.iter("meta"):
        content = (meta.get("content") or meta.get("datetime") or "").strip()
        if not content:
            continue
        for attribute in ("property", "name", "itemprop"):
            key = (meta.get(attribute) or "").strip().lower()
            if key:
                values.setdefault(key, content)
    return values


def _json_ld_article(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    """The first JSON-LD object typed as an article, else the first with ``datePublished``."""
    fallback: dict[str, Any] = {}
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "", strict=False)
        except ValueError:
            continue  # broken JSON-LD is common and never fatal
        for node in _json_ld_nodes(data):
            types = node.get("@type")
            names = types if isinstance(types, list) else [types]
            if any(isinstance(name, str) and _ARTICLE_TYPES.search(name) for name in names):
                return node
            if not fallback and "datePublished" in node:
                fallback = node
    return fallback


def _json_ld_nodes(data: object) -> Iterator[dict[str, Any]]:
    """Every object in a JSON-LD document, walking lists and ``@graph``."""
    if isinstance(data, list):
        for item in data:
            yield from _json_ld_nodes(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _json_ld_nodes(data["@graph"])


def _json_str(node: dict[str, Any], key: str) -> str | None:
    value = node.get(key)
    return value if isinstance(value, str) else None


def _clean(value: str | None) -> str | None:
    cleaned = " ".join(normalize_text(value or "").split())
    return cleaned or None
