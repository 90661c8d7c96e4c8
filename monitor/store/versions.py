"""Versions and changes on SQL: the texts stored of each article (with the raw bodies
they came from, compressed) and the changes detected between them."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import asdict, fields, replace
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

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
from monitor.store import pack_raw
from monitor.store.rows import inserted_id, parse_drift, row_fields, to_columns
from monitor.store.schema import changes, versions
from monitor.store.transactions import Transactions

_VERSION_COLUMNS = [
    *(versions.c[f.name] for f in fields(Version)),
    versions.c.published_offset,
    versions.c.modified_offset,
]
_INSERT_VERSION = insert(versions)
_INSERT_CHANGE = insert(changes)


class VersionTables(Transactions):
    """The store's versions and changes (``record`` writes them, in sql.py)."""

    def latest_version(self, article_id: int) -> Version | None:
        query = (
            select(*_VERSION_COLUMNS)
            .where(versions.c.article_id == article_id)
            .order_by(versions.c.number.desc())
            .limit(1)
        )
        with self._read("read latest version") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _version(row)

    def get_version(self, article_id: int, number: int) -> Version | None:
        query = select(*_VERSION_COLUMNS).where(
            versions.c.article_id == article_id, versions.c.number == number
        )
        with self._read("read version") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _version(row)

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
        query = (
            select(*_VERSION_COLUMNS)
            .where(versions.c.article_id == article_id, versions.c.content_hash == content_hash)
            .order_by(versions.c.number)
            .limit(1)
        )
        with self._read("find version by hash") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _version(row)

    def get_raw_body(self, article_id: int, number: int) -> RawBody | None:
        query = select(versions.c.raw_body, versions.c.raw_content_type).where(
            versions.c.article_id == article_id, versions.c.number == number
        )
        with self._read("read raw body") as conn:
            row = conn.execute(query).first()
        if row is None or row.raw_body is None:
            return None
        try:
            content = zlib.decompress(row.raw_body)
        except zlib.error as exc:
            raise StoreError(
                f"raw body of version {number} of article {article_id} is corrupt: {exc}"
            ) from exc
        return RawBody(content, row.raw_content_type)

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


def insert_version(conn: Connection, version: Version, raw: RawBody | None) -> None:
    values = to_columns(version)
    # Stored as the instant (UTC) and the page's offset: its own day survives the store.
    values["published_offset"] = _offset(version.published)
    values["modified_offset"] = _offset(version.modified)
    if raw is not None:
        values["raw_body"] = raw.packed if raw.packed is not None else pack_raw(raw.content)
        values["raw_content_type"] = raw.content_type
    try:
        conn.execute(_INSERT_VERSION, values)
    except IntegrityError as exc:
        raise ConflictError(
            f"version {version.number} of article {version.article_id} already exists"
        ) from exc


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
