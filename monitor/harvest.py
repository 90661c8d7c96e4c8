"""One feed checked: fetched (conditionally), parsed, and each entry recorded or captured.

A feed's state is saved after its entries, and its validators only when every entry of
that fetch was stored: a 304 must never hide entries a failed write left behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace

from monitor.capture import Capture, Means, Room
from monitor.config import FeedConfig
from monitor.decide import (
    Identified,
    entry_changed,
    feed_failed,
    feed_fetched,
    identify_entries,
    is_shared,
    provisional,
    still_listed,
)
from monitor.errors import FeedParseError, FetchError, HTTPStatusError, StoreError, WorkerError
from monitor.fetch import host_key, same_origin
from monitor.ledger import Ledger
from monitor.models import (
    Article,
    ArticleStatus,
    FeedEntry,
    FeedReport,
    FeedState,
    FeedStatus,
    FetchResult,
    ParsedFeed,
    Validators,
)
from monitor.normalize import normalize_text
from monitor.schedule import is_due

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
log = logging.getLogger(__name__)


class Harvest(Room):
    """Checks feeds and hands their new or changed entries to ``Capture``."""

    def __init__(self, means: Means, capture: Capture) -> None:
        super().__init__(means)
        self.capture = capture

    async def check(self, feed: FeedConfig, run: Ledger, force: bool = False) -> FeedReport:
        """Fetch and parse one feed, then capture its new articles."""
        now = run.now
        if run.feed_states is not None:
            state = run.feed_states.get(feed.name)
        else:
            state = await self.db.read(self.store.get_feed, feed.name)
        if state is None or state.url != feed.url:
            # A new feed, or one whose URL changed: its old validators mean nothing.
            state = FeedState(name=feed.name, url=feed.url, failures=0)
        elif not force and not is_due(state.next_due, feed.interval, now):
            return FeedReport(feed.name, FeedStatus.SKIPPED, state.last_status, state.entries)
        try:
            # The user configured this URL: it may be on an intranet.
            validators = Validators(state.etag, state.last_modified)
            result = await self._fetch(feed.url, validators)
            if result.not_modified:
                self.writer.save_feed(
                    feed_fetched(state, result, state.entries, feed.interval, now)
                )
                return FeedReport(feed.name, FeedStatus.NOT_MODIFIED, 304, state.entries)
            if feed.type == "sitemap":
                parsed = await self._sitemap(feed, state, result.body, result.final_url)
                identified = identify_entries(parsed.entries)
            else:
                parsed, identified = await self.pool.run(
                    parsed_feed, result.body, result.final_url, dict(result.headers)
                )
            if parsed.bozo and not parsed.entries:
                # Malformed and empty: a broken feed, not a quiet news day.
                raise FeedParseError(
                    f"{feed.url}: malformed feed with no entries: {parsed.warning}"
                )
        except (FetchError, FeedParseError, WorkerError) as exc:
            self.writer.save_feed(feed_failed(state, exc, feed.interval, now))
            status = exc.status if isinstance(exc, HTTPStatusError) else None
            return FeedReport(feed.name, FeedStatus.ERROR, status, None, error=str(exc))
        missed, entries = await self._capture_entries(feed, identified, run)
        warning = _joined(parsed.warning, _collapse_note(identified))
        incomplete = None
        if missed:
            # The validators vouch for every entry of this document: saved now, the next
            # fetch would be a 304 and these entries would never be read again.
            warning = incomplete = (
                f"{missed} of {entries} entries could not be stored; the feed's "
                "validators were not saved, so the next check fetches it in full"
            )
            log.warning("feed %s: %s", feed.name, warning)
        count = len(parsed.entries)
        self.writer.save_feed(feed_fetched(state, result, count, feed.interval, now, incomplete))
        return FeedReport(feed.name, FeedStatus.OK, result.status, count, warning=warning)

    async def _fetch(self, url: str, validators: Validators) -> FetchResult:
        """The feed's document; with several nodes, under its host's claim (held for the
        fetch only: never while its articles wait for theirs, so nodes cannot wait in a
        cycle), so that per-host politeness holds across the cluster."""
        claims = self.capture.host_claims
        if claims is None:
            return await self.fetcher.get(url, validators, accept=FEED_ACCEPT, trust_origin=True)
        host = host_key(url)
        await claims.hold(host)
        try:
            return await self.fetcher.get(url, validators, accept=FEED_ACCEPT, trust_origin=True)
        finally:
            await claims.release([host])

    async def _sitemap(
        self, feed: FeedConfig, state: FeedState, body: bytes, url: str
    ) -> ParsedFeed:
        """A sitemap's articles; for an index, those of its children changed since the
        last successful check. A child that fails is named in the warning, not fatal."""
        # Loaded once a sitemap changed, as feedparser: a round of 304s needs neither.
        from monitor.sitemaps import children_due, merged, parse_sitemap

        top = await self.pool.run(parse_sitemap, body, url)
        if not top.children:
            return merged([top])
        sitemaps, failed = [], []
        for child in children_due(top.children, state.last_success):
            try:
                # The user vouched for the index's address, not for where its links point.
                fetched = await self.fetcher.get(
                    child.url, accept=FEED_ACCEPT, trust_origin=same_origin(child.url, url)
                )
                sitemaps.append(await self.pool.run(parse_sitemap, fetched.body, child.url))
            except (FetchError, FeedParseError, WorkerError) as exc:
                failed.append(str(exc))
        warning = f"{len(failed)} child sitemap(s) failed: {'; '.join(failed)}" if failed else None
        return merged(sitemaps, warning)

    async def _capture_entries(
        self, feed: FeedConfig, identified: Identified, run: Ledger
    ) -> tuple[int, int]:
        """Capture a feed's entries; how many could not be stored, of how many."""
        entries = identified.entries
        if feed.fetch_articles:
            entries = await self._still_listed(entries, run)
        # One query for the whole feed: most of a feed seen before is tracked by its URLs.
        # Only the rest are asked after by alias and GUID, then looked up one by one.
        urls = [identity for identity, _ in entries]
        found = await self.db.read(self.store.find_articles, urls)
        known: set[str] = set(found)
        missing = [(url, entry) for url, entry in entries if url not in found]
        if missing:
            guids = [entry.guid for _, entry in missing if entry.guid]
            known |= await self.db.read(
                self.store.tracked_among, [url for url, _ in missing], guids
            )
        captured = await asyncio.gather(
            *(self._capture_entry(feed, i, entry, run, known, found) for i, entry in entries)
        )
        return captured.count(False), len(identified.entries)

    async def _still_listed(
        self, entries: tuple[tuple[str, FeedEntry], ...], run: Ledger
    ) -> tuple[tuple[str, FeedEntry], ...]:
        """Mark the articles whose entry brings nothing but "still in the feed" as such (a
        few columns read, one statement written per pass); the other entries, to be looked
        at in full. Of a changed feed, mostly one or two entries changed: the rest cost a
        row read, an update and a check each (0.4 s of CPU in an edited round, issue 16)."""
        listed = await self.db.read(
            self.store.listed_articles, [i for i, _ in entries if not is_shared(i)]
        )
        if not listed:
            return entries
        quiet: list[int] = []
        rest: list[tuple[str, FeedEntry]] = []
        for identity, entry in entries:
            article = listed.get(identity)
            if (
                article is not None
                and self.writer.settled(article.id)
                and still_listed(entry, article)
            ):
                quiet.append(article.id)
            else:
                rest.append((identity, entry))
        await self.writer.mark_in_feed(run, quiet, run.now)
        return tuple(rest)

    async def _capture_entry(
        self,
        feed: FeedConfig,
        url: str,
        entry: FeedEntry,
        run: Ledger,
        known: set[str],
        found: Mapping[str, Article],
    ) -> bool:
        """Record that ``entry`` is in the feed; capture it when it is a new article.
        False when what the entry brought could not be stored.

        ``known``: which of the feed's URLs and GUIDs the store knows (``tracked_among``);
        ``found``: the articles of those URLs (``find_articles``).
        """
        assert entry.link is not None
        try:
            article = await self._tracked_article(feed, entry, url, known, found)
        except StoreError as exc:
            self.writer.failed(run, f"{entry.link}: {exc}", exc)
            return False
        if article is None:
            # Provisional (id 0) until its first fetch is committed: the page's canonical URL
            # may show it is an article we already track under another link.
            new = provisional(feed.name, url, entry.link, entry.title, run.now)
            return await self.capture.check(replace(new, guid=entry.guid), run, entry)
        stored = article
        article = self.writer.fresh(article).but(last_in_feed=run.now)
        if article.feed_summary is None and entry.summary.strip():
            # First seen since summaries are kept: a baseline, not an edit.
            article = replace(article, feed_summary=normalize_text(entry.summary))
        await self.writer.defer(run, article, stored)
        if (
            # Versioned from the feed entry: checked on every feed pass.
            not feed.fetch_articles
            or is_shared(article.url)
            # Never captured (a crash mid-run) or back in the feed after removal: look now.
            or article.versions == 0
            or article.status == ArticleStatus.REMOVED
            or entry_changed(entry, article)
        ):
            return await self.capture.check(article, run, entry)
        return True

    async def _tracked_article(
        self,
        feed: FeedConfig,
        entry: FeedEntry,
        url: str,
        known: set[str],
        found: Mapping[str, Article],
    ) -> Article | None:
        """The tracked article ``entry`` is, by its URL, an alias or its GUID."""
        article = found.get(url)
        if article is None and url in known:
            article = await self.db.read(self.store.find_article, [url])  # by an alias
        tracked = url in known or (entry.guid is not None and entry.guid in known)
        if article is None and tracked and entry.guid:
            # A GUID is only unique within its feed ("1", "42" are common): same feed only.
            by_guid = await self.db.read(self.store.find_article, [], guid=entry.guid)
            article = by_guid if by_guid is not None and by_guid.feed == feed.name else None
        return article


def parsed_feed(body: bytes, url: str, headers: Mapping[str, str]) -> tuple[ParsedFeed, Identified]:
    """``parse_feed`` and ``identify_entries``, both where this runs: a worker parses the
    feeds, so this process need not load feedparser (0.05 s), nor normalize every entry's
    link (0.05 s of an edited round's feed phase, when this process is the bottleneck,
    issue 16)."""
    from monitor.feeds import parse_feed

    parsed = parse_feed(body, url, headers)
    return parsed, identify_entries(parsed.entries)


def _collapse_note(identified: Identified) -> str | None:
    """Say when entries were tracked as one: never silently."""
    if not identified.collapsed:
        return None
    return (
        f"{identified.collapsed} entries repeat the link and GUID of another entry "
        "and are tracked as that one"
    )


def _joined(*notes: str | None) -> str | None:
    return "; ".join(note for note in notes if note) or None
