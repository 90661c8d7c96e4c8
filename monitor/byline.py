"""Pure: the article's byline — who the page says wrote it.

Structured declarations come first (JSON-LD ``author``, its ``@id`` references resolved,
``rel=author``, ``<meta name="author">``, an SEO plugin's "Written by" Twitter card), then an
element marked ``author``/``byline`` outside comments, captions, credits and lists of other
articles, then a "By …"/"Von …"/"Autor: …" line, a credit in parentheses ("Hamburg (dpa) –
…"), a date-led line ("11.12.2019 - Jane Doe"), then trafilatura's guess (issue 15).
Placeholders ("Name", "admin") are no bylines; the site's own name, an organisation or a
user handle is the byline only where a source gives it and none names a person (a page that
names no one has no byline, not the site's name); a first name alone is completed from the
page's text ("Nils" -> "Nils Pickert").
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import lxml.etree
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
# The elements of a line of text: an author box's first line ends at its first other one.
_INLINE_TAGS = frozenset(("a", "span", "strong", "b", "em", "i", "small", "time", "cite"))
# The page's texts that hold one of three words (an XPath, which lxml runs in C).
_TEXTS_WITH = lxml.etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style)]"
    "[contains(., $a) or contains(., $b) or contains(., $c)]"
)
_NOT_BYLINE_MARKS = ("prep", "avatar", "image", "img", "photo", "foto", "bild", "media", "label")
# Class or id marks of the places whose names are not the article's byline.
_NOT_BYLINE_PLACES = (
    "comment", "respond", "copyright", "colophon", "site-info", "site-credit",
    "license",  # a picture's licence line names its photographer: "license-author"
)  # fmt: skip
# Class or id marks of lists of other articles, whose teasers carry their own bylines; but
# infinite-scroll templates put the article itself in such a list, with its headline.
_OTHER_ARTICLES = ("related", "listing", "loop", "recent", "popular")
MAX_BYLINE_WORDS = 6
# The headline and section headings: "… beim Leasing von Firmenwägen" is no byline line.
_HEADINGS = ("h1", "h2")
# Months begin dates, never names: "By June 2016, …", "Von März bis …".
_MONTHS = frozenset((
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "januar", "februar", "märz", "mai", "juni", "juli",
    "oktober", "dezember", "janvier", "février", "mars", "avril", "juin", "juillet", "août",
    "septembre", "octobre", "novembre", "décembre",
))  # fmt: skip
# A "By …" line is short; a longer text that starts so is a sentence.
MAX_BYLINE_LINE = 120
# How much of a title a byline line must repeat to be quoting it.
_QUOTED_CHARS = 16
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
# Words that join the parts of an institution's name, never a person's: "Bayerische
# Landesanstalt für Wald und Forstwirtschaft", "Institut für …", "Ministerium für …".
_INSTITUTION_WORD = re.compile(r"\s(?:für|fuer|pour|para)\s")
# Where a dateline's parenthesis opens, and how far from a closing credit's end its own
# closes (raw text, whitespace and all).
_DATELINE_CHARS = 80
_CLOSING_CHARS = 20
# Credits in parentheses: a dateline's agency ("Hamburg (dpa/lno) – …", not a place:
# "Rostow (Russland) – …") and a closing credit ("… liefern. (Christian P. Stadtfeld) +++").
_DATELINE = re.compile(r"^[^\W\d_][\w .'’/-]{0,40}?\s\((?P<name>[^()]{2,40})\)\s*[-–—]")
_END_CREDIT = re.compile(r"[.!?\"“”]\s*\((?P<name>[^()]{2,40})\)[\s+*#]*$")
# The parts of a credit ("dpa/lno", "FR mit dpa"), each a name or a short sign ("dpa").
_CREDIT_PARTS = re.compile(r"\s*/\s*|\s+(?:mit|with|and|und|y|et)\s+")
_SIGN = re.compile(r"[a-z]{2,4}|[A-Z]{2,5}")
# A date (and a time), a separator, a name: all of a short line.
_DATE_START = re.compile(r"\d{1,4}[./-]\s?\d")
_DATED_BYLINE = re.compile(
    r"(?:\d{4}-\d\d-\d\d|\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}|\d{1,2}/\d{1,2}/\d{4})"
    r"(?:\s*[|·•,–—-]?\s*\d{1,2}[:.]\d\d(?:\s*uhr)?)?"
    r"\s*[|·•–—-]\s*(?P<name>[^|·•/\d]{3,60}?)\s*$",
    re.IGNORECASE,
)
# Emphasis a signing-off name is set in; the labels of a writer's credit.
_EMPHASIS = frozenset(("b", "strong", "i", "em"))
_ITALIC = frozenset(("i", "em"))
_CREDITS = frozenset(("text", "texte", "texto", "interview", "words", "autor", "autorin", "author"))
_COMMA_WITHOUT_SPACE = re.compile(r",(?=[^\W\d_])")
# A user name as a blog's "by …" line gives it: one lower-case word, digits allowed.
_USER_NAME = re.compile(r"[a-z][a-z0-9_]{3,30}")
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
    element marked as the byline, a "By …" line, a credit, a dated line, then trafilatura's
    guess."""
    # In order of trust; the page-wide scans (marked elements, "By …" lines, credits) run
    # only when the declarations name nobody, as they cost more than the rest of the
    # metadata; the marked elements also where they may list co-authors.
    sources: list[Callable[[], list[str]]] = [
        lambda: _json_ld_authors(article.get("author")),
        lambda: _rel_author_texts(tree),
        lambda: [meta.get("author") or ""],
        lambda: [_labelled_writer(meta)],
        lambda: _marked_bylines(tree),
        lambda: _prefixed_bylines(tree),
        lambda: _credit_lines(tree),
        lambda: _dated_bylines(tree),
        lambda: (guess or "").split(";"),
    ]
    cheap = (0, 1, 2, 3, 8)
    marked, guessed = 4, 8
    # An author the JSON-LD types as an organisation ("LN", the newsroom) is the byline only
    # where no source names a person, as the site's own name is.
    publishers = publishers | _organisation_keys(article.get("author"))
    # Many sites name themselves as the author (in <meta name="author">, as the JSON-LD
    # author): the site's name, or a user handle ("jane.doe"), is the byline only where no
    # source names a person.
    kept: dict[int, list[str]] = {}
    found: dict[int, list[str]] = {}

    def is_person(name: str) -> bool:
        return not (
            _HANDLE.fullmatch(name)
            or is_publisher(name, publishers)
            or _ORGANISATION.search(name)
            or _INSTITUTION_WORD.search(name)
        )

    def people(index: int) -> list[str]:
        if index not in kept:
            found[index] = sources[index]()
            kept[index] = _real_names(found[index])
            if index == guessed:
                kept[index] = _trusted_guess(tree, kept[index], found[index], found)
        return [name for name in kept[index] if is_person(name)]

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
            # The visible byline may list co-authors the declarations leave out; read
            # only as a list of names, as its texts often carry a role or a date.
            if index < marked and _more_people(listed := _listed_names(people(marked)), names):
                return ", ".join(listed)
            if len(names) == 1 and " " not in names[0]:
                return _full_name(tree, names[0]) or names[0]
            return ", ".join(names)
    # Not the site's declared name on a page that names no one: a byline is hashed with the
    # text, so a site renaming itself would make a new version of every unsigned article.
    return next((", ".join(kept[i]) for i in sorted(kept) if kept[i]), None)


def _trusted_guess(
    tree: lxml.html.HtmlElement, names: list[str], guess: list[str], found: dict[int, list[str]]
) -> list[str]:
    """trafilatura's guessed ``names``, but for a declaration it re-split, a reader it read
    from a comment's header and a date."""
    if _resplit(guess, found):
        return []
    return [name for name in names if not _commenter(tree, name) and not _is_date(name)]


def _is_date(text: str) -> bool:
    """Whether ``text`` names a month and a number ("On August 3"): a date, not a name."""
    words = text.casefold().split()
    return any(char.isdigit() for char in text) and any(word in _MONTHS for word in words)


def _commenter(tree: lxml.html.HtmlElement, name: str) -> bool:
    """Whether the page writes ``name`` (its first word) only in its reader comments."""
    first = name.split()[0]
    # As written, in lower case and capitalized: trafilatura capitalizes what it reads.
    texts = _TEXTS_WITH(tree, a=first, b=first.lower(), c=first.capitalize())
    places = [text.getparent() for text in texts if text.getparent() is not None]
    return bool(places) and all(map(_in_comments_or_captions, places))


def _resplit(guess: list[str], found: dict[int, list[str]]) -> bool:
    """Whether trafilatura's guess is, but for punctuation, a text another source gave and
    we set aside (the site's name, a handle, a label): it read the same declaration and
    split it at its dots and semicolons ("AFP/The Local" -> "AFP; The Local",
    "Redacci&oacute;n …" -> "Redacci; Oacute; …"), so it names nobody new."""
    guessed = key("".join(guess))
    return bool(guessed) and any(
        guessed in key(text) or guessed == key("".join(texts))
        for texts in found.values()
        if texts is not guess
        for text in texts
    )


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


def _listed_names(texts: list[str]) -> list[str]:
    """The names of a byline that lists several ("Jane Doe, John Roe und Max Muster"),
    when every part of it is a name; else none."""
    parts = [part for text in texts for part in _NAME_LIST.split(text) if part]
    return parts if parts and all(map(_is_plain_name, parts)) else []


def _is_plain_name(text: str) -> bool:
    """A name and nothing else: no label or placeholder word ("Online-Redaktion
    Veröffentlicht")."""
    return _looks_like_name(text) and not any(
        key(word) in _PLACEHOLDER_BYLINES or _BYLINE_LABEL.fullmatch(word) for word in text.split()
    )


def _more_people(more: list[str], names: list[str]) -> bool:
    """Whether ``more`` lists everyone ``names`` does, and more people."""
    keys = [key(name) for name in more]
    return len(more) > len(names) and all(key(name) in keys for name in names)


def _json_ld_authors(value: object) -> list[str]:
    """JSON-LD ``author``: a string, an object with ``name``, or a list of either."""
    if isinstance(value, str):
        return [value]  # HTML escapes, which templates often write, are undone by _real_names
    if isinstance(value, dict):
        return _json_ld_authors(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _json_ld_authors(item)]
    return []


def _organisation_keys(value: object) -> set[str]:
    """Keys of the JSON-LD authors typed as an organisation rather than a person."""
    items = value if isinstance(value, list) else [value]
    return {
        key(item.get("name") if isinstance(item.get("name"), str) else "")
        for item in items
        if isinstance(item, dict) and _is_organisation(item.get("@type"))
    } - {""}


def _is_organisation(types: object) -> bool:
    """Whether a JSON-LD ``@type`` (a string or a list) is an organisation's and no person's
    ("Organization", "NewsMediaOrganization", "Corporation")."""
    names = [
        name for name in (types if isinstance(types, list) else [types]) if isinstance(name, str)
    ]
    return "Person" not in names and any(
        name.endswith(("Organization", "Corporation")) for name in names
    )


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
        classes, itemprop = element.get("class"), element.get("itemprop")
        if not (classes or itemprop):
            continue
        marks = f"{classes or ''} {itemprop or ''}".lower()
        # One search rules out almost every element before its classes are split.
        if not _MARK_HINT.search(marks) or not any(map(_is_byline_mark, marks.split())):
            continue
        if _in_comments_or_captions(element):
            continue
        text = clean(element.text_content()) or ""
        if len(text.split()) > MAX_BYLINE_WORDS + 2:
            # An author box that also holds a rating, a bio or share buttons: its first
            # line ("<a>Jane Doe</a>, 21. Jan. 2015") before its first block.
            text = _first_line(element)
        if text and len(text.split()) <= MAX_BYLINE_WORDS + 2 and not _other_field(text):
            return [_LIST_TAIL.split(_after_by_word(text), maxsplit=1)[0].strip(" ,;")]
    return []


def _other_field(text: str) -> bool:
    """Whether a marked element's text is another labelled field ("En kiosques : juillet
    2020" in a template's ``dates_auteurs``): a label before a colon that is neither a
    byline's ("Autor: …", "Text und Fotos: …") nor a name ("Reuters Updated: January 22")."""
    label, colon, _ = text.partition(":")
    return bool(colon) and not (
        _BYLINE_START.match(label + " ") or _BYLINE_LABEL.search(label) or _looks_like_name(label)
    )


def _first_line(element: lxml.html.HtmlElement) -> str:
    """The text of ``element`` up to its first block child (a ``div``, ``p``, list …)."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _INLINE_TAGS:
            break
        parts += [child.text_content() if isinstance(child.tag, str) else "", child.tail or ""]
    return clean(" ".join(parts)) or ""


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
    "Autor: Jane Doe" …, up to a date or separator; not one that quotes the page's title
    ("Text: <the headline> @site", a sharing snippet)."""
    title = key(tree.findtext(".//title"))
    handle: list[str] = []
    for element, node in _byline_starts(tree):
        if element.tag in _HEADINGS or _in_comments_or_captions(element):
            continue
        # "<span>Von:</span> Jane Doe": the name may follow the element with the prefix;
        # "<p>Autor: <a>Jane Doe</a> Tags: …</p>": the line is read from the prefix on.
        start = clean(node) or ""
        for container in (element, element.getparent()):
            text = _spaced_text(container) if container is not None else None
            text = (text or "")[max((text or "").find(start), 0) :][:MAX_BYLINE_LINE]
            match = _BYLINE_LINE.search(text)
            if match and not _quotes(title, match.group("name")):
                # Checked name by name, kept as written ("Jane Doe und John Roe").
                line = _leading_names(_BYLINE_TAIL.split(match.group("name"), maxsplit=1)[0])
                if line:
                    return [line]
                written, _, rest = match.group("name").partition(" ")
                if _USER_NAME.fullmatch(written) and (
                    not rest or (_BYLINE_TAIL.match(" " + rest) and not rest[0].isdigit())
                ):
                    # "by damianduchamps on August 3": a user name, the byline where no
                    # line names a person ("Text vorlesen" is a button's, "von meinem 7
                    # Trophy" a phone's).
                    handle = handle or [written]
    return handle


def _credit_lines(tree: lxml.html.HtmlElement) -> list[str]:
    """The credit of the first paragraph that gives one in parentheses, as news copy does:
    a dateline's agency ("Hamburg (dpa/lno) – …") or the writer after the last sentence
    ("… liefern. (Christian P. Stadtfeld)")."""
    for paragraph in tree.iter("p"):
        raw = paragraph.text_content()
        closes = ")" in raw[-_CLOSING_CHARS:] and _closes_article(paragraph)
        if not (0 <= raw.find("(") < _DATELINE_CHARS or closes):
            continue  # most paragraphs: no parenthesis where a credit stands
        text = clean(raw) or ""
        if _in_comments_or_captions(paragraph):
            continue
        dateline = _DATELINE.match(text)
        if dateline and all(map(_SIGN.fullmatch, _CREDIT_PARTS.split(dateline.group("name")))):
            return [dateline.group("name")]
        closing = closes and _END_CREDIT.search(text)
        if closing and all(map(_is_credit, _CREDIT_PARTS.split(closing.group("name")))):
            return [closing.group("name")]
    return _signed(tree) or _credit_blocks(tree)


def _signed(tree: lxml.html.HtmlElement) -> list[str]:
    """The writer's name signing off the article: its last paragraph, all of it a full
    name in italics, bold or not ("<p><b><i>Stefan Wasmer</i></b></p>")."""
    for paragraph in tree.iter("p"):
        if len(paragraph) != 1 or (paragraph.text or "").strip() or not _closes_article(paragraph):
            continue
        child = paragraph[0]
        if child.tag not in _EMPHASIS or (child.tail or "").strip():
            continue
        if not any(e.tag in _ITALIC for e in child.iter()):
            continue  # a bold line alone is as often the heading of a last section
        name = clean(paragraph.text_content()) or ""
        if _one_full_name(name) and not _in_comments_or_captions(paragraph):
            return [name]
    return []


def _credit_blocks(tree: lxml.html.HtmlElement) -> list[str]:
    """A magazine's credits, label and name in elements of their own ("<div>Interview</div>
    <div>SVEN MICHAELSEN</div>"): the name beside the writer's label."""
    for element in tree.iter(*_BYLINE_TAGS):
        if len(element) or (element.text or "").strip().rstrip(":").casefold() not in _CREDITS:
            continue
        following = element.getnext()
        name = clean(following.text_content()) if following is not None else None
        if name and _one_full_name(name) and not _in_comments_or_captions(element):
            return [name]
    return []


def _one_full_name(text: str) -> bool:
    """One person's full name and nothing else: two words at least, no list ("Thursday,
    Saturday, Sunday" in bold is a schedule)."""
    return " " in text and "," not in text and _is_plain_name(text)


def _dated_bylines(tree: lxml.html.HtmlElement) -> list[str]:
    """The name of the first short line that gives a date, then the writer: "11.12.2019 -
    Amelie Loevenich", "04.02.2022 | 13:10 Uhr | Uta Helkenberg" (a by-word-less byline).
    Two words at least: one capitalized word after a date is a category more often."""
    for element in tree.iter(*_BYLINE_TAGS):
        if not _DATE_START.match(element.text or "") or _in_comments_or_captions(element):
            continue
        found = _DATED_BYLINE.match(_spaced_text(element) or "")
        if found and " " in found.group("name") and _is_plain_name(found.group("name")):
            return [found.group("name")]
    return []


def _closes_article(paragraph: lxml.html.HtmlElement) -> bool:
    """Whether ``paragraph`` is the last of a run of paragraphs (three at least), where
    news copy puts its closing credit; elsewhere a closing parenthesis is a book's
    publisher, a team, a source."""
    parent = paragraph.getparent()
    siblings = parent.findall("p") if parent is not None else []
    return len(siblings) >= 3 and siblings[-1] is paragraph


def _is_credit(part: str) -> bool:
    """A full name ("Christian P. Stadtfeld") or an agency's or editor's sign ("dpa", "AFP");
    one capitalized word is as often a place ("Rostow (Russland) – …")."""
    return bool(_SIGN.fullmatch(part)) or (" " in part and _is_plain_name(part))


def _quotes(title: str, text: str) -> bool:
    """Whether ``text`` begins with the first words of the page's title (by ``key``)."""
    start = key(text)[:_QUOTED_CHARS]
    return len(start) == _QUOTED_CHARS and title.startswith(start)


def _leading_names(line: str) -> str:
    """The names a byline line starts with, as written, up to a role after a comma ("Uta
    Staschewski, Projektleiterin der HSS in Tunesien"); empty if it starts with none."""
    line = line.rstrip(" :")
    end = 0
    for separator in (*_NAME_LIST.finditer(line), None):
        part = line[end : separator.start() if separator else len(line)]
        if end and part.split()[:1] and part.split()[0].casefold() in _MONTHS:
            return line[:end].rstrip(" ,")  # "Jane Doe, IFZ, Oktober 2008": a date ends it
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
        and words[0].casefold() not in _MONTHS  # "By June 2016, most of …" is a date
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
        if ancestor.tag in ("body", "html"):
            return False  # their classes describe the whole page ("related-posts-enabled")
        marks = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}".lower()
        if any(mark in marks for mark in _NOT_BYLINE_PLACES):
            return True
        if any(mark in marks for mark in _OTHER_ARTICLES) and ancestor.find(".//h1") is None:
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
