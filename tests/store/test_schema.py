"""The schema (monitor/store/schema.py): what the migrations build, and UTC timestamps."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from monitor.errors import StoreError
from monitor.store.migrate import head_revision
from monitor.store.schema import metadata
from monitor.store.sql import SQLStore
from tests.store.samples import new_article


def test_migration_leaves_version_table_at_head_and_schema_matches(store: SQLStore) -> None:
    with store.engine.connect() as conn:
        revisions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert revisions == [head_revision()]
    assert differences == []


def test_naive_datetime_is_refused(store: SQLStore) -> None:
    with pytest.raises(StoreError, match="naive"):
        store.add_article(new_article(first_seen=datetime(2024, 5, 1, 12, 0)))
