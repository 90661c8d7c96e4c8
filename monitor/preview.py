"""One article fetched and extracted as a check would, storing nothing (issue 19): what a
user looks at to see what will be tracked, and what their ignore rules take out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.extract import Extractor
from monitor.fetch import Fetcher
from monitor.normalize import compile_ignore, normalize_text

__all__ = ["Preview", "Removal", "preview"]


@dataclass(frozen=True)
class Removal:
    """What one ignore pattern removes from the article's text (each match, in order)."""

    pattern: str
    matches: tuple[str, ...]


@dataclass(frozen=True)
class Preview:
    """An article as Newsmonitor would version it: metadata, text after the ignore rules,
    and what each rule removed."""

    url: str
    final_url: str
    status: int
    title: str | None
    byline: str | None
    published: datetime | None
    modified: datetime | None
    canonical_url: str | None
    text: str
    removals: tuple[Removal, ...]


async def preview(
    fetcher: Fetcher, extractor: Extractor, url: str, ignore: tuple[str, ...] = ()
) -> Preview:
    """Fetch ``url`` (the user's own address, so its origin may be private), extract it,
    and apply ``ignore`` as the hash does; raise FetchError or ExtractError."""
    result = await fetcher.get(url, trust_origin=True)
    page = extractor.extract(result.body, result.final_url, result.headers.get("content-type"))
    canonical = normalize_text(page.text)
    removals = tuple(
        Removal(pattern.pattern, tuple(match.group(0) for match in pattern.finditer(canonical)))
        for pattern in compile_ignore(ignore)
    )
    return Preview(
        url=url,
        final_url=result.final_url,
        status=result.status,
        title=page.title,
        byline=page.byline,
        published=page.published,
        modified=page.modified,
        canonical_url=page.canonical_url,
        text=normalize_text(page.text, ignore),
        removals=removals,
    )
