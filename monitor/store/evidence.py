"""Getting evidence out of the store (issue 19): phrase search over every stored version,
and the whole archive read in batches, for exports.

The search index holds each version's words, casefolded, one space apart
(``index_words``): SQLite in an FTS5 table, PostgreSQL as a tsvector with a GIN
index, both named ``version_words`` and written in the transaction that stores the
version. The index only narrows the versions to read: every candidate is checked against
its stored text (``contains_phrase``), so both databases give the same answer, and
tokenizer quirks (FTS5's, PostgreSQL's parser) can only add candidates, never drop one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, TextClause, select, text, tuple_
from sqlalchemy.sql.elements import ColumnElement

from monitor.models import Article, Change, PhraseHistory, RawBody, Version, VersionStamp
from monitor.store.articles import article_of
from monitor.store.schema import articles, changes, versions
from monitor.store.transactions import Transactions

# The store's own row readers (versions.py): one definition of a row as a model.
from monitor.store.versions import _VERSION_COLUMNS, RAW_COLUMNS, _change, _version, raw_body_of

INDEX_TABLE = "version_words"
_WORD = re.compile(r"\w+")
# PostgreSQL's tsvector keeps word positions up to 16,383, words up to 2,047 bytes and a
# document up to 1 MB. A text past those limits is indexed as NULL, which makes it a
# candidate for every search (and is checked like any other), so nothing is missed.
_PG_MAX_WORDS = 16_000
_PG_MAX_WORD_CHARS = 500
_PG_MAX_BYTES = 600_000
# The order versions are read in by the batched reads.
_VERSION_KEY = (versions.c.article_id, versions.c.number)


def phrase_words(phrase: str) -> list[str]:
    """The words of ``phrase`` as the index keeps them (casefolded; punctuation dropped)."""
    return _WORD.findall(phrase.casefold())


def index_words(content: str) -> str:
    """What the index holds of a text: its words, casefolded, one space apart."""
    return " ".join(phrase_words(content))


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A pattern for ``phrase`` in casefolded text: its characters in order, any run of
    whitespace for a space, and not inside a longer word at either end."""
    folded = phrase.casefold().strip()
    core = r"\s+".join(re.escape(piece) for piece in folded.split())
    if re.match(r"\w", folded):
        # Checked after the first character, not before it: a pattern that starts with a
        # literal is found by re's fast prefix scan (three times faster on news texts).
        core = core[0] + r"(?<!\w.)" + core[1:]
    after = r"(?!\w)" if re.search(r"\w$", folded) else ""
    return re.compile(core + after, re.DOTALL)


def contains_phrase(content: str, pattern: re.Pattern[str]) -> bool:
    """Whether ``content`` has the phrase (case-insensitive, as whole words)."""
    return pattern.search(content.casefold()) is not None


def index_version(conn: Connection, version_id: int, content: str) -> None:
    """Add a stored version's words to the search index (in the caller's transaction)."""
    index_versions(conn, [(version_id, content)])


def index_versions(conn: Connection, batch: Sequence[tuple[int, str]]) -> None:
    """``index_version`` for each (version id, text) of ``batch``, in one round trip."""
    if not batch:
        return
    words = [(version_id, index_words(content)) for version_id, content in batch]
    if conn.dialect.name == "sqlite":
        rows = [{"id": version_id, "words": text_words} for version_id, text_words in words]
        conn.execute(text(f"INSERT INTO {INDEX_TABLE} (rowid, words) VALUES (:id, :words)"), rows)
        return
    rows = [
        {"id": version_id, "words": text_words, "fits": _fits_tsvector(text_words)}
        for version_id, text_words in words
    ]
    conn.execute(
        text(
            f"INSERT INTO {INDEX_TABLE} (version_id, words)"
            " VALUES (:id, CASE WHEN :fits THEN to_tsvector('simple', :words) END)"
        ),
        rows,
    )


def index_missing(conn: Connection, batch: int = 1000) -> int:
    """Index the stored versions the index lacks (those stored before it existed, or by a
    bulk load that bypassed ``record``); how many it indexed."""
    key = "rowid" if conn.dialect.name == "sqlite" else "version_id"
    done = 0
    after = 0
    while True:
        rows = conn.execute(
            text(
                "SELECT id, text FROM versions WHERE id > :after AND NOT EXISTS"
                f" (SELECT 1 FROM {INDEX_TABLE} WHERE {key} = versions.id)"
                " ORDER BY id LIMIT :batch"
            ),
            {"after": after, "batch": batch},
        ).all()
        index_versions(conn, [(version_id, content) for version_id, content in rows])
        done += len(rows)
        if len(rows) < batch:
            return done
        after = rows[-1][0]


def _fits_tsvector(words: str) -> bool:
    tokens = words.split(" ")
    return (
        len(tokens) <= _PG_MAX_WORDS
        and len(words.encode()) <= _PG_MAX_BYTES
        and all(len(token) <= _PG_MAX_WORD_CHARS for token in tokens)
    )


class EvidenceTables(Transactions):
    """Phrase search and batched reads of the whole archive."""

    def search_phrase(
        self, phrase: str, feed: str | None = None, since: datetime | None = None
    ) -> list[PhraseHistory]:
        """The articles whose text contained ``phrase`` in any stored version (of ``feed``;
        in a version captured at or after ``since``), oldest first appearance first."""
        words = phrase_words(phrase)
        if not words:
            raise ValueError(f"{phrase!r} has no words to search for")
        pattern = phrase_pattern(phrase)
        found: dict[int, set[int]] = {}
        with self._read("search versions") as conn:
            rows = conn.execute(self._candidates(feed), {"query": self._query(words), "feed": feed})
            for article_id, number, content in rows:
                if contains_phrase(content, pattern):
                    found.setdefault(article_id, set()).add(number)
        histories = [
            history
            for history in self._histories(found)
            if since is None or any(s.contains and s.fetched_at >= since for s in history.versions)
        ]
        return sorted(histories, key=lambda h: (h.first_version.fetched_at, h.article.id))

    def _query(self, words: list[str]) -> str:
        if self.in_place:  # SQLite: an FTS5 phrase ("…" quoted; words hold no quotes)
            return '"' + " ".join(words) + '"'
        return " ".join(words)

    def _candidates(self, feed: str | None) -> TextClause:
        """The candidate versions' (article id, number, text)."""
        by_feed = (
            " JOIN articles a ON a.id = v.article_id AND a.feed = :feed" if feed is not None else ""
        )
        if self.in_place:
            sql = (
                f"SELECT v.article_id, v.number, v.text FROM {INDEX_TABLE} w"
                f" JOIN versions v ON v.id = w.rowid{by_feed}"
                f" WHERE {INDEX_TABLE} MATCH :query"
            )
        else:
            # Texts too large for a tsvector are indexed as NULL: always candidates.
            sql = (
                f"SELECT v.article_id, v.number, v.text FROM {INDEX_TABLE} w"
                f" JOIN versions v ON v.id = w.version_id{by_feed}"
                " WHERE w.words @@ phraseto_tsquery('simple', :query) OR w.words IS NULL"
            )
        return text(sql)

    def _histories(self, found: dict[int, set[int]]) -> Iterator[PhraseHistory]:
        """Each found article with every one of its versions, marked."""
        ids = sorted(found)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            stamps: dict[int, list[VersionStamp]] = {}
            query = (
                select(versions.c.article_id, versions.c.number, versions.c.fetched_at)
                .where(versions.c.article_id.in_(chunk))
                .order_by(versions.c.article_id, versions.c.number)
            )
            with self._read("read version stamps") as conn:
                for article_id, number, fetched_at in conn.execute(query):
                    stamps.setdefault(article_id, []).append(
                        VersionStamp(number, fetched_at, number in found[article_id])
                    )
                rows = conn.execute(select(articles).where(articles.c.id.in_(chunk))).mappings()
                by_id = {row["id"]: article_of(row) for row in rows}
            for article_id in chunk:
                if article_id in by_id:
                    yield PhraseHistory(by_id[article_id], tuple(stamps[article_id]))

    def reindex_search(self) -> int:
        """Index every version the search index lacks (a tool: bulk loads bypass
        ``record``); how many it indexed."""
        with self._write("index versions for search") as conn:
            return index_missing(conn)

    # Batched reads: each batch is one short transaction, resumed after the last key, so
    # an export holds no long transaction or cursor open and its memory stays flat.

    def iter_articles(self, batch: int = 1000) -> Iterator[Article]:
        """Every article, by id, ``batch`` at a time."""
        for row in self._pages("read articles", select(articles), (articles.c.id,), batch):
            yield article_of(row)

    def iter_versions(self, batch: int = 500) -> Iterator[Version]:
        """Every version, by article and number, ``batch`` at a time."""
        query = select(*_VERSION_COLUMNS)
        for row in self._pages("read versions", query, _VERSION_KEY, batch):
            yield _version(row)

    def iter_captures(
        self, feed: str | None = None, since: datetime | None = None, batch: int = 200
    ) -> Iterator[tuple[Version, RawBody]]:
        """Every version kept with its raw capture (of ``feed``; fetched at or after
        ``since``), by article and number, ``batch`` at a time."""
        query = select(*_VERSION_COLUMNS, *RAW_COLUMNS).where(versions.c.raw_body.is_not(None))
        if feed is not None:
            feed_ids = select(articles.c.id).where(articles.c.feed == feed)
            query = query.where(versions.c.article_id.in_(feed_ids))
        if since is not None:
            query = query.where(versions.c.fetched_at >= since)
        for row in self._pages("read captures", query, _VERSION_KEY, batch):
            version = _version(row)
            raw = raw_body_of(row, version.article_id, version.number)
            assert raw is not None  # only rows with a raw body were asked for
            yield version, raw

    def iter_changes(self, batch: int = 1000) -> Iterator[Change]:
        """Every change, by id, ``batch`` at a time."""
        for row in self._pages("read changes", select(changes), (changes.c.id,), batch):
            yield _change(row)

    def _pages(
        self, action: str, query: Select[Any], keys: Sequence[ColumnElement[Any]], batch: int
    ) -> Iterator[RowMapping]:
        """The rows of ``query`` in ``keys`` order, read ``batch`` at a time, each batch
        resumed after the last row's keys (keyset paging: every batch costs the same)."""
        key = tuple_(*keys)
        after: tuple[Any, ...] | None = None
        while True:
            page = query.order_by(*keys).limit(batch)
            if after is not None:
                page = page.where(key > tuple_(*after))
            with self._read(action) as conn:
                rows = conn.execute(page).mappings().all()
            yield from rows
            if len(rows) < batch:
                return
            after = tuple(rows[-1][column] for column in keys)
