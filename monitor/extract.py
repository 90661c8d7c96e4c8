"""Article HTML -> ``Page``: body paragraphs, headline, byline, dates and canonical URL.

Text comes from trafilatura tuned for precision, because a page's chrome (ads, "most read"
lists, per-request tokens, render timestamps) changes on every fetch and any of it leaking
into the body would show up as a spurious new version. Where precision keeps suspiciously
little of what the page holds, trafilatura's recall settings and readability-lxml give a
second opinion, and the body the three agree on most wins (issue 15), or the one that is
the whole article where precision kept a block of it. The article's lead, which precision
drops with the article's header, is put back in front (``lead``); the site's "Read more"
lines and picture credits are then dropped (``boilerplate``). Dates and the
canonical link are read from the page's own declarations (<meta>, JSON-LD, <time>):
trafilatura reports only one day-precise date and no modification time.
"""

from __future__ import annotations

import codecs
import copy
import logging
import re
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urljoin

import lxml.etree
import lxml.html

from monitor.boilerplate import without_boilerplate
from monitor.declarations import clean
from monitor.errors import ExtractError
from monitor.lead import with_lead
from monitor.metadata import Guesses, read_metadata
from monitor.models import Page
from monitor.normalize import normalize_text

__all__ = ["Extractor", "TrafilaturaExtractor", "decode_html"]

logger = logging.getLogger(__name__)

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
# Some tag a real page has near its start; plain text and binary blobs have none.
_HTML_SNIFF = re.compile(
    r"<\s*(!doctype|html|head|body|meta|title|div|p|article|main|section|span|a)\b", re.IGNORECASE
)
_SNIFF_CHARS = 65536
# A fast-pass body this long is taken as is; a shorter one gets the full cascade.
FAST_ENOUGH = 1000
# Precision's body is in doubt, and gets a second opinion, when it is under the extractor's
# floor (min_chars) or under DOUBT_SHARE of the text in the page's <p> elements: a teaser, a
# sidebar scrap or a banner instead of the article (issue 15). Tuned on trafilatura's
# evaluation set and the article extraction benchmark: a second opinion on one page in ten.
DOUBT_SHARE = 0.5
# Precision's body stands when another candidate's words overlap this much with it (F1): a
# short article is short, and the others then differ only by chrome or a headline.
AGREEMENT = 0.8
# Unless another candidate is the whole article where precision kept one block of it (an
# interview, a listicle, a Q&A split over several containers, where trafilatura's recall
# settings often stop at the same block): it holds WHOLE_HOLDS of precision's words, is
# WHOLE_TIMES its length or more and covers WHOLE_COVERS of the page's <p> text (issue 15).
WHOLE_HOLDS = 0.9
WHOLE_TIMES = 2.0
WHOLE_COVERS = 0.6
# Elements of readability's summary that hold one paragraph each.
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "td", "th", "blockquote", "dd")
# trafilatura's default (EXTENSIVE_DATE_SEARCH in its settings.cfg): htmldate also looks
# for dates in the page's text, not only in its markup.
_EXTENSIVE_DATES = True
_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")
# C0 and C1 control characters other than tab, newline and carriage return: a stray NUL or
# BEL in a real page made libxml2 give up on the tree (issue 15). The ones Python counts as
# whitespace become a space, as normalize_text would make them, so that hashes of pages
# stored before stay the same; the others are dropped.
_CONTROL_CHARACTERS = {
    code: " " if chr(code).isspace() else None
    for code in (*range(0x20), *range(0x7F, 0xA0))
    if chr(code) not in "\t\n\r"
}
# The same characters as a class: searching costs microseconds where str.translate with a
# dict costs milliseconds a page, and almost no page has any.
_CONTROL = re.compile("[" + "".join(re.escape(chr(code)) for code in _CONTROL_CHARACTERS) + "]")


class Extractor(Protocol):
    """Turns one fetched HTML page into article text and metadata."""

    def extract(self, html: bytes, url: str, content_type: str | None = None) -> Page:
        """Extract the article of ``html`` fetched from ``url``; raise ``ExtractError``."""
        ...


class TrafilaturaExtractor:
    """``Extractor`` backed by trafilatura's precision mode, with a second opinion where it
    is in doubt, plus our own metadata."""

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

    def _bare_extraction(
        self, tree: lxml.html.HtmlElement, url: str, fast: bool, recall: bool = False
    ) -> Any:
        """trafilatura on ``tree`` (which it copies, so it can run twice on one tree);
        ``recall``: its recall settings instead of ours, for the second opinion."""
        import trafilatura  # 0.1 s of imports, paid only by a process that extracts

        return trafilatura.bare_extraction(
            tree,
            url=url,
            fast=fast,
            favor_precision=self._favor_precision and not recall,
            favor_recall=recall,
            # Its metadata is read once a page, by _guessed, rather than on every pass.
            with_metadata=False,
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
        tree = _parse(html, url, content_type)
        floor = max(self._min_chars, 1)
        guesses = _guessed(tree, url)  # trafilatura's passes each work on a copy of the tree
        title = clean(guesses.title)
        paragraphs = self._precise_body(tree, url, title)
        visible = _paragraph_chars(tree)
        if _in_doubt(paragraphs, visible, floor):
            paragraphs = self._second_opinion(tree, url, paragraphs, floor, visible, title)
        paragraphs = without_boilerplate(with_lead(tree, paragraphs))
        if sum(map(len, paragraphs)) < floor:
            raise ExtractError(f"{url}: no article text found")
        # Headline, byline and dates from the page's own declarations; trafilatura's
        # guesses (day-precise dates, free-text bylines, the <title>) only fill in.
        metadata = read_metadata(tree, url, guesses)
        return Page(
            title=metadata.headline,
            paragraphs=paragraphs,
            byline=metadata.byline,
            published=metadata.published,
            modified=metadata.modified,
            canonical_url=_canonical_url(tree, url),
        )

    def _precise_body(self, tree: lxml.html.HtmlElement, url: str, title: str | None) -> Paragraphs:
        """trafilatura's body with our settings (empty if it found none)."""
        # The fast pass (main extractor only) finds the same text as the full cascade on a
        # page with a real body, in 60% of the time; trafilatura's readability/justext
        # comparison earns its cost only where the fast pass comes back short
        # (bench/extraction.py: the same F1 either way, 21 ms vs 25 ms a page).
        document = _guarded(lambda: self._bare_extraction(tree, url, fast=True))
        if len(_text_of(document)) < FAST_ENOUGH:
            document = _guarded(lambda: self._bare_extraction(tree, url, fast=False))
        return _body(document, title)

    def _second_opinion(
        self,
        tree: lxml.html.HtmlElement,
        url: str,
        precise: Paragraphs,
        floor: int,
        visible: int,
        title: str | None,
    ) -> Paragraphs:
        """The body the candidates agree on most: ours, trafilatura's recall settings, or
        readability-lxml's; or the one that is the whole article where ours is a block of it.
        Length alone would pick whichever leaks the most chrome."""
        recall = _guarded(lambda: self._bare_extraction(tree, url, fast=False, recall=True))
        candidates = [
            precise,
            _body(recall, title),
            _without_headline(_readability_body(tree, url), title),
        ]
        whole = _whole_article(candidates, visible, floor)
        return whole or _most_agreed(candidates, floor)


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
    if _CONTROL.search(text):
        text = text.translate(_CONTROL_CHARACTERS)
    if not _HTML_SNIFF.search(text, 0, _SNIFF_CHARS):
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


Paragraphs = tuple[str, ...]


def _guarded(extraction: Callable[[], Any]) -> Any:
    """Run one extractor; None when it raises.

    trafilatura and readability are heuristic code run over arbitrary markup: whatever they
    raise means "no article here" for that candidate, never a crash of the pipeline.
    """
    try:
        return extraction()
    except Exception:
        logger.debug("an extractor failed", exc_info=True)
        return None


def _text_of(document: Any) -> str:
    from trafilatura.settings import Document

    return (document.text or "") if isinstance(document, Document) else ""


def _body(document: Any, title: str | None) -> Paragraphs:
    """The body paragraphs of a trafilatura Document (None: none), without the headline
    ``title`` repeated in front."""
    return _without_headline(_paragraphs(_text_of(document)), title)


def _guessed(tree: lxml.html.HtmlElement, url: str) -> Guesses:
    """trafilatura's guesses at the headline, author, date and site name (none if its
    metadata code fails on the page).

    These are the steps of its ``extract_metadata`` whose results we use, in its order and
    with ``bare_extraction``'s settings. The rest (licence, categories, tags, host name)
    took 40% of its time, and the host name loaded the public suffix list into every worker
    (0.25 s). tests/test_extract.py holds these equal to ``extract_metadata``'s on the
    extraction corpora, so that a trafilatura upgrade that changes them shows.
    """
    from htmldate import find_date
    from trafilatura import metadata as guess
    from trafilatura.settings import set_date_params

    try:
        found = guess.examine_meta(tree)
        if found.author and " " not in found.author:
            found.author = None  # trafilatura's rule: one word is a handle, not a name
        try:
            found = guess.extract_meta_json(tree, found)
        except Exception:  # trafilatura logs these and carries on; so do we
            logger.debug("trafilatura's JSON-LD reading failed", exc_info=True)
        found.title = found.title or guess.extract_title(tree)
        found.author = found.author or guess.extract_author(tree)
        found.url = found.url or guess.extract_url(tree, url)
        found.date = find_date(tree, **{**set_date_params(_EXTENSIVE_DATES), "url": found.url})
        site = found.sitename or guess.extract_sitename(tree)
        if site:
            site = site.lstrip("@")
            if site and "." not in site and not site[0].isupper():
                site = site.title()
        elif found.url and (host := guess.META_URL.match(found.url)):
            site = host[1]
        found.sitename = site
        found.clean_and_trim()  # entities, spaces and control characters, as trafilatura
        return Guesses(
            title=found.title, author=found.author, date=found.date, sitename=found.sitename
        )
    except Exception:  # heuristic code over arbitrary markup, as _guarded says
        logger.debug("trafilatura's metadata failed", exc_info=True)
        return Guesses()


def _without_headline(paragraphs: Paragraphs, title: str | None) -> Paragraphs:
    # The <h1> repeated as the first paragraph: the headline is tracked as the title, and
    # keeping it in the body would report every headline edit twice.
    if title and paragraphs and paragraphs[0] == title:
        return paragraphs[1:]
    return paragraphs


def _paragraph_chars(tree: lxml.html.HtmlElement) -> int:
    """The length of the page's <p> text: a cheap upper bound of its article (a third of a
    millisecond) that counts chrome too."""
    return sum(len((p.text_content() or "").strip()) for p in tree.iter("p"))


def _in_doubt(paragraphs: Paragraphs, visible: int, min_chars: int) -> bool:
    """Whether precision's body is too short to keep, or small next to what the page
    obviously holds (``visible``, its <p> text: a share of it, since that counts chrome)."""
    length = sum(map(len, paragraphs))
    return length < min_chars or length < DOUBT_SHARE * visible


def _readability_body(tree: lxml.html.HtmlElement, url: str) -> Paragraphs:
    """readability-lxml's article, one paragraph per block; () if it fails."""
    from readability import Document

    # readability drops hidden elements from the tree it is given: hand it a copy.
    summary = _guarded(lambda: Document(copy.deepcopy(tree), url=url).summary(html_partial=True))
    if not summary:
        return ()
    try:
        root = lxml.html.fromstring(summary)
    except (lxml.etree.ParserError, ValueError):
        return ()
    for element in root.iter():
        # Line breaks in the source are spaces; blocks and <br> end a paragraph (some
        # pages have no <p>, only text and <br>). A control character written as a
        # character reference (&#1;) is in readability's text, and lxml refuses it back.
        element.text = _SPACES.sub(" ", _CONTROL.sub(" ", element.text or ""))
        element.tail = _SPACES.sub(" ", _CONTROL.sub(" ", element.tail or ""))
        if element.tag in _BLOCKS or element.tag == "br":
            element.tail = "\n" + element.tail
            element.text = "\n" + element.text
    return _paragraphs(root.text_content())


def _most_agreed(candidates: list[Paragraphs], min_chars: int) -> Paragraphs:
    """The first candidate (precision's) if another agrees with it; else the one whose words
    overlap most with the other candidates', the first on a tie.

    Candidates under ``min_chars`` take no part: an extractor that found nothing has no
    opinion. () when none is left.
    """
    viable = [c for c in candidates if sum(map(len, c)) >= min_chars]
    bags = [_bag(c) for c in viable]
    precise_viable = bool(viable) and viable[0] is candidates[0]
    if precise_viable and any(_overlap(bags[0], other) >= AGREEMENT for other in bags[1:]):
        return viable[0]
    best: Paragraphs = ()
    best_score = -1.0
    for index, bag in enumerate(bags):
        score = sum(_overlap(bag, other) for j, other in enumerate(bags) if j != index)
        if score > best_score:
            best, best_score = viable[index], score
    return best


def _whole_article(candidates: list[Paragraphs], visible: int, min_chars: int) -> Paragraphs:
    """The other candidate that is the whole article of which the first (precision's, at
    least ``min_chars`` long) is one block; () if none is.

    It holds WHOLE_HOLDS of the first's words, is WHOLE_TIMES its length or more and covers
    WHOLE_COVERS of the page's <p> text (``visible``); of two such, the shorter, which holds
    less chrome.
    """
    length = sum(map(len, candidates[0]))
    if length < min_chars:
        return ()
    precise = _bag(candidates[0])
    wholes = [
        candidate
        for candidate in candidates[1:]
        if (size := sum(map(len, candidate))) >= WHOLE_TIMES * length
        and size >= WHOLE_COVERS * visible
        and (precise & _bag(candidate)).total() >= WHOLE_HOLDS * precise.total()
    ]
    return min(wholes, key=lambda whole: sum(map(len, whole)), default=())


def _bag(paragraphs: Paragraphs) -> Counter[str]:
    """The paragraphs' words, lower-cased, with their counts."""
    return Counter(_WORD.findall(" ".join(paragraphs).lower()))


def _overlap(first: Counter[str], second: Counter[str]) -> float:
    """F1 of two bags of words: 1 for the same words, 0 for none shared."""
    total = first.total() + second.total()
    return 2 * (first & second).total() / total if total else 0.0


def _paragraphs(text: str) -> tuple[str, ...]:
    """trafilatura's text has one block per line; each becomes one normalized paragraph."""
    canonical = normalize_text(text.replace("\n", "\n\n"))
    return tuple(canonical.split("\n\n")) if canonical else ()


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
