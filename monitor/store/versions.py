"""Versions and changes on SQL: the texts stored of each article (with the raw bodies
they came from, compressed) and the changes detected between them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, fields, replace
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import Connection, and_, bindparam, insert, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from monitor.errors import ConflictError, StoreError
from monitor.models import (
    Change,
    ChangeKind,
    DiffStats,
    RawBody,
    Significance,
    TextSource,
    Version,
)
from monitor.store import ChangeCursor, ChangeFilter, pack_raw, unpack_raw
from monitor.store.rows import inserted_id, parse_drift, row_fields, to_columns
from monitor.store.schema import changes, versions
from monitor.store.transactions import Transactions

_VERSION_COLUMNS = [
    *(versions.c[f.name] for f in fields(Version)),
    versions.c.published_offset,
    versions.c.modified_offset,
]
_INSERT_VERSION = insert(versions)
# Asked once or twice per changed article: built once, as building a statement costs more
# than running it (as tracked_among's, store/articles.py).
_LATEST_VERSION = (
    select(*_VERSION_COLUMNS)
    .where(versions.c.article_id == bindparam("article_id"))
    .order_by(versions.c.number.desc())
    .limit(1)
)
_VERSION_BY_HASH = (
    select(*_VERSION_COLUMNS)
    .where(
        versions.c.article_id == bindparam("article_id"),
        versions.c.content_hash == bindparam("content_hash"),
    )
    .order_by(versions.c.number)
    .limit(1)
)
_INSERT_CHANGE = insert(changes)
# Least significance first: a filter "from major up" keeps the levels from major on.
_SIGNIFICANCE_ORDER = tuple(Significance)


class VersionTables(Transactions):
    """The store's versions and changes (``record`` writes them, in sql.py)."""

    def latest_version(self, article_id: int) -> Version | None:
        with self._read("read latest version") as conn:
            row = conn.execute(_LATEST_VERSION, {"article_id": article_id}).mappings().first()
        return None if row is None else _version(row)

    def get_version(self, article_id: int, number: int) -> Version | None:
        query = select(*_VERSION_COLUMNS).where(
            versions.c.article_id == article_id, versions.c.number == number
        )
        with self._read("read version") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _version(row)

    def get_versions(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Version]:
        """The versions named by (article id, number), in one query per 500 articles."""
        wanted = set(keys)
        found: dict[tuple[int, int], Version] = {}
        article_ids = sorted({article_id for article_id, _ in wanted})
        for start in range(0, len(article_ids), 500):
            chunk = article_ids[start : start + 500]
            numbers = sorted({number for article_id, number in wanted if article_id in chunk})
            query = select(*_VERSION_COLUMNS).where(
                versions.c.article_id.in_(chunk), versions.c.number.in_(numbers)
            )
            with self._read("read versions") as conn:
                for row in conn.execute(query).mappings():
                    if (row["article_id"], row["number"]) in wanted:
                        version = _version(row)
                        found[version.article_id, version.number] = version
        return found

    def list_versions(self, article_id: int) -> list[Version]:
        query = (
            select(*_VERSION_COLUMNS)
            .where(versions.c.article_id == article_id)
            .order_by(versions.c.number)
        )
        with self._read("list versions") as conn:
            return [_version(row) for row in conn.execute(query).mappings()]

    def find_version_by_hash(self, article_id: int, content_hash: str) -> Version | None:
        """The earliest version of the article with this content hash (to spot reverts)."""
        params = {"article_id": article_id, "content_hash": content_hash}
        with self._read("find version by hash") as conn:
            row = conn.execute(_VERSION_BY_HASH, params).mappings().first()
        return None if row is None else _version(row)

    def get_raw_body(self, article_id: int, number: int) -> RawBody | None:
        query = select(*RAW_COLUMNS).where(
            versions.c.article_id == article_id, versions.c.number == number
        )
        with self._read("read raw body") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else raw_body_of(row, article_id, number)

    def list_changes(
        self, article_id: int | None = None, since: datetime | None = None
    ) -> list[Change]:
        """Changes of one article or all, detected at or after ``since``, oldest first."""
        query = select(changes).order_by(changes.c.detected_at, changes.c.id)
        if article_id is not None:
            query = query.where(changes.c.article_id == article_id)
        if since is not None:
            query = query.where(changes.c.detected_at >= since)
        with self._read("list changes") as conn:
            return [_change(row) for row in conn.execute(query).mappings()]

    def page_changes(
        self, where: ChangeFilter, limit: int, after: ChangeCursor | None = None
    ) -> list[Change]:
        """Up to ``limit`` changes matching ``where``, newest first, after ``after``."""
        query = (
            select(changes)
            .where(*_change_conditions(where))
            .order_by(changes.c.detected_at.desc(), changes.c.id.desc())
            .limit(limit)
        )
        if after is not None:
            moment, change_id = after
            query = query.where(
                or_(
                    changes.c.detected_at < moment,
                    and_(changes.c.detected_at == moment, changes.c.id < change_id),
                )
            )
        with self._read("page changes") as conn:
            return [_change(row) for row in conn.execute(query).mappings()]

    def get_change(self, change_id: int) -> Change | None:
        with self._read("read change") as conn:
            row = conn.execute(select(changes).where(changes.c.id == change_id)).mappings().first()
        return None if row is None else _change(row)

    def changes_by_day(self, since: datetime) -> dict[tuple[str, date], int]:
        """{(feed, UTC day): changes detected} since ``since``: counted here rather than
        in SQL, whose date functions differ between SQLite and PostgreSQL."""
        query = select(changes.c.feed, changes.c.detected_at).where(changes.c.detected_at >= since)
        counts: dict[tuple[str, date], int] = {}
        with self._read("count changes by day") as conn:
            for feed, moment in conn.execute(query):
                day = moment.astimezone(UTC).date() if moment.tzinfo else moment.date()
                counts[feed, day] = counts.get((feed, day), 0) + 1
        return counts


def _change_conditions(where: ChangeFilter) -> list[ColumnElement[bool]]:
    """The SQL conditions of a ChangeFilter (one per field that is set)."""
    conditions: list[ColumnElement[bool]] = []
    if where.feed is not None:
        conditions.append(changes.c.feed == where.feed)
    if where.seed_id is not None:
        conditions.append(changes.c.seed_id == where.seed_id)
    if where.article_id is not None:
        conditions.append(changes.c.article_id == where.article_id)
    if where.kind is not None:
        conditions.append(changes.c.kind == str(where.kind))
    if where.min_significance is not None:
        start = _SIGNIFICANCE_ORDER.index(where.min_significance)
        levels = [str(level) for level in _SIGNIFICANCE_ORDER[start:]]
        conditions.append(changes.c.significance.in_(levels))
    if where.tag is not None:
        # Tags are a JSON list of words ("numbers", "flip-flop"): the quoted word, with
        # LIKE's wildcards escaped, matches one tag exactly.
        pattern = f"%{_like_literal(json.dumps(where.tag))}%"
        conditions.append(changes.c.tags.like(pattern, escape="\\"))
    if where.since is not None:
        conditions.append(changes.c.detected_at >= where.since)
    if where.until is not None:
        conditions.append(changes.c.detected_at < where.until)
    return conditions


def _like_literal(text: str) -> str:
    """``text`` matching only itself in a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def insert_version(conn: Connection, version: Version, raw: RawBody | None) -> int:
    """Insert ``version`` (with ``raw``, compressed); its row id."""
    values = to_columns(version)
    # Stored as the instant (UTC) and the page's offset: its own day survives the store.
    values["published_offset"] = _offset(version.published)
    values["modified_offset"] = _offset(version.modified)
    if raw is not None:
        values["raw_body"] = raw.packed if raw.packed is not None else pack_raw(raw.content)
        values["raw_content_type"] = raw.content_type
        values["raw_request_url"] = raw.request_url
        values["raw_status"] = raw.status
        values["raw_headers"] = None if raw.headers is None else json.dumps(raw.headers)
    try:
        result = conn.execute(_INSERT_VERSION, values)
    except IntegrityError as exc:
        raise ConflictError(
            f"version {version.number} of article {version.article_id} already exists"
        ) from exc
    return inserted_id(result)


def insert_changes(conn: Connection, new_changes: Sequence[Change]) -> list[Change]:
    saved = []
    for change in new_changes:
        values = to_columns(change)
        del values["id"]
        values["tags"] = json.dumps(list(change.tags)) if change.tags else None
        values["stats"] = json.dumps(asdict(change.stats)) if change.stats else None
        values["drift"] = json.dumps(asdict(change.drift)) if change.drift else None
        result = conn.execute(_INSERT_CHANGE, values)
        saved.append(replace(change, id=inserted_id(result)))
    return saved


RAW_COLUMNS = (
    versions.c.raw_body,
    versions.c.raw_content_type,
    versions.c.raw_request_url,
    versions.c.raw_status,
    versions.c.raw_headers,
)


def raw_body_of(row: RowMapping, article_id: int, number: int) -> RawBody | None:
    """The RawBody of a row with ``RAW_COLUMNS``, decompressed; None if none was kept."""
    if row["raw_body"] is None:
        return None
    try:
        content = unpack_raw(row["raw_body"])
    except ValueError as exc:
        raise StoreError(
            f"raw body of version {number} of article {article_id} is corrupt: {exc}"
        ) from exc
    headers = row["raw_headers"]
    return RawBody(
        content,
        row["raw_content_type"],
        request_url=row["raw_request_url"],
        status=row["raw_status"],
        headers=None if headers is None else tuple((k, v) for k, v in json.loads(headers)),
    )


def _version(row: RowMapping) -> Version:
    values = row_fields(row, Version)
    values["source"] = TextSource(values["source"])
    values["published"] = _at_offset(values["published"], row["published_offset"])
    values["modified"] = _at_offset(values["modified"], row["modified_offset"])
    return Version(**values)


def _offset(moment: datetime | None) -> int | None:
    """Minutes east of UTC of ``moment``'s zone; None for UTC itself (the common case)."""
    offset = moment.utcoffset() if moment is not None else None
    return int(offset.total_seconds() // 60) if offset else None


def _at_offset(moment: datetime | None, minutes: int | None) -> datetime | None:
    """The stored UTC instant in the zone the page gave it."""
    if moment is None or not minutes:
        return moment
    return moment.astimezone(timezone(timedelta(minutes=minutes)))


def _change(row: RowMapping) -> Change:
    values = row_fields(row, Change)
    values["kind"] = ChangeKind(values["kind"])
    if values["significance"] is not None:
        values["significance"] = Significance(values["significance"])
    values["tags"] = tuple(json.loads(values["tags"])) if values["tags"] else ()
    values["stats"] = DiffStats(**json.loads(values["stats"])) if values["stats"] else None
    values["drift"] = parse_drift(values["drift"])
    return Change(**values)
