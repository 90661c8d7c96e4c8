"""WorkerPool: threads for a few pages, worker processes for many, and survival of a
worker that dies."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from monitor import workers
from monitor.errors import ExtractError
from monitor.extract import TrafilaturaExtractor
from monitor.models import Page
from monitor.quality import word_count
from monitor.workers import DefaultExtractor, WorkerPool
from tests.test_extract import article_page

URL = "https://news.example/2024/05/budget"
ROOT = Path(__file__).resolve().parents[1]


def _last_json(folder: Path, source: str) -> object:
    """The JSON document on the last line that script ``source`` prints (it must succeed)."""
    done = subprocess.run(
        _script(folder, source),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _script(folder: Path, source: str) -> list[str]:
    """The command that runs ``source`` as a script of its own (a process to watch)."""
    script = folder / "script.py"
    script.write_text(source)
    return [sys.executable, str(script)]


class WhereExtractor:
    """Says which process and thread extracted the page; dies on a page that says "die"."""

    def extract(self, html: bytes, url: str, content_type: str | None = None) -> Page:
        if html == b"die":
            os._exit(3)  # what a segfault in C code or the OOM killer looks like to the pool
        where = f"{os.getpid()} {threading.current_thread().name}"
        return Page(title=where, paragraphs=(html.decode(),))


class LocalExtractor(WhereExtractor):
    """Cannot be sent to a worker process (it holds a lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()


async def test_a_few_pages_stay_in_this_process_then_workers_take_over() -> None:
    pool = WorkerPool(WhereExtractor(), workers=2, start_after=2)
    try:
        pids = []
        for n in range(6):
            if n == 3:
                assert await pool.start()  # the workers asked for by page 2 answer
            page = await pool.extract(f"page {n}".encode(), URL, "text/html")
            assert page.paragraphs == (f"page {n}",)
            pids.append(int((page.title or "").split()[0]))
        # Page 2 starts the workers and, while they import, runs in a thread here.
        assert pids[:3] == [os.getpid()] * 3
        assert os.getpid() not in pids[3:]
        assert pool.started
    finally:
        pool.close()
    assert not pool.started


def where(n: int) -> tuple[int, int, str]:
    return n, os.getpid(), threading.current_thread().name


async def test_jobs_asked_for_while_the_workers_start_run_in_threads() -> None:
    # A worker takes half a second to start: jobs asked for meanwhile (feeds to parse) must
    # not queue behind it with this process idle (issue 16).
    pool = WorkerPool(WhereExtractor(), workers=2, start_after=0)
    try:
        done = await asyncio.gather(*(pool.run(where, n) for n in range(4)))
        assert pool.started
        assert [n for n, _, _ in done] == [0, 1, 2, 3]
        assert all(pid == os.getpid() and thread != "MainThread" for _, pid, thread in done)
        assert await pool.start()
        assert (await pool.run(where, 4))[1] != os.getpid()
    finally:
        pool.close()


async def test_pages_wait_for_starting_workers_unless_pages_were_extracted_here() -> None:
    # The first page extracted here would import trafilatura here too (0.3 s): better wait.
    pool = WorkerPool(WhereExtractor(), workers=2, start_after=0)
    try:
        pages = await asyncio.gather(*(pool.extract(b"page", URL, None) for _ in range(3)))
        assert not any((page.title or "").startswith(f"{os.getpid()} ") for page in pages)
    finally:
        pool.close()


async def test_the_first_page_of_a_big_pass_starts_the_workers() -> None:
    # Extracted here, it would load the extractor into this process as well (issue 16).
    small = WorkerPool(WhereExtractor(), workers=2, start_after=16)
    big = WorkerPool(WhereExtractor(), workers=2, start_after=16)
    try:
        small.expect(16)
        page = await small.extract(b"page", URL, None)
        assert (page.title or "").startswith(f"{os.getpid()} ")
        assert not small.started
        big.expect(17)
        page = await big.extract(b"page", URL, None)
        assert page.paragraphs == ("page",)
        assert not (page.title or "").startswith(f"{os.getpid()} ")
        assert big.started
    finally:
        small.close()
        big.close()


async def test_the_first_job_of_a_big_pass_starts_the_workers_and_runs_here() -> None:
    # A feed's parse need not wait for the workers' start, but they start with it rather
    # than at the 17th job, so that they are ready sooner for the pages (issue 16).
    small = WorkerPool(WhereExtractor(), workers=2, start_after=16)
    big = WorkerPool(WhereExtractor(), workers=2, start_after=16)
    try:
        small.expect(16)
        assert (await small.run(where, 1))[1] == os.getpid()
        assert not small.started
        big.expect(17)
        assert (await big.run(where, 1))[1] == os.getpid()
        assert big.started
        assert await asyncio.wait_for(big.start(), 60)
        assert (await big.run(where, 2))[1] != os.getpid()
    finally:
        small.close()
        big.close()


class GatedExtractor(DefaultExtractor):
    """Loads only once a file exists: a slow import, held for as long as a test needs."""

    def __init__(self, gate: Path) -> None:
        self.gate = gate

    def load(self) -> None:
        while not self.gate.exists():
            time.sleep(0.01)
        super().load()


async def test_a_worker_answers_before_its_extractor_has_loaded(tmp_path: Path) -> None:
    # Feeds parsed while the workers start need no extractor, so they must not wait for it;
    # a page that comes meanwhile waits for the load, and gets what it gets here.
    gate = tmp_path / "loaded"
    pool = WorkerPool(GatedExtractor(gate), workers=2, start_after=0)
    try:
        assert await asyncio.wait_for(pool.start(), 60)
        assert (await pool.run(where, 1))[1] != os.getpid()
        html = article_page().encode()
        pages = asyncio.gather(*(pool.extract(html, URL, None) for _ in range(4)))
        gate.touch()
        here = TrafilaturaExtractor().extract(html, URL)
        extracted = await pages
        assert extracted == [here] * 4
        # Each page's words were counted there, in the worker (not by the event loop).
        assert here.words is None
        assert {page.words for page in extracted} == {word_count(here.text)}
    finally:
        gate.touch()
        pool.close()


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


async def test_workers_run_nicer_than_the_event_loop_that_feeds_them() -> None:
    pool = WorkerPool(WhereExtractor(), workers=2, start_after=0)
    try:
        assert await pool.start()
        theirs = {await pool.run(_niceness) for _ in range(4)}
    finally:
        pool.close()
    # The loop is the pipeline's serial stage: on a busy round the workers yield to it.
    assert theirs == {min(19, _niceness() + workers.WORKER_NICENESS)}
    assert _niceness() < 19


async def test_one_worker_means_no_processes() -> None:
    pool = WorkerPool(WhereExtractor(), workers=1, start_after=0)
    assert not await pool.start()
    page = await pool.extract(b"text", URL, None)
    assert page.title is not None and page.title.startswith(f"{os.getpid()} ")
    assert not pool.started


async def test_an_extractor_that_cannot_travel_runs_in_threads() -> None:
    pool = WorkerPool(LocalExtractor(), workers=2, start_after=0)
    assert not await pool.start()
    page = await pool.extract(b"text", URL, None)
    assert page.title is not None and page.title.startswith(f"{os.getpid()} ")
    assert not pool.started


async def test_a_dead_worker_fails_its_page_and_the_next_page_gets_a_new_pool() -> None:
    pool = WorkerPool(WhereExtractor(), workers=2, start_after=0)
    try:
        assert await pool.start()
        with pytest.raises(ExtractError, match="extraction worker died") as info:
            await pool.extract(b"die", URL, None)
        assert URL in str(info.value)
        assert await pool.start()
        page = await pool.extract(b"after", URL, None)
        assert page.paragraphs == ("after",)
        assert page.title is not None and not page.title.startswith(f"{os.getpid()} ")
    finally:
        pool.close()


async def test_trafilatura_in_a_worker_gives_what_it_gives_here() -> None:
    html = article_page().encode()
    here = TrafilaturaExtractor().extract(html, URL)
    pool = WorkerPool(TrafilaturaExtractor(), workers=2, start_after=0)
    try:
        assert await pool.start()
        there = await pool.extract(html, URL, "text/html; charset=utf-8")
        with pytest.raises(ExtractError, match="no article text"):
            await pool.extract(b"<html><body><p>Accept</p></body></html>", URL, None)
    finally:
        pool.close()
    assert there == here


async def test_the_default_extractor_is_trafilaturas_here_and_in_a_worker() -> None:
    html = article_page().encode()
    here = TrafilaturaExtractor().extract(html, URL)
    assert DefaultExtractor().extract(html, URL) == here
    pool = WorkerPool(DefaultExtractor(), workers=2, start_after=0)
    try:
        assert await pool.start()
        assert await pool.extract(html, URL, None) == here
    finally:
        pool.close()


async def test_workers_are_replaced_after_their_share_of_jobs(monkeypatch) -> None:
    monkeypatch.setattr(workers, "JOBS_PER_POOL", 3)
    pool = WorkerPool(WhereExtractor(), workers=2, start_after=0)
    try:
        pids = set()
        for n in range(7):
            assert await pool.start()  # a retired pool's successor answers first
            page = await pool.extract(f"page {n}".encode(), URL, None)
            assert page.paragraphs == (f"page {n}",)
            pids.add(int((page.title or "").split()[0]))
    finally:
        pool.close()
    # Three pools of at most two workers each, never this process.
    assert os.getpid() not in pids
    assert len(pids) > 2


_ORPHAN_SCRIPT = """
import asyncio, sys
from monitor.workers import WorkerPool
from tests.test_workers import WhereExtractor

async def main():
    pool = WorkerPool(WhereExtractor(), workers=2, start_after=0)
    await pool.start()
    jobs = [pool.extract(b"x", "https://a.example/", None) for _ in range(4)]
    pages = await asyncio.gather(*jobs)
    print(" ".join(sorted({p.title.split()[0] for p in pages})), flush=True)
    await asyncio.sleep(60)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_workers_exit_when_their_parent_is_killed(tmp_path) -> None:
    # A check killed by cron's timeout or the OOM killer must not leave workers behind.
    parent = subprocess.Popen(
        _script(tmp_path, _ORPHAN_SCRIPT),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        # The killed parent's resource tracker complains about its semaphores: expected.
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert parent.stdout is not None
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert pids and parent.pid not in pids
        assert all(_alive(pid) for pid in pids)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10 * workers.PARENT_CHECK_SECONDS
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead, only not yet reaped (by init, once the parent is gone).
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


_FORK_SCRIPT = """
import asyncio, json, multiprocessing, os, threading
from monitor.extract import TrafilaturaExtractor
from monitor.workers import DefaultExtractor, WorkerPool, fork_workers
from tests.test_extract import article_page
from tests.test_workers import URL, WhereExtractor

async def main():
    out = {}
    idle = fork_workers(2)
    forked = {p.pid for p in multiprocessing.active_children()}
    out["forked"] = len(forked)
    pool = WorkerPool(DefaultExtractor(), workers=2, start_after=0, idle=idle)
    try:
        assert await pool.start()
        pids = {await pool.run(os.getpid) for _ in range(8)}
        out["ran_in_forked"] = pids <= forked and os.getpid() not in pids
        out["niceness"] = await pool.run(os.nice, 0) - os.nice(0)
        html = article_page().encode()
        here = TrafilaturaExtractor().extract(html, URL)
        out["same_text"] = await pool.extract(html, URL, None) == here
        out["no_spawned"] = {p.pid for p in multiprocessing.active_children()} == forked
    finally:
        pool.close()
    out["left"] = len(multiprocessing.active_children())

    # Workers forked for the default extractor are not used for another one.
    other = WorkerPool(WhereExtractor(), workers=2, start_after=0, idle=fork_workers(2))
    try:
        page = await other.extract(b"x", URL, None)
        out["other_spawned"] = int(page.title.split()[0]) not in forked
    finally:
        other.close()

    # Never with another thread running: it could hold a lock the workers would need.
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    out["with_a_thread"] = fork_workers(2)
    stop.set()
    thread.join()
    out["one_worker"] = fork_workers(1)
    print(json.dumps(out))

if __name__ == "__main__":
    asyncio.run(main())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_workers_forked_ahead_run_the_pools_jobs(tmp_path) -> None:
    # Issue 16: a `check` with many feeds forks its workers before any thread starts; they
    # answer at once and import nothing of what their parent had.
    assert _last_json(tmp_path, _FORK_SCRIPT) == {
        "forked": 2,
        "ran_in_forked": True,
        "niceness": workers.WORKER_NICENESS,
        "same_text": True,
        "no_spawned": True,
        "left": 0,
        "other_spawned": True,
        "with_a_thread": None,
        "one_worker": None,
    }


_LOADING_SCRIPT = """
import asyncio, json, sys
from monitor.workers import DefaultExtractor, WorkerPool, fork_workers

async def main():
    wanted = ("monitor.feeds", "monitor.extract")
    here = [name in sys.modules for name in wanted]
    pool = WorkerPool(DefaultExtractor(), workers=2, start_after=0, idle=fork_workers(2))
    try:
        from tests.probes import loaded_soon  # imports nothing of the package

        there = await pool.run(loaded_soon, wanted)
    finally:
        pool.close()
    print(json.dumps({"parent": here, "worker": there}))

if __name__ == "__main__":
    asyncio.run(main())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_forked_workers_load_the_feed_parser_and_extractor_before_any_job(tmp_path) -> None:
    # Issue 16: while their parent opens its store, on a core it leaves idle; its first
    # feeds and pages then find them ready. The parent loads neither.
    assert _last_json(tmp_path, _LOADING_SCRIPT) == {
        "parent": [False, False],
        "worker": True,
    }


def test_check_forks_workers_only_for_a_pass_over_many_feeds(monkeypatch) -> None:
    from monitor import pipeline
    from monitor.config import settings_from_dict

    def settings(count: int):
        feeds = [{"name": f"f{n}", "url": f"https://x.example/{n}"} for n in range(count)]
        return settings_from_dict({"feeds": feeds, "extract": {"workers": 3}})

    asked: list[int] = []
    monkeypatch.setattr(pipeline, "fork_workers", lambda count: asked.append(count) or count)
    assert pipeline.fork_idle_workers(settings(workers.START_AFTER)) is None
    # Many feeds configured, one named: a small pass, whose first jobs run in threads.
    assert pipeline.fork_idle_workers(settings(40), ["f3"]) is None
    assert pipeline.fork_idle_workers(settings(workers.START_AFTER + 1)) == 3
    assert asked == [3]
