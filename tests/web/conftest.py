"""A store filled by the demo newsroom (every kind of event, a seed link), and the web
server on it on a real loopback socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor.config import Settings, settings_from_dict
from monitor.demo import ROUND_GAP, copy_seeds, packaged_seeds
from monitor.newsroom import Newsroom
from monitor.pipeline import check_once
from monitor.store import WebStore
from monitor.store.sql import SQLStore, open_store
from monitor.web.app import start_site, stop_site


@dataclass(frozen=True)
class Archive:
    """The demo newsroom's archive: a store URL, the folder of seeds and the feeds."""

    url: str
    seeds: Path
    feeds: tuple[tuple[str, str], ...]

    def settings(self, **web: Any) -> Settings:
        return settings_from_dict(
            {
                "feeds": [{"name": name, "url": url} for name, url in self.feeds],
                "storage": {"url": self.url},
                "seeds": {"dir": str(self.seeds)},
                "web": web,
            },
            source=self.seeds.parent / "web.toml",
        )


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    """Every round of the demo newsroom checked into a SQLite store (about 1.5 s)."""
    work = tmp_path_factory.mktemp("demo-archive")
    seed_text = copy_seeds(packaged_seeds(), work / "seeds")
    with Newsroom(seed_text=seed_text) as room:
        feeds = tuple(room.feeds())
        settings = settings_from_dict(
            {
                "feeds": [{"name": name, "url": url} for name, url in feeds],
                "fetch": {"allow_private_addresses": True, "retries": 0, "deadline": 10},
                "storage": {"url": f"sqlite:///{work / 'demo.db'}"},
                "seeds": {"dir": str(work / "seeds")},
            },
            source=work / "demo.toml",
        )
        store = open_store(settings.storage.url)
        try:
            now = datetime.now(UTC)
            for index, _ in enumerate(room.rounds):
                if index:
                    room.advance()
                    now += ROUND_GAP
                asyncio.run(check_once(settings, store, now, force=True))
        finally:
            store.close()
    return Archive(settings.storage.url, work / "seeds", feeds)


@pytest.fixture
def archive_store(demo_archive: Archive) -> Iterator[SQLStore]:
    store = SQLStore.open(demo_archive.url, read_only=True)
    yield store
    store.close()


@dataclass
class Served:
    """A running server: its address and an HTTP session to ask it with."""

    base: str
    session: aiohttp.ClientSession

    async def get(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        response = await self.session.get(self.base + path, allow_redirects=False, **kwargs)
        await response.read()
        return response

    async def text(self, path: str, **kwargs: Any) -> str:
        response = await self.get(path, **kwargs)
        assert response.status == 200, (path, response.status, await response.text())
        return await response.text()


@asynccontextmanager
async def serving(settings: Settings, store: WebStore) -> AsyncIterator[Served]:
    """``settings``' site on 127.0.0.1, on a port the OS picks."""
    runner, address = await start_site(settings, store, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Served(address.rstrip("/"), session)
    finally:
        await stop_site(runner)
