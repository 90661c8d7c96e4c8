"""Run leases (monitor/store/leases.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from monitor.store.sql import SQLStore
from tests.store.samples import T0


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
