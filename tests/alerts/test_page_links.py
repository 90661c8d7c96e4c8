"""Alerts link to the change's web page when the site's address is known ([web] base_url)."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.alerts.payload import html_body, text_body
from monitor.alerts.routing import outbox_rows
from monitor.config import Settings, settings_from_dict
from monitor.models import AlertMessage, Change, ChangeKind, DiffStats, Significance

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
EDIT = Change(
    ChangeKind.CHANGED,
    7,
    "world",
    "https://news.example/world/1",
    NOW,
    "Council approves homes",
    version=3,
    previous_version=2,
    significance=Significance.MAJOR,
    stats=DiffStats(words_added=3),
    id=57,
)
HOOK = {"name": "hook", "type": "webhook", "url": "https://hooks.example.org/x", "secret": "s"}


def _settings(web: dict[str, object]) -> Settings:
    return settings_from_dict(
        {
            "feeds": [{"name": "world", "url": "https://news.example/feed"}],
            "alerts": [HOOK],
            "web": web,
        }
    )


def test_events_carry_the_change_page_when_base_url_is_set() -> None:
    settings = _settings({"base_url": "https://monitor.example.org/nm/"})
    (alert,) = outbox_rows(settings, [EDIT], {}, NOW)
    page = "https://monitor.example.org/nm/articles/7?from=2&to=3#diff"
    assert alert.payload["page"] == page
    message = AlertMessage(alert.event_id, alert.event_type, NOW, (alert.payload,))
    assert f"Page: {page}" in text_body(message)
    assert 'href="https://monitor.example.org/nm/articles/7?from=2&amp;to=3#diff"' in html_body(
        message
    )

    removed = Change(ChangeKind.REMOVED, 7, "world", EDIT.url, NOW, id=58)
    (gone,) = outbox_rows(settings, [removed], {}, NOW)
    assert gone.payload["page"] == "https://monitor.example.org/nm/articles/7"


def test_no_page_without_base_url() -> None:
    (alert,) = outbox_rows(_settings({}), [EDIT], {}, NOW)
    assert "page" not in alert.payload
    message = AlertMessage(alert.event_id, alert.event_type, NOW, (alert.payload,))
    assert "Page:" not in text_body(message)
