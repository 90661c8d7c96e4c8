"""Host-aware scheduling end to end (issue 16): feeds and pages on several loopback hosts
(127.0.0.1-3), each server counting the requests it is answering at once."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import pytest

from monitor import pipeline
from monitor.config import Settings, settings_from_dict
from monitor.extract import TrafilaturaExtractor
from monitor.fetch import Fetcher
from monitor.pipeline import Claimant, Monitor, check_once
from monitor.store.sql import SQLStore
from tests.webserver import Reply, Request, WebServer

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
PAGES = 8  # articles per host: more than the whole run's slots (2 x concurrency)
PER_HOST = 2
GUARD = 20.0  # seconds a held page waits at most: a deadlock guard, not a timing


class Counted:
    """One host's pages, counting the requests answered at once. A held host's pages
    wait for ``gate`` before answering; ``served`` is called after each page."""

    def __init__(
        self, web: WebServer, gate: threading.Event | None, served: Callable[[], None]
    ) -> None:
        self.web = web
        self.gate = gate
        self.after = served
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.served = 0
        self.gate_timed_out = False

    def page(self, n: int) -> Reply:
        def answer(_request: Request) -> Reply:
            with self.lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
            try:
                if self.gate is not None and not self.gate.wait(GUARD):
                    self.gate_timed_out = True
                paragraph = f"Story {n} from {self.web.host}: the council met on Tuesday. " * 6
                return Reply(
                    f"<html><head><title>Story {n}</title></head><body><article>"
                    f"<h1>Story {n}</h1><p>{escape(paragraph)}</p></article></body></html>",
                    etag=f'"{n}"',
                )
            finally:
                with self.lock:
                    self.now -= 1
                    self.served += 1
                self.after()

        return answer  # type: ignore[return-value]


def _settings(hosts: list[WebServer], tmp_path: Path) -> Settings:
    return settings_from_dict(
        {
            "feeds": [
                {"name": f"host{i}", "url": web.url("/feed"), "interval": "15m"}
                for i, web in enumerate(hosts)
            ],
            # Few slots: the whole run holds 2 x 3 articles at once, fewer than one host has.
            "fetch": {
                "allow_private_addresses": True,
                "retries": 0,
                "concurrency": 3,
                "per_host_concurrency": PER_HOST,
            },
            "tracking": {"max_articles_per_run": 0},
            "storage": {"url": f"sqlite:///{tmp_path / 'monitor.db'}"},
        }
    )


@pytest.fixture
def hosts() -> Iterator[list[WebServer]]:
    servers = [WebServer(host).start() for host in HOSTS]
    yield servers
    for server in servers:
        server.stop()


def _serve(count: Counted) -> Counted:
    """Its host serves its feed and its counted pages."""
    count.web.set("/feed", _feed(count.web))
    for n in range(PAGES):
        count.web.set(f"/a/{n}", count.page(n))
    return count


def _feed(web: WebServer) -> Reply:
    items = "".join(
        f"<item><title>Story {n}</title><link>{web.url(f'/a/{n}')}</link>"
        f"<guid>{web.url(f'/a/{n}')}</guid></item>"
        for n in range(PAGES)
    )
    return Reply(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{web.host}</title>'
        f"<link>{web.url('/')}</link><description>d</description>{items}</channel></rss>",
        content_type="application/rss+xml",
        etag='"feed"',
    )


async def test_every_host_is_served_while_one_hosts_slots_are_held(
    hosts: list[WebServer], tmp_path: Path
) -> None:
    """The first host's pages come first in the store and answer only once every page of
    the other hosts has been served: the re-check completes only if those hosts are served
    while the first one's slots are full (no head-of-line blocking), and the held host's
    pages are all fetched in the end (no starvation). No host ever sees more than
    ``per_host_concurrency`` requests at once."""
    gate = threading.Event()
    counted: list[Counted] = []

    def release_when_the_others_are_done() -> None:
        # Each of the other hosts has served its pages twice: the first round and this one.
        if all(c.served == 2 * PAGES for c in counted[1:]):
            gate.set()

    for i, web in enumerate(hosts):
        counted.append(
            _serve(Counted(web, gate if i == 0 else None, release_when_the_others_are_done))
        )
    settings = _settings(hosts, tmp_path)
    store = SQLStore.open(settings.storage.url)
    try:
        gate.set()  # the first round is not held: it stores host 0's articles first
        for i in range(len(hosts)):
            first = await check_once(settings, store, T0, feeds=[f"host{i}"])
            assert first.articles_checked == PAGES
        gate.clear()
        second = await check_once(settings, store, T0 + timedelta(hours=1), force=True)
    finally:
        store.close()
    assert not counted[0].gate_timed_out, "the held host blocked the others"
    assert second.articles_checked == len(hosts) * PAGES
    assert counted[0].served == 2 * PAGES  # the held host's pages were all fetched
    assert counted[0].peak == PER_HOST  # reached (the held host) and never passed
    assert all(1 <= c.peak <= PER_HOST for c in counted)


async def test_a_feeds_new_articles_leave_room_for_other_hosts(
    hosts: list[WebServer], tmp_path: Path
) -> None:
    """Cold: the first host's feed brings more new articles than the run has slots, and
    its pages answer only once the other hosts' have been served; their feeds answer only
    once the first host's pages are being asked for. The round completes only if those
    articles are let in while the first host's wait (no head-of-line blocking)."""
    gate = threading.Event()
    first_host_asked = threading.Event()
    counted: list[Counted] = []

    def release_when_the_others_are_done() -> None:
        if all(c.served == PAGES for c in counted[1:]):
            gate.set()

    def late_feed(web: WebServer) -> Callable[[Request], Reply]:
        def answer(_request: Request) -> Reply:
            first_host_asked.wait(GUARD)  # a deadlock guard, not a timing
            return _feed(web)

        return answer

    for i, web in enumerate(hosts):
        count = Counted(web, gate if i == 0 else None, release_when_the_others_are_done)
        counted.append(count)
        web.set("/feed", _feed(web) if i == 0 else late_feed(web))
        for n in range(PAGES):
            web.set(f"/a/{n}", count.page(n))
    first_page = counted[0].page

    def noticed(n: int) -> Callable[[Request], Reply]:
        inner = first_page(n)

        def answer(request: Request) -> Reply:
            first_host_asked.set()
            return inner(request)  # type: ignore[operator, no-any-return]

        return answer

    for n in range(PAGES):
        hosts[0].set(f"/a/{n}", noticed(n))
    settings = _settings(hosts, tmp_path)
    store = SQLStore.open(settings.storage.url)
    try:
        report = await check_once(settings, store, T0, force=True)
    finally:
        store.close()
    assert not counted[0].gate_timed_out, "the first host's articles blocked the others"
    assert report.articles_checked == len(hosts) * PAGES
    assert sum(change.kind == "new" for change in report.changes) == len(hosts) * PAGES
    assert all(c.peak <= PER_HOST for c in counted)


async def test_nodes_share_hosts_in_short_claimed_rounds_and_stay_polite(
    hosts: list[WebServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two nodes (issue 17) re-check every host's due articles in claimed rounds of one
    round trip each (``ROUND_TRIPS = 1``: two articles a host a round): a host is claimed
    again while it has due articles, so the passes end with every article checked once
    across the two nodes, and no host ever sees more than ``per_host_concurrency``
    requests at once from the two together."""
    counted = [_serve(Counted(web, None, lambda: None)) for web in hosts]
    settings = _settings(hosts, tmp_path)
    store = SQLStore.open(settings.storage.url)
    try:
        await check_once(settings, store, T0)
        monkeypatch.setattr(pipeline, "ROUND_TRIPS", 1)
        later = T0 + timedelta(hours=1)
        store.update_articles(
            [replace(a, next_check=later) for a in store.due_articles(later + timedelta(days=9))],
            ["next_check"],
        )
        caplog.set_level(logging.DEBUG, logger="monitor.pipeline")
        async with Fetcher(settings.fetch) as fetcher:
            nodes = [
                Monitor(
                    settings,
                    store,
                    fetcher,
                    TrafilaturaExtractor(),
                    claimant=Claimant(name, lambda: later, timedelta(minutes=2)),
                )
                for name in ("n1", "n2")
            ]
            try:
                reports = await asyncio.gather(*(n.check_due_articles(later) for n in nodes))
            finally:
                for node in nodes:
                    await node.close()
    finally:
        store.close()
    assert sum(r.articles_checked for r in reports) == len(hosts) * PAGES
    assert all(c.served == 2 * PAGES for c in counted)  # each page once more, no more
    assert all(1 <= c.peak <= PER_HOST for c in counted)
    rounds = [r.getMessage() for r in caplog.records if r.getMessage().startswith("claimed ")]
    for web in hosts:  # PAGES / 2 rounds with due articles, and one that finds none left
        assert sum(web.host in line for line in rounds) >= PAGES // 2
