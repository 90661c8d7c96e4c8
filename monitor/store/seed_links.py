"""Seed links on SQL: which seed baseline each article is linked to, why, and how far it
has drifted from it (``seed_links``)."""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import RowMapping

from monitor.models import SeedLink
from monitor.store.rows import parse_drift, row_fields, to_columns
from monitor.store.schema import seed_links
from monitor.store.transactions import Transactions


class SeedLinkTable(Transactions):
    """The store's seed links (``record`` saves them with a version, in sql.py)."""

    def get_seed_link(self, article_id: int) -> SeedLink | None:
        query = select(seed_links).where(seed_links.c.article_id == article_id)
        with self._read("read seed link") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _seed_link(row)

    def list_seed_links(self, seed_id: str | None = None) -> list[SeedLink]:
        query = select(seed_links).order_by(seed_links.c.seed_id, seed_links.c.article_id)
        if seed_id is not None:
            query = query.where(seed_links.c.seed_id == seed_id)
        with self._read("list seed links") as conn:
            return [_seed_link(row) for row in conn.execute(query).mappings()]

    def remove_seed_link(self, article_id: int) -> None:
        with self._write("remove seed link") as conn:
            conn.execute(seed_links.delete().where(seed_links.c.article_id == article_id))


def save_seed_link(conn: Connection, link: SeedLink) -> None:
    values = {
        **to_columns(link),
        "reasons": json.dumps(list(link.reasons)),
        "drift": json.dumps(asdict(link.drift)) if link.drift else None,
    }
    table_keys = seed_links.c.article_id == link.article_id
    if conn.execute(update(seed_links).where(table_keys).values(values)).rowcount == 0:
        # record() holds the article's row: no other process can link it meanwhile.
        conn.execute(insert(seed_links).values(values))


def _seed_link(row: RowMapping) -> SeedLink:
    values = row_fields(row, SeedLink)
    values["reasons"] = tuple(json.loads(values["reasons"]))
    values["drift"] = parse_drift(values["drift"])
    return SeedLink(**values)
