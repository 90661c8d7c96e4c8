"""The connection (monitor/store/engine.py): database URLs, per-backend settings, errors
that name no password, migration on first open."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from monitor.errors import StoreError
from monitor.store.engine import database_url
from monitor.store.sql import SQLStore


def test_concurrent_first_open_migrates_once(store_url: str) -> None:
    start = threading.Barrier(3)
    opened: list[SQLStore] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            start.wait()
            opened.append(SQLStore.open(store_url))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=open_it) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    try:
        assert errors == []
        assert all(each.list_feeds() == [] for each in opened)
    finally:
        for each in opened:
            each.close()


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    opened = SQLStore.open(f"sqlite:///{tmp_path / 'monitor.db'}", lock_timeout=2.5)
    with opened, opened.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2_500


def test_postgresql_connections_bound_lock_waits_and_statements(pg_store_url: str) -> None:
    opened = SQLStore.open(pg_store_url, lock_timeout=2.5, statement_timeout=90)
    with opened, opened.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "2500ms"
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "90s"
        # The URL's own options (here the test schema) still apply.
        assert conn.exec_driver_sql("SHOW search_path").scalar().startswith("newsmonitor_test_")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite+pysqlite://"])
def test_in_memory_sqlite_is_refused(url: str) -> None:
    with pytest.raises(StoreError, match="in-memory"):
        SQLStore.open(url)


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(StoreError, match="unsupported"):
        SQLStore.open("mysql://user@localhost/db")


def test_bare_postgresql_url_uses_psycopg() -> None:
    assert database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("postgres://u@h/db").drivername == "postgresql+psycopg"


def test_connection_failure_names_url_without_password() -> None:
    # Port 1 on loopback: refused at once, no server needed.
    with pytest.raises(StoreError) as caught:
        SQLStore.open("postgresql://newsmonitor:s3cret-pw@127.0.0.1:1/monitor")
    message = str(caught.value)
    assert "cannot connect to postgresql+psycopg://newsmonitor:***@127.0.0.1:1/monitor" in message
    assert "s3cret-pw" not in message
