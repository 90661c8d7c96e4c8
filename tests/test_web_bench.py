"""bench/web.py on a small archive: what it fills is what it says, and every timed
request answers 200 (the bench asserts it) on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.web import FEEDS, VERSIONS_PER_ARTICLE, fill, measure
from monitor.config import settings_from_dict
from monitor.models import ChangeKind
from monitor.store import ChangeFilter
from monitor.store.sql import SQLStore


def test_the_bench_fills_and_measures_a_small_archive(store_url: str, tmp_path: Path) -> None:
    settings = settings_from_dict(
        {
            "storage": {"url": store_url},
            "feeds": [{"name": f, "url": f"https://news.example.org/{f}.xml"} for f in FEEDS],
        },
        source=tmp_path / "bench.toml",
    )
    with SQLStore.open(store_url) as store:
        fill(store, 30)
        assert store.counts() == {
            "articles": 30,
            "versions": 30 * VERSIONS_PER_ARTICLE,
            "changes": 60,
        }
        edits = store.page_changes(ChangeFilter(kind=ChangeKind.CHANGED), 100)
        assert len(edits) == 30 and all(c.stats for c in edits)
        figures = asyncio.run(measure(settings, store, 30, 2))
    assert set(figures) == {"changes", "article", "atom-cold", "atom"}
    assert figures["changes"]["n"] == 6 and figures["atom"]["n"] == 2
