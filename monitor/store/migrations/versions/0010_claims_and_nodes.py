"""Several nodes on one store (issue 17): each article's host, indexes to find due work
host by host, leased claims on hosts and feeds, and the nodes table.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.claims import url_host

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("host", sa.Text()))
    _fill_hosts(op.get_bind())
    op.drop_index("ix_articles_next_check", table_name="articles")
    op.create_index("ix_articles_next_check_host", "articles", ["next_check", "host"])
    op.create_index("ix_articles_host_next_check", "articles", ["host", "next_check"])
    op.create_table(
        "claims",
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("claimed_by", sa.Text()),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("kind", "name", name="pk_claims"),
    )
    op.create_index("ix_claims_claimed_by", "claims", ["claimed_by"])
    op.create_table(
        "nodes",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_nodes"),
    )


def _fill_hosts(bind: sa.Connection) -> None:
    """Each stored article's host, computed as the store computes it on every write (in
    Python, so that both databases agree with the fetcher on what a host is)."""
    table = sa.table("articles", sa.column("id", sa.Integer), sa.column("current_url", sa.Text))
    host = sa.table("articles", sa.column("id", sa.Integer), sa.column("host", sa.Text))
    fill = (
        sa.update(host).where(host.c.id == sa.bindparam("b_id")).values(host=sa.bindparam("b_host"))
    )
    after = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.current_url)
            .where(table.c.id > after)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(fill, [{"b_id": i, "b_host": url_host(url)} for i, url in rows])
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_table("nodes")
    op.drop_index("ix_claims_claimed_by", table_name="claims")
    op.drop_table("claims")
    op.drop_index("ix_articles_host_next_check", table_name="articles")
    op.drop_index("ix_articles_next_check_host", table_name="articles")
    op.create_index("ix_articles_next_check", "articles", ["next_check"])
    if op.get_bind().dialect.name == "sqlite":
        # Native (SQLite >= 3.35): a batch rebuild of `articles` would let the foreign keys'
        # ON DELETE CASCADE empty `versions` as the old table is dropped.
        op.execute("ALTER TABLE articles DROP COLUMN host")
    else:
        op.drop_column("articles", "host")
