"""Bounded concurrency over lazily read batches of work, optionally fair across hosts.

``for_each`` runs a function over items with at most ``limit`` at once. Given a ``key``
(the host an item's requests go to), it also keeps at most ``per_key`` items of one key
running and hands items out round-robin over the keys that have room (``HostQueues``):
a host whose slots are full never idles the workers while other hosts have work, and a
slow host still gets its turn as often as a fast one (issue 16).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

BACKLOG = 5000  # items read ahead at most while every queued host is at its limit


class HostQueues(Generic[T]):
    """Items queued by key and handed out round-robin over the keys below ``per_key``
    running items; FIFO within a key. Pure bookkeeping: no I/O, no awaiting."""

    def __init__(self, per_key: int) -> None:
        self.per_key = max(1, per_key)
        self._items: dict[str, deque[T]] = {}
        self._running: dict[str, int] = {}
        self._ready: deque[str] = deque()  # keys with items queued and room to run one
        self._full: set[str] = set()  # keys with items queued and no room
        self.queued = 0

    def put(self, key: str, item: T) -> None:
        """Queue ``item`` behind the other items of ``key``."""
        queue = self._items.get(key)
        if queue is None:
            queue = self._items[key] = deque()
        if not queue:
            if self._running.get(key, 0) < self.per_key:
                self._ready.append(key)
            else:
                self._full.add(key)
        queue.append(item)
        self.queued += 1

    def take(self) -> tuple[str, T] | None:
        """The next item of the next key with room, now counted as running; None when
        nothing queued may run."""
        if not self._ready:
            return None
        key = self._ready.popleft()
        queue = self._items[key]
        item = queue.popleft()
        self.queued -= 1
        running = self._running[key] = self._running.get(key, 0) + 1
        if not queue:
            del self._items[key]
        elif running < self.per_key:
            self._ready.append(key)  # to the back: every other ready key goes first
        else:
            self._full.add(key)
        return key, item

    def done(self, key: str) -> None:
        """An item of ``key`` has finished: its slot goes to the next item of the key."""
        running = self._running[key] - 1
        if running:
            self._running[key] = running
        else:
            del self._running[key]
        if key in self._full:
            self._full.discard(key)
            self._ready.append(key)

    def running(self, key: str) -> int:
        """Items of ``key`` taken and not done."""
        return self._running.get(key, 0)


class HostSlots:
    """At most ``limit`` holders at once and ``per_key`` of one key; those waiting are let
    in round-robin over their keys (``HostQueues``), so waiters for a full host never
    hold up those for the others. For work started elsewhere (a feed's new articles)."""

    def __init__(self, limit: int, per_key: int) -> None:
        self._free = max(1, limit)
        self._waiting: HostQueues[asyncio.Future[None]] = HostQueues(per_key)

    @contextlib.asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """Hold one of ``key``'s slots for the block."""
        await self.acquire(key)
        try:
            yield
        finally:
            self.release(key)

    async def acquire(self, key: str) -> None:
        """Wait for one of ``key``'s slots; ``release`` it when done (for a slot held over
        part of a longer task, such as a page's fetch but not its extraction)."""
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.put(key, granted)
        self._let_in()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.release(key)  # let in just as it was cancelled: give the slot back
            raise  # one still queued is skipped (and its slot given back) when its turn comes

    def release(self, key: str) -> None:
        """Give back a slot of ``key`` that ``acquire`` gave."""
        self._release(key)

    def _release(self, key: str) -> None:
        self._free += 1
        self._waiting.done(key)
        self._let_in()

    def _let_in(self) -> None:
        while self._free > 0:
            taken = self._waiting.take()
            if taken is None:
                return
            key, granted = taken
            if granted.done():  # cancelled while it waited: nobody to hand the slot to
                self._waiting.done(key)
                continue
            self._free -= 1
            granted.set_result(None)


async def for_each(
    batches: AsyncIterable[Sequence[T]],
    fn: Callable[[T], Awaitable[None]],
    limit: int,
    key: Callable[[T], str] | None = None,
    per_key: int = 1,
    backlog: int = BACKLOG,
) -> None:
    """``fn`` for each item of each batch, at most ``limit`` at once. Items are taken only as
    a slot frees up, and the next batch only when this one is handed out, so a long (lazy)
    list never becomes thousands of waiting tasks. Neither ``fn`` nor the iteration may
    raise.

    ``key``: at most ``per_key`` items of one key at once, the keys served round-robin;
    the next batch is also read when every queued item waits for a busy key (up to
    ``backlog`` queued), so that one host's run of items cannot block the others."""
    if key is None:
        await _for_each(batches, fn, limit)
    else:
        await _for_each_keyed(batches, fn, limit, key, per_key, backlog)


async def _for_each(
    batches: AsyncIterable[Sequence[T]], fn: Callable[[T], Awaitable[None]], limit: int
) -> None:
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


async def _for_each_keyed(
    batches: AsyncIterable[Sequence[T]],
    fn: Callable[[T], Awaitable[None]],
    limit: int,
    key: Callable[[T], str],
    per_key: int,
    backlog: int,
) -> None:
    source = aiter(batches)
    backlog = max(1, backlog)
    queues: HostQueues[T] = HostQueues(per_key)
    changed = asyncio.Condition()  # an item finished or a batch arrived
    reading = False
    finished = False

    async def read_batch() -> None:
        nonlocal reading, finished
        reading = True
        arrived = 0
        try:
            batch = await anext(source)
        except StopAsyncIteration:
            finished = True
        else:
            for item in batch:
                queues.put(key(item), item)
            arrived = len(batch)
        finally:
            reading = False
        # As many idle workers as there are new items (each takes one or reads on), not
        # all of them for every batch: hundreds wake per batch otherwise (issue 16).
        await wake(None if finished else arrived)

    async def wake(workers: int | None) -> None:
        """Wake ``workers`` of those waiting; None: all of them."""
        async with changed:
            if workers is None:
                changed.notify_all()
            elif workers:
                changed.notify(workers)

    async def wake_all() -> None:
        await wake(None)

    async def worker() -> None:
        # A worker that finishes an item takes the next one itself, so the only waits are
        # for a batch being read or for a slot of a busy key: no per-item wake-ups.
        while True:
            taken = queues.take()
            if taken is not None:
                if finished and not queues.queued:
                    await wake_all()  # the last item is out: idle workers may stop
                item_key, item = taken
                try:
                    await fn(item)
                finally:
                    queues.done(item_key)
                continue
            if finished and not queues.queued:
                return
            if not finished and not reading and queues.queued < backlog:
                await read_batch()
                continue
            async with changed:
                await changed.wait()

    await asyncio.gather(*(worker() for _ in range(max(1, limit))))


async def one_batch(items: Iterable[T]) -> AsyncIterator[list[T]]:
    """``items`` as a single batch for ``for_each``."""
    yield list(items)


def interleave(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    """``items`` taken round-robin by ``key``, each key's items in their order: a list
    read in pages then mixes the keys (hosts) within every page."""
    groups: dict[str, deque[T]] = {}
    for item in items:
        groups.setdefault(key(item), deque()).append(item)
    mixed: list[T] = []
    rotation = deque(groups.values())
    while rotation:
        group = rotation.popleft()
        mixed.append(group.popleft())
        if group:
            rotation.append(group)
    return mixed
