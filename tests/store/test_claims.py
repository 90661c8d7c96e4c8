"""Claims and nodes (monitor/store/claims.py, issue 17), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest

from monitor.errors import StoreError
from monitor.models import FeedState, HostClaim, Node
from monitor.store import claims
from monitor.store.claims import url_host
from monitor.store.sql import SQLStore
from tests.store.samples import T0, new_article

LEASE = timedelta(minutes=2)


def due_articles(store: SQLStore, hosts: dict[str, int], due: timedelta = timedelta(0)) -> None:
    """``hosts[h]`` articles on host ``h``, due at T0 + ``due`` (earlier hosts more overdue)."""
    for rank, (host, count) in enumerate(hosts.items()):
        for n in range(count):
            url = f"https://{host}/story-{n}"
            at = T0 + due - timedelta(minutes=len(hosts) - rank)
            store.add_article(new_article(url, next_check=at))


def claim(owner: str, nodes: int = 1, at: timedelta = timedelta(0), **fields: object) -> HostClaim:
    now = T0 + at
    return HostClaim(owner, now, now + LEASE, nodes=nodes, **fields)  # type: ignore[arg-type]


def test_the_host_is_kept_with_the_current_url(store: SQLStore) -> None:
    article = store.add_article(new_article("https://News.Example:8443/a", next_check=T0))
    assert store.due_article_ids(T0, hosts=["news.example"]) == [(article.id, "example")]
    moved = replace(article, current_url="https://other.example/a")
    store.update_articles([moved], ["current_url"])
    assert store.due_article_ids(T0, hosts=["news.example"]) == []
    assert store.due_article_ids(T0, hosts=["other.example"]) == [(article.id, "example")]
    assert url_host("not a url") == "" and url_host("http://[::1]:80/x") == "::1"


def test_hosts_are_claimed_most_overdue_first_and_held_until_released(store: SQLStore) -> None:
    due_articles(store, {"a.example": 2, "b.example": 1, "c.example": 3})
    store.add_article(new_article("https://later.example/x", next_check=T0 + timedelta(hours=1)))
    assert store.claim_hosts(claim("n1", limit=2)) == ["a.example", "b.example"]
    assert store.claim_hosts(claim("n2")) == ["c.example"]  # the others are held
    assert store.claim_hosts(claim("n3")) == []
    assert store.claim_hosts(claim("n1", limit=2)) == ["a.example", "b.example"]  # its own
    store.release_claims("n1", "host", ["a.example"])
    assert store.claim_hosts(claim("n3")) == ["a.example"]
    ids = store.due_article_ids(T0, hosts=["a.example"])
    assert len(ids) == 2  # the claimed host's due articles, nothing else


def test_each_node_claims_its_share_of_the_due_hosts(store: SQLStore) -> None:
    due_articles(store, {f"h{n}.example": 1 for n in range(6)})
    first = store.claim_hosts(claim("n1", nodes=3))
    second = store.claim_hosts(claim("n2", nodes=3))
    third = store.claim_hosts(claim("n3", nodes=3))
    assert [len(first), len(second), len(third)] == [2, 2, 2]
    assert len(set(first) | set(second) | set(third)) == 6
    skipped = store.claim_hosts(claim("n4", skip=frozenset(first)))
    assert skipped == []  # held by live leases, or worked already this pass


def test_hosts_worked_this_pass_are_looked_past_not_stopped_at(
    store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host whose articles stay due (of a feed no longer configured, say) must not hide
    the hosts behind it, however many of its articles come first."""
    monkeypatch.setattr(claims, "SCAN", 3)
    due_articles(store, {"stale.example": 5, "fresh.example": 1})
    assert store.claim_hosts(claim("n1")) == ["stale.example"]
    store.release_claims("n1", "host", ["stale.example"])
    skip = frozenset({"stale.example"})
    assert store.claim_hosts(claim("n1", skip=skip)) == ["fresh.example"]


def test_a_dead_nodes_claims_are_taken_over_when_their_lease_runs_out(store: SQLStore) -> None:
    due_articles(store, {"a.example": 1})
    assert store.claim_hosts(claim("dead")) == ["a.example"]
    assert store.claim_hosts(claim("alive", at=LEASE - timedelta(seconds=1))) == []
    assert store.claim_hosts(claim("alive", at=LEASE + timedelta(seconds=1))) == ["a.example"]


def test_heartbeats_renew_the_leases_and_count_the_nodes(store: SQLStore) -> None:
    due_articles(store, {"a.example": 1, "b.example": 1})
    node = Node("n1", "box-1", 101, "0.1.0", T0, T0)
    assert store.heartbeat(node, T0 + LEASE, T0 - timedelta(seconds=45)) == 1
    assert store.claim_hosts(claim("n1", limit=1)) == ["a.example"]
    assert store.claim_feed("world", "n1", T0, T0 + LEASE, T0)
    later = T0 + LEASE - timedelta(seconds=5)
    other = Node("n2", "box-2", 202, "0.1.0", later, later)
    assert store.heartbeat(other, later + LEASE, later - timedelta(seconds=45)) == 1  # n1 lost
    assert store.heartbeat(replace(node, heartbeat=later), later + LEASE, T0) == 2
    # Renewed: still n1's after the first lease would have run out.
    assert store.claim_hosts(claim("n2", at=LEASE + timedelta(seconds=1))) == ["b.example"]
    listed = store.list_nodes(later)
    assert [(n.id, n.host, n.pid, n.heartbeat) for n in listed] == [
        ("n1", "box-1", 101, later),
        ("n2", "box-2", 202, later),
    ]
    assert listed[0].claims == ("feed:world", "host:a.example")
    store.remove_node("n1")  # a clean shutdown: gone, and its claims free at once
    assert [n.id for n in store.list_nodes(later)] == ["n2"]
    # n1's host is free at once (n2's own b.example is its again).
    assert store.claim_hosts(claim("n2", at=LEASE - timedelta(seconds=4))) == [
        "a.example",
        "b.example",
    ]
    assert store.claim_feed("world", "n2", later, later + LEASE, later)


def test_a_feed_is_claimed_only_while_it_is_due(store: SQLStore) -> None:
    assert store.claim_feed("world", "n1", T0, T0 + LEASE, T0)  # never checked: due
    assert not store.claim_feed("world", "n2", T0, T0 + LEASE, T0)  # n1 holds it
    store.save_feed(
        FeedState("world", "https://news.example/rss", next_due=T0 + timedelta(minutes=15))
    )
    store.release_claims("n1", "feed", ["world"])
    assert not store.claim_feed("world", "n2", T0, T0 + LEASE, T0)  # checked: not due
    due_by = T0 + timedelta(minutes=15)
    assert store.claim_feed("world", "n2", due_by, due_by + LEASE, due_by)


def test_many_nodes_claiming_at_once_never_share_a_host_or_a_feed(store_url: str) -> None:
    """Each claimer as a separate process would be: its own engine and connections."""
    setup = SQLStore.open(store_url)
    due_articles(setup, {f"h{n}.example": 2 for n in range(12)})
    setup.close()
    stores = [SQLStore.open(store_url) for _ in range(4)]
    start = threading.Barrier(len(stores))

    def take(n: int) -> tuple[list[str], bool]:
        start.wait()
        feed = stores[n].claim_feed("world", f"n{n}", T0, T0 + LEASE, T0)
        held: list[str] = []
        for _ in range(4):
            more = claim(f"n{n}", nodes=4, limit=2, skip=frozenset(held))
            held += stores[n].claim_hosts(more)
        return held, feed

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            answers = list(pool.map(take, range(len(stores))))
        # Rows another claimer had locked were skipped, not waited for: a later claim
        # finds what is left.
        rest = stores[0].claim_hosts(claim("late", limit=12))
    finally:
        for opened in stores:
            opened.close()
    every = [host for held, _ in answers for host in held]
    assert len(every) == len(set(every)) >= 6  # none twice, never an error
    assert sorted(every + rest) == sorted(f"h{n}.example" for n in range(12))
    assert sum(feed for _, feed in answers) == 1


def test_upgrading_gives_each_stored_article_its_host(store_url: str) -> None:
    from alembic import command

    from monitor.store.engine import create_store_engine
    from monitor.store.migrate import alembic_config

    engine = create_store_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0009")
        conn.exec_driver_sql(
            "INSERT INTO articles (feed, url, current_url, status, first_seen, last_in_feed,"
            " next_check, versions) VALUES ('f', 'https://x/a', 'https://Moved.Example/a',"
            " 'active', '2024-05-01 12:00:00+00:00', '2024-05-01 12:00:00+00:00',"
            " '2024-05-01 12:00:00+00:00', 0)"
        )
    engine.dispose()
    with SQLStore.open(store_url) as upgraded:
        (article,) = upgraded.list_articles()
        assert upgraded.due_article_ids(T0, hosts=["moved.example"]) == [(article.id, "f")]
        assert upgraded.claim_hosts(claim("n1")) == ["moved.example"]


def test_a_database_newer_than_this_code_is_refused_in_one_line(store_url: str) -> None:
    from sqlalchemy import text

    with SQLStore.open(store_url) as store, store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(StoreError) as refused:
        SQLStore.open(store_url)
    message = str(refused.value)
    assert "revision 0099" in message and "upgrade newsmonitor" in message
    assert "\n" not in message


def test_a_feed_released_to_rest_is_claimed_by_nobody_until_then(store: SQLStore) -> None:
    due_by = T0 + timedelta(seconds=1)
    assert store.claim_feed("world", "n1", T0, T0 + LEASE, due_by)
    rest = T0 + timedelta(seconds=30)
    store.release_claims("n1", "feed", ["world"], rest_until=rest)
    later = T0 + timedelta(seconds=29)
    assert not store.claim_feed("world", "n2", later, later + LEASE, later)
    assert not store.claim_feed("world", "n1", later, later + LEASE, later)  # nor its own
    assert store.renew_claims("n1", later, later + LEASE) == 0  # no heartbeat keeps it
    after = T0 + timedelta(seconds=31)
    assert store.claim_feed("world", "n2", after, after + LEASE, after)


def test_a_round_takes_each_claimed_hosts_most_overdue_articles_of_the_feeds_asked(
    store: SQLStore,
) -> None:
    due_articles(store, {"a.example": 5, "b.example": 2, "c.example": 4})
    store.add_article(new_article("https://a.example/later", next_check=T0 + timedelta(hours=1)))
    other = store.add_article(
        replace(new_article("https://a.example/other", next_check=T0), feed="gone")
    )
    round_ = store.due_on_hosts(T0, ["a.example", "b.example"], {"example"}, per_host=3)
    hosts = [host for _, _, host in round_]
    assert hosts.count("a.example") == 3 and hosts.count("b.example") == 2
    assert "c.example" not in hosts and other.id not in {i for i, _, _ in round_}
    overdue = {a.id: a.next_check for a in store.due_articles(T0)}
    times = [overdue[i] for i, _, _ in round_]
    assert times == sorted(times)  # most overdue first
    # The three of a.example are its three most overdue (all at one time: lowest ids).
    a_ids = sorted(i for i, _, h in round_ if h == "a.example")
    first_of_a = sorted(i for i, t in overdue.items() if t == times[0])[:3]
    assert a_ids == first_of_a
    assert len(store.due_on_hosts(T0, ["a.example", "c.example"], {"example"}, 3, limit=4)) == 4
    assert store.due_on_hosts(T0, ["a.example"], {"gone"}, 3) == [(other.id, "gone", "a.example")]
    assert store.due_on_hosts(T0, [], {"example"}, 3) == []
