"""Store calls that never stall the event loop, whatever another process holds.

The store is synchronous (SQLAlchemy Core). Called on the event loop, a write waiting for a
lock that another process holds would stop every fetch and every alert delivery of the
daemon until the wait ended. ``StoreRunner`` decides where each call runs:

- A store on the network (PostgreSQL): every call in a thread, reads and writes in separate
  pools, so that writes waiting for row locks hold up neither reads nor the event loop.
- A store in this process (SQLite, ``RunnerStore.in_place``): its calls are CPU work with no
  network to wait for, and reads never wait for a lock (write-ahead log). They run in
  place, as threads would only add contention for the GIL (10% of a cold round's time).
  A write first tries without waiting at all; only when the database is locked does it go
  to a writer thread, to wait there (at most the lock timeout) while the loop goes on.

A batch (hundreds of rows read or written at once, 10-25 ms) is the exception: while
requests to many hosts wait on the network, in place it would hold every answer that
arrives meanwhile, so ``batch`` runs it in a thread then, whatever the store (issue 16).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from monitor.store import RunnerStore, WouldWaitError

P = ParamSpec("P")
T = TypeVar("T")

READERS = 4
WRITERS = 4  # SQLite serializes them anyway; PostgreSQL writes rows in parallel


class StoreRunner:
    """Runs a store's blocking calls so that none of them stalls the event loop."""

    def __init__(
        self,
        store: RunnerStore,
        readers: Executor | None = None,
        writers: Executor | None = None,
    ) -> None:
        self._store = store
        self._in_place = store.in_place
        self._readers = readers or ThreadPoolExecutor(READERS, thread_name_prefix="store-read")
        self._writers = writers or ThreadPoolExecutor(WRITERS, thread_name_prefix="store-write")

    @property
    def in_place(self) -> bool:
        """Whether the store's calls run in this process (SQLite), see the module's doc."""
        return self._in_place

    async def read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)``, a store read: in place, or in a reader thread."""
        if self._in_place:
            return fn(*args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, partial(fn, *args, **kwargs))

    async def write(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)``, a store write: in place when it need not wait for a
        lock, else in a writer thread."""
        if self._in_place:
            try:
                with self._store.without_waiting():
                    return fn(*args, **kwargs)
            except WouldWaitError:
                pass  # locked: wait for it in a thread, not here
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writers, partial(fn, *args, **kwargs))

    async def batch(
        self, writes: bool, crowded: bool, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(*args, **kwargs)``, a batch read (``writes`` false) or write: in a thread
        when ``crowded`` (the loop has many requests to answer meanwhile), else as ``read``
        or ``write`` would run it, which costs less: a thread contends for the GIL."""
        if not crowded:
            return await (self.write if writes else self.read)(fn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        threads = self._writers if writes else self._readers
        return await loop.run_in_executor(threads, partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Wait for the calls in progress (each is bounded by the store's timeouts)."""
        self._readers.shutdown(wait=True)
        self._writers.shutdown(wait=True)
