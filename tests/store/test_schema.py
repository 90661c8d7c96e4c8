"""The schema (monitor/store/schema.py): what the migrations build, and UTC timestamps."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from monitor.errors import StoreError
from monitor.store.evidence import INDEX_TABLE
from monitor.store.migrate import head_revision
from monitor.store.schema import metadata
from monitor.store.sql import SQLStore
from tests.store.samples import new_article


def test_migration_leaves_version_table_at_head_and_schema_matches(store: SQLStore) -> None:
    with store.engine.connect() as conn:
        revisions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        context = MigrationContext.configure(conn, opts={"include_name": outside_search})
        differences = compare_metadata(context, metadata)
    assert revisions == [head_revision()]
    assert differences == []


def outside_search(name: str | None, type_: str, parent_names: object) -> bool:
    """The search index (FTS5 and its shadow tables, or a tsvector table) is built by its
    migration in each database's own terms, outside the metadata: not compared."""
    return not (name or "").startswith(INDEX_TABLE)


def test_naive_datetime_is_refused(store: SQLStore) -> None:
    with pytest.raises(StoreError, match="naive"):
        store.add_article(new_article(first_seen=datetime(2024, 5, 1, 12, 0)))
