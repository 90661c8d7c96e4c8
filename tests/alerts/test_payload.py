"""The event payload and message bodies every channel is built from (alerts/payload.py)."""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from monitor.alerts import payload as payload_module
from monitor.alerts.payload import (
    PAYLOAD_VERSION,
    build_event,
    digest_id,
    event_id_for,
    event_type,
    html_body,
    message_document,
    subject,
    text_body,
)
from monitor.models import Change, ChangeKind, Drift, Significance
from tests.alerts.samples import NOW, document, message
from tests.render.contrast import contrast_ratio, text_colors, text_runs
from tests.render.documents import TagCollector


def test_event_has_text_and_link_free_escaped_html_diff() -> None:
    change, doc = document()
    event = build_event(change, event_id_for(change, "hook"), doc, NOW)
    assert event["version"] == PAYLOAD_VERSION == 1
    assert event["type"] == "article.changed"
    assert event["id"] == event_id_for(change, "hook")
    assert event["time"] == "2026-11-28T12:00:00Z"
    assert event["feed"] == "world"
    assert event["article"] == {
        "id": 7,
        "url": "https://news.example/world/1",
        "title": "Council approves <b>more</b> homes",
    }
    assert event["versions"] == {"previous": 1, "current": 2, "reverted_to": None}
    assert event["significance"] == str(change.significance)
    assert "numbers" in event["tags"]
    assert event["stats"]["words_added"] == change.stats.words_added  # type: ignore[union-attr]
    assert "seed" not in event
    text, html = event["diff"]["text"], event["diff"]["html"]
    assert "{+40,000+}" in text and "[-30,000-]" in text
    assert "<script>" in text  # plain text is not HTML: nothing to escape
    assert "<a " not in html and "href" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>more</b>" not in html and "&lt;b&gt;more&lt;/b&gt;" in html
    assert "https://news.example/world/1" in html
    assert json.loads(json.dumps(event)) == event


def test_event_of_a_seeded_article_carries_the_drift() -> None:
    change, _ = document()
    drift = Drift("000_abc", similarity=0.82, numbers_added=("40,000",))
    event = build_event(replace(change, seed_id="000_abc", drift=drift), "evt_x", None, NOW)
    assert event["seed"]["id"] == "000_abc"
    assert event["seed"]["drift"]["similarity"] == 0.82
    assert event["seed"]["drift"]["numbers_added"] == ["40,000"]
    assert "diff" not in event


@pytest.mark.parametrize("kind", list(ChangeKind))
def test_event_type_per_kind(kind: ChangeKind) -> None:
    change = Change(kind=kind, article_id=1, feed="f", url="https://x/", detected_at=NOW)
    assert event_type(change) == f"article.{kind}"


def test_event_ids_are_deterministic_and_documented() -> None:
    change = Change(ChangeKind.CHANGED, 1, "f", "https://x/", detected_at=NOW, id=57)
    key = f"57:{NOW.isoformat()}:hook".encode()
    expected = "evt_" + hashlib.sha256(key).hexdigest()[:24]
    assert event_id_for(change, "hook") == expected == event_id_for(change, "hook")
    assert event_id_for(change, "mail") != expected
    # A store started afresh numbers changes from 1 again: its events get new ids.
    later = replace(change, detected_at=NOW + timedelta(days=1))
    assert event_id_for(later, "hook") != expected
    assert digest_id(["b", "a"]) == digest_id(["a", "b"]) != digest_id(["a"])


def test_subjects() -> None:
    change, doc = document()
    event = build_event(replace(change, significance=Significance.MAJOR), "e", doc, NOW)
    assert subject([event]) == "[major] world: Council approves <b>more</b> homes"
    removed = build_event(
        Change(ChangeKind.REMOVED, 1, "world", "https://x/", NOW, title="T\nline"), "e", None, NOW
    )
    assert subject([removed]) == "[removed] world: T line"
    assert subject([event] * 5) == "Newsmonitor digest: 5 changes"
    long = build_event(replace(change, title="x" * 400), "e", None, NOW)
    assert len(subject([long])) == 150


def test_mail_bodies_escape_and_link_only_the_articles() -> None:
    change, doc = document()
    changed = build_event(change, "evt_a", doc, NOW)
    moved = build_event(
        Change(
            ChangeKind.MOVED,
            8,
            "world",
            "https://x/<i>",
            NOW,
            title="<img src=x onerror=alert(1)>",
            detail="moved to https://x/new",
        ),
        "evt_b",
        None,
        NOW,
    )
    single = message(changed)
    text = text_body(single)
    assert "[-30,000-]" in text and "evt_1" in text
    assert "URL: https://news.example/world/1" in text  # the text part shows it as is
    html = html_body(single)
    assert html.startswith("<!doctype html>") and "<style" not in html and "<script>" not in html
    # Issue 14: the article is a link in the mail (the diff fragment itself has none).
    assert _hrefs(html) == ["https://news.example/world/1"]
    digest = message(changed, moved, event_id="dig_1")
    html = html_body(digest)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "moved to https://x/new" in html and "Newsmonitor digest: 2 changes" in html
    assert "moved to https://x/new" in text_body(digest)
    assert _hrefs(html) == ["https://news.example/world/1", "https://x/<i>"]
    assert 'href="https://x/&lt;i&gt;"' in html
    hostile = build_event(replace(change, url="javascript:alert(1)"), "evt_c", None, NOW)
    assert _hrefs(html_body(message(hostile))) == []


def _hrefs(html: str) -> list[str]:
    parser = TagCollector()
    parser.feed(html)
    parser.close()
    return [str(dict(attrs)["href"]) for tag, attrs in parser.tags if tag == "a"]


def _every_kind_of_mail() -> list[str]:
    """HTML mails for every event kind, with and without a diff, alone and in a digest."""
    change, doc = document()
    events = [build_event(replace(change, significance=s), "e", doc, NOW) for s in Significance]
    events += [
        build_event(replace(change, kind=kind, significance=None), "e", None, NOW)
        for kind in ChangeKind
    ]
    return [html_body(message(event)) for event in events] + [html_body(message(*events))]


def test_mail_text_has_aa_contrast_and_wraps() -> None:
    """Every text colour of the mail, 4.5:1 at least on its background (WCAG AA); long URLs
    and words wrap anywhere."""
    seen: set[str] = set()
    for html in _every_kind_of_mail():
        for run in text_runs(html):
            assert run.contrast >= 4.5, (run.text, run.look, round(run.contrast, 2))
            assert run.look.overflow_wrap == "anywhere", run
            seen.add(run.look.color)
    declared = text_colors(inspect.getsource(payload_module))
    assert declared <= seen, declared - seen
    badges = [contrast_ratio("#ffffff", color) for color in payload_module._KIND_COLORS.values()]
    assert min(badges) >= 4.5


def test_message_document_single_and_digest() -> None:
    change, _ = document()
    event = build_event(change, "evt_a", None, NOW)
    assert message_document(message(event)) == event
    digest = message_document(message(event, event, event_id="dig_9"))
    assert digest == {
        "version": 1,
        "type": "digest",
        "id": "dig_9",
        "time": "2026-11-28T12:00:00Z",
        "events": [event, event],
    }


def test_event_carries_the_same_values_as_check_json() -> None:
    """One serialization (monitor/serialize.py): the event regroups check --json's values."""
    from monitor.serialize import change_to_json

    change, doc = document()
    drift = Drift("000_abc", similarity=0.82, numbers_added=("40,000",))
    change = replace(change, seed_id="000_abc", drift=drift)
    flat = change_to_json(change)
    event = build_event(change, "evt_x", doc, NOW)
    article = {"id": flat["article_id"], "url": flat["url"], "title": flat["title"]}
    assert event["article"] == article
    assert event["change"] == {"id": flat["id"], "detected_at": flat["detected_at"]}
    assert event["versions"] == {
        "previous": flat["previous_version"],
        "current": flat["version"],
        "reverted_to": flat["reverted_to"],
    }
    for key in ("feed", "significance", "tags", "stats", "detail"):
        assert event[key] == flat[key], key
    assert event["seed"] == {"id": flat["seed_id"], "drift": flat["drift"]}
    assert event["time"].endswith("Z") and flat["detected_at"].endswith("Z")
