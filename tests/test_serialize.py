"""Models as JSON (monitor/serialize.py): one timestamp format, each model's fields once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from monitor.models import (
    Alert,
    AlertStatus,
    Article,
    Change,
    ChangeKind,
    CheckReport,
    DiffStats,
    Drift,
    FeedReport,
    FeedState,
    FeedStatus,
    RelayReport,
    Seed,
    SeedLink,
    Significance,
    TextSource,
    Version,
)
from monitor.serialize import (
    CHANGE_FIELDS,
    alert_to_json,
    article_to_json,
    change_to_json,
    feed_to_json,
    format_timestamp,
    history_to_json,
    json_value,
    report_to_json,
    seeds_to_json,
    timeline_to_json,
    version_to_json,
)

NOW = datetime(2026, 12, 4, 21, 21, 43, tzinfo=UTC)
CHANGE = Change(
    kind=ChangeKind.CHANGED,
    article_id=7,
    feed="world",
    url="https://news.example/a",
    detected_at=NOW,
    title="Headline",
    version=2,
    previous_version=1,
    significance=Significance.MAJOR,
    tags=("numbers",),
    stats=DiffStats(words_added=1, words_removed=1, sentences_edited=1, similarity=0.9),
    seed_id="000_abc",
    drift=Drift("000_abc", similarity=0.8, numbers_added=("40,000",)),
    id=57,
)
ARTICLE = Article(7, "world", "https://x/a", "https://x/a", first_seen=NOW, last_in_feed=NOW)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (NOW, "2026-12-04T21:21:43Z"),
        (NOW.replace(microsecond=123456), "2026-12-04T21:21:43.123456Z"),
        (NOW.astimezone(timezone(timedelta(hours=2))), "2026-12-04T21:21:43Z"),
        (NOW.replace(tzinfo=None), "2026-12-04T21:21:43Z"),  # stored times are UTC
        (None, None),
    ],
)
def test_timestamps_are_rfc3339_utc_with_z(moment: datetime | None, expected: str | None) -> None:
    assert format_timestamp(moment) == expected


def test_a_change_has_every_field_once_in_document_order() -> None:
    document = change_to_json(CHANGE)
    assert tuple(document) == CHANGE_FIELDS
    assert document["kind"] == "changed" and type(document["kind"]) is str
    assert document["significance"] == "major"
    assert document["detected_at"] == "2026-12-04T21:21:43Z"
    assert document["stats"]["similarity"] == 0.9
    assert document["drift"]["numbers_added"] == ["40,000"]
    assert json.loads(json.dumps(document)) == document


def test_a_bare_change_has_nulls_and_empty_lists() -> None:
    bare = Change(ChangeKind.REMOVED, 1, "f", "https://x/", NOW, detail="HTTP 410")
    document = change_to_json(bare)
    assert document["significance"] is None and document["stats"] is None
    assert document["drift"] is None and document["tags"] == []
    assert document["detail"] == "HTTP 410"


def test_the_check_document_carries_the_relay_only_when_there_was_one() -> None:
    report = CheckReport(
        feeds=(FeedReport("world", FeedStatus.OK, 200, 3),),
        changes=(CHANGE,),
        articles_checked=3,
        errors=("https://x/: HTTP 500",),
    )
    document = report_to_json(report)
    assert list(document) == [
        "schema",
        "feeds",
        "changes",
        "articles_checked",
        "errors",
        "warnings",
        "store_errors",
    ]
    assert document["feeds"] == [
        {
            "name": "world",
            "status": "ok",
            "http_status": 200,
            "entries": 3,
            "error": None,
            "warning": None,
        }
    ]
    assert document["changes"] == [change_to_json(CHANGE)]
    assert document["errors"] == ["https://x/: HTTP 500"]
    relayed = report_to_json(report, RelayReport(delivered=2, errors=["boom"]))
    assert relayed["alerts"] == {"delivered": 2, "retried": 0, "dead": 0, "errors": ["boom"]}


def test_every_time_in_the_read_documents_ends_in_z() -> None:
    article = replace(ARTICLE, last_checked=NOW, next_check=NOW + timedelta(minutes=20))
    version = Version(
        7, 1, "h" * 64, "text", NOW, "https://x/a", published=NOW, source=TextSource.PAGE
    )
    alert = Alert(1, "evt_1", "hook", "article.new", {}, NOW, AlertStatus.DELIVERED)
    documents = [
        article_to_json(article),
        version_to_json(version),
        history_to_json(article, [version], [CHANGE]),
        alert_to_json(alert),
        feed_to_json(FeedState("world", "https://x/rss", last_checked=NOW), "world", "u"),
    ]
    times = [value for document in documents for value in _strings(document) if "T21:" in value]
    assert len(times) >= 10 and all(value.endswith("Z") for value in times)
    assert version_to_json(version)["hash"] == "h" * 64
    assert alert_to_json(alert)["type"] == "article.new" and "payload" not in alert_to_json(alert)


def test_a_feed_never_checked_is_all_empty() -> None:
    assert feed_to_json(None, "world", "https://x/rss") == {
        "name": "world",
        "url": "https://x/rss",
        "last_checked": None,
        "last_success": None,
        "last_status": None,
        "last_error": None,
        "failures": 0,
        "next_due": None,
        "entries": None,
    }


def test_seeds_and_their_timeline() -> None:
    seed = Seed("000_abc", "seeds/000_abc.md", "text", title="Seed", feeds=("world",))
    article = ARTICLE
    link = SeedLink(7, "000_abc", 0.9, ("same url",), NOW, CHANGE.drift, 2)
    linked = SimpleNamespace(article=article, link=link)
    version = Version(7, 2, "h", "text", NOW, "https://x/a", title="Headline")
    point = SimpleNamespace(article=article, version=version, drift=CHANGE.drift)
    (overview,) = seeds_to_json([(seed, [linked])])
    assert overview["feeds"] == ["world"]
    (item,) = overview["articles"]
    assert item["linked_at"] == "2026-12-04T21:21:43Z" and item["reasons"] == ["same url"]
    timeline = timeline_to_json(seed, [linked], [point])
    assert timeline["seed"] == {"id": "000_abc", "title": "Seed", "url": None}
    assert timeline["links"] == overview["articles"]
    assert timeline["timeline"] == [
        {
            "article_id": 7,
            "version": 2,
            "fetched_at": "2026-12-04T21:21:43Z",
            "title": "Headline",
            "drift": json_value(CHANGE.drift),
        }
    ]


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []
