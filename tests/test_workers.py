"""WorkerPool: threads for a few pages, worker processes for many, and survival of a
worker that dies."""

from __future__ import annotations

import os
import threading

import pytest

from monitor.errors import ExtractError
from monitor.extract import TrafilaturaExtractor
from monitor.models import Page
from monitor.workers import WorkerPool
from tests.test_extract import article_page

URL = "https://news.example/2024/05/budget"


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
            page = await pool.extract(f"page {n}".encode(), URL, "text/html")
            assert page.paragraphs == (f"page {n}",)
            pids.append(int((page.title or "").split()[0]))
        assert pids[:2] == [os.getpid()] * 2
        assert os.getpid() not in pids[2:]
        assert pool.started
    finally:
        pool.close()
    assert not pool.started


async def test_one_worker_means_no_processes() -> None:
    pool = WorkerPool(WhereExtractor(), workers=1, start_after=0)
    page = await pool.extract(b"text", URL, None)
    assert page.title is not None and page.title.startswith(f"{os.getpid()} ")
    assert not pool.started


async def test_an_extractor_that_cannot_travel_runs_in_threads() -> None:
    pool = WorkerPool(LocalExtractor(), workers=2, start_after=0)
    page = await pool.extract(b"text", URL, None)
    assert page.title is not None and page.title.startswith(f"{os.getpid()} ")
    assert not pool.started


async def test_a_dead_worker_fails_its_page_and_the_next_page_gets_a_new_pool() -> None:
    pool = WorkerPool(WhereExtractor(), workers=2, start_after=0)
    try:
        with pytest.raises(ExtractError, match="extraction worker died") as info:
            await pool.extract(b"die", URL, None)
        assert URL in str(info.value)
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
        there = await pool.extract(html, URL, "text/html; charset=utf-8")
        with pytest.raises(ExtractError, match="no article text"):
            await pool.extract(b"<html><body><p>Accept</p></body></html>", URL, None)
    finally:
        pool.close()
    assert there == here
