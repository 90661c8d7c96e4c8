"""Store calls off the event loop, so that a lock held in the database never stalls fetching.

The store is synchronous (SQLAlchemy Core). Called on the event loop, one write waiting for a
lock that another process holds would stop every fetch and every alert delivery of the
daemon until the wait ended. ``StoreThreads`` runs each call in a thread instead, reads and
writes in separate pools: writes waiting for a lock hold up neither reads (a feed's state,
the due articles) nor the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

READERS = 4
WRITERS = 4  # SQLite serializes them anyway; PostgreSQL writes rows in parallel


class StoreThreads:
    """Two small thread pools for blocking store calls: one for reads, one for writes."""

    def __init__(self, readers: int = READERS, writers: int = WRITERS) -> None:
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="store-read")
        self._writers = ThreadPoolExecutor(writers, thread_name_prefix="store-write")

    async def read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)``, a store read, in a reader thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, partial(fn, *args, **kwargs))

    async def write(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)``, a store write, in a writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writers, partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Wait for the calls in progress (each is bounded by the store's timeouts)."""
        self._readers.shutdown(wait=True)
        self._writers.shutdown(wait=True)
