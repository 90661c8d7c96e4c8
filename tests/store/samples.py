"""Sample rows for the store's tests: articles, versions, changes and alerts at ``T0``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from monitor.models import Alert, Article, Change, ChangeKind, Version

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))


def new_article(url: str = "https://news.example/a", **fields: Any) -> Article:
    defaults: dict[str, Any] = {
        "id": 0,
        "feed": "example",
        "url": url,
        "current_url": url,
        "first_seen": T0,
        "last_in_feed": T0,
    }
    defaults.update(fields)
    return Article(**defaults)


def new_version(article_id: int, number: int, text: str = "Body text.", **fields: Any) -> Version:
    defaults: dict[str, Any] = {
        "article_id": article_id,
        "number": number,
        "content_hash": f"{number:064x}",
        "text": text,
        "fetched_at": T0 + timedelta(hours=number),
        "url": "https://news.example/a",
    }
    defaults.update(fields)
    return Version(**defaults)


def new_change(article: Article, kind: ChangeKind, at: datetime, **fields: Any) -> Change:
    change = Change(kind, article.id, article.feed, article.url, detected_at=at)
    return replace(change, **fields)


def queued_alert(channel: str, n: int, change_id: int | None = None, **fields: Any) -> Alert:
    defaults: dict[str, Any] = {
        "id": 0,
        "event_id": f"evt_{channel}_{n}",
        "channel": channel,
        "event_type": "article.changed",
        "payload": {"version": 1, "n": n, "text": "ünïcode"},
        "created_at": T0,
        "change_id": change_id,
        "next_attempt": T0,
    }
    defaults.update(fields)
    return Alert(**defaults)
