"""The store seam: a small Protocol and ``open_store`` to get the SQL implementation.

One implementation (``sql.py``, SQLAlchemy Core) serves SQLite and PostgreSQL; the contract
tests in ``tests/test_store.py`` run against both.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from monitor.errors import StoreBusyError
from monitor.models import (
    Alert,
    AlertStatus,
    Article,
    Change,
    FeedState,
    RawBody,
    SeedLink,
    Version,
)

# zlib's default level: a 77 KB news page packs to about 16 KB in 1 ms.
RAW_COMPRESSION_LEVEL = 6


def pack_raw(content: bytes) -> bytes:
    """A raw body in the form every store keeps it."""
    return zlib.compress(content, RAW_COMPRESSION_LEVEL)


class WouldWaitError(StoreBusyError):
    """A write under ``Store.without_waiting`` found the store locked (and did nothing)."""


class Store(Protocol):
    """Persistence for feeds, articles, versions and changes."""

    @property
    def in_place(self) -> bool:
        """True when calls are work in this process (SQLite): reads never wait for a lock,
        and writes may be tried ``without_waiting`` (see store/runner.py)."""

    def without_waiting(self) -> AbstractContextManager[None]:
        """Writes in this block (in this thread) that would wait for a lock raise
        WouldWaitError at once, having written nothing."""

    def close(self) -> None: ...

    # feeds
    def get_feed(self, name: str) -> FeedState | None: ...
    def save_feed(self, state: FeedState) -> None:
        """Insert or replace the state of the feed named ``state.name``."""

    def save_feeds(self, states: Sequence[FeedState]) -> None:
        """``save_feed`` for each of ``states``, in one transaction."""

    def list_feeds(self) -> list[FeedState]: ...

    # articles
    def add_article(self, article: Article) -> Article:
        """Insert ``article`` (its ``id`` is ignored) and return it with the assigned id.

        Raises StoreError if an article with the same ``url`` exists."""

    def update_article(self, article: Article) -> None: ...
    def update_articles(self, batch: Sequence[Article], only: Sequence[str] = ()) -> list[int]:
        """``update_article`` for each of ``batch``, in one transaction, writing only the
        fields named in ``only`` (default: all); an id that no longer exists is skipped.
        Rows another transaction holds are skipped, not waited for: their ids are returned
        (PostgreSQL; SQLite locks the whole file, so there the batch waits)."""

    def get_article(self, article_id: int) -> Article | None: ...
    def find_article(self, urls: Sequence[str], guid: str | None = None) -> Article | None:
        """The article whose url, current_url or canonical_url is one of ``urls``; failing
        that, the one with one of ``urls`` as an alias; failing that, the one with feed
        GUID ``guid``."""

    def find_articles(self, urls: Sequence[str]) -> dict[str, Article]:
        """``find_article([url])`` for each of ``urls`` at once, by URL columns only (no
        aliases, no GUIDs); URLs with no match are left out."""

    def tracked_among(self, urls: Sequence[str], guids: Sequence[str] = ()) -> set[str]:
        """Those of ``urls`` and ``guids`` that ``find_article`` could match (as a url,
        current, canonical or alias URL; as a GUID): one query for a whole feed's entries."""

    def add_alias(self, article_id: int, url: str, now: datetime) -> None:
        """Remember ``url`` as another address of the article (idempotent)."""

    def list_articles(self, feed: str | None = None) -> list[Article]: ...
    def due_articles(self, now: datetime, limit: int | None = None) -> list[Article]:
        """Articles whose next_check is at or before ``now``, most overdue first."""

    def due_article_ids(self, now: datetime, limit: int | None = None) -> list[tuple[int, str]]:
        """(id, feed) of ``due_articles(now, limit)``, in the same order."""

    def get_articles(self, ids: Sequence[int]) -> list[Article]:
        """The articles with these ids, in the order given; ids not found are left out."""

    def incomplete_articles(self) -> list[Article]:
        """Articles that count more versions than are stored (left by older releases)."""

    # versions and changes
    def latest_version(self, article_id: int) -> Version | None: ...
    def get_version(self, article_id: int, number: int) -> Version | None: ...
    def list_versions(self, article_id: int) -> list[Version]: ...
    def find_version_by_hash(self, article_id: int, content_hash: str) -> Version | None:
        """The earliest version of the article with this content hash."""

    def get_raw_body(self, article_id: int, number: int) -> RawBody | None: ...
    def record(
        self,
        article: Article,
        changes: Sequence[Change],
        version: Version | None = None,
        raw: RawBody | None = None,
        link: SeedLink | None = None,
        alerts: Callable[[Sequence[Change]], Sequence[Alert]] | None = None,
    ) -> list[Change]:
        """In one transaction: update ``article`` (insert it when its id is 0), insert
        ``version`` (with ``raw``, kept compressed) if given, insert ``changes``, save the
        seed ``link`` if given, and queue the alerts that ``alerts`` makes of the saved
        changes; return the saved changes.

        Only from the article's ``revision``, which it bumps: ConflictError when another
        process recorded the article (or inserted its URL) since it was read."""

    def list_changes(
        self, article_id: int | None = None, since: datetime | None = None
    ) -> list[Change]: ...

    def counts(self) -> dict[str, int]:
        """Rows held: {"articles": n, "versions": n, "changes": n}."""

    # run leases
    def acquire_lock(self, name: str, owner: str, now: datetime, until: datetime) -> str | None:
        """Take or extend lease ``name``; None when taken, else who holds it."""

    def release_lock(self, name: str, owner: str) -> None: ...

    # seed links
    def get_seed_link(self, article_id: int) -> SeedLink | None: ...
    def list_seed_links(self, seed_id: str | None = None) -> list[SeedLink]: ...
    def remove_seed_link(self, article_id: int) -> None: ...

    # the alert outbox
    def add_alerts(self, new_alerts: Sequence[Alert]) -> list[Alert]: ...
    def claim_alerts(
        self,
        now: datetime,
        owner: str,
        lease_until: datetime,
        limit: int = 100,
        digest: bool = False,
        channel: str | None = None,
    ) -> list[Alert]:
        """Lease due queued alerts (digest-held ones when ``digest``) for ``owner``."""

    def renew_alerts(self, ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        """Extend ``owner``'s leases on ``ids`` to ``until``; the ids it still holds."""

    def finish_alert(
        self,
        alert_id: int,
        owner: str,
        status: AlertStatus,
        attempts: int,
        now: datetime,
        next_attempt: datetime | None = None,
        error: str | None = None,
    ) -> bool:
        """Record an attempt on a claimed alert; False when ``owner`` lost the lease."""

    def get_alert(self, alert_id: int) -> Alert | None: ...
    def list_alerts(
        self, status: AlertStatus | None = None, limit: int | None = None
    ) -> list[Alert]: ...
    def count_alerts(self) -> dict[AlertStatus, int]: ...
    def oldest_queued_digest(self, channel: str) -> datetime | None: ...
    def requeue_alerts(self, ids: Sequence[int] | None, now: datetime) -> int:
        """Queue the alerts ``ids`` (or every dead one, for None) for delivery now."""


def open_store(
    url: str,
    lock_timeout: float = 10.0,
    statement_timeout: float = 120.0,
    read_only: bool = False,
) -> Store:
    """Open (and migrate to the latest schema) the store at SQLAlchemy ``url``.

    ``lock_timeout`` and ``statement_timeout`` bound every wait, in seconds; ``read_only``
    opens a store that cannot be written for reading instead of failing."""
    from monitor.store.sql import SQLStore

    return SQLStore.open(url, lock_timeout, statement_timeout, read_only)
