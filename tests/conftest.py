"""Shared fixtures: a loopback web server and stores on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from monitor.store.sql import SQLStore
from tests.webserver import WebServer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

PG_URL_ENV = "NEWSMONITOR_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def web() -> Iterator[WebServer]:
    server = WebServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgresql_admin() -> Iterator[Engine]:
    """An autocommit engine on the test server; skips (once per session) if none answers."""
    url = make_url(os.environ.get(PG_URL_ENV, DEFAULT_PG_URL))
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    # Pinged before use: a test that restarts the server leaves the pool's connections dead.
    engine = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=True,
        connect_args={"connect_timeout": 3},
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        pytest.skip(
            f"PostgreSQL not reachable at {url.render_as_string(hide_password=True)}: {reason}"
            f" (set {PG_URL_ENV})"
        )
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        # A missing parent directory on purpose: opening the store must create it.
        yield f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"
        return
    with postgresql_schema(request.getfixturevalue("postgresql_admin")) as url:
        yield url


@pytest.fixture
def pg_store_url(postgresql_admin: Engine) -> Iterator[str]:
    """A URL to a fresh PostgreSQL schema, for PostgreSQL-only tests."""
    with postgresql_schema(postgresql_admin) as url:
        yield url


@contextmanager
def postgresql_schema(admin: Engine, options: str = "") -> Iterator[str]:
    """A URL to a fresh schema on the test server (with extra libpq ``options``), dropped
    on exit."""
    schema = f"newsmonitor_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema} {options}".strip()})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def store(store_url: str) -> Iterator[SQLStore]:
    opened = SQLStore.open(store_url)
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def small_disk(request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    """A store URL whose data lives on a 2 MB tmpfs (PostgreSQL: the schema's tables, in a
    tablespace there), and the tmpfs, for full-disk tests. Needs root to mount."""
    from tests.storefaults import mount_point, pg_tablespace, tmpfs

    with tmpfs(mount_point(), "2m") as disk:
        if request.param == "sqlite":
            yield f"sqlite:///{disk / 'monitor.db'}", disk
            return
        admin: Engine = request.getfixturevalue("postgresql_admin")
        with (
            pg_tablespace(admin, disk) as space,
            postgresql_schema(admin, f"-cdefault_tablespace={space}") as url,
        ):
            yield url, disk
