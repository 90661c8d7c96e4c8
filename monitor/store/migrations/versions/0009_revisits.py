"""Evidence out (issue 19): the 304 re-checks that confirmed a version, kept compactly (one
row per article and version: first and last 304, how many, the validators the server sent)
and exported as WARC revisit records.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "revisits",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", _timestamp(), nullable=False),
        sa.Column("first_url", sa.Text(), nullable=False),
        sa.Column("first_headers", sa.Text()),
        sa.Column("last_at", _timestamp(), nullable=False),
        sa.Column("last_url", sa.Text(), nullable=False),
        sa.Column("last_headers", sa.Text()),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.PrimaryKeyConstraint("article_id", "version", name="pk_revisits"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_revisits_article_id_articles",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("revisits")
