"""The database schema as SQLAlchemy Core tables: used by ``sql.py`` and as the reference
that the Alembic migrations must reproduce (``tests/store/test_schema.py`` compares them).

Enumerations (article status, change kind, text source) are plain strings, not database
enums or CHECK constraints, so that adding a kind later needs no schema migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that always comes back as an aware UTC datetime.

    PostgreSQL keeps the instant (``timestamptz``) but answers in the session's time
    zone; SQLite keeps a naive string. Normalizing to UTC on the way in and attaching or
    converting to UTC on the way out makes both behave the same.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # SQLite stores the text without an offset; a fixed zone keeps it comparable.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value  # what the DateTime impl returns
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, the text SQLAlchemy would store ("YYYY-MM-DD HH:MM:SS.ffffff", UTC)
        made in one step, a third of the cost of ``process_bind_param`` and then
        SQLAlchemy's formatting, for the thousands of timestamps a round writes."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def utc_text(value: datetime | None) -> str | None:
            return None if value is None else sqlite_time(value)

        return utc_text

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """On SQLite, the stored text read straight into an aware UTC datetime: six times
        as fast as SQLAlchemy's parse and then ``process_result_value``, for the dozen
        timestamps of each of the thousands of rows a round reads (issue 16)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        general = super().result_processor(dialect, coltype)

        def utc(value: Any) -> datetime | None:
            if value is None:
                return None
            try:
                # As SQLAlchemy writes it: "YYYY-MM-DD HH:MM:SS.ffffff", UTC, no offset.
                return datetime.fromisoformat(value + "+00:00")
            except (TypeError, ValueError):  # written some other way: the general path
                parsed = general(value) if general is not None else value
                return self.process_result_value(parsed, dialect)

        return utc


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; ValueError if it is naive (a bug upstream: guessing its zone
    would corrupt ordering)."""
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: the store needs timezone-aware values")
    return moment.astimezone(UTC)


def sqlite_time(moment: datetime) -> str:
    """``moment`` as ``UTCDateTime`` keeps it on SQLite: SQLAlchemy's text form of the naive
    UTC time ("YYYY-MM-DD HH:MM:SS.ffffff"), which compares as the instants do."""
    return as_utc(moment).replace(tzinfo=None).isoformat(" ", "microseconds")


# Deterministic constraint names let later migrations (and SQLite batch mode) refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _article_id(**options: Any) -> Column[int]:
    """The column naming the article a row belongs to: the row goes when the article goes."""
    return Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), **options)


feeds = Table(
    "feeds",
    metadata,
    Column("name", Text, primary_key=True),
    Column("url", Text, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_checked", UTCDateTime),
    Column("last_success", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("next_due", UTCDateTime),
    Column("entries", Integer),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # No foreign key to feeds: articles outlive a feed removed from the configuration.
    Column("feed", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("current_url", Text, nullable=False),
    Column("canonical_url", Text),
    Column("guid", Text),
    Column("title", Text),
    Column("status", String(20), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_in_feed", UTCDateTime, nullable=False),
    Column("last_checked", UTCDateTime),
    Column("last_seen", UTCDateTime),
    Column("next_check", UTCDateTime),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_error", Text),
    Column("versions", Integer, nullable=False, server_default="0"),
    Column("suspect_hash", String(64)),  # 0004
    Column("swings", Integer, nullable=False, server_default="0"),  # 0004
    Column("feed_title", Text),  # 0004
    Column("body_hash", String(64)),  # 0004
    # 0005: bumped by every recorded event; a write based on an older one lost a race
    Column("revision", Integer, nullable=False, server_default="0"),
    Column("suspect_since", UTCDateTime),  # 0005: when suspect_hash was first fetched
    Column("feed_summary", Text),  # 0006: the entry's summary as last seen (normalized)
    # 0010: the host of current_url (as the fetcher's per-host slots name it), kept by the
    # store on every write of current_url: nodes claim due work host by host (issue 17)
    Column("host", Text),
    UniqueConstraint("url"),
)
Index(None, articles.c.feed)
# 0010: due articles in order, with their hosts (an index-only scan finds the hosts to
# claim); and one host's due articles (what a node reads once it holds the host).
Index(None, articles.c.next_check, articles.c.host)
Index(None, articles.c.host, articles.c.next_check)
Index(None, articles.c.current_url)
Index(None, articles.c.canonical_url)
Index(None, articles.c.guid)

# Other addresses of an article: links that turned out to name the same page (by canonical
# URL), so a second link to a known story is recognized without fetching it again.
article_urls = Table(
    "article_urls",
    metadata,
    Column("url", Text, primary_key=True),
    _article_id(nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)
Index(None, article_urls.c.article_id)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _article_id(nullable=False),
    Column("number", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("title", Text),
    Column("byline", Text),
    Column("published", UTCDateTime),
    Column("modified", UTCDateTime),
    # 0007: the offset (minutes east of UTC) the page gave those dates: the page's own day
    Column("published_offset", Integer),
    Column("modified_offset", Integer),
    Column("canonical_url", Text),
    Column("url", Text, nullable=False),
    Column("source", String(20), nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("raw_body", LargeBinary),  # response body, a zstd frame (older rows: zlib)
    Column("raw_content_type", Text),
    # 0008: the exchange the raw body came from, for WARC export (NULL before 0008)
    Column("raw_request_url", Text),
    Column("raw_status", Integer),
    Column("raw_headers", Text),  # JSON list of [name, value]
    Column("feed_title", Text),  # 0002
    Column("words", Integer),  # 0011: the text's word count (NULL: not counted yet)
    UniqueConstraint("article_id", "number"),
)

changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _article_id(nullable=False),
    Column("kind", String(20), nullable=False),
    Column("feed", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("title", Text),
    Column("version", Integer),
    Column("previous_version", Integer),
    Column("detail", Text),
    Column("detected_at", UTCDateTime, nullable=False),
    # 0002: the classified diff of changed and reverted versions
    Column("significance", String(20)),
    Column("tags", Text),  # JSON list
    Column("stats", Text),  # JSON object of DiffStats
    Column("reverted_to", Integer),
    # 0003: seeds
    Column("seed_id", Text),
    Column("drift", Text),  # JSON object of Drift
)
Index(None, changes.c.detected_at)
Index(None, changes.c.article_id)


# 0003: articles linked to seed baselines (one seed per article).
seed_links = Table(
    "seed_links",
    metadata,
    _article_id(primary_key=True),
    Column("seed_id", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list
    Column("linked_at", UTCDateTime, nullable=False),
    Column("drift", Text),  # JSON object of Drift
    Column("drift_version", Integer),
)
Index(None, seed_links.c.seed_id)

# 0003: the alert outbox, written in the same transaction as the changes it reports.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("channel", Text, nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("payload", Text, nullable=False),  # JSON
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("change_id", Integer, ForeignKey("changes.id", ondelete="SET NULL")),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt", UTCDateTime),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime),
    Column("digest", Boolean, nullable=False, server_default=false()),
    # A relay owns a claimed row until lease_until; a crashed relay's rows come due again.
    Column("lease_owner", Text),
    Column("lease_until", UTCDateTime),
    UniqueConstraint("event_id"),
)
Index(None, alerts.c.status, alerts.c.next_attempt)
Index(None, alerts.c.channel)


# 0004: named leases, so that two `check` runs do not work the same store at once.
locks = Table(
    "locks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("owner", Text, nullable=False),
    Column("until", UTCDateTime, nullable=False),
)


# 0009: the 304s that confirmed a version (issue 19), one row per article and version
# however often it is re-checked: first and last seen, how many, and what the server sent.
revisits = Table(
    "revisits",
    metadata,
    _article_id(primary_key=True),
    Column("version", Integer, primary_key=True),  # the number of the version confirmed
    Column("count", Integer, nullable=False),
    Column("first_at", UTCDateTime, nullable=False),
    Column("first_url", Text, nullable=False),
    Column("first_headers", Text),  # the HTTP header lines, CRLF between
    Column("last_at", UTCDateTime, nullable=False),
    Column("last_url", Text, nullable=False),
    Column("last_headers", Text),
    Column("etag", Text),  # the validators the server sent last
    Column("last_modified", Text),
)


# 0010: several nodes on one store (issue 17). Due work is claimed with a lease: a host's
# due articles ("host", host) or a feed's check ("feed", name). A row is free when its
# lease is NULL or has passed, so a dead node's claims come free by themselves.
claims = Table(
    "claims",
    metadata,
    Column("kind", String(8), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("claimed_by", Text),
    Column("lease_until", UTCDateTime),
)
Index(None, claims.c.claimed_by)

# 0010: the daemons working the store, each heartbeating (removed on a clean shutdown).
nodes = Table(
    "nodes",
    metadata,
    Column("id", Text, primary_key=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("version", Text, nullable=False),
    Column("started", UTCDateTime, nullable=False),
    Column("heartbeat", UTCDateTime, nullable=False),
)
