"""Canonical forms: article URLs, article text, and the content hash built from them.

Pure functions, no I/O. Two fetches of the same article must normalize to the same URL and
the same hash even when the page chrome, whitespace or tracking parameters differ; any real
edit to the headline, byline or body must change the hash.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import SplitResult, unquote_plus, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived (campaign, click and share ids). They
# are dropped so that one article reached from a feed, a newsletter and a share button is one
# article. Matched case-insensitively: the Guardian, for one, sends ``CMP=``.
TRACKING_PARAMS: tuple[str, ...] = (
    "fbclid",  # Facebook
    "gclid",  # Google Ads
    "dclid",  # Google Display
    "gbraid",  # Google Ads (iOS)
    "wbraid",  # Google Ads (web-to-app)
    "msclkid",  # Microsoft Ads
    "yclid",  # Yandex
    "igshid",  # Instagram
    "mc_cid",  # Mailchimp campaign
    "mc_eid",  # Mailchimp subscriber
    "_ga",  # Google Analytics cross-domain
    "_gl",  # Google Analytics cross-domain (gtag)
    "_hsenc",  # HubSpot
    "_hsmi",  # HubSpot
    "mkt_tok",  # Marketo
    "ref_src",  # Twitter/X embeds
    "ref_url",  # Twitter/X embeds
    "cmpid",  # campaign id, many publishers
    "cmp",  # the Guardian's share campaigns
    "icid",  # internal campaign id
    "ocid",  # MSN
    "xtor",  # AT Internet, common on French news feeds
    "at_medium",  # AT Internet (BBC)
    "at_campaign",  # AT Internet (BBC)
    "smid",  # New York Times share id
    "__twitter_impression",
)

# Whole families of tracking parameters, matched as name prefixes (also case-insensitive).
TRACKING_PREFIXES: tuple[str, ...] = (
    "utm_",  # Google Analytics campaign tags
    "ns_",  # comScore
    "pk_",  # Matomo/Piwik
    "mtm_",  # Matomo
    "hsa_",  # HubSpot ads
)

_TRACKING_NAMES = frozenset(TRACKING_PARAMS)
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Invisible characters that change bytes but not what a reader sees. Zero-width (non-)joiners
# are kept on purpose: they change how Persian, Indic and emoji text renders.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u00ad\ufeff\u2060"))
# Python's ``\s`` already covers NBSP and its kin, but mapping them first keeps the intent
# explicit and independent of the regex engine's idea of whitespace.
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f"), " ")
_LINE_BREAKS = {ord("\r"): "\n", ord("\u2028"): "\n", ord("\u2029"): "\n\n"}
# One table for all three (no output of one is an input of another); str.translate walks
# every character in Python-level lookups, so it only runs when one of them is present.
_TRANSLATION = {**_INVISIBLE, **_SPACES, **_LINE_BREAKS}
_NEEDS_TRANSLATION = re.compile("[" + "".join(map(chr, _TRANSLATION)) + "]")
_BLANK_LINES = re.compile(r"\n[^\S\n]*\n\s*")
_WHITESPACE = re.compile(r"\s+")
_ODD_WHITESPACE = re.compile(r"[^\S \n]")  # whitespace other than a space or a line break

# Typography: marks a typesetting CMS swaps for others without changing a word (issue 14).
# Folded for comparison only, never in the stored text or the hash (that would give every
# stored version a new hash, and every article a new version, on the first check after an
# upgrade). ``´`` and ``ʼ`` are mapped before NFKC, which would turn ``´`` into a space and a
# combining accent; the vertical forms of 「」 likewise, which NFKC turns into 「」.
_DOUBLE_QUOTES = "“”„‟«»〝〞〟「」﹁﹂❝❞＂"
_SINGLE_QUOTES = "‘’‚‛‹›『』﹃﹄❛❜ʼ´`＇"
_DASHES = "‐‑‒–—―−⁃﹘﹣－"
# Soft hyphen, zero-width space and joiners, direction marks and embeddings, word joiner,
# invisible operators, BOM: none is a visible character of its own. (The stored text keeps
# the joiners, see ``_INVISIBLE``; a change of nothing but them is still typography.)
_ZERO_WIDTH = "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
_ZERO_WIDTH += "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
_QUOTE_MARKS = {
    **dict.fromkeys(map(ord, _DOUBLE_QUOTES), '"'),
    **dict.fromkeys(map(ord, _SINGLE_QUOTES), "'"),
}
_TYPOGRAPHY = {
    **_QUOTE_MARKS,
    **dict.fromkeys(map(ord, _DASHES), "-"),
    **dict.fromkeys(map(ord, _ZERO_WIDTH)),
}
# A dash, or a hyphen standing for one ("--"), however spaced: "a—b", "a - b", "a -- b".
_DASH_RUN = re.compile(r"[^\S\n]*-+[^\S\n]*")
# Two spaces or more, or one that is not the plain space (a tab, say): folded to one space.
_SPACING = re.compile(r"[^\S\n]{2,}|[^\S\n ]")

# Han ideographs (with the iteration marks and ideographic zero), hiragana, katakana and
# half-width katakana: scripts written without spaces between words, which the diff takes
# one character per token and classification counts one character per word. A regex class
# body, for ``[...]``; Hangul is left out: Korean puts spaces between words.
CJK_CHARACTERS = (
    "\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3038-\u303c\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)

# Joins the hashed fields. It is whitespace to ``str.isspace``, so normalization turns any
# occurrence inside a field into a plain space and the joined string stays unambiguous.
_FIELD_SEPARATOR = "\x1f"
# Bumped whenever the inclusion list or the normalization changes, so old and new hashes can
# never collide by accident.
_HASH_SCHEME = "newsmonitor-content-v1"


def normalize_url(url: str) -> str:
    """Canonical form of an http(s) URL, used as an article's identity.

    Lower-cases scheme and host, drops default ports, the fragment and tracking parameters
    (``TRACKING_PARAMS``, ``TRACKING_PREFIXES``), keeps the remaining parameters in order and
    byte-for-byte, and turns an empty path into ``/``. Internationalized hosts stay as given
    (Unicode or ``xn--``): Python's ``idna`` codec implements IDNA 2003, which maps ``ß`` and
    ``ς`` differently from browsers, so converting could point at another domain. Anything that
    is not an absolute http(s) URL comes back stripped but otherwise untouched.
    """
    stripped = url.strip()
    try:
        parts = urlsplit(stripped)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return stripped
        netloc = _normalize_netloc(parts, scheme)
    except ValueError:  # e.g. a non-numeric port or an unbalanced IPv6 bracket
        return stripped
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, _strip_tracking(parts.query), ""))


def _normalize_netloc(parts: SplitResult, scheme: str) -> str:
    """Host lower-cased, default port dropped, userinfo kept as given."""
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literal: urlsplit removed the brackets
        host = f"[{host}]"
    port = parts.port  # raises ValueError on a bad port
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    return f"{userinfo}{at}{host}"


def _strip_tracking(query: str) -> str:
    """The query without tracking parameters or empty pairs, other pairs untouched."""
    kept = [pair for pair in query.split("&") if pair and not _is_tracking(pair)]
    return "&".join(kept)


def _is_tracking(pair: str) -> bool:
    name = unquote_plus(pair.partition("=")[0]).lower()
    return name in _TRACKING_NAMES or name.startswith(TRACKING_PREFIXES)


@lru_cache(maxsize=256)
def compile_ignore(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """Compile ignore regexes once per distinct set (config holds them as a tuple)."""
    return tuple(re.compile(pattern, re.MULTILINE) for pattern in patterns)


def normalize_text(text: str, ignore: Sequence[str] = ()) -> str:
    """Canonical article text: NFC, one space between words, paragraphs split by one blank line.

    Invisible characters (zero-width space, soft hyphen, BOM, word joiner) are removed and
    no-break spaces become spaces. Each ``ignore`` regex is then removed wherever it matches;
    patterns see the canonical text, one paragraph per line with single spaces, and run with
    ``re.MULTILINE``, so ``r"^Watch NBS news on YouTube.*$"`` drops that whole paragraph.
    """
    canonical = _canonical_paragraphs(text)
    if not ignore:
        return canonical
    for pattern in compile_ignore(tuple(ignore)):
        canonical = pattern.sub("", canonical)
    # A removal can leave an empty paragraph or a double space behind.
    return _canonical_paragraphs(canonical)


def _canonical_paragraphs(text: str) -> str:
    # Most texts are canonical already (the extractor writes them so, and stored versions
    # come back so): told in one scan, which costs a fraction of redoing them (issue 16).
    if is_canonical(text):
        return text
    return _canonicalized(text)


def is_canonical(text: str) -> bool:
    """Whether ``normalize_text`` (without ``ignore``) would give ``text`` back unchanged: NFC,
    nothing to translate, no whitespace but single spaces and paragraph breaks of exactly
    one blank line, none at either end."""
    # Substring counts and one-class scans, all in C: a regex of the alternatives would
    # try each at every position and cost as much as normalizing.
    return (
        not text[:1].isspace()
        and not text[-1:].isspace()
        and "  " not in text
        and " \n" not in text
        and "\n " not in text
        and "\n\n\n" not in text
        # No line break alone: with no three in a row, each is one of a pair.
        and text.count("\n") == 2 * text.count("\n\n")
        and _ODD_WHITESPACE.search(text) is None
        and _NEEDS_TRANSLATION.search(text) is None
        and unicodedata.is_normalized("NFC", text)
    )


def _canonicalized(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    if _NEEDS_TRANSLATION.search(text):
        text = text.translate(_TRANSLATION)
    paragraphs = (_WHITESPACE.sub(" ", block).strip() for block in _BLANK_LINES.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def typography_fold(text: str) -> str:
    """``text`` with its typography made plain, to tell a restyled text from an edited one.

    Curly, low and angle quotation marks become ``"`` and ``'`` (so do CJK corner brackets),
    dashes and minus signs ``-`` with one space either side (hyphens between words included,
    so "a—b" equals "a - b"), ``…`` three dots, no-break and thin spaces a space; soft
    hyphens and zero-width characters are dropped; NFKC folds compatibility forms (the ﬁ
    ligature, full-width letters and digits, ², ①). Case, letters, digits, other punctuation
    and paragraph breaks are kept. Only for comparing texts: stored text and its hash keep
    their typography (issue 14).
    """
    folded = text
    if not text.isascii() or "`" in text:  # ASCII text (most text) has nothing to translate
        folded = unicodedata.normalize("NFKC", text.translate(_TYPOGRAPHY))
    if "-" in folded:
        folded = _DASH_RUN.sub(" - ", folded)
    return _SPACING.sub(" ", folded)


def straighten_quotes(text: str) -> str:
    """``text`` with every quotation mark and apostrophe as ``"`` or ``'``, one character
    for one, so that an offset in the result is the same offset in ``text``."""
    return text.translate(_QUOTE_MARKS)


def content_hash(
    title: str | None,
    byline: str | None,
    text: str,
    *,
    ignore: Sequence[str] = (),
    feed_title: str | None = None,
) -> str:
    """SHA-256 (hex) identifying one version of an article's content.

    Inclusion list: the headline, the byline, the body text and the entry's title in the
    feed (headline A/B tests often show only there), each normalized (``ignore`` applies to
    the body only). Everything else is excluded on purpose: dates, because a
    modified-date bump with the same words is not a new version; the URL and canonical URL,
    because moves are tracked as their own change kind; and the page chrome, which never
    reaches ``text``.
    """
    return hash_normalized(
        normalize_text(title or ""),
        normalize_text(byline or ""),
        normalize_text(text, ignore),
        normalize_text(feed_title or ""),
    )


def hash_normalized(
    title: str | None, byline: str | None, text: str, feed_title: str | None
) -> str:
    """``content_hash`` of fields that are normalized already (``normalize_text``), without
    normalizing them a second time."""
    fields: Iterable[str] = (_HASH_SCHEME, title or "", byline or "", text, feed_title or "")
    joined = _FIELD_SEPARATOR.join(fields)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()
