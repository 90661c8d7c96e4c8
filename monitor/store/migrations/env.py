"""Alembic environment: reuses the connection ``SQLStore.open`` passes in.

Run from the command line (``alembic -c monitor/store/alembic.ini ...``) it connects to
``sqlalchemy.url`` itself, with the same engine setup the store uses.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from monitor.store.migrate import CONNECTION_ATTRIBUTE
from monitor.store.schema import metadata

config = context.config

# Only the alembic command line should touch logging; the store runs inside an application.
if config.config_file_name is not None and CONNECTION_ATTRIBUTE not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str | None:
    """``-x url=...`` on the command line wins over ``sqlalchemy.url`` in the ini file."""
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )


def _run(connection: Connection) -> None:
    # render_as_batch: SQLite can only ALTER through table copies; autogenerate must know.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get(CONNECTION_ATTRIBUTE)
    if connection is not None:
        _run(connection)
        return
    from monitor.store.sql import create_store_engine

    url = _url()
    if not url:
        raise RuntimeError("set sqlalchemy.url in the ini file or pass -x url=...")
    engine = create_store_engine(url)
    try:
        with engine.connect() as standalone:
            _run(standalone)
            standalone.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
