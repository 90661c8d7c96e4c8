"""The connection to the database: its URL, an Engine set up for the store, the schema
brought to head, and database errors translated into the StoreError tree.

SQLite URLs must name a file (``sqlite:///path/monitor.db``; the parent directory is
created). In-memory databases are refused: each pooled connection would see its own
empty database. ``postgresql://`` URLs use psycopg 3; query parameters are passed to
libpq, so ``?options=-csearch_path%3Dmyschema`` selects a schema.

No wait is unbounded: lock waits end after ``lock_timeout`` (SQLite's busy timeout,
PostgreSQL's ``lock_timeout``) and PostgreSQL statements after ``statement_timeout``.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from monitor.errors import ReadOnlyStoreError, StoreBusyError, StoreError
from monitor.store import migrate

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
SQLITE_BEGIN = "newsmonitor_sqlite_begin"


def database_url(url: str) -> URL:
    """Parse a database ``url``, pick the psycopg driver for bare PostgreSQL URLs and
    refuse the rest."""
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
            raise StoreError(f"unsupported SQLite driver in {safe_url(parsed)}: use sqlite:///path")
        if _is_sqlite_memory(parsed):
            raise StoreError(
                f"in-memory SQLite is not supported ({safe_url(parsed)}): every pooled "
                "connection would see its own empty database; use sqlite:///path/to/file.db"
            )
    elif backend != "postgresql":
        raise StoreError(
            f"unsupported database {safe_url(parsed)}: use sqlite:///path or postgresql://..."
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
    parsed = database_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, lock_timeout, read_only)
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


def _sqlite_engine(parsed: URL, lock_timeout: float, read_only: bool) -> Engine:
    writable = not read_only or sqlite_writable(parsed)
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


def migrate_to_head(engine: Engine, read_only: bool = False) -> None:
    """Bring the schema to head, serialized against other processes doing the same.

    ``read_only``: only check that it is at head."""
    safe = safe_url(engine.url)
    try:
        conn = engine.connect()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot connect to {safe}: {reason(exc, engine.url)}") from exc
    with conn:
        current = migrate.current_revision(conn)
        if current == migrate.HEAD:
            return
        if current is not None and not migrate.is_known(current):
            # Several nodes upgraded one at a time: an old one must not write a schema it
            # does not know (issue 17).
            raise StoreError(
                f"{safe}: the database schema is at revision {current}, newer than this "
                f"newsmonitor (which knows up to {migrate.HEAD}); upgrade newsmonitor here"
            )
        if read_only and _is_read_only_sqlite(engine.url):
            raise ReadOnlyStoreError(
                f"{safe} is read-only and its schema is not the one this version of "
                "newsmonitor uses; open it once where it can be written to upgrade it"
            )
        from alembic.util import CommandError

        try:
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    # Released at commit; a second process waits, then finds the schema at head.
                    conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
                migrate.upgrade(conn)
        except (SQLAlchemyError, CommandError) as exc:
            raise StoreError(
                f"cannot migrate {safe} to the current schema: {reason(exc, engine.url)}"
            ) from exc


# SQLite


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
    mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    if mode not in ("DEFERRED", "IMMEDIATE"):
        raise ValueError(f"unknown SQLite transaction mode {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _is_sqlite_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or url.query.get("mode") == "memory"


def sqlite_writable(url: URL) -> bool:
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


def sqlite_file_written(url: URL) -> bool:
    """Whether ``url`` (an engine's) writes a SQLite file, and so its write-ahead log."""
    return (
        url.get_backend_name() == "sqlite"
        and not _is_sqlite_memory(url)
        and not _is_read_only_sqlite(url)
    )


def _is_read_only_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.query.get("mode") == "ro"


def _create_parent_directory(url: URL) -> None:
    database = url.database or ""
    if database.startswith("file:"):
        return  # a URI filename (uri=true): SQLite resolves it, we leave it alone
    try:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the directory for {safe_url(url)}: {exc}") from exc


# errors and messages


def error_class(exc: SQLAlchemyError) -> type[StoreError]:
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


def safe_url(url: URL) -> str:
    """The URL as text without its password, for messages."""
    return url.render_as_string(hide_password=True)


def display_url(url: str) -> str:
    """A configured database URL as text for the user, without its password."""
    try:
        return safe_url(make_url(url))
    except ArgumentError:
        return _redact(url)


def _redact(url: str) -> str:
    """Best effort for URLs SQLAlchemy could not parse: drop what looks like a password."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def reason(exc: BaseException, url: URL) -> str:
    """The driver's message without SQLAlchemy's SQL dump, and never the password."""
    orig = getattr(exc, "orig", None)
    message = " ".join(str(orig if orig is not None else exc).split())
    if url.password:
        message = message.replace(str(url.password), "***")
    return message
