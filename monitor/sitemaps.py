"""Pure: a sitemap as a feed's source (``type = "sitemap"``, issue 19).

Many outlets list every article in a Google News sitemap (``<news:title>``,
``<news:publication_date>``), often more completely than their RSS; large sites split it
into a sitemap index of child sitemaps. A ``<url>`` becomes a ``FeedEntry`` (the news title
as its title, ``lastmod`` as its update time); an index yields the child sitemaps, with
their ``lastmod``, so that only the children changed since the last check are fetched.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import lxml.etree

from monitor.dates import parse_date
from monitor.errors import FeedParseError
from monitor.models import FeedEntry, ParsedFeed

__all__ = [
    "MAX_CHILDREN",
    "MAX_SITEMAP_BYTES",
    "Sitemap",
    "SitemapRef",
    "children_due",
    "merged",
    "parse_sitemap",
]

# The sitemap protocol's own limit on a (decompressed) sitemap file.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
# Child sitemaps fetched in one check at most, the most recently modified first: an
# archive index lists one per day for years back, and only the newest carry new articles.
MAX_CHILDREN = 10
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class SitemapRef:
    """A child sitemap named by an index: where it is and when it last changed."""

    url: str
    lastmod: datetime | None


@dataclass(frozen=True)
class Sitemap:
    """One parsed sitemap: its articles (a ``<urlset>``) or its children (an index)."""

    entries: tuple[FeedEntry, ...] = ()
    children: tuple[SitemapRef, ...] = ()


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """Parse a sitemap or sitemap index fetched from ``url`` (gzip or plain XML).

    Not a sitemap, or larger than the protocol allows once decompressed: FeedParseError
    naming the URL.
    """
    data = _decompressed(body, url)
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
    )
    try:
        root = lxml.etree.fromstring(data, parser=parser)
    except lxml.etree.XMLSyntaxError as exc:
        raise FeedParseError(f"{url}: not a sitemap: XML syntax error: {exc}") from exc
    kind = lxml.etree.QName(root).localname
    if kind == "sitemapindex":
        return Sitemap(children=tuple(_children(root)))
    if kind == "urlset":
        return Sitemap(entries=tuple(_entries(root)))
    raise FeedParseError(f"{url}: not a sitemap: root element <{kind}>")


def children_due(
    children: Sequence[SitemapRef], since: datetime | None, limit: int = MAX_CHILDREN
) -> tuple[SitemapRef, ...]:
    """The children to fetch: those changed after ``since`` (all of them when it is None,
    and any without a ``lastmod``), the most recently modified first, at most ``limit``."""
    due = [child for child in children if not _unchanged(child, since)]
    due.sort(key=lambda child: child.lastmod.timestamp() if child.lastmod else float("inf"))
    return tuple(reversed(due))[:limit]


def merged(sitemaps: Iterable[Sitemap], warning: str | None = None) -> ParsedFeed:
    """The articles of several sitemaps as one feed document, each URL once."""
    entries: dict[str, FeedEntry] = {}
    for sitemap in sitemaps:
        for entry in sitemap.entries:
            entries.setdefault(entry.link or "", entry)
    return ParsedFeed(
        title=None, version="sitemap", entries=tuple(entries.values()), warning=warning
    )


def _unchanged(child: SitemapRef, since: datetime | None) -> bool:
    return since is not None and child.lastmod is not None and child.lastmod <= since


def _decompressed(body: bytes, url: str) -> bytes:
    if not body.startswith(_GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        data = inflater.decompress(body, MAX_SITEMAP_BYTES + 1)
    except zlib.error as exc:
        raise FeedParseError(f"{url}: not a sitemap: broken gzip data: {exc}") from exc
    if len(data) > MAX_SITEMAP_BYTES or inflater.unconsumed_tail:
        raise FeedParseError(
            f"{url}: sitemap over {MAX_SITEMAP_BYTES // (1024 * 1024)} MB once decompressed"
        )
    return data


def _children(root: lxml.etree._Element) -> Iterable[SitemapRef]:
    for sitemap in _each(root, "sitemap"):
        location = _text(sitemap, "loc")
        if location:
            yield SitemapRef(location, parse_date(_text(sitemap, "lastmod")))


def _entries(root: lxml.etree._Element) -> Iterable[FeedEntry]:
    for item in _each(root, "url"):
        location = _text(item, "loc")
        if not location:
            continue
        news = next(iter(_each(item, "news")), None)
        title = _text(news, "title") if news is not None else None
        published = _text(news, "publication_date") if news is not None else None
        yield FeedEntry(
            guid=location,
            link=location,
            title=" ".join((title or "").split()),
            summary="",
            published=parse_date(published),
            updated=parse_date(_text(item, "lastmod")),
        )


def _each(parent: lxml.etree._Element, name: str) -> Iterable[lxml.etree._Element]:
    """Children of ``parent`` called ``name`` in any namespace (sites get them wrong)."""
    for child in parent:
        if isinstance(child.tag, str) and lxml.etree.QName(child).localname == name:
            yield child


def _text(parent: lxml.etree._Element, name: str) -> str | None:
    for child in _each(parent, name):
        text = " ".join((child.text or "").split())
        if text:
            return text
    return None
