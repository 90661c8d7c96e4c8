"""Phrase search and batched reads (monitor/store/evidence.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text

from monitor.models import Article, ChangeKind, RawBody, Recording
from monitor.store.evidence import contains_phrase, index_words, phrase_pattern
from monitor.store.sql import SQLStore
from tests.store.samples import T0, new_article, new_change, new_version


def stored(store: SQLStore, url: str, texts: list[str], feed: str = "example") -> Article:
    """An article with one version per text, recorded the way the pipeline does."""
    article = store.add_article(new_article(url, feed=feed))
    for number, content in enumerate(texts, start=1):
        version = new_version(article.id, number, content, content_hash=f"{number:064x}")
        article = replace(article, versions=number)
        store.record(Recording(article, [], version))
        article = replace(article, revision=article.revision + 1)
    return article


def test_deleted_text_is_found_with_where_it_appeared_and_disappeared(store: SQLStore) -> None:
    edited = stored(
        store,
        "https://news.example/a",
        [
            "The minister resigned on Monday.",
            "The minister resigned on Monday. Police said 30,000 people marched.",
            "The minister resigned on Monday. Police said 40,000 people marched.",
            "The minister resigned.",
        ],
    )
    stored(store, "https://news.example/b", ["Nothing about crowds here."])

    (found,) = store.search_phrase("30,000 people")
    assert found.article.id == edited.id
    assert [s.number for s in found.versions if s.contains] == [2]
    assert found.first_version.number == 2
    assert found.removed_in is not None and found.removed_in.number == 3

    (monday,) = store.search_phrase("on monday")  # case does not matter
    assert monday.first_version.number == 1
    assert monday.removed_in is not None and monday.removed_in.number == 4


def test_phrase_is_exact_whole_words_in_order_on_both_databases(store: SQLStore) -> None:
    stored(store, "https://news.example/order", ["people said police"])
    stored(store, "https://news.example/part", ["The president spoke to presidents."])
    stored(store, "https://news.example/spaced", ["Police\n\nsaid so."])

    assert store.search_phrase("police said people") == []  # the words, not in that order
    assert store.search_phrase("preside") == []  # inside a longer word
    (spaced,) = store.search_phrase("police said")  # a line break is a space
    assert spaced.article.url == "https://news.example/spaced"
    assert {h.article.url for h in store.search_phrase("president")} == {
        "https://news.example/part"
    }


def test_search_covers_versions_stored_before_the_index_existed(store_url: str) -> None:
    from alembic import command

    from monitor.store.engine import create_store_engine
    from monitor.store.migrate import alembic_config

    with SQLStore.open(store_url) as store:
        stored(store, "https://news.example/old", ["An older text with a lost sentence."])
    engine = create_store_engine(store_url)
    with engine.begin() as conn:  # back to before the index, then up again: it is refilled
        command.downgrade(alembic_config(conn), "0007")
    engine.dispose()
    with SQLStore.open(store_url) as store:
        (found,) = store.search_phrase("lost sentence")
        assert found.article.url == "https://news.example/old"


def test_text_too_large_for_a_tsvector_is_still_found(store: SQLStore) -> None:
    # PostgreSQL indexes it as NULL (too many words for positions); SQLite indexes it whole.
    filler = " ".join(f"w{n}" for n in range(17_000))
    stored(store, "https://news.example/long", [f"{filler} the needle at the end"])
    (found,) = store.search_phrase("needle at the end")
    assert found.article.url == "https://news.example/long"


def test_search_filters_by_feed_and_since(store: SQLStore) -> None:
    stored(store, "https://news.example/w", ["A storm hit the coast."], feed="world")
    stored(store, "https://news.example/l", ["A storm hit the coast.", "Calm."], feed="local")

    assert [h.article.feed for h in store.search_phrase("storm hit", feed="local")] == ["local"]
    # Both had the phrase in version 1 (T0 + 1h); nobody has it from T0 + 2h on.
    assert len(store.search_phrase("storm hit", since=T0 + timedelta(hours=1))) == 2
    assert store.search_phrase("storm hit", since=T0 + timedelta(hours=2)) == []


def test_a_phrase_without_words_is_refused(store: SQLStore) -> None:
    with pytest.raises(ValueError, match="no words"):
        store.search_phrase(" — ")


def test_index_is_written_in_the_same_transaction_as_the_version(store: SQLStore) -> None:
    stored(store, "https://news.example/t", ["Counted once."])
    with store.engine.connect() as conn:
        indexed = conn.execute(text("SELECT count(*) FROM version_words")).scalar()
    assert indexed == 1


def test_batched_reads_return_everything_in_order(store: SQLStore) -> None:
    first = stored(store, "https://news.example/1", ["a", "b", "c"])
    second = stored(store, "https://news.example/2", ["d", "e"])
    store.record(
        Recording(
            replace(second, revision=second.revision),
            [new_change(second, ChangeKind.REMOVED, T0)],
        )
    )

    assert [a.id for a in store.iter_articles(batch=1)] == [first.id, second.id]
    assert [(v.article_id, v.number, v.text) for v in store.iter_versions(batch=2)] == [
        (first.id, 1, "a"),
        (first.id, 2, "b"),
        (first.id, 3, "c"),
        (second.id, 1, "d"),
        (second.id, 2, "e"),
    ]
    assert [c.kind for c in store.iter_changes(batch=1)] == [ChangeKind.REMOVED]


@pytest.mark.parametrize(
    ("content", "phrase", "expected"),
    [
        ("Straße gesperrt", "STRASSE gesperrt", True),  # casefolded on both sides
        ("30,000 marched", "30 000", False),  # punctuation is part of the phrase
        ("e-mail me", "e-mail", True),
        ("said: “no”", "said: “no”", True),
        ("mail", "e-mail", False),
    ],
)
def test_phrase_matching(content: str, phrase: str, expected: bool) -> None:
    assert contains_phrase(content, phrase_pattern(phrase)) is expected
    if expected:  # what the index holds of the text includes the phrase's words, in order
        assert index_words(phrase) in index_words(content)


def test_reindex_adds_versions_a_bulk_load_left_out(store: SQLStore) -> None:
    stored(store, "https://news.example/r", ["Indexed when recorded."])
    with store.engine.begin() as conn:  # a bulk load, as bench/ does it: no index
        if conn.dialect.name == "sqlite":  # a contentless FTS5 table is emptied so
            conn.execute(text("INSERT INTO version_words (version_words) VALUES ('delete-all')"))
        else:
            conn.execute(text("DELETE FROM version_words"))
    assert store.search_phrase("indexed when") == []
    assert store.reindex_search() == 1
    assert len(store.search_phrase("indexed when")) == 1
    assert store.reindex_search() == 0


def test_captures_keep_their_exchange_and_filter_by_feed_and_time(store: SQLStore) -> None:
    headers = (("content-type", "text/html; charset=utf-8"), ("etag", '"v1"'))
    exchange = RawBody(
        b"<p>Hi</p>", "text/html", request_url="http://x/a?ref=rss", status=200, headers=headers
    )
    world = store.add_article(new_article("https://news.example/w", feed="world"))
    store.record(Recording(replace(world, versions=1), [], new_version(world.id, 1), exchange))
    local = store.add_article(new_article("https://news.example/l", feed="local"))
    store.record(
        Recording(replace(local, versions=1), [], new_version(local.id, 1), RawBody(b"old"))
    )
    stored(store, "https://news.example/n", ["no raw body kept"], feed="local")

    (version, raw), older = list(store.iter_captures(batch=1))
    assert (version.article_id, raw) == (world.id, exchange)
    assert older[1].content == b"old" and older[1].status is None and older[1].headers is None
    assert [v.article_id for v, _ in store.iter_captures(feed="local")] == [local.id]
    assert list(store.iter_captures(since=T0 + timedelta(hours=2))) == []


def test_a_limited_search_lists_the_newest_and_keeps_each_listed_history_whole(
    store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL reads candidates in pages: pages of two rows here, so that most searches
    # below take several.
    monkeypatch.setattr("monitor.store.evidence._CANDIDATE_PAGE", 2)
    # Five articles have the phrase; their versions are stored one article after another,
    # so article 5's are the newest. Article 4 had it in v1, lost it in v2, has it again in
    # v3: a limited search stops checking candidates early, yet its history stays whole.
    texts = {
        1: ["A flood warning was issued."],
        2: ["Calm.", "A flood warning was issued."],
        3: ["A flood warning was issued.", "Lifted."],
        4: ["A flood warning was issued.", "Lifted.", "A flood warning was issued again."],
        5: ["Calm.", "Still calm.", "Now a flood warning was issued."],
    }
    ids = [stored(store, f"https://news.example/{n}", texts[n]).id for n in texts]

    every = store.search_phrase("flood warning")
    assert [h.article.id for h in every] == ids[::-1]  # newest first
    first = store.search_phrase("flood warning", limit=2)
    assert [h.article.id for h in first] == [ids[4], ids[3]]
    assert first == every[:2]
    assert [(s.number, s.contains) for s in first[1].versions] == [(1, True), (2, False), (3, True)]
    assert [(a.number, b.number if b else None) for a, b in first[1].spans] == [(1, 2), (3, None)]
    second = store.search_phrase("flood warning", limit=2, offset=2)
    assert second == every[2:4]
    assert store.search_phrase("flood warning", limit=2, offset=4) == every[4:]
    assert store.search_phrase("flood warning", limit=2, offset=5) == []
    # `since` picks the articles by a version with the phrase (only articles 5 and 4 have
    # it in a version 3, at T0 + 3 h); their histories are still whole.
    late = T0 + timedelta(hours=3)
    assert store.search_phrase("flood warning", since=late, limit=5) == every[:2]
    assert store.search_phrase("flood warning", since=late, limit=1) == every[:1]
    assert store.search_phrase("flood warning", since=late) == every[:2]
    assert store.search_phrase("flood warning", feed="other", limit=3) == []


def test_304_runs_are_one_row_per_version_and_refer_to_the_capture_they_confirm(
    store: SQLStore,
) -> None:
    from monitor.models import Revisit

    article = store.add_article(new_article("https://news.example/r"))
    for number, raw in ((1, RawBody(b"<p>one</p>", "text/html")), (2, None)):
        article = replace(article, versions=number)
        version = new_version(article.id, number, f"Text {number}.", url="https://news.example/r")
        store.record(Recording(article, [], version, raw))  # v2 came from the feed: no raw
        article = replace(article, revision=article.revision + 1)

    def seen(version: int, hours: int, etag: str) -> Revisit:
        at = T0 + timedelta(hours=hours)
        headers = (("etag", etag), ("date", f"hour {hours}"))
        return Revisit(
            article.id,
            version,
            at,
            "https://news.example/r",
            at,
            "https://news.example/r",
            first_headers=headers,
            last_headers=headers,
            etag=etag,
        )

    store.record_revisits([seen(1, 2, '"a"')])
    store.record_revisits([seen(1, 3, '"a"').then(seen(1, 4, '"b"')), seen(2, 5, '"c"')])
    store.record_revisits([seen(2, 6, '"c"')])

    kept = list(store.iter_revisits())
    assert [(r.version, r.count, r.first_at, r.last_at, r.etag) for r, _ in kept] == [
        (1, 3, T0 + timedelta(hours=2), T0 + timedelta(hours=4), '"b"'),
        (2, 2, T0 + timedelta(hours=5), T0 + timedelta(hours=6), '"c"'),
    ]
    first, _ = kept[0]
    assert first.first_headers == (("etag", '"a"'), ("date", "hour 2"))
    assert first.last_headers == (("etag", '"b"'), ("date", "hour 4"))
    # Both runs confirm the page captured as version 1 (version 2's text is the feed's).
    assert [(c.number, c.fetched_at) for _, c in kept] == [(1, T0 + timedelta(hours=1))] * 2
    later = list(store.iter_revisits(since=T0 + timedelta(hours=5)))
    assert [r.version for r, _ in later] == [2]
    assert list(store.iter_revisits(feed="other")) == []
