"""Each version's word count, kept with it: the quality gate compares a fetched text's
length in words with the latest version's, and counting that again on every edit was a
tenth of the event loop's time in a busy round (issue 16). NULL for older versions: their
count is taken from the text when asked.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("words", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("words")
