"""The store seam: one small Protocol per consumer, and the helpers every store shares.

Each method is declared once, in the Protocol of the consumer that needs it; consumers that
need the same reads share a Protocol (``ArchiveStore``, ``AlertLog``), and ``Store`` is
all of them together. One implementation serves SQLite and PostgreSQL: ``SQLStore`` in
``sql.py``, opened with ``sql.open_store``; the contract tests in ``tests/store/`` run on
both. This module imports no database code, so that a consumer's import of a Protocol
loads none (modules here import this one, never the other way: issue 13).

    RunnerStore   StoreRunner: where calls run, writes that fail rather than wait
    LeaseStore    the run lease (``check``) and the daemon's write probe
    NodeList      the nodes table as read (``status``, a node's metrics)
    ClaimStore    several nodes (issue 17): leased claims on due work, heartbeats, NodeList
    AlertLog      the outbox as read by the relay and the CLI
    OutboxStore   the relay (alerts/outbox.py): AlertLog, claims, leases and outcomes
    ArchiveStore  what was seen: feeds, articles, versions, changes, seed links
    CheckStore    the check pipeline: ArchiveStore, what it writes, ClaimStore
    ReportStore   the CLI's reading commands (status, feeds, articles, history, diff,
                  alerts, seeds): ArchiveStore, AlertLog, NodeList, counts
    SearchStore   phrase search over every version (``search``, the web's Search page)
    WebStore      the web pages, feeds and API (monitor/web/): ReportStore, SearchStore,
                  pages of changes, single versions and raw captures
    DaemonStore   the daemon: CheckStore, OutboxStore and LeaseStore
    EvidenceStore ``search`` and ``export``: ArchiveStore, SearchStore, batched reads
    Store         the whole store, as the CLI opens it
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

import zstandard

from monitor.errors import ConflictError, StoreBusyError
from monitor.models import (
    Alert,
    AlertAttempt,
    AlertClaim,
    AlertStatus,
    Article,
    Change,
    ChangeKind,
    FeedState,
    HostClaim,
    Listed,
    Node,
    PhraseHistory,
    RawBody,
    Recording,
    Revisit,
    SeedLink,
    Significance,
    Version,
)

# Raw bodies are zstd frames at zstd's default level: on real news pages as small as zlib's
# default level and six times faster (0.5 ms against 3.1 ms a 170 KB page, bench/RESULTS.md).
RAW_COMPRESSION_LEVEL = 3
# Stores written before that hold zlib streams; the first bytes tell the two apart.
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZLIB_FIRST_BYTE = 0x78  # deflate with a 32 KB window, the only kind zlib.compress writes

# Called inside record()'s transaction with the saved changes: the alerts to queue for them.
AlertFactory = Callable[[Sequence[Change]], Sequence[Alert]]


@dataclass(frozen=True)
class ChangeFilter:
    """Which changes a page of changes (or a feed of them) shows; empty fields match all.

    ``min_significance`` keeps only classified edits (changed, reverted) at or above it;
    ``since`` and ``until`` bound ``detected_at`` (``until`` excluded)."""

    feed: str | None = None
    seed_id: str | None = None
    article_id: int | None = None
    kind: ChangeKind | None = None
    min_significance: Significance | None = None
    tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None


# Where a page of changes (newest first) resumes: the last row's (detected_at, id).
ChangeCursor = tuple[datetime, int]


def pack_raw(content: bytes) -> bytes:
    """A raw body in the form every store keeps it: a zstd frame."""
    # A compressor per call: one is not safe to share between threads, and making it
    # costs a tenth of compressing a page.
    return zstandard.ZstdCompressor(level=RAW_COMPRESSION_LEVEL).compress(content)


def unpack_raw(packed: bytes) -> bytes:
    """The raw body ``pack_raw`` packed, or an older store's zlib stream; ValueError if it
    is neither or is corrupt."""
    try:
        if packed[:4] == ZSTD_MAGIC:
            # A decompressing object: it needs no size in the frame's header, and says
            # whether the frame was whole.
            inflater = zstandard.ZstdDecompressor().decompressobj()
            content = inflater.decompress(packed)
            if not inflater.eof:
                raise ValueError("the zstd frame is cut short")
            return content
        if packed[:1] == bytes([ZLIB_FIRST_BYTE]):
            return zlib.decompress(packed)
    except (zstandard.ZstdError, zlib.error) as exc:
        raise ValueError(str(exc)) from exc
    raise ValueError(f"neither a zstd frame nor a zlib stream (starts {packed[:4].hex()})")


class WouldWaitError(StoreBusyError):
    """A write under ``without_waiting`` found the store locked (and did nothing)."""


@runtime_checkable
class RunnerStore(Protocol):
    """What ``StoreRunner`` (store/runner.py) needs to know to place a store's calls."""

    @property
    def in_place(self) -> bool:
        """True when calls are work in this process (SQLite): reads never wait for a lock,
        and writes may be tried ``without_waiting`` (see store/runner.py)."""

    def without_waiting(self) -> AbstractContextManager[None]:
        """Writes in this block (in this thread) that would wait for a lock raise
        WouldWaitError at once, having written nothing."""


@runtime_checkable
class LeaseStore(Protocol):
    """Named leases: one holder at a time, until it releases or its lease runs out."""

    def acquire_lock(self, name: str, owner: str, now: datetime, until: datetime) -> str | None:
        """Take or extend lease ``name``; None when taken, else who holds it."""

    def release_lock(self, name: str, owner: str) -> None: ...


@runtime_checkable
class NodeList(Protocol):
    """The nodes table as read (issue 17): by ``status`` and by each node's metrics."""

    def list_nodes(self, now: datetime) -> list[Node]:
        """The daemons working the store, with the claims they hold at ``now``."""


@runtime_checkable
class ClaimStore(NodeList, Protocol):
    """Several nodes on one store (issue 17): due work claimed with a lease, host by host
    or feed by feed; nodes heartbeat, renewing their leases."""

    def claim_hosts(self, claim: HostClaim) -> list[str]:
        """Lease hosts with due articles to ``claim.owner`` (its share, most overdue
        first); the hosts claimed."""

    def due_on_hosts(
        self,
        now: datetime,
        hosts: Sequence[str],
        of_feeds: Collection[str],
        per_host: int,
        limit: int | None = None,
    ) -> list[tuple[int, str, str]]:
        """(id, feed, host) of the due articles of ``of_feeds`` on ``hosts``: each host's
        ``per_host`` most overdue, most overdue first, at most ``limit`` in all."""

    def claim_named_hosts(
        self, owner: str, names: Sequence[str], now: datetime, until: datetime
    ) -> list[str]:
        """Lease those of the hosts ``names`` no other live node holds; those leased."""

    def claim_feed(
        self, name: str, owner: str, now: datetime, until: datetime, due_by: datetime
    ) -> bool:
        """Lease feed ``name``'s check to ``owner`` if free and still due by ``due_by``."""

    def release_claims(
        self, owner: str, kind: str, names: Sequence[str], rest_until: datetime | None = None
    ) -> None:
        """Give up ``owner``'s claims on ``names``; none may claim them before ``rest_until``."""

    def heartbeat(self, node: Node, lease_until: datetime, alive_since: datetime) -> int:
        """Record ``node`` alive and renew its leases; how many nodes are alive."""

    def remove_node(self, node_id: str) -> None:
        """A clean shutdown: the node's row goes, its claims are free."""


@runtime_checkable
class AlertLog(Protocol):
    """The outbox's rows as read: by the relay (what is queued, which digest is due) and
    by the CLI (``status``, ``alerts``)."""

    def list_alerts(
        self, status: AlertStatus | None = None, limit: int | None = None
    ) -> list[Alert]: ...
    def count_alerts(self) -> dict[AlertStatus, int]: ...
    def oldest_queued_digest(self, channel: str) -> datetime | None: ...
    def oldest_queued_alert(self) -> datetime | None:
        """When the oldest alert still queued was queued (the daemon's /metrics)."""


@runtime_checkable
class OutboxStore(RunnerStore, AlertLog, Protocol):
    """What the alert relay needs: due alerts leased, leases renewed, outcomes recorded."""

    def claim_alerts(self, now: datetime, claim: AlertClaim) -> list[Alert]:
        """Lease due queued alerts (digest-held ones when ``claim.digest``) for
        ``claim.owner``."""

    def renew_alerts(self, ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        """Extend ``owner``'s leases on ``ids`` to ``until``; the ids it still holds."""

    def finish_alert(self, attempt: AlertAttempt) -> bool:
        """Record an attempt on a claimed alert; False when ``attempt.owner`` lost the
        lease."""


@runtime_checkable
class ArchiveStore(Protocol):
    """What was seen, as read by the pipeline, the CLI, diffs (compare.py), the demo and
    the relay's test alert."""

    def get_feed(self, name: str) -> FeedState | None: ...
    def get_article(self, article_id: int) -> Article | None: ...
    def find_article(self, urls: Sequence[str], guid: str | None = None) -> Article | None:
        """The article whose url, current_url or canonical_url is one of ``urls``; failing
        that, the one with one of ``urls`` as an alias; failing that, the one with feed
        GUID ``guid``."""

    def get_articles(self, ids: Sequence[int]) -> list[Article]:
        """The articles with these ids, in the order given; ids not found are left out."""

    def list_versions(self, article_id: int) -> list[Version]: ...
    def list_changes(
        self, article_id: int | None = None, since: datetime | None = None
    ) -> list[Change]: ...
    def get_seed_link(self, article_id: int) -> SeedLink | None: ...
    def list_seed_links(self, seed_id: str | None = None) -> list[SeedLink]: ...


@runtime_checkable
class CheckStore(RunnerStore, ArchiveStore, ClaimStore, Protocol):
    """What the check pipeline reads and writes (besides ArchiveStore's reads), and the
    claims a node takes on its work."""

    # feeds
    def list_feeds(self) -> list[FeedState]: ...
    def save_feeds(self, states: Sequence[FeedState]) -> None:
        """Insert or replace each feed's state (by name), in one transaction."""

    # articles
    def add_article(self, article: Article) -> Article:
        """Insert ``article`` (its ``id`` is ignored) and return it with the assigned id.

        Raises StoreError if an article with the same ``url`` exists."""

    def update_articles(self, batch: Sequence[Article], only: Sequence[str] = ()) -> list[int]:
        """Replace each stored article of ``batch``, in one transaction, writing only the
        fields named in ``only`` (default: all); an id that no longer exists is skipped.
        Rows another transaction holds are skipped, not waited for: their ids are returned
        (PostgreSQL; SQLite locks the whole file, so there the batch waits)."""

    def find_articles(self, urls: Sequence[str]) -> dict[str, Article]:
        """``find_article([url])`` for each of ``urls`` at once, by URL columns only (no
        aliases, no GUIDs); URLs with no match are left out."""

    def tracked_among(self, urls: Sequence[str], guids: Sequence[str] = ()) -> set[str]:
        """Those of ``urls`` and ``guids`` that ``find_article`` could match (as a url,
        current, canonical or alias URL; as a GUID): one query for a whole feed's entries."""

    def listed_articles(self, urls: Sequence[str]) -> dict[str, Listed]:
        """The articles whose ``url`` column is one of ``urls``, by it, as a feed pass needs
        them (``Listed``); URLs with no such article are left out."""

    def mark_in_feed(self, ids: Sequence[int], when: datetime) -> list[int]:
        """Set ``last_in_feed`` of the articles with these ids to ``when``, in one
        transaction. Rows another transaction holds are skipped, not waited for: their ids
        are returned (PostgreSQL, as ``update_articles``)."""

    def add_alias(self, article_id: int, url: str, now: datetime) -> None:
        """Remember ``url`` as another address of the article (idempotent)."""

    def due_article_ids(
        self, now: datetime, limit: int | None = None, hosts: Sequence[str] | None = None
    ) -> list[tuple[int, str]]:
        """(id, feed) of the articles whose next_check is at or before ``now``, most
        overdue first; with ``hosts``, only those on these hosts."""

    def incomplete_articles(self) -> list[Article]:
        """Articles that count more versions than are stored (left by older releases)."""

    # versions, changes and seed links
    def latest_version(self, article_id: int) -> Version | None: ...
    def find_version_by_hash(self, article_id: int, content_hash: str) -> Version | None:
        """The earliest version of the article with this content hash."""

    def record(self, recording: Recording, alerts: AlertFactory | None = None) -> list[Change]:
        """In one transaction, of ``recording``: update ``article`` (insert it when its id
        is 0), insert ``version`` (with ``raw``, kept compressed) if given, insert
        ``changes``, save the seed ``link`` if given; and queue the alerts that ``alerts``
        makes of the saved changes; return the saved changes.

        Only from the article's ``revision``, which it bumps: ConflictError when another
        process recorded the article (or inserted its URL) since it was read."""

    def record_batch(
        self, recordings: Sequence[tuple[Recording, AlertFactory | None]]
    ) -> list[list[Change] | ConflictError]:
        """``record`` of each, with its alert factory, in one transaction; a conflict fails
        only its own (its entry is the ConflictError), any other error all of them."""

    def remove_seed_link(self, article_id: int) -> None: ...

    # issue 19
    def record_revisits(self, seen: Sequence[Revisit]) -> None:
        """Add runs of 304 re-checks to the ones kept, in one transaction: one row per
        article and version, its count and last 304 moved on by each run."""


@runtime_checkable
class ReportStore(ArchiveStore, NodeList, AlertLog, Protocol):
    """What the CLI's reading commands need (they also work on a read-only store)."""

    def counts(self) -> dict[str, int]:
        """Rows held: {"articles": n, "versions": n, "changes": n}."""

    def list_articles(self, feed: str | None = None) -> list[Article]: ...
    def article_failures_by_feed(self) -> dict[str, int]:
        """{feed: articles whose last fetch failed}, for the feeds that have any."""


@runtime_checkable
class SearchStore(Protocol):
    """Phrase search over every version ever stored (issue 19), for `search` and the web."""

    def search_phrase(
        self,
        phrase: str,
        feed: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[PhraseHistory]:
        """The articles whose text contained ``phrase`` (case-insensitive, whole words) in
        any stored version, each with every version marked; of ``feed`` only, and with the
        phrase in a version captured at or after ``since``. Newest first (by the newest
        version with the phrase); ``limit``: at most that many, after the first ``offset``
        (ask for one more to learn whether more exist). ValueError: no words in it."""


class WebStore(ReportStore, SearchStore, Protocol):
    """What the web server reads (monitor/web/); like ReportStore, it never writes."""

    def page_changes(
        self, where: ChangeFilter, limit: int, after: ChangeCursor | None = None
    ) -> list[Change]:
        """Up to ``limit`` changes matching ``where``, newest first, starting after
        ``after`` (keyset pagination: a page costs the same however deep it is)."""

    def get_change(self, change_id: int) -> Change | None: ...
    def get_version(self, article_id: int, number: int) -> Version | None: ...
    def get_versions(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Version]:
        """The versions named by (article id, number), in one query; missing ones left out."""

    def get_raw_body(self, article_id: int, number: int) -> RawBody | None:
        """The response body a version was extracted from, decompressed; None if not kept."""

    def changes_by_day(self, since: datetime) -> dict[tuple[str, date], int]:
        """{(feed, UTC day): changes detected} since ``since``."""


@runtime_checkable
class DaemonStore(CheckStore, OutboxStore, LeaseStore, Protocol):
    """What the daemon needs: it checks, relays alerts, probes the store with a lease, and
    shares the work with other nodes through claims."""


@runtime_checkable
class EvidenceStore(ArchiveStore, SearchStore, Protocol):
    """What ``search`` and ``export`` read (issue 19): phrase search over every version,
    and the archive in batches (flat memory however large it is), raw captures too."""

    def iter_articles(self, batch: int = 1000) -> Iterator[Article]: ...
    def iter_versions(self, batch: int = 500) -> Iterator[Version]: ...
    def iter_changes(self, batch: int = 1000) -> Iterator[Change]: ...
    def iter_captures(
        self, feed: str | None = None, since: datetime | None = None, batch: int = 200
    ) -> Iterator[tuple[Version, RawBody]]:
        """Every version kept with its raw capture (of ``feed``; fetched at or after
        ``since``), by article and number."""

    def iter_revisits(
        self, feed: str | None = None, since: datetime | None = None, batch: int = 500
    ) -> Iterator[tuple[Revisit, Version]]:
        """Every run of 304s kept (of ``feed``; its last 304 at or after ``since``), by
        article and version, with the capture it confirms (text left empty); runs with
        no capture kept are left out."""


@runtime_checkable
class Store(DaemonStore, WebStore, EvidenceStore, Protocol):
    """The whole store, as the CLI opens it (``SQLStore`` has a few more methods, for
    tests and tools)."""

    def requeue_alerts(self, ids: Sequence[int] | None, now: datetime) -> int:
        """Queue the alerts ``ids`` (or every dead one, for None) for delivery now."""

    def close(self) -> None: ...
