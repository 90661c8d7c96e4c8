"""Pure: the lines a site prints inside every article body that are not the article.

"Read more: …" links, "Lesen Sie auch", newsletter calls and photo credits sit between the
article's paragraphs, where a precise extractor keeps them. For a change tracker they are
worse than noise: the linked story rotates and the credit follows the picture, so each
fetch could look like an edit. A short paragraph that starts so is dropped (issue 15);
a long one is prose that happens to begin with the same word, and stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MAX_BOILERPLATE", "is_boilerplate", "without_boilerplate"]

# Longer than this, a paragraph is the article's own prose, whatever its first words.
MAX_BOILERPLATE = 250
# Calls to read, watch or subscribe to something else, in the languages of the sites we see.
_CALLS = (
    r"read more|read also|also read|see also|related(?::| articles?| stories| posts| recipes)"
    r"|more on this|more from|recommended for you|sign up|subscribe|follow us|advertisement"
    r"|never miss|get the latest"
    r"|follow (?:[\w@.&'-]+ ){1,4}on (?:twitter|facebook|instagram|linkedin|youtube|telegram)"
    r"|for the latest (?:\w+ ){0,6}download|download (?:the|our) (?:\w+ ){0,3}apps?"
    r"|(?:submit|send us) (?:a|your) letter|we want to hear (?:from you|what you think)"
    r"|anzeige|lesen sie auch|lesen sie mehr|lesen sie hier|auch lesen|lies auch"
    r"|auch interessant|schon gelesen"
    r"|(?:das|dies)(?: thema)? könnte (?:sie|dich) auch interessieren"
    r"|mehr zum thema|mehr themen|mehr dazu|weitere themen|weitere artikel(?: zum thema)?"
    r"|zum weiterlesen|weiterlesen|passend dazu|top-themen|folgen sie uns|jetzt abonnieren"
    r"|zum newsletter|newsletter abonnieren"
    r"|le puede interesar|lea también|lea tambien|vea también|vea tambien|te puede interesar"
    r"|más sobre|mas sobre|notas relacionadas|síguenos|siguenos|sigue leyendo|ver también"
    r"|lire aussi|à lire aussi|a lire aussi|voir aussi"
    r"|leggi anche|czytaj także|czytaj też|zobacz też|dowiedz się więcej"
    r"|leia também|leia mais|veja também"
)
# Picture and source credits: "Foto: …", "(Bild: …)", "© AFP", "Photo (cc): …", "Bild
# anzeigen", "Quelle: dpa" (the agency or release a text came from, like a picture's credit).
_CREDITS = (
    r"\(?(?:fotos?|fot\.|photos?|bild(?:er)?|titelbild|beitragsbild|image|credits?"
    r"|crédits? photos?|copyright|quellen?|sources?|fuentes?|fontes?|źródło)"
    r"(?:\s*(?:\(cc\)\s*)?[:/|©]|\s+(?:anzeigen|vergrößern|schließen|via)\b)"
    r"|©"
)
_BOILERPLATE = re.compile(rf"^[\W_]*(?:(?:{_CALLS})(?!\w)|{_CREDITS})", re.IGNORECASE)


def is_boilerplate(paragraph: str) -> bool:
    """Whether ``paragraph`` is a site's call to read elsewhere or a picture credit."""
    return len(paragraph) <= MAX_BOILERPLATE and bool(_BOILERPLATE.match(paragraph))


def without_boilerplate(paragraphs: Iterable[str]) -> tuple[str, ...]:
    """``paragraphs`` without the site's boilerplate lines, in order."""
    return tuple(paragraph for paragraph in paragraphs if not is_boilerplate(paragraph))
