"""Suspect fetches awaiting confirmation; named leases for runs; cheap re-check columns.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("suspect_hash", sa.String(64)))
        batch.add_column(sa.Column("swings", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("feed_title", sa.Text()))
        batch.add_column(sa.Column("body_hash", sa.String(64)))
    op.create_table(
        "locks",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_locks"),
    )


def downgrade() -> None:
    op.drop_table("locks")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("body_hash")
        batch.drop_column("feed_title")
        batch.drop_column("swings")
        batch.drop_column("suspect_hash")
