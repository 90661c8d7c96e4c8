"""The run lease on both stores, with a clock the test turns instead of waiting."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import RunLockedError
from monitor.runlease import (
    CHECK_LEASE,
    CHECK_LOCK,
    DAEMON_LOCK,
    LeaseTimer,
    exclusive_check,
    owner_id,
    take_daemon_lease,
)
from monitor.store import Store


class TurnedClock:
    """Time that moves only when the lease sleeps: waiting costs the test nothing."""

    def __init__(self) -> None:
        self.wall = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
        self.ticks = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.ticks += seconds
        self.wall += timedelta(seconds=seconds)

    def timer(self) -> LeaseTimer:
        return LeaseTimer(now=lambda: self.wall, monotonic=lambda: self.ticks, sleep=self.sleep)


def hold(store: Store, owner: str, now: datetime) -> None:
    assert store.acquire_lock(CHECK_LOCK, owner, now, now + CHECK_LEASE) is None


def test_a_second_check_waits_then_gives_up_naming_the_holder(store: Store) -> None:
    turned = TurnedClock()
    hold(store, "elsewhere.example:4242:abcd", turned.wall)
    with (
        pytest.raises(RunLockedError, match=r"process 4242 on elsewhere\.example"),
        exclusive_check(store, wait=3, poll=0.5, timer=turned.timer()),
    ):
        pytest.fail("the lease is held by another host")
    assert sum(turned.slept) == pytest.approx(3.0) and set(turned.slept) == {0.5}


def test_no_wait_gives_up_at_once(store: Store) -> None:
    turned = TurnedClock()
    hold(store, "elsewhere.example:1:abcd", turned.wall)
    with pytest.raises(RunLockedError), exclusive_check(store, wait=0, timer=turned.timer()):
        pass
    assert turned.slept == []


def test_the_lease_is_released_and_taken_again(store: Store) -> None:
    turned = TurnedClock()
    with exclusive_check(store, wait=0, timer=turned.timer()):
        # Held: another owner cannot take it.
        holder = store.acquire_lock(CHECK_LOCK, "other:1:x", turned.wall, turned.wall)
        assert holder is not None and holder.startswith(f"{socket.gethostname()}:{os.getpid()}:")
    with exclusive_check(store, wait=0, timer=turned.timer()):
        pass


def test_a_holder_that_died_on_this_host_is_taken_over_at_once(store: Store) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    turned = TurnedClock()
    hold(store, f"{socket.gethostname()}:{dead.stdout.strip()}:dead", turned.wall)
    with exclusive_check(store, wait=0, timer=turned.timer()):
        pass
    assert turned.slept == []


def test_one_daemon_per_sqlite_store_unless_the_holder_died_here(store: Store) -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    until = now + timedelta(minutes=2)
    take_daemon_lease(store, f"{socket.gethostname()}:{os.getpid()}:me", now, until)
    take_daemon_lease(store, f"{socket.gethostname()}:{os.getpid()}:me", now, until)  # renewed
    with pytest.raises(RunLockedError, match=f"process {os.getpid()} on"):
        take_daemon_lease(store, "elsewhere:77:other", now, until)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    store.release_lock(DAEMON_LOCK, f"{socket.gethostname()}:{os.getpid()}:me")
    take_daemon_lease(store, f"{socket.gethostname()}:{dead.stdout.strip()}:dead", now, until)
    take_daemon_lease(store, "next:1:one", now, until)  # the dead one's lease is taken over
    assert store.acquire_lock(DAEMON_LOCK, "next:1:one", now, until) is None


def test_owner_ids_are_unique_per_lease() -> None:
    assert owner_id() != owner_id()
    assert owner_id().startswith(f"{socket.gethostname()}:{os.getpid()}:")
