"""This node's counted host claims (monitor/hostclaims.py): a feed's new articles wait for
another node's hold on their host, and a host goes back to the store with its last hold.
On SQLite and PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from monitor.hostclaims import HostClaims
from monitor.models import HostClaim
from monitor.store.runner import StoreRunner
from monitor.store.sql import SQLStore
from tests.store.samples import T0, new_article

LEASE = timedelta(seconds=2)


class TurnedClock:
    """A clock the test turns (the lease's expiry without waiting it out)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def runner(store: SQLStore) -> AsyncIterator[StoreRunner]:
    db = StoreRunner(store)
    yield db
    db.close()


def node(store: SQLStore, db: StoreRunner, owner: str, clock: TurnedClock) -> HostClaims:
    return HostClaims(store, db, owner, clock, LEASE)


def holder(store: SQLStore, host: str) -> str | None:
    """Who holds ``host`` in the store now (a second owner's claim attempt tells)."""
    probe = store.claim_named_hosts("probe", [host], T0, T0 + LEASE)
    if probe:
        store.release_claims("probe", "host", [host])
        return None
    return "another"


async def test_a_host_held_by_another_node_is_waited_for(
    store: SQLStore, runner: StoreRunner
) -> None:
    clock = TurnedClock()
    first, second = node(store, runner, "n1", clock), node(store, runner, "n2", clock)
    second.poll = 0.02
    await first.hold("news.example")
    waiting = asyncio.create_task(second.hold("news.example"))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # n1 works the host: n2's fetch waits
    await first.release(["news.example"])
    await asyncio.wait_for(waiting, 5)
    assert second.held("news.example") == 1 and first.held("news.example") == 0
    assert holder(store, "news.example") == "another"
    await second.release(["news.example"])
    assert holder(store, "news.example") is None


async def test_a_dead_nodes_hold_is_taken_over_when_its_lease_ends(
    store: SQLStore, runner: StoreRunner
) -> None:
    clock = TurnedClock()
    dead, alive = node(store, runner, "dead", clock), node(store, runner, "alive", clock)
    alive.poll = 0.02
    await dead.hold("news.example")  # and never released
    waiting = asyncio.create_task(alive.hold("news.example"))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    clock.now = T0 + LEASE + timedelta(seconds=1)
    await asyncio.wait_for(waiting, 5)
    assert alive.held("news.example") == 1


async def test_the_host_goes_back_with_its_last_hold(store: SQLStore, runner: StoreRunner) -> None:
    clock = TurnedClock()
    store.add_article(new_article("https://news.example/a", next_check=T0))
    mine = node(store, runner, "n1", clock)
    round_hosts = store.claim_hosts(HostClaim("n1", T0, T0 + LEASE))
    assert round_hosts == ["news.example"]
    mine.adopt(round_hosts)  # the article round's claim
    await asyncio.gather(mine.hold("news.example"), mine.hold("news.example"))  # two pages
    assert mine.held("news.example") == 3
    await mine.release(round_hosts)  # the round ends; the pages are still being fetched
    assert holder(store, "news.example") == "another"
    await mine.release(["news.example"])
    assert holder(store, "news.example") == "another"
    await mine.release(["news.example"])
    assert mine.held("news.example") == 0
    assert holder(store, "news.example") is None


async def test_a_cancelled_wait_gives_its_hold_back(store: SQLStore, runner: StoreRunner) -> None:
    clock = TurnedClock()
    first, second = node(store, runner, "n1", clock), node(store, runner, "n2", clock)
    second.poll = 0.02
    await first.hold("news.example")
    waiting = asyncio.create_task(second.hold("news.example"))
    await asyncio.sleep(0.1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert second.held("news.example") == 0
