"""Pure: what a page declares about itself — its <meta> values, its JSON-LD article node,
the names the site goes by — and the text keys the metadata readers compare with."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import lxml.html

from monitor.normalize import normalize_text

__all__ = [
    "clean",
    "is_publisher",
    "json_ld_article",
    "json_str",
    "key",
    "meta_values",
    "publisher_keys",
    "same",
    "site_names",
]

_NOT_ALNUM = re.compile(r"[\W_]+")
# The itemprops under which a page nests its own article (schema.org's main entity).
_OWN_ITEM_PROPS = ("mainentity", "blogpost", "articlebody")
_ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Report|LiveBlogPosting)$")


def meta_values(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """Lower-cased meta name/property/itemprop -> first non-empty content."""
    values: dict[str, str] = {}
    for meta in tree.iter("meta"):
        content = (meta.get("content") or meta.get("datetime") or "").strip()
        if not content or (meta.get("itemprop") and _in_nested_item(meta)):
            continue
        for attribute in ("property", "name", "itemprop"):
            name = (meta.get(attribute) or "").strip().lower()
            if name:
                values.setdefault(name, content)
    return values


def _in_nested_item(meta: lxml.html.HtmlElement) -> bool:
    """Whether an itemprop ``meta`` belongs to an item inside another (a cited paper, a
    related article: ``<li itemprop="citation" itemscope>``), whose author and date are not
    the page's."""
    for ancestor in meta.iterancestors():
        if ancestor.get("itemscope") is not None:
            prop = (ancestor.get("itemprop") or "").strip().lower()
            return bool(prop) and not prop.startswith(_OWN_ITEM_PROPS)
    return False


def json_ld_article(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    """The first JSON-LD object typed as an article, else the first with ``datePublished``;
    its ``author`` references (``{"@id": …}``) resolved to the nodes of its document."""
    fallback: dict[str, Any] = {}
    fallback_nodes: list[dict[str, Any]] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "", strict=False)
        except ValueError:
            continue  # broken JSON-LD is common and never fatal
        nodes = list(json_ld_nodes(data))
        for node in nodes:
            types = node.get("@type")
            names = types if isinstance(types, list) else [types]
            if any(isinstance(name, str) and _ARTICLE_TYPES.search(name) for name in names):
                return _with_authors(node, nodes)
            if not fallback and "datePublished" in node:
                fallback, fallback_nodes = node, nodes
    return _with_authors(fallback, fallback_nodes)


def _with_authors(node: dict[str, Any], nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """``node`` with each ``author`` that is only a reference (``{"@id": "…#/schema/person/…"}``,
    as SEO plugins write an ``@graph``) replaced by the node it names in the same document."""
    author = node.get("author")
    authors = author if isinstance(author, list) else [author]
    if not any(map(_reference, authors)):
        return node
    by_id = {item["@id"]: item for item in nodes if isinstance(item.get("@id"), str)}
    resolved = [by_id.get(_reference(item) or "", item) for item in authors]
    return {**node, "author": resolved if isinstance(author, list) else resolved[0]}


def _reference(item: object) -> str | None:
    """The ``@id`` of a JSON-LD node that is only a reference (it has no ``name``)."""
    if isinstance(item, dict) and "name" not in item and isinstance(item.get("@id"), str):
        return str(item["@id"])
    return None


def json_ld_nodes(data: object) -> Iterator[dict[str, Any]]:
    """Every object in a JSON-LD document, walking lists and ``@graph``."""
    if isinstance(data, list):
        for item in data:
            yield from json_ld_nodes(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from json_ld_nodes(data["@graph"])


def json_str(node: dict[str, Any], field: str) -> str | None:
    """``node[field]`` when it is a string (JSON-LD allows objects and lists almost anywhere)."""
    value = node.get(field)
    return value if isinstance(value, str) else None


def clean(value: str | None) -> str | None:
    """``value`` normalized to one line; None when nothing is left."""
    cleaned = " ".join(normalize_text(value or "").split())
    return cleaned or None


def is_publisher(name: str, publishers: set[str]) -> bool:
    """Whether ``name`` is the site's ("ORF.at", "Badische Zeitung GmbH"); a blogger's
    first name inside the blog's ("anna" in "annasblog") is not."""
    name_key = key(name)
    return any(name_key == site or (len(site) >= 4 and site in name_key) for site in publishers)


def publisher_keys(url: str, meta: dict[str, str], article: dict[str, Any]) -> set[str]:
    """Keys of the names the site and its publisher go by."""
    publisher = article.get("publisher")
    name = publisher.get("name") if isinstance(publisher, dict) else publisher
    names = [*site_names(url, meta, None), name if isinstance(name, str) else None]
    return {found for name in names if (found := key(name))}


def site_names(url: str, meta: dict[str, str], sitename: str | None) -> list[str]:
    """The names the site may go by: ``og:site_name``, ``application-name``, a guess, its
    host and the host's second-level name."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    names = [meta.get("og:site_name"), meta.get("application-name"), sitename, host]
    if host:
        names.append(host.split(".")[-2] if host.count(".") else host)
    return [name for name in names if name]


def key(text: str | None) -> str:
    """Letters and digits only, case-folded: "Helge.at" and "helge at" are one name."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def same(first: str, second: str) -> bool:
    """Whether two texts are one name or title by ``key``."""
    return bool(key(first)) and key(first) == key(second)
