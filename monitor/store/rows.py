"""Rows <-> dataclasses, for every table: column names equal field names, enums are stored
as their values, nested values (tags, stats, drift, reasons, payloads) as JSON text."""

from __future__ import annotations

import functools
import json
from dataclasses import fields
from enum import Enum
from typing import Any

from sqlalchemy.engine import CursorResult, RowMapping

from monitor.errors import StoreError
from monitor.models import Drift


def to_columns(obj: Any) -> dict[str, Any]:
    """The column values of dataclass ``obj``, by field name."""
    return {f.name: column_value(getattr(obj, f.name)) for f in fields(obj)}


def column_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def row_fields(row: RowMapping, cls: type) -> dict[str, Any]:
    """The fields of dataclass ``cls`` from ``row``, unconverted."""
    return {name: row[name] for name in field_names(cls)}


@functools.cache
def field_names(cls: type) -> tuple[str, ...]:
    """Dataclass ``cls``'s field names (asked once per row read: kept)."""
    return tuple(f.name for f in fields(cls))


def inserted_id(result: CursorResult[Any]) -> int:
    # The cursor's lastrowid / RETURNING value; not RETURNING explicitly, so that
    # SQLite older than 3.35 keeps working.
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise StoreError("the database did not report the id of the inserted row")
    return int(key[0])


def parse_drift(text: str | None) -> Drift | None:
    if not text:
        return None
    found: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in json.loads(text).items()
    }
    return Drift(**found)
