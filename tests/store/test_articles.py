"""Feeds and articles (monitor/store/articles.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.errors import StoreError
from monitor.models import (
    ArticleStatus,
    FeedState,
    Listed,
    Recording,
)
from monitor.store.sql import SQLStore
from tests.store.samples import CEST, T0, new_article, new_version


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
        # One URL alone (each new article's own question) goes another way: the same answer.
        assert store.tracked_among([url]) == ({url} if url in found else set())
    assert store.tracked_among([]) == set()


def test_find_articles_agrees_with_find_article_url_by_url(store: SQLStore) -> None:
    moved = store.add_article(
        new_article("https://news.example/old", current_url="https://news.example/x")
    )
    exact = store.add_article(new_article("https://news.example/x"))
    canonical = store.add_article(
        new_article("https://news.example/c", canonical_url="https://news.example/canon")
    )
    # A later article with the same canonical URL: the older one is found, by either call.
    store.add_article(
        new_article("https://news.example/c2", canonical_url="https://news.example/canon")
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


def test_article_failures_by_feed_counts_articles_with_an_error(store: SQLStore) -> None:
    # Issue 14: `feeds` and `status` said "ok" for feeds whose every page failed.
    for url, feed, error in (
        ("https://a.example/1", "a", "https://a.example/1: cannot resolve host"),
        ("https://a.example/2", "a", "https://a.example/2: HTTP 403"),
        ("https://a.example/3", "a", None),
        ("https://b.example/1", "b", None),
        ("https://c.example/1", "c", "https://c.example/1: HTTP 500"),
    ):
        store.add_article(new_article(url, feed=feed, last_error=error))

    assert store.article_failures_by_feed() == {"a": 2, "c": 1}


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


def test_incomplete_articles_are_those_counting_missing_versions(store: SQLStore) -> None:
    whole = store.add_article(new_article("https://news.example/whole"))
    store.record(Recording(replace(whole, versions=1), [], new_version(whole.id, 1)))
    missing = store.add_article(new_article("https://news.example/missing", versions=1))
    short = store.add_article(new_article("https://news.example/short"))
    store.record(Recording(replace(short, versions=1), [], new_version(short.id, 1)))
    store.update_articles([replace(short, versions=2)], ["versions"])
    assert [a.id for a in store.incomplete_articles()] == [missing.id, short.id]


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


def test_listed_articles_are_those_named_by_their_url_column(store: SQLStore) -> None:
    # What a changed feed's unchanged entries need, by the identity a feed entry names:
    # an article tracked under another URL (moved, canonical) is not among them.
    listed = store.add_article(
        new_article(
            "https://news.example/a",
            current_url="https://news.example/moved",
            canonical_url="https://news.example/canonical",
            versions=3,
            status=ArticleStatus.REMOVED,
            feed_title="A headline",
            feed_summary="A summary.",
        )
    )
    plain = store.add_article(new_article("https://news.example/b"))
    found = store.listed_articles(
        [
            "https://news.example/a",
            "https://news.example/b",
            "https://news.example/moved",
            "https://news.example/canonical",
            "https://news.example/unknown",
        ]
    )
    assert found == {
        "https://news.example/a": Listed(
            listed.id, 3, ArticleStatus.REMOVED, "A headline", "A summary."
        ),
        "https://news.example/b": Listed(plain.id, 0, ArticleStatus.ACTIVE, None, None),
    }
    assert store.listed_articles([]) == {}


def test_mark_in_feed_moves_only_last_in_feed_of_the_articles_named(store: SQLStore) -> None:
    seen = store.add_article(new_article("https://news.example/a", last_checked=T0))
    other = store.add_article(new_article("https://news.example/b"))
    later = T0 + timedelta(hours=1)
    assert store.mark_in_feed([seen.id, 98765], later.astimezone(CEST)) == []
    assert store.get_article(seen.id) == replace(seen, last_in_feed=later)
    assert store.get_article(other.id) == other
    assert store.mark_in_feed([], later) == []  # nothing to write is not an error


def test_mark_in_feed_skips_rows_held_elsewhere(pg_store_url: str) -> None:
    from tests.storefaults import row_lock

    with SQLStore.open(pg_store_url, lock_timeout=5) as store:
        held = store.add_article(new_article("https://news.example/held"))
        free = store.add_article(new_article("https://news.example/free"))
        later = T0 + timedelta(hours=1)
        with row_lock(pg_store_url, held.id):
            started = time.monotonic()
            assert store.mark_in_feed([held.id, free.id], later) == [held.id]
            assert time.monotonic() - started < 1  # skipped, not waited for
        assert store.get_article(free.id).last_in_feed == later  # type: ignore[union-attr]
        assert store.get_article(held.id).last_in_feed == T0  # type: ignore[union-attr]


def test_sqlite_timestamps_written_other_ways_read_back_as_the_same_instant(
    tmp_path: Path,
) -> None:
    # On SQLite the store reads its own "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) text straight;
    # a timestamp another writer left in another form still reads as the same instant.
    # (PostgreSQL keeps timestamps typed: there is no other way to write one.)
    from sqlalchemy import create_engine, text

    store_url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with SQLStore.open(store_url) as store:
        article = store.add_article(new_article("https://news.example/a"))
        engine = create_engine(store_url)
        forms = {
            "2024-05-01 14:00:00.000000+02:00": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
            "2024-05-01T12:00:00": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
            "2024-05-01 12:00:00.5": datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC),
            "2024-05-01 12:00:00": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        }
        for written, instant in forms.items():
            with engine.begin() as conn:
                conn.execute(
                    text("UPDATE articles SET last_checked = :at WHERE id = :id"),
                    {"at": written, "id": article.id},
                )
            read = store.get_article(article.id)
            assert read is not None and read.last_checked == instant, written
            assert read.last_checked.tzinfo == UTC
        engine.dispose()
