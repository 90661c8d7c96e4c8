"""Fetched feed bytes -> ParsedFeed, via feedparser; no feedparser dict leaves this module.

feedparser is only ever handed an in-memory stream: given a ``str`` (or even ``bytes``)
it treats a value that looks like a URL or a file path as something to fetch or open.

What counts as a feed:

* entries found -> ``ParsedFeed``; if feedparser flagged the document as ill-formed
  ("bozo"), ``bozo=True`` and ``warning`` says why.
* no entries, and feedparser recognised a format (rss20, atom10, ...) -> an empty
  ``ParsedFeed``, with the warning when bozo: a broken feed with nothing in it is still
  that site's feed, and "zero entries" is what the caller should record.
* no entries and no recognised format (an HTML page, JSON, random text, an unknown XML
  root, an empty body) -> ``FeedParseError`` naming the URL and the reason.

Cost: well-formed XML goes through expat (the 2,783 corpus files take ~4.5 s in all, the
slowest 0.3 s for 212 kB). Ill-formed documents fall back to feedparser's loose SGML
parser, which stays linear but is slow on hostile tag soup: about 7 s per MB of nested
``<div>`` inside a description, 1.6 s per MB of bare ``<``. Nothing here can interrupt
it, so the fetcher's byte cap is what bounds the time (10 MB -> about a minute of CPU).
"""

from __future__ import annotations

import io
import re
import xml.sax
from collections.abc import Mapping
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from monitor.dates import from_struct_time, parse_date
from monitor.discovery import feed_links
from monitor.errors import FeedParseError
from monitor.models import FeedEntry, ParsedFeed

__all__ = ["html_to_text", "parse_feed"]

_MAX_WARNING = 200
# A page's feeds named in the "not a feed" error, at most.
MAX_NAMED_LINKS = 3
# readability-lxml (extract.py's second opinion) installs chardet, which feedparser would then
# try before UTF-8 and windows-1252: a guess on a short feed, and a feed's decoding that
# depends on what else is installed. Keep feedparser's own fixed order.
feedparser.encodings.lazy_chardet_encoding = None


def parse_feed(body: bytes, url: str, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse a fetched feed document; ``url`` is where it came from (the base for links)."""
    if not isinstance(body, bytes | bytearray | memoryview):
        # A str would make feedparser fetch URLs and open paths; refuse it loudly.
        raise TypeError(f"parse_feed needs the response body as bytes, not {type(body)}")
    data = bytes(body)
    if not data.strip():
        raise FeedParseError(f"{url}: not a feed: empty document")

    response_headers = {name.lower(): value for name, value in (headers or {}).items()}
    data, mended = _mend_utf8(data, response_headers.get("content-type", ""))
    # With any headers at all but no Content-Type, feedparser flags every document as
    # bozo and decodes undeclared bodies as ISO-8859-1. "application/xml" gives exactly
    # its header-less behaviour (declared encoding, else UTF-8) while we still pass the
    # Content-Location it needs to resolve relative links.
    response_headers.setdefault("content-type", "application/xml")
    # Content-Location may be relative to the request URL; feedparser wants it absolute.
    response_headers["content-location"] = urljoin(
        url, response_headers.get("content-location", "") or url
    )
    try:
        result = feedparser.parse(io.BytesIO(data), response_headers=response_headers)
    except Exception as exc:  # feedparser promises not to raise; translate if it ever does
        raise FeedParseError(f"{url}: feed parser failed: {_describe(exc)}") from exc

    raw_entries: list[Any] = list(result.get("entries") or [])
    version: str = result.get("version") or ""
    bozo = bool(result.get("bozo"))
    warning = _describe(result.get("bozo_exception")) if bozo else None
    if mended and not warning:
        warning = f"character encoding: {mended} invalid UTF-8 sequence(s) replaced"
    if not raw_entries and not version:
        raise FeedParseError(f"{url}: not a feed: {_why_not_a_feed(data, url, warning)}")

    feed_info = result.get("feed") or {}
    base = response_headers["content-location"]
    return ParsedFeed(
        title=_text_of(feed_info.get("title_detail"), feed_info.get("title")) or None,
        version=version,
        entries=tuple(_entry(raw, base) for raw in raw_entries),
        bozo=bozo,
        warning=warning,
    )


def _entry(raw: Any, base: str) -> FeedEntry:
    """Reduce one feedparser entry dict to a FeedEntry."""
    return FeedEntry(
        guid=_clean(dict.get(raw, "id")) or None,
        link=_alternate_link(raw, base),
        title=_text_of(dict.get(raw, "title_detail"), dict.get(raw, "title")),
        summary=_summary(raw),
        author=_author(raw),
        published=_date(raw, "published"),
        updated=_date(raw, "updated"),
    )


def _alternate_link(raw: Any, base: str) -> str | None:
    """The entry's alternate (human-readable) link, made absolute; only http(s) links."""
    link = dict.get(raw, "link")
    if not link:
        for candidate in dict.get(raw, "links") or []:
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    if not isinstance(link, str) or not link.strip():
        return None
    absolute = urljoin(base, link.strip())
    # The monitor fetches this address: mailto:, javascript: or tag: links are not pages.
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _summary(raw: Any) -> str:
    for content in dict.get(raw, "content") or []:
        text = _text_of(content, None, keep_paragraphs=True)
        if text:
            return text
    return _text_of(dict.get(raw, "summary_detail"), dict.get(raw, "summary"), True)


def _author(raw: Any) -> str | None:
    detail = dict.get(raw, "author_detail") or {}
    name = detail.get("name") or dict.get(raw, "author")
    return _clean(name) or None


def _date(raw: Any, field: str) -> datetime | None:
    # The raw string first: feedparser's RFC 822 reader drops "PM" and unknown zones,
    # which parse_date understands; its own parse is the fallback (it also saw formats
    # we may not, such as the Korean ones).
    return parse_date(dict.get(raw, field)) or from_struct_time(dict.get(raw, f"{field}_parsed"))


def _text_of(detail: Any, fallback: Any, keep_paragraphs: bool = False) -> str:
    """Plain text of a feedparser text construct (``*_detail`` dict), HTML removed."""
    value = (detail or {}).get("value") if isinstance(detail, Mapping) else None
    if value is None:
        value = fallback
    if not isinstance(value, str) or not value:
        return ""
    kind = str((detail or {}).get("type") or "") if isinstance(detail, Mapping) else ""
    if "html" in kind or (not kind and _LOOKS_LIKE_HTML.search(value)):
        text = html_to_text(value)
        return text if keep_paragraphs else _clean(text)
    return _clean(value) if not keep_paragraphs else _paragraphs(value)


_LOOKS_LIKE_HTML = re.compile(r"<[a-zA-Z/!]|&(?:#\d+|#x[0-9a-fA-F]+|\w+);")


def _clean(value: Any) -> str:
    """Whitespace collapsed to single spaces; non-strings become ''."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _paragraphs(text: str) -> str:
    """Plain text with blank-line paragraph breaks kept and other whitespace collapsed."""
    parts = (" ".join(part.split()) for part in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(part for part in parts if part)


_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment: paragraphs separated by blank lines, no scripts."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return _paragraphs("".join(collector.chunks))


class _TextCollector(HTMLParser):
    """Collects text nodes, turning block boundaries into paragraph breaks."""

    # Elements whose content is never readable text.
    SKIP = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg"})
    # Elements that end a paragraph of text.
    BLOCKS = frozenset({
        "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
        "table", "td", "th", "tr", "ul",
    })  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping.append(tag)
        elif tag == "br":
            # One <br> is a line break inside a paragraph; "<br><br>" separates paragraphs.
            self.chunks.append("\n")
        elif tag in self.BLOCKS:
            self.chunks.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.chunks.append("\n")
        elif tag in self.BLOCKS:
            self.chunks.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()
        elif tag in self.BLOCKS:
            self.chunks.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            # Newlines in the source are just whitespace; only tags make breaks.
            self.chunks.append(" ".join(data.split("\n")) if "\n" in data else data)


_BINARY_FORMATS = (
    (b"%PDF-", "PDF document"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip file"),
)
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


def _mend_utf8(data: bytes, content_type: str) -> tuple[bytes, int]:
    """UTF-8 with a few invalid bytes -> valid UTF-8, U+FFFD for each bad sequence (and
    how many there were; 0 when ``data`` is returned as it is).

    Given a document declared (or defaulting to) UTF-8 that does not decode, feedparser
    falls back to windows-1252 or ISO-8859-2 for the whole of it: one stray byte would
    garble every accented letter of every entry. That fallback is right for a document
    that is not UTF-8 at all (no valid multi-byte sequence), so it is left to it then.
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return data, 0
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data, 0  # UTF-16 with a BOM: feedparser's business
    labels = []
    if header := _CHARSET.search(content_type):
        labels.append(header.group(1))
    if declaration := _DECLARED_ENCODING.match(data[:512].removeprefix(b"\xef\xbb\xbf")):
        labels.append(declaration.group(1).decode("ascii"))
    if any(label.lower() not in ("utf-8", "utf8") for label in labels):
        return data, 0  # declared as something else: feedparser decides
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    decoded = sum(1 for char in text if char > "\x7f") - replaced
    return (text.encode("utf-8"), replaced) if decoded > replaced else (data, 0)


def _why_not_a_feed(data: bytes, url: str, warning: str | None) -> str:
    """A short reason why a document with no entries and no known format is not a feed;
    for a web page, the feeds it links (autodiscovery), so the user knows what to give."""
    for signature, kind in _BINARY_FORMATS:
        if data.startswith(signature):
            return kind
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if re.search(rb"<!doctype\s+html|<html[\s>]", head):
        links = feed_links(data, url)
        if not links:
            return "HTML page (it links no feed)"
        named = ", ".join(link.url for link in links[:MAX_NAMED_LINKS])
        more = f" and {len(links) - MAX_NAMED_LINKS} more" if len(links) > MAX_NAMED_LINKS else ""
        return f"HTML page; it links {len(links)} feed(s): {named}{more}"
    if head[:1] in (b"{", b"["):
        return "JSON document (JSON Feed is not supported)"
    if warning:
        return warning
    if head.startswith(b"<"):
        return "XML document without an RSS, Atom or RDF root element"
    return "no RSS, Atom or RDF markup found"


def _describe(exc: object) -> str | None:
    """A one-line description of a feedparser bozo exception."""
    if exc is None:
        return None
    if isinstance(exc, xml.sax.SAXParseException):
        text = (
            f"XML syntax error at line {exc.getLineNumber()}, "
            f"column {exc.getColumnNumber()}: {exc.getMessage()}"
        )
    elif isinstance(exc, feedparser.CharacterEncodingOverride):
        text = f"character encoding: {exc}"
    elif isinstance(exc, feedparser.NonXMLContentType):
        text = f"content type: {exc}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= _MAX_WARNING else text[: _MAX_WARNING - 1] + "…"
