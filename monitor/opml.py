"""OPML subscription lists, the format every feed reader exports: read with listparser,
written with the standard library (issue 19).

An outline's categories (the folders it sits in, and its ``category`` attribute) become the
feed's tags; on export, the tags are written back as a ``category`` attribute.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.errors import ConfigError

__all__ = ["OpmlFeed", "read_opml", "write_opml"]


@dataclass(frozen=True)
class OpmlFeed:
    """One feed of a subscription list: its URL, its title (may be empty) and its tags."""

    url: str
    title: str
    tags: tuple[str, ...] = ()


def read_opml(data: bytes, source: str) -> tuple[OpmlFeed, ...]:
    """The feeds listed in the OPML document ``data`` (read from ``source``), each once.

    A document that is not OPML, or lists no feed, is a ``ConfigError`` naming ``source``.
    """
    import listparser  # bytes only: given a str that looks like a URL, it would fetch it

    if not re.search(rb"<opml[\s>]", data[:4096], re.IGNORECASE):
        raise ConfigError(f"{source}: not an OPML subscription list (no <opml> element)")
    result = listparser.parse(bytes(data))
    if result.get("bozo") and not result.get("feeds"):
        raise ConfigError(f"{source}: unreadable OPML: {result.get('bozo_exception')}")
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    for raw in result.get("feeds") or []:
        url = str(raw.get("url") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        tags = tuple(dict.fromkeys(str(tag).strip() for tag in raw.get("tags") or () if tag))
        feeds.append(OpmlFeed(url, " ".join(str(raw.get("title") or "").split()), tags))
    if not feeds:
        raise ConfigError(f"{source}: the OPML lists no feed (no outline with an xmlUrl)")
    return tuple(feeds)


def write_opml(feeds: Iterable[OpmlFeed], title: str = "Newsmonitor feeds") -> str:
    """An OPML 2.0 document listing ``feeds``, their tags as ``category``."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attributes = {"type": "rss", "text": feed.title or feed.url, "xmlUrl": feed.url}
        if feed.title:
            attributes["title"] = feed.title
        if feed.tags:
            attributes["category"] = ",".join(feed.tags)
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
