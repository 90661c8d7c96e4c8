"""``Transactions``: the store's one way to the database, shared by its tables.

Every public method of the store is one short transaction on a pooled connection, so one
store can be shared by threads. A read takes a connection whose implicit transaction is
rolled back; a write takes its turn (SQLite: one writer at a time in this process, within
the lock timeout), begins at once with the write lock, and commits on success. Database
errors leave as ``StoreError`` (busy, read-only or plain); rows never leave the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import StoreBusyError
from monitor.store import WouldWaitError
from monitor.store.checkpoints import Checkpointer
from monitor.store.engine import (
    LOCK_TIMEOUT_S,
    SQLITE_BEGIN,
    error_class,
    reason,
    sqlite_file_written,
)


class Transactions:
    """Reads and writes on ``engine``; the tables' classes build the store's methods on it."""

    def __init__(self, engine: Engine, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self._engine = engine
        self._lock_timeout = lock_timeout
        # SQLite has one writer at a time: this process's writers queue here, in order,
        # rather than in SQLite's busy loop, which sleeps up to 100 ms between tries.
        self._writer = threading.RLock() if engine.dialect.name == "sqlite" else None
        self._locked_until = 0.0  # SQLite: monotonic time before which writes fail at once
        self._local = _Local()  # per thread: whether writes may wait (without_waiting)
        # SQLite: the write-ahead log is copied back by a thread, not by a commit.
        self._checkpoints = Checkpointer(engine) if sqlite_file_written(engine.url) else None

    @property
    def in_place(self) -> bool:
        """SQLite: calls are work in this process, and reads never wait for a lock."""
        return self._writer is not None

    @property
    def engine(self) -> Engine:
        """The underlying engine, for tooling and tests; application code uses the methods."""
        return self._engine

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.close()
        self._engine.dispose()

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
                conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
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
        if self._checkpoints is not None:
            self._checkpoints.nudge()

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
    def _translate(self, action: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            message = f"{action} failed: {reason(exc, self._engine.url)}"
            raise error_class(exc)(message) from exc

    def _dialect_insert(self, table: Any) -> Any:
        """The dialect's INSERT for ``table`` (it has ON CONFLICT on both databases)."""
        # Imported here: a SQLite user never loads the PostgreSQL dialect, and vice versa.
        if self._engine.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)


class _Local(threading.local):
    nowait = False
