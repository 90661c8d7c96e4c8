"""Pages of changes for the web (``page_changes``, ``get_change``, ``changes_by_day`` in
monitor/store/versions.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from monitor.models import Change, ChangeKind, Recording, Significance
from monitor.store import ChangeFilter
from monitor.store.sql import SQLStore
from tests.store.samples import T0, new_article, new_change, new_version


def _fill(store: SQLStore) -> list[Change]:
    """Twelve changes over two feeds, two of them at the same instant (a tie that the
    cursor must break by id), oldest first."""
    a = store.add_article(new_article("https://news.example/a", feed="world"))
    b = store.add_article(new_article("https://news.example/b", feed="wire"))
    saved: list[Change] = []
    levels = list(Significance)
    for n in range(12):
        article = a if n % 2 else b
        at = T0 + timedelta(minutes=10 * (n if n != 5 else 4))  # n=4 and n=5 tie
        kind = ChangeKind.CHANGED if n % 3 else ChangeKind.NEW
        extra = {}
        if kind == ChangeKind.CHANGED:
            extra = {
                "significance": levels[n % 4],
                "tags": ("numbers", "flip-flop") if n % 4 == 1 else ("lede",),
                "version": n,
                "previous_version": n - 1,
            }
        change = new_change(article, kind, at, seed_id="s1" if n < 4 else None, **extra)
        revision = sum(1 for c in saved if c.article_id == article.id)
        (stored,) = store.record(Recording(replace(article, revision=revision), [change]))
        saved.append(stored)
    return saved


def _newest_first(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (c.detected_at, c.id), reverse=True)


def test_pages_follow_each_other_without_gaps_or_repeats(store: SQLStore) -> None:
    saved = _fill(store)
    seen: list[Change] = []
    cursor = None
    while True:
        page = store.page_changes(ChangeFilter(), 5, cursor)
        seen += page
        if len(page) < 5:
            break
        cursor = (page[-1].detected_at, page[-1].id)
    assert seen == _newest_first(saved)
    assert store.page_changes(ChangeFilter(), 100, (T0 - timedelta(days=1), 1)) == []


def test_each_filter_keeps_only_its_changes(store: SQLStore) -> None:
    saved = _fill(store)

    def matching(**fields: object) -> list[Change]:
        return store.page_changes(ChangeFilter(**fields), 100)  # type: ignore[arg-type]

    assert matching(feed="world") == _newest_first([c for c in saved if c.feed == "world"])
    assert matching(kind=ChangeKind.NEW) == _newest_first(
        [c for c in saved if c.kind == ChangeKind.NEW]
    )
    major_up = matching(min_significance=Significance.MAJOR)
    assert major_up == _newest_first(
        [c for c in saved if c.significance and c.significance.rank >= Significance.MAJOR.rank]
    )
    assert major_up  # the sample has some
    flips = matching(tag="flip-flop")
    assert flips and all("flip-flop" in c.tags for c in flips)
    assert matching(tag="flip") == []  # a whole tag, not a part of one
    assert matching(tag="flip_flop") == []  # LIKE's wildcard is escaped
    assert matching(seed_id="s1") == _newest_first(saved[:4])
    article_id = saved[0].article_id
    assert matching(article_id=article_id) == _newest_first(
        [c for c in saved if c.article_id == article_id]
    )
    window = matching(since=T0 + timedelta(minutes=20), until=T0 + timedelta(minutes=40))
    assert [c.detected_at for c in window] == sorted(
        [
            c.detected_at
            for c in saved
            if T0 + timedelta(minutes=20) <= c.detected_at < T0 + timedelta(minutes=40)
        ],
        reverse=True,
    )


def test_one_change_and_changes_per_day(store: SQLStore) -> None:
    saved = _fill(store)
    assert store.get_change(saved[3].id) == saved[3]
    assert store.get_change(10_000) is None
    by_day = store.changes_by_day(T0 - timedelta(days=1))
    assert by_day == {
        ("world", T0.date()): sum(1 for c in saved if c.feed == "world"),
        ("wire", T0.date()): sum(1 for c in saved if c.feed == "wire"),
    }
    assert store.changes_by_day(T0 + timedelta(days=1)) == {}


def test_versions_by_article_and_number_in_one_call(store: SQLStore) -> None:
    a = store.add_article(new_article("https://news.example/a"))
    b = store.add_article(new_article("https://news.example/b"))
    for article in (a, b):
        for number in (1, 2, 3):
            store.record(
                Recording(
                    replace(article, versions=number, revision=number - 1),
                    [],
                    new_version(article.id, number, f"Text {article.id}.{number}."),
                )
            )
    found = store.get_versions([(a.id, 1), (b.id, 3), (a.id, 3), (b.id, 9)])
    assert sorted(found) == sorted([(a.id, 1), (b.id, 3), (a.id, 3)])
    assert found[b.id, 3] == store.get_version(b.id, 3)
    assert (b.id, 1) not in found  # asked for a's v1, not b's
    assert store.get_versions([]) == {}
