"""The store's transactions (monitor/store/transactions.py): concurrent writers, bounded
waits, writes tried without waiting."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.errors import StoreBusyError
from monitor.models import (
    ChangeKind,
    FeedState,
    RawBody,
    Recording,
)
from monitor.store import WouldWaitError
from monitor.store.sql import SQLStore
from tests.store.samples import T0, new_article, new_change, new_version


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
                    Recording(
                        replace(article, versions=1),
                        [new_change(article, ChangeKind.NEW, T0, version=1)],
                        new_version(article.id, 1),
                        RawBody(b"x" * 1000),
                    )
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
