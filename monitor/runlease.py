"""The run lease: one `newsmonitor check` at a time per store (and, on SQLite, one
`newsmonitor run`).

A lease row in the store (not a file lock) so that it holds across machines sharing a
PostgreSQL store; it runs out by itself when its holder dies, and a holder that died on
this host is taken over at once. Time comes from an injectable ``LeaseTimer`` so that
tests need not wait it out.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.clock import Clock, utc_now
from monitor.errors import RunLockedError, StoreError
from monitor.store import LeaseStore

CHECK_LOCK = "check"
DAEMON_LOCK = "daemon"  # SQLite: the one `run` per store
CHECK_LEASE = timedelta(minutes=15)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseTimer:
    """Where the lease reads the time and how it waits; tests pass their own."""

    now: Clock = utc_now
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def owner_id() -> str:
    """Who holds a lease: host, process and a random part (a pid is reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@contextmanager
def exclusive_check(
    store: LeaseStore, wait: float, poll: float = 0.5, timer: LeaseTimer = LeaseTimer()
) -> Iterator[None]:
    """Hold the store's `check` lease: a second `check` waits up to ``wait`` seconds, then
    gives up with RunLockedError. A holder that died on this host is taken over at once."""
    owner = owner_id()
    deadline = timer.monotonic() + wait
    while True:
        now = timer.now()
        holder = store.acquire_lock(CHECK_LOCK, owner, now, now + CHECK_LEASE)
        if holder is None:
            break
        if _dead_on_this_host(holder):
            store.release_lock(CHECK_LOCK, holder)
            continue
        if timer.monotonic() >= deadline:
            host, pid = _host_and_pid(holder)
            raise RunLockedError(
                f"another check is running (process {pid} on {host}); this one was skipped"
            )
        timer.sleep(poll)
    try:
        yield
    finally:
        try:
            store.release_lock(CHECK_LOCK, owner)
        except StoreError as exc:  # it runs out by itself; a dead holder is taken over
            log.warning("the run lease could not be released: %s", exc)


def take_daemon_lease(store: LeaseStore, owner: str, now: datetime, until: datetime) -> None:
    """Hold (or renew) the store's one-daemon lease: on SQLite one `newsmonitor run` works a
    store (issue 17: a second one refuses, rather than both doing everything). A holder that
    died on this host is taken over at once; RunLockedError names a live one."""
    holder = store.acquire_lock(DAEMON_LOCK, owner, now, until)
    if holder is not None and _dead_on_this_host(holder):
        store.release_lock(DAEMON_LOCK, holder)
        holder = store.acquire_lock(DAEMON_LOCK, owner, now, until)
    if holder is not None:
        host, pid = _host_and_pid(holder)
        raise RunLockedError(
            f"another `newsmonitor run` (process {pid} on {host}) works this SQLite store; "
            "one daemon per SQLite file: for several nodes, use PostgreSQL"
        )


def _host_and_pid(holder: str) -> tuple[str, str]:
    host, _, rest = holder.partition(":")
    return host, rest.partition(":")[0]


def _dead_on_this_host(holder: str) -> bool:
    host, pid = _host_and_pid(holder)
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
