"""The alert outbox on SQL (``alerts``): rows queued with the changes they report,
leased by a relay while it sends them, and marked delivered, queued again or dead."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from monitor.models import Alert, AlertAttempt, AlertClaim, AlertStatus
from monitor.store.rows import inserted_id, row_fields, to_columns
from monitor.store.schema import UTCDateTime, alerts
from monitor.store.transactions import Transactions


class OutboxTable(Transactions):
    """The store's alert outbox."""

    def add_alerts(self, new_alerts: Sequence[Alert]) -> list[Alert]:
        """Queue alerts outside a change's transaction (tests, `alerts test`)."""
        with self._write("queue alerts") as conn:
            return insert_alerts(conn, new_alerts)

    def claim_alerts(self, now: datetime, claim: AlertClaim) -> list[Alert]:
        """Lease up to ``claim.limit`` queued alerts that are due and not leased by a live
        relay.

        One statement: UPDATE ... WHERE id IN (due ids) RETURNING, the due ids locked with
        FOR UPDATE SKIP LOCKED on PostgreSQL, so two relays never claim the same row.
        """
        due = (
            select(alerts.c.id)
            .where(
                alerts.c.status == AlertStatus.QUEUED.value,
                alerts.c.digest == claim.digest,
                or_(alerts.c.next_attempt.is_(None), alerts.c.next_attempt <= now),
                or_(alerts.c.lease_until.is_(None), alerts.c.lease_until < now),
            )
            .order_by(alerts.c.next_attempt, alerts.c.id)
            .limit(claim.limit)
        )
        if claim.channel is not None:
            due = due.where(alerts.c.channel == claim.channel)
        if self._engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        lease = (
            update(alerts)
            .where(alerts.c.id.in_(due.scalar_subquery()))
            .values(lease_owner=claim.owner, lease_until=claim.lease_until)
            .returning(*alerts.c)
        )
        with self._write("claim alerts") as conn:
            rows = conn.execute(lease).mappings().all()
        return sorted((_alert(row) for row in rows), key=lambda a: a.id)

    def renew_alerts(self, ids: Sequence[int], owner: str, until: datetime) -> set[int]:
        """Extend ``owner``'s lease on the claimed alerts ``ids`` to ``until``; the ids
        still held (a relay sends only those: the others were claimed by another relay)."""
        if not ids:
            return set()
        query = (
            update(alerts)
            .where(
                alerts.c.id.in_(list(ids)),
                alerts.c.lease_owner == owner,
                alerts.c.status == AlertStatus.QUEUED.value,
            )
            .values(lease_until=until)
            .returning(alerts.c.id)
        )
        with self._write("renew alert lease") as conn:
            return {row.id for row in conn.execute(query)}

    def finish_alert(self, attempt: AlertAttempt) -> bool:
        """Record a delivery attempt of a claimed alert; False if the lease was lost."""
        values: dict[str, Any] = {
            "status": attempt.status.value,
            "attempts": attempt.attempts,
            "next_attempt": attempt.next_attempt,
            "last_error": attempt.error,
            "lease_owner": None,
            "lease_until": None,
        }
        if attempt.status == AlertStatus.DELIVERED:
            values["delivered_at"] = attempt.at
        query = (
            update(alerts)
            .where(alerts.c.id == attempt.alert_id, alerts.c.lease_owner == attempt.owner)
            .values(**values)
        )
        with self._write("finish alert") as conn:
            return conn.execute(query).rowcount == 1

    def get_alert(self, alert_id: int) -> Alert | None:
        query = select(alerts).where(alerts.c.id == alert_id)
        with self._read("read alert") as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _alert(row)

    def list_alerts(
        self, status: AlertStatus | None = None, limit: int | None = None
    ) -> list[Alert]:
        """Alerts, newest first."""
        query = select(alerts).order_by(alerts.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(alerts.c.status == status.value)
        with self._read("list alerts") as conn:
            return [_alert(row) for row in conn.execute(query).mappings()]

    def count_alerts(self) -> dict[AlertStatus, int]:
        query = select(alerts.c.status, func.count()).group_by(alerts.c.status)
        with self._read("count alerts") as conn:
            counts = {AlertStatus(status): n for status, n in conn.execute(query)}
        return {status: counts.get(status, 0) for status in AlertStatus}

    def oldest_queued_digest(self, channel: str) -> datetime | None:
        """When the oldest alert waiting for ``channel``'s digest was queued."""
        query = select(func.min(alerts.c.created_at)).where(
            alerts.c.channel == channel,
            alerts.c.digest.is_(True),
            alerts.c.status == AlertStatus.QUEUED.value,
        )
        with self._read("read digest queue") as conn:
            oldest = conn.execute(query).scalar()
        return UTCDateTime().process_result_value(oldest, self._engine.dialect)

    def oldest_queued_alert(self) -> datetime | None:
        """When the oldest alert still queued (for any channel) was queued: the outbox's lag."""
        query = select(func.min(alerts.c.created_at)).where(
            alerts.c.status == AlertStatus.QUEUED.value
        )
        with self._read("read the outbox's lag") as conn:
            oldest = conn.execute(query).scalar()
        return UTCDateTime().process_result_value(oldest, self._engine.dialect)

    def requeue_alerts(self, ids: Sequence[int] | None, now: datetime) -> int:
        """Queue alerts again for delivery now: those in ``ids``, or every dead one."""
        query = update(alerts).values(
            status=AlertStatus.QUEUED.value,
            next_attempt=now,
            attempts=0,
            lease_owner=None,
            lease_until=None,
        )
        if ids is None:
            query = query.where(alerts.c.status == AlertStatus.DEAD.value)
        else:
            query = query.where(
                alerts.c.id.in_(list(ids)),
                alerts.c.status != AlertStatus.DELIVERED.value,
            )
        with self._write("requeue alerts") as conn:
            return conn.execute(query).rowcount


def insert_alerts(conn: Connection, new_alerts: Sequence[Alert]) -> list[Alert]:
    saved = []
    for alert in new_alerts:
        values = to_columns(alert)
        del values["id"]
        values["payload"] = json.dumps(alert.payload, ensure_ascii=False)
        result = conn.execute(insert(alerts).values(values))
        saved.append(replace(alert, id=inserted_id(result)))
    return saved


def _alert(row: RowMapping) -> Alert:
    values = row_fields(row, Alert)
    values["status"] = AlertStatus(values["status"])
    values["payload"] = json.loads(values["payload"])
    values["digest"] = bool(values["digest"])
    return Alert(**values)
