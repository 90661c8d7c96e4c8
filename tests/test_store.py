"""Contract tests for the store, run against SQLite and PostgreSQL (see ``store_url``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from monitor.errors import ConflictError, StoreBusyError, StoreError
from monitor.models import (
    Alert,
    AlertStatus,
    Article,
    ArticleStatus,
    Change,
    ChangeKind,
    DiffStats,
    Drift,
    FeedState,
    RawBody,
    SeedLink,
    Significance,
    TextSource,
    Version,
)
from monitor.store import WouldWaitError, open_store, pack_raw
from monitor.store.migrate import head_revision
from monitor.store.schema import metadata, versions
from monitor.store.sql import SQLStore, normalize_url

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))


def new_article(url: str = "https://news.example/a", **fields: Any) -> Article:
    defaults: dict[str, Any] = {
        "id": 0,
        "feed": "example",
        "url": url,
        "current_url": url,
        "first_seen": T0,
        "last_in_feed": T0,
    }
    defaults.update(fields)
    return Article(**defaults)


def new_version(article_id: int, number: int, text: str = "Body text.", **fields: Any) -> Version:
    defaults: dict[str, Any] = {
        "article_id": article_id,
        "number": number,
        "content_hash": f"{number:064x}",
        "text": text,
        "fetched_at": T0 + timedelta(hours=number),
        "url": "https://news.example/a",
    }
    defaults.update(fields)
    return Version(**defaults)


def new_change(article: Article, kind: ChangeKind, at: datetime, **fields: Any) -> Change:
    change = Change(kind, article.id, article.feed, article.url, detected_at=at)
    return replace(change, **fields)


# feeds


def test_feed_roundtrip_with_every_field(store: SQLStore) -> None:
    state = FeedState(
        name="example",
        url="https://news.example/feed.xml",
        etag='W/"abc"',
        last_modified="Wed, 01 May 2024 10:00:00 GMT",
        last_checked=T0,
        # Given in another zone: must come back as the same instant, in UTC.
        last_success=datetime(2024, 5, 1, 13, 0, tzinfo=CEST),
        last_status=200,
        last_error="timeout",
        failures=3,
        next_due=T0 + timedelta(minutes=15),
        entries=20,
    )
    store.save_feed(state)

    loaded = store.get_feed("example")

    assert loaded == state
    assert loaded is not None
    for value in (loaded.last_checked, loaded.last_success, loaded.next_due):
        assert value is not None and value.utcoffset() == timedelta(0)
    assert loaded.last_success == datetime(2024, 5, 1, 11, 0, tzinfo=UTC)


def test_feed_with_none_fields_roundtrips(store: SQLStore) -> None:
    state = FeedState(name="bare", url="https://news.example/rss")
    store.save_feed(state)
    assert store.get_feed("bare") == state
    assert store.get_feed("missing") is None


def test_save_feed_replaces_and_list_feeds_sorts_by_name(store: SQLStore) -> None:
    store.save_feed(FeedState(name="zeta", url="https://z.example/feed"))
    store.save_feed(FeedState(name="alpha", url="https://a.example/feed", failures=2))
    replaced = FeedState(name="alpha", url="https://a.example/new", last_checked=T0)
    store.save_feed(replaced)

    assert store.list_feeds() == [replaced, FeedState(name="zeta", url="https://z.example/feed")]


def test_save_feeds_inserts_and_replaces_in_one_batch(store: SQLStore) -> None:
    store.save_feed(FeedState(name="old", url="https://o.example/feed", failures=3))
    batch = [
        FeedState(name="old", url="https://o.example/feed", etag='"e2"', last_checked=T0),
        FeedState(name="new", url="https://n.example/feed", entries=25, next_due=T0),
    ]
    store.save_feeds(batch)
    store.save_feeds([])
    assert store.list_feeds() == sorted(batch, key=lambda state: state.name)


# articles


def test_add_article_assigns_id_and_roundtrips_every_field(store: SQLStore) -> None:
    article = new_article(
        id=999,  # ignored
        guid="urn:guid:1",
        canonical_url="https://news.example/canonical",
        title="Headline",
        status=ArticleStatus.REMOVED,
        last_checked=T0,
        last_seen=T0,
        next_check=T0 + timedelta(hours=1),
        etag='"e"',
        last_modified="Wed, 01 May 2024 10:00:00 GMT",
        last_error="HTTP 410",
        versions=2,
    )
    added = store.add_article(article)
    other = store.add_article(new_article("https://news.example/b"))

    assert added.id != 999 and other.id != added.id
    assert added == replace(article, id=added.id)
    assert store.get_article(added.id) == added
    assert store.get_article(added.id + other.id + 1000) is None


def test_add_article_with_existing_url_raises(store: SQLStore) -> None:
    store.add_article(new_article())
    with pytest.raises(StoreError, match="already exists"):
        store.add_article(new_article(feed="another"))
    assert len(store.list_articles()) == 1


def test_find_article_by_each_url_column_and_guid(store: SQLStore) -> None:
    article = store.add_article(
        new_article(
            "https://news.example/a",
            current_url="https://news.example/moved",
            canonical_url="https://news.example/canonical",
            guid="urn:guid:a",
        )
    )
    store.add_article(new_article("https://news.example/b", guid="urn:guid:b"))

    assert store.find_article(["https://news.example/a"]) == article
    assert store.find_article(["https://other.example", "https://news.example/moved"]) == article
    assert store.find_article(["https://news.example/canonical"]) == article
    assert store.find_article(["https://nowhere.example"], guid="urn:guid:a") == article
    assert store.find_article([], guid="urn:guid:a") == article
    assert store.find_article(["https://nowhere.example"]) is None
    assert store.find_article(["https://nowhere.example"], guid="urn:guid:none") is None


def test_find_article_prefers_url_matches_over_guid_and_url_over_other_columns(
    store: SQLStore,
) -> None:
    moved = store.add_article(
        new_article("https://news.example/old", current_url="https://news.example/x", guid="g")
    )
    exact = store.add_article(new_article("https://news.example/x"))

    assert store.find_article(["https://news.example/x"]) == exact
    assert store.find_article(["https://news.example/x"], guid="g") == exact
    assert store.find_article(["https://news.example/old"], guid="nope") == moved


def test_aliases_find_the_article_and_are_idempotent(store: SQLStore) -> None:
    article = store.add_article(new_article("https://news.example/a", guid="g1"))
    other = store.add_article(new_article("https://news.example/b"))
    store.add_alias(article.id, "https://news.example/section/a", T0)
    store.add_alias(article.id, "https://news.example/section/a", T0)  # known: kept as is

    assert store.find_article(["https://news.example/section/a"]) == article
    # A direct URL match beats an alias, and an alias beats a GUID.
    store.add_alias(article.id, "https://news.example/b", T0)
    assert store.find_article(["https://news.example/b"]) == other
    assert store.find_article(["https://news.example/section/a"], guid="zzz") == article
    assert store.find_article(["https://news.example/none"], guid="g1") == article


def test_update_article_replaces_fields(store: SQLStore) -> None:
    article = store.add_article(new_article(guid="g"))
    updated = replace(
        article,
        current_url="https://news.example/moved",
        canonical_url="https://news.example/canonical",
        title="New headline",
        status=ArticleStatus.REMOVED,
        last_checked=T0 + timedelta(hours=1),
        next_check=None,
        last_error="HTTP 404",
        versions=4,
        guid=None,
    )
    store.update_article(updated)
    assert store.get_article(article.id) == updated


def test_tracked_among_names_exactly_the_known_urls_and_guids(store: SQLStore) -> None:
    # The batch question must agree with find_article, or a feed pass would re-capture
    # (or never capture) an entry.
    article = store.add_article(
        new_article(
            "https://news.example/a",
            current_url="https://news.example/moved",
            canonical_url="https://news.example/canonical",
            guid="urn:guid:a",
        )
    )
    store.add_alias(article.id, "https://news.example/alias", T0)
    asked = [
        "https://news.example/a",
        "https://news.example/moved",
        "https://news.example/canonical",
        "https://news.example/alias",
        "https://news.example/unknown",
    ]
    found = store.tracked_among(asked, ["urn:guid:a", "urn:guid:unknown"])
    assert found == set(asked[:4]) | {"urn:guid:a"}
    for url in asked:
        assert (store.find_article([url]) is not None) == (url in found)
    assert store.tracked_among([]) == set()


def test_find_articles_agrees_with_find_article_url_by_url(store: SQLStore) -> None:
    moved = store.add_article(
        new_article("https://news.example/old", current_url="https://news.example/x")
    )
    exact = store.add_article(new_article("https://news.example/x"))
    canonical = store.add_article(
        new_article("https://news.example/c", canonical_url="https://news.example/canon")
    )
    store.add_alias(exact.id, "https://news.example/alias", T0)
    asked = [
        "https://news.example/old",
        "https://news.example/x",
        "https://news.example/canon",
        "https://news.example/alias",  # aliases are find_article's second step
        "https://news.example/none",
    ]
    found = store.find_articles(asked)
    assert found == {
        "https://news.example/old": moved,
        "https://news.example/x": exact,
        "https://news.example/canon": canonical,
    }
    for url, article in found.items():
        assert store.find_article([url]) == article
    assert store.find_articles([]) == {}


def test_update_articles_writes_a_batch_and_skips_vanished_ids(store: SQLStore) -> None:
    first = store.add_article(new_article("https://news.example/1"))
    second = store.add_article(new_article("https://news.example/2"))
    checked = T0 + timedelta(minutes=15)
    batch = [
        replace(first, last_checked=checked, etag='"v1"', next_check=checked),
        replace(second, last_checked=checked, last_error="HTTP 503", next_check=None),
        new_article("https://news.example/gone", id=98765),
    ]
    store.update_articles(batch)
    assert store.get_article(first.id) == batch[0]
    assert store.get_article(second.id) == batch[1]
    assert store.get_article(98765) is None
    store.update_articles([])  # nothing to write is not an error


def test_update_articles_can_write_only_some_fields(store: SQLStore) -> None:
    article = store.add_article(new_article("https://news.example/1", title="Stored title"))
    checked = T0 + timedelta(minutes=15)
    # The title given here is ignored: only the named fields are written.
    store.update_articles(
        [replace(article, last_checked=checked, title="Not written")], ["last_checked"]
    )
    assert store.get_article(article.id) == replace(article, last_checked=checked)


def test_update_missing_article_raises(store: SQLStore) -> None:
    with pytest.raises(StoreError, match="no article"):
        store.update_article(new_article(id=12345))


def test_list_articles_all_and_by_feed(store: SQLStore) -> None:
    a = store.add_article(new_article("https://a.example/1", feed="a"))
    b = store.add_article(new_article("https://b.example/1", feed="b"))
    a2 = store.add_article(new_article("https://a.example/2", feed="a"))

    assert store.list_articles() == [a, b, a2]
    assert store.list_articles("a") == [a, a2]
    assert store.list_articles("none") == []


def test_due_articles_most_overdue_first_with_limit(store: SQLStore) -> None:
    now = T0 + timedelta(days=1)
    late = store.add_article(new_article("https://x.example/late", next_check=now - timedelta(1)))
    exactly = store.add_article(new_article("https://x.example/now", next_check=now))
    store.add_article(new_article("https://x.example/future", next_check=now + timedelta(1)))
    store.add_article(new_article("https://x.example/never", next_check=None))
    later = store.add_article(
        new_article("https://x.example/later", next_check=now - timedelta(hours=1))
    )

    assert store.due_articles(now) == [late, later, exactly]
    assert store.due_articles(now, limit=2) == [late, later]
    # The same instant given in another zone selects the same articles.
    assert store.due_articles(now.astimezone(CEST)) == [late, later, exactly]
    # The work list of a run: ids and feeds in the same order, articles read back by id.
    ids = store.due_article_ids(now)
    assert ids == [(a.id, a.feed) for a in (late, later, exactly)]
    assert store.due_article_ids(now, limit=2) == ids[:2]
    assert store.get_articles([exactly.id, 98765, late.id]) == [exactly, late]
    assert store.get_articles([]) == []


def test_naive_datetime_is_refused(store: SQLStore) -> None:
    with pytest.raises(StoreError, match="naive"):
        store.add_article(new_article(first_seen=datetime(2024, 5, 1, 12, 0)))


# versions and changes


def test_record_stores_version_raw_body_and_changes(store: SQLStore) -> None:
    article = store.add_article(new_article(next_check=T0))
    version = new_version(
        article.id,
        1,
        title="Headline",
        byline="A. Writer",
        published=T0 - timedelta(days=1),
        modified=T0,
        canonical_url="https://news.example/canonical",
        source=TextSource.FEED,
    )
    raw = RawBody(b"<html>\x00\xff binary-safe</html>", "text/html; charset=utf-8")
    checked = replace(article, versions=1, title="Headline", last_checked=T0, next_check=None)
    changes = [
        new_change(article, ChangeKind.NEW, T0, version=1, title="Headline"),
        new_change(article, ChangeKind.MOVED, T0, detail="moved to https://news.example/b"),
    ]

    saved = store.record(checked, changes, version, raw)

    assert [change.id for change in saved] != [0, 0]
    assert len({change.id for change in saved}) == 2
    assert saved == [replace(c, id=s.id) for c, s in zip(changes, saved, strict=True)]
    assert store.get_article(article.id) == replace(checked, revision=1)
    assert store.get_version(article.id, 1) == version
    assert store.get_raw_body(article.id, 1) == raw
    assert store.list_changes(article.id) == saved


def test_classified_changes_and_reverts_roundtrip(store: SQLStore) -> None:
    article = store.add_article(new_article())
    store.record(replace(article, versions=1), [], new_version(article.id, 1, feed_title="A"))
    store.record(
        replace(article, versions=2, revision=1),
        [],
        new_version(article.id, 2, content_hash="b" * 64),
    )
    stats = DiffStats(words_added=3, words_removed=1, sentences_edited=1, similarity=0.93)
    reverted = new_change(
        article,
        ChangeKind.REVERTED,
        T0,
        version=3,
        previous_version=2,
        significance=Significance.MAJOR,
        tags=("headline", "numbers"),
        stats=stats,
        reverted_to=1,
    )
    third = new_version(article.id, 3, content_hash=f"{1:064x}")  # the same as version 1
    (saved,) = store.record(replace(article, versions=3, revision=2), [reverted], third)

    assert store.list_changes(article.id) == [saved]
    assert saved.stats == stats and saved.tags == ("headline", "numbers")
    assert store.get_version(article.id, 1).feed_title == "A"  # type: ignore[union-attr]
    found = store.find_version_by_hash(article.id, third.content_hash)
    assert found is not None and found.number == 1  # the earliest of the identical versions
    assert store.find_version_by_hash(article.id, "f" * 64) is None


def test_record_without_version_only_updates_and_adds_changes(store: SQLStore) -> None:
    article = store.add_article(new_article())
    removed = replace(article, status=ArticleStatus.REMOVED)
    saved = store.record(removed, [new_change(article, ChangeKind.REMOVED, T0, detail="HTTP 410")])

    assert store.get_article(article.id) == replace(removed, revision=1)
    assert store.list_versions(article.id) == []
    assert store.list_changes() == saved
    assert store.record(replace(removed, revision=1), []) == []


def test_raw_body_is_byte_identical_and_stored_compressed(store: SQLStore) -> None:
    article = store.add_article(new_article())
    body = b"<p>The same paragraph, over and over.</p>\n" * 2000
    store.record(article, [], new_version(article.id, 1), RawBody(body))

    assert store.get_raw_body(article.id, 1) == RawBody(body, None)
    with store.engine.connect() as conn:
        stored = conn.execute(select(versions.c.raw_body)).scalar_one()
    assert len(stored) < len(body) // 10


def test_raw_body_packed_by_a_worker_is_stored_as_packed(store: SQLStore) -> None:
    article = store.add_article(new_article())
    body = b"<p>Packed in a worker process.</p>\n" * 500
    store.record(article, [], new_version(article.id, 1), RawBody(body, packed=pack_raw(body)))

    assert store.get_raw_body(article.id, 1) == RawBody(body, None)
    with store.engine.connect() as conn:
        assert conn.execute(select(versions.c.raw_body)).scalar_one() == pack_raw(body)


def test_raw_body_is_none_when_not_kept(store: SQLStore) -> None:
    article = store.add_article(new_article())
    store.record(article, [], new_version(article.id, 1))
    assert store.get_raw_body(article.id, 1) is None
    assert store.get_raw_body(article.id, 2) is None


def test_duplicate_version_raises_and_rolls_back_the_whole_record(store: SQLStore) -> None:
    article = store.add_article(new_article())
    first = store.record(
        replace(article, versions=1),
        [new_change(article, ChangeKind.NEW, T0, version=1)],
        new_version(article.id, 1, "First."),
    )

    with pytest.raises(StoreError, match="already exists"):
        store.record(
            replace(article, versions=2, title="Must not persist", revision=1),
            [new_change(article, ChangeKind.CHANGED, T0 + timedelta(hours=1), version=1)],
            new_version(article.id, 1, "Second."),
            RawBody(b"second"),
        )

    assert store.get_article(article.id) == replace(article, versions=1, revision=1)
    assert store.list_changes() == first
    assert [v.text for v in store.list_versions(article.id)] == ["First."]
    assert store.get_raw_body(article.id, 1) is None


def test_record_for_missing_article_raises_and_keeps_nothing(store: SQLStore) -> None:
    ghost = new_article(id=4242)
    with pytest.raises(StoreError, match="no article"):
        store.record(ghost, [new_change(ghost, ChangeKind.NEW, T0)], new_version(4242, 1))
    assert store.list_changes() == []


def test_version_lookups_and_ordering(store: SQLStore) -> None:
    article = store.add_article(new_article())
    other = store.add_article(new_article("https://news.example/other"))
    assert store.latest_version(article.id) is None
    assert store.list_versions(article.id) == []

    v2 = new_version(article.id, 2, "Two.")
    v1 = new_version(article.id, 1, "One.")
    v3 = new_version(article.id, 3, "Three.")
    for revision, version in enumerate((v2, v1, v3)):  # out of order on purpose
        store.record(replace(article, revision=revision), [], version)
    store.record(other, [], new_version(other.id, 1, "Other."))

    assert store.latest_version(article.id) == v3
    assert store.get_version(article.id, 2) == v2
    assert store.get_version(article.id, 4) is None
    assert store.list_versions(article.id) == [v1, v2, v3]
    assert store.list_versions(other.id) == [new_version(other.id, 1, "Other.")]


def test_list_changes_filters_by_article_and_time(store: SQLStore) -> None:
    a = store.add_article(new_article("https://news.example/a"))
    b = store.add_article(new_article("https://news.example/b"))
    (a_new,) = store.record(a, [new_change(a, ChangeKind.NEW, T0)])
    (b_new,) = store.record(b, [new_change(b, ChangeKind.NEW, T0 + timedelta(minutes=1))])
    (a_changed,) = store.record(
        replace(a, revision=1),
        [new_change(a, ChangeKind.CHANGED, T0 + timedelta(hours=2), version=2)],
    )

    assert store.list_changes() == [a_new, b_new, a_changed]
    assert store.list_changes(article_id=a.id) == [a_new, a_changed]
    assert store.list_changes(since=T0 + timedelta(minutes=1)) == [b_new, a_changed]
    assert store.list_changes(article_id=a.id, since=T0 + timedelta(minutes=1)) == [a_changed]
    assert store.list_changes(since=T0 + timedelta(days=1)) == []


# opening, migrations, concurrency


def test_reopening_keeps_data_and_migrations_are_idempotent(store_url: str) -> None:
    with SQLStore.open(store_url) as first:
        article = first.add_article(new_article())
        first.save_feed(FeedState(name="example", url="https://news.example/feed"))

    with SQLStore.open(store_url) as again, SQLStore.open(store_url) as third:
        assert again.get_article(article.id) == article
        assert third.list_feeds() == [FeedState(name="example", url="https://news.example/feed")]


def test_open_store_returns_a_working_store(store_url: str) -> None:
    opened = open_store(store_url)
    try:
        assert opened.list_feeds() == []
    finally:
        opened.close()


def test_migration_leaves_version_table_at_head_and_schema_matches(store: SQLStore) -> None:
    with store.engine.connect() as conn:
        revisions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert revisions == [head_revision()]
    assert differences == []


def test_two_stores_write_concurrently(store_url: str) -> None:
    stores = [SQLStore.open(store_url), SQLStore.open(store_url)]
    per_thread, threads_per_store = 15, 2
    start = threading.Barrier(len(stores) * threads_per_store)
    errors: list[BaseException] = []

    def write(target: SQLStore, worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                article = target.add_article(new_article(f"https://news.example/{worker}/{n}"))
                target.record(
                    replace(article, versions=1),
                    [new_change(article, ChangeKind.NEW, T0, version=1)],
                    new_version(article.id, 1),
                    RawBody(b"x" * 1000),
                )
                target.list_articles()  # a read between writes, as the scheduler does
        except BaseException as exc:
            errors.append(exc)

    workers = [
        threading.Thread(target=write, args=(stores[i % len(stores)], i))
        for i in range(len(stores) * threads_per_store)
    ]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert errors == []
        total = per_thread * len(workers)
        assert len(stores[0].list_articles()) == total
        assert len(stores[1].list_changes()) == total
    finally:
        for opened in stores:
            opened.close()


def test_concurrent_first_open_migrates_once(store_url: str) -> None:
    start = threading.Barrier(3)
    opened: list[SQLStore] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            start.wait()
            opened.append(SQLStore.open(store_url))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=open_it) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    try:
        assert errors == []
        assert all(each.list_feeds() == [] for each in opened)
    finally:
        for each in opened:
            each.close()


# backend specifics (not parametrized)


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    opened = SQLStore.open(f"sqlite:///{tmp_path / 'monitor.db'}", lock_timeout=2.5)
    with opened, opened.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2_500


def test_postgresql_connections_bound_lock_waits_and_statements(pg_store_url: str) -> None:
    opened = SQLStore.open(pg_store_url, lock_timeout=2.5, statement_timeout=90)
    with opened, opened.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "2500ms"
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "90s"
        # The URL's own options (here the test schema) still apply.
        assert conn.exec_driver_sql("SHOW search_path").scalar().startswith("newsmonitor_test_")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite+pysqlite://"])
def test_in_memory_sqlite_is_refused(url: str) -> None:
    with pytest.raises(StoreError, match="in-memory"):
        SQLStore.open(url)


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(StoreError, match="unsupported"):
        SQLStore.open("mysql://user@localhost/db")


def test_bare_postgresql_url_uses_psycopg() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"


def test_connection_failure_names_url_without_password() -> None:
    # Port 1 on loopback: refused at once, no server needed.
    with pytest.raises(StoreError) as caught:
        SQLStore.open("postgresql://newsmonitor:s3cret-pw@127.0.0.1:1/monitor")
    message = str(caught.value)
    assert "cannot connect to postgresql+psycopg://newsmonitor:***@127.0.0.1:1/monitor" in message
    assert "s3cret-pw" not in message


def test_upgrade_from_first_revision_keeps_data(store_url: str) -> None:
    from alembic import command

    from monitor.store.migrate import alembic_config
    from monitor.store.sql import create_store_engine

    engine = create_store_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.exec_driver_sql(
            "INSERT INTO articles (feed, url, current_url, status, first_seen, last_in_feed,"
            " versions) VALUES ('f', 'https://x/a', 'https://x/a', 'active',"
            " '2024-05-01 12:00:00+00:00', '2024-05-01 12:00:00+00:00', 0)"
        )
    engine.dispose()
    with SQLStore.open(store_url) as upgraded:
        (article,) = upgraded.list_articles()
        assert article.url == "https://x/a"
        with upgraded.engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert revision == head_revision()


# seed links and drift


def test_seed_links_with_drift_and_changes_carrying_them(store: SQLStore) -> None:
    article = store.add_article(new_article())
    drift = Drift(
        "000_seed",
        0.82,
        sentences_added=2,
        sentences_edited=1,
        numbers_added=("40,000",),
        numbers_removed=("30,000",),
        quotes_removed=("a very generous offer",),
    )
    link = SeedLink(article.id, "000_seed", 0.91, ("containment 0.91 >= 0.5",), T0, drift, 1)
    change = new_change(article, ChangeKind.NEW, T0, version=1, seed_id="000_seed", drift=drift)
    (saved,) = store.record(
        replace(article, versions=1), [change], new_version(article.id, 1), link=link
    )
    assert store.get_seed_link(article.id) == link
    assert store.list_seed_links("000_seed") == [link]
    assert store.list_seed_links("other") == []
    assert store.list_changes(article.id) == [saved] and saved.drift == drift

    moved_on = replace(link, drift=replace(drift, similarity=0.5), drift_version=2)
    store.record(replace(article, revision=1), [], link=moved_on)
    assert store.get_seed_link(article.id) == moved_on  # updated, not duplicated
    store.remove_seed_link(article.id)
    assert store.get_seed_link(article.id) is None


# the alert outbox


def queued_alert(channel: str, n: int, change_id: int | None = None, **fields: Any) -> Alert:
    defaults: dict[str, Any] = {
        "id": 0,
        "event_id": f"evt_{channel}_{n}",
        "channel": channel,
        "event_type": "article.changed",
        "payload": {"version": 1, "n": n, "text": "ünïcode"},
        "created_at": T0,
        "change_id": change_id,
        "next_attempt": T0,
    }
    defaults.update(fields)
    return Alert(**defaults)


def test_alerts_are_queued_in_the_changes_transaction(store: SQLStore) -> None:
    article = store.add_article(new_article())
    change = new_change(article, ChangeKind.NEW, T0, version=1)

    def make(saved: Sequence[Change]) -> list[Alert]:
        return [queued_alert(ch, saved[0].id, change_id=saved[0].id) for ch in ("hook", "mail")]

    (saved,) = store.record(
        replace(article, versions=1), [change], new_version(article.id, 1), alerts=make
    )
    queued = store.list_alerts(AlertStatus.QUEUED)
    assert {(a.channel, a.change_id) for a in queued} == {("hook", saved.id), ("mail", saved.id)}
    assert queued[0].payload["text"] == "ünïcode"

    # A failure anywhere in the transaction leaves neither the change nor its alerts.
    def broken(saved: Sequence[Change]) -> list[Alert]:
        return [queued_alert("hook", 1)]  # a duplicate event id

    with pytest.raises(StoreError):
        store.record(
            replace(article, revision=1), [new_change(article, ChangeKind.MOVED, T0)], alerts=broken
        )
    assert len(store.list_changes(article.id)) == 1
    assert len(store.list_alerts()) == 2


def test_claims_are_exclusive_until_the_lease_ends(store: SQLStore) -> None:
    store.add_alerts([queued_alert("hook", n) for n in range(5)])
    store.add_alerts([queued_alert("hook", 9, next_attempt=T0 + timedelta(hours=1))])
    lease = T0 + timedelta(minutes=5)
    first = store.claim_alerts(T0, "relay-a", lease, limit=3)
    second = store.claim_alerts(T0, "relay-b", lease)
    assert len(first) == 3 and len(second) == 2  # the future one is not due
    assert not {a.id for a in first} & {a.id for a in second}
    assert store.claim_alerts(T0, "relay-c", lease) == []

    # relay-a dies; after its lease another relay takes its rows over.
    later = T0 + timedelta(minutes=6)
    taken = store.claim_alerts(later, "relay-c", later + timedelta(minutes=5))
    assert {a.id for a in taken} == {a.id for a in first} | {a.id for a in second}
    assert not store.finish_alert(first[0].id, "relay-a", AlertStatus.DELIVERED, 1, later)
    assert store.finish_alert(first[0].id, "relay-c", AlertStatus.DELIVERED, 1, later)
    delivered = store.get_alert(first[0].id)
    assert delivered is not None and delivered.delivered_at == later


def test_concurrent_claims_never_overlap(store_url: str) -> None:
    with SQLStore.open(store_url) as setup:
        setup.add_alerts([queued_alert("hook", n) for n in range(60)])
    claimed: list[list[int]] = []

    def relay(name: str) -> None:
        with SQLStore.open(store_url) as own:
            ids: list[int] = []
            while batch := own.claim_alerts(T0, name, T0 + timedelta(minutes=5), limit=4):
                ids += [a.id for a in batch]
            claimed.append(ids)

    workers = [threading.Thread(target=relay, args=(f"r{i}",)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    every = [i for ids in claimed for i in ids]
    assert len(every) == 60 and len(set(every)) == 60


def test_failures_retry_and_dead_alerts_can_be_requeued(store: SQLStore) -> None:
    (alert,) = store.add_alerts([queued_alert("hook", 1)])
    store.claim_alerts(T0, "r", T0 + timedelta(minutes=5))
    retry_at = T0 + timedelta(minutes=1)
    store.finish_alert(alert.id, "r", AlertStatus.QUEUED, 1, T0, retry_at, "HTTP 503")
    assert store.claim_alerts(T0, "r", T0 + timedelta(minutes=5)) == []
    (again,) = store.claim_alerts(retry_at, "r", retry_at + timedelta(minutes=5))
    assert (again.attempts, again.last_error) == (1, "HTTP 503")
    store.finish_alert(alert.id, "r", AlertStatus.DEAD, 2, retry_at, None, "HTTP 400")
    assert store.count_alerts() == {
        AlertStatus.QUEUED: 0,
        AlertStatus.DELIVERED: 0,
        AlertStatus.DEAD: 1,
    }
    assert store.requeue_alerts(None, retry_at) == 1
    (requeued,) = store.list_alerts(AlertStatus.QUEUED)
    assert requeued.attempts == 0 and requeued.next_attempt == retry_at


def test_digest_alerts_are_held_apart(store: SQLStore) -> None:
    store.add_alerts(
        [
            queued_alert("mail", n, digest=True, created_at=T0 + timedelta(minutes=n))
            for n in range(3)
        ]
    )
    store.add_alerts([queued_alert("hook", 7)])
    assert [a.channel for a in store.claim_alerts(T0, "r", T0 + timedelta(minutes=5))] == ["hook"]
    assert store.oldest_queued_digest("mail") == T0
    assert store.oldest_queued_digest("hook") is None
    held = store.claim_alerts(T0, "r", T0 + timedelta(minutes=5), digest=True, channel="mail")
    assert len(held) == 3


def test_locks_are_exclusive_until_released_or_expired(store: SQLStore) -> None:
    lease = T0 + timedelta(minutes=15)
    assert store.acquire_lock("check", "a", T0, lease) is None
    assert store.acquire_lock("check", "b", T0, lease) == "a"
    assert store.acquire_lock("check", "a", T0, lease) is None  # the holder extends it
    later = lease + timedelta(seconds=1)
    assert store.acquire_lock("check", "b", later, later + timedelta(minutes=15)) is None  # expired
    store.release_lock("check", "a")  # not the holder any more: no effect
    assert store.acquire_lock("check", "c", T0, lease) == "b"
    store.release_lock("check", "b")
    assert store.acquire_lock("check", "c", T0, lease) is None


def test_a_lock_taken_by_many_processes_at_once_has_one_holder(store_url: str) -> None:
    """Each opener as a separate process would be: its own engine and connections."""
    stores = [SQLStore.open(store_url) for _ in range(6)]
    start = threading.Barrier(len(stores))
    lease = T0 + timedelta(minutes=15)

    def take(n: int) -> str | None:
        start.wait()
        return stores[n].acquire_lock("check", f"owner-{n}", T0, lease)

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            answers = list(pool.map(take, range(len(stores))))
    finally:
        for opened in stores:
            opened.close()
    winners = [n for n, holder in enumerate(answers) if holder is None]
    assert len(winners) == 1  # never a StoreError, never two holders
    assert {holder for holder in answers if holder} == {f"owner-{winners[0]}"}


def test_head_constant_is_the_newest_migration() -> None:
    # A store at HEAD is opened without Alembic: HEAD must name the real newest revision.
    from monitor.store.migrate import HEAD

    assert head_revision() == HEAD


# several processes on one store: lost races, held rows, bounded waits


def test_recording_from_an_old_revision_is_a_lost_race(store: SQLStore) -> None:
    article = store.add_article(new_article())
    (first,) = store.record(
        replace(article, versions=1), [new_change(article, ChangeKind.NEW, T0, version=1)]
    )
    # Another process read the article before that record, and saw it gone.
    stale = replace(article, status=ArticleStatus.REMOVED)
    with pytest.raises(ConflictError, match="recorded by another process"):
        store.record(stale, [new_change(article, ChangeKind.REMOVED, T0)])
    assert store.list_changes() == [first]  # nothing of the loser was written
    assert store.get_article(article.id) == replace(article, versions=1, revision=1)


def test_a_new_article_is_inserted_with_its_first_version_or_not_at_all(store: SQLStore) -> None:
    fresh = new_article()
    version = new_version(0, 1)
    (saved,) = store.record(
        replace(fresh, versions=1), [new_change(fresh, ChangeKind.NEW, T0, version=1)], version
    )
    (article,) = store.list_articles()
    assert saved.article_id == article.id and article.versions == 1
    assert store.list_versions(article.id) == [replace(version, article_id=article.id)]
    # The same URL captured by another process meanwhile: a lost race, nothing written.
    with pytest.raises(ConflictError, match="already exists"):
        store.record(replace(fresh, versions=1), [new_change(fresh, ChangeKind.NEW, T0)], version)
    assert len(store.list_changes()) == 1 and store.incomplete_articles() == []


def test_incomplete_articles_are_those_counting_missing_versions(store: SQLStore) -> None:
    whole = store.add_article(new_article("https://news.example/whole"))
    store.record(replace(whole, versions=1), [], new_version(whole.id, 1))
    missing = store.add_article(new_article("https://news.example/missing", versions=1))
    short = store.add_article(new_article("https://news.example/short"))
    store.record(replace(short, versions=1), [], new_version(short.id, 1))
    store.update_articles([replace(short, versions=2)], ["versions"])
    assert [a.id for a in store.incomplete_articles()] == [missing.id, short.id]


def test_a_lease_is_renewed_only_by_its_holder(store: SQLStore) -> None:
    (alert,) = store.add_alerts([queued_alert("hook", 1)])
    store.claim_alerts(T0, "relay-a", T0 + timedelta(seconds=1))
    later = T0 + timedelta(minutes=1)
    assert store.renew_alerts([alert.id], "relay-b", later) == set()
    assert store.renew_alerts([alert.id], "relay-a", later) == {alert.id}
    # Renewed: another relay cannot claim it even though the first lease ran out.
    assert store.claim_alerts(T0 + timedelta(seconds=30), "relay-b", later) == []
    store.finish_alert(alert.id, "relay-a", AlertStatus.DELIVERED, 1, later)
    assert store.renew_alerts([alert.id], "relay-a", later) == set()  # sent: nothing to hold


def test_batched_updates_skip_rows_held_elsewhere(pg_store_url: str) -> None:
    from tests.storefaults import row_lock

    with SQLStore.open(pg_store_url, lock_timeout=5) as store:
        held = store.add_article(new_article("https://news.example/held"))
        free = store.add_article(new_article("https://news.example/free"))
        checked = [replace(a, last_checked=T0) for a in (held, free)]
        with row_lock(pg_store_url, held.id):
            started = time.monotonic()
            assert store.update_articles(checked, ["last_checked"]) == [held.id]
            assert time.monotonic() - started < 1  # skipped, not waited for
        assert store.get_article(free.id).last_checked == T0  # type: ignore[union-attr]
        assert store.get_article(held.id).last_checked is None  # type: ignore[union-attr]


def test_sqlite_writes_wait_at_most_the_lock_timeout(tmp_path: Path) -> None:
    from tests.storefaults import write_lock

    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with SQLStore.open(url, lock_timeout=0.5) as store, write_lock(url):
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="locked"):
            store.save_feed(FeedState("world", "https://news.example/feed"))
        assert 0.4 < time.monotonic() - started < 2
        # Tried without waiting: at once, and nothing written.
        started = time.monotonic()
        with pytest.raises(WouldWaitError), store.without_waiting():
            store.save_feed(FeedState("world", "https://news.example/feed"))
        assert time.monotonic() - started < 0.2
    with SQLStore.open(url) as store:
        assert store.list_feeds() == []
