"""``SQLStore``: the store on SQLAlchemy Core, for SQLite and PostgreSQL, and ``open_store``.

``SQLStore`` is the tables' classes together (feeds and articles, versions and changes,
search and exports, seed links, the outbox, leases, claims and nodes: one module each), plus the one
transaction that spans them, ``record``. Several processes may share one store: lock waits end as
``StoreBusyError`` (see engine.py), and a write that lost a race to another process (the
article was recorded meanwhile) raises ``ConflictError``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Self

from sqlalchemy import func, select

from monitor.errors import ReadOnlyStoreError
from monitor.models import Change, Recording
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
from monitor.store.evidence import EvidenceTables, index_version
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
        article, changes, version = recording.article, recording.changes, recording.version
        raw, link = recording.raw, recording.link
        if version is None and raw is not None:
            raise ValueError("a raw body is stored with a version; none was given")
        if version is not None and version.article_id != article.id:
            raise ValueError(f"version of article {version.article_id} recorded for {article.id}")
        with self._write("record article") as conn:
            if article.id == 0:
                article = insert_article_row(conn, article)
                version = replace(version, article_id=article.id) if version else None
                changes = [replace(change, article_id=article.id) for change in changes]
                link = replace(link, article_id=article.id) if link else None
            else:
                update_article_row(conn, article, revision=article.revision)
            if version is not None:
                # Searchable from the moment it is stored (issue 19).
                index_version(conn, insert_version(conn, version, raw), version.text)
            saved = insert_changes(conn, changes)
            if link is not None:
                save_seed_link(conn, link)
            if alerts is not None:
                insert_alerts(conn, alerts(saved))
            return saved

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
