"""Fetched feed bytes -> ParsedFeed; no feedparser dict leaves this module.

Two readers, one answer. A well-formed UTF-8 RSS 2.0 or Atom 1.0 document made of the
elements the monitor reads (and known harmless ones) is read with lxml, field by field
through feedparser's own steps (its URL join, sanitiser, repairs and date parser), so it
gives exactly what feedparser would, in about a quarter of the time (2 ms against 8.5 ms
for a 25-entry feed). Anything else — other encodings, DOCTYPEs, xml:base, RDF, Atom 0.3,
unknown elements inside entries, XML errors — goes to feedparser, as before (see "The
fast path" below; tests/test_feeds_fast.py compares both over the corpora).

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

import contextlib
import io
import re
import xml.sax
from collections.abc import Mapping
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree

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
    if not mended:
        fast = _parse_well_formed(
            data, response_headers["content-type"], response_headers["content-location"]
        )
        if fast is not None:
            return fast
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


# --- The fast path: well-formed RSS 2.0 and Atom 1.0 read with lxml (issue 16) -------------
#
# feedparser spends most of a feed's parse in per-element Python (SAX callbacks, deep copies,
# URL joins, sanitising plain text). A well-formed RSS 2.0 or Atom 1.0 document made only of
# the elements below is read here instead, into the very values the feedparser path gives:
# each field goes through feedparser 6.0.14's own steps for that element (its URL join, its
# HTML-in-plain-text test, its sanitiser and relative-URL resolver when there is markup, its
# mis-encoding and cp1252 repairs), and then through the same helpers as ``_entry``. Anything
# it is not sure of returns None and feedparser parses the document: another encoding, a
# DOCTYPE, xml:base, an element it does not know inside an entry, repeated fields, e-mail
# authors, attributes feedparser reads (types, modes, rdf:about)... and any XML error.
# feedparser stays pinned (==6.0.14): these are its private helpers, and
# tests/test_feeds_fast.py compares both paths over the real-feed corpora on any upgrade.

_ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_XML_LANG = f"{{{_XML_NS}}}lang"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# feedparser's prefix for each namespace it knows ('' for RSS and Atom's own), keyed lowercase.
_KNOWN_NAMESPACES: dict[str, str] = {
    uri.lower(): prefix for uri, prefix in feedparser.mixin._FeedParserMixin.namespaces.items()
}
# Every first word of a feedparser element handler: an element of an unknown namespace whose
# prefix is one of these could reach a handler, so it is not passed over as harmless.
_HANDLER_PREFIXES = frozenset(
    name.removeprefix("_start_").removeprefix("_end_").split("_")[0]
    for name in dir(feedparser.api.StrictFeedParser)
    if name.startswith(("_start_", "_end_"))
)
# Elements of an RSS item (feedparser's lowercased names) this path reads or may pass over.
_RSS_TEXT = frozenset({"title", "link", "description", "guid", "pubdate", "author"})
_RSS_TEXT |= {"dc:creator", "dc:date", "content:encoded"}
_RSS_IGNORED = frozenset({
    "category", "comments", "enclosure", "source", "dc:subject", "wfw:commentrss",
    "wfw:comment", "slash:comments", "feedburner:origlink", "media:thumbnail", "media:content",
})  # fmt: skip
_ATOM_TEXT = frozenset({"title", "id", "published", "updated", "summary", "content"})
_ATOM_IGNORED = frozenset({"category", "media:thumbnail", "media:content"})
# Text constructs: feedparser pushes these with a content type (the others are plain text,
# never sanitised nor tested for HTML).
_CONTENT_FIELDS = frozenset({"title", "description", "content:encoded", "summary", "content"})
_ENCODING_LABEL = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_NEEDS_HTML_PARSE = re.compile(r"[<&]")


# feedparser's names of the tags of known namespaces met so far (a document's tags are few).
_FP_NAMES: dict[str, str] = {}
_MAX_FP_NAMES = 4096


class _Unsure(Exception):
    """The fast path cannot vouch for feedparser's reading of this document."""


def _parse_well_formed(data: bytes, content_type: str, content_location: str) -> ParsedFeed | None:
    """The document read without feedparser, or None when feedparser must read it."""
    if not _utf8_for_feedparser(data, content_type):
        return None
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None  # feedparser's loose parser, and its bozo warning, take it from here
    if root.getroottree().docinfo.doctype:
        return None  # feedparser rewrites DOCTYPEs and their entities
    base = feedparser.urls.make_safe_absolute_uri(content_location, content_location)
    try:
        if root.tag == "rss":
            return _fast_rss(root, base or content_location)
        if root.tag == f"{{{_ATOM_NS}}}feed" and root.prefix is None:
            return _fast_atom(root, base or content_location)
    except _Unsure:
        return None
    return None


def _utf8_for_feedparser(data: bytes, content_type: str) -> bool:
    """Whether feedparser would decode ``data`` as UTF-8 (or ASCII) without complaint."""
    mime, _, params = content_type.partition(";")
    mime = mime.strip().lower()
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower()
    declared = b""
    head = data.removeprefix(b"\xef\xbb\xbf")
    if head.startswith(b"<?"):
        declaration = head[: head.find(b"?>")]
        labels = _ENCODING_LABEL.findall(declaration)
        # feedparser reads the label on the first line only; lxml wherever it is.
        if len(labels) > 1 or (b"encoding" in declaration and (not labels or b"\n" in declaration)):
            return False
        declared = labels[0].lower() if labels else b""
    elif not head.startswith(b"<"):
        return False  # a BOM of another encoding, or something before the first tag
    if declared not in (b"", b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        return False
    if mime in (
        "application/xml",
        "application/xml-dtd",
        "application/xml-external-parsed-entity",
    ) or (mime.startswith("application/") and mime.endswith("+xml")):
        encoding = charset or declared.decode("ascii", "replace") or "utf-8"
    elif mime in ("text/xml", "text/xml-external-parsed-entity") or (
        mime.startswith("text/") and mime.endswith("+xml")
    ):
        encoding = charset or "us-ascii"
    else:
        return False  # not an XML media type: feedparser flags the document
    if encoding in ("us-ascii", "ascii"):
        return data.isascii()
    if encoding not in ("utf-8", "utf8"):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _fp_name(element: Any) -> str:
    """The element's name as feedparser's handlers see it ('' for one to pass over)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    if (known := _FP_NAMES.get(tag)) is not None:
        return known
    namespace, _, local = tag[1:].partition("}") if tag[0] == "{" else ("", "", tag)
    lowered = namespace.lower()
    if "backend.userland.com/rss" in lowered:
        raise _Unsure
    prefix = _KNOWN_NAMESPACES.get(lowered)
    if prefix is not None:
        name = f"{prefix}:{local}".lower() if prefix else local.lower()
        if len(_FP_NAMES) < _MAX_FP_NAMES:
            _FP_NAMES[tag] = name
        return name
    # An unknown namespace: feedparser names the element by a prefix declared for it. Under
    # a prefix none of its handlers use, the element is stored under its own key, unread.
    prefixes = {p for p, uri in element.nsmap.items() if uri == namespace}
    if not prefixes or None in prefixes or any(p.lower() in _HANDLER_PREFIXES for p in prefixes):
        raise _Unsure
    return ""


def _check_tree(root: Any, entry_tag: str) -> None:
    """No xml:base anywhere (it moves the base of relative links), and every element
    feedparser takes for an entry is one of the entries read."""
    entries = 0
    for element in root.iter():
        for name in element.attrib:
            if name.lower().endswith("base"):
                raise _Unsure
        name = _fp_name(element)
        if name in ("item", "entry"):
            entries += 1
            if element.getparent() is None or element.getparent().tag != entry_tag:
                raise _Unsure
        elif name in ("source", "textinput") and entry_tag == f"{{{_ATOM_NS}}}feed":
            raise _Unsure


def _fast_rss(root: Any, base: str) -> ParsedFeed:
    version = root.get("version")
    if version is None or not version.startswith("2.") or _other_attrs(root, {"version"}):
        raise _Unsure
    for uri in root.nsmap.values():
        if uri.lower() in ("http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"):
            raise _Unsure  # feedparser would name the format after this namespace
    channels = [child for child in root if _fp_name(child) == "channel"]
    if len(channels) != 1 or channels[0].tag != "channel":
        raise _Unsure
    channel = channels[0]
    _check_tree(root, "channel")
    title = _feed_title(channel, False, base)
    entries = []
    for child in channel:
        if _fp_name(child) in ("item", "entry"):
            if child.tag != "item" or child.attrib:
                raise _Unsure  # rdf:about, cdf attributes, an Atom entry in RSS
            entries.append(_fast_rss_item(child, base))
    return ParsedFeed(title=title, version="rss20", entries=tuple(entries))


def _fast_atom(root: Any, base: str) -> ParsedFeed:
    for uri in root.nsmap.values():
        if uri.lower() in ("http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"):
            raise _Unsure
    if _other_attrs(root, set()):
        raise _Unsure
    _check_tree(root, f"{{{_ATOM_NS}}}feed")
    title = _feed_title(root, True, base)
    entries = []
    for child in root:
        if _fp_name(child) in ("item", "entry"):
            if child.attrib:
                raise _Unsure
            entries.append(_fast_atom_entry(child, base))
    return ParsedFeed(title=title, version="atom10", entries=tuple(entries))


def _other_attrs(element: Any, allowed: set[str]) -> bool:
    return any(name not in allowed and name != _XML_LANG for name in element.attrib)


def _feed_title(container: Any, atom: bool, base: str) -> str | None:
    """The feed's title: its one title element, where nothing else could be taken for it."""
    titles = []
    for element in container.iter():
        if element is container or _fp_name(element) not in ("title", "dc:title", "media:title"):
            continue
        parent = element.getparent()
        if parent is container:
            titles.append(element)
            continue
        # Titles of entries, images and text inputs go to their own records.
        if _fp_name(parent) not in ("item", "entry", "image", "textinput"):
            raise _Unsure
    if len(titles) > 1 or (titles and _fp_name(titles[0]) != "title"):
        raise _Unsure
    if not titles:
        return None
    value, kind = _text_field(titles[0], "title", "text/plain", atom, base)
    return _text_of({"type": kind, "value": value}, None) or None


def _text_field(
    element: Any, name: str, default_type: str, atom: bool, base: str
) -> tuple[str, str]:
    """An element's text as feedparser stores it, and its content type."""
    if len(element):
        raise _Unsure  # markup inside: feedparser's reading depends on the type
    allowed = {"type"} if atom and name in ("title", "summary", "content") else set()
    if name == "guid":
        allowed = {"isPermaLink"}
    if _other_attrs(element, allowed):
        raise _Unsure
    kind = default_type
    if "type" in element.attrib:
        kind = {"text": "text/plain", "html": "text/html"}.get(element.get("type", ""), "")
        if not kind:
            raise _Unsure  # xhtml, base64 and the other types
    output = (element.text or "").strip()
    if name not in _CONTENT_FIELDS:
        return _stored(output), kind
    if not atom and kind == "text/plain" and _looks_like_html(output):
        kind = "text/html"
    # Without "<" or "&" the resolver and the sanitiser give the text back as it was (but for
    # whitespace, which html_to_text folds the same way): only markup pays for them.
    if kind in _HTML_TYPES and _NEEDS_HTML_PARSE.search(output):
        output = feedparser.urls.resolve_relative_uris(output, base, "utf-8", kind)
        output = feedparser.sanitizer._sanitize_html(output, "utf-8", kind)
    return _stored(output), kind


def _stored(output: str) -> str:
    """feedparser's last steps for every text it stores: UTF-8 that was read as Latin-1
    decoded again, C1 controls mapped as windows-1252."""
    if not output.isascii():
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            output = output.encode("iso-8859-1").decode("utf-8")
        output = output.translate(_CP1252)
    return output


def _fields(entry: Any, allowed_text: frozenset[str], ignored: frozenset[str]) -> dict[str, Any]:
    """An entry's children by feedparser name; each read field at most once."""
    fields: dict[str, Any] = {}
    for child in entry:
        name = _fp_name(child)
        if name in allowed_text:
            if name in fields:
                raise _Unsure  # repeated: which one feedparser keeps depends on order and depth
            fields[name] = child
        elif name == "link" and name in ignored:
            fields.setdefault("links", []).append(child)
        elif name and name not in ignored:
            raise _Unsure
        elif len(child) and (name or any(_fp_name(inner) for inner in child.iter())):
            raise _Unsure  # media:content with media:title inside, for one
    return fields


def _fast_rss_item(item: Any, base: str) -> FeedEntry:
    fields = _fields(item, _RSS_TEXT, _RSS_IGNORED)
    text: dict[str, tuple[str, str]] = {}
    for name, element in fields.items():
        default = "text/html" if name in ("description", "content:encoded") else "text/plain"
        text[name] = _text_field(element, name, default, False, base)
    if "author" in text and "dc:creator" in text:
        raise _Unsure
    guid = None
    link = None
    if "guid" in fields:
        permalink = fields["guid"].get("isPermaLink", "true")
        if permalink not in ("true", "false"):
            raise _Unsure
        guid = text["guid"][0]
        if permalink == "true" and guid:
            guid = _stored(_feedparser_urljoin(base, (fields["guid"].text or "").strip()))
            link = guid
    if "link" in fields:
        raw = (fields["link"].text or "").strip()
        link = _stored(_feedparser_urljoin(base, raw)) if raw else ""
        link = re.sub("&([A-Za-z0-9_]+);", r"&\g<1>", link.replace("&amp;", "&"))
    author = (text.get("author") or text.get("dc:creator") or ("", ""))[0]
    if "@" in author:
        raise _Unsure  # feedparser splits an e-mail address out of it
    return _entry_of(
        text,
        ("content:encoded", "description"),
        guid,
        link,
        base,
        _clean(author) or None,
        ("pubdate", "dc:date"),
    )


def _fast_atom_entry(entry: Any, base: str) -> FeedEntry:
    fields = _fields(entry, _ATOM_TEXT | {"author"}, _ATOM_IGNORED | {"link"})
    text = {
        name: _text_field(element, name, "text/plain", True, base)
        for name, element in fields.items()
        if name in _ATOM_TEXT
    }
    if "id" not in fields or not text["id"][0]:
        raise _Unsure  # without an id feedparser may fall back to other links
    guid = _stored(_feedparser_urljoin(base, (fields["id"].text or "").strip()))
    link = guid
    for element in fields.get("links", []):
        if len(element) or _other_attrs(
            element, {"rel", "type", "href", "hreflang", "title", "length"}
        ):
            raise _Unsure
        if "href" not in element.attrib:
            raise _Unsure  # feedparser reads the element's text as the link then
        rel = element.get("rel", "alternate").lower()
        kind = element.get("type", "application/atom+xml" if rel == "self" else "text/html")
        if rel == "alternate":
            if kind.lower() not in ("text/html", "application/xhtml+xml"):
                raise _Unsure  # feedparser's fallback to the list of links
            link = _feedparser_urljoin(base, element.get("href"))
    if "content" in fields and "src" in fields["content"].attrib:
        raise _Unsure
    return _entry_of(
        text,
        ("content", "summary"),
        guid,
        link,
        base,
        _atom_author(fields.get("author")),
        ("published", "updated"),
    )


def _entry_of(
    text: dict[str, tuple[str, str]],
    bodies: tuple[str, str],
    guid: str | None,
    link: str | None,
    base: str,
    author: str | None,
    dates: tuple[str, str],
) -> FeedEntry:
    """The entry from its fields' texts, as feedparser reads them: the summary from the
    full content (``bodies[0]``), else the description (``bodies[1]``), else the content's
    raw text; the published and updated dates from ``dates``."""
    content, description = bodies
    summary = ""
    if content in text:
        summary = _text_of({"type": text[content][1], "value": text[content][0]}, None, True)
    if not summary and description in text:
        summary = _text_of(
            {"type": text[description][1], "value": text[description][0]}, None, True
        )
    elif not summary and content in text:
        summary = _text_of(None, text[content][0], True)
    title = text.get("title", ("", "text/plain"))
    return FeedEntry(
        guid=_clean(guid) or None,
        link=_absolute_http(link, base),
        title=_text_of({"type": title[1], "value": title[0]}, None),
        summary=summary,
        author=author,
        published=_fast_date(text.get(dates[0])),
        updated=_fast_date(text.get(dates[1])),
    )


def _atom_author(element: Any) -> str | None:
    if element is None:
        return None
    if element.attrib or (element.text or "").strip():
        raise _Unsure
    names = []
    for child in element:
        name = _fp_name(child)
        if name not in ("name", "email", "uri") or len(child) or _other_attrs(child, set()):
            raise _Unsure
        if name == "name":
            names.append((child.text or "").strip())
    if len(names) != 1 or not names[0]:
        raise _Unsure
    # feedparser keeps an author's name as it was read (no repairs: pushed without text).
    return _clean(names[0]) or None


def _absolute_http(link: str | None, base: str) -> str | None:
    """``_alternate_link``'s answer for a known link value."""
    if not link or not link.strip():
        return None
    absolute = urljoin(base, link.strip())
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _fast_date(field: tuple[str, str] | None) -> datetime | None:
    if field is None:
        return None
    value = field[0]
    return parse_date(value) or from_struct_time(feedparser.datetimes._parse_date(value))


def _feedparser_urljoin(base: str, uri: str) -> str:
    return str(feedparser.urls._urljoin(base, uri))


def _looks_like_html(text: str) -> bool:
    return bool(feedparser.mixin._FeedParserMixin.looks_like_html(text))


_CP1252: dict[int, str] = feedparser.html._cp1252
