"""Check feeds and tracked articles end to end: fetch -> parse -> capture -> store.

Orchestration only: which feeds and articles a pass looks at, and how many at once. One
article is checked by ``capture``, whose judgement is the pure ``decide``; writes go
through ``writes``. No scheduling lives here: the caller (``check`` from cron, the daemon)
decides when, and passes ``now``. Every failure is recorded against its feed or article and
the run goes on; feed state is saved only after its entries are processed, and a feed's
validators only when every entry of that fetch was stored, so a crash or a failed write
mid-run is completed by the next run. Several processes may share the store: an article
recorded by another process since it was read is a lost race, skipped without a trace.

Several daemons (nodes) split the work through claims (issue 17): given a ``Claimant``, a
feed is checked only under a claim that finds it still due, and due articles are worked
host by host, each host under a leased claim (so one host's articles go to one node at a
time), in rounds until this pass has no more claimable hosts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from monitor.capture import Capture, Means
from monitor.config import FeedConfig, Settings
from monitor.decide import SEED_FEED_PREFIX, UNFETCHED, provisional
from monitor.errors import (
    ReadOnlyStoreError,
    StoreError,
)
from monitor.fetch import Fetcher, host_key
from monitor.harvest import Harvest
from monitor.hostclaims import HostClaims
from monitor.ledger import Ledger
from monitor.linking import SeedLinker
from monitor.models import (
    Article,
    CheckReport,
    FeedReport,
    FeedStatus,
    HostClaim,
    Seed,
)
from monitor.schedule import DUE_SLACK
from monitor.seeds import load_seeds
from monitor.store import CheckStore
from monitor.store.runner import StoreRunner
from monitor.tasks import for_each, interleave, one_batch
from monitor.workers import (
    START_AFTER,
    DefaultExtractor,
    WorkerPool,
    default_workers,
    fork_workers,
)
from monitor.writes import Writer

if TYPE_CHECKING:  # the extractor (lxml and all) is loaded only when a page is extracted
    from concurrent.futures import ProcessPoolExecutor

    from monitor.extract import Extractor

DUE_PAGE = 500  # due articles read from the store at a time
# Articles of one host under way at once, per extraction worker, beyond those fetching. With
# one, edits waiting for a worker held the places the host's next requests needed; with 8,
# a busy round on one host keeps the workers' queue full (edited replays: -3 to -6% against
# 4, which was -4% against 1; bench/RESULTS.md, issue 16).
PAGES_PER_WORKER = 8
# A claimed round's work on a host (issue 17): this many round trips at its per-host limit
# (about a second or two on the internet), so that no node is left with a long last round.
ROUND_TRIPS = 16
T = TypeVar("T")
# What was fetched for a version the store lost is forgotten: the page is fetched in full.
_FORGET_FETCH: dict[str, Any] = {**UNFETCHED, "suspect_hash": None, "suspect_since": None}


class Progress(Protocol):
    """What a pass tells as it goes: the steps it has found so far, and each one done."""

    def planned(self, steps: int) -> None: ...
    def done(self, label: str) -> None: ...


class _Silent:
    def planned(self, steps: int) -> None:
        pass

    def done(self, label: str) -> None:
        pass


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimant:
    """Who this node is when it claims work, where it reads the time for its leases, and
    how long they last (the daemon's heartbeat renews them while the work goes on)."""

    owner: str
    clock: Callable[[], datetime]
    lease: timedelta


class Monitor:
    """Runs checks against a store with one shared fetcher and an extractor."""

    def __init__(
        self,
        settings: Settings,
        store: CheckStore,
        fetcher: Fetcher,
        extractor: Extractor,
        seeds: Sequence[Seed] = (),
        runner: StoreRunner | None = None,
        claimant: Claimant | None = None,
        idle_workers: ProcessPoolExecutor | None = None,
    ) -> None:
        self.settings = settings
        self.claimant = claimant
        self.nodes = 1  # nodes alive, as the daemon's last heartbeat counted them
        self.store = store
        self.fetcher = fetcher
        self._own_runner = runner is None
        self.db = runner or StoreRunner(store)
        self._repaired = False  # incomplete articles looked for (once per process)
        workers = settings.extract.workers or default_workers()
        self.pool = WorkerPool(extractor, workers, idle=idle_workers)
        self.writer = Writer(settings, store, self.db, self._crowded)
        self.linker = SeedLinker(settings, store, self.db, seeds)
        means = Means(store, self.db, fetcher, self.pool, self.writer)
        self.capture = Capture(settings, means, self.linker)
        self.harvest = Harvest(means, self.capture)
        if claimant is not None:
            # A feed's new articles are fetched under their host's claim too.
            self.capture.host_claims = HostClaims(
                store, self.db, claimant.owner, claimant.clock, claimant.lease
            )

    @property
    def seeds(self) -> Mapping[str, Seed]:
        return self.linker.seeds

    def _crowded(self) -> bool:
        """Whether requests to several hosts are waiting on the network: more in flight
        than one host may have. A batch of the store's then goes to a thread (issue 16)."""
        return self.fetcher.in_flight > self.settings.fetch.per_host_concurrency

    @property
    def read_only(self) -> ReadOnlyStoreError | None:
        """Set when the store refused a write because it cannot be written at all."""
        return self.writer.read_only

    def reload(self, settings: Settings) -> None:
        """Check with ``settings`` from the next pass on (the daemon's config reload)."""
        self.settings = settings
        self.writer.settings = settings
        self.linker.settings = settings
        self.capture.reload(settings)

    def use_seeds(self, seeds: Sequence[Seed]) -> None:
        """Match new versions against ``seeds`` from now on."""
        self.linker.use(seeds)

    async def close(self) -> None:
        """Write what is pending; stop the extraction workers, if any were started."""
        await self.writer.flush(Ledger(datetime.now(UTC)))
        self.pool.close()
        if self._own_runner:
            self.db.close()

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
        """The daemon's job for one feed: check it if due (so backoff holds), no re-checks.
        With a claimant, only under a claim that finds it still due: the first node whose
        job fires checks it, the others skip it."""
        claimant = self.claimant
        if claimant is None:
            return await self._pass(now, [name], force=False, progress=None, articles=False)
        feed = self.settings.feed(name)
        due_by = now + min(DUE_SLACK, feed.interval / 10)  # as schedule.is_due allows
        at = claimant.clock()
        claimed = await self.db.write(
            self.store.claim_feed, name, claimant.owner, at, at + claimant.lease, due_by
        )
        if not claimed:
            return Ledger(now).report([FeedReport(name, FeedStatus.SKIPPED)])
        try:
            return await self._pass(now, [name], force=False, progress=None, articles=False)
        finally:  # after the pass has written the feed's state: the next claim sees it
            # Resting for half an interval: this pass's `now` was taken before any wait
            # for slots or the host's claim, so the next-due time it wrote may come early.
            await self._release("feed", [name], claimant.clock() + feed.interval / 2)

    async def _release(
        self, kind: str, names: Sequence[str], rest_until: datetime | None = None
    ) -> None:
        assert self.claimant is not None
        owner = self.claimant.owner
        try:
            await self.db.write(self.store.release_claims, owner, kind, names, rest_until)
        except StoreError as exc:  # the lease runs out by itself
            log.warning("releasing claims on %s failed: %s", ", ".join(names), exc)

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
        run = Ledger(now)
        selected = (
            list(self.settings.feeds) if feeds is None else [self.settings.feed(n) for n in feeds]
        )
        notify = progress or _Silent()
        notify.planned(len(selected))
        self.pool.expect(len(selected))
        try:
            reports = await self._check_feeds(run, selected, force, notify)
            if articles:
                await self._complete_incomplete(run)
                await self._check_articles(run, selected, not feeds, force, notify)
        finally:
            await self.writer.flush(run)
        return run.report(reports)

    async def _check_feeds(
        self, run: Ledger, selected: list[FeedConfig], force: bool, notify: Progress
    ) -> list[FeedReport]:
        if len(selected) > 1:
            states = await self.db.read(self.store.list_feeds)
            run.feed_states = {state.name: state for state in states}
        reports: list[FeedReport | None] = [None] * len(selected)

        async def one_feed(numbered: tuple[int, FeedConfig]) -> None:
            index, feed = numbered
            try:
                reports[index] = await self.harvest.check(feed, run, force=force)
            except StoreError as exc:  # not a bug: logged without a traceback
                self.writer.failed(run, f"feed {feed.name}: {exc}", exc)
                reports[index] = FeedReport(
                    feed.name, FeedStatus.ERROR, error=f"{feed.name}: {exc}"
                )
            except Exception as exc:  # one feed's failure must not end the run
                log.exception("checking feed %s failed", feed.name)
                reports[index] = FeedReport(
                    feed.name, FeedStatus.ERROR, error=f"{feed.name}: {exc}"
                )
            notify.done(f"feed {feed.name}")

        # Bounded, like the articles: a thousand feeds started at once would hold a thousand
        # parsed feeds and their entries waiting for article slots.
        await self._for_each_by_host(
            one_batch(enumerate(selected)), one_feed, lambda numbered: numbered[1].url
        )
        return [report for report in reports if report is not None]

    async def _check_articles(
        self,
        run: Ledger,
        selected: list[FeedConfig],
        everywhere: bool,
        force: bool,
        notify: Progress,
    ) -> None:
        """Watched seed pages (on a pass over every feed), then the due articles of the
        feeds looked at (``force``: every article still tracked)."""
        watched = [s for s in self.linker.seeds.values() if s.url and not s.feeds]
        watched = watched if everywhere else []
        await asyncio.gather(*(self._watch_seed(seed, run) for seed in watched))
        names = self.settings.feeds if everywhere else selected
        only_feeds = {f.name for f in names} | {seed_feed(s) for s in watched}
        await self._check_due_articles(run, notify, only_feeds, everything=force)

    async def _complete_incomplete(self, run: Ledger) -> None:
        """Articles that count a version the store does not hold (a crash between the two
        writes, in releases that made them separately) are fetched again now: once per
        process, since an article and its versions are now written together."""
        if self._repaired:
            return
        self._repaired = True
        try:
            repaired = []
            for article in await self.db.read(self.store.incomplete_articles):
                latest = await self.db.read(self.store.latest_version, article.id)
                stored = latest.number if latest else 0
                run.warnings.append(
                    f"{article.current_url}: counted {article.versions} versions but "
                    f"{stored} are stored (an interrupted write); checking it again"
                )
                repaired.append(
                    replace(article, versions=stored, next_check=run.now, **_FORGET_FETCH)
                )
            if repaired:
                names = ("versions", "next_check", *_FORGET_FETCH)
                await self.db.write(self.store.update_articles, repaired, names)
        except StoreError as exc:
            self._repaired = False  # try again on the next pass
            self.writer.failed(run, f"looking for incomplete articles failed: {exc}", exc)

    async def _watch_seed(self, seed: Seed, run: Ledger) -> None:
        """Start tracking the page of a seed that names a URL and no feed."""
        assert seed.url is not None
        try:
            if await self.db.read(self.store.find_article, [seed.url]) is not None:
                return  # tracked already: re-checked on its schedule
        except StoreError as exc:
            self.writer.failed(run, f"seed {seed.id}: {exc}", exc)
            return
        page = provisional(seed_feed(seed), seed.url, seed.url, seed.title, run.now)
        await self.capture.check(page, run, None)

    async def _check_due_articles(
        self, run: Ledger, notify: Progress, only_feeds: set[str], everything: bool = False
    ) -> None:
        limit = self.settings.tracking.max_articles_per_run or None
        # ``everything``: every article still tracked, however far off its next check.
        until = run.now + timedelta(days=36500) if everything else run.now
        if self.claimant is not None and not everything:
            await self._check_claimed_articles(run, notify, only_feeds, until, limit)
            return
        try:
            ids = await self.db.read(self.store.due_article_ids, until, limit=limit)
        except StoreError as exc:
            self.writer.failed(run, f"reading the due articles failed: {exc}", exc)
            return
        await self._check_articles_of(run, notify, only_feeds, ids)

    async def _check_claimed_articles(
        self,
        run: Ledger,
        notify: Progress,
        only_feeds: set[str],
        until: datetime,
        limit: int | None,
    ) -> None:
        """Due articles in rounds (issue 17): claim hosts with due articles (this node's
        share of them), check a round's worth of each one's (``ROUND_TRIPS`` round trips
        at its per-host limit), write, release the hosts; until no host is left to claim.
        Short rounds share a big host's work among the nodes and make their last rounds
        end together. A host is done for the pass once a round finds fewer due articles
        than it could take, or none not already checked in this pass (a write that
        failed: the next pass retries it), so a pass ends."""
        claimant = self.claimant
        assert claimant is not None
        fetch = self.settings.fetch
        most = max(1, fetch.concurrency // fetch.per_host_concurrency)
        per_round = fetch.per_host_concurrency * ROUND_TRIPS
        worked: set[str] = set()
        left = limit
        while left is None or left > 0:
            at = claimant.clock()
            claim = HostClaim(
                claimant.owner, at, at + claimant.lease, self.nodes, most, frozenset(worked)
            )
            try:
                hosts = await self.db.write(self.store.claim_hosts, claim)
                if not hosts:
                    return
            except StoreError as exc:
                self.writer.failed(run, f"claiming due articles failed: {exc}", exc)
                return
            host_claims = self.capture.host_claims
            assert host_claims is not None
            host_claims.adopt(hosts)
            try:
                due = await self.db.read(
                    self.store.due_on_hosts, until, hosts, only_feeds, per_round, left
                )
                fresh = [(i, feed, host) for i, feed, host in due if i not in run.checked]
                found = Counter(host for _, _, host in fresh)
                worked.update(host for host in hosts if found[host] < per_round)
                log.debug("claimed %s: %d due articles", ", ".join(hosts), len(fresh))
                if left is not None:
                    left -= len(fresh)
                ids = [(i, feed) for i, feed, _ in fresh]
                await self._check_articles_of(run, notify, only_feeds, ids)
                # Written before the hosts are released: the next node to claim them must
                # find these articles checked, not due.
                await self.writer.flush(run)
            except StoreError as exc:
                worked.update(hosts)
                self.writer.failed(run, f"reading the due articles failed: {exc}", exc)
            finally:
                await host_claims.release(hosts)

    async def _check_articles_of(
        self, run: Ledger, notify: Progress, only_feeds: set[str], ids: list[tuple[int, str]]
    ) -> None:
        """Check the due articles ``ids`` ((id, feed), of ``only_feeds``)."""
        # Mixed feed by feed, so that every page of due articles spans many hosts.
        due = [
            i
            for i, _ in interleave(
                ((i, feed) for i, feed in ids if i not in run.checked and feed in only_feeds),
                lambda pair: pair[1],
            )
        ]
        notify.planned(len(due))
        self.pool.expect(len(due))

        async def one(article: Article) -> None:
            if self.capture.from_feed(article):
                # Feed-only articles change only through the feed; stop re-checking them.
                fresh = self.writer.fresh(article)
                await self.writer.defer(run, replace(fresh, next_check=None), article)
            else:
                await self.capture.check(article, run, None)
            notify.done(f"article {article.id}")

        async def articles() -> AsyncIterator[list[Article]]:
            # Read a page at a time as the work proceeds: memory stays flat however many
            # articles are due.
            for start in range(0, len(due), DUE_PAGE):
                try:
                    page = due[start : start + DUE_PAGE]
                    yield await self.db.batch(False, self._crowded(), self.store.get_articles, page)
                except StoreError as exc:
                    self.writer.failed(run, f"reading due articles failed: {exc}", exc)
                    return

        await self._for_each_by_host(articles(), one, lambda article: article.current_url)

    async def _for_each_by_host(
        self,
        batches: AsyncIterable[Sequence[T]],
        fn: Callable[[T], Awaitable[None]],
        url: Callable[[T], str],
    ) -> None:
        """``fn`` over feeds or articles, host by host round-robin (issue 16): twice as many
        at once as there are fetch slots, so that each slot's next request is ready while
        the last one's page is parsed or stored, and per host ``PAGES_PER_WORKER`` more
        for each extraction worker, so that one host alone keeps them busy while its next
        requests go on (but never half the run's when that is fewer). The Fetcher's slots,
        which feeds and articles share, keep the requests themselves in bounds."""
        fetch = self.settings.fetch
        limit = 2 * fetch.concurrency
        per_host = 2 * fetch.per_host_concurrency
        busy = min(per_host + PAGES_PER_WORKER * max(1, self.pool.workers), limit // 2)
        await for_each(
            batches, fn, limit, key=lambda item: host_key(url(item)), per_key=max(per_host, busy)
        )


def seed_feed(seed: Seed) -> str:
    """The feed name under which a directly watched seed page is tracked."""
    return SEED_FEED_PREFIX + seed.id


def fork_idle_workers(settings: Settings, feeds: Sequence[str] = ()) -> ProcessPoolExecutor | None:
    """Worker processes for a `check` that will most likely need them (more feeds than
    start a pool: ``feeds`` when named, else all), forked before it opens the store or
    starts a thread (``fork_workers``); None otherwise. The caller shuts them down if
    ``check_once`` never gets them."""
    if len(feeds or settings.feeds) <= START_AFTER:
        return None
    return fork_workers(settings.extract.workers or default_workers())


async def check_once(
    settings: Settings,
    store: CheckStore,
    now: datetime,
    feeds: Sequence[str] | None = None,
    force: bool = False,
    progress: Progress | None = None,
    extractor: Extractor | None = None,
    idle_workers: ProcessPoolExecutor | None = None,
) -> CheckReport:
    """One pass with a fresh shared HTTP client: what ``newsmonitor check`` runs;
    ``idle_workers``: from ``fork_idle_workers``, shut down with the pass."""
    seeds = load_seeds(settings.seeds.dir, settings.ignore)
    async with Fetcher(settings.fetch) as fetcher:
        extractor = extractor or DefaultExtractor()
        monitor = Monitor(settings, store, fetcher, extractor, seeds, idle_workers=idle_workers)
        try:
            return await monitor.check(now, feeds=feeds, force=force, progress=progress)
        finally:
            await monitor.close()
