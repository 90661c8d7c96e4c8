"""Check one article: fetch its page (or take its feed entry), ask ``decide``, write.

The lifecycle of a fetch is applied here in order: gone (404/410, a redirect to the front
page), failed (the error is kept; a new article gets its feed entry's text), moved (a
redirect or a new canonical URL), unchanged (a 304 or the very same bytes: no extraction),
and otherwise a candidate version that ``decide`` judges against the latest one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from monitor.compare import compare_with_rules
from monitor.config import FeedConfig, Settings
from monitor.decide import (
    PAGE_UNAVAILABLE,
    PAGES_NOT_FETCHED,
    SEED_FEED_PREFIX,
    SHARED_PAGE,
    NewVersion,
    carried_validators,
    carry_missing,
    classified,
    decide,
    entry_changed,
    feed_baseline,
    feed_title_changed,
    is_shared,
    moved,
    normalized,
    page_baseline,
    redirected_home,
    version_from_entry,
    version_from_page,
)
from monitor.errors import ConflictError, ExtractError, FetchError, HTTPStatusError, StoreError
from monitor.fetch import Fetcher, host_key
from monitor.hostclaims import HostClaims
from monitor.ledger import Ledger
from monitor.linking import SeedLinker
from monitor.models import (
    Article,
    ArticleStatus,
    Change,
    ChangeKind,
    DiffDocument,
    FeedEntry,
    FetchResult,
    RawBody,
    Revisit,
    TextSource,
    Validators,
    Version,
)
from monitor.normalize import normalize_text, normalize_url
from monitor.schedule import next_article_check
from monitor.store import CheckStore
from monitor.store.runner import StoreRunner
from monitor.tasks import HostSlots
from monitor.workers import WorkerPool
from monitor.writes import Writer

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
GONE = frozenset({404, 410})
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Means:
    """What the rooms of a check work with, shared by all of them."""

    store: CheckStore
    db: StoreRunner  # every store call goes through it: the event loop never waits
    fetcher: Fetcher
    pool: WorkerPool  # extraction and feed parsing, off the event loop
    writer: Writer


class Room:
    """A part of a check, working with the shared means."""

    def __init__(self, means: Means) -> None:
        self.store = means.store
        self.db = means.db
        self.fetcher = means.fetcher
        self.pool = means.pool
        self.writer = means.writer


class Capture(Room):
    """Checks articles one at a time each, a bounded number at once."""

    def __init__(self, settings: Settings, means: Means, linker: SeedLinker) -> None:
        super().__init__(means)
        self.linker = linker
        self.reload(settings)
        # Bounded: a page fetched waits for extraction in memory, so thousands of articles
        # started at once would hold thousands of pages.
        fetch = settings.fetch
        self._pages = asyncio.Semaphore(2 * fetch.concurrency)
        # Taken before a page slot and given back once the page is fetched: a feed's new
        # articles, all on its host, never hold every page slot while they wait for that
        # host's fetch slots, and pages waiting for extraction never idle their host's
        # fetch slots (issue 16).
        self._hosts = HostSlots(2 * fetch.concurrency, 2 * fetch.per_host_concurrency)
        # Several nodes (issue 17): each page is fetched under its host's claim.
        self.host_claims: HostClaims | None = None

    def reload(self, settings: Settings) -> None:
        self.settings = settings
        self._feeds = {feed.name: feed for feed in settings.feeds}

    def feed_config(self, name: str) -> FeedConfig | None:
        return self._feeds.get(name)

    async def check(self, article: Article, run: Ledger, entry: FeedEntry | None) -> bool:
        """Fetch one article's page (or take the feed entry) and record what changed;
        False when that could not be stored (the error is in ``run``)."""
        if article.id:
            claimed = self.writer.claim(article, run)
            if claimed is None:
                return True  # checked by this pass already, or right now by another job
            article = claimed
        run.articles_checked += 1
        host = host_key(article.current_url)
        claims = self.host_claims
        if claims is None or self.from_feed(article):
            return await self._checked(article, run, entry, host)
        await claims.hold(host)
        try:
            return await self._checked(article, run, entry, host)
        finally:
            await claims.release([host])

    async def _checked(
        self, article: Article, run: Ledger, entry: FeedEntry | None, host: str
    ) -> bool:
        """``check`` once the article is this job's (and its host this node's)."""
        holding = False

        def fetched() -> None:
            nonlocal holding
            if holding:
                holding = False
                self._hosts.release(host)

        try:
            await self._hosts.acquire(host)
            holding = True
            async with self._pages:
                await self._check(article, run, entry, fetched)
        except ConflictError as exc:
            # Another process (the daemon, a second node, a `check`) recorded this article
            # since it was read here: what it recorded stands, this observation is dropped.
            log.info("%s: skipped, another process got there first (%s)", article.url, exc)
        except StoreError as exc:  # locked, full, read-only: reported, redone next run
            self.writer.failed(run, f"{article.current_url}: not stored: {exc}", exc)
            return False
        except Exception as exc:  # one article's failure must not end the run
            log.exception("checking article %s failed", article.current_url)
            run.errors.append(f"{article.current_url}: {exc}")
            return False
        finally:
            fetched()
            self.writer.release(article.id)
        return True

    async def _check(
        self,
        article: Article,
        run: Ledger,
        entry: FeedEntry | None,
        fetched: Callable[[], None],
    ) -> None:
        """``fetched`` is called once the page has been fetched (its host slot is free)."""
        now = run.now
        checked = article.but(last_checked=now, next_check=self._next_check(article, now))
        if entry is not None and entry.summary.strip():
            checked = replace(checked, feed_summary=normalize_text(entry.summary))
        if self.from_feed(article):
            assert entry is not None
            # Feed-only articles change only through the feed, checked on every feed pass.
            checked = replace(checked, next_check=None, last_seen=now)
            version = version_from_entry(article, entry, now)
            why = SHARED_PAGE if is_shared(article.url) else PAGES_NOT_FETCHED
            await self.record_content(checked, run, version, None, [], entry, why)
            return
        result = await self._fetch(checked, run, entry, article)
        fetched()
        if result is None:
            return
        kept = carried_validators(Validators(article.etag, article.last_modified), result)
        checked = checked.but(
            last_seen=now,
            last_error=None,
            etag=kept.etag,
            last_modified=kept.last_modified,
        )
        events: list[Change] = []
        if result.redirects:
            if redirected_home(article.current_url, result.final_url):
                reason = f"redirected to the front page {result.final_url}"
                await self._record_gone(checked, run, reason)
                return
            if article.versions:
                events = moved(checked, result.final_url, "redirected", now)
            checked = replace(checked, current_url=result.final_url)
        if result.not_modified:
            if article.versions:
                self.writer.revisit(revisit_of(article, result, now))
            await self._record_unchanged(checked, run, events, entry)
            return
        body_hash = hashlib.sha256(result.body).hexdigest()
        if body_hash == article.body_hash and article.versions and not article.suspect_hash:
            # The very bytes we extracted last time (a server without validators).
            await self._record_unchanged(checked, run, events, entry)
            return
        await self._extracted(article, checked, run, entry, result, body_hash, events)

    def from_feed(self, article: Article) -> bool:
        """Whether ``article`` is versioned from its feed entry, its page never fetched: its
        feed says so (``fetch_articles = false``), or it is one of several posts on a page."""
        feed = self.feed_config(article.feed)
        # A seed's own page is not a feed's: its URL is the user's, fragment and all.
        return feed is not None and (not feed.fetch_articles or is_shared(article.url))

    def _next_check(self, article: Article, now: datetime) -> datetime | None:
        if article.feed.startswith(SEED_FEED_PREFIX):
            return now + self.settings.seeds.interval
        return next_article_check(article.first_seen, now, self.settings.tracking.schedule)

    async def _fetch(
        self, article: Article, run: Ledger, entry: FeedEntry | None, before: Article
    ) -> FetchResult | None:
        """The page, or None when it could not be fetched (recorded as gone or failed);
        ``before``: the article as it was before this check."""
        try:
            return await self.fetcher.get(
                article.current_url,
                Validators(article.etag, article.last_modified),
                accept=PAGE_ACCEPT,
                allow_private=self._private_links_allowed(article),
            )
        except HTTPStatusError as exc:
            if exc.status in GONE:
                await self._record_gone(article, run, f"HTTP {exc.status}")
            else:
                await self._record_failure(article, run, entry, exc, before)
        except FetchError as exc:
            await self._record_failure(article, run, entry, exc, before)
        return None

    async def _extracted(
        self,
        article: Article,
        checked: Article,
        run: Ledger,
        entry: FeedEntry | None,
        result: FetchResult,
        body_hash: str,
        events: list[Change],
    ) -> None:
        """Extract the fetched page and record its text (the entry's when extraction fails)."""
        packed: bytes | None = None
        try:
            page, packed = await self.pool.extract_packed(
                result.body, result.final_url, result.headers.get("content-type")
            )
        except ExtractError as exc:
            # The next fetch must try again: no validators, no body hash.
            checked = replace(checked, body_hash=None, etag=None, last_modified=None)
            await self._record_failure(checked, run, entry, exc, article)
            return
        else:
            checked = replace(checked, body_hash=body_hash)
            if page.canonical_url:
                canonical = normalize_url(page.canonical_url)
                if article.canonical_url and canonical != article.canonical_url:
                    why = "canonical URL changed"
                    events += moved(checked, page.canonical_url, why, run.now)
                checked = replace(checked, canonical_url=canonical)
            version = version_from_page(article, page, result.final_url, entry, run.now)
        raw = RawBody(
            result.body,
            result.headers.get("content-type"),
            packed=packed,
            request_url=result.requested_url,
            status=result.status,
            headers=tuple(result.headers.items()),
        )
        await self.record_content(checked, run, version, raw, events, entry)

    def _private_links_allowed(self, article: Article) -> bool:
        """Links come from third parties: private addresses only where the user said so."""
        if self.settings.fetch.allow_private_addresses:
            return True
        if article.feed.startswith(SEED_FEED_PREFIX):
            return True  # a seed's own url is configured by the user, like a feed URL
        feed = self.feed_config(article.feed)
        return feed is not None and feed.allow_private_links

    async def record_content(
        self,
        article: Article,
        run: Ledger,
        version: Version,
        raw: RawBody | None,
        events: list[Change],
        entry: FeedEntry | None = None,
        feed_note: str = PAGE_UNAVAILABLE,
        baseline: Version | None = None,
    ) -> None:
        """Store ``version`` if its normalized content differs from the latest one (or from
        ``baseline``, see ``decide``); ``feed_note``: why its text is the feed entry's."""
        latest = await self.db.read(self.store.latest_version, article.id) if article.id else None
        if baseline is None and latest is not None:
            baseline = await self._page_baseline(version, latest)
        feed_title = entry.title if entry is not None else (latest.feed_title if latest else None)
        ignore = self.settings.ignore_patterns(article.feed)
        last = baseline or latest
        candidate = replace(version, feed_title=feed_title)
        candidate = normalized(carry_missing(candidate, last), ignore)
        against = normalized(baseline, ignore) if baseline is not None else None
        changes = list(events)
        if article.status == ArticleStatus.REMOVED:
            changes.append(
                await self.linker.event(article, ChangeKind.RESTORED, run, "back online")
            )
            article = replace(article, status=ArticleStatus.ACTIVE)

        def from_feed() -> Version:
            assert entry is not None
            fallback = version_from_entry(article, entry, run.now)
            return normalized(replace(fallback, feed_title=feed_title), ignore)

        confirm_after = self.settings.tracking.confirm_suspect_after
        fallback = from_feed if entry else None
        decision = decide(
            article, latest, candidate, run.now, confirm_after, fallback, feed_note, against
        )
        run.warnings.extend(decision.warnings)
        if not isinstance(decision, NewVersion):
            await self.writer.commit(decision.article, run, changes)
            return
        change, documents = decision.change, {}
        if decision.previous is not None:
            change, documents[len(changes)] = await self._classified(
                change, decision.article, decision.previous, decision.version, run.now, latest
            )
        link = await self.linker.link(decision.article, decision.version, change, run)
        if link is not None:
            change = replace(change, seed_id=link.seed_id, drift=link.drift)
        changes.append(change)
        await self.writer.commit(
            decision.article, run, changes, decision.version, raw, documents, link
        )

    async def _page_baseline(self, version: Version, latest: Version) -> Version | None:
        """For a page that is back after versions from its feed entry: the page as last
        fetched (None when the latest version is the page's, or there never was one)."""
        if version.source != TextSource.PAGE or latest.source != TextSource.FEED:
            return None
        if latest.number == 1:
            return None
        pages = [
            v
            for v in await self.db.read(self.store.list_versions, latest.article_id)
            if v.source == TextSource.PAGE
        ]
        return page_baseline(pages[-1], latest) if pages else None

    async def _classified(
        self,
        change: Change,
        article: Article,
        latest: Version,
        new: Version,
        now: datetime,
        stored: Version | None = None,
    ) -> tuple[Change, DiffDocument]:
        """``change`` as a classified CHANGED or REVERTED event against ``latest``;
        ``stored``: the latest version the store holds, when known."""
        # Diffing is CPU-bound and bounded by diff_timeout: off the event loop.
        rules = self.settings.rules(article.feed).thresholds()
        document = await self.pool.run(compare_with_rules, article, latest, new, rules, now)
        earlier: Version | None
        if stored is not None and stored.number == 1:
            # Only one version is stored (an article's first edit, the common case): it is
            # the only one the new text can be a return to, no query needed.
            earlier = stored if stored.content_hash == new.content_hash else None
        else:
            earlier = await self.db.read(
                self.store.find_version_by_hash, change.article_id, new.content_hash
            )
        reverted_before = False
        if earlier is not None:
            history = await self.db.read(self.store.list_changes, change.article_id)
            reverted_before = any(c.kind == ChangeKind.REVERTED for c in history)
        return classified(change, latest, document, earlier, reverted_before), document

    async def _record_unchanged(
        self, article: Article, run: Ledger, events: list[Change], entry: FeedEntry | None
    ) -> None:
        """The page is as it was (a 304, or the very same bytes): no extraction, no diff."""
        if entry is not None and feed_title_changed(entry, article.feed_title):
            latest = await self.db.read(self.store.latest_version, article.id)
            if latest is not None:
                # The page is unchanged, its feed entry's title is not (a headline test).
                unchanged_page = replace(latest, fetched_at=run.now)
                await self.record_content(article, run, unchanged_page, None, events, entry)
                return
        changes = list(events)
        if article.status == ArticleStatus.REMOVED:
            changes.append(
                await self.linker.event(article, ChangeKind.RESTORED, run, "back online")
            )
            article = replace(article, status=ArticleStatus.ACTIVE)
        await self.writer.commit(article, run, changes)

    async def _record_gone(self, article: Article, run: Ledger, reason: str) -> None:
        if article.status == ArticleStatus.REMOVED or article.versions == 0:
            # Already known to be gone, or never captured: nothing was removed.
            if article.versions == 0:
                run.errors.append(f"{article.current_url}: {reason}")
            await self.writer.commit(replace(article, last_error=reason), run, [])
            return
        change = await self.linker.event(article, ChangeKind.REMOVED, run, reason)
        gone = replace(
            article, status=ArticleStatus.REMOVED, etag=None, last_modified=None, last_error=None
        )
        await self.writer.commit(gone, run, [change])

    async def _record_failure(
        self,
        article: Article,
        run: Ledger,
        entry: FeedEntry | None,
        exc: Exception,
        before: Article,
    ) -> None:
        """A page that cannot be fetched: keep the error. A new article gets its feed entry's
        text; a known one whose entry changed gets that change, from the feed."""
        article = replace(article, last_error=str(exc))
        if entry is not None and article.versions == 0:
            run.warnings.append(f"{exc}; using the feed entry's text")
            version = version_from_entry(article, entry, run.now)
            await self.record_content(article, run, version, None, [], entry)
            return
        run.errors.append(str(exc))
        latest = None
        if entry is not None and entry_changed(entry, before):
            latest = await self.db.read(self.store.latest_version, article.id)
        if entry is None or latest is None:
            await self.writer.commit(article, run, [])
            return
        # The feed entry is evidence too: its edit is recorded, compared with the entry as
        # last seen; the page is compared with the page again when it is back.
        reason = exc.reason if isinstance(exc, FetchError) else str(exc)
        version = version_from_entry(article, entry, run.now)
        baseline = feed_baseline(before, latest)
        why = f"page unavailable: {reason}"
        await self.record_content(article, run, version, None, [], entry, why, baseline)


def revisit_of(article: Article, result: FetchResult, now: datetime) -> Revisit:
    """The 304 ``result`` as evidence that ``article``'s latest version was still served at
    ``now`` (the check's time, as a version's ``fetched_at`` is)."""
    headers = tuple(result.headers.items())
    return Revisit(
        article.id,
        article.versions,
        now,
        result.final_url,
        now,
        result.final_url,
        first_headers=headers,
        last_headers=headers,
        etag=result.etag,
        last_modified=result.last_modified,
    )
