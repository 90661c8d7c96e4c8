"""Everything a check writes: news at once in one transaction, "nothing new" in batches.

An article's new version, its changes and their alerts are recorded together (``commit``);
an article row whose only news is "checked, nothing new" (a 304, the same bytes, an entry
still in its feed) waits for the next batch, and feed states follow their articles, so a
feed's validators are never saved ahead of the entries they vouch for. A write the store
refuses is reported in the pass's ledger and redone by the next run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import datetime
from functools import partial

from monitor.alerts.routing import outbox_rows
from monitor.config import Settings
from monitor.errors import ConflictError, ReadOnlyStoreError, StoreBusyError, StoreError
from monitor.ledger import Ledger
from monitor.models import (
    Article,
    Change,
    DiffDocument,
    FeedState,
    RawBody,
    Recording,
    Revisit,
    SeedLink,
    Version,
)
from monitor.store import AlertFactory, CheckStore
from monitor.store.runner import StoreRunner

UPDATE_BATCH = 500  # pending article updates written in one transaction
# News (new versions, their changes and alerts) of up to this many articles is written in
# one transaction: SQLite's search index and its commit cost several times as much in a
# transaction of their own as in a shared one (issue 16). News waits this long for company:
# a check's next pages are on their way, and an alert 50 ms later is still at once. On
# PostgreSQL, only new articles' news waits: it locks rows, and a known article's row held
# by another node must not hold up the news of the others (issue 17).
RECORD_BATCH = 8
RECORD_WAIT_S = 0.05
# The store moves the revision on itself (record), never from these batched updates.
ARTICLE_FIELDS = tuple(f.name for f in fields(Article) if f.name not in ("id", "revision"))
log = logging.getLogger(__name__)


class Writer:
    """The check's one way to the store's write side, shared by its feeds and articles."""

    def __init__(
        self,
        settings: Settings,
        store: CheckStore,
        db: StoreRunner,
        crowded: Callable[[], bool] = lambda: False,
    ) -> None:
        self.settings = settings
        self.store = store
        self.db = db
        # Whether requests to several hosts wait on the network: a batch is then written
        # in a thread, not in the loop that is to answer them (StoreRunner.batch).
        self.crowded = crowded
        # Set when the store refused a write because it cannot be written at all: the
        # daemon stops instead of fetching the same pages forever.
        self.read_only: ReadOnlyStoreError | None = None
        # Articles being checked by any pass: the daemon's feed and article jobs overlap,
        # and one article must not be checked twice at once. Each with the article as the
        # store holds it (None: not known), so that only what changed is written.
        self.in_flight: dict[int, Article | None] = {}
        # Losing these in a crash costs only a repeated check.
        self._pending: dict[int, tuple[Article | None, Article]] = {}  # id: (stored, now)
        self._pending_feeds: dict[str, FeedState] = {}  # likewise, after the articles
        # Articles whose entry was still in its feed and brought nothing else: only their
        # last_in_feed is written, by id, in one statement per pass.
        self._in_feed: dict[datetime, set[int]] = {}
        # 304 re-checks (issue 19), one run per article and version, kept compactly by the
        # store; losing them in a crash loses only that evidence of "still the same".
        self._revisits: dict[tuple[int, int], Revisit] = {}
        # News waiting to be written together: each article's check waits for its own.
        self._records: list[_Waiting] = []
        self._records_due: asyncio.TimerHandle | None = None
        self._writing: set[asyncio.Task[None]] = set()

    def claim(self, article: Article, run: Ledger) -> Article | None:
        """``article`` as last seen, marked as being checked; None when this pass checked
        it already or another job is checking it right now."""
        if article.id in run.checked or article.id in self.in_flight:
            return None
        run.checked.add(article.id)
        pending = self._pending.get(article.id)
        self.in_flight[article.id] = pending[0] if pending else article
        return self.fresh(article)

    def release(self, article_id: int) -> None:
        self.in_flight.pop(article_id, None)

    def fresh(self, article: Article) -> Article:
        """``article`` as this monitor last saw it, pending updates included."""
        pending = self._pending.get(article.id)
        return pending[1] if pending else article

    async def defer(self, run: Ledger, article: Article, stored: Article | None) -> None:
        """Write ``article`` with the next batch; ``stored``: the row as the store has it
        (None: not known, so every column is written)."""
        earlier = self._pending.get(article.id)
        self._pending[article.id] = (earlier[0] if earlier else stored, article)
        if len(self._pending) >= UPDATE_BATCH:
            await self.flush(run)

    def settled(self, article_id: int) -> bool:
        """Whether the store's row of this article is all this writer knows of it: no
        update of it is pending, and no job is checking it."""
        return article_id not in self._pending and article_id not in self.in_flight

    async def mark_in_feed(self, run: Ledger, ids: list[int], when: datetime) -> None:
        """Write, with the next batch, that these articles were still in their feed at
        ``when`` (and nothing else of them)."""
        if not ids:
            return
        marked = self._in_feed.setdefault(when, set())
        marked.update(ids)
        if len(self._pending) + len(marked) >= UPDATE_BATCH:
            await self.flush(run)

    def revisit(self, seen: Revisit) -> None:
        """Keep a 304 re-check, written with the next batch."""
        key = (seen.article_id, seen.version)
        earlier = self._revisits.get(key)
        self._revisits[key] = seen if earlier is None else earlier.then(seen)

    def save_feed(self, state: FeedState) -> None:
        self._pending_feeds[state.name] = state

    async def flush(self, run: Ledger) -> None:
        """Write the article updates batched so far, then the feed states; a write the
        store refuses is reported in ``run`` (that work is done again next time)."""
        await self._write_records()
        pending, self._pending = self._pending, {}
        states, self._pending_feeds = list(self._pending_feeds.values()), {}
        revisits, self._revisits = list(self._revisits.values()), {}
        in_feed, self._in_feed = self._in_feed, {}
        # Grouped by the columns that changed: a 304 changes three of twenty-odd, and
        # writing only those is most of the saving.
        groups: dict[tuple[str, ...], list[Article]] = {}
        for stored, now in pending.values():
            names = changed_fields(stored, now)
            if names:
                groups.setdefault(names, []).append(now)
        for names, batch in groups.items():
            await self._update(run, batch, names)
        for when, ids in in_feed.items():
            await self._mark_in_feed(run, sorted(ids), when)
        if revisits:
            try:
                await self.db.batch(True, self.crowded(), self.store.record_revisits, revisits)
            except StoreError as exc:
                self.failed(run, f"{len(revisits)} re-checks answered 304 not saved: {exc}", exc)
        if states:
            # After the articles: a feed's validators must never be saved ahead of the
            # entries they vouch for, or a crash would leave those entries behind a 304.
            try:
                await self.db.write(self.store.save_feeds, states)
            except StoreError as exc:
                listed = ", ".join(state.name for state in states[:5])
                more = f" and {len(states) - 5} more" if len(states) > 5 else ""
                self.failed(
                    run, f"state of feeds {listed}{more} not saved (fetched again): {exc}", exc
                )

    async def _update(self, run: Ledger, batch: list[Article], names: tuple[str, ...]) -> None:
        # Only "checked, nothing new" is lost: these articles are checked again.
        update = partial(self.store.update_articles, batch, names)
        await self._rows(run, update, len(batch), "article updates", "; they are checked again")

    async def _mark_in_feed(self, run: Ledger, ids: list[int], when: datetime) -> None:
        # Only when they were last seen in their feed is lost, until the next pass.
        mark = partial(self.store.mark_in_feed, ids, when)
        await self._rows(run, mark, len(ids), "marks of articles still in their feed")

    async def _rows(
        self, run: Ledger, write: Callable[[], list[int]], count: int, what: str, then: str = ""
    ) -> None:
        """``write`` of ``count`` article rows as a batch: refused, reported in ``run``;
        rows another process holds (the ids it returns), logged as skipped (``then``: what
        becomes of them)."""
        try:
            held = await self.db.batch(True, self.crowded(), write)
        except StoreError as exc:
            self.failed(run, f"{count} {what} not saved: {exc}", exc)
            return
        if held:
            log.info(
                "%d %s skipped: another process holds those rows (%s)%s",
                len(held),
                what,
                ", ".join(map(str, held[:10])),
                then,
            )

    def failed(self, run: Ledger, message: str, exc: StoreError) -> None:
        """A write the store refused: logged (no traceback: it is not a bug) and reported."""
        log.warning("%s", message)
        run.store_errors.append(message)
        if isinstance(exc, ReadOnlyStoreError):
            self.read_only = exc

    async def commit(
        self,
        article: Article,
        run: Ledger,
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
            if await self._known_elsewhere(article, run.now):
                return
            if nothing_new:  # never captured (gone at once, say): the row alone
                inserted = await self.db.write(self.store.add_article, article)
                run.checked.add(inserted.id)
                return
        elif nothing_new:
            await self.defer(run, article, self.in_flight.get(article.id))
            return
        self._pending.pop(article.id, None)  # superseded by the full write below
        factory = None
        if self.settings.alerts:
            factory = partial(outbox_rows, self.settings, documents=documents or {}, now=run.now)
        recording = Recording(article, changes, version, raw, link)
        wait = article.id == 0 or self.db.in_place
        saved = await self._record(recording, factory, wait)
        if article.id == 0 and saved:
            run.checked.add(saved[0].article_id)
        run.changes.extend(saved)

    async def _record(
        self, recording: Recording, alerts: AlertFactory | None, wait: bool
    ) -> list[Change]:
        """``store.record`` of ``recording``, with the news of other articles waiting, and
        (``wait``) of those that come within ``RECORD_WAIT_S``: its saved changes, or its
        ConflictError or the batch's StoreError raised."""
        loop = asyncio.get_running_loop()
        saved: asyncio.Future[list[Change]] = loop.create_future()
        self._records.append((recording, alerts, saved))
        if not wait or len(self._records) >= RECORD_BATCH:
            self._records_waited()
        elif self._records_due is None:
            self._records_due = loop.call_later(RECORD_WAIT_S, self._records_waited)
        return await saved

    def _records_waited(self) -> None:
        """Write the news waiting now, in a task of its own: a waiter cancelled (its check
        given up) must not cancel the write of the others'. News that comes before the task
        runs goes with it."""
        task = asyncio.ensure_future(self._write_records())
        self._writing.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(self._writing.discard)

    async def _write_records(self) -> None:
        """Write the news waiting, in one transaction; each waiter gets its own outcome."""
        if self._records_due is not None:
            self._records_due.cancel()
            self._records_due = None
        waiting, self._records = self._records, []
        if waiting:
            await self._write_batch(waiting)

    async def _write_batch(self, waiting: list[_Waiting]) -> None:
        try:
            batch = [(recording, alerts) for recording, alerts, _ in waiting]
            outcomes: list[list[Change] | ConflictError] = await self.db.write(
                self.store.record_batch, batch
            )
        except asyncio.CancelledError:  # the loop is closing: so are the checks waiting
            for _, _, saved in waiting:
                saved.cancel()
            raise
        except (StoreBusyError, ReadOnlyStoreError) as exc:
            _fail(waiting, exc)  # each alone would fail the same way (after as long a wait)
            return
        except StoreError as exc:
            if len(waiting) == 1:
                _fail(waiting, exc)
                return
            # One article's write (a page too big for the disk left, a dropped connection)
            # must not fail the others': each alone, so that only its own fails.
            for one in waiting:
                await self._write_batch([one])
            return
        except Exception as exc:  # a bug: reported for each, as any article's would be
            _fail(waiting, exc)
            return
        for (_, _, saved), outcome in zip(waiting, outcomes, strict=True):
            if saved.done():
                continue  # its check was cancelled; what it brought is stored all the same
            if isinstance(outcome, ConflictError):
                saved.set_exception(outcome)
            else:
                saved.set_result(outcome)

    async def _known_elsewhere(self, article: Article, now: datetime) -> bool:
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
            await self.db.write(self.store.add_alias, known.id, article.url, now)
            log.info("%s is article %d (same canonical URL)", article.url, known.id)
        else:
            log.info("%s was captured by another run meanwhile", article.url)
        return True


_Waiting = tuple[Recording, AlertFactory | None, "asyncio.Future[list[Change]]"]


def _fail(waiting: list[_Waiting], exc: Exception) -> None:
    for _, _, saved in waiting:
        if not saved.done():
            saved.set_exception(exc)


def changed_fields(stored: Article | None, now: Article) -> tuple[str, ...]:
    """The fields of ``now`` that differ from ``stored`` (all of them if it is unknown)."""
    if stored is None:
        return ARTICLE_FIELDS
    # Asked for every article of a round: the instances' dicts, not getattr per field.
    before, after = vars(stored), vars(now)
    return tuple(n for n in ARTICLE_FIELDS if before[n] != after[n])
