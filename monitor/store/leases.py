"""Named leases on SQL (``locks``), so that two `check` runs do not work one store at
once: taken by one owner until a time, taken over by anyone once it has passed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from monitor.store.schema import locks
from monitor.store.transactions import Transactions


class LeaseTable(Transactions):
    """The store's run leases."""

    def acquire_lock(self, name: str, owner: str, now: datetime, until: datetime) -> str | None:
        """Take (or extend) the lease ``name`` for ``owner``; None on success, else the
        holder's owner string. An expired lease is taken over."""
        with self._write("take lock") as conn:
            # Inserted if free; two processes inserting at once: one row, the other reads it.
            fresh = self._dialect_insert(locks).on_conflict_do_nothing(index_elements=["name"])
            taken = conn.execute(fresh.values(name=name, owner=owner, until=until)).rowcount
            if taken == 1:
                return None
            query = select(locks).where(locks.c.name == name)
            if self._engine.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).mappings().first()
            if row is None:  # released between the two statements
                conn.execute(insert(locks).values(name=name, owner=owner, until=until))
                return None
            if row["owner"] != owner and row["until"] > now:
                return str(row["owner"])
            conn.execute(update(locks).where(locks.c.name == name).values(owner=owner, until=until))
            return None

    def release_lock(self, name: str, owner: str) -> None:
        with self._write("release lock") as conn:
            conn.execute(locks.delete().where(locks.c.name == name, locks.c.owner == owner))
