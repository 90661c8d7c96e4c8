"""Alembic wiring: a Config built in code, so migrations run from any cwd without an ini."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# The newest migration's revision; a test checks it against the migrations themselves.
# A store already there is opened without loading Alembic at all (a third of a second).
HEAD = "0011"

# Key under which env.py finds the live connection to migrate (see migrations/env.py).
CONNECTION_ATTRIBUTE = "connection"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations, optionally bound to ``connection``."""
    from alembic.config import Config

    config = Config()
    # ConfigParser interpolation would choke on a '%' in the install path.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes[CONNECTION_ATTRIBUTE] = connection
    return config


def head_revision() -> str:
    """The revision the packaged migrations lead to."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def upgrade(connection: Connection) -> None:
    """Migrate the database behind ``connection`` to the head revision.

    The caller owns the transaction (and any lock around it); env.py only reuses it.
    """
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def at_head(connection: Connection) -> bool:
    """Whether the database is known to be at ``HEAD`` (a new one is not); ends the
    connection's transaction either way."""
    return current_revision(connection) == HEAD


def current_revision(connection: Connection) -> str | None:
    """The revision the database's schema is at (None: a new database); ends the
    connection's transaction."""
    try:
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    except SQLAlchemyError:  # no such table: a new database
        row = None
    connection.rollback()
    return None if row is None else str(row[0])


def is_known(revision: str) -> bool:
    """Whether this code has the migration ``revision``: a database at one it does not know
    was upgraded by a newer newsmonitor (issue 17: nodes upgraded one at a time)."""
    return any((MIGRATIONS_DIR / "versions").glob(f"{revision}_*.py"))
