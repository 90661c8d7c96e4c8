"""``SQLStore`` (monitor/store/sql.py): opening it, and ``record``, the one transaction
across the tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import pytest

from monitor.errors import ConflictError, StoreError
from monitor.models import (
    Alert,
    AlertStatus,
    Article,
    ArticleStatus,
    Change,
    ChangeKind,
    FeedState,
    RawBody,
    Recording,
    TextSource,
)
from monitor.store.sql import SQLStore, open_store
from tests.store.samples import T0, new_article, new_change, new_version, queued_alert


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

    saved = store.record(Recording(checked, changes, version, raw))

    assert [change.id for change in saved] != [0, 0]
    assert len({change.id for change in saved}) == 2
    assert saved == [replace(c, id=s.id) for c, s in zip(changes, saved, strict=True)]
    assert store.get_article(article.id) == replace(checked, revision=1)
    assert store.get_version(article.id, 1) == version
    assert store.get_raw_body(article.id, 1) == raw
    assert store.list_changes(article.id) == saved


def test_record_without_version_only_updates_and_adds_changes(store: SQLStore) -> None:
    article = store.add_article(new_article())
    removed = replace(article, status=ArticleStatus.REMOVED)
    saved = store.record(
        Recording(removed, [new_change(article, ChangeKind.REMOVED, T0, detail="HTTP 410")])
    )

    assert store.get_article(article.id) == replace(removed, revision=1)
    assert store.list_versions(article.id) == []
    assert store.list_changes() == saved
    assert store.record(Recording(replace(removed, revision=1), [])) == []


def test_duplicate_version_raises_and_rolls_back_the_whole_record(store: SQLStore) -> None:
    article = store.add_article(new_article())
    first = store.record(
        Recording(
            replace(article, versions=1),
            [new_change(article, ChangeKind.NEW, T0, version=1)],
            new_version(article.id, 1, "First."),
        )
    )

    with pytest.raises(StoreError, match="already exists"):
        store.record(
            Recording(
                replace(article, versions=2, title="Must not persist", revision=1),
                [new_change(article, ChangeKind.CHANGED, T0 + timedelta(hours=1), version=1)],
                new_version(article.id, 1, "Second."),
                RawBody(b"second"),
            )
        )

    assert store.get_article(article.id) == replace(article, versions=1, revision=1)
    assert store.list_changes() == first
    assert [v.text for v in store.list_versions(article.id)] == ["First."]
    assert store.get_raw_body(article.id, 1) is None


def test_record_for_missing_article_raises_and_keeps_nothing(store: SQLStore) -> None:
    ghost = new_article(id=4242)
    with pytest.raises(StoreError, match="no article"):
        store.record(
            Recording(ghost, [new_change(ghost, ChangeKind.NEW, T0)], new_version(4242, 1))
        )
    assert store.list_changes() == []


def test_recording_from_an_old_revision_is_a_lost_race(store: SQLStore) -> None:
    article = store.add_article(new_article())
    (first,) = store.record(
        Recording(
            replace(article, versions=1), [new_change(article, ChangeKind.NEW, T0, version=1)]
        )
    )
    # Another process read the article before that record, and saw it gone.
    stale = replace(article, status=ArticleStatus.REMOVED)
    with pytest.raises(ConflictError, match="recorded by another process"):
        store.record(Recording(stale, [new_change(article, ChangeKind.REMOVED, T0)]))
    assert store.list_changes() == [first]  # nothing of the loser was written
    assert store.get_article(article.id) == replace(article, versions=1, revision=1)


def test_a_new_article_is_inserted_with_its_first_version_or_not_at_all(store: SQLStore) -> None:
    fresh = new_article()
    version = new_version(0, 1)
    (saved,) = store.record(
        Recording(
            replace(fresh, versions=1), [new_change(fresh, ChangeKind.NEW, T0, version=1)], version
        )
    )
    (article,) = store.list_articles()
    assert saved.article_id == article.id and article.versions == 1
    assert store.list_versions(article.id) == [replace(version, article_id=article.id)]
    # The same URL captured by another process meanwhile: a lost race, nothing written.
    with pytest.raises(ConflictError, match="already exists"):
        store.record(
            Recording(replace(fresh, versions=1), [new_change(fresh, ChangeKind.NEW, T0)], version)
        )
    assert len(store.list_changes()) == 1 and store.incomplete_articles() == []


def test_alerts_are_queued_in_the_changes_transaction(store: SQLStore) -> None:
    article = store.add_article(new_article())
    change = new_change(article, ChangeKind.NEW, T0, version=1)

    def make(saved: Sequence[Change]) -> list[Alert]:
        return [queued_alert(ch, saved[0].id, change_id=saved[0].id) for ch in ("hook", "mail")]

    (saved,) = store.record(
        Recording(replace(article, versions=1), [change], new_version(article.id, 1)), alerts=make
    )
    queued = store.list_alerts(AlertStatus.QUEUED)
    assert {(a.channel, a.change_id) for a in queued} == {("hook", saved.id), ("mail", saved.id)}
    assert queued[0].payload["text"] == "ünïcode"

    # A failure anywhere in the transaction leaves neither the change nor its alerts.
    def broken(saved: Sequence[Change]) -> list[Alert]:
        return [queued_alert("hook", 1)]  # a duplicate event id

    with pytest.raises(StoreError):
        store.record(
            Recording(replace(article, revision=1), [new_change(article, ChangeKind.MOVED, T0)]),
            alerts=broken,
        )
    assert len(store.list_changes(article.id)) == 1
    assert len(store.list_alerts()) == 2


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


def test_a_batch_records_each_and_a_conflict_undoes_only_its_own(store: SQLStore) -> None:
    first = store.add_article(new_article("https://news.example/1"))
    second = store.add_article(new_article("https://news.example/2"))
    store.record(Recording(replace(second, title="Elsewhere"), []))  # by another process
    fresh = new_article("https://news.example/3")
    alerted: list[list[Change]] = []

    def alerts(saved: Sequence[Change]) -> list[Alert]:
        alerted.append(list(saved))
        return [queued_alert("desk", change.id, change_id=change.id) for change in saved]

    def news(article, text: str) -> Recording:
        change = new_change(article, ChangeKind.NEW, T0, version=1)
        return Recording(replace(article, versions=1), [change], new_version(article.id, 1, text))

    outcomes = store.record_batch(
        [
            (news(first, "Budget vote delayed."), alerts),
            (news(second, "Must not persist."), alerts),  # read before that record: stale
            (news(fresh, "Harbour reopens."), alerts),
        ]
    )

    saved_first, lost, saved_fresh = outcomes
    assert isinstance(lost, ConflictError)
    assert not isinstance(saved_first, ConflictError)
    assert not isinstance(saved_fresh, ConflictError)
    assert store.list_changes() == [*saved_first, *saved_fresh]
    assert alerted == [saved_first, saved_fresh]
    assert store.list_versions(second.id) == []
    assert store.get_article(second.id) == replace(second, title="Elsewhere", revision=1)
    fresh_id = saved_fresh[0].article_id
    assert [v.text for v in store.list_versions(fresh_id)] == ["Harbour reopens."]
    # Searchable at once, each of them; the undone version is not.
    assert [h.article.id for h in store.search_phrase("budget vote")] == [first.id]
    assert [h.article.id for h in store.search_phrase("harbour reopens")] == [fresh_id]
    assert store.search_phrase("must not persist") == []


def test_a_conflict_after_a_known_articles_update_fails_the_whole_batch(
    store: SQLStore,
) -> None:
    # Known articles are batched without savepoints (issue 16): a conflict after an
    # article's first write cannot be undone alone, so nothing of the batch is kept, and
    # the caller (writes.Writer) writes each alone.
    first = store.add_article(new_article("https://news.example/1"))
    second = store.add_article(new_article("https://news.example/2"))
    store.record(Recording(replace(second, versions=1), [], new_version(second.id, 1, "One.")))
    again = store.get_article(second.id)
    assert again is not None

    def news(article: Article, text: str) -> Recording:
        change = new_change(article, ChangeKind.CHANGED, T0, version=1)
        return Recording(replace(article, title=text), [change], new_version(article.id, 1, text))

    with pytest.raises(StoreError, match="batch is undone"):
        store.record_batch([(news(first, "Kept?"), None), (news(again, "Twice."), None)])
    assert store.list_versions(first.id) == []
    assert store.get_article(first.id) == first
    assert [v.text for v in store.list_versions(second.id)] == ["One."]
    assert store.list_changes() == []
