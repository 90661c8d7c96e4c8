"""``SQLStore``: the Store protocol on SQLAlchemy Core, for SQLite and PostgreSQL.

Every public method is one short transaction on a pooled connection, so one store can be
shared by threads. Database errors leave as ``StoreError``; rows never leave this module.

SQLite URLs must name a file (``sqlite:///path/monitor.db``; the parent directory is
created). In-memory databases are refused: each pooled connection would see its own
empty database. ``postgresql://`` URLs use psycopg 3; query parameters are passed to
libpq, so ``?options=-csearch_path%3Dmyschema`` selects a schema.

Several processes may share one store. No wait is unbounded: lock waits end after
``lock_timeout`` (SQLite's busy timeout, PostgreSQL's ``lock_timeout``) and PostgreSQL
statements after ``statement_timeout``, as ``StoreBusyError``. A write that lost a race to
another process (the article was recorded meanwhile) raises ``ConflictError``.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, fields, replace
from datetime import datetime
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Select,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.engine import URL, CursorResult, RowMapping, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from monitor.errors import ConflictError, ReadOnlyStoreError, StoreBusyError, StoreError
from monitor.models import (
    Alert,
    AlertStatus,
    Article,
    ArticleStatus,
    Change,
    ChangeKind,
    DiffStats,
    Drift,
    FeedState,
    RawBody,
    SeedLink,
    Significance,
    TextSource,
    Version,
)
from monitor.store import WouldWaitError, migrate, pack_raw
from monitor.store.schema import (
    UTCDateTime,
    article_urls,
    articles,
    feeds,
    locks,
    seed_links,
    versions,
)
from monitor.store.schema import alerts as alerts_table
from monitor.store.schema import changes as changes_table

LOCK_TIMEOUT_S = 10.0  # defaults of [storage] lock_timeout and statement_timeout
STATEMENT_TIMEOUT_S = 120.0
POSTGRESQL_CONNECT_TIMEOUT_S = 10
POSTGRESQL_POOL_SIZE = 10
# Error codes that mean "wait and try again later" and "this store cannot be written".
_BUSY_SQLSTATES = frozenset({"55P03", "57014", "40P01", "40001"})  # lock, timeout, deadlock
_READ_ONLY_SQLSTATES = frozenset({"25006", "42501"})  # read-only transaction, no privilege
# Any fixed key works: every Newsmonitor process migrating one database must agree on it.
MIGRATION_LOCK_KEY = 0x4E4D_0001

# Connection execution option read by the SQLite "begin" listener.
_SQLITE_BEGIN = "newsmonitor_sqlite_begin"
_VERSION_COLUMNS = [versions.c[f.name] for f in fields(Version)]
# Called inside record()'s transaction with the saved changes: the alerts to queue for them.
AlertFactory = Callable[[Sequence[Change]], Sequence[Alert]]


def normalize_url(url: str) -> URL:
    """Parse ``url``, pick the psycopg driver for bare PostgreSQL URLs and refuse the rest."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"invalid database URL {_redact(url)!r}: {exc}") from exc
    backend = parsed.get_backend_name()
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
        backend = "postgresql"
    if backend == "sqlite":
        if parsed.drivername not in ("sqlite", "sqlite+pysqlite"):
            raise StoreError(f"unsupported SQLite driver in {_safe(parsed)}: use sqlite:///path")
        if _is_sqlite_memory(parsed):
            raise StoreError(
                f"in-memory SQLite is not supported ({_safe(parsed)}): every pooled "
                "connection would see its own empty database; use sqlite:///path/to/file.db"
            )
    elif backend != "postgresql":
        raise StoreError(
            f"unsupported database {_safe(parsed)}: use sqlite:///path or postgresql://..."
        )
    return parsed


def create_store_engine(
    url: str | URL,
    lock_timeout: float = LOCK_TIMEOUT_S,
    statement_timeout: float = STATEMENT_TIMEOUT_S,
    read_only: bool = False,
) -> Engine:
    """An Engine set up the way the store needs it (SQLite pragmas, lock and statement
    timeouts, connect timeouts). ``read_only``: a SQLite file that cannot be written is
    opened for reading (a read-only file, directory or mount) instead of failing."""
    parsed = normalize_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        writable = not read_only or _sqlite_writable(parsed)
        if writable:
            _create_parent_directory(parsed)
        else:
            parsed = _sqlite_read_only_url(parsed)
        # hide_parameters: error messages would otherwise carry whole article texts.
        engine = create_engine(parsed, hide_parameters=True)
        busy_ms = max(1, round(lock_timeout * 1000))
        event.listen(
            engine,
            "connect",
            lambda dbapi, _record: _configure_sqlite_connection(dbapi, busy_ms, writable),
        )
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = POSTGRESQL_CONNECT_TIMEOUT_S
    # Ours first, so that options the user put in the URL win.
    given = parsed.query.get("options", "")
    user_options = " ".join(given) if isinstance(given, tuple) else given
    timeouts = (
        f"-c lock_timeout={max(1, round(lock_timeout * 1000))} "
        f"-c statement_timeout={max(1, round(statement_timeout * 1000))}"
    )
    connect_args["options"] = f"{timeouts} {user_options}".strip()
    parsed = parsed.difference_update_query(["options"])
    return create_engine(
        parsed,
        hide_parameters=True,
        pool_pre_ping=True,
        # Enough for the runner's reader and writer threads (store/runner.py) to keep their
        # connections rather than open and close one per call.
        pool_size=POSTGRESQL_POOL_SIZE,
        connect_args=connect_args,
    )


class SQLStore:
    """The Store protocol on SQLite or PostgreSQL; create it with ``SQLStore.open``."""

    def __init__(self, engine: Engine, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self._engine = engine
        self._lock_timeout = lock_timeout
        # SQLite has one writer at a time: this process's writers queue here, in order,
        # rather than in SQLite's busy loop, which sleeps up to 100 ms between tries.
        self._writer = threading.RLock() if engine.dialect.name == "sqlite" else None
        self._locked_until = 0.0  # SQLite: monotonic time before which writes fail at once
        self._local = _Local()  # per thread: whether writes may wait (without_waiting)

    @property
    def in_place(self) -> bool:
        """SQLite: calls are work in this process, and reads never wait for a lock."""
        return self._writer is not None

    @classmethod
    def open(
        cls,
        url: str,
        lock_timeout: float = LOCK_TIMEOUT_S,
        statement_timeout: float = STATEMENT_TIMEOUT_S,
        read_only: bool = False,
    ) -> SQLStore:
        """Connect to ``url`` and migrate its schema to the latest revision.

        ``read_only``: for commands that only read. A SQLite file that cannot be written
        is opened for reading, and is not migrated (it must be at the current schema).
        """
        parsed = normalize_url(url)
        if not read_only and parsed.get_backend_name() == "sqlite" and not _sqlite_writable(parsed):
            raise ReadOnlyStoreError(
                f"{_safe(parsed)} cannot be written (a read-only file, folder or mount); "
                "commands that only read it (status, feeds, articles, history, diff) work"
            )
        engine = create_store_engine(parsed, lock_timeout, statement_timeout, read_only)
        try:
            _migrate(engine, read_only)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, lock_timeout)

    @property
    def engine(self) -> Engine:
        """The underlying engine, for tooling and tests; application code uses the methods."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # feeds

    def get_feed(self, name: str) -> FeedState | None:
        with self._read("read feed") as conn:
            row = conn.execute(select(feeds).where(feeds.c.name == name)).mappings().first()
        return None if row is None else _feed(row)

    def save_feed(self, state: FeedState) -> None:
        """Insert or replace the state of the feed named ``state.name``."""
        self.save_feeds([state])

    def save_feeds(self, states: Sequence[FeedState]) -> None:
        """``save_feed`` for each of ``states``, in one transaction."""
        if not states:
            return
        with self._write("save feed") as conn:
            # An upsert, not update-then-insert: two nodes may save the same feed at once.
            conn.execute(self._upsert_feed, [_values(state) for state in states])

    def list_feeds(self) -> list[FeedState]:
        with self._read("list feeds") as conn:
            rows = conn.execute(select(feeds).order_by(feeds.c.name)).mappings()
            return [_feed(row) for row in rows]

    # articles

    def add_article(self, article: Article) -> Article:
        """Insert ``article`` (its ``id`` is ignored) and return it with the assigned id."""
        with self._write("add article") as conn:
            return _insert_article(conn, article)

    def update_article(self, article: Article) -> None:
        """Replace every field of the stored article with ``article.id``."""
        with self._write("update article") as conn:
            _update_article(conn, article)

    def update_articles(self, batch: Sequence[Article], only: Sequence[str] = ()) -> list[int]:
        """Replace the fields named in ``only`` (default: every field) of each stored
        article of ``batch``, in one transaction. On PostgreSQL, rows another transaction
        holds are skipped rather than waited for: their ids are returned."""
        if not batch:
            return []
        params = [_update_params(article, only) for article in batch]
        with self._write("update articles") as conn:
            if self._engine.dialect.name == "postgresql":
                ids = [article.id for article in batch]
                free = select(articles.c.id).where(articles.c.id.in_(ids))
                held = set(ids) - set(
                    conn.execute(free.with_for_update(skip_locked=True)).scalars()
                )
                params = [one for one in params if one["b_id"] not in held]
            else:
                held = set()
            try:
                if params:
                    conn.execute(_UPDATE_ARTICLE, params)
            except IntegrityError as exc:
                raise StoreError(f"updating {len(batch)} articles failed: {exc.orig}") from exc
        return sorted(held)

    def get_article(self, article_id: int) -> Article | None:
        with self._read("read article") as conn:
            return _first_article(conn, select(articles).where(articles.c.id == article_id))

    def find_article(self, urls: Sequence[str], guid: str | None = None) -> Article | None:
        """The article whose url, current_url or canonical_url is one of ``urls``;
        failing that, the one with feed GUID ``guid``.

        Several URL matches are ranked by column (url, then current_url, then
        canonical_url), then by the order of ``urls``, then by age.
        """
        wanted = list(dict.fromkeys(urls))
        with self._read("find article") as conn:
            if wanted:
                query = select(articles).where(_by_any_url(wanted))
                candidates = [_article(row) for row in conn.execute(query).mappings()]
                if candidates:
                    return min(candidates, key=lambda found: _url_rank(found, wanted))
                alias = select(article_urls.c.article_id).where(article_urls.c.url.in_(wanted))
                aliased = _first_article(
                    conn,
                    select(articles).where(articles.c.id.in_(alias)).order_by(articles.c.id),
                )
                if aliased is not None:
                    return aliased
            if guid is None:
                return None
            return _first_article(
                conn, select(articles).where(articles.c.guid == guid).order_by(articles.c.id)
            )

    def find_articles(self, urls: Sequence[str]) -> dict[str, Article]:
        """For each of ``urls``, what ``find_article([url])`` finds by the url, current_url
        or canonical_url column (aliases and GUIDs aside); URLs with no match are left out."""
        wanted = list(set(urls))
        if not wanted:
            return {}
        query = select(articles).where(_by_any_url(wanted))
        with self._read("find articles") as conn:
            candidates = [_article(row) for row in conn.execute(query).mappings()]
        found: dict[str, Article] = {}
        for url in wanted:
            matches = [a for a in candidates if url in (a.url, a.current_url, a.canonical_url)]
            if matches:
                found[url] = min(matches, key=lambda match: _url_rank(match, [url]))
        return found

    def tracked_among(self, urls: Sequence[str], guids: Sequence[str] = ()) -> set[str]:
        """Those of ``urls`` and ``guids`` some article is known by."""
        wanted, wanted_guids = list(set(urls)), list(set(guids))
        parts = [
            select(column).where(column.in_(wanted))
            for column in (
                articles.c.url,
                articles.c.current_url,
                articles.c.canonical_url,
                article_urls.c.url,
            )
        ]
        if wanted_guids:
            parts.append(select(articles.c.guid).where(articles.c.guid.in_(wanted_guids)))
        with self._read("look up articles") as conn:
            return {value for (value,) in conn.execute(union(*parts)) if value is not None}

    def add_alias(self, article_id: int, url: str, now: datetime) -> None:
        """Remember ``url`` as another address of the article; a known alias is kept
        (also when another process adds it at the same moment)."""
        statement = self._dialect_insert(article_urls).on_conflict_do_nothing(
            index_elements=["url"]
        )
        with self._write("add article alias") as conn:
            conn.execute(statement.values(url=url, article_id=article_id, added_at=now))

    def list_articles(self, feed: str | None = None) -> list[Article]:
        query = select(articles).order_by(articles.c.id)
        if feed is not None:
            query = query.where(articles.c.feed == feed)
        with self._read("list articles") as conn:
            return [_article(row) for row in conn.execute(query).mappings()]

    def due_articles(self, now: datetime, limit: int | None = None) -> list[Article]:
        """Articles whose next_check is at or before ``now``, most overdue first."""
        with self._read("list due articles") as conn:
            rows = conn.execute(_due(select(articles), now, limit)).mappings()
            return [_article(row) for row in rows]

    def due_article_ids(self, now: datetime, limit: int | None = None) -> list[tuple[int, str]]:
        """(id, feed) of ``due_articles``, in the same order: a run's work list, small even
        when tens of thousands are due."""
        query = _due(select(articles.c.id, articles.c.feed), now, limit)
        with self._read("list due articles") as conn:
            return [(row.id, row.feed) for row in conn.execute(query)]

    def incomplete_articles(self) -> list[Article]:
        """Articles that count more versions than are stored: rows left by a crash between
        an article and its first version in stores written before that was one
        transaction."""
        stored = (
            select(func.coalesce(func.max(versions.c.number), 0))
            .where(versions.c.article_id == articles.c.id)
            .scalar_subquery()
        )
        query = select(articles).where(articles.c.versions > stored).order_by(articles.c.id)
        with self._read("look for incomplete articles") as conn:
            return [_article(row) for row in conn.execute(query).mappings()]

    def get_articles(self, ids: Sequence[int]) -> list[Article]:
        """The articles with these ids, in the order given; ids not found are left out."""
        if not ids:
            return []
        with self._read("read articles") as conn:
            rows = conn.execute(select(articles).where(articles.c.id.in_(list(ids)))).mappings()
            found = {row["id"]: _article(row) for row in rows}
        return [found[i] for i in ids if i in found]

    # versions and changes

    def latest_version(self, article_id: int) -> Version | None:
        query = (
            select(*_VERSION_COLUMNS)
            .where(versions.c.article_id == article_id)
            .order_by(versions.c.number.desc())
            .limit(1)
        )
        with self._read("read latest version") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _version(row)

    def get_version(self, article_id: int, number: int) -> Version | None:
        query = select(*_VERSION_COLUMNS).where(
            versions.c.article_id == article_id, versions.c.number == number
        )
        with self._read("read version") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _version(row)

    def list_versions(self, article_id: int) -> list[Version]:
        query = (
            select(*_VERSION_COLUMNS)
            .where(versions.c.article_id == article_id)
            .order_by(versions.c.number)
        )
        with self._read("list versions") as conn:
            return [_version(row) for row in conn.execute(query).mappings()]

    def find_version_by_hash(self, article_id: int, content_hash: str) -> Version | None:
        """The earliest version of the article with this content hash (to spot reverts)."""
        query = (
            select(*_VERSION_COLUMNS)
            .where(versions.c.article_id == article_id, versions.c.content_hash == content_hash)
            .order_by(versions.c.number)
            .limit(1)
        )
        with self._read("find version by hash") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _version(row)

    def get_raw_body(self, article_id: int, number: int) -> RawBody | None:
        query = select(versions.c.raw_body, versions.c.raw_content_type).where(
            versions.c.article_id == article_id, versions.c.number == number
        )
        with self._read("read raw body") as conn:
            row = conn.execute(query).first()
        if row is None or row.raw_body is None:
            return None
        try:
            content = zlib.decompress(row.raw_body)
        except zlib.error as exc:
            raise StoreError(
                f"raw body of version {number} of article {article_id} is corrupt: {exc}"
            ) from exc
        return RawBody(content, row.raw_content_type)

    def record(
        self,
        article: Article,
        changes: Sequence[Change],
        version: Version | None = None,
        raw: RawBody | None = None,
        link: SeedLink | None = None,
        alerts: AlertFactory | None = None,
    ) -> list[Change]:
        """In one transaction: update ``article`` (insert it, when its id is 0), insert
        ``version`` (with ``raw``, kept compressed) if given, insert ``changes``, save the
        article's seed ``link`` if given, and queue the alerts ``alerts`` makes of the saved
        changes; return the changes with their ids (and the new article's id).

        The update is conditional on ``article.revision``, which it bumps: when another
        process recorded the article since it was read, or inserted the same URL, nothing
        is written and ConflictError is raised. Raises StoreError if ``version.number``
        already exists for the article."""
        if version is None and raw is not None:
            raise ValueError("a raw body is stored with a version; none was given")
        if version is not None and version.article_id != article.id:
            raise ValueError(f"version of article {version.article_id} recorded for {article.id}")
        with self._write("record article") as conn:
            if article.id == 0:
                article = _insert_article(conn, article)
                version = replace(version, article_id=article.id) if version else None
                changes = [replace(change, article_id=article.id) for change in changes]
                link = replace(link, article_id=article.id) if link else None
            else:
                _update_article(conn, article, revision=article.revision)
            if version is not None:
                _insert_version(conn, version, raw)
            saved = _insert_changes(conn, changes)
            if link is not None:
                _save_seed_link(conn, link)
            if alerts is not None:
                _insert_alerts(conn, alerts(saved))
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

    # run leases

    def acquire_lock(self, name: str, owner: str, now: datetime, until: datetime) -> str | None:
        """Take (or extend) the lease ``name`` for ``owner``; None on success, else the
        holder's owner string. An expired lease is taken over."""
        with self._write("take lock") as conn:
            # Inserted if free; two processes inserting at once: one row, the other reads it.
            fresh = self._dialect_insert(locks).on_conflict_do_nothing(index_elements=["name"])
            taken = conn.execute(fresh.values(name=name, owner=owner, until=until)).rowcount
            if taken == 1:
                return None
            query = select(locks).where(locks.c.name == name)
            if self._engine.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).mappings().first()
            if row is None:  # released between the two statements
                conn.execute(insert(locks).values(name=name, owner=owner, until=until))
                return None
            if row["owner"] != owner and row["until"] > now:
                return str(row["owner"])
            conn.execute(update(locks).where(locks.c.name == name).values(owner=owner, until=until))
            return None

    def release_lock(self, name: str, owner: str) -> None:
        with self._write("release lock") as conn:
            conn.execute(locks.delete().where(locks.c.name == name, locks.c.owner == owner))

    # seeds

    def get_seed_link(self, article_id: int) -> SeedLink | None:
        query = select(seed_links).where(seed_links.c.article_id == article_id)
        with self._read("read seed link") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _seed_link(row)

    def list_seed_links(self, seed_id: str | None = None) -> list[SeedLink]:
        query = select(seed_links).order_by(seed_links.c.seed_id, seed_links.c.article_id)
        if seed_id is not None:
            query = query.where(seed_links.c.seed_id == seed_id)
        with self._read("list seed links") as conn:
            return [_seed_link(row) for row in conn.execute(query).mappings()]

    def remove_seed_link(self, article_id: int) -> None:
        with self._write("remove seed link") as conn:
            conn.execute(seed_links.delete().where(seed_links.c.article_id == article_id))

    # the alert outbox

    def add_alerts(self, new_alerts: Sequence[Alert]) -> list[Alert]:
        """Queue alerts outside a change's transaction (tests, `alerts test`)."""
        with self._write("queue alerts") as conn:
            return _insert_alerts(conn, new_alerts)

    def claim_alerts(
        self,
        now: datetime,
        owner: str,
        lease_until: datetime,
        limit: int = 100,
        digest: bool = False,
        channel: str | None = None,
    ) -> list[Alert]:
        """Lease up to ``limit`` queued alerts that are due and not leased by a live relay.

        One statement: UPDATE ... WHERE id IN (due ids) RETURNING, the due ids locked with
        FOR UPDATE SKIP LOCKED on PostgreSQL, so two relays never claim the same row.
        """
        due = (
            select(alerts_table.c.id)
            .where(
                alerts_table.c.status == AlertStatus.QUEUED.value,
                alerts_table.c.digest == digest,
                or_(alerts_table.c.next_attempt.is_(None), alerts_table.c.next_attempt <= now),
                or_(alerts_table.c.lease_until.is_(None), alerts_table.c.lease_until < now),
            )
            .order_by(alerts_table.c.next_attempt, alerts_table.c.id)
            .limit(limit)
        )
        if channel is not None:
            due = due.where(alerts_table.c.channel == channel)
        if self._engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claim = (
            update(alerts_table)
            .where(alerts_table.c.id.in_(due.scalar_subquery()))
            .values(lease_owner=owner, lease_until=lease_until)
            .returning(*alerts_table.c)
        )
        with self._write("claim alerts") as conn:
            rows = conn.execute(claim).mappings().all()
        return sorted((_alert(row) for row in rows), key=lambda a: a.id)

    def renew_alerts(self, ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        """Extend ``owner``'s lease on the claimed alerts ``ids`` to ``until``; the ids
        still held (a relay sends only those: the others were claimed by another relay)."""
        if not ids:
            return set()
        query = (
            update(alerts_table)
            .where(
                alerts_table.c.id.in_(list(ids)),
                alerts_table.c.lease_owner == owner,
                alerts_table.c.status == AlertStatus.QUEUED.value,
            )
            .values(lease_until=until)
            .returning(alerts_table.c.id)
        )
        with self._write("renew alert lease") as conn:
            return {row.id for row in conn.execute(query)}

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
        """Record a delivery attempt of a claimed alert; False if the lease was lost."""
        values: dict[str, Any] = {
            "status": status.value,
            "attempts": attempts,
            "next_attempt": next_attempt,
            "last_error": error,
            "lease_owner": None,
            "lease_until": None,
        }
        if status == AlertStatus.DELIVERED:
            values["delivered_at"] = now
        query = (
            update(alerts_table)
            .where(alerts_table.c.id == alert_id, alerts_table.c.lease_owner == owner)
            .values(**values)
        )
        with self._write("finish alert") as conn:
            return conn.execute(query).rowcount == 1

    def get_alert(self, alert_id: int) -> Alert | None:
        query = select(alerts_table).where(alerts_table.c.id == alert_id)
        with self._read("read alert") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _alert(row)

    def list_alerts(
        self, status: AlertStatus | None = None, limit: int | None = None
    ) -> list[Alert]:
        """Alerts, newest first."""
        query = select(alerts_table).order_by(alerts_table.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(alerts_table.c.status == status.value)
        with self._read("list alerts") as conn:
            return [_alert(row) for row in conn.execute(query).mappings()]

    def count_alerts(self) -> dict[AlertStatus, int]:
        query = select(alerts_table.c.status, func.count()).group_by(alerts_table.c.status)
        with self._read("count alerts") as conn:
            counts = {AlertStatus(status): n for status, n in conn.execute(query)}
        return {status: counts.get(status, 0) for status in AlertStatus}

    def oldest_queued_digest(self, channel: str) -> datetime | None:
        """When the oldest alert waiting for ``channel``'s digest was queued."""
        query = select(func.min(alerts_table.c.created_at)).where(
            alerts_table.c.channel == channel,
            alerts_table.c.digest.is_(True),
            alerts_table.c.status == AlertStatus.QUEUED.value,
        )
        with self._read("read digest queue") as conn:
            oldest = conn.execute(query).scalar()
        return UTCDateTime().process_result_value(oldest, self._engine.dialect)

    def requeue_alerts(self, ids: Sequence[int] | None, now: datetime) -> int:
        """Queue alerts again for delivery now: those in ``ids``, or every dead one."""
        query = update(alerts_table).values(
            status=AlertStatus.QUEUED.value,
            next_attempt=now,
            attempts=0,
            lease_owner=None,
            lease_until=None,
        )
        if ids is None:
            query = query.where(alerts_table.c.status == AlertStatus.DEAD.value)
        else:
            query = query.where(
                alerts_table.c.id.in_(list(ids)),
                alerts_table.c.status != AlertStatus.DELIVERED.value,
            )
        with self._write("requeue alerts") as conn:
            return conn.execute(query).rowcount

    def list_changes(
        self, article_id: int | None = None, since: datetime | None = None
    ) -> list[Change]:
        """Changes of one article or all, detected at or after ``since``, oldest first."""
        query = select(changes_table).order_by(changes_table.c.detected_at, changes_table.c.id)
        if article_id is not None:
            query = query.where(changes_table.c.article_id == article_id)
        if since is not None:
            query = query.where(changes_table.c.detected_at >= since)
        with self._read("list changes") as conn:
            return [_change(row) for row in conn.execute(query).mappings()]

    # plumbing

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        """A connection for reading; its implicit transaction is rolled back on exit."""
        with self._translate(action), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        """A connection inside a transaction committed on success, rolled back on error."""
        began = False
        try:
            with (
                self._translate(action),
                self._turn(action) as left,
                self._engine.connect() as conn,
            ):
                if left is not None:  # SQLite: what is left of the lock timeout
                    # On the driver's connection: through SQLAlchemy it would begin a
                    # transaction before BEGIN IMMEDIATE.
                    raw = conn.connection.driver_connection
                    assert raw is not None
                    raw.execute(f"PRAGMA busy_timeout = {round(left * 1000)}")
                # SQLite: take the write lock up front. A deferred transaction that reads
                # first fails at once with "database is locked" when another writer got in
                # between; BEGIN IMMEDIATE waits for the busy timeout instead.
                conn.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
                with conn.begin():
                    began = True
                    yield conn
        except StoreBusyError as exc:
            if self._writer is not None and not began and self._local.nowait:
                raise WouldWaitError(str(exc)) from exc  # nothing written: try elsewhere
            if self._writer is not None:
                # SQLite locks the whole file: the writes that follow in the next moments
                # would likely wait as long in vain; they only try, without waiting.
                self._locked_until = time.monotonic() + self._lock_timeout
            raise
        self._locked_until = 0.0

    @contextmanager
    def _turn(self, action: str) -> Iterator[float | None]:
        """This process's turn to write (SQLite): one writer at a time, all within the
        lock timeout; yields the seconds left of it (None: PostgreSQL, no turns)."""
        if self._writer is None:
            yield None
            return
        start = time.monotonic()
        nowait = self._local.nowait
        if nowait:
            if not self._writer.acquire(blocking=False):
                raise WouldWaitError(f"{action}: another write of this process is under way")
        elif not self._writer.acquire(timeout=self._lock_timeout):
            raise StoreBusyError(
                f"{action} failed: the database stayed locked for {self._lock_timeout:g}s "
                "(the lock timeout) while this process's other writes waited for it"
            )
        try:
            if nowait or start < self._locked_until:
                yield 0.0  # try once, do not wait
            else:
                yield max(0.001, self._lock_timeout - (time.monotonic() - start))
        finally:
            self._writer.release()

    @contextmanager
    def without_waiting(self) -> Iterator[None]:
        """Writes in this block that would wait for a lock raise WouldWaitError at once,
        having written nothing (SQLite; PostgreSQL writes wait as usual)."""
        previous, self._local.nowait = self._local.nowait, True
        try:
            yield
        finally:
            self._local.nowait = previous

    @contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            message = f"{action} failed: {_reason(exc, self._engine.url)}"
            raise _error_class(exc)(message) from exc

    def _dialect_insert(self, table: Any) -> Any:
        """The dialect's INSERT for ``table`` (it has ON CONFLICT on both databases)."""
        # Imported here: a SQLite user never loads the PostgreSQL dialect, and vice versa.
        if self._engine.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)

    @cached_property
    def _upsert_feed(self) -> Insert:
        return _upsert(self._dialect_insert(feeds))


class _Local(threading.local):
    nowait = False


def _upsert(statement: Any) -> Insert:
    """``statement`` (a dialect's INSERT into feeds) replacing the row of the same name."""
    names = [f.name for f in fields(FeedState) if f.name != "name"]
    changed = {name: statement.excluded[name] for name in names}
    return statement.on_conflict_do_update(index_elements=["name"], set_=changed)  # type: ignore[no-any-return]


def _migrate(engine: Engine, read_only: bool = False) -> None:
    """Bring the schema to head, serialized against other processes doing the same.

    ``read_only``: only check that it is at head."""
    safe = _safe(engine.url)
    try:
        conn = engine.connect()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot connect to {safe}: {_reason(exc, engine.url)}") from exc
    with conn:
        if migrate.at_head(conn):
            return
        if read_only and _is_read_only_sqlite(engine.url):
            raise ReadOnlyStoreError(
                f"{safe} is read-only and its schema is not the one this version of "
                "newsmonitor uses; open it once where it can be written to upgrade it"
            )
        from alembic.util import CommandError

        try:
            conn.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    # Released at commit; a second process waits, then finds the schema at head.
                    conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
                migrate.upgrade(conn)
        except (SQLAlchemyError, CommandError) as exc:
            raise StoreError(
                f"cannot migrate {safe} to the current schema: {_reason(exc, engine.url)}"
            ) from exc


# Built once: the SET clause comes from the parameters, so no statement is built per call.
_UPDATE_ARTICLE = update(articles).where(articles.c.id == bindparam("b_id"))
# record(): only from the revision the article was read at, and the next revision.
_RECORD_ARTICLE = (
    update(articles)
    .where(articles.c.id == bindparam("b_id"), articles.c.revision == bindparam("b_revision"))
    .values(revision=articles.c.revision + 1)
)
_INSERT_ARTICLE = insert(articles)
_INSERT_VERSION = insert(versions)
_INSERT_CHANGE = insert(changes_table)


def _update_params(article: Article, only: Sequence[str] = ()) -> dict[str, Any]:
    """Parameters of ``_UPDATE_ARTICLE``: the fields named in ``only`` (default: all);
    never the revision, which only ``record`` moves on."""
    if only:
        params = {name: _column_value(getattr(article, name)) for name in only}
    else:
        params = _article_values(article)
    params.pop("revision", None)
    params["b_id"] = article.id
    return params


def _insert_article(conn: Connection, article: Article) -> Article:
    """Insert ``article``; ConflictError when its URL was inserted meanwhile."""
    values = _article_values(article)
    values["revision"] = 0
    try:
        result = conn.execute(_INSERT_ARTICLE, values)
    except IntegrityError as exc:
        raise ConflictError(f"an article with url {article.url!r} already exists") from exc
    return replace(article, id=_inserted_id(result), revision=0)


def _update_article(conn: Connection, article: Article, revision: int | None = None) -> None:
    """Replace ``article``'s row; with ``revision``, only if the row is still at it (the
    revision then moves on), else ConflictError: another process recorded it meanwhile."""
    params = _update_params(article)
    statement = _UPDATE_ARTICLE
    if revision is not None:
        params["b_revision"] = revision
        statement = _RECORD_ARTICLE
    try:
        result = conn.execute(statement, params)
    except IntegrityError as exc:
        raise StoreError(f"another article already has url {article.url!r}") from exc
    if result.rowcount == 1:
        return
    exists = conn.execute(select(articles.c.id).where(articles.c.id == article.id)).first()
    if exists is None:
        raise StoreError(f"no article with id {article.id}")
    raise ConflictError(f"article {article.id} was recorded by another process meanwhile")


def _insert_version(conn: Connection, version: Version, raw: RawBody | None) -> None:
    values = _values(version)
    if raw is not None:
        values["raw_body"] = raw.packed if raw.packed is not None else pack_raw(raw.content)
        values["raw_content_type"] = raw.content_type
    try:
        conn.execute(_INSERT_VERSION, values)
    except IntegrityError as exc:
        raise ConflictError(
            f"version {version.number} of article {version.article_id} already exists"
        ) from exc


def _insert_changes(conn: Connection, new_changes: Sequence[Change]) -> list[Change]:
    saved = []
    for change in new_changes:
        values = _values(change)
        del values["id"]
        values["tags"] = json.dumps(list(change.tags)) if change.tags else None
        values["stats"] = json.dumps(asdict(change.stats)) if change.stats else None
        values["drift"] = json.dumps(asdict(change.drift)) if change.drift else None
        result = conn.execute(_INSERT_CHANGE, values)
        saved.append(replace(change, id=_inserted_id(result)))
    return saved


def _inserted_id(result: CursorResult[Any]) -> int:
    # The cursor's lastrowid / RETURNING value; not RETURNING explicitly, so that
    # SQLite older than 3.35 keeps working.
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise StoreError("the database did not report the id of the inserted row")
    return int(key[0])


def _by_any_url(wanted: list[str]) -> Any:
    """The condition: url, current_url or canonical_url is one of ``wanted``."""
    return or_(
        articles.c.url.in_(wanted),
        articles.c.current_url.in_(wanted),
        articles.c.canonical_url.in_(wanted),
    )


def _due(query: Select[Any], now: datetime, limit: int | None) -> Select[Any]:
    """``query`` narrowed to articles due at ``now``, most overdue first."""
    return (
        query.where(articles.c.next_check <= now)
        .order_by(articles.c.next_check, articles.c.id)
        .limit(limit)
    )


def _first_article(conn: Connection, query: Select[Any]) -> Article | None:
    row = conn.execute(query.limit(1)).mappings().first()
    return None if row is None else _article(row)


def _url_rank(article: Article, wanted: list[str]) -> tuple[int, int, int]:
    for rank, url in enumerate((article.url, article.current_url, article.canonical_url)):
        if url in wanted:
            return rank, wanted.index(url), article.id
    raise AssertionError("article matched no wanted URL")  # the query guarantees one


# rows <-> dataclasses: column names equal field names, enums are stored as their values


def _values(obj: Any) -> dict[str, Any]:
    return {f.name: _column_value(getattr(obj, f.name)) for f in fields(obj)}


def _column_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _article_values(article: Article) -> dict[str, Any]:
    values = _values(article)
    del values["id"]
    return values


def _pick(row: RowMapping, cls: type) -> dict[str, Any]:
    return {f.name: row[f.name] for f in fields(cls)}


def _feed(row: RowMapping) -> FeedState:
    return FeedState(**_pick(row, FeedState))


def _article(row: RowMapping) -> Article:
    values = _pick(row, Article)
    values["status"] = ArticleStatus(values["status"])
    return Article(**values)


def _version(row: RowMapping) -> Version:
    values = _pick(row, Version)
    values["source"] = TextSource(values["source"])
    return Version(**values)


def _change(row: RowMapping) -> Change:
    values = _pick(row, Change)
    values["kind"] = ChangeKind(values["kind"])
    if values["significance"] is not None:
        values["significance"] = Significance(values["significance"])
    values["tags"] = tuple(json.loads(values["tags"])) if values["tags"] else ()
    values["stats"] = DiffStats(**json.loads(values["stats"])) if values["stats"] else None
    values["drift"] = _drift(values["drift"])
    return Change(**values)


def _drift(text: str | None) -> Drift | None:
    if not text:
        return None
    values: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in json.loads(text).items()
    }
    return Drift(**values)


def _seed_link(row: RowMapping) -> SeedLink:
    values = _pick(row, SeedLink)
    values["reasons"] = tuple(json.loads(values["reasons"]))
    values["drift"] = _drift(values["drift"])
    return SeedLink(**values)


def _save_seed_link(conn: Connection, link: SeedLink) -> None:
    values = {
        **_values(link),
        "reasons": json.dumps(list(link.reasons)),
        "drift": json.dumps(asdict(link.drift)) if link.drift else None,
    }
    table_keys = seed_links.c.article_id == link.article_id
    if conn.execute(update(seed_links).where(table_keys).values(values)).rowcount == 0:
        # record() holds the article's row: no other process can link it meanwhile.
        conn.execute(insert(seed_links).values(values))


def _alert(row: RowMapping) -> Alert:
    values = _pick(row, Alert)
    values["status"] = AlertStatus(values["status"])
    values["payload"] = json.loads(values["payload"])
    values["digest"] = bool(values["digest"])
    return Alert(**values)


def _insert_alerts(conn: Connection, new_alerts: Sequence[Alert]) -> list[Alert]:
    saved = []
    for alert in new_alerts:
        values = _values(alert)
        del values["id"]
        values["payload"] = json.dumps(alert.payload, ensure_ascii=False)
        result = conn.execute(insert(alerts_table).values(values))
        saved.append(replace(alert, id=_inserted_id(result)))
    return saved


# engine setup


def _configure_sqlite_connection(dbapi_connection: Any, busy_ms: int, writable: bool) -> None:
    """Pragmas every SQLite connection needs; SQLite keeps none of them in the file
    except the journal mode."""
    # Let SQLAlchemy's "begin" listener issue BEGIN: the sqlite3 module's own transaction
    # handling starts transactions late and cannot do BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # First, so that switching to WAL waits for a concurrent opener instead of failing.
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if writable:
            # WAL: readers never block the writer, which matters with scheduler threads.
            _enable_wal(cursor, busy_ms / 1000)
            # NORMAL is durable across application crashes in WAL mode and much faster.
            cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _enable_wal(cursor: Any, wait: float) -> None:
    """Switch to WAL, retrying while another process holds the lock.

    SQLite does not apply the busy timeout to a journal-mode change on a brand-new file, so
    two processes opening a fresh database at once would otherwise fail with "locked".
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _begin_sqlite_transaction(conn: Connection) -> None:
    mode = conn.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
    if mode not in ("DEFERRED", "IMMEDIATE"):
        raise ValueError(f"unknown SQLite transaction mode {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _is_sqlite_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or url.query.get("mode") == "memory"


def _sqlite_writable(url: URL) -> bool:
    """Whether this process can write the SQLite file (or create it)."""
    database = url.database or ""
    if database.startswith("file:"):
        return True  # a URI filename: its own mode says
    path = Path(database)
    folder = path.parent
    if not folder.exists():
        return True  # a new store: opening creates it, or says why it cannot
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return False
    except OSError:
        return True
    # -wal and -shm beside the file are written even by readers.
    return os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _sqlite_read_only_url(url: URL) -> URL:
    """``url`` as a read-only URI. With its write-ahead log present, SQLite reads it
    through the existing shared-memory file; without one, the file alone is complete and
    is opened as immutable (SQLite could not create the shared-memory file)."""
    database = Path(url.database or "").resolve()
    query = {"mode": "ro", "uri": "true"}
    if not Path(f"{database}-wal").exists():
        query["immutable"] = "1"
    return url.set(database=f"file:{database}").update_query_dict(query)


def _is_read_only_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.query.get("mode") == "ro"


def _error_class(exc: SQLAlchemyError) -> type[StoreError]:
    """The StoreError subclass for a database error: busy, read-only, or plain."""
    orig = getattr(exc, "orig", None)
    name = getattr(orig, "sqlite_errorname", None)
    if name is not None:
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return StoreBusyError
        if name.startswith("SQLITE_READONLY"):
            return ReadOnlyStoreError
        return StoreError
    state = getattr(orig, "sqlstate", None)
    if state in _BUSY_SQLSTATES:
        return StoreBusyError
    if state in _READ_ONLY_SQLSTATES:
        return ReadOnlyStoreError
    return StoreError


def _create_parent_directory(url: URL) -> None:
    database = url.database or ""
    if database.startswith("file:"):
        return  # a URI filename (uri=true): SQLite resolves it, we leave it alone
    try:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the directory for {_safe(url)}: {exc}") from exc


def _safe(url: URL) -> str:
    """The URL as text without its password, for messages."""
    return url.render_as_string(hide_password=True)


def _redact(url: str) -> str:
    """Best effort for URLs SQLAlchemy could not parse: drop what looks like a password."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _reason(exc: BaseException, url: URL) -> str:
    """The driver's message without SQLAlchemy's SQL dump, and never the password."""
    orig = getattr(exc, "orig", None)
    message = " ".join(str(orig if orig is not None else exc).split())
    if url.password:
        message = message.replace(str(url.password), "***")
    return message
