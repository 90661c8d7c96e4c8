"""Alembic wiring (monitor/store/migrate.py): upgrades keep data; HEAD names the newest
revision."""

from __future__ import annotations

from sqlalchemy import text

from monitor.store.migrate import head_revision
from monitor.store.sql import SQLStore


def test_upgrade_from_first_revision_keeps_data(store_url: str) -> None:
    from alembic import command

    from monitor.store.engine import create_store_engine
    from monitor.store.migrate import alembic_config

    engine = create_store_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.exec_driver_sql(
            "INSERT INTO articles (feed, url, current_url, status, first_seen, last_in_feed,"
            " versions) VALUES ('f', 'https://x/a', 'https://x/a', 'active',"
            " '2024-05-01 12:00:00+00:00', '2024-05-01 12:00:00+00:00', 0)"
        )
    engine.dispose()
    with SQLStore.open(store_url) as upgraded:
        (article,) = upgraded.list_articles()
        assert article.url == "https://x/a"
        with upgraded.engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert revision == head_revision()


def test_head_constant_is_the_newest_migration() -> None:
    # A store at HEAD is opened without Alembic: HEAD must name the real newest revision.
    from monitor.store.migrate import HEAD

    assert head_revision() == HEAD
