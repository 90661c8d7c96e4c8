"""This node's claims on hosts (issue 17), counted, so that a feed's new articles are
fetched under their host's claim like the re-checks are.

The article rounds claim hosts in batches; a feed's new entries may point at a host another
node is working. Each page fetched on a node holds its host here: the first holder claims it
from the store (waiting while another node's live lease has it), the last one to finish
releases it. Holders never wait for a second host while holding one, so nodes cannot wait on
each other in a cycle.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from monitor.errors import StoreError
from monitor.store import ClaimStore
from monitor.store.runner import StoreRunner

log = logging.getLogger(__name__)


class HostClaims:
    """Counted holds on host claims for one node (``owner``), shared by its jobs."""

    def __init__(
        self,
        store: ClaimStore,
        db: StoreRunner,
        owner: str,
        clock: Callable[[], datetime],
        lease: timedelta,
    ) -> None:
        self.store, self.db, self.owner, self.clock, self.lease = store, db, owner, clock, lease
        self._holds: Counter[str] = Counter()
        self._claimed: dict[str, asyncio.Future[None]] = {}
        # Another node's round on a host ends within its lease; look again well before.
        self.poll = max(0.05, min(1.0, lease.total_seconds() / 8))

    def held(self, host: str) -> int:
        """How many holds this node has on ``host`` now."""
        return self._holds[host]

    def adopt(self, hosts: Sequence[str]) -> None:
        """Count holds on ``hosts`` the store has just leased to this node (a round)."""
        for host in hosts:
            self._holds[host] += 1
            if host not in self._claimed:
                done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                done.set_result(None)
                self._claimed[host] = done

    async def hold(self, host: str) -> None:
        """Hold ``host``: claimed from the store by the first holder, which waits while
        another node's live lease has it; later holders wait for that claim. Each hold is
        given back with ``release``, also when the wait is cancelled (done here)."""
        self._holds[host] += 1
        try:
            claimed = self._claimed.get(host)
            if claimed is not None:
                await asyncio.shield(claimed)
                return
            claimed = asyncio.get_running_loop().create_future()
            self._claimed[host] = claimed
            try:
                await self._claim(host)
            finally:
                if not claimed.done():
                    claimed.set_result(None)
        except BaseException:
            await self.release([host])
            raise

    async def release(self, hosts: Sequence[str]) -> None:
        """Drop one hold on each of ``hosts``; those with none left go back to the store."""
        free = []
        for host in hosts:
            self._holds[host] -= 1
            if self._holds[host] <= 0:
                del self._holds[host]
                self._claimed.pop(host, None)
                free.append(host)
        if not free:
            return
        try:
            await self.db.write(self.store.release_claims, self.owner, "host", free)
        except StoreError as exc:  # the leases run out by themselves
            log.warning("releasing claims on %s failed: %s", ", ".join(free), exc)

    async def _claim(self, host: str) -> None:
        while True:
            now = self.clock()
            try:
                got = await self.db.write(
                    self.store.claim_named_hosts, self.owner, [host], now, now + self.lease
                )
            except StoreError as exc:
                # The fetch goes ahead: its write will meet the same store error and be
                # retried by the next pass; the host's politeness holds on this node.
                log.warning("claiming host %s failed: %s", host, exc)
                return
            if got:
                return
            await asyncio.sleep(self.poll)
