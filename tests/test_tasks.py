"""Bounded concurrency over lazy batches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from monitor.tasks import for_each, one_batch


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
