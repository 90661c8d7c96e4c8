"""SQLite's write-ahead log is copied back by a thread of the store's own
(monitor/store/checkpoints.py), not by a write's commit on the event loop (issue 16)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from monitor.store.checkpoints import Checkpointer
from monitor.store.sql import SQLStore
from tests.store.samples import new_article

THREAD = "sqlite-checkpoint"


@pytest.fixture
def checkpoints(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, int, int] | None]]:
    """Each checkpoint the store's checkpointers make: the thread and SQLite's answer."""
    made: list[tuple[str, tuple[int, int, int] | None]] = []
    real = Checkpointer.checkpoint

    def recorded(self: Checkpointer) -> tuple[int, int, int] | None:
        answer = real(self)
        made.append((threading.current_thread().name, answer))
        return answer

    monkeypatch.setattr(Checkpointer, "checkpoint", recorded)
    return made


def _threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name == THREAD]


def test_writes_are_copied_back_by_a_thread_of_their_own(tmp_path: Path, checkpoints) -> None:
    with SQLStore.open(f"sqlite:///{tmp_path / 'monitor.db'}") as store:
        store.add_article(new_article())
        deadline = time.monotonic() + 10
        while not checkpoints and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpoints, "no checkpoint followed the write"
        thread, answer = checkpoints[0]
        assert thread == THREAD
        assert answer is not None
        busy, logged, copied = answer
        assert busy == 0
        assert copied == logged > 0  # the write's pages, copied by that thread
    assert _threads() == []  # closing the store stopped it


def test_a_store_that_only_reads_starts_no_thread(tmp_path: Path, checkpoints) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    SQLStore.open(url).close()  # created and migrated
    with SQLStore.open(url) as store:
        assert store.list_articles() == []
        time.sleep(0.3)  # longer than a checkpoint's gathering wait
        assert _threads() == []
    assert checkpoints == []


def test_postgresql_has_no_checkpointer(pg_store_url: str, checkpoints) -> None:
    with SQLStore.open(pg_store_url) as store:
        store.add_article(new_article())
        time.sleep(0.3)
        assert _threads() == []
    assert checkpoints == []


def test_a_failed_checkpoint_is_logged_not_raised(tmp_path: Path, caplog) -> None:
    # SQLite checkpoints on its own when this one cannot: the store must not fail for it.
    engine = create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    with caplog.at_level(logging.DEBUG, logger="monitor.store.checkpoints"):
        assert Checkpointer(engine).checkpoint() is None
    assert "background checkpoint failed" in caplog.text
    engine.dispose()
