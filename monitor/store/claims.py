"""Several nodes on one store (issue 17): leased claims on due work and the nodes table.

Due work is claimed before it is done: a host's due articles (host affinity: one node
works a host at a time, so ``per_host_concurrency`` holds across the cluster) or a feed's
check (fetched once per interval, whichever node's job fires first). A claim is a row of
``claims`` leased until a time, taken with ``SELECT ... FOR UPDATE SKIP LOCKED`` as the
alert outbox leases its rows; a node renews its leases with its heartbeat and releases
them when done, and a dead node's leases run out. SQLite takes the same claims: its one
writer at a time does what the row locks do.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    update,
)

from monitor.models import HostClaim, Node
from monitor.store.schema import articles, claims, feeds, nodes
from monitor.store.transactions import Transactions

HOST = "host"
FEED = "feed"
# Due articles looked at to find the hosts to claim: enough for hundreds of hosts; an
# index-only scan of the (next_check, host) index, cheap however many articles are due.
SCAN = 2000


def url_host(url: str) -> str:
    """The host an article's requests go to, as the fetcher's per-host slots name it
    (``fetch.host_key``: lower case, "" for a URL without one)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def hosts_to_claim(now: datetime, owner: str, skip: Collection[str] = ()) -> Select[Any]:
    """The claim query: hosts of the ``SCAN`` most overdue articles due at ``now`` that no
    live lease of another node holds (nor in ``skip``), most overdue first, each with how
    many hosts other nodes hold (one statement for both). An index-only scan of
    (next_check, host) past the held and skipped hosts' articles, however many articles
    the store tracks."""
    held = select(claims.c.name).where(
        claims.c.kind == HOST, claims.c.lease_until >= now, claims.c.claimed_by != owner
    )
    due = select(articles.c.host, articles.c.next_check).where(
        articles.c.next_check <= now, articles.c.host.not_in(held)
    )
    if skip:
        # Hosts this pass has worked: looked past, not stopped at (a host whose articles
        # stay due, of a feed no longer configured, say, must not hide the rest).
        due = due.where(articles.c.host.not_in(sorted(skip)))
    head = due.order_by(articles.c.next_check).limit(SCAN).subquery()
    others = select(func.count()).select_from(held.subquery()).scalar_subquery()
    return (
        select(head.c.host, others)
        .group_by(head.c.host)
        .order_by(func.min(head.c.next_check), head.c.host)
    )


class ClaimTables(Transactions):
    """The store's claims and nodes."""

    def claim_hosts(self, claim: HostClaim) -> list[str]:
        """Lease to ``claim.owner`` hosts with articles due at ``claim.now`` that no live
        lease of another node holds (not those in ``claim.skip``), most overdue first:
        about this node's share (the hosts in view, held or free, over ``claim.nodes``),
        at most ``claim.limit``. The hosts claimed; one transaction of three statements."""
        now, owner = claim.now, claim.owner
        candidates = hosts_to_claim(now, owner, claim.skip)
        with self._lease_write("claim hosts") as conn:
            rows = conn.execute(candidates).all()
            hosts = [host for host, _ in rows]
            if not hosts:
                return []
            share = math.ceil((len(hosts) + int(rows[0][1])) / max(1, claim.nodes))
            wanted = sorted(hosts[: max(1, min(claim.limit, share))])
            return sorted(self._lease(conn, HOST, wanted, owner, now, claim.lease_until))

    def due_on_hosts(
        self,
        now: datetime,
        hosts: Sequence[str],
        of_feeds: Collection[str],
        per_host: int,
        limit: int | None = None,
    ) -> list[tuple[int, str, str]]:
        """(id, feed, host) of the articles due at ``now`` on the claimed ``hosts``, of
        the feeds ``of_feeds``: each host's ``per_host`` most overdue, most overdue first, at
        most ``limit`` in all. A round's work: short, so that the nodes' last rounds end
        together (issue 17)."""
        if not hosts or not of_feeds:
            return []
        rank = func.row_number().over(
            partition_by=articles.c.host, order_by=(articles.c.next_check, articles.c.id)
        )
        due = (
            select(
                articles.c.id,
                articles.c.feed,
                articles.c.host,
                articles.c.next_check,
                rank.label("rank"),
            )
            .where(articles.c.next_check <= now)
            .where(articles.c.host.in_(sorted(hosts)), articles.c.feed.in_(sorted(of_feeds)))
            .subquery()
        )
        query = (
            select(due.c.id, due.c.feed, due.c.host)
            .where(due.c.rank <= per_host)
            .order_by(due.c.next_check, due.c.id)
            .limit(limit)
        )
        with self._read("list due articles") as conn:
            return [(row.id, row.feed, row.host) for row in conn.execute(query)]

    def claim_named_hosts(
        self, owner: str, names: Sequence[str], now: datetime, until: datetime
    ) -> list[str]:
        """Lease to ``owner`` those of the hosts ``names`` that no live lease of another
        node holds (a feed's new articles, fetched under their host's claim); those leased."""
        if not names:
            return []
        with self._lease_write("claim hosts") as conn:
            return sorted(self._lease(conn, HOST, sorted(set(names)), owner, now, until))

    def claim_feed(
        self, name: str, owner: str, now: datetime, until: datetime, due_by: datetime
    ) -> bool:
        """Lease feed ``name``'s check to ``owner`` if no other live lease holds it and it
        is still due (its next check at or before ``due_by``, or never checked): the node
        whose job fires second finds it checked and skips it."""
        due = ~exists().where(feeds.c.name == name, feeds.c.next_due > due_by)
        with self._lease_write("claim feed") as conn:
            return bool(self._lease(conn, FEED, [name], owner, now, until, due))

    def renew_claims(self, owner: str, now: datetime, until: datetime) -> int:
        """Extend every live lease ``owner`` holds to ``until``; how many it holds."""
        query = (
            update(claims)
            .where(claims.c.claimed_by == owner, claims.c.lease_until >= now)
            .values(lease_until=until)
        )
        with self._lease_write("renew claims") as conn:
            return conn.execute(query).rowcount

    def release_claims(
        self, owner: str, kind: str, names: Sequence[str], rest_until: datetime | None = None
    ) -> None:
        """Give up ``owner``'s claims on ``names`` (of ``kind``, "host" or "feed"); with
        ``rest_until``, nobody may claim them again before then (a feed just checked: a
        job that fires late on another node, its pass's time taken before a wait, must not
        find it due again at once). Held by no one, so no heartbeat renews the rest."""
        if not names:
            return
        query = (
            update(claims)
            .where(claims.c.kind == kind, claims.c.name.in_(list(names)))
            .where(claims.c.claimed_by == owner)
            .values(claimed_by=None, lease_until=rest_until)
        )
        with self._lease_write("release claims") as conn:
            conn.execute(query)

    def heartbeat(self, node: Node, lease_until: datetime, alive_since: datetime) -> int:
        """Record that ``node`` is alive at ``node.heartbeat`` (registering it the first
        time) and renew its leases to ``lease_until``; how many nodes are alive (a
        heartbeat at or after ``alive_since``), this one included."""
        values = {
            "id": node.id,
            "host": node.host,
            "pid": node.pid,
            "version": node.version,
            "started": node.started,
            "heartbeat": node.heartbeat,
        }
        upsert = (
            self._dialect_insert(nodes)
            .values(values)
            .on_conflict_do_update(index_elements=["id"], set_={"heartbeat": node.heartbeat})
        )
        renew = (
            update(claims)
            .where(claims.c.claimed_by == node.id, claims.c.lease_until >= node.heartbeat)
            .values(lease_until=lease_until)
        )
        alive = select(func.count()).where(nodes.c.heartbeat >= alive_since)
        with self._lease_write("heartbeat") as conn:
            conn.execute(upsert)
            conn.execute(renew)
            return int(conn.execute(alive).scalar() or 1)

    def remove_node(self, node_id: str) -> None:
        """A node's clean shutdown: its row goes and its claims are free at once."""
        with self._write("remove node") as conn:
            conn.execute(
                update(claims)
                .where(claims.c.claimed_by == node_id)
                .values(claimed_by=None, lease_until=None)
            )
            conn.execute(delete(nodes).where(nodes.c.id == node_id))

    def list_nodes(self, now: datetime) -> list[Node]:
        """Every registered node, by start time, with the claims whose lease is live at
        ``now`` ("host:<name>", "feed:<name>")."""
        held = (
            select(claims.c.claimed_by, claims.c.kind, claims.c.name)
            .where(claims.c.lease_until >= now)
            .order_by(claims.c.kind, claims.c.name)
        )
        with self._read("list nodes") as conn:
            rows = conn.execute(select(nodes).order_by(nodes.c.started, nodes.c.id)).all()
            holding: dict[str, list[str]] = {}
            for owner, kind, name in conn.execute(held):
                holding.setdefault(owner, []).append(f"{kind}:{name}")
        return [
            Node(
                row.id,
                row.host,
                row.pid,
                row.version,
                row.started,
                row.heartbeat,
                tuple(holding.get(row.id, ())),
            )
            for row in rows
        ]

    @contextmanager
    def _lease_write(self, action: str) -> Iterator[Connection]:
        """A write of claims and heartbeats. On PostgreSQL without waiting for the disk at
        commit (most of such a transaction's time): a lease the server lost in a crash is
        one its holder had for a moment, and the holder's connection was lost with it."""
        with self._write(action) as conn:
            if self._engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL synchronous_commit = off"))
            yield conn

    def _lease(
        self,
        conn: Connection,
        kind: str,
        names: list[str],
        owner: str,
        now: datetime,
        until: datetime,
        *conditions: ColumnElement[bool],
    ) -> list[str]:
        """Lease the claims ``names`` of ``kind`` that are free (or ``owner``'s) to
        ``owner``: rows created as needed, then the free ones locked with FOR UPDATE SKIP
        LOCKED (PostgreSQL) and leased in one UPDATE; the names leased."""
        # In name order: two nodes creating the same rows at once never wait in a cycle.
        rows = [{"kind": kind, "name": name} for name in sorted(names)]
        fresh = self._dialect_insert(claims).values(rows)  # one statement, not one a row
        conn.execute(fresh.on_conflict_do_nothing(index_elements=["kind", "name"]))
        free = select(claims.c.name).where(
            claims.c.kind == kind,
            claims.c.name.in_(names),
            or_(
                claims.c.lease_until.is_(None),
                claims.c.lease_until < now,
                claims.c.claimed_by == owner,
            ),
            *conditions,
        )
        if self._engine.dialect.name == "postgresql":
            free = free.with_for_update(skip_locked=True)
        lease = (
            update(claims)
            .where(and_(claims.c.kind == kind, claims.c.name.in_(free.scalar_subquery())))
            .values(claimed_by=owner, lease_until=until)
            .returning(claims.c.name)
        )
        return list(conn.execute(lease).scalars())
