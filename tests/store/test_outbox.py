"""The alert outbox (monitor/store/outbox.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from monitor.models import (
    AlertAttempt,
    AlertClaim,
    AlertStatus,
)
from monitor.store.sql import SQLStore
from tests.store.samples import T0, queued_alert


def test_claims_are_exclusive_until_the_lease_ends(store: SQLStore) -> None:
    store.add_alerts([queued_alert("hook", n) for n in range(5)])
    store.add_alerts([queued_alert("hook", 9, next_attempt=T0 + timedelta(hours=1))])
    lease = T0 + timedelta(minutes=5)
    first = store.claim_alerts(T0, AlertClaim("relay-a", lease, limit=3))
    second = store.claim_alerts(T0, AlertClaim("relay-b", lease))
    assert len(first) == 3 and len(second) == 2  # the future one is not due
    assert not {a.id for a in first} & {a.id for a in second}
    assert store.claim_alerts(T0, AlertClaim("relay-c", lease)) == []

    # relay-a dies; after its lease another relay takes its rows over.
    later = T0 + timedelta(minutes=6)
    taken = store.claim_alerts(later, AlertClaim("relay-c", later + timedelta(minutes=5)))
    assert {a.id for a in taken} == {a.id for a in first} | {a.id for a in second}
    assert not store.finish_alert(
        AlertAttempt(first[0].id, "relay-a", AlertStatus.DELIVERED, 1, later)
    )
    assert store.finish_alert(AlertAttempt(first[0].id, "relay-c", AlertStatus.DELIVERED, 1, later))
    delivered = store.get_alert(first[0].id)
    assert delivered is not None and delivered.delivered_at == later


def test_concurrent_claims_never_overlap(store_url: str) -> None:
    with SQLStore.open(store_url) as setup:
        setup.add_alerts([queued_alert("hook", n) for n in range(60)])
    claimed: list[list[int]] = []

    def relay(name: str) -> None:
        with SQLStore.open(store_url) as own:
            ids: list[int] = []
            while batch := own.claim_alerts(
                T0, AlertClaim(name, T0 + timedelta(minutes=5), limit=4)
            ):
                ids += [a.id for a in batch]
            claimed.append(ids)

    workers = [threading.Thread(target=relay, args=(f"r{i}",)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    every = [i for ids in claimed for i in ids]
    assert len(every) == 60 and len(set(every)) == 60


def test_failures_retry_and_dead_alerts_can_be_requeued(store: SQLStore) -> None:
    (alert,) = store.add_alerts([queued_alert("hook", 1)])
    store.claim_alerts(T0, AlertClaim("r", T0 + timedelta(minutes=5)))
    retry_at = T0 + timedelta(minutes=1)
    store.finish_alert(AlertAttempt(alert.id, "r", AlertStatus.QUEUED, 1, T0, retry_at, "HTTP 503"))
    assert store.claim_alerts(T0, AlertClaim("r", T0 + timedelta(minutes=5))) == []
    (again,) = store.claim_alerts(retry_at, AlertClaim("r", retry_at + timedelta(minutes=5)))
    assert (again.attempts, again.last_error) == (1, "HTTP 503")
    store.finish_alert(AlertAttempt(alert.id, "r", AlertStatus.DEAD, 2, retry_at, None, "HTTP 400"))
    assert store.count_alerts() == {
        AlertStatus.QUEUED: 0,
        AlertStatus.DELIVERED: 0,
        AlertStatus.DEAD: 1,
    }
    assert store.requeue_alerts(None, retry_at) == 1
    (requeued,) = store.list_alerts(AlertStatus.QUEUED)
    assert requeued.attempts == 0 and requeued.next_attempt == retry_at


def test_digest_alerts_are_held_apart(store: SQLStore) -> None:
    store.add_alerts(
        [
            queued_alert("mail", n, digest=True, created_at=T0 + timedelta(minutes=n))
            for n in range(3)
        ]
    )
    store.add_alerts([queued_alert("hook", 7)])
    assert [
        a.channel for a in store.claim_alerts(T0, AlertClaim("r", T0 + timedelta(minutes=5)))
    ] == ["hook"]
    assert store.oldest_queued_digest("mail") == T0
    assert store.oldest_queued_digest("hook") is None
    held = store.claim_alerts(
        T0, AlertClaim("r", T0 + timedelta(minutes=5), digest=True, channel="mail")
    )
    assert len(held) == 3


def test_a_lease_is_renewed_only_by_its_holder(store: SQLStore) -> None:
    (alert,) = store.add_alerts([queued_alert("hook", 1)])
    store.claim_alerts(T0, AlertClaim("relay-a", T0 + timedelta(seconds=1)))
    later = T0 + timedelta(minutes=1)
    assert store.renew_alerts([alert.id], "relay-b", later) == set()
    assert store.renew_alerts([alert.id], "relay-a", later) == {alert.id}
    # Renewed: another relay cannot claim it even though the first lease ran out.
    assert store.claim_alerts(T0 + timedelta(seconds=30), AlertClaim("relay-b", later)) == []
    store.finish_alert(AlertAttempt(alert.id, "relay-a", AlertStatus.DELIVERED, 1, later))
    assert store.renew_alerts([alert.id], "relay-a", later) == set()  # sent: nothing to hold
