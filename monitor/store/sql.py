"""``SQLStore``: the store on SQLAlchemy Core, for SQLite and PostgreSQL, and ``open_store``.

``SQLStore`` is the tables' classes together (feeds and articles, versions and changes,
search and exports, seed links, the outbox, leases, claims and nodes: one module each), plus the one
transaction that spans them, ``record``. Several processes may share one store: lock waits end as
``StoreBusyError`` (see engine.py), and a write that lost a race to another process (the
article was recorded meanwhile) raises ``ConflictError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Self

from sqlalchemy import Connection, func, select

from monitor.errors import ConflictError, ReadOnlyStoreError, StoreError
from monitor.models import Change, RawBody, Recording, SeedLink, Version
from monitor.store import AlertFactory, Store
from monitor.store.articles import ArticleTables, insert_article_row, update_article_row
from monitor.store.claims import ClaimTables
from monitor.store.engine import (
    LOCK_TIMEOUT_S,
    STATEMENT_TIMEOUT_S,
    create_store_engine,
    database_url,
    migrate_to_head,
    safe_url,
    sqlite_writable,
)
from monitor.store.evidence import EvidenceTables, index_versions
from monitor.store.leases import LeaseTable
from monitor.store.outbox import OutboxTable, insert_alerts
from monitor.store.schema import articles, versions
from monitor.store.schema import changes as changes_table
from monitor.store.seed_links import SeedLinkTable, save_seed_link
from monitor.store.versions import VersionTables, insert_changes, insert_version

# create_store_engine: also for migrations/env.py, which builds an engine from a URL.
__all__ = ["SQLStore", "create_store_engine", "open_store"]


class SQLStore(
    ArticleTables,
    VersionTables,
    EvidenceTables,
    SeedLinkTable,
    OutboxTable,
    LeaseTable,
    ClaimTables,
):
    """The store on SQLite or PostgreSQL; create it with ``SQLStore.open``."""

    @classmethod
    def open(
        cls,
        url: str,
        lock_timeout: float = LOCK_TIMEOUT_S,
        statement_timeout: float = STATEMENT_TIMEOUT_S,
        read_only: bool = False,
    ) -> Self:
        """Connect to ``url`` and migrate its schema to the latest revision.

        ``read_only``: for commands that only read. A SQLite file that cannot be written
        is opened for reading, and is not migrated (it must be at the current schema).
        """
        parsed = database_url(url)
        if not read_only and parsed.get_backend_name() == "sqlite" and not sqlite_writable(parsed):
            raise ReadOnlyStoreError(
                f"{safe_url(parsed)} cannot be written (a read-only file, folder or mount); "
                "commands that only read it (status, feeds, articles, history, diff) work"
            )
        engine = create_store_engine(parsed, lock_timeout, statement_timeout, read_only)
        try:
            migrate_to_head(engine, read_only)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, lock_timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def record(self, recording: Recording, alerts: AlertFactory | None = None) -> list[Change]:
        """In one transaction, of ``recording``: update ``article`` (insert it, when its id
        is 0), insert ``version`` (with ``raw``, kept compressed) if given, insert
        ``changes``, save the article's seed ``link`` if given; and queue the alerts
        ``alerts`` makes of the saved changes; return the changes with their ids (and the
        new article's id).

        The update is conditional on ``article.revision``, which it bumps: when another
        process recorded the article since it was read, or inserted the same URL, nothing
        is written and ConflictError is raised. Raises StoreError if ``version.number``
        already exists for the article."""
        (outcome,) = self.record_batch([(recording, alerts)])
        if isinstance(outcome, ConflictError):
            raise outcome
        return outcome

    def record_batch(
        self, recordings: Sequence[tuple[Recording, AlertFactory | None]]
    ) -> list[list[Change] | ConflictError]:
        """``record`` of each (with its alert factory) in one transaction: each in a
        savepoint of its own, so that a conflict undoes and fails only that one (its entry is
        the ConflictError). Their versions join the search index together, which costs a
        fraction of indexing each in a transaction of its own; searchable from the moment
        they are stored (issue 19)."""
        for recording, _ in recordings:
            _check_recording(recording)
        if len(recordings) == 1:
            # Nothing else to keep: the transaction is the savepoint. SQLAlchemy compiles
            # every SAVEPOINT afresh, a quarter of a lone version's write (issue 16).
            ((recording, alerts),) = recordings
            try:
                with self._write("record article") as conn:
                    saved, version = self._recorded(conn, recording, alerts)
                    index_versions(conn, [version] if version is not None else [])
            except ConflictError as exc:
                return [exc]
            return [saved]
        results: list[list[Change] | ConflictError] = []
        indexed: list[tuple[int, str]] = []
        with self._write("record articles") as conn:
            for recording, alerts in recordings:
                try:
                    if recording.article.id == 0:
                        # A failed insert aborts a PostgreSQL transaction: undone alone.
                        with conn.begin_nested():
                            saved, version = self._recorded(conn, recording, alerts)
                    else:
                        # Its conditional update comes first, and a conflict there has
                        # written nothing: no savepoint, which costs as much as the rows.
                        saved, version = self._recorded(conn, recording, alerts, alone=False)
                except ConflictError as exc:
                    results.append(exc)
                    continue
                results.append(saved)
                if version is not None:
                    indexed.append(version)
            index_versions(conn, indexed)
        return results

    def _recorded(
        self,
        conn: Connection,
        recording: Recording,
        alerts: AlertFactory | None,
        alone: bool = True,
    ) -> tuple[list[Change], tuple[int, str] | None]:
        """``record``'s writes on ``conn``; the saved changes, and the stored version's row
        id and text, for the search index. Not ``alone`` (a known article's, in a batch
        without a savepoint): a conflict after its first write fails the whole batch."""
        article, changes, version = recording.article, recording.changes, recording.version
        raw, link = recording.raw, recording.link
        if article.id == 0:
            article = insert_article_row(conn, article)
            version = replace(version, article_id=article.id) if version else None
            changes = [replace(change, article_id=article.id) for change in changes]
            link = replace(link, article_id=article.id) if link else None
        else:
            update_article_row(conn, article, revision=article.revision)
        try:
            return self._rows(conn, version, raw, changes, link, alerts)
        except ConflictError as exc:
            if alone:
                raise
            raise StoreError(f"{exc}; the batch is undone") from exc

    def _rows(
        self,
        conn: Connection,
        version: Version | None,
        raw: RawBody | None,
        changes: Sequence[Change],
        link: SeedLink | None,
        alerts: AlertFactory | None,
    ) -> tuple[list[Change], tuple[int, str] | None]:
        """The rows that follow an article's: its version, changes, seed link and alerts."""
        indexed = None
        if version is not None:
            indexed = (insert_version(conn, version, raw), version.text)
        saved = insert_changes(conn, changes)
        if link is not None:
            save_seed_link(conn, link)
        if alerts is not None:
            insert_alerts(conn, alerts(saved))
        return saved, indexed

    def counts(self) -> dict[str, int]:
        """How many articles, versions and changes the store holds."""
        with self._read("count rows") as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
                for name, table in (
                    ("articles", articles),
                    ("versions", versions),
                    ("changes", changes_table),
                )
            }


def _check_recording(recording: Recording) -> None:
    version = recording.version
    if version is None and recording.raw is not None:
        raise ValueError("a raw body is stored with a version; none was given")
    if version is not None and version.article_id != recording.article.id:
        raise ValueError(
            f"version of article {version.article_id} recorded for {recording.article.id}"
        )


def open_store(
    url: str,
    lock_timeout: float = LOCK_TIMEOUT_S,
    statement_timeout: float = STATEMENT_TIMEOUT_S,
    read_only: bool = False,
) -> Store:
    """Open (and migrate to the latest schema) the store at SQLAlchemy ``url``.

    ``lock_timeout`` and ``statement_timeout`` bound every wait, in seconds; ``read_only``
    opens a store that cannot be written for reading instead of failing."""
    return SQLStore.open(url, lock_timeout, statement_timeout, read_only)
