"""Initial schema: feeds, articles, article_urls, versions, changes.

Written out in full rather than built from ``schema.py``: a migration must keep meaning
the same thing after the reference schema moves on.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("last_checked", _timestamp()),
        sa.Column("last_success", _timestamp()),
        sa.Column("last_status", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_due", _timestamp()),
        sa.Column("entries", sa.Integer()),
        sa.PrimaryKeyConstraint("name", name="pk_feeds"),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("feed", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("current_url", sa.Text(), nullable=False),
        sa.Column("canonical_url", sa.Text()),
        sa.Column("guid", sa.Text()),
        sa.Column("title", sa.Text()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("first_seen", _timestamp(), nullable=False),
        sa.Column("last_in_feed", _timestamp(), nullable=False),
        sa.Column("last_checked", _timestamp()),
        sa.Column("last_seen", _timestamp()),
        sa.Column("next_check", _timestamp()),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("last_error", sa.Text()),
        sa.Column("versions", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("url", name="uq_articles_url"),
    )
    for column in ("feed", "next_check", "current_url", "canonical_url", "guid"):
        op.create_index(f"ix_articles_{column}", "articles", [column])

    op.create_table(
        "article_urls",
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("added_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_article_urls"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_article_urls_article_id_articles",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_article_urls_article_id", "article_urls", ["article_id"])

    op.create_table(
        "versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("byline", sa.Text()),
        sa.Column("published", _timestamp()),
        sa.Column("modified", _timestamp()),
        sa.Column("canonical_url", sa.Text()),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("fetched_at", _timestamp(), nullable=False),
        sa.Column("raw_body", sa.LargeBinary()),
        sa.Column("raw_content_type", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_versions"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_versions_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("article_id", "number", name="uq_versions_article_id_number"),
    )

    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("feed", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("version", sa.Integer()),
        sa.Column("previous_version", sa.Integer()),
        sa.Column("detail", sa.Text()),
        sa.Column("detected_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_changes"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_changes_article_id_articles",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_changes_detected_at", "changes", ["detected_at"])
    op.create_index("ix_changes_article_id", "changes", ["article_id"])


def downgrade() -> None:
    op.drop_table("changes")
    op.drop_table("versions")
    op.drop_table("article_urls")
    op.drop_table("articles")
    op.drop_table("feeds")
