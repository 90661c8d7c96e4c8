"""Evidence out (issue 19): the phrase search index over every stored version (an FTS5
table on SQLite, a table of tsvectors with a GIN index on PostgreSQL, filled here for the
versions stored so far), and the request URL, status and response headers of each raw
capture from now on (for WARC export).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.evidence import INDEX_TABLE, index_missing

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The exchange each raw body came from, for WARC export; older captures have none.
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("raw_request_url", sa.Text()))
        batch.add_column(sa.Column("raw_status", sa.Integer()))
        batch.add_column(sa.Column("raw_headers", sa.Text()))
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Contentless: the texts are in `versions`; the index keeps only their words.
        op.execute(
            f"CREATE VIRTUAL TABLE {INDEX_TABLE} USING fts5("
            "words, content='', tokenize='unicode61 remove_diacritics 0')"
        )
        index_missing(bind)
        return
    op.execute(
        f"CREATE TABLE {INDEX_TABLE} ("
        " version_id INTEGER PRIMARY KEY REFERENCES versions (id) ON DELETE CASCADE,"
        " words TSVECTOR)"
    )
    index_missing(bind)  # before the GIN index: building it once is faster than row by row
    op.execute(f"CREATE INDEX ix_{INDEX_TABLE}_words ON {INDEX_TABLE} USING GIN (words)")
    # Texts too large for a tsvector (NULL) are searched every time: found by this.
    op.execute(
        f"CREATE INDEX ix_{INDEX_TABLE}_unindexed ON {INDEX_TABLE} (version_id) WHERE words IS NULL"
    )


def downgrade() -> None:
    op.execute(f"DROP TABLE {INDEX_TABLE}")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("raw_headers")
        batch.drop_column("raw_status")
        batch.drop_column("raw_request_url")
