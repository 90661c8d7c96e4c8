"""SQLite's write-ahead log copied into the database file by a thread of its own.

SQLite copies the log back (a checkpoint, with an fsync) in whichever commit finds it
past 1,000 pages. On SQLite the store's writes run on the event loop (store/runner.py), so
that commit stalled every fetch and every answer for tens of milliseconds, about once per
40 new versions (issue 16). ``Checkpointer`` does it in a thread soon after writes, while
the loop goes on, so the log rarely grows that far; SQLite's own checkpoint remains the
fallback should this thread fall behind or fail.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

log = logging.getLogger(__name__)

# After a write, how long to wait for more before copying: the commits of a busy moment
# share one checkpoint (and its fsync).
GATHER_S = 0.1
CLOSE_WAIT_S = 30.0  # a checkpoint never waits for locks: only for the disk


class Checkpointer:
    """Checkpoints ``engine``'s SQLite file in the background after writes (``nudge``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._written = threading.Event()
        self._stop = threading.Event()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None  # started by the first write

    def nudge(self) -> None:
        """A write was committed: checkpoint soon."""
        if self._thread is None:
            with self._start:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(
                        target=self._run, name="sqlite-checkpoint", daemon=True
                    )
                    self._thread.start()
        self._written.set()

    def close(self) -> None:
        """Stop; a checkpoint under way is finished first."""
        with self._start:
            self._stop.set()
            self._written.set()
            thread = self._thread
        if thread is not None:
            thread.join(CLOSE_WAIT_S)

    def _run(self) -> None:
        while True:
            self._written.wait()
            if self._stop.wait(GATHER_S):
                return
            self._written.clear()
            self.checkpoint()

    def checkpoint(self) -> tuple[int, int, int] | None:
        """Copy what it can of the log now, waiting for no reader or writer (PASSIVE);
        SQLite's answer (busy, pages in the log, pages copied), None when it failed."""
        try:
            connection = self._engine.raw_connection()
            try:
                driver = connection.driver_connection
                assert driver is not None
                busy, logged, copied = driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                connection.close()
        except Exception as exc:  # SQLite checkpoints on its own: slower, never lost
            log.debug("background checkpoint failed: %s", exc)
            return None
        return busy, logged, copied
