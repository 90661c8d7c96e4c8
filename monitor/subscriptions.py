"""The watched feeds, managed from the command line: a feed (or a page that links one)
added, a feed removed, an OPML list imported or exported (issue 19).

Every change goes through ``config_edit``, which keeps the config file's comments and
validates the result before writing it; nothing here touches the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.config import FeedConfig, Settings
from monitor.config_edit import add_feeds, feed_name
from monitor.discovery import FeedLink, feed_links
from monitor.errors import ConfigError, FeedParseError
from monitor.feeds import parse_feed
from monitor.fetch import Fetcher, same_origin
from monitor.opml import OpmlFeed, read_opml, write_opml

__all__ = ["FoundFeed", "ImportReport", "add_feed", "export_opml", "find_feed", "import_opml"]

# What a feed request accepts; a page answers with HTML whatever it is asked.
_FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"


@dataclass(frozen=True)
class FoundFeed:
    """A feed ready to watch: its URL, its title, and the page it was found on, if any."""

    url: str
    title: str
    entries: int
    page: str | None = None


@dataclass(frozen=True)
class ImportReport:
    """What ``import_opml`` did: the feeds added (by name) and the URLs already watched."""

    added: tuple[str, ...]
    already: tuple[str, ...]


class SeveralFeedsError(ConfigError):
    """A page links more than one feed and the user did not say which."""

    def __init__(self, page: str, links: tuple[FeedLink, ...]) -> None:
        listed = "; ".join(f"{link.url} ({link.title or link.kind})" for link in links)
        super().__init__(
            f"{page}: the page links {len(links)} feeds: {listed}. "
            "Give one of them, or --first for the first"
        )
        self.links = links


async def find_feed(fetcher: Fetcher, url: str, first: bool = False) -> FoundFeed:
    """The feed at ``url``, or the one the page at ``url`` links (autodiscovery).

    A page with no feed link is a ``ConfigError``; one with several is a
    ``SeveralFeedsError`` listing them, unless ``first``.
    """
    result = await fetcher.get(url, accept=_FEED_ACCEPT, trust_origin=True)
    try:
        parsed = parse_feed(result.body, result.final_url, result.headers)
    except FeedParseError as exc:
        links = feed_links(result.body, result.final_url)
        if not links:
            raise ConfigError(str(exc)) from exc  # the user's URL: their mistake to fix
        if len(links) > 1 and not first:
            raise SeveralFeedsError(url, links) from None
        # The user vouched for the page's address, not for wherever its link points.
        trusted = same_origin(links[0].url, result.final_url)
        chosen = await fetcher.get(links[0].url, accept=_FEED_ACCEPT, trust_origin=trusted)
        parsed = parse_feed(chosen.body, chosen.final_url, chosen.headers)
        return FoundFeed(links[0].url, parsed.title or links[0].title, len(parsed.entries), url)
    return FoundFeed(url, parsed.title or "", len(parsed.entries))


def add_feed(
    path: Path,
    settings: Settings,
    found: FoundFeed,
    name: str | None = None,
    interval: str | None = None,
    fetch_articles: bool = True,
    tags: tuple[str, ...] = (),
) -> FeedConfig:
    """Write ``found`` into the config file at ``path`` as a ``[[feeds]]`` table."""
    taken = [feed.name for feed in settings.feeds]
    chosen = name or feed_name(found.title, found.url, taken)
    table: dict[str, object] = {"name": chosen, "url": found.url}
    if interval is not None:
        table["interval"] = interval
    if not fetch_articles:
        table["fetch_articles"] = False
    if tags:
        table["tags"] = list(tags)
    written = add_feeds(path, [table])
    return next(feed for feed in written.feeds if feed.name == chosen)


def import_opml(path: Path, settings: Settings, data: bytes, source: str) -> ImportReport:
    """Add every feed of an OPML list to the config file at ``path``; a URL already
    watched is left as it is (and reported)."""
    watched = {feed.url for feed in settings.feeds}
    taken = [feed.name for feed in settings.feeds]
    tables: list[dict[str, object]] = []
    already: list[str] = []
    for feed in read_opml(data, source):
        if feed.url in watched:
            already.append(feed.url)
            continue
        name = feed_name(feed.title, feed.url, taken)
        taken.append(name)
        watched.add(feed.url)
        table: dict[str, object] = {"name": name, "url": feed.url}
        if feed.tags:
            table["tags"] = list(feed.tags)
        tables.append(table)
    if tables:
        add_feeds(path, tables)
    return ImportReport(tuple(str(table["name"]) for table in tables), tuple(already))


def export_opml(settings: Settings) -> str:
    """The configured feeds as an OPML document, their tags as categories."""
    return write_opml(OpmlFeed(feed.url, feed.name, feed.tags) for feed in settings.feeds)
