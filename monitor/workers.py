"""CPU-bound work off the event loop: threads for a little, worker processes for a lot.

Extraction (trafilatura over lxml), feed parsing and diffing are CPU-bound Python, so
threads share one core. A run with much of it (a cold start, a busy newsroom) hands it to
one worker process per core; a run with a handful of jobs starts no processes, because
starting them (a fresh Python that imports trafilatura) costs more than those jobs, and
jobs asked for while the workers start still run in threads. The workers are spawned, not
forked: forking a process that runs an event loop and threads is unsafe. As with any
spawned worker, a script that drives a ``Monitor`` needs the ``if __name__ ==
"__main__":`` guard (the ``newsmonitor`` command has it).

The exception is ``fork_workers``: a `check` with many feeds forks its workers before it
opens the store or starts any thread, and they wait, idle, for the pool to take them. A
forked worker has every module of its parent already imported, so it costs no interpreter
start and no imports but the extractor's (issue 16).
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import gc
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.errors import ExtractError, WorkerError
from monitor.models import Page
from monitor.quality import word_count
from monitor.store import pack_raw

if TYPE_CHECKING:  # a run with no page to extract never loads lxml and the extractor
    from monitor.extract import Extractor

log = logging.getLogger(__name__)

T = TypeVar("T")

# Jobs run in threads before the worker processes start; measured break-even on two cores
# is about a dozen pages (bench/RESULTS.md).
START_AFTER = 16
# The workers are replaced after this many jobs, so whatever lxml or trafilatura keep growing
# in a long-running daemon is given back. (Not ProcessPoolExecutor's max_tasks_per_child:
# on Python 3.11 a pool can hang for good when a worker retires that way.)
JOBS_PER_POOL = 20_000
# How often a worker looks whether its parent is still there.
PARENT_CHECK_SECONDS = 1.0
# Workers run this much nicer than the process that started them. Its event loop is the
# pipeline's one serial stage (every fetch, write and hand-off goes through it), and a busy
# round keeps it runnable all the time: when the workers took their equal share of two
# cores, it got 0.72 of one and the round waited on it (issue 16, bench/RESULTS.md).
# The workers still take every cycle the loop leaves.
WORKER_NICENESS = 10


def fork_workers(workers: int) -> ProcessPoolExecutor | None:
    """``workers`` worker processes forked now, idle until a ``WorkerPool`` is given them
    (``idle``); None where forking is not safe: another thread runs (it could hold a lock
    that the workers would wait for forever), or the system is not Linux.

    Forked, a worker shares what this process has imported: it answers at once, where a
    spawned one starts an interpreter and imports the package (0.1 s of CPU each), and
    its parent's pages are copied only as either writes them.
    """
    if workers <= 1 or not sys.platform.startswith("linux") or threading.active_count() > 1:
        return None
    # Objects alive now are left alone by the workers' collections (and this process's),
    # so that the pages holding them stay shared rather than be copied by the collector.
    gc.freeze()
    idle = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(DefaultExtractor(), os.getpid()),
    )
    # With fork, a pool's first job forks all its workers, before its own threads start.
    idle.submit(_ready)
    return idle


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class DefaultExtractor:
    """The shipped extractor (``TrafilaturaExtractor``), loaded on its first page, or when
    a worker starts: a round with no page to extract (all 304) never imports lxml and the
    extraction modules (0.03 s of every such `check`)."""

    def extract(self, html: bytes, url: str, content_type: str | None = None) -> Page:
        return _trafilatura().extract(html, url, content_type)

    def load(self) -> None:
        _trafilatura()


@functools.cache
def _trafilatura() -> Extractor:
    from monitor.extract import TrafilaturaExtractor

    return TrafilaturaExtractor()


class WorkerPool:
    """Runs an ``Extractor`` and other CPU-bound functions: in threads until ``start_after``
    jobs have been asked for, then in ``workers`` processes (<= 1: never)."""

    def __init__(
        self,
        extractor: Extractor,
        workers: int,
        start_after: int = START_AFTER,
        idle: ProcessPoolExecutor | None = None,
    ) -> None:
        self.extractor = extractor
        self.workers = workers
        self.start_after = start_after
        # Workers forked ahead (``fork_workers``), taken when workers are first needed, so
        # long as they run this pool's extractor; shut down with the pool in any case.
        self._idle = idle
        self._asked = 0
        self._pool: ProcessPoolExecutor | None = None
        self._pool_jobs = 0
        # Done once a worker has started and answered: until then, jobs run in threads
        # rather than queue behind the workers' imports (half a second, issue 16).
        self._ready: Future[None] | None = None
        self._extracted_here = False
        self._portable: bool | None = None
        # Set by ``expect``: this process has a big pass to do, whose first page starts
        # the workers rather than be extracted here.
        self._big = False

    def expect(self, checks: int) -> None:
        """A pass of ``checks`` fetches is starting. With more than ``start_after`` of them,
        the workers will most likely be needed: its first job starts them (a feed's parse
        still runs in a thread while they start), and its first page waits for them, as
        extracting it here would load the extractor here as well (0.3 s of this process,
        the critical path of a busy round, issue 16)."""
        self._big = self._big or checks > self.start_after

    @property
    def started(self) -> bool:
        """Whether worker processes are running."""
        return self._pool is not None

    async def start(self) -> bool:
        """Start the worker processes now, if this pool uses any, and wait until they
        answer; False when its jobs run in threads."""
        if self.workers <= 1 or not self._portable_extractor():
            return False
        self._ensure_pool()
        assert self._ready is not None
        await asyncio.wrap_future(self._ready)
        return True

    async def extract(self, html: bytes, url: str, content_type: str | None) -> Page:
        """``extractor.extract`` of the page, wherever it runs; ExtractError as it raises."""
        here = functools.partial(_extracted_by, self.extractor)
        return await self._extraction(here, _extract, html, url, content_type)

    async def extract_packed(
        self, html: bytes, url: str, content_type: str | None
    ) -> tuple[Page, bytes]:
        """``extract``, plus the page packed for the store (``pack_raw``) by the same worker:
        compressing a page costs about as much as all the rest of storing it."""
        here = functools.partial(_packed, self.extractor)
        return await self._extraction(here, _extract_packed, html, url, content_type)

    async def _extraction(
        self,
        here: Callable[..., T],
        there: Callable[..., T],
        html: bytes,
        url: str,
        content_type: str | None,
    ) -> T:
        def marked(*args: Any) -> T:
            self._extracted_here = True
            return here(*args)

        # While the workers start, a page waits for them, unless pages were extracted here
        # already: the first one here would import trafilatura into this process too.
        early = self._extracted_here
        try:
            return await self._run(
                url, marked, there, html, url, content_type, early=early, start=self._big
            )
        except BrokenProcessPool as exc:
            raise ExtractError(f"{url}: the extraction worker died: {exc}") from exc

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` off the event loop; ``fn`` and its arguments must pickle (a
        module-level function of dataclasses). WorkerError if the worker dies."""
        what = getattr(fn, "__name__", "job")
        try:
            return await self._run(what, fn, fn, *args, start=self._big)
        except BrokenProcessPool as exc:
            raise WorkerError(f"a worker process died running {what}: {exc}") from exc

    async def _run(
        self,
        what: str,
        here: Callable[..., T],
        there: Callable[..., T],
        *args: Any,
        early: bool = True,
        start: bool = False,
    ) -> T:
        """``there`` in a worker process, or ``here`` in a thread: before the workers are
        needed (``start``: they are, now), or (``early``) while they start."""
        self._asked += 1
        if not self._use_processes(start):
            return await asyncio.to_thread(here, *args)
        loop = asyncio.get_running_loop()
        try:
            pool = self._ensure_pool()
            starting = early and self._ready is not None and not self._ready.done()
            work = None if starting else loop.run_in_executor(pool, there, *args)
            self._pool_jobs += work is not None
        except (RuntimeError, OSError) as exc:
            # No processes here (a script without a __main__ guard under spawn, a process
            # limit): slower, but every job still runs.
            log.warning("worker processes cannot start (%s); using threads", exc)
            if self._pool is not None:
                self._discard(self._pool)
            self._portable = False
            return await asyncio.to_thread(here, *args)
        if work is None:
            return await asyncio.to_thread(here, *args)
        try:
            return await work
        except BrokenProcessPool:
            # A worker died (killed, out of memory, a crash in C code): this job fails and
            # is redone on its next check; the pool is started afresh for the next one.
            log.warning("a worker process died running %s; restarting the workers", what)
            self._discard(pool)
            raise

    def close(self) -> None:
        """Stop the worker processes, if any; pages still queued are dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._idle is not None:
            self._idle.shutdown(wait=True, cancel_futures=True)
            self._idle = None

    def _use_processes(self, start: bool = False) -> bool:
        if self.workers <= 1:
            return False
        if self._pool is None and self._asked <= self.start_after and not start:
            return False
        return self._portable_extractor()

    def _portable_extractor(self) -> bool:
        """Whether the extractor can be sent to a worker process (asked once)."""
        if self._portable is None:
            try:
                pickle.dumps(self.extractor)
                self._portable = True
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                log.info("extracting in threads: the extractor cannot go to a worker (%s)", exc)
                self._portable = False
        return self._portable

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is not None and self._pool_jobs >= JOBS_PER_POOL:
            retired, self._pool = self._pool, None
            retired.shutdown(wait=False)  # its queued jobs still run to the end
        if self._pool is None and self._idle is not None:
            idle, self._idle = self._idle, None
            if isinstance(self.extractor, DefaultExtractor):
                self._pool_jobs = 0
                self._pool = idle
                # Running already: no job goes to a thread here, as while spawned ones start
                # (which would load the feed parser or the extractor into this process).
                self._ready = Future()
                self._ready.set_result(None)
                return idle
            idle.shutdown(wait=False)  # forked with the default extractor, not this one
        if self._pool is None:
            self._pool_jobs = 0
            log.info("starting %d worker processes", self.workers)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.extractor, os.getpid()),
            )
            self._ready = self._pool.submit(_ready)
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


# The extractor of this worker process, set once by ``_start_worker``: pages then cross the
# process boundary without the extractor being pickled with every one.
_worker_extractor: Extractor | None = None


def _start_worker(extractor: Extractor, parent: int) -> None:
    global _worker_extractor
    # Ctrl-C reaches the whole process group; the parent decides what stops, and how.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _be_nice()
    _worker_extractor = extractor
    if isinstance(extractor, DefaultExtractor):
        # Loaded beside the first jobs, not before the worker answers: a job that comes
        # early waits for what it needs (the import lock), not for the whole start. Forked
        # workers load while their parent opens its store, on a core it leaves idle: the
        # first feeds then find them ready (edited replays -2 to -8%, issue 16); a round
        # with nothing to parse pays 0.1 s of CPU a worker on that core, and no time.
        threading.Thread(target=_load, args=(extractor,), name="loader", daemon=True).start()
    threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()
    # Registered last, so run first: once the pool has let the worker go, nothing is left
    # to save, and tearing down the interpreter (lxml, trafilatura) made every `check` wait
    # 80 ms for its workers.
    atexit.register(_exit_now)


def _load(extractor: DefaultExtractor) -> None:
    """Import what a busy pass's jobs need, in the order they come: the feed parser, then
    the extractor."""
    import monitor.feeds  # noqa: F401

    extractor.load()


def _be_nice() -> None:
    """Lower this worker's priority by ``WORKER_NICENESS`` where the system allows it."""
    try:
        os.nice(WORKER_NICENESS)
    except (AttributeError, OSError):  # not on POSIX, or refused: the same work, less fair
        log.debug("the extraction worker's priority could not be lowered", exc_info=True)


def _exit_now() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _exit_with(parent: int) -> None:
    """Exit once ``parent`` is gone. A worker whose parent was killed (SIGKILL, the OOM
    killer, a cron timeout) would otherwise wait for work forever: it holds its own copy
    of the job queue's write end, so it never sees the queue close."""
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(0)


def _ready() -> None:
    """A worker's first job: its answer says the workers have started."""


def _packed(
    extractor: Extractor, html: bytes, url: str, content_type: str | None
) -> tuple[Page, bytes]:
    return _extracted_by(extractor, html, url, content_type), pack_raw(html)


def _extracted_by(extractor: Extractor, html: bytes, url: str, content_type: str | None) -> Page:
    return _counted(extractor.extract(html, url, content_type))


def _counted(page: Page) -> Page:
    """``page`` with its words counted, here in the worker rather than by the event loop's
    quality gate (issue 16)."""
    return replace(page, words=word_count(page.text))


def _extract_packed(html: bytes, url: str, content_type: str | None) -> tuple[Page, bytes]:
    assert _worker_extractor is not None, "worker started without its extractor"
    return _packed(_worker_extractor, html, url, content_type)


def _extract(html: bytes, url: str, content_type: str | None) -> Page:
    assert _worker_extractor is not None, "worker started without its extractor"
    return _extracted_by(_worker_extractor, html, url, content_type)
