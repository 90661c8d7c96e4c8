"""Classified changes: significance, tags, stats, reverts; the feed title of a version.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("feed_title", sa.Text()))
    with op.batch_alter_table("changes") as batch:
        batch.add_column(sa.Column("significance", sa.String(20)))
        batch.add_column(sa.Column("tags", sa.Text()))
        batch.add_column(sa.Column("stats", sa.Text()))
        batch.add_column(sa.Column("reverted_to", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        for column in ("reverted_to", "stats", "tags", "significance"):
            batch.drop_column(column)
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("feed_title")
