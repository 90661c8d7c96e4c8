"""Bounded concurrency over lazy batches, and fair across hosts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from monitor.tasks import HostQueues, HostSlots, for_each, interleave, one_batch


def test_for_each_runs_every_item_at_most_limit_at_once() -> None:
    running = 0
    peak = 0
    done: list[int] = []

    async def work(item: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)  # yield: let the other workers start
        running -= 1
        done.append(item)

    asyncio.run(for_each(one_batch(range(50)), work, 4))
    assert sorted(done) == list(range(50))
    assert peak == 4


def test_for_each_reads_the_next_batch_only_when_this_one_is_handed_out() -> None:
    read: list[int] = []
    handed: list[tuple[int, int]] = []

    async def batches() -> AsyncIterator[list[int]]:
        for start in range(0, 9, 3):
            read.append(start)
            yield list(range(start, start + 3))

    async def work(item: int) -> None:
        handed.append((item, len(read)))
        await asyncio.sleep(0)

    asyncio.run(for_each(batches(), work, 2))
    assert sorted(item for item, _ in handed) == list(range(9))
    # Items of the first batch were handed out before the second batch was read.
    assert all(reads == 1 for item, reads in handed if item < 2)


def test_for_each_with_nothing_to_do() -> None:
    asyncio.run(for_each(one_batch([]), lambda _item: asyncio.sleep(0), 3))


# Host-aware scheduling (issue 16): keys are hosts.


def test_host_queues_hand_out_round_robin_within_the_per_key_limit() -> None:
    queues: HostQueues[str] = HostQueues(per_key=2)
    for item in ("a1", "a2", "a3", "a4", "b1", "c1", "c2"):
        queues.put(item[0], item)
    taken = []
    while (next_one := queues.take()) is not None:
        taken.append(next_one[1])
    # a's third item waits for one of its two slots; b and c go between a's items.
    assert taken == ["a1", "b1", "c1", "a2", "c2"]
    assert queues.running("a") == 2 and queues.queued == 2
    queues.done("a")
    assert queues.take() == ("a", "a3")
    assert queues.take() is None
    queues.done("b")  # another key's slot frees nothing for a
    assert queues.take() is None


def test_host_queues_give_a_slow_key_its_slot_back_within_one_turn() -> None:
    queues: HostQueues[int] = HostQueues(per_key=1)
    for item in range(3):
        queues.put("slow", item)
    for item in range(10, 20):
        queues.put("fast", item)
    assert queues.take() == ("slow", 0)
    for expected in range(10, 14):  # fast turns over while slow's one slot is held
        assert queues.take() == ("fast", expected)
        assert queues.take() is None
        queues.done("fast")
    queues.done("slow")
    # Fast has six items queued, but slow, back in line, is served before fast's second.
    assert [queues.take(), queues.take()] == [("fast", 14), ("slow", 1)]


def _keyed_run(
    items: list[str], limit: int, per_key: int, work: Callable[[str], Awaitable[None]]
) -> None:
    async def main() -> None:
        await asyncio.wait_for(
            for_each(one_batch(items), work, limit, key=lambda item: item[0], per_key=per_key),
            10,  # a guard against a deadlock, not a timing: the run needs milliseconds
        )

    asyncio.run(main())


def test_keyed_for_each_never_exceeds_the_per_key_or_global_limit() -> None:
    running: dict[str, int] = {}
    peaks: dict[str, int] = {}
    peak_total = 0
    done: list[str] = []

    async def work(item: str) -> None:
        nonlocal peak_total
        host = item[0]
        running[host] = running.get(host, 0) + 1
        peaks[host] = max(peaks.get(host, 0), running[host])
        peak_total = max(peak_total, sum(running.values()))
        for _ in range(3):
            await asyncio.sleep(0)
        running[host] -= 1
        done.append(item)

    items = [f"{host}{n}" for host in "abcde" for n in range(20)]
    _keyed_run(items, 6, 2, work)
    assert sorted(done) == sorted(items)
    assert max(peaks.values()) == 2  # reached, never passed
    assert peak_total == 6


def test_keyed_for_each_serves_other_hosts_while_one_host_is_full() -> None:
    """No head-of-line blocking: host a's items (first in line) wait until host b has been
    served; if b waited behind a, the run would deadlock."""
    b_served = asyncio.Event()
    a_started_before_b: list[bool] = []

    async def work(item: str) -> None:
        if item.startswith("a"):
            a_started_before_b.append(not b_served.is_set())
            await b_served.wait()
        else:
            b_served.set()

    items = [f"a{n}" for n in range(50)] + ["b0"]
    _keyed_run(items, 8, 2, work)
    assert b_served.is_set()
    assert a_started_before_b.count(True) == 1  # a's first item, then b, then the rest of a


def test_keyed_for_each_reads_past_a_batch_that_only_a_full_host_fills() -> None:
    read: list[int] = []
    started: list[str] = []
    release = asyncio.Event()

    async def batches() -> AsyncIterator[list[str]]:
        read.append(1)
        yield [f"a{n}" for n in range(10)]
        read.append(2)
        yield ["b0", "b1"]

    async def work(item: str) -> None:
        started.append(item)
        if item.startswith("a"):
            await release.wait()
        elif len([s for s in started if s.startswith("b")]) == 2:
            release.set()

    async def main() -> None:
        run = for_each(batches(), work, 4, key=lambda item: item[0], per_key=2)
        await asyncio.wait_for(run, 10)  # a deadlock guard, not a timing

    asyncio.run(main())
    assert read == [1, 2]
    assert started[:4] == ["a0", "a1", "b0", "b1"]
    assert len(started) == 12


def test_keyed_for_each_does_not_starve_a_slow_host() -> None:
    """A slow host gets each freed slot back at once, however much a fast host has queued:
    all its items run while the fast host's are still being handed out."""
    order: list[str] = []
    slow_gate = asyncio.Event()

    async def work(item: str) -> None:
        order.append(item)
        if item.startswith("s"):
            await slow_gate.wait()
        else:
            await asyncio.sleep(0)
            if item == "f5":
                slow_gate.set()  # the slow host answers, late

    items = [f"s{n}" for n in range(3)] + [f"f{n}" for n in range(200)]
    _keyed_run(items, 4, 1, work)
    assert sorted(order) == sorted(items)
    last_slow = max(order.index(f"s{n}") for n in range(3))
    assert last_slow < order.index("f20")


def test_interleave_mixes_keys_and_keeps_each_keys_order() -> None:
    items = ["a1", "a2", "a3", "b1", "c1", "c2"]
    assert interleave(items, lambda item: item[0]) == ["a1", "b1", "c1", "a2", "c2", "a3"]


def test_host_slots_let_waiters_of_other_hosts_in_past_a_full_host() -> None:
    """A feed's new articles all wait for their host; another host's article, behind them
    in line, still gets a slot (issue 16)."""
    order: list[str] = []

    async def main() -> None:
        slots = HostSlots(limit=3, per_key=1)
        release_a = asyncio.Event()

        async def hold(item: str) -> None:
            async with slots.slot(item[0]):
                order.append(item)
                if item.startswith("a"):
                    await release_a.wait()
                else:
                    release_a.set()

        await asyncio.wait_for(  # a deadlock guard, not a timing
            asyncio.gather(*(hold(item) for item in ("a0", "a1", "a2", "a3", "b0", "c0"))), 10
        )

    asyncio.run(main())
    assert order[:3] == ["a0", "b0", "c0"]
    assert sorted(order) == ["a0", "a1", "a2", "a3", "b0", "c0"]


def test_host_slots_give_back_a_cancelled_waiters_turn() -> None:
    async def main() -> list[str]:
        slots = HostSlots(limit=1, per_key=1)
        entered: list[str] = []
        gate = asyncio.Event()

        async def hold(name: str) -> None:
            async with slots.slot("a"):
                entered.append(name)
                await gate.wait()

        first = asyncio.create_task(hold("first"))
        await asyncio.sleep(0)
        doomed = asyncio.create_task(hold("doomed"))
        last = asyncio.create_task(hold("last"))
        await asyncio.sleep(0)
        doomed.cancel()
        gate.set()
        await asyncio.wait_for(asyncio.gather(first, last), 10)  # a deadlock guard
        assert doomed.cancelled()
        return entered

    assert asyncio.run(main()) == ["first", "last"]
