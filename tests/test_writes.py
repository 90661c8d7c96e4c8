"""The check's writes on both stores: news at once, "nothing new" in batches."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor import writes
from monitor.config import settings_from_dict
from monitor.errors import ConflictError, StoreError
from monitor.ledger import Ledger
from monitor.models import Article, Change, ChangeKind, FeedState, Version
from monitor.store import Store
from monitor.store.runner import StoreRunner
from monitor.writes import ARTICLE_FIELDS, Writer, changed_fields

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def new_article(url: str) -> Article:
    return Article(0, "news", url, url, NOW, NOW, next_check=NOW)


def writer(store: Store) -> Writer:
    return Writer(settings_from_dict({}), store, StoreRunner(store))


def test_changed_fields() -> None:
    article = new_article("https://x.org/a")
    assert changed_fields(None, article) == ARTICLE_FIELDS
    assert "revision" not in ARTICLE_FIELDS and "id" not in ARTICLE_FIELDS
    later = replace(article, last_checked=NOW, etag='"e"')
    assert changed_fields(article, later) == ("last_checked", "etag")
    assert changed_fields(article, article) == ()


def test_deferred_updates_wait_for_the_flush_and_feeds_follow(store: Store) -> None:
    stored = store.add_article(new_article("https://x.org/a"))
    write = writer(store)
    run = Ledger(NOW)

    async def scenario() -> None:
        later = replace(stored, last_checked=NOW, next_check=NOW + timedelta(hours=1))
        await write.defer(run, later, stored)
        write.save_feed(FeedState(name="news", url="https://x.org/feed", failures=0))
        # Not written yet, but this monitor sees its own pending update.
        assert store.get_article(stored.id) == stored
        assert write.fresh(stored) == later
        assert store.get_feed("news") is None
        await write.flush(run)

    asyncio.run(scenario())
    saved = store.get_article(stored.id)
    assert saved is not None and saved.next_check == NOW + timedelta(hours=1)
    assert store.get_feed("news") is not None
    assert run.store_errors == []


def test_claim_keeps_one_article_to_one_check_at_a_time(store: Store) -> None:
    stored = store.add_article(new_article("https://x.org/a"))
    write = writer(store)
    first, second = Ledger(NOW), Ledger(NOW)
    assert write.claim(stored, first) == stored
    assert write.claim(stored, first) is None  # this pass has it already
    assert write.claim(stored, second) is None  # another pass is checking it now
    write.release(stored.id)
    assert write.claim(stored, second) == stored
    assert write.claim(stored, first) is None  # checked by that pass already


def test_commit_of_nothing_new_for_a_new_article_inserts_the_row(store: Store) -> None:
    write = writer(store)
    run = Ledger(NOW)
    asyncio.run(write.commit(new_article("https://x.org/gone"), run, []))
    [article] = store.list_articles()
    assert article.url == "https://x.org/gone" and article.id in run.checked
    # Known meanwhile (another feed, another process): not inserted twice.
    asyncio.run(write.commit(new_article("https://x.org/gone"), Ledger(NOW), []))
    assert len(store.list_articles()) == 1


class Watched:
    """``store``, noting on which thread each batch of article updates was written, and the
    size of each batch of news."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.threads: list[str] = []
        self.sizes: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def update_articles(self, batch: list[Article], only: tuple[str, ...] = ()) -> list[int]:
        self.threads.append(threading.current_thread().name)
        return self.store.update_articles(batch, only)

    def record_batch(self, recordings: list) -> list:
        self.sizes.append(len(recordings))
        return self.store.record_batch(recordings)


@pytest.mark.parametrize("crowded", [False, True])
def test_a_batch_goes_to_a_thread_while_many_requests_wait(store: Store, crowded: bool) -> None:
    # Issue 16: hundreds of rows in place hold every answer the loop has to take meanwhile;
    # with few requests in flight, in place costs less (no contention for the GIL).
    watched = Watched(store)
    runner = StoreRunner(watched)  # type: ignore[arg-type]
    write = Writer(settings_from_dict({}), watched, runner, lambda: crowded)  # type: ignore[arg-type]
    stored = store.add_article(new_article("https://x.org/a"))
    run = Ledger(NOW)

    async def scenario() -> None:
        await write.defer(run, replace(stored, last_checked=NOW), stored)
        await write.flush(run)

    asyncio.run(scenario())
    runner.close()
    saved = store.get_article(stored.id)
    assert saved is not None and saved.last_checked == NOW
    (thread,) = watched.threads
    assert (thread != "MainThread") == (crowded or not store.in_place)


async def _first_version(write: Writer, run: Ledger, article: Article, text: str) -> None:
    change = Change(ChangeKind.NEW, article.id, article.feed, article.url, NOW, version=1)
    version = Version(article.id, 1, f"hash of {text}", text, NOW, article.url)
    await write.commit(replace(article, versions=1), run, [change], version)


def test_news_waits_for_company_and_the_flush_writes_what_waits(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # News is written together, new articles' and known ones' alike: SQLite's search index
    # and commit cost several times as much in a transaction alone (issue 16).
    monkeypatch.setattr(writes, "RECORD_WAIT_S", 60.0)  # only the flush ends the wait
    batches = Watched(store)
    write = Writer(settings_from_dict({}), batches, StoreRunner(batches))  # type: ignore[arg-type]
    known = store.add_article(new_article("https://x.org/known"))
    run = Ledger(NOW)

    async def scenario() -> None:
        fresh = [
            _first_version(write, run, new_article(f"https://x.org/{n}"), f"Story {n}.")
            for n in range(3)
        ]
        taken = new_article("https://x.org/taken")
        lost = asyncio.ensure_future(_first_version(write, run, taken, "Lost."))
        waiting = asyncio.gather(*fresh)
        await asyncio.sleep(0.1)
        assert batches.sizes == []  # waiting for company
        store.add_article(taken)  # by another process, meanwhile: that one loses the race
        news = asyncio.ensure_future(_first_version(write, run, known, "Known."))
        await asyncio.sleep(0.1)
        # SQLite: the known article's news waits too. PostgreSQL locks rows: it goes at once
        # (another node may hold its row), with what waits.
        assert batches.sizes == ([] if store.in_place else [5])
        await write.flush(run)  # the pass's end
        await asyncio.gather(waiting, news)
        with pytest.raises(ConflictError):
            await lost

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert batches.sizes == [5]
    assert len(run.changes) == 4
    assert {a.url for a in store.list_articles() if a.versions == 1} == {
        "https://x.org/0",
        "https://x.org/1",
        "https://x.org/2",
        "https://x.org/known",
    }


def test_a_full_batch_is_written_without_waiting(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writes, "RECORD_WAIT_S", 60.0)
    batches = Watched(store)
    write = Writer(settings_from_dict({}), batches, StoreRunner(batches))  # type: ignore[arg-type]
    fresh = [new_article(f"https://x.org/{n}") for n in range(writes.RECORD_BATCH)]
    run = Ledger(NOW)

    async def scenario() -> None:
        await asyncio.gather(*(_first_version(write, run, a, a.url) for a in fresh))

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert batches.sizes == [writes.RECORD_BATCH]
    assert [a.versions for a in store.list_articles()] == [1] * writes.RECORD_BATCH


def test_a_conflict_after_a_known_articles_first_write_is_redone_alone(store: Store) -> None:
    # A known article's news is batched without a savepoint: its conditional update comes
    # first. A conflict after it (the version exists) undoes the batch, then
    # each is written alone, and only that one fails.
    batches = Watched(store)
    write = Writer(settings_from_dict({}), batches, StoreRunner(batches))  # type: ignore[arg-type]
    first = store.add_article(new_article("https://x.org/first"))
    second = store.add_article(new_article("https://x.org/second"))
    run = Ledger(NOW)
    asyncio.run(_first_version(write, run, second, "Second."))
    again = store.get_article(second.id)
    assert again is not None and again.versions == 1
    stale = replace(again, versions=0)  # as if version 1 were still to come
    batches.sizes.clear()

    async def scenario() -> None:
        ok = _first_version(write, run, first, "First.")
        clash = _first_version(write, run, stale, "Second, again.")
        outcomes = await asyncio.gather(ok, clash, return_exceptions=True)
        assert outcomes[0] is None
        assert isinstance(outcomes[1], ConflictError)

    asyncio.run(asyncio.wait_for(scenario(), 30))
    # The batch (on PostgreSQL, news that came before its write began), undone; then each
    # alone.
    assert batches.sizes == [2, 1, 1]
    assert [v.text for v in store.list_versions(first.id)] == ["First."]
    assert [v.text for v in store.list_versions(second.id)] == ["Second."]
    assert run.store_errors == []


class Refusing(Watched):
    """Refuses every batch that holds the article at ``url`` (a page too big for the disk
    left, say)."""

    def __init__(self, store: Store, url: str) -> None:
        super().__init__(store)
        self.url = url

    def record_batch(self, recordings: list) -> list:
        self.sizes.append(len(recordings))
        if any(recording.article.url == self.url for recording, _ in recordings):
            raise StoreError("database or disk is full")
        return self.store.record_batch(recordings)


def test_one_articles_failed_write_fails_only_its_own(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writes, "RECORD_WAIT_S", 60.0)  # the eighth article ends the wait
    refusing = Refusing(store, "https://x.org/1")
    write = Writer(settings_from_dict({}), refusing, StoreRunner(refusing))  # type: ignore[arg-type]
    run = Ledger(NOW)
    urls = [f"https://x.org/{n}" for n in range(writes.RECORD_BATCH)]

    async def scenario() -> list[BaseException | None]:
        news = [_first_version(write, run, new_article(url), url) for url in urls]
        return await asyncio.gather(*news, return_exceptions=True)

    outcomes = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert [isinstance(outcome, StoreError) for outcome in outcomes] == [
        url == refusing.url for url in urls
    ]
    # All together first; refused, each alone.
    assert refusing.sizes == [len(urls)] + [1] * len(urls)
    assert {a.url for a in store.list_articles()} == set(urls) - {refusing.url}
    assert len(run.changes) == len(urls) - 1
