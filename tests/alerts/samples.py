"""Shared samples of the alert tests: a classified change with its diff, messages, configs."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from monitor.classify import classify
from monitor.config import ClassifyRules, EmailConfig, WebhookConfig
from monitor.diff import diff_versions
from monitor.models import AlertMessage, Change, ChangeKind, DiffDocument, Version

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PASSWORD = "correct horse battery staple"


def clock() -> datetime:
    return NOW


def version(number: int, title: str, text: str) -> Version:
    return Version(
        article_id=7,
        number=number,
        content_hash=f"h{number}",
        text=text,
        fetched_at=NOW - timedelta(hours=3 - number),
        url="https://news.example/world/1",
        title=title,
    )


OLD_TEXT = (
    "The council met on Monday. It approved 30,000 new homes.\n\nResidents were not consulted."
)
NEW_TEXT = (
    "The council met on Monday. It approved 40,000 new homes.\n\n"
    "Residents said <script>alert(1)</script> was not the plan."
)


def document() -> tuple[Change, DiffDocument]:
    old = version(1, "Council approves homes", OLD_TEXT)
    new = version(2, "Council approves <b>more</b> homes", NEW_TEXT)
    diff = diff_versions(old, new)
    verdict = classify(old, new, diff, ClassifyRules().thresholds(), NOW)
    doc = DiffDocument(
        diff=diff,
        classification=verdict,
        title=new.title,
        url=new.url,
        old_label="v1",
        new_label="v2",
        feed="world",
        article_id=7,
        old_version=1,
        new_version=2,
    )
    change = Change(
        kind=ChangeKind.CHANGED,
        article_id=7,
        feed="world",
        url=new.url,
        detected_at=NOW,
        title=new.title,
        version=2,
        previous_version=1,
        significance=verdict.significance,
        tags=verdict.tags,
        stats=diff.body.stats,
        id=57,
    )
    return change, doc


def message(*events: dict[str, Any], event_id: str = "evt_1") -> AlertMessage:
    kind = "digest" if len(events) > 1 else str(events[0]["type"])
    return AlertMessage(event_id=event_id, event_type=kind, created_at=NOW, events=events)


def webhook_config(url: str, **extra: Any) -> WebhookConfig:
    return WebhookConfig.model_validate(
        {"name": "hook", "type": "webhook", "url": url, "secret": SECRET, **extra}
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == LoginPassword(
        b"desk", PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def email_config(port: int, **extra: Any) -> EmailConfig:
    return EmailConfig.model_validate(
        {
            "name": "mail",
            "type": "email",
            "host": "127.0.0.1",
            "port": port,
            "security": "plain",
            "sender": "Newsmonitor <monitor@desk.example>",
            "recipients": ["a@desk.example", "Night Editor <b@desk.example>"],
            "timeout": 5,
            **extra,
        }
    )
