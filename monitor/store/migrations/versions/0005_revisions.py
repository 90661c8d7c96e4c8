"""Article revisions for lost-race detection; when a suspect fetch was first seen.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("suspect_since", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("suspect_since")
        batch.drop_column("revision")
