"""Pure: the article's byline — who the page says wrote it.

Structured declarations come first (JSON-LD ``author``, ``rel=author``, ``<meta
name="author">``, an SEO plugin's "Written by" Twitter card), then an element marked
``author``/``byline`` outside comments, captions and credits, then a "By …"/"Von …"/"Autor:
…" line, then trafilatura's guess (issue 15). Placeholders ("Name", "admin") are no
bylines; the site's own name or a user handle is the byline only where no source names a
person; a first name alone is completed from the page's text ("Nils" -> "Nils Pickert").
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import lxml.html

from monitor.declarations import clean, is_publisher, key, same

__all__ = ["byline"]

# Placeholders that templates print where an author's name should be (issue 15).
_PLACEHOLDER_BYLINES = frozenset((
    "name", "by", "von", "por", "par", "admin", "administrator", "author", "autor", "auteur",
    "editor", "editors",
    "staff", "cortesía", "cortesia", "guest", "anonymous", "anonym", "unknown", "user",
    "webmaster", "wordpressadmin", "wpadmin", "human", "team", "noauthor", "follow",
    "veröffentlicht", "published", "posted", "zuletztgeändert", "archivanzeigen",
))  # fmt: skip
# Elements that may hold a byline, and how they say so in class or itemprop.
_BYLINE_TAGS = ("a", "span", "div", "p", "li", "address", "strong", "b", "em", "small", "cite")
_BYLINE_MARK = re.compile(
    r"(?:^|[-_])(?:author|authors|byline|autor|auteurs?)(?:[-_]+names?)?$|^fn$"
)
_MARK_HINT = re.compile(r"author|byline|autor|auteur|\bfn\b")
_NOT_BYLINE_MARKS = ("prep", "avatar", "image", "img", "photo", "foto", "bild", "media", "label")
# Class or id marks of the places whose names are not the article's byline.
_NOT_BYLINE_PLACES = ("comment", "respond", "copyright", "colophon", "site-info", "site-credit")
MAX_BYLINE_WORDS = 6
# A "By …" line is short; a longer text that starts so is a sentence.
MAX_BYLINE_LINE = 120
# The words that introduce a byline line ("By", "Von", "Autorin: …").
_BY_WORDS = (
    # "Text & Fotos: Jane Doe", "Text und Bild: …" (before "text", which would take "&")
    r"text\s*(?:&|und|and|/)\s*(?:fotos?|bilder?|photos?)"
    "|von|by|par|por|di|door|autor(?:in)?|author|autoren|auteure?|text|redaktion"
)
_BYLINE_LINE = re.compile(
    # A date or time first ("06.11.2023 13:30 von Olga"), or another field and a separator
    # ("Kolumne | By Jane Doe").
    r"^(?:[\d.:/, -]+(?:uhr\s+)?|[^|•·]{0,40}[|•·]\s*)?"
    r"(?:(?:ein )?(?:artikel|beitrag|blog beitrag|text|interview|kommentar) )?"
    r"(?:(?:veröffentlicht|publiziert|posted|written|geschrieben|verfasst|published) )?"
    rf"(?:{_BY_WORDS})"
    r"\s*:?\s+(?P<name>\S.*)$",
    re.IGNORECASE,
)
# A text that starts like a byline: a prefix word within its first three words.
_BYLINE_START = re.compile(
    rf"\s*(?:\S+\s+){{0,2}}(?:{_BY_WORDS})(?!\w)",
    re.IGNORECASE,
)
# A user handle rather than a name: one lower-case word, or words joined by dots; and
# words that begin in lower case ("deinen Hochzeitsbloggern"), which are no name either.
_HANDLE = re.compile(r"[^\sA-Z]+|\S+\.\S+|[^\W\d_A-Z]\S*\s.*")
_NAME_PARTICLES = frozenset(
    ("von", "van", "der", "den", "de", "da", "di", "del", "la", "le", "du", "y", "und", "and", "&")
)
# Capitalized words that follow a first name without being its surname: an author box's
# "Nils Autor Nils Pickert ist …", German nouns and verbs of comment headers.
_NOT_SURNAMES = frozenset(("autor", "autorin", "author", "schreibt", "says", "sagt", "said"))
_CAPITAL = "[A-ZÀ-ÖØ-ÞŁŚŹŻ]"
# An organisation's legal form: "Hanns-Seidel-Stiftung e.V." is no person.
_ORGANISATION = re.compile(r"\b(?:e\.\s?V|GmbH|gGmbH|AG|KG|SE|Inc|Ltd|LLC|S\.A)\b\.?$")
_COMMA_WITHOUT_SPACE = re.compile(r",(?=[^\W\d_])")
# Words that join two names, never begin or end one.
_NAME_JOINERS = frozenset(("und", "and", "y", "et", "&"))
# What ends the names of a marked byline: a date or a separator (commas separate names).
_LIST_TAIL = re.compile(r"\s*(?:[|•·–—]|\s-\s|\d|\bam\b|\bon\b)")
_BY_WORD = re.compile(r"\b(?:von|vom|by|par|por)\s+", re.IGNORECASE)
_NAME_LIST = re.compile(r"\s*,\s*|\s+(?:und|and|y|et|&)\s+")
# What ends a name in a byline line: a date, a separator, a role ("… am 3. Mai").
_BYLINE_TAIL = re.compile(
    r"\s*(?:[|•·–—/(]|\s-\s|\d|\bam\b|\bon\b|\ble\b|\bel\b|\bpublished\b|\bveröffentlicht\b"
    r"|\s\w+\s?:(?=\s*\S))"  # a next label ("Tags: …", "Edition : …")
)
# Words that label a byline rather than begin a name ("Posted by", "Erstellt von").
_BYLINE_LABEL = re.compile(
    r"posted|written|geschrieben|verfasst|erstellt|veröffentlicht|publiziert|published|beitrag"
    r"|artikel|text|interview|kommentar|kolumne|foto|fotos|bild|bilder",
    re.IGNORECASE,
)
# Twitter-card labels of the writer's name (Yoast SEO in its languages).
_WRITTEN_BY = re.compile(
    r"written by|verfasst von|geschrieben von|écrit par|escrito por|scritto da|geschreven door"
    r"|autor(?:in)?|author|auteur"
)
_BYLINE_PREFIX = re.compile(
    r"^(?:view all posts by|zeige alle beiträge von|alle beiträge von|posted by|written by"
    r"|geschrieben von|by|von|por|par|autor(?:in)?:|author:|auteur\s?:)\s+",
    re.IGNORECASE,
)


def byline(
    tree: lxml.html.HtmlElement,
    meta: dict[str, str],
    article: dict[str, Any],
    guess: str | None,
    publishers: set[str],
) -> str | None:
    """Authors from JSON-LD, rel=author, <meta name=author>, a Twitter card's writer, an
    element marked as the byline, a "By …" line, then trafilatura's guess."""
    # In order of trust; the page-wide scans (marked elements, "By …" lines) run only when
    # the declarations name nobody, as they cost more than the rest of the metadata.
    sources: list[Callable[[], list[str]]] = [
        lambda: _json_ld_authors(article.get("author")),
        lambda: _rel_author_texts(tree),
        lambda: [meta.get("author") or ""],
        lambda: [_labelled_writer(meta)],
        lambda: _marked_bylines(tree),
        lambda: _prefixed_bylines(tree),
        lambda: (guess or "").split(";"),
    ]
    cheap = (0, 1, 2, 3, 6)
    # Many sites name themselves as the author (in <meta name="author">, as the JSON-LD
    # author): the site's name, or a user handle ("jane.doe"), is the byline only where no
    # source names a person.
    kept: dict[int, list[str]] = {}

    def people(index: int) -> list[str]:
        if index not in kept:
            kept[index] = _real_names(sources[index]())
        return [
            name
            for name in kept[index]
            if not _HANDLE.fullmatch(name)
            and not is_publisher(name, publishers)
            and not _ORGANISATION.search(name)
        ]

    for index in range(len(sources)):
        names = people(index)
        if names:
            # A later declaration that names the same people and more has the whole list,
            # where structured data often keeps only the first author, or the full name
            # where this one gives a first name.
            for later in (i for i in cheap if i > index):
                more = people(later)
                if _more_complete(more, names):
                    return ", ".join(more)
            if len(names) == 1 and " " not in names[0]:
                return _full_name(tree, names[0]) or names[0]
            return ", ".join(names)
    return next((", ".join(kept[i]) for i in sorted(kept) if kept[i]), None)


def _full_name(tree: lxml.html.HtmlElement, first: str) -> str | None:
    """The full name of an author declared by first name only ("Nils"), as the page writes
    it elsewhere ("Eine Kolumne von Nils Pickert", the author box): the surname that most
    often follows the first name in the page's short texts and at the start of longer ones."""
    if not first.isalpha() or not first[0].isupper() or first.isupper():
        return None  # a handle, an initial or an acronym ("LN"): nothing to complete
    # A surname not followed by another capitalized word: "Google Safe Browsing" is a name
    # of something else.
    follows = re.compile(
        rf"\b(?i:{re.escape(first)})\s+({_CAPITAL}[\w'’-]+)\b(?!['’-]|\s+{_CAPITAL})"
    )
    surnames: Counter[str] = Counter()
    for text in tree.xpath("//body//text()[not(ancestor::script or ancestor::style)]"):
        if first.casefold() not in text.casefold():
            continue
        # Short texts (a byline, an author box's heading) or the start of a longer one (an
        # author's bio): in the article's sentences the first name is as often someone or
        # something else's ("your Google Account").
        if len(text) > MAX_BYLINE_LINE:
            text = text.lstrip()[: len(first) + 40]
            if not text.casefold().startswith(first.casefold()):
                continue
        surnames.update(
            surname for surname in follows.findall(text) if surname.casefold() not in _NOT_SURNAMES
        )
    if not surnames:
        return None
    surname = surnames.most_common(1)[0][0]
    # "HENRY STEINHAU" in a sidebar's heading is "Henry Steinhau".
    return f"{first} {surname.title() if surname.isupper() else surname}"


def _labelled_writer(meta: dict[str, str]) -> str:
    """The writer an SEO plugin names in its Twitter card ("twitter:label1" = "Written
    by", "twitter:data1" = the name), in the site's language."""
    for number in ("1", "2"):
        label = meta.get(f"twitter:label{number}", "").strip().casefold()
        if _WRITTEN_BY.fullmatch(label):
            return meta.get(f"twitter:data{number}", "")
    return ""


def _more_complete(more: list[str], names: list[str]) -> bool:
    """Whether ``more`` names everyone ``names`` does, and more people or longer names."""
    keys = [key(name) for name in more]
    return sum(map(len, keys)) > sum(len(key(name)) for name in names) and all(
        any(key(name) in found for found in keys) for name in names
    )


def _json_ld_authors(value: object) -> list[str]:
    """JSON-LD ``author``: a string, an object with ``name``, or a list of either."""
    if isinstance(value, str):
        return [html.unescape(value)]  # JSON-LD written by templates often escapes as HTML
    if isinstance(value, dict):
        return _json_ld_authors(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _json_ld_authors(item)]
    return []


def _rel_author_texts(tree: lxml.html.HtmlElement) -> list[str]:
    names: list[str] = []
    for link in tree.iter("a"):
        rel = (link.get("rel") or "").lower().split()
        if "author" in rel and not _in_comments_or_captions(link):
            names.append(link.text_content())
    return names


def _marked_bylines(tree: lxml.html.HtmlElement) -> list[str]:
    """Short texts of elements whose class or itemprop says author or byline (hCard's
    ``author vcard`` included), outside reader comments."""
    for element in tree.iter(*_BYLINE_TAGS):
        marks = f"{element.get('class') or ''} {element.get('itemprop') or ''}".lower()
        # One search rules out almost every element before its classes are split.
        if not _MARK_HINT.search(marks) or not any(map(_is_byline_mark, marks.split())):
            continue
        if _in_comments_or_captions(element):
            continue
        text = clean(element.text_content()) or ""
        if text and len(text.split()) <= MAX_BYLINE_WORDS + 2:
            return [_LIST_TAIL.split(_after_by_word(text), maxsplit=1)[0].strip(" ,;")]
    return []


def _after_by_word(text: str) -> str:
    """The names of a marked byline: after the by-word ("Veröffentlicht am 8. Februar 2022
    von PETA-Team", "vom Krimiblogger"), unless that word is a particle inside a name
    ("Walter von Aachen")."""
    found = _BY_WORD.search(text)
    if found is None:
        return text
    before, after = text[: found.start()].split(), text[found.end() :].split()
    particle = len(after) == 1 or (len(after) > 1 and after[0] in _NAME_PARTICLES)
    if (
        particle  # "Walter von Aachen", "Ursula von der Leyen"; not "Meldung von Jane Doe"
        and len(before) == 1
        and before[0][0].isupper()
        and not _BYLINE_LABEL.fullmatch(before[0])
    ):
        return text
    return _BY_WORD.split(text)[-1]


def _prefixed_bylines(tree: lxml.html.HtmlElement) -> list[str]:
    """The first short line of the page that reads "By Jane Doe", "Von Jane Doe",
    "Autor: Jane Doe" …, up to a date or separator."""
    for element, node in _byline_starts(tree):
        if _in_comments_or_captions(element):
            continue
        # "<span>Von:</span> Jane Doe": the name may follow the element with the prefix;
        # "<p>Autor: <a>Jane Doe</a> Tags: …</p>": the line is read from the prefix on.
        start = clean(node) or ""
        for container in (element, element.getparent()):
            text = _spaced_text(container) if container is not None else None
            text = (text or "")[max((text or "").find(start), 0) :][:MAX_BYLINE_LINE]
            match = _BYLINE_LINE.search(text)
            if match:
                # Checked name by name, kept as written ("Jane Doe und John Roe").
                line = _leading_names(_BYLINE_TAIL.split(match.group("name"), maxsplit=1)[0])
                if line:
                    return [line]
    return []


def _leading_names(line: str) -> str:
    """The names a byline line starts with, as written, up to a role after a comma ("Uta
    Staschewski, Projektleiterin der HSS in Tunesien"); empty if it starts with none."""
    line = line.rstrip(" :")
    end = 0
    for separator in (*_NAME_LIST.finditer(line), None):
        part = line[end : separator.start() if separator else len(line)]
        if not _looks_like_name(part):
            # Only one full name and a comma end early: "Jane Doe und of the board" and
            # "von Künstlern, Bands, DJs und anderen" are sentences.
            first = line[:end].rstrip()
            if first.endswith(",") and first.count(",") == 1 and len(first.split()) > 1:
                return first.rstrip(",")
            return ""
        if separator is None:
            return line
        end = separator.end()
    return line


def _spaced_text(element: lxml.html.HtmlElement) -> str | None:
    """The text of ``element`` with a space between its parts: adjacent elements ("<span>By
    </span><span>Jane Doe</span>", "Jane Doe<span>Quelle: …</span>") are separate words.
    Blocks get no separator of their own: a label is often a heading of its own
    ("<h5>Autor:</h5> Jane Doe")."""
    return clean(" ".join(element.itertext()))


def _byline_starts(tree: lxml.html.HtmlElement) -> Iterator[tuple[lxml.html.HtmlElement, str]]:
    """(element, text) for each text of the page that starts like a byline, the element
    being the one the text is in. Only these are read whole: reading every element's
    whole text would cost a pass over the page per element."""
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        if element.text and _BYLINE_START.match(element.text):
            yield element, element.text
        parent = element.getparent()
        if element.tail and parent is not None and _BYLINE_START.match(element.tail):
            yield parent, element.tail


def _is_byline_mark(token: str) -> bool:
    """``author``, ``byline``, ``post-author``, ``article__author-name``, hCard's ``fn``; not
    ``meta-prep-author`` (the "Posted by" label) nor a photo credit's ``…--bu--autor``."""
    return bool(_BYLINE_MARK.search(token)) and not any(word in token for word in _NOT_BYLINE_MARKS)


def _looks_like_name(text: str) -> bool:
    """A few words, each capitalized or a name particle: "Jane van der Berg", not
    "Kopf bis Fuß: Frost-Schützer" (a "Von …" that begins a sentence)."""
    words = text.split()
    return (
        0 < len(words) <= MAX_BYLINE_WORDS
        and all(word[0].isupper() or word in _NAME_PARTICLES for word in words)
        and words[0] not in _NAME_JOINERS  # "& Fotos" is the rest of a label
        and words[-1] not in _NAME_JOINERS
        and not text.endswith(":")
        and ":" not in text
    )


def _in_comments_or_captions(element: lxml.html.HtmlElement) -> bool:
    """Whether ``element`` sits in a reader-comment section, a picture's caption or the
    site's copyright and theme credits, whose names (commenters, photographers, the theme's
    maker: "Theme by ThemeGrill") are not bylines."""
    for ancestor in (element, *element.iterancestors()):
        if ancestor.tag in ("figure", "figcaption"):
            return True
        marks = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}".lower()
        if any(mark in marks for mark in _NOT_BYLINE_PLACES):
            return True
    return False


def _real_names(names: Iterable[str]) -> list[str]:
    """Cleaned, de-duplicated names; placeholders, URLs and sentences dropped."""
    kept: list[str] = []
    for raw in names:
        if "&" in raw:  # "Redacci&oacute;n": declarations escaped twice
            raw = html.unescape(raw)
        raw = _COMMA_WITHOUT_SPACE.sub(", ", raw)  # "Sadhbh O'Sullivan,Elisabeth Kochan"
        name = _BYLINE_PREFIX.sub("", clean(raw) or "").strip(" ,;:|→»")
        if not name or key(name) in _PLACEHOLDER_BYLINES or "://" in name:
            continue
        if len(name) > 80 or name.startswith("@"):
            continue
        if all(not same(name, other) for other in kept):
            kept.append(name)
    return kept
