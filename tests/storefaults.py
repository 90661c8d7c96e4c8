"""Real storage faults for tests: what another process, a dying server or a full disk does.

- ``write_lock``: a second connection holds the store's write lock (SQLite) or locks tables
  against writers (PostgreSQL), as a long transaction elsewhere would.
- ``row_lock``: a second connection holds one article row ``FOR UPDATE`` (PostgreSQL).
- ``BackendKiller``: terminates the store's PostgreSQL backend with ``pg_terminate_backend``
  just before the statements you choose, as a crash or a failover would.
- ``tmpfs``: a size-limited tmpfs (for a full disk; ``resize`` gives the space back,
  ``read_only`` remounts it read-only). ``pg_tablespace`` puts a PostgreSQL schema's tables
  on one. Mounting needs root: without it, the tests that need one skip and say why.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from monitor.store.sql import SQLStore

WRITTEN_TABLES = "articles, versions, changes, feeds, alerts, locks, article_urls, seed_links"


@contextmanager
def write_lock(url: str, tables: str = WRITTEN_TABLES) -> Iterator[None]:
    """Another connection holds the store against writers until the block ends: SQLite's
    one write lock, or on PostgreSQL an EXCLUSIVE lock on ``tables`` (reads go on)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        raw = sqlite3.connect(parsed.database or "", isolation_level=None)
        try:
            raw.execute("BEGIN IMMEDIATE")
            yield
            raw.execute("ROLLBACK")
        finally:
            raw.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text(f"LOCK TABLE {tables} IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


@contextmanager
def row_lock(url: str, article_id: int) -> Iterator[None]:
    """Another connection holds article ``article_id``'s row FOR UPDATE (PostgreSQL)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(
                text("SELECT id FROM articles WHERE id = :id FOR UPDATE"), {"id": article_id}
            )
            yield
    finally:
        engine.dispose()


class BackendKiller:
    """Terminates the store's PostgreSQL backend just before statements starting with
    ``prefix`` (the first ``times`` of them), so they meet a connection the server ended."""

    def __init__(self, store: SQLStore, admin: Engine, prefix: str, times: int = 1) -> None:
        self.engine = store.engine
        self.admin = admin
        self.prefix = prefix.upper()
        self.left = times
        self.killed: list[str] = []
        event.listen(self.engine, "before_cursor_execute", self._before)

    def _before(
        self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if self.left <= 0 or not statement.lstrip().upper().startswith(self.prefix):
            return
        self.left -= 1
        pid = conn.connection.dbapi_connection.info.backend_pid
        with self.admin.connect() as admin:
            # The second argument waits (ms) until the backend has really gone.
            admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        self.killed.append(statement.split("(")[0].strip())

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)


def mount_point() -> Path:
    """A new folder outside pytest's private temporary folder, which the PostgreSQL server
    (another user) could not reach."""
    folder = Path(tempfile.mkdtemp(prefix="newsmonitor-disk-"))
    folder.chmod(0o755)
    return folder


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (``"1m"``, ``"512k"``) mounted at ``path``; skips without root."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        _mount("-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(path))
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", None) or exc
        pytest.skip(f"cannot mount a tmpfs at {path} (needs root): {str(detail).strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
        with contextlib.suppress(OSError):
            path.rmdir()  # empty again once unmounted


def resize(path: Path, size: str) -> None:
    """Give a tmpfs more (or less) room."""
    _mount("-o", f"remount,size={size}", str(path))


def read_only(path: Path) -> None:
    """Remount a tmpfs read-only: nothing on it can be written, not even by root."""
    _mount("-o", "remount,ro", str(path))


@contextmanager
def pg_tablespace(admin: Engine, path: Path) -> Iterator[str]:
    """A tablespace on ``path`` (a tmpfs); skips where the server is not on this machine.

    Put a schema's tables there with ``-cdefault_tablespace=<name>`` in the URL's options;
    drop them before the tablespace (``postgresql_schema`` inside this block does)."""
    host = admin.url.host or "localhost"
    if host not in ("127.0.0.1", "localhost", "::1"):
        pytest.skip(f"a full-disk tablespace needs the PostgreSQL server on this machine ({host})")
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("a full-disk tablespace needs the server's 'postgres' user on this machine")
    os.chown(path, owner.pw_uid, owner.pw_gid)
    name = f"newsmonitor_full_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE TABLESPACE {name} LOCATION '{path}'"))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP TABLESPACE IF EXISTS {name}"))
