"""The UTC offset a page gave its dates, so that a version shows the page's own day.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("published_offset", sa.Integer()))
        batch.add_column(sa.Column("modified_offset", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("modified_offset")
        batch.drop_column("published_offset")
