"""The quality gate on a fetched version: is it the article, or something in its place?

Pure: a bot challenge, a block or paywall page, an error page served with 200, or an
extraction that collapsed is not an edit. ``decide`` holds such a version back until a
later fetch confirms it.
"""

from __future__ import annotations

import re

from monitor.models import Version

# Short pages that say they are not the article: bot challenges, blocks, paywalls, errors.
_NOT_THE_ARTICLE = re.compile(
    r"just a moment|checking (?:your browser|if the site connection is secure)"
    r"|enable (?:javascript|cookies)|are you a (?:robot|human)|verify (?:that )?you are"
    r"|captcha|access denied|access to this page has been denied|403 forbidden"
    r"|request (?:was )?blocked|subscribe (?:now )?to (?:continue|keep) reading"
    r"|(?:only )?available (?:only )?to (?:paying )?subscribers|already a subscriber\?"
    r"|sign in to (?:continue|read)|page not found|404 not found|temporarily unavailable",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
SHORT_PAGE_WORDS = 150  # a "not the article" phrase only counts on a page this short
COLLAPSE_RATIO = 0.35  # a version this much shorter than the last is suspect ...
COLLAPSE_MIN_WORDS = 80  # ... when the last one had at least this many words
SWINGS_FLAGGED = 2  # contradicted suspect fetches before a page is reported as unstable


def word_count(text: str) -> int:
    """The words of ``text``: its runs of letters and digits."""
    return len(_WORD.findall(text))


def words_of(version: Version) -> int:
    """``version``'s word count: as counted already (``Version.words``), else of its text."""
    return version.words if version.words is not None else word_count(version.text)


def suspect_reason(latest: Version | None, new: Version) -> str | None:
    """Why a fetched version looks like something other than an edit of the article."""
    words = words_of(new)
    if words < SHORT_PAGE_WORDS and _NOT_THE_ARTICLE.search(f"{new.title or ''}\n{new.text}"):
        return "it looks like a block, challenge, paywall or error page"
    if latest is not None:
        before = words_of(latest)
        if before >= COLLAPSE_MIN_WORDS and words < COLLAPSE_RATIO * before:
            return f"the text collapsed from {before} to {words} words"
    return None


def swing_note(swings: int) -> str:
    """What to say when a suspect fetch was contradicted for the ``swings``-th time."""
    if swings >= SWINGS_FLAGGED:
        return f"extraction swings between fetches ({swings} times); check this page"
    return "a suspect fetch was not confirmed by the next one"
