"""Seed links and drift; the alert outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.add_column(sa.Column("seed_id", sa.Text()))
        batch.add_column(sa.Column("drift", sa.Text()))

    op.create_table(
        "seed_links",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("seed_id", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("linked_at", _timestamp(), nullable=False),
        sa.Column("drift", sa.Text()),
        sa.Column("drift_version", sa.Integer()),
        sa.PrimaryKeyConstraint("article_id", name="pk_seed_links"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_seed_links_article_id_articles",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_seed_links_seed_id", "seed_links", ["seed_id"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("change_id", sa.Integer()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt", _timestamp()),
        sa.Column("last_error", sa.Text()),
        sa.Column("delivered_at", _timestamp()),
        sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("lease_owner", sa.Text()),
        sa.Column("lease_until", _timestamp()),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["changes.id"],
            name="fk_alerts_change_id_changes",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("event_id", name="uq_alerts_event_id"),
    )
    op.create_index("ix_alerts_status_next_attempt", "alerts", ["status", "next_attempt"])
    op.create_index("ix_alerts_channel", "alerts", ["channel"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("seed_links")
    with op.batch_alter_table("changes") as batch:
        batch.drop_column("drift")
        batch.drop_column("seed_id")
