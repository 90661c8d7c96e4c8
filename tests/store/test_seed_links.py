"""Seed links (monitor/store/seed_links.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from monitor.models import (
    ChangeKind,
    Drift,
    Recording,
    SeedLink,
)
from monitor.store.sql import SQLStore
from tests.store.samples import T0, new_article, new_change, new_version


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
        Recording(replace(article, versions=1), [change], new_version(article.id, 1), link=link)
    )
    assert store.get_seed_link(article.id) == link
    assert store.list_seed_links("000_seed") == [link]
    assert store.list_seed_links("other") == []
    assert store.list_changes(article.id) == [saved] and saved.drift == drift

    moved_on = replace(link, drift=replace(drift, similarity=0.5), drift_version=2)
    store.record(Recording(replace(article, revision=1), [], link=moved_on))
    assert store.get_seed_link(article.id) == moved_on  # updated, not duplicated
    store.remove_seed_link(article.id)
    assert store.get_seed_link(article.id) is None
