"""Check feeds and tracked articles end to end: fetch -> parse -> extract -> store.

No scheduling lives here: the caller (``check`` from cron, the daemon) decides when, and
passes ``now``. Every failure is recorded against its feed or article and the run goes on;
feed state is saved only after its entries are processed, and a feed's validators only when
every entry of that fetch was stored, so a crash or a failed write mid-run is completed by
the next run. Store calls go through ``StoreRunner``: a lock held elsewhere delays that one
write, never the fetching. Several processes may share the store: an article
recorded by another process since it was read is a lost race, skipped without a trace.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import secrets
import socket
import time
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from monitor.compare import compare_with_rules
from monitor.config import FeedConfig, Settings
from monitor.errors import (
    ConflictError,
    ExtractError,
    FeedParseError,
    FetchError,
    HTTPStatusError,
    ReadOnlyStoreError,
    RunLockedError,
    StoreError,
    WorkerError,
)
from monitor.extract import Extractor
from monitor.feeds import parse_feed
from monitor.fetch import Fetcher
from monitor.models import (
    Alert,
    Article,
    ArticleStatus,
    Change,
    ChangeKind,
    CheckReport,
    DiffDocument,
    FeedEntry,
    FeedReport,
    FeedState,
    FeedStatus,
    FetchResult,
    RawBody,
    Seed,
    SeedLink,
    Significance,
    TextSource,
    Validators,
    Version,
)
from monitor.normalize import hash_normalized, normalize_text, normalize_url
from monitor.schedule import is_due, next_article_check, next_feed_check
from monitor.seeds import SeedIndex, compute_drift, load_seeds
from monitor.store import Store
from monitor.store.runner import StoreRunner
from monitor.workers import WorkerPool, default_workers

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
GONE = frozenset({404, 410})
SEED_FEED_PREFIX = "seed:"
SWINGS_FLAGGED = 2  # contradicted suspect fetches before a page is reported as unstable
T = TypeVar("T")
UPDATE_BATCH = 500  # pending article updates written in one transaction
DUE_PAGE = 500  # due articles read from the store at a time
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
log = logging.getLogger(__name__)


Progress = Callable[[str], None]


@dataclass
class _Run:
    """Mutable bookkeeping of one pass; becomes a CheckReport at the end."""

    now: datetime
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: set[int] = field(default_factory=set)
    articles_checked: int = 0
    store_errors: list[str] = field(default_factory=list)
    # Every feed's stored state, read in one query when the pass checks several feeds.
    feed_states: dict[str, FeedState] | None = None


class Monitor:
    """Runs checks against a store with one shared fetcher and an extractor."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        fetcher: Fetcher,
        extractor: Extractor,
        seeds: Sequence[Seed] = (),
        runner: StoreRunner | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self._own_runner = runner is None
        self.db = runner or StoreRunner(store)
        # Set when the store refused a write because it cannot be written at all: the
        # daemon stops instead of fetching the same pages forever.
        self.read_only: ReadOnlyStoreError | None = None
        self._repaired = False  # incomplete articles looked for (once per process)
        workers = settings.extract.workers or default_workers()
        self.pool = WorkerPool(extractor, workers)
        self.use_seeds(seeds)
        # Articles being checked by any pass of this monitor: the daemon's feed and
        # article jobs overlap, and one article must not be checked twice at once.
        # ... each with the article as the store holds it (None: not known), so that only
        # what changed is written.
        self._in_flight: dict[int, Article | None] = {}
        # Article rows whose only news is "checked, nothing new" (a 304, the same bytes, an
        # entry still in its feed): written in batches, not one transaction each. Losing
        # them in a crash costs only a repeated check.
        self._pending: dict[int, tuple[Article | None, Article]] = {}  # id: (stored, now)
        self._pending_feeds: dict[str, FeedState] = {}  # likewise, after the articles
        self._feeds = {feed.name: feed for feed in settings.feeds}
        self._article_slots = asyncio.Semaphore(2 * settings.fetch.concurrency)

    async def close(self) -> None:
        """Write what is pending; stop the extraction workers, if any were started."""
        await self.flush(_Run(datetime.now(UTC)))
        self.pool.close()
        if self._own_runner:
            self.db.close()

    async def flush(self, run: _Run) -> None:
        """Write the article updates batched so far, then the feed states; a write the
        store refuses is reported in ``run`` (that work is done again next time)."""
        pending, self._pending = self._pending, {}
        states, self._pending_feeds = list(self._pending_feeds.values()), {}
        # Grouped by the columns that changed: a 304 changes three of twenty-odd, and
        # writing only those is most of the saving.
        groups: dict[tuple[str, ...], list[Article]] = {}
        for stored, now in pending.values():
            names = _changed_fields(stored, now)
            if names:
                groups.setdefault(names, []).append(now)
        for names, batch in groups.items():
            try:
                held = await self.db.write(self.store.update_articles, batch, names)
            except StoreError as exc:
                # Only "checked, nothing new" is lost: these articles are checked again.
                self._store_failed(run, f"{len(batch)} article updates not saved: {exc}", exc)
                continue
            if held:
                log.info(
                    "%d article updates skipped: another process holds those rows (%s); "
                    "they are checked again",
                    len(held),
                    ", ".join(map(str, held[:10])),
                )
        if states:
            # After the articles: a feed's validators must never be saved ahead of the
            # entries they vouch for, or a crash would leave those entries behind a 304.
            try:
                await self.db.write(self.store.save_feeds, states)
            except StoreError as exc:
                listed = ", ".join(state.name for state in states[:5])
                more = f" and {len(states) - 5} more" if len(states) > 5 else ""
                self._store_failed(
                    run, f"state of feeds {listed}{more} not saved (fetched again): {exc}", exc
                )

    def _store_failed(self, run: _Run, message: str, exc: StoreError) -> None:
        """A write the store refused: logged (no traceback: it is not a bug) and reported."""
        log.warning("%s", message)
        run.store_errors.append(message)
        if isinstance(exc, ReadOnlyStoreError):
            self.read_only = exc

    async def _defer(self, run: _Run, article: Article, stored: Article | None) -> None:
        """Write ``article`` with the next batch; ``stored``: the row as the store has it
        (None: not known, so every column is written)."""
        earlier = self._pending.get(article.id)
        self._pending[article.id] = (earlier[0] if earlier else stored, article)
        if len(self._pending) >= UPDATE_BATCH:
            await self.flush(run)

    def _save_feed(self, state: FeedState) -> None:
        self._pending_feeds[state.name] = state

    def reload(self, settings: Settings) -> None:
        """Check with ``settings`` from the next pass on (the daemon's config reload)."""
        self.settings = settings
        self._feeds = {feed.name: feed for feed in settings.feeds}

    def _feed_config(self, name: str) -> FeedConfig | None:
        return self._feeds.get(name)

    def _fresh(self, article: Article) -> Article:
        """``article`` as this monitor last saw it, pending updates included."""
        pending = self._pending.get(article.id)
        return pending[1] if pending else article

    def use_seeds(self, seeds: Sequence[Seed]) -> None:
        """Match new versions against ``seeds`` from now on."""
        self.seeds = {seed.id: seed for seed in seeds}
        self.seed_index = SeedIndex(seeds) if seeds else None

    async def check(
        self,
        now: datetime,
        feeds: Sequence[str] | None = None,
        force: bool = False,
        progress: Progress | None = None,
    ) -> CheckReport:
        """One pass (`newsmonitor check`): the due feeds (``force``: all of them; named
        ``feeds``: those, now), then every tracked article whose re-check is due."""
        return await self._pass(now, feeds, force or bool(feeds), progress, articles=True)

    async def check_scheduled_feed(self, now: datetime, name: str) -> CheckReport:
        """The daemon's job for one feed: check it if due (so backoff holds), no re-checks."""
        return await self._pass(now, [name], force=False, progress=None, articles=False)

    async def check_due_articles(self, now: datetime) -> CheckReport:
        """The daemon's article job: watched seed pages and every tracked article now due."""
        return await self._pass(now, [], force=False, progress=None, articles=True)

    async def _pass(
        self,
        now: datetime,
        feeds: Sequence[str] | None,
        force: bool,
        progress: Progress | None,
        articles: bool,
    ) -> CheckReport:
        """``feeds`` None: every feed; [] no feed (articles only); else the named ones."""
        run = _Run(now)
        selected = (
            list(self.settings.feeds) if feeds is None else [self.settings.feed(n) for n in feeds]
        )
        notify = progress or (lambda _label: None)
        try:
            reports = await self._pass_inner(run, selected, feeds, force, notify, articles)
        finally:
            await self.flush(run)
        return CheckReport(
            feeds=tuple(reports),
            changes=tuple(run.changes),
            articles_checked=run.articles_checked,
            errors=tuple(run.errors),
            warnings=tuple(run.warnings),
            store_errors=tuple(run.store_errors),
        )

    async def _pass_inner(
        self,
        run: _Run,
        selected: list[FeedConfig],
        feeds: Sequence[str] | None,
        force: bool,
        notify: Progress,
        articles: bool,
    ) -> list[FeedReport]:
        async def one_feed(feed: FeedConfig) -> FeedReport:
            try:
                report = await self._check_feed(feed, run, force=force)
            except StoreError as exc:  # not a bug: logged without a traceback
                self._store_failed(run, f"feed {feed.name}: {exc}", exc)
                report = FeedReport(feed.name, FeedStatus.ERROR, error=f"{feed.name}: {exc}")
            except Exception as exc:  # one feed's failure must not end the run
                log.exception("checking feed %s failed", feed.name)
                report = FeedReport(feed.name, FeedStatus.ERROR, error=f"{feed.name}: {exc}")
            notify(f"feed {feed.name}")
            return report

        if len(selected) > 1:
            states = await self.db.read(self.store.list_feeds)
            run.feed_states = {state.name: state for state in states}
        reports: list[FeedReport | None] = [None] * len(selected)

        async def one_more(numbered: tuple[int, FeedConfig]) -> None:
            reports[numbered[0]] = await one_feed(numbered[1])

        # Bounded, like the articles: a thousand feeds started at once would hold a thousand
        # parsed feeds and their entries waiting for article slots.
        await _for_each(
            _one_batch(enumerate(selected)), one_more, 2 * self.settings.fetch.concurrency
        )
        if articles:
            await self._complete_incomplete(run)
            everywhere = not feeds
            watched = (
                [s for s in self.seeds.values() if s.url and not s.feeds] if everywhere else []
            )
            await asyncio.gather(*(self._watch_seed(seed, run) for seed in watched))
            names = self.settings.feeds if everywhere else selected
            only_feeds = {f.name for f in names} | {seed_feed(s) for s in watched}
            await self._check_due_articles(run, notify, only_feeds=only_feeds, everything=force)
        return [report for report in reports if report is not None]

    async def _complete_incomplete(self, run: _Run) -> None:
        """Articles that count a version the store does not hold (a crash between the two
        writes, in releases that made them separately) are fetched again now: once per
        process, since an article and its versions are now written together."""
        if self._repaired:
            return
        self._repaired = True
        try:
            incomplete = await self.db.read(self.store.incomplete_articles)
            repaired = []
            for article in incomplete:
                latest = await self.db.read(self.store.latest_version, article.id)
                stored = latest.number if latest else 0
                run.warnings.append(
                    f"{article.current_url}: counted {article.versions} versions but "
                    f"{stored} are stored (an interrupted write); checking it again"
                )
                # What was fetched for the missing version is forgotten: fetched in full now.
                repaired.append(
                    replace(article, versions=stored, next_check=run.now, **_FORGET_FETCH)
                )
            if repaired:
                names = ("versions", "next_check", *_FORGET_FETCH)
                await self.db.write(self.store.update_articles, repaired, names)
        except StoreError as exc:
            self._repaired = False  # try again on the next pass
            self._store_failed(run, f"looking for incomplete articles failed: {exc}", exc)

    async def _check_feed(self, feed: FeedConfig, run: _Run, force: bool = False) -> FeedReport:
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
            result = await self.fetcher.get(
                feed.url,
                Validators(state.etag, state.last_modified),
                accept=FEED_ACCEPT,
                trust_origin=True,
            )
            if result.not_modified:
                self._save_feed_success(feed, state, result, state.entries, now)
                return FeedReport(feed.name, FeedStatus.NOT_MODIFIED, 304, state.entries)
            parsed = await self.pool.run(
                parse_feed, result.body, result.final_url, dict(result.headers)
            )
            if parsed.bozo and not parsed.entries:
                # Malformed and empty: a broken feed, not a quiet news day.
                raise FeedParseError(
                    f"{feed.url}: malformed feed with no entries: {parsed.warning}"
                )
        except (FetchError, FeedParseError, WorkerError) as exc:
            status = exc.status if isinstance(exc, HTTPStatusError) else None
            failures = state.failures + 1
            next_due = next_feed_check(feed.interval, now, failures)
            if isinstance(exc, HTTPStatusError) and exc.retry_after:
                # The server said when to come back; coming back sooner is impolite.
                next_due = max(next_due, now + timedelta(seconds=exc.retry_after))
            self._save_feed(
                replace(
                    state,
                    last_checked=now,
                    last_status=status,
                    last_error=str(exc),
                    failures=failures,
                    next_due=next_due,
                )
            )
            return FeedReport(feed.name, FeedStatus.ERROR, status, None, error=str(exc))
        entries = _unique_entries(parsed.entries)
        assert all(entry.link for entry in entries)
        # One query for the whole feed; only entries already tracked are looked up one by one.
        urls = [normalize_url(entry.link or "") for entry in entries]
        guids = [entry.guid for entry in entries if entry.guid]
        known = await self.db.read(self.store.tracked_among, urls, guids)
        tracked = [url for url in urls if url in known]
        found = await self.db.read(self.store.find_articles, tracked) if known else {}
        captured = await asyncio.gather(
            *(self._capture_entry(feed, entry, run, known, found) for entry in entries)
        )
        missed = captured.count(False)
        if missed:
            # The validators vouch for every entry of this document: saved now, the next
            # fetch would be a 304 and these entries would never be read again.
            warning = (
                f"{missed} of {len(entries)} entries could not be stored; the feed's "
                "validators were not saved, so the next check fetches it in full"
            )
            log.warning("feed %s: %s", feed.name, warning)
            self._save_feed_success(feed, state, result, len(parsed.entries), now, warning)
            return FeedReport(
                feed.name, FeedStatus.OK, result.status, len(parsed.entries), warning=warning
            )
        self._save_feed_success(feed, state, result, len(parsed.entries), now)
        return FeedReport(
            feed.name, FeedStatus.OK, result.status, len(parsed.entries), warning=parsed.warning
        )

    def _save_feed_success(
        self,
        feed: FeedConfig,
        state: FeedState,
        result: FetchResult,
        entries: int | None,
        now: datetime,
        incomplete: str | None = None,
    ) -> None:
        """Save a fetched feed's state; ``incomplete``: why its validators are not kept."""
        kept = result.validators
        if result.not_modified:
            kept = Validators(kept.etag or state.etag, kept.last_modified or state.last_modified)
        if incomplete is not None:
            kept = Validators()
        self._save_feed(
            replace(
                state,
                etag=kept.etag,
                last_modified=kept.last_modified,
                last_checked=now,
                last_success=now,
                last_status=result.status,
                last_error=incomplete,
                failures=0,
                # Entries left out are fetched again by the next run, not an interval later.
                next_due=now if incomplete else next_feed_check(feed.interval, now),
                entries=entries,
            )
        )

    async def _capture_entry(
        self,
        feed: FeedConfig,
        entry: FeedEntry,
        run: _Run,
        known: set[str],
        found: Mapping[str, Article],
    ) -> bool:
        """Record that ``entry`` is in the feed; capture it when it is a new article.
        False when what the entry brought could not be stored.

        ``known``: which of the feed's URLs and GUIDs the store knows (``tracked_among``);
        ``found``: the articles of those URLs (``find_articles``).
        """
        assert entry.link is not None
        url = normalize_url(entry.link)
        tracked = url in known or (entry.guid is not None and entry.guid in known)
        article = found.get(url)
        try:
            if article is None and url in known:
                article = await self.db.read(self.store.find_article, [url])  # by an alias
            if article is None and tracked and entry.guid:
                # A GUID is only unique within its feed ("1", "42" are common): same feed only.
                by_guid = await self.db.read(self.store.find_article, [], guid=entry.guid)
                article = by_guid if by_guid is not None and by_guid.feed == feed.name else None
        except StoreError as exc:
            self._store_failed(run, f"{entry.link}: {exc}", exc)
            return False
        if article is None:
            # Provisional (id 0) until its first fetch is committed: the page's canonical URL
            # may show it is an article we already track under another link.
            provisional = _provisional(feed.name, url, entry.link, entry.title, run.now)
            return await self.check_article(replace(provisional, guid=entry.guid), run, entry)
        stored = article
        article = replace(self._fresh(article), last_in_feed=run.now)
        await self._defer(run, article, stored)
        if not feed.fetch_articles:
            return await self.check_article(article, run, entry)
        if article.versions == 0 or article.status == ArticleStatus.REMOVED:
            # Never captured (a crash mid-run) or back in the feed after removal: look now.
            return await self.check_article(article, run, entry)
        if _feed_title_changed(entry, article.feed_title):
            return await self.check_article(article, run, entry)
        return True

    async def _watch_seed(self, seed: Seed, run: _Run) -> None:
        """Start tracking the page of a seed that names a URL and no feed."""
        assert seed.url is not None
        try:
            if await self.db.read(self.store.find_article, [seed.url]) is not None:
                return  # tracked already: re-checked on its schedule
        except StoreError as exc:
            self._store_failed(run, f"seed {seed.id}: {exc}", exc)
            return
        page = _provisional(seed_feed(seed), seed.url, seed.url, seed.title, run.now)
        await self.check_article(page, run, None)

    async def _check_due_articles(
        self, run: _Run, notify: Progress, only_feeds: set[str], everything: bool = False
    ) -> None:
        limit = self.settings.tracking.max_articles_per_run or None
        # ``everything``: every article still tracked, however far off its next check.
        until = run.now + timedelta(days=36500) if everything else run.now
        try:
            ids = await self.db.read(self.store.due_article_ids, until, limit=limit)
        except StoreError as exc:
            self._store_failed(run, f"reading the due articles failed: {exc}", exc)
            return
        due = [i for i, feed in ids if i not in run.checked and feed in only_feeds]

        async def one(article: Article) -> None:
            feed = self._feed_config(article.feed)
            if feed is not None and not feed.fetch_articles:
                # Feed-only articles change only through the feed; stop re-checking them.
                await self._defer(run, replace(self._fresh(article), next_check=None), article)
                return
            await self.check_article(article, run, None)
            notify(f"article {article.id}")

        async def articles() -> AsyncIterator[list[Article]]:
            # Read a page at a time as the work proceeds: memory stays flat however many
            # articles are due.
            for start in range(0, len(due), DUE_PAGE):
                try:
                    yield await self.db.read(self.store.get_articles, due[start : start + DUE_PAGE])
                except StoreError as exc:
                    self._store_failed(run, f"reading due articles failed: {exc}", exc)
                    return

        await _for_each(articles(), one, 2 * self.settings.fetch.concurrency)

    async def check_article(self, article: Article, run: _Run, entry: FeedEntry | None) -> bool:
        """Fetch one article's page (or take the feed entry) and record what changed;
        False when that could not be stored (the error is in ``run``)."""
        if article.id:
            if article.id in run.checked or article.id in self._in_flight:
                return True  # checked by this pass already, or right now by another job
            run.checked.add(article.id)
            pending = self._pending.get(article.id)
            self._in_flight[article.id] = pending[0] if pending else article
            article = self._fresh(article)
        run.articles_checked += 1
        try:
            # Bounded: a page fetched waits for extraction in memory, so thousands of
            # articles started at once would hold thousands of pages.
            async with self._article_slots:
                await self._check_article(article, run, entry)
        except ConflictError as exc:
            # Another process (the daemon, a second node, a `check`) recorded this article
            # since it was read here: what it recorded stands, this observation is dropped.
            log.info("%s: skipped, another process got there first (%s)", article.url, exc)
        except StoreError as exc:  # locked, full, read-only: reported, redone next run
            self._store_failed(run, f"{article.current_url}: not stored: {exc}", exc)
            return False
        except Exception as exc:  # one article's failure must not end the run
            log.exception("checking article %s failed", article.current_url)
            run.errors.append(f"{article.current_url}: {exc}")
            return False
        finally:
            self._in_flight.pop(article.id, None)
        return True

    async def _check_article(self, article: Article, run: _Run, entry: FeedEntry | None) -> None:
        now = run.now
        feed = self._feed_config(article.feed)
        if article.feed.startswith(SEED_FEED_PREFIX):
            next_check: datetime | None = now + self.settings.seeds.interval
        else:
            schedule = self.settings.tracking.schedule
            next_check = next_article_check(article.first_seen, now, schedule)
        checked = replace(article, last_checked=now, next_check=next_check)
        if feed is not None and not feed.fetch_articles:
            assert entry is not None
            # Feed-only articles change only through the feed, checked on every feed pass.
            checked = replace(checked, next_check=None, last_seen=now)
            version = _version_from_entry(article, entry, now)
            await self._record_content(checked, run, version, None, [], entry)
            return
        try:
            result = await self.fetcher.get(
                article.current_url,
                Validators(article.etag, article.last_modified),
                accept=PAGE_ACCEPT,
                allow_private=self._private_links_allowed(article),
            )
        except HTTPStatusError as exc:
            if exc.status in GONE:
                await self._record_gone(checked, run, f"HTTP {exc.status}")
                return
            await self._record_failure(checked, run, entry, exc)
            return
        except FetchError as exc:
            await self._record_failure(checked, run, entry, exc)
            return
        checked = replace(
            checked,
            last_seen=now,
            last_error=None,
            etag=result.etag or (article.etag if result.not_modified else None),
            last_modified=result.last_modified
            or (article.last_modified if result.not_modified else None),
        )
        events: list[Change] = []
        if result.redirects:
            if urlsplit(result.final_url).path in ("", "/") and urlsplit(
                article.current_url
            ).path not in ("", "/"):
                # Newsrooms often "delete" a story by redirecting it to the front page.
                await self._record_gone(
                    checked, run, f"redirected to the front page {result.final_url}"
                )
                return
            if article.versions:
                events = self._moved(checked, result.final_url, "redirected", run)
            checked = replace(checked, current_url=result.final_url)
        if result.not_modified:
            await self._record_unchanged(checked, run, events, entry)
            return
        body_hash = hashlib.sha256(result.body).hexdigest()
        if body_hash == article.body_hash and article.versions and not article.suspect_hash:
            # The very bytes we extracted last time (a server without validators).
            await self._record_unchanged(checked, run, events, entry)
            return
        packed: bytes | None = None
        try:
            page, packed = await self.pool.extract_packed(
                result.body, result.final_url, result.headers.get("content-type")
            )
        except ExtractError as exc:
            checked = replace(checked, body_hash=None)  # the next fetch must try again
            if entry is None:
                await self._record_failure(checked, run, None, exc, keep_validators=False)
                return
            run.warnings.append(f"{exc}; using the feed entry's text")  # exc names the URL
            version = _version_from_entry(article, entry, now)
        else:
            checked = replace(checked, body_hash=body_hash)
            if page.canonical_url:
                canonical = normalize_url(page.canonical_url)
                if article.canonical_url and canonical != article.canonical_url:
                    events += self._moved(checked, page.canonical_url, "canonical URL changed", run)
                checked = replace(checked, canonical_url=canonical)
            version = Version(
                article_id=article.id,
                number=0,
                content_hash="",
                text=page.text,
                fetched_at=now,
                url=result.final_url,
                source=TextSource.PAGE,
                title=page.title or (entry.title if entry else None) or article.title,
                byline=page.byline,
                published=page.published,
                modified=page.modified,
                canonical_url=page.canonical_url,
            )
        raw = RawBody(result.body, result.headers.get("content-type"), packed=packed)
        await self._record_content(checked, run, version, raw, events, entry)

    def _private_links_allowed(self, article: Article) -> bool:
        """Links come from third parties: private addresses only where the user said so."""
        if self.settings.fetch.allow_private_addresses:
            return True
        if article.feed.startswith(SEED_FEED_PREFIX):
            return True  # a seed's own url is configured by the user, like a feed URL
        feed = self._feed_config(article.feed)
        return feed is not None and feed.allow_private_links

    def _moved(self, article: Article, new_url: str, why: str, run: _Run) -> list[Change]:
        if normalize_url(new_url) in {normalize_url(article.current_url), article.canonical_url}:
            return []
        return [
            Change(
                kind=ChangeKind.MOVED,
                article_id=article.id,
                feed=article.feed,
                url=new_url,
                detected_at=run.now,
                title=article.title,
                version=article.versions or None,
                detail=f"{why}: {article.current_url} -> {new_url}",
            )
        ]

    async def _record_content(
        self,
        article: Article,
        run: _Run,
        version: Version,
        raw: RawBody | None,
        events: list[Change],
        entry: FeedEntry | None = None,
    ) -> None:
        """Store ``version`` if its normalized content differs from the latest one."""
        latest = await self.db.read(self.store.latest_version, article.id) if article.id else None
        feed_title = entry.title if entry is not None else (latest.feed_title if latest else None)
        candidate = self._normalized(article.feed, replace(version, feed_title=feed_title))
        changes = list(events)
        if article.status == ArticleStatus.REMOVED:
            changes.append(await self._event(article, ChangeKind.RESTORED, run, "back online"))
            article = replace(article, status=ArticleStatus.ACTIVE)
        if latest is not None and latest.content_hash == candidate.content_hash:
            if article.suspect_hash is not None:
                article = self._suspect_contradicted(article, run)
            await self._commit(article, run, changes)
            return
        suspect = _suspect_reason(latest, candidate) if version.source == TextSource.PAGE else None
        seen_before = suspect is not None and article.suspect_hash == candidate.content_hash
        since = (article.suspect_since or run.now) if seen_before else run.now
        confirm_at = since + self.settings.tracking.confirm_suspect_after
        # Seen again, and long enough after the first time: a challenge page lives seconds.
        confirmed = seen_before and run.now >= confirm_at
        if suspect is not None and not confirmed:
            if latest is None and entry is not None:
                # A new article behind a wall: its feed entry is the better first version.
                run.warnings.append(
                    f"{article.current_url}: {suspect}; using the feed entry's text"
                )
                fallback = replace(
                    _version_from_entry(article, entry, run.now), feed_title=feed_title
                )
                candidate = self._normalized(article.feed, fallback)
            else:
                # Held, not stored: a block page or a collapsed extraction is not an edit until
                # a full fetch (no validators, so no 304) at least confirm_suspect_after later
                # shows the same thing.
                again = "seen again; " if seen_before else ""
                run.warnings.append(
                    f"{article.current_url}: suspect fetch ({suspect}); {again}not stored "
                    f"unless a fetch after {confirm_at:%Y-%m-%d %H:%M:%S} UTC confirms it"
                )
                # Come back when it can be confirmed, or sooner on the tracking schedule.
                come_back = article.next_check
                if come_back is None or come_back > confirm_at:
                    come_back = confirm_at
                held = replace(
                    article,
                    suspect_hash=candidate.content_hash,
                    suspect_since=since,
                    next_check=come_back,
                    etag=None,
                    last_modified=None,
                    body_hash=None,
                )
                await self._commit(held, run, changes)
                return
        article = replace(article, suspect_hash=None, suspect_since=None)
        number = latest.number + 1 if latest else 1
        stored = replace(candidate, number=number)
        article = replace(
            article,
            title=stored.title or article.title,
            versions=number,
            feed_title=stored.feed_title,
        )
        change = Change(
            kind=ChangeKind.NEW,
            article_id=article.id,
            feed=article.feed,
            url=article.current_url,
            detected_at=run.now,
            title=article.title,
            version=number,
            detail="confirmed after a suspect fetch"
            if confirmed
            else _source_note(candidate.source, latest),
        )
        documents: dict[int, DiffDocument] = {}
        if latest is not None:
            change, documents[len(changes)] = await self._classified(
                change, article, latest, stored, run.now
            )
        link = await self._seed_link(article, stored, change, run)
        if link is not None:
            change = replace(change, seed_id=link.seed_id, drift=link.drift)
        changes.append(change)
        await self._commit(article, run, changes, stored, raw, documents, link)

    async def _seed_link(
        self, article: Article, version: Version, change: Change, run: _Run
    ) -> SeedLink | None:
        """The article's seed link with the drift of ``version``; None when unlinked.

        An unlinked article is matched against the seeds on every new version; a linked one
        keeps its seed until it changes a lot (a URL reused for another story must unlink).
        """
        if self.seed_index is None:
            return None
        current = await self.db.read(self.store.get_seed_link, article.id) if article.id else None
        big_change = change.significance in (Significance.MAJOR, Significance.REWRITE)
        if current is None or big_change:
            found = self.seed_index.match(
                version.text, article.url, article.canonical_url, article.feed
            )
            if found is None:
                if current is not None:
                    await self.db.write(self.store.remove_seed_link, article.id)
                    run.warnings.append(
                        f"{article.current_url}: no longer matches seed {current.seed_id}; unlinked"
                    )
                return None
            if current is None or current.seed_id != found.seed_id:
                current = SeedLink(article.id, found.seed_id, found.score, found.reasons, run.now)
        seed = self.seeds.get(current.seed_id)
        if seed is None:
            return None  # its seed file is gone: the link stays as it was
        rules = self.settings.rules(article.feed)
        drift = await asyncio.to_thread(compute_drift, seed, version.text, rules.diff_timeout)
        return replace(current, drift=drift, drift_version=version.number)

    def _suspect_contradicted(self, article: Article, run: _Run) -> Article:
        """The page is back to its stored version: the suspect fetch was a swing."""
        swings = article.swings + 1
        note = "a suspect fetch was not confirmed by the next one"
        if swings >= SWINGS_FLAGGED:
            note = f"extraction swings between fetches ({swings} times); check this page"
        run.warnings.append(f"{article.current_url}: {note}")
        return replace(article, suspect_hash=None, suspect_since=None, swings=swings)

    def _normalized(self, feed: str, version: Version) -> Version:
        """``version`` with normalized fields and the content hash over them."""
        title = normalize_text(version.title or "") or None
        byline = normalize_text(version.byline or "") or None
        feed_title = normalize_text(version.feed_title or "") or None
        text = normalize_text(version.text, self.settings.ignore_patterns(feed))
        return replace(
            version,
            title=title,
            byline=byline,
            feed_title=feed_title,
            text=text,
            content_hash=hash_normalized(title, byline, text, feed_title),
        )

    async def _classified(
        self, change: Change, article: Article, latest: Version, new: Version, now: datetime
    ) -> tuple[Change, DiffDocument]:
        """``change`` as a classified CHANGED or REVERTED event against ``latest``."""
        # Diffing is CPU-bound and bounded by diff_timeout: off the event loop.
        rules = self.settings.rules(article.feed)
        document = await self.pool.run(compare_with_rules, article, latest, new, rules, now)
        verdict = document.classification
        change = replace(
            change,
            kind=ChangeKind.CHANGED,
            previous_version=latest.number,
            significance=verdict.significance,
            tags=verdict.tags,
            stats=document.diff.body.stats,
        )
        earlier = await self.db.read(
            self.store.find_version_by_hash, change.article_id, new.content_hash
        )
        if earlier is None:
            return change, document
        history = await self.db.read(self.store.list_changes, change.article_id)
        flips = [c for c in history if c.kind == ChangeKind.REVERTED]
        # The first revert is news; the second and later flips of an A/B test are not.
        tags = (*change.tags, "flip-flop") if flips else change.tags
        reverted = replace(
            change,
            kind=ChangeKind.REVERTED,
            reverted_to=earlier.number,
            tags=tags,
            detail=f"identical to v{earlier.number}",
        )
        return reverted, document

    async def _record_unchanged(
        self, article: Article, run: _Run, events: list[Change], entry: FeedEntry | None
    ) -> None:
        """The page is as it was (a 304, or the very same bytes): no extraction, no diff."""
        if entry is not None and _feed_title_changed(entry, article.feed_title):
            latest = await self.db.read(self.store.latest_version, article.id)
            if latest is not None:
                # The page is unchanged, its feed entry's title is not (a headline test).
                unchanged_page = replace(latest, fetched_at=run.now)
                await self._record_content(article, run, unchanged_page, None, events, entry)
                return
        changes = list(events)
        if article.status == ArticleStatus.REMOVED:
            changes.append(await self._event(article, ChangeKind.RESTORED, run, "back online"))
            article = replace(article, status=ArticleStatus.ACTIVE)
        await self._commit(article, run, changes)

    async def _record_gone(self, article: Article, run: _Run, reason: str) -> None:
        if article.status == ArticleStatus.REMOVED or article.versions == 0:
            # Already known to be gone, or never captured: nothing was removed.
            if article.versions == 0:
                run.errors.append(f"{article.current_url}: {reason}")
            await self._commit(replace(article, last_error=reason), run, [])
            return
        change = await self._event(article, ChangeKind.REMOVED, run, reason)
        gone = replace(
            article, status=ArticleStatus.REMOVED, etag=None, last_modified=None, last_error=None
        )
        await self._commit(gone, run, [change])

    async def _record_failure(
        self,
        article: Article,
        run: _Run,
        entry: FeedEntry | None,
        exc: Exception,
        keep_validators: bool = True,
    ) -> None:
        """A page that cannot be fetched: keep the error; a new article gets the feed's text."""
        if not keep_validators:
            article = replace(article, etag=None, last_modified=None)
        article = replace(article, last_error=str(exc))
        if entry is not None and article.versions == 0:
            run.warnings.append(f"{exc}; using the feed entry's text")
            version = _version_from_entry(article, entry, run.now)
            await self._record_content(article, run, version, None, [], entry)
            return
        run.errors.append(str(exc))
        await self._commit(article, run, [])

    async def _event(self, article: Article, kind: ChangeKind, run: _Run, detail: str) -> Change:
        link = None
        if self.seeds and article.id:
            link = await self.db.read(self.store.get_seed_link, article.id)
        return Change(
            kind=kind,
            article_id=article.id,
            feed=article.feed,
            url=article.current_url,
            detected_at=run.now,
            title=article.title,
            version=article.versions or None,
            detail=detail,
            seed_id=link.seed_id if link else None,
            drift=link.drift if link else None,
        )

    async def _commit(
        self,
        article: Article,
        run: _Run,
        changes: list[Change],
        version: Version | None = None,
        raw: RawBody | None = None,
        documents: Mapping[int, DiffDocument] | None = None,
        link: SeedLink | None = None,
    ) -> None:
        """Record in one transaction, queueing an alert per accepting channel and change: a
        new article (id 0) with its first version, change and alerts, or none of them.

        ``documents`` maps the position of a change in ``changes`` to its diff. Raises
        ConflictError when another process recorded the article first.
        """
        nothing_new = not changes and version is None and link is None
        if article.id == 0:
            if await self._known_elsewhere(article, run):
                return
            if nothing_new:  # never captured (gone at once, say): the row alone
                inserted = await self.db.write(self.store.add_article, article)
                run.checked.add(inserted.id)
                return
        elif nothing_new:
            await self._defer(run, article, self._in_flight.get(article.id))
            return
        self._pending.pop(article.id, None)  # superseded by the full write below
        factory = self._alerts_for(run.now, documents or {}) if self.settings.alerts else None
        saved = await self.db.write(
            self.store.record, article, changes, version, raw, link=link, alerts=factory
        )
        if article.id == 0 and saved:
            run.checked.add(saved[0].article_id)
        run.changes.extend(saved)

    def _alerts_for(
        self, now: datetime, documents: Mapping[int, DiffDocument]
    ) -> Callable[[Sequence[Change]], list[Alert]]:
        """The outbox rows for saved changes: one per change and accepting channel."""

        # Imported here: the alert payload pulls in the channels and the HTML renderer,
        # which a run without alert channels never needs.
        from monitor.alerts.payload import build_event, event_id_for, event_type

        def make(saved: Sequence[Change]) -> list[Alert]:
            alerts = []
            for index, change in enumerate(saved):
                threshold = self.settings.rules(change.feed).alert_significance
                for channel in self.settings.alerts:
                    if not channel.accepts(change, None, threshold):
                        continue
                    event_id = event_id_for(change, channel.name)
                    payload = build_event(change, event_id, documents.get(index), now)
                    alerts.append(
                        Alert(
                            id=0,
                            event_id=event_id,
                            channel=channel.name,
                            event_type=event_type(change),
                            payload=payload,
                            created_at=now,
                            change_id=change.id,
                            next_attempt=now,
                            digest=channel.digest is not None,
                        )
                    )
            return alerts

        return make

    async def _known_elsewhere(self, article: Article, run: _Run) -> bool:
        """Whether a provisional article turned out to be one already tracked.

        Same canonical URL: the link becomes an alias of the known article. Same URL: another
        feed (or process) captured it while this fetch was in flight.
        """
        urls = [article.url] + ([article.canonical_url] if article.canonical_url else [])
        # The cheap question first: almost always, neither address is known.
        if not await self.db.read(self.store.tracked_among, urls):
            return False
        known = await self.db.read(self.store.find_article, urls)
        if known is None:
            return False
        if known.url != article.url:
            await self.db.write(self.store.add_alias, known.id, article.url, run.now)
            log.info("%s is article %d (same canonical URL)", article.url, known.id)
        else:
            log.info("%s was captured by another run meanwhile", article.url)
        return True


async def _for_each(
    batches: AsyncIterable[Sequence[T]], fn: Callable[[T], Awaitable[None]], limit: int
) -> None:
    """``fn`` for each item of each batch, at most ``limit`` at once. Items are taken only as
    a slot frees up, and the next batch only when this one is handed out, so a long (lazy)
    list never becomes thousands of waiting tasks. Neither ``fn`` nor the iteration may
    raise."""
    source = aiter(batches)
    queue: deque[T] = deque()
    refill = asyncio.Lock()  # one worker reads the next batch; the others wait for it
    finished = False

    async def worker() -> None:
        nonlocal finished
        while True:
            while not queue:  # the usual case skips this: no lock, no await per item
                if finished:
                    return
                async with refill:
                    if queue or finished:
                        continue
                    try:
                        queue.extend(await anext(source))
                    except StopAsyncIteration:
                        finished = True
            await fn(queue.popleft())

    await asyncio.gather(*(worker() for _ in range(max(1, limit))))


async def _one_batch(items: Iterable[T]) -> AsyncIterator[list[T]]:
    yield list(items)


# The store moves the revision on itself (record), never from these batched updates.
_ARTICLE_FIELDS = tuple(f.name for f in fields(Article) if f.name not in ("id", "revision"))
_FORGET_FETCH: dict[str, Any] = dict.fromkeys(
    ("body_hash", "etag", "last_modified", "suspect_hash", "suspect_since")
)


def _changed_fields(stored: Article | None, now: Article) -> tuple[str, ...]:
    """The fields of ``now`` that differ from ``stored`` (all of them if it is unknown)."""
    if stored is None:
        return _ARTICLE_FIELDS
    return tuple(n for n in _ARTICLE_FIELDS if getattr(stored, n) != getattr(now, n))


def _unique_entries(entries: Sequence[FeedEntry]) -> list[FeedEntry]:
    """Entries with a link, each link once (feeds repeat items more often than you'd think)."""
    seen: set[str] = set()
    unique = []
    for entry in entries:
        if not entry.link or not entry.link.startswith(("http://", "https://")):
            continue
        key = normalize_url(entry.link)
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    return unique


def _version_from_entry(article: Article, entry: FeedEntry, now: datetime) -> Version:
    return Version(
        article_id=article.id,
        number=0,
        content_hash="",
        text=entry.summary,
        fetched_at=now,
        url=entry.link or article.current_url,
        source=TextSource.FEED,
        title=entry.title or None,
        byline=entry.author,
        published=entry.published,
        modified=entry.updated,
    )


def _source_note(source: TextSource, latest: Version | None) -> str | None:
    """Say where a version's text came from when it is not the plain page-to-page case."""
    if source == TextSource.FEED:
        return "text from the feed entry (page unavailable)"
    if latest is not None and latest.source == TextSource.FEED:
        return "first capture of the page; the earlier version came from the feed entry"
    return None


async def check_once(
    settings: Settings,
    store: Store,
    now: datetime,
    feeds: Sequence[str] | None = None,
    force: bool = False,
    progress: Progress | None = None,
    extractor: Extractor | None = None,
) -> CheckReport:
    """One pass with a fresh shared HTTP client: what ``newsmonitor check`` runs."""
    from monitor.extract import TrafilaturaExtractor

    seeds = load_seeds(settings.seeds.dir, settings.ignore)
    async with Fetcher(settings.fetch) as fetcher:
        monitor = Monitor(settings, store, fetcher, extractor or TrafilaturaExtractor(), seeds)
        try:
            return await monitor.check(now, feeds=feeds, force=force, progress=progress)
        finally:
            await monitor.close()


def seed_feed(seed: Seed) -> str:
    """The feed name under which a directly watched seed page is tracked."""
    return SEED_FEED_PREFIX + seed.id


def _feed_title_changed(entry: FeedEntry, known: str | None) -> bool:
    return (normalize_text(entry.title or "") or None) != known


def _suspect_reason(latest: Version | None, new: Version) -> str | None:
    """Why a fetched version looks like something other than an edit of the article."""
    words = len(_WORD.findall(new.text))
    if words < SHORT_PAGE_WORDS and _NOT_THE_ARTICLE.search(f"{new.title or ''}\n{new.text}"):
        return "it looks like a block, challenge, paywall or error page"
    if latest is not None:
        before = len(_WORD.findall(latest.text))
        if before >= COLLAPSE_MIN_WORDS and words < COLLAPSE_RATIO * before:
            return f"the text collapsed from {before} to {words} words"
    return None


CHECK_LOCK = "check"
CHECK_LEASE = timedelta(minutes=15)


@contextmanager
def exclusive_check(store: Store, wait: float, poll: float = 0.5) -> Iterator[None]:
    """Hold the store's `check` lease: a second `check` waits up to ``wait`` seconds, then
    gives up with RunLockedError. A holder that died on this host is taken over at once."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    deadline = time.monotonic() + wait
    while True:
        now = datetime.now(UTC)
        holder = store.acquire_lock(CHECK_LOCK, owner, now, now + CHECK_LEASE)
        if holder is None:
            break
        if _dead_on_this_host(holder):
            store.release_lock(CHECK_LOCK, holder)
            continue
        if time.monotonic() >= deadline:
            host, _, rest = holder.partition(":")
            pid = rest.partition(":")[0]
            raise RunLockedError(
                f"another check is running (process {pid} on {host}); this one was skipped"
            )
        time.sleep(poll)
    try:
        yield
    finally:
        try:
            store.release_lock(CHECK_LOCK, owner)
        except StoreError as exc:  # it runs out by itself; a dead holder is taken over
            log.warning("the run lease could not be released: %s", exc)


def _dead_on_this_host(holder: str) -> bool:
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _provisional(feed: str, url: str, link: str, title: str | None, now: datetime) -> Article:
    """An article not stored yet (id 0): it is inserted when its first fetch is recorded."""
    return Article(
        id=0,
        feed=feed,
        url=url,
        current_url=link,
        first_seen=now,
        last_in_feed=now,
        title=title or None,
        next_check=now,
    )
