"""The feed entry's summary as last seen, so that an edit to it is noticed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("feed_summary", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("feed_summary")
