"""Pure: the feeds a web page names in its ``<head>`` (feed autodiscovery).

A site's home page or article page announces its feeds with ``<link rel="alternate"
type="application/rss+xml" href="…">`` (RSS and Atom autodiscovery, issue 19). ``feeds add``
takes a page's address as readily as a feed's, and a page handed over as a feed gets an
error that names the feeds it links.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.etree
import lxml.html

__all__ = ["FEED_TYPES", "FeedLink", "feed_links"]

# The media types of the feed formats we read (JSON Feed is not one of them).
FEED_TYPES: dict[str, str] = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/rdf+xml": "RDF",
    "application/xml": "XML",
    "text/xml": "XML",
}


@dataclass(frozen=True)
class FeedLink:
    """One feed a page links: its absolute URL, its title (may be empty) and its format."""

    url: str
    title: str
    kind: str


def feed_links(html: bytes, base_url: str) -> tuple[FeedLink, ...]:
    """The feeds ``html`` (fetched from ``base_url``) announces, in page order, each once."""
    try:
        tree = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return ()
    base = base_url
    for element in tree.iter("base"):
        if element.get("href"):
            base = urljoin(base_url, element.get("href", "").strip())
            break
    found: list[FeedLink] = []
    seen: set[str] = set()
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = FEED_TYPES.get((link.get("type") or "").split(";")[0].strip().lower())
        href = (link.get("href") or "").strip()
        if "alternate" not in rel or kind is None or not href:
            continue
        url = urljoin(base, href)
        if not url.startswith(("http://", "https://")) or url in seen:
            continue
        seen.add(url)
        found.append(FeedLink(url, " ".join((link.get("title") or "").split()), kind))
    return tuple(found)
