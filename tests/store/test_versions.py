"""Versions and changes (monitor/store/versions.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
import zstandard
from sqlalchemy import select, update

from monitor.errors import StoreError
from monitor.models import (
    ChangeKind,
    DiffStats,
    RawBody,
    Recording,
    Significance,
)
from monitor.store import ZSTD_MAGIC, pack_raw, unpack_raw
from monitor.store.schema import versions
from monitor.store.sql import SQLStore
from tests.store.samples import T0, new_article, new_change, new_version


def test_classified_changes_and_reverts_roundtrip(store: SQLStore) -> None:
    article = store.add_article(new_article())
    store.record(
        Recording(replace(article, versions=1), [], new_version(article.id, 1, feed_title="A"))
    )
    store.record(
        Recording(
            replace(article, versions=2, revision=1),
            [],
            new_version(article.id, 2, content_hash="b" * 64),
        )
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
    (saved,) = store.record(Recording(replace(article, versions=3, revision=2), [reverted], third))

    assert store.list_changes(article.id) == [saved]
    assert saved.stats == stats and saved.tags == ("headline", "numbers")
    assert store.get_version(article.id, 1).feed_title == "A"  # type: ignore[union-attr]
    found = store.find_version_by_hash(article.id, third.content_hash)
    assert found is not None and found.number == 1  # the earliest of the identical versions
    assert store.find_version_by_hash(article.id, "f" * 64) is None


def test_raw_body_is_byte_identical_and_stored_compressed(store: SQLStore) -> None:
    article = store.add_article(new_article())
    body = b"<p>The same paragraph, over and over.</p>\n" * 2000
    store.record(Recording(article, [], new_version(article.id, 1), RawBody(body)))

    assert store.get_raw_body(article.id, 1) == RawBody(body, None)
    with store.engine.connect() as conn:
        stored = conn.execute(select(versions.c.raw_body)).scalar_one()
    assert len(stored) < len(body) // 10


def test_raw_body_packed_by_a_worker_is_stored_as_packed(store: SQLStore) -> None:
    article = store.add_article(new_article())
    body = b"<p>Packed in a worker process.</p>\n" * 500
    store.record(
        Recording(article, [], new_version(article.id, 1), RawBody(body, packed=pack_raw(body)))
    )

    assert store.get_raw_body(article.id, 1) == RawBody(body, None)
    with store.engine.connect() as conn:
        assert conn.execute(select(versions.c.raw_body)).scalar_one() == pack_raw(body)


def test_raw_bodies_are_zstd_and_an_older_stores_zlib_ones_still_read(store: SQLStore) -> None:
    body = b"<p>Written before raw bodies were zstd frames.</p>\n" * 300
    new, old = (store.add_article(new_article(f"https://news.example/{n}")) for n in "ab")
    for article in (new, old):
        store.record(Recording(article, [], new_version(article.id, 1), RawBody(body)))
    with store.engine.begin() as conn:
        conn.execute(
            update(versions)
            .where(versions.c.article_id == old.id)
            .values(raw_body=zlib.compress(body, 6))
        )
        stored = conn.execute(
            select(versions.c.raw_body).where(versions.c.article_id == new.id)
        ).scalar_one()

    assert stored.startswith(ZSTD_MAGIC)
    assert store.get_raw_body(new.id, 1) == RawBody(body, None)
    assert store.get_raw_body(old.id, 1) == RawBody(body, None)


def test_unpack_raw_reads_frames_without_a_size_and_refuses_what_is_not_a_body() -> None:
    body = b"<p>Streamed.</p>" * 100
    # A frame written by a stream does not say its size up front.
    streamed = zstandard.ZstdCompressor().compressobj()
    frame = streamed.compress(body) + streamed.flush()
    assert unpack_raw(frame) == body
    assert unpack_raw(zlib.compress(body)) == body
    for bad in (b"<html>", pack_raw(body)[:-8], zlib.compress(body)[:-8], b""):
        with pytest.raises(ValueError):
            unpack_raw(bad)


def test_a_corrupt_raw_body_is_a_store_error(store: SQLStore) -> None:
    article = store.add_article(new_article())
    store.record(Recording(article, [], new_version(article.id, 1), RawBody(b"<p>x</p>" * 99)))
    with store.engine.begin() as conn:
        conn.execute(update(versions).values(raw_body=ZSTD_MAGIC + b"garbage"))
    with pytest.raises(StoreError, match="corrupt"):
        store.get_raw_body(article.id, 1)


def test_raw_body_is_none_when_not_kept(store: SQLStore) -> None:
    article = store.add_article(new_article())
    store.record(Recording(article, [], new_version(article.id, 1)))
    assert store.get_raw_body(article.id, 1) is None
    assert store.get_raw_body(article.id, 2) is None


def test_version_lookups_and_ordering(store: SQLStore) -> None:
    article = store.add_article(new_article())
    other = store.add_article(new_article("https://news.example/other"))
    assert store.latest_version(article.id) is None
    assert store.list_versions(article.id) == []

    v2 = new_version(article.id, 2, "Two.")
    v1 = new_version(article.id, 1, "One.")
    v3 = new_version(article.id, 3, "Three.")
    for revision, version in enumerate((v2, v1, v3)):  # out of order on purpose
        store.record(Recording(replace(article, revision=revision), [], version))
    store.record(Recording(other, [], new_version(other.id, 1, "Other.")))

    assert store.latest_version(article.id) == v3
    assert store.get_version(article.id, 2) == v2
    assert store.get_version(article.id, 4) is None
    assert store.list_versions(article.id) == [v1, v2, v3]
    assert store.list_versions(other.id) == [new_version(other.id, 1, "Other.")]


def test_list_changes_filters_by_article_and_time(store: SQLStore) -> None:
    a = store.add_article(new_article("https://news.example/a"))
    b = store.add_article(new_article("https://news.example/b"))
    (a_new,) = store.record(Recording(a, [new_change(a, ChangeKind.NEW, T0)]))
    (b_new,) = store.record(
        Recording(b, [new_change(b, ChangeKind.NEW, T0 + timedelta(minutes=1))])
    )
    (a_changed,) = store.record(
        Recording(
            replace(a, revision=1),
            [new_change(a, ChangeKind.CHANGED, T0 + timedelta(hours=2), version=2)],
        )
    )

    assert store.list_changes() == [a_new, b_new, a_changed]
    assert store.list_changes(article_id=a.id) == [a_new, a_changed]
    assert store.list_changes(since=T0 + timedelta(minutes=1)) == [b_new, a_changed]
    assert store.list_changes(article_id=a.id, since=T0 + timedelta(minutes=1)) == [a_changed]
    assert store.list_changes(since=T0 + timedelta(days=1)) == []


def test_a_version_keeps_the_offset_its_page_gave_its_dates(store: SQLStore) -> None:
    # 00:30 in Vienna on the 3rd is the 2nd in UTC: the page's own day must survive.
    vienna = timezone(timedelta(hours=1))
    published = datetime(2021, 3, 3, 0, 30, tzinfo=vienna)
    modified = datetime(2021, 3, 3, 9, 0, tzinfo=UTC)
    article = store.add_article(new_article())
    version = new_version(article.id, 1, published=published, modified=modified)
    store.record(Recording(replace(article, versions=1), [], version))
    stored = store.latest_version(article.id)
    assert stored is not None and stored.published is not None
    assert stored.published == published and stored.published.utcoffset() == timedelta(hours=1)
    assert stored.published.date().isoformat() == "2021-03-03"
    assert stored.modified == modified and stored.modified.utcoffset() == timedelta(0)


def test_a_versions_word_count_is_kept_with_it(store: SQLStore) -> None:
    # Counted once (by the worker that extracted it) and stored: the next fetch's quality
    # gate compares with it. Unknown (versions stored before 0011): read back as None.
    article = store.add_article(new_article())
    store.record(Recording(replace(article, versions=1), [], new_version(article.id, 1, words=2)))
    latest = store.latest_version(article.id)
    assert latest is not None and latest.words == 2
    second = new_version(article.id, 2, content_hash="b" * 64)
    store.record(Recording(replace(article, versions=2, revision=1), [], second))
    assert store.latest_version(article.id).words is None  # type: ignore[union-attr]
