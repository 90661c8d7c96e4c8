"""Feeds and articles on SQL: each feed's state, the articles found in them and the other
addresses an article is known by (``feeds``, ``articles``, ``article_urls``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Select,
    bindparam,
    func,
    insert,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from monitor.errors import ConflictError, StoreError
from monitor.models import Article, ArticleStatus, FeedState, Listed
from monitor.store.claims import url_host
from monitor.store.rows import column_value, field_names, inserted_id, row_fields, to_columns
from monitor.store.schema import article_urls, articles, feeds, versions
from monitor.store.transactions import Transactions


class ArticleTables(Transactions):
    """The store's feeds and articles."""

    # feeds

    def get_feed(self, name: str) -> FeedState | None:
        with self._read("read feed") as conn:
            row = conn.execute(select(feeds).where(feeds.c.name == name)).mappings().first()
        return None if row is None else _feed(row)

    def save_feed(self, state: FeedState) -> None:
        """Insert or replace the state of the feed named ``state.name``."""
        self.save_feeds([state])

    def save_feeds(self, states: Sequence[FeedState]) -> None:
        """``save_feed`` for each of ``states``, in one transaction."""
        if not states:
            return
        with self._write("save feed") as conn:
            # An upsert, not update-then-insert: two nodes may save the same feed at once.
            conn.execute(self._upsert_feed, [to_columns(state) for state in states])

    def list_feeds(self) -> list[FeedState]:
        with self._read("list feeds") as conn:
            rows = conn.execute(select(feeds).order_by(feeds.c.name)).mappings()
            return [_feed(row) for row in rows]

    @cached_property
    def _upsert_feed(self) -> Insert:
        return _upsert(self._dialect_insert(feeds))

    # articles

    def add_article(self, article: Article) -> Article:
        """Insert ``article`` (its ``id`` is ignored) and return it with the assigned id."""
        with self._write("add article") as conn:
            return insert_article_row(conn, article)

    def update_article(self, article: Article) -> None:
        """Replace every field of the stored article with ``article.id``."""
        with self._write("update article") as conn:
            update_article_row(conn, article)

    def update_articles(self, batch: Sequence[Article], only: Sequence[str] = ()) -> list[int]:
        """Replace the fields named in ``only`` (default: every field) of each stored
        article of ``batch``, in one transaction. On PostgreSQL, rows another transaction
        holds are skipped rather than waited for: their ids are returned."""
        if not batch:
            return []
        params = [_update_params(article, only) for article in batch]
        with self._write("update articles") as conn:
            held = self._held(conn, [article.id for article in batch])
            if held:
                params = [one for one in params if one["b_id"] not in held]
            try:
                if params:
                    conn.execute(_UPDATE_ARTICLE, params)
            except IntegrityError as exc:
                raise StoreError(f"updating {len(batch)} articles failed: {exc.orig}") from exc
        return sorted(held)

    def listed_articles(self, urls: Sequence[str]) -> dict[str, Listed]:
        """The articles whose url column is one of ``urls``, as a feed pass needs them."""
        if not urls:
            return {}
        with self._read("look up a feed's articles") as conn:
            rows = conn.execute(_LISTED, {"urls": list(set(urls))})
            return {
                url: Listed(id, versions, ArticleStatus(status), feed_title, feed_summary)
                for id, url, versions, status, feed_title, feed_summary in rows
            }

    def mark_in_feed(self, ids: Sequence[int], when: datetime) -> list[int]:
        """Set ``last_in_feed`` of these articles to ``when``; on PostgreSQL, rows another
        transaction holds are skipped and their ids returned."""
        if not ids:
            return []
        with self._write("mark articles still in their feed") as conn:
            held = self._held(conn, ids)
            free = [i for i in ids if i not in held] if held else list(ids)
            if free:
                conn.execute(_MARK_IN_FEED, {"ids": free, "when": when})
        return sorted(held)

    def _held(self, conn: Connection, ids: Sequence[int]) -> set[int]:
        """Those of the article rows ``ids`` that another transaction holds, locking the
        others for this one (PostgreSQL); none on SQLite, which locks the whole file."""
        if self._engine.dialect.name != "postgresql":
            return set()
        free = select(articles.c.id).where(articles.c.id.in_(list(ids)))
        skipped = set(ids) - set(conn.execute(free.with_for_update(skip_locked=True)).scalars())
        if not skipped:
            return skipped
        # Of those, the rows that exist: an id that no longer does is not held by anyone.
        present = select(articles.c.id).where(articles.c.id.in_(list(skipped)))
        return set(conn.execute(present).scalars())

    def get_article(self, article_id: int) -> Article | None:
        with self._read("read article") as conn:
            return _first_article(conn, _ARTICLE_ROWS.where(articles.c.id == article_id))

    def find_article(self, urls: Sequence[str], guid: str | None = None) -> Article | None:
        """The article whose url, current_url or canonical_url is one of ``urls``;
        failing that, the one with feed GUID ``guid``.

        Several URL matches are ranked by column (url, then current_url, then
        canonical_url), then by the order of ``urls``, then by age.
        """
        wanted = list(dict.fromkeys(urls))
        with self._read("find article") as conn:
            if wanted:
                query = _ARTICLE_ROWS.where(_by_any_url(wanted))
                candidates = [article_from_row(row) for row in conn.execute(query)]
                if candidates:
                    return min(candidates, key=lambda found: _url_rank(found, wanted))
                alias = select(article_urls.c.article_id).where(article_urls.c.url.in_(wanted))
                aliased = _first_article(
                    conn,
                    _ARTICLE_ROWS.where(articles.c.id.in_(alias)).order_by(articles.c.id),
                )
                if aliased is not None:
                    return aliased
            if guid is None:
                return None
            return _first_article(
                conn, _ARTICLE_ROWS.where(articles.c.guid == guid).order_by(articles.c.id)
            )

    def find_articles(self, urls: Sequence[str]) -> dict[str, Article]:
        """For each of ``urls``, what ``find_article([url])`` finds by the url, current_url
        or canonical_url column (aliases and GUIDs aside); URLs with no match are left out."""
        wanted = list(set(urls))
        if not wanted:
            return {}
        with self._read("find articles") as conn:
            rows = conn.execute(_FIND_BY_URLS, {"urls": wanted})
            candidates = [article_from_row(row) for row in rows]
        # Each wanted URL's best match: by column (url, current_url, canonical_url), then age.
        best: dict[str, tuple[int, int, Article]] = {}
        for article in candidates:
            for rank, url in enumerate((article.url, article.current_url, article.canonical_url)):
                if url is None:
                    continue
                held = best.get(url)
                if held is None or (rank, article.id) < held[:2]:
                    best[url] = (rank, article.id, article)
        return {url: best[url][2] for url in wanted if url in best}

    def tracked_among(self, urls: Sequence[str], guids: Sequence[str] = ()) -> set[str]:
        """Those of ``urls`` and ``guids`` some article is known by."""
        params: dict[str, Any] = {"urls": list(set(urls)), "guids": list(set(guids))}
        query = _TRACKED_AMONG if params["guids"] else _TRACKED_AMONG_URLS
        if len(params["urls"]) == 1 and not params["guids"]:
            # A new article's own URL (and canonical URL, mostly the same), asked once per
            # new article: a plain comparison, which SQLAlchemy need not expand and render.
            query, params = _TRACKED_ONE, {"url": params["urls"][0]}
        with self._read("look up articles") as conn:
            return {value for (value,) in conn.execute(query, params) if value is not None}

    def add_alias(self, article_id: int, url: str, now: datetime) -> None:
        """Remember ``url`` as another address of the article; a known alias is kept
        (also when another process adds it at the same moment)."""
        statement = self._dialect_insert(article_urls).on_conflict_do_nothing(
            index_elements=["url"]
        )
        with self._write("add article alias") as conn:
            conn.execute(statement.values(url=url, article_id=article_id, added_at=now))

    def list_articles(self, feed: str | None = None) -> list[Article]:
        query = _ARTICLE_ROWS.order_by(articles.c.id)
        if feed is not None:
            query = query.where(articles.c.feed == feed)
        with self._read("list articles") as conn:
            return [article_from_row(row) for row in conn.execute(query)]

    def article_failures_by_feed(self) -> dict[str, int]:
        """How many articles of each feed failed their last fetch (``last_error`` set), for
        feeds with any: a feed that answers while its pages do not is not "ok" (issue 14)."""
        query = (
            select(articles.c.feed, func.count())
            .where(articles.c.last_error.is_not(None))
            .group_by(articles.c.feed)
        )
        with self._read("count failing articles") as conn:
            return {feed: count for feed, count in conn.execute(query)}

    def due_articles(self, now: datetime, limit: int | None = None) -> list[Article]:
        """Articles whose next_check is at or before ``now``, most overdue first."""
        with self._read("list due articles") as conn:
            rows = conn.execute(_due(_ARTICLE_ROWS, now, limit))
            return [article_from_row(row) for row in rows]

    def due_article_ids(
        self, now: datetime, limit: int | None = None, hosts: Sequence[str] | None = None
    ) -> list[tuple[int, str]]:
        """(id, feed) of ``due_articles``, in the same order: a run's work list, small even
        when tens of thousands are due. ``hosts``: only articles on these hosts (those a
        node has claimed, issue 17)."""
        query = _due(select(articles.c.id, articles.c.feed), now, limit)
        if hosts is not None:
            query = query.where(articles.c.host.in_(list(hosts)))
        with self._read("list due articles") as conn:
            return [(row.id, row.feed) for row in conn.execute(query)]

    def incomplete_articles(self) -> list[Article]:
        """Articles that count more versions than are stored: rows left by a crash between
        an article and its first version in stores written before that was one
        transaction."""
        stored = (
            select(func.coalesce(func.max(versions.c.number), 0))
            .where(versions.c.article_id == articles.c.id)
            .scalar_subquery()
        )
        query = _ARTICLE_ROWS.where(articles.c.versions > stored).order_by(articles.c.id)
        with self._read("look for incomplete articles") as conn:
            return [article_from_row(row) for row in conn.execute(query)]

    def get_articles(self, ids: Sequence[int]) -> list[Article]:
        """The articles with these ids, in the order given; ids not found are left out."""
        if not ids:
            return []
        with self._read("read articles") as conn:
            rows = conn.execute(_ARTICLE_ROWS.where(articles.c.id.in_(list(ids))))
            found = {row[0]: article_from_row(row) for row in rows}
        return [found[i] for i in ids if i in found]


# Article's fields as columns, in the dataclass's order (``article_from_row``).
_ARTICLE_FIELDS = field_names(Article)
_ARTICLE_ROWS = select(*(articles.c[name] for name in _ARTICLE_FIELDS))
# Built once: the SET clause comes from the parameters, so no statement is built per call.
_UPDATE_ARTICLE = update(articles).where(articles.c.id == bindparam("b_id"))
# record(): only from the revision the article was read at, and the next revision.
_RECORD_ARTICLE = (
    update(articles)
    .where(articles.c.id == bindparam("b_id"), articles.c.revision == bindparam("b_revision"))
    .values(revision=articles.c.revision + 1)
)
_INSERT_ARTICLE = insert(articles)
# find_articles(), asked once per fetched feed: built once (issue 16, as below).
_FIND_BY_URLS = _ARTICLE_ROWS.where(
    or_(
        *(
            column.in_(bindparam("urls", expanding=True))
            for column in (articles.c.url, articles.c.current_url, articles.c.canonical_url)
        )
    )
)
# listed_articles(), once per changed feed: a few columns of the rows its URLs name.
_LISTED = select(
    articles.c.id,
    articles.c.url,
    articles.c.versions,
    articles.c.status,
    articles.c.feed_title,
    articles.c.feed_summary,
).where(articles.c.url.in_(bindparam("urls", expanding=True)))
_MARK_IN_FEED = (
    update(articles)
    .where(articles.c.id.in_(bindparam("ids", expanding=True)))
    .values(last_in_feed=bindparam("when"))
)
# tracked_among(), asked once per new article: built once, as building and compiling the
# union anew cost more than running it (issue 16: 2 s of a 5,000-article cold round).
_URL_COLUMNS = (
    articles.c.url,
    articles.c.current_url,
    articles.c.canonical_url,
    article_urls.c.url,
)
_TRACKED_URLS = [
    select(column).where(column.in_(bindparam("urls", expanding=True))) for column in _URL_COLUMNS
]
_TRACKED_AMONG_URLS = union(*_TRACKED_URLS)
_TRACKED_ONE = union(*(select(column).where(column == bindparam("url")) for column in _URL_COLUMNS))
_TRACKED_AMONG = union(
    *_TRACKED_URLS,
    select(articles.c.guid).where(articles.c.guid.in_(bindparam("guids", expanding=True))),
)


def insert_article_row(conn: Connection, article: Article) -> Article:
    """Insert ``article``; ConflictError when its URL was inserted meanwhile."""
    values = _article_values(article)
    values["revision"] = 0
    try:
        result = conn.execute(_INSERT_ARTICLE, values)
    except IntegrityError as exc:
        raise ConflictError(f"an article with url {article.url!r} already exists") from exc
    return replace(article, id=inserted_id(result), revision=0)


def update_article_row(conn: Connection, article: Article, revision: int | None = None) -> None:
    """Replace ``article``'s row; with ``revision``, only if the row is still at it (the
    revision then moves on), else ConflictError: another process recorded it meanwhile."""
    params = _update_params(article)
    statement = _UPDATE_ARTICLE
    if revision is not None:
        params["b_revision"] = revision
        statement = _RECORD_ARTICLE
    try:
        result = conn.execute(statement, params)
    except IntegrityError as exc:
        raise StoreError(f"another article already has url {article.url!r}") from exc
    if result.rowcount == 1:
        return
    exists = conn.execute(select(articles.c.id).where(articles.c.id == article.id)).first()
    if exists is None:
        raise StoreError(f"no article with id {article.id}")
    raise ConflictError(f"article {article.id} was recorded by another process meanwhile")


def _update_params(article: Article, only: Sequence[str] = ()) -> dict[str, Any]:
    """Parameters of ``_UPDATE_ARTICLE``: the fields named in ``only`` (default: all);
    never the revision, which only ``record`` moves on."""
    if only:
        params = {name: column_value(getattr(article, name)) for name in only}
        if "current_url" in params:
            params["host"] = url_host(article.current_url)
    else:
        params = _article_values(article)
    params.pop("revision", None)
    params["b_id"] = article.id
    return params


def _by_any_url(wanted: list[str]) -> Any:
    """The condition: url, current_url or canonical_url is one of ``wanted``."""
    return or_(
        articles.c.url.in_(wanted),
        articles.c.current_url.in_(wanted),
        articles.c.canonical_url.in_(wanted),
    )


def _due(query: Select[Any], now: datetime, limit: int | None) -> Select[Any]:
    """``query`` narrowed to articles due at ``now``, most overdue first."""
    return (
        query.where(articles.c.next_check <= now)
        .order_by(articles.c.next_check, articles.c.id)
        .limit(limit)
    )


def _first_article(conn: Connection, query: Select[Any]) -> Article | None:
    row = conn.execute(query.limit(1)).first()
    return None if row is None else article_from_row(row)


def _url_rank(article: Article, wanted: list[str]) -> tuple[int, int, int]:
    for rank, url in enumerate((article.url, article.current_url, article.canonical_url)):
        if url in wanted:
            return rank, wanted.index(url), article.id
    raise AssertionError("article matched no wanted URL")  # the query guarantees one


def _article_values(article: Article) -> dict[str, Any]:
    values = to_columns(article)
    del values["id"]
    values["host"] = url_host(article.current_url)  # kept with current_url (issue 17)
    return values


def _feed(row: RowMapping) -> FeedState:
    return FeedState(**row_fields(row, FeedState))


def article_of(row: RowMapping) -> Article:
    """The article of a row read by column name (one with every Article field)."""
    return article_from_row([row[name] for name in _ARTICLE_FIELDS])


def article_from_row(row: Sequence[Any]) -> Article:
    """The article of a row of ``_ARTICLE_ROWS``, read by position: no mapping is made
    per row (a round reads every due article, 5,000 in the bench: 30% of the reading)."""
    values = dict(zip(_ARTICLE_FIELDS, row, strict=True))
    values["status"] = ArticleStatus(values["status"])
    return Article.from_fields(values)


def _upsert(statement: Any) -> Insert:
    """``statement`` (a dialect's INSERT into feeds) replacing the row of the same name."""
    names = [f.name for f in fields(FeedState) if f.name != "name"]
    changed = {name: statement.excluded[name] for name in names}
    return statement.on_conflict_do_update(index_elements=["name"], set_=changed)  # type: ignore[no-any-return]
