"""Extraction off the event loop: a thread for a few pages, worker processes for many.

Extraction is CPU-bound Python (trafilatura over lxml), so threads share one core. A run
that extracts many pages (a cold start, a busy newsroom) hands them to one worker process
per core; a run with a handful starts no processes, because starting them (a fresh Python
that imports trafilatura) costs more than those pages. The workers are spawned, not forked:
forking a process that runs an event loop and threads is unsafe.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from monitor.errors import ExtractError
from monitor.extract import Extractor
from monitor.models import Page

log = logging.getLogger(__name__)

# Pages extracted in threads before the worker processes start; measured break-even on two
# cores is about a dozen pages (bench/RESULTS.md).
START_AFTER = 16
# A worker is replaced after this many pages, so whatever lxml or trafilatura keep growing
# in a long-running daemon is given back.
TASKS_PER_WORKER = 2000


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ExtractionPool:
    """Runs an ``Extractor``: in a thread until ``start_after`` pages have been asked for,
    then in ``workers`` processes. ``workers`` <= 1 never starts a process."""

    def __init__(self, extractor: Extractor, workers: int, start_after: int = START_AFTER) -> None:
        self.extractor = extractor
        self.workers = workers
        self.start_after = start_after
        self._asked = 0
        self._pool: ProcessPoolExecutor | None = None
        self._portable: bool | None = None

    @property
    def started(self) -> bool:
        """Whether worker processes are running."""
        return self._pool is not None

    async def extract(self, html: bytes, url: str, content_type: str | None) -> Page:
        """``extractor.extract`` of the page, wherever it runs; ExtractError as it raises."""
        self._asked += 1
        if not self._use_processes():
            return await asyncio.to_thread(self.extractor.extract, html, url, content_type)
        pool = self._ensure_pool()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, _extract, html, url, content_type)
        except BrokenProcessPool as exc:
            # A worker died (killed, out of memory, a crash in C code): this page is
            # retried on its next check; the pool is started afresh for the next page.
            self._discard(pool)
            raise ExtractError(f"{url}: the extraction worker died: {exc}") from exc

    def close(self) -> None:
        """Stop the worker processes, if any; pages still queued are dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _use_processes(self) -> bool:
        if self.workers <= 1 or (self._pool is None and self._asked <= self.start_after):
            return False
        if self._portable is None:
            try:
                pickle.dumps(self.extractor)
                self._portable = True
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                log.info("extracting in threads: the extractor cannot go to a worker (%s)", exc)
                self._portable = False
        return self._portable

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            log.info("starting %d extraction workers", self.workers)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.extractor,),
                max_tasks_per_child=TASKS_PER_WORKER,
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


# The extractor of this worker process, set once by ``_start_worker``: pages then cross the
# process boundary without the extractor being pickled with every one.
_worker_extractor: Extractor | None = None


def _start_worker(extractor: Extractor) -> None:
    global _worker_extractor
    # Ctrl-C reaches the whole process group; the parent decides what stops, and how.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_extractor = extractor


def _extract(html: bytes, url: str, content_type: str | None) -> Page:
    assert _worker_extractor is not None, "worker started without its extractor"
    return _worker_extractor.extract(html, url, content_type)
