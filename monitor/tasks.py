"""Bounded concurrency over lazily read batches of work."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def for_each(
    batches: AsyncIterable[Sequence[T]], fn: Callable[[T], Awaitable[None]], limit: int
) -> None:
    """``fn`` for each item of each batch, at most ``limit`` at once. Items are taken only as
    a slot frees up, and the next batch only when this one is handed out, so a long (lazy)
    list never becomes thousands of waiting tasks. Neither ``fn`` nor the iteration may
    raise."""
    source = aiter(batches)
    queue: deque[T] = deque()
    refill = asyncio.Lock()  # one worker reads the next batch; the others wait for it
    finished = False

    async def worker() -> None:
        nonlocal finished
        while True:
            while not queue:  # the usual case skips this: no lock, no await per item
                if finished:
                    return
                async with refill:
                    if queue or finished:
                        continue
                    try:
                        queue.extend(await anext(source))
                    except StopAsyncIteration:
                        finished = True
            await fn(queue.popleft())

    await asyncio.gather(*(worker() for _ in range(max(1, limit))))


async def one_batch(items: Iterable[T]) -> AsyncIterator[list[T]]:
    """``items`` as a single batch for ``for_each``."""
    yield list(items)
