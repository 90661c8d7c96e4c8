"""Alembic wiring: a Config built in code, so migrations run from any cwd without an ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Key under which env.py finds the live connection to migrate (see migrations/env.py).
CONNECTION_ATTRIBUTE = "connection"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations, optionally bound to ``connection``."""
    config = Config()
    # ConfigParser interpolation would choke on a '%' in the install path.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes[CONNECTION_ATTRIBUTE] = connection
    return config


def head_revision() -> str:
    """The revision the packaged migrations lead to."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def upgrade(connection: Connection) -> None:
    """Migrate the database behind ``connection`` to the head revision.

    The caller owns the transaction (and any lock around it); env.py only reuses it.
    """
    command.upgrade(alembic_config(connection), "head")
