"""Article HTML -> ``Page``: body paragraphs, headline, byline, dates and canonical URL.

Text comes from trafilatura tuned for precision, because a page's chrome (ads, "most read"
lists, per-request tokens, render timestamps) changes on every fetch and any of it leaking
into the body would show up as a spurious new version. Dates and the canonical link are read
from the page's own declarations (<meta>, JSON-LD, <time>): trafilatura reports only one
day-precise date and no modification time.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urljoin

import lxml.etree
import lxml.html

from monitor.dates import parse_date
from monitor.errors import ExtractError
from monitor.models import Page
from monitor.normalize import normalize_text

__all__ = ["Extractor", "TrafilaturaExtractor", "decode_html"]

# <meta> names/properties/itemprops carrying the publication time, most specific first.
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
# <meta> names/properties/itemprops carrying the last-modified time, most specific first.
MODIFIED_META: tuple[str, ...] = (
    "article:modified_time",
    "og:updated_time",
    "og:article:modified_time",
    "datemodified",
    "dcterms.modified",
    "dc.date.modified",
    "lastmod",
)

_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
# The HTML spec's prescan looks at the first 1024 bytes; real pages put long <script> and
# <link> runs first, so look further before giving up.
_PRESCAN_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
# Labels that browsers (WHATWG Encoding) decode as windows-1252, not as what they say.
_WINDOWS_1252_LABELS = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii"})
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Report|LiveBlogPosting)$")
# Some tag a real page has near its start; plain text and binary blobs have none.
_HTML_SNIFF = re.compile(
    r"<\s*(!doctype|html|head|body|meta|title|div|p|article|main|section|span|a)\b", re.IGNORECASE
)
_SNIFF_CHARS = 65536
# A fast-pass body this long is taken as is; a shorter one gets the full cascade.
FAST_ENOUGH = 1000


class Extractor(Protocol):
    """Turns one fetched HTML page into article text and metadata."""

    def extract(self, html: bytes, url: str, content_type: str | None = None) -> Page:
        """Extract the article of ``html`` fetched from ``url``; raise ``ExtractError``."""
        ...


class TrafilaturaExtractor:
    """``Extractor`` backed by trafilatura's precision mode, plus our own date metadata."""

    def __init__(
        self,
        *,
        favor_precision: bool = True,
        min_chars: int = 50,
        log_level: int | None = logging.WARNING,
    ) -> None:
        """Configure extraction; ``log_level`` caps trafilatura's chatty loggers (None: leave).

        ``min_chars``: less body text than this is an ``ExtractError``. Consent walls, error
        pages and cookie interstitials extract to a stray "Home" or "Accept"; recording that as
        a version would be a false change, while the pipeline can fall back to the feed text.
        """
        self._favor_precision = favor_precision
        self._min_chars = min_chars
        self._log_level = log_level
        _quiet(log_level)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickled in an extraction worker: that process's loggers need the same cap.
        self.__dict__.update(state)
        _quiet(self._log_level)

    def _bare_extraction(self, tree: lxml.html.HtmlElement, url: str, fast: bool) -> Any:
        """trafilatura on ``tree`` (which it copies, so it can run twice on one tree)."""
        import trafilatura  # 0.1 s of imports, paid only by a process that extracts

        return trafilatura.bare_extraction(
            tree,
            url=url,
            fast=fast,
            favor_precision=self._favor_precision,
            with_metadata=True,
            # Reader comments churn on every fetch; they are not the article.
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            # Deduplication keeps a process-wide cache, which would make the result depend on
            # what was extracted before.
            deduplicate=False,
        )

    def extract(self, html: bytes, url: str, content_type: str | None = None) -> Page:
        """Extract the article of ``html`` fetched from ``url``; raise ``ExtractError``."""
        from trafilatura.settings import Document

        tree = _parse(html, url, content_type)
        try:
            # The fast pass (main extractor only) finds the same text as the full cascade on
            # a page with a real body, in 60% of the time; trafilatura's readability/justext
            # comparison earns its cost only where the fast pass comes back short
            # (bench/extraction.py: the same F1 either way, 21 ms vs 25 ms a page).
            document = self._bare_extraction(tree, url, fast=True)
            if not isinstance(document, Document) or len(document.text or "") < FAST_ENOUGH:
                document = self._bare_extraction(tree, url, fast=False)
        # trafilatura is heuristic code run over arbitrary markup: whatever it raises means
        # "no article here", which the pipeline must see as an ExtractError, not a crash.
        except Exception as exc:
            raise ExtractError(f"{url}: extraction failed: {exc}") from exc
        if not isinstance(document, Document):
            raise ExtractError(f"{url}: no article text found")
        title = _clean(document.title)
        paragraphs = _paragraphs(document.text or "")
        if title and paragraphs and paragraphs[0] == title:
            # The <h1> repeated as the first paragraph: the headline is tracked as the
            # title, and keeping it in the body would report every headline edit twice.
            paragraphs = paragraphs[1:]
        if sum(map(len, paragraphs)) < max(self._min_chars, 1):
            raise ExtractError(f"{url}: no article text found")
        published, modified = _declared_dates(tree)
        return Page(
            title=title,
            paragraphs=paragraphs,
            byline=_clean(document.author),
            # trafilatura's own guess is day-precise and may come from the page chrome, so
            # it only fills in when the page declares nothing.
            published=published or parse_date(document.date),
            modified=modified,
            canonical_url=_canonical_url(tree, url),
        )


def decode_html(html: bytes, content_type: str | None = None) -> str | None:
    """Decode with the BOM, the Content-Type charset or a <meta> charset; None if undeclared.

    The order follows the HTML spec's encoding sniffing. A declared charset that Python does
    not know, or that the bytes contradict, counts as undeclared.
    """
    for bom, encoding in _BOMS:
        if html.startswith(bom):
            return html.decode(encoding, errors="replace")
    declared: list[str] = []
    if content_type and (header := _CHARSET_PARAM.search(content_type)):
        declared.append(header.group(1))
    if meta := _META_CHARSET.search(html[:_PRESCAN_BYTES]):
        declared.append(meta.group(1).decode("ascii"))
    for label in declared:
        python_name = _python_encoding(label)
        if python_name is None:
            continue
        try:
            return html.decode(python_name)
        except UnicodeDecodeError:
            if python_name == "utf-8":
                return _contradicted_utf8(html)
            continue
    return None


def _contradicted_utf8(html: bytes) -> str | None:
    """A page declared UTF-8 whose bytes are not: a few stray bytes in UTF-8 text, or a whole
    page in windows-1252 (the usual mislabel); None when it is neither.

    Charset detection is no help with the first (one bad byte would turn every accented
    letter of the article into mojibake, and fixing the byte later into a rewrite), and
    often picks a neighbouring code page for the second.
    """
    text = html.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    if sum(1 for char in text if char > "\x7f") - replaced > replaced:
        return text
    try:
        return html.decode("cp1252")
    except UnicodeDecodeError:
        return None


def _python_encoding(label: str) -> str | None:
    label = label.strip().lower()
    if label in _WINDOWS_1252_LABELS:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _quiet(level: int | None) -> None:
    """trafilatura and htmldate log every discarded or odd page; our ExtractError already
    says so, once, with the URL."""
    if level is not None:
        for name in ("trafilatura", "htmldate", "justext"):
            logging.getLogger(name).setLevel(level)


def _parse(html: bytes, url: str, content_type: str | None) -> lxml.html.HtmlElement:
    """Decode and parse once; trafilatura and our metadata readers share the tree."""
    text = decode_html(html, content_type)
    if text is None:
        # Undeclared: trafilatura's decoder tries UTF-8, then charset detection.
        from trafilatura.utils import decode_file

        text = decode_file(html)
    # trafilatura rejects such input when given a string, but not when handed a parsed tree.
    if "\x00" in text or not _HTML_SNIFF.search(text, 0, _SNIFF_CHARS):
        raise ExtractError(f"{url}: not an HTML document")
    # A fresh parser per call: lxml parsers are not safe to share between threads. Parsing
    # re-encoded UTF-8 bytes sidesteps lxml's refusal of str input with an XML declaration.
    parser = lxml.html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, collect_ids=False
    )
    try:
        tree = lxml.html.fromstring(text.encode("utf-8", "surrogatepass"), parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ExtractError(f"{url}: unparsable HTML: {exc}") from exc
    if tree is None or not isinstance(tree, lxml.html.HtmlElement):
        raise ExtractError(f"{url}: unparsable HTML")
    return tree


def _paragraphs(text: str) -> tuple[str, ...]:
    """trafilatura's text has one block per line; each becomes one normalized paragraph."""
    canonical = normalize_text(text.replace("\n", "\n\n"))
    return tuple(canonical.split("\n\n")) if canonical else ()


def _clean(value: str | None) -> str | None:
    cleaned = normalize_text(value or "").replace("\n\n", " ")
    return cleaned or None


def _canonical_url(tree: lxml.html.HtmlElement, url: str) -> str | None:
    """The first non-empty ``<link rel="canonical">``, resolved against ``url``."""
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if "canonical" in rel and href:
            resolved = urljoin(url, href)
            if resolved.startswith(("http://", "https://")):
                return resolved
    return None


def _declared_dates(tree: lxml.html.HtmlElement) -> tuple[datetime | None, datetime | None]:
    """(published, modified) as the page declares them: <meta>, then JSON-LD, then <time>."""
    meta = _meta_values(tree)
    article = _json_ld_article(tree)
    published = _first_date(
        [meta.get(key) for key in PUBLISHED_META]
        + [_json_str(article, "datePublished"), _time_itemprop(tree, "datepublished")]
    )
    modified = _first_date(
        [meta.get(key) for key in MODIFIED_META]
        + [_json_str(article, "dateModified"), _time_itemprop(tree, "datemodified")]
    )
    return published, modified


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


def _time_itemprop(tree: lxml.html.HtmlElement, itemprop: str) -> str | None:
    for element in tree.iter("time"):
        if (element.get("itemprop") or "").strip().lower() == itemprop:
            return (element.get("datetime") or element.text_content() or "").strip() or None
    return None


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


def _first_date(candidates: list[str | None]) -> datetime | None:
    for candidate in candidates:
        parsed = parse_date(candidate)
        if parsed is not None:
            return parsed
    return None
