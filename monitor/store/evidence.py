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
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    Select,
    TextClause,
    and_,
    bindparam,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.sql.elements import ColumnElement

from monitor.models import (
    Article,
    Change,
    PhraseHistory,
    RawBody,
    Revisit,
    Version,
    VersionStamp,
)
from monitor.store.articles import _ARTICLE_ROWS, article_from_row, article_of
from monitor.store.schema import (
    UTCDateTime,
    articles,
    as_utc,
    changes,
    revisits,
    sqlite_time,
    versions,
)
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
# A limited search on PostgreSQL reads candidates newest first, this many rows a query.
_CANDIDATE_PAGE = 200

# Adding runs of 304s: one row per article and version (issue 19). It comes with every 304
# of a warm round (issue 16's budget), so it goes to the driver as it is: named parameters
# (a single 304's time, URL and headers bound once for both ends) and no per-value type
# processing, which costed more than the write itself.
_REVISIT_UPSERT = (
    "INSERT INTO revisits (article_id, version, count, first_at, first_url, first_headers,"
    " last_at, last_url, last_headers, etag, last_modified) VALUES ({values})"
    " ON CONFLICT (article_id, version) DO UPDATE SET count = revisits.count + excluded.count,"
    " last_at = excluded.last_at, last_url = excluded.last_url,"
    " last_headers = excluded.last_headers, etag = excluded.etag,"
    " last_modified = excluded.last_modified"
)
_SINGLE_VALUES = (
    "article_id version 1 at url headers at url headers etag last_modified",
    "article_id version count first_at first_url first_headers last_at last_url last_headers"
    " etag last_modified",
)


def _revisit_upsert(paramstyle: str, merged: bool) -> str:
    """The upsert in the driver's own parameter style (sqlite3: named; psycopg: pyformat)."""
    names = _SINGLE_VALUES[merged].split()
    if paramstyle == "named":
        marks = [name if name.isdigit() else f":{name}" for name in names]
    else:
        marks = [name if name.isdigit() else f"%({name})s" for name in names]
    return _REVISIT_UPSERT.format(values=", ".join(marks))


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


def index_versions(conn: Connection, batch: Sequence[tuple[int, str]]) -> None:
    """Add stored versions' words, (version id, text) of each, to the search index (in the
    caller's transaction), in one round trip."""
    if not batch:
        return
    words = [(version_id, index_words(content)) for version_id, content in batch]
    if conn.dialect.name == "sqlite":
        rows = [{"id": version_id, "words": text_words} for version_id, text_words in words]
        conn.execute(_INDEX_SQLITE, rows)
        return
    rows = [
        {"id": version_id, "words": text_words, "fits": _fits_tsvector(text_words)}
        for version_id, text_words in words
    ]
    conn.execute(_INDEX_POSTGRESQL, rows)


# Run with every stored version: built once (a text() parses its SQL for parameters).
_INDEX_SQLITE = text(f"INSERT INTO {INDEX_TABLE} (rowid, words) VALUES (:id, :words)")
_INDEX_POSTGRESQL = text(
    f"INSERT INTO {INDEX_TABLE} (version_id, words)"
    " VALUES (:id, CASE WHEN :fits THEN to_tsvector('simple', :words) END)"
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
        self,
        phrase: str,
        feed: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[PhraseHistory]:
        """The articles whose text contained ``phrase`` in any stored version (of ``feed``;
        in a version captured at or after ``since``), newest first: by the newest stored
        version that had it. ``limit``: at most that many, after the first ``offset``."""
        words = phrase_words(phrase)
        if not words:
            raise ValueError(f"{phrase!r} has no words to search for")
        pattern = phrase_pattern(phrase)
        params = {"query": self._query(words), "feed": feed, "since": since}
        if limit is None:
            return self._every_article(pattern, params, offset)
        # Candidates newest first, checked until the page is full: a phrase in a quarter of
        # the archive costs a page of articles, not a quarter of the archive (issue 19).
        wanted = offset + limit
        listed: list[int] = []
        found: dict[int, set[int]] = {}
        stopped_at: int | None = None  # the row id the check stopped at, if it did
        with self._read("search versions") as conn:
            for version_id, article_id, number, content in self._newest_candidates(
                conn, feed, since, params
            ):
                if contains_phrase(content, pattern):
                    if article_id not in found:
                        found[article_id] = set()
                        listed.append(article_id)
                    found[article_id].add(number)
                    if len(listed) == wanted:
                        stopped_at = version_id
                        break
        page = listed[offset:]
        if since is not None or stopped_at is not None:
            # Where it appeared and went: the listed articles' versions the check did not
            # reach (older than where it stopped; before ``since``) are checked too.
            before = None if since is not None else stopped_at
            for article_id, numbers in self._versions_with_phrase(page, pattern, before).items():
                found[article_id] |= numbers
        return list(self._histories(found, page))

    def _every_article(
        self, pattern: re.Pattern[str], params: dict[str, Any], offset: int
    ) -> list[PhraseHistory]:
        """``search_phrase`` without a limit: every candidate version checked."""
        found: dict[int, set[int]] = {}
        newest: dict[int, int] = {}  # article: its newest version with the phrase (row id)
        with self._read("search versions") as conn:
            for version_id, article_id, number, content in conn.execute(
                self._candidates(params["feed"], None), params
            ):
                if contains_phrase(content, pattern):
                    found.setdefault(article_id, set()).add(number)
                    newest[article_id] = max(newest.get(article_id, 0), version_id)
        since = params["since"]
        order = sorted(found, key=lambda article_id: -newest[article_id])
        histories = [
            history
            for history in self._histories(found, order)
            if since is None or any(s.contains and s.fetched_at >= since for s in history.versions)
        ]
        return histories[offset:]

    def _versions_with_phrase(
        self, article_ids: list[int], pattern: re.Pattern[str], before: int | None = None
    ) -> dict[int, set[int]]:
        """{article: numbers of its versions (stored before row id ``before``, if given)
        whose text has the phrase}."""
        found: dict[int, set[int]] = {article_id: set() for article_id in article_ids}
        if not article_ids:
            return found
        query = select(versions.c.article_id, versions.c.number, versions.c.text).where(
            versions.c.article_id.in_(article_ids)
        )
        if before is not None:
            query = query.where(versions.c.id < before)
        with self._read("read versions of found articles") as conn:
            for article_id, number, content in conn.execute(query):
                if contains_phrase(content, pattern):
                    found[article_id].add(number)
        return found

    def _query(self, words: list[str]) -> str:
        if self.in_place:  # SQLite: an FTS5 phrase ("…" quoted; words hold no quotes)
            return '"' + " ".join(words) + '"'
        return " ".join(words)

    def _newest_candidates(
        self, conn: Connection, feed: str | None, since: datetime | None, params: dict[str, Any]
    ) -> Iterator[Any]:
        """The candidate rows, newest first, read as they are consumed. SQLite steps one
        query (FTS5 walks its index backwards). PostgreSQL reads pages of
        ``_CANDIDATE_PAGE``: with a LIMIT its planner picks the right plan for a rare
        phrase (the GIN index, then a sort) and for a common one (the primary key
        backwards, stopping early); an open cursor without one got the second for both
        (a rare phrase then read the whole table: 0.25 s instead of 3 ms)."""
        statement = self._candidates(feed, since, newest_first=True)
        if self.in_place:
            rows = conn.execution_options(stream_results=True).execute(statement, params)
            try:
                yield from rows
            finally:
                rows.close()
            return
        before: int | None = None
        while True:
            page = self._candidates(feed, since, newest_first=True, before=before is not None)
            values = {**params, "before": before, "page": _CANDIDATE_PAGE}
            batch = conn.execute(page, values).all()
            yield from batch
            if len(batch) < _CANDIDATE_PAGE:
                return
            before = batch[-1][0]

    def _candidates(
        self,
        feed: str | None,
        since: datetime | None,
        newest_first: bool = False,
        before: bool = False,
    ) -> TextClause:
        """The candidate versions' (row id, article id, number, text); of ``feed``, captured
        at or after ``since``; ``newest_first``: by row id, descending (on PostgreSQL, a
        page of ``:page`` rows; ``before``: with row ids below ``:before``)."""
        joins = (
            " JOIN articles a ON a.id = v.article_id AND a.feed = :feed" if feed is not None else ""
        )
        after = " AND v.fetched_at >= :since" if since is not None else ""
        if self.in_place:
            order = " ORDER BY w.rowid DESC" if newest_first else ""
            sql = (
                f"SELECT v.id, v.article_id, v.number, v.text FROM {INDEX_TABLE} w"
                f" JOIN versions v ON v.id = w.rowid{joins}"
                f" WHERE {INDEX_TABLE} MATCH :query{after}{order}"
            )
        else:
            order = " ORDER BY w.version_id DESC LIMIT :page" if newest_first else ""
            if before:
                after += " AND w.version_id < :before"
            # Texts too large for a tsvector are indexed as NULL: always candidates.
            sql = (
                f"SELECT v.id, v.article_id, v.number, v.text FROM {INDEX_TABLE} w"
                f" JOIN versions v ON v.id = w.version_id{joins}"
                " WHERE (w.words @@ phraseto_tsquery('simple', :query) OR w.words IS NULL)"
                f"{after}{order}"
            )
        statement = text(sql)
        if since is not None:
            statement = statement.bindparams(bindparam("since", type_=UTCDateTime))
        return statement

    def _histories(self, found: dict[int, set[int]], order: list[int]) -> Iterator[PhraseHistory]:
        """Each article of ``order`` (in that order) with every one of its versions, marked
        with whether ``found`` has its number."""
        for start in range(0, len(order), 500):
            chunk = order[start : start + 500]
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
                rows = conn.execute(_ARTICLE_ROWS.where(articles.c.id.in_(chunk)))
                by_id = {row[0]: article_from_row(row) for row in rows}
            for article_id in chunk:
                if article_id in by_id and found[article_id]:
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
        for row in self._pages("read articles", _ARTICLE_ROWS, (articles.c.id,), batch):
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

    def iter_revisits(
        self, feed: str | None = None, since: datetime | None = None, batch: int = 500
    ) -> Iterator[tuple[Revisit, Version]]:
        """Every run of 304s kept (of ``feed``; its last 304 at or after ``since``), by
        article and version, with the capture it confirms: the newest version up to the
        one confirmed that kept its raw body (its text left empty). Runs with no such
        capture are left out."""
        query = self._revisits_with_captures
        if feed is not None:
            feed_ids = select(articles.c.id).where(articles.c.feed == feed)
            query = query.where(revisits.c.article_id.in_(feed_ids))
        if since is not None:
            query = query.where(revisits.c.last_at >= since)
        keys = (revisits.c.article_id, revisits.c.version)
        for row in self._pages("read revisits", query, keys, batch):
            captured = Version(
                row["article_id"],
                row["captured_number"],
                "",
                "",
                row["captured_at"],
                row["captured_url"],
            )
            yield _revisit(row), captured

    @cached_property
    def _revisits_with_captures(self) -> Select[Any]:
        captured = versions.alias("captured")
        newest = (
            select(func.max(versions.c.number))
            .where(
                versions.c.article_id == revisits.c.article_id,
                versions.c.number <= revisits.c.version,
                versions.c.raw_body.is_not(None),
            )
            .scalar_subquery()
        )
        on = and_(captured.c.article_id == revisits.c.article_id, captured.c.number == newest)
        return select(
            revisits,
            captured.c.number.label("captured_number"),
            captured.c.fetched_at.label("captured_at"),
            captured.c.url.label("captured_url"),
        ).select_from(revisits.join(captured, on))

    def record_revisits(self, seen: Sequence[Revisit]) -> None:
        """Add runs of 304s to the ones kept, in one transaction: a new row per article
        and version, or the kept row's count and last 304 moved on."""
        if not seen:
            return
        # Nearly every run is one 304 (first = last): its values are bound once, not
        # twice. This write comes with every 304 of a warm round (issue 16's budget).
        moment = sqlite_time if self.in_place else as_utc
        single = [_single_values(one, moment) for one in seen if one.count == 1]
        merged = [_revisit_values(one, moment) for one in seen if one.count != 1]
        style = "named" if self.in_place else "pyformat"
        with self._write("record 304 re-checks") as conn:
            if single:
                conn.exec_driver_sql(_revisit_upsert(style, merged=False), single)
            if merged:
                conn.exec_driver_sql(_revisit_upsert(style, merged=True), merged)

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


def _single_values(seen: Revisit, moment: Callable[[datetime], Any]) -> dict[str, Any]:
    return {
        "article_id": seen.article_id,
        "version": seen.version,
        "at": moment(seen.last_at),
        "url": seen.last_url,
        "headers": header_lines(seen.last_headers),
        "etag": seen.etag,
        "last_modified": seen.last_modified,
    }


def _revisit_values(seen: Revisit, moment: Callable[[datetime], Any]) -> dict[str, Any]:
    return {
        "article_id": seen.article_id,
        "version": seen.version,
        "count": seen.count,
        "first_at": moment(seen.first_at),
        "first_url": seen.first_url,
        "first_headers": header_lines(seen.first_headers),
        "last_at": moment(seen.last_at),
        "last_url": seen.last_url,
        "last_headers": header_lines(seen.last_headers),
        "etag": seen.etag,
        "last_modified": seen.last_modified,
    }


def header_lines(headers: Sequence[tuple[str, str]]) -> str:
    """Response headers as their HTTP lines ("name: value", CRLF between): a fifth of the
    cost of JSON, and HTTP keeps line breaks out of names and values."""
    return "\r\n".join(f"{name}: {value}" for name, value in headers)


def _revisit(row: RowMapping) -> Revisit:
    return Revisit(
        row["article_id"],
        row["version"],
        row["first_at"],
        row["first_url"],
        row["last_at"],
        row["last_url"],
        row["count"],
        _headers(row["first_headers"]),
        _headers(row["last_headers"]),
        row["etag"],
        row["last_modified"],
    )


def _headers(stored: str | None) -> tuple[tuple[str, str], ...]:
    """The headers ``header_lines`` wrote."""
    if not stored:
        return ()
    pairs = (line.partition(": ") for line in stored.split("\r\n"))
    return tuple((name, value) for name, _, value in pairs)
