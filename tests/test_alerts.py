"""Alert channels against real loopback servers, the event payload, and channel config."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from monitor.alerts import (
    AppriseChannel,
    DeliveryError,
    EmailChannel,
    WebhookChannel,
    build_channel,
    channel_kinds,
)
from monitor.alerts.apprise_channel import notification_body
from monitor.alerts.email import message_id
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
from monitor.alerts.webhook import encode_body, sign
from monitor.classify import classify
from monitor.config import (
    AppriseConfig,
    ClassifyRules,
    EmailConfig,
    WebhookConfig,
    settings_from_dict,
)
from monitor.diff import diff_versions
from monitor.errors import ConfigError
from monitor.models import (
    AlertMessage,
    Change,
    ChangeKind,
    DiffDocument,
    DiffStats,
    Drift,
    Significance,
    Version,
)
from tests.smtpserver import LoopbackController, Mailbox
from tests.webserver import Reply, WebServer

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PASSWORD = "correct horse battery staple"


def clock() -> datetime:
    return NOW


# --- payload ---------------------------------------------------------------------------


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
    verdict = classify(old, new, diff, ClassifyRules(), NOW)
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


def test_mail_bodies_escape_and_link_nothing() -> None:
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
    html = html_body(single)
    assert html.startswith("<!doctype html>") and "<style" not in html
    assert "<a " not in html and "<script>" not in html
    digest = message(changed, moved, event_id="dig_1")
    html = html_body(digest)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "moved to https://x/new" in html and "Newsmonitor digest: 2 changes" in html
    assert "moved to https://x/new" in text_body(digest)


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


# --- webhook ---------------------------------------------------------------------------


def test_signature_matches_the_standard_webhooks_reference() -> None:
    msg_id, timestamp, body = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(mac).decode()
    assert sign(SECRET, msg_id, timestamp, body) == expected
    # The vector published with the specification.
    assert expected == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_plain_string_secret_signs_with_its_utf8_bytes() -> None:
    mac = hmac.new("pässword".encode(), b"id.1.{}", hashlib.sha256).digest()
    assert sign("pässword", "id", 1, b"{}") == "v1," + base64.b64encode(mac).decode()


def webhook_config(url: str, **extra: Any) -> WebhookConfig:
    return WebhookConfig.model_validate(
        {"name": "hook", "type": "webhook", "url": url, "secret": SECRET, **extra}
    )


async def post(config: WebhookConfig, alert: AlertMessage) -> None:
    channel = WebhookChannel(config, clock=clock)
    try:
        await channel.send(alert)
    finally:
        await channel.aclose()


async def test_webhook_posts_signed_event(web: WebServer) -> None:
    web.set("/hook", Reply(status=204))
    change, doc = document()
    event = build_event(change, "evt_abc", doc, NOW)
    config = webhook_config(web.url("/hook?k=1"), headers={"Authorization": "Bearer t0k"})
    await post(config, message(event, event_id="evt_abc"))
    (request,) = web.hits("/hook?k=1")
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Bearer t0k"
    assert request.headers["webhook-id"] == "evt_abc"
    assert request.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert json.loads(request.body) == event
    # Verified as a receiver would, from the raw body and headers.
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"evt_abc.{int(NOW.timestamp())}.".encode() + request.body
    mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert request.headers["webhook-signature"] == f"v1,{mac}"


async def test_webhook_posts_digest_document(web: WebServer) -> None:
    web.set("/hook", Reply(status=200))
    change, _ = document()
    events = [build_event(change, f"evt_{n}", None, NOW) for n in range(3)]
    await post(webhook_config(web.url("/hook")), message(*events, event_id="dig_1"))
    (request,) = web.hits("/hook")
    body = json.loads(request.body)
    assert body["type"] == "digest" and body["id"] == "dig_1" and body["version"] == 1
    assert [e["id"] for e in body["events"]] == ["evt_0", "evt_1", "evt_2"]
    assert request.headers["webhook-id"] == "dig_1"
    assert request.body == encode_body(body)


@pytest.mark.parametrize(
    ("status", "headers", "permanent", "retry_after"),
    [
        (503, {"Retry-After": "7"}, False, 7.0),
        (500, {}, False, None),
        (408, {}, False, None),
        (429, {"Retry-After": "Sat, 28 Nov 2026 12:01:00 GMT"}, False, 60.0),
        (400, {}, True, None),
        (404, {}, True, None),
        (301, {"Location": "/elsewhere"}, True, None),
    ],
)
async def test_webhook_failures(
    web: WebServer,
    status: int,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
) -> None:
    change, _ = document()
    url = web.url("/hook/s3cr3t-path-token")
    web.set("/hook/s3cr3t-path-token", Reply(b"nope", status=status, headers=headers))
    with pytest.raises(DeliveryError) as caught:
        await post(webhook_config(url), message(build_event(change, "evt_1", None, NOW)))
    error = caught.value
    assert error.permanent is permanent
    assert error.retry_after == retry_after
    assert f"HTTP {status}" in str(error) and str(error).startswith("hook: ")
    assert "s3cr3t" not in str(error) and SECRET not in str(error)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_connection_refused_is_transient() -> None:
    change, _ = document()
    config = webhook_config(f"http://127.0.0.1:{free_port()}/hook", timeout=2)
    with pytest.raises(DeliveryError) as caught:
        await post(config, message(build_event(change, "evt_1", None, NOW)))
    assert caught.value.permanent is False and caught.value.retry_after is None


async def test_webhook_timeout_is_transient(web: WebServer) -> None:
    web.set("/slow", Reply(status=200, delay=1.0))
    change, _ = document()
    with pytest.raises(DeliveryError, match="timed out") as caught:
        await post(
            webhook_config(web.url("/slow"), timeout=0.2),
            message(build_event(change, "evt_1", None, NOW)),
        )
    assert caught.value.permanent is False


# --- email -----------------------------------------------------------------------------


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == LoginPassword(
        b"desk", PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = LoopbackController(
        box,
        hostname="127.0.0.1",
        port=0,
        auth_require_tls=False,
        authenticator=authenticate,
    )
    controller.start()
    yield box, controller.port
    controller.stop()


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


async def deliver(config: EmailConfig, alert: AlertMessage) -> None:
    channel = EmailChannel(config, clock=clock, local_hostname="localhost")
    await channel.send(alert)
    await channel.aclose()


def received(box: Mailbox) -> EmailMessage:
    (envelope,) = box.envelopes
    assert isinstance(envelope.content, bytes)
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    return mail


async def test_email_is_multipart_text_and_html(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    change, doc = document()
    event = build_event(change, "evt_abc", doc, NOW)
    await deliver(email_config(port), message(event, event_id="evt_abc"))
    (envelope,) = box.envelopes
    assert envelope.mail_from == "monitor@desk.example"
    assert envelope.rcpt_tos == ["a@desk.example", "b@desk.example"]
    mail = received(box)
    assert mail.get_content_type() == "multipart/alternative"
    assert mail["Subject"] == subject([event])
    assert mail["Message-ID"] == "<evt_abc.newsmonitor@desk.example>"
    assert mail["Message-ID"] == message_id("evt_abc", "monitor@desk.example")
    assert mail["Date"] == "Sat, 28 Nov 2026 12:00:00 +0000"
    assert "b@desk.example" in mail["To"]
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert "{+40,000+}" in text.get_content()
    html_content = html.get_content()
    assert "&lt;script&gt;" in html_content and "<script>" not in html_content


async def test_email_login_over_plain(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    change, _ = document()
    config = email_config(port, username="desk", password=PASSWORD)
    await deliver(config, message(build_event(change, "evt_1", None, NOW)))
    assert len(box.envelopes) == 1


async def test_email_bad_login_is_permanent_and_secret(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    change, _ = document()
    config = email_config(port, username="desk", password="wrong " + PASSWORD)
    with pytest.raises(DeliveryError) as caught:
        await deliver(config, message(build_event(change, "evt_1", None, NOW)))
    assert caught.value.permanent is True and "535" in str(caught.value)
    assert PASSWORD not in str(caught.value) and not box.envelopes


@pytest.mark.parametrize(
    ("reply", "permanent"), [("550 5.1.1 no such user", True), ("451 4.3.0 try later", False)]
)
async def test_email_refused_recipients(
    mailbox: tuple[Mailbox, int], reply: str, permanent: bool
) -> None:
    box, port = mailbox
    box.refuse = reply
    change, _ = document()
    with pytest.raises(DeliveryError) as caught:
        await deliver(email_config(port), message(build_event(change, "evt_1", None, NOW)))
    assert caught.value.permanent is permanent
    assert reply.split()[0] in str(caught.value)


async def test_email_dead_port_is_transient() -> None:
    change, _ = document()
    with pytest.raises(DeliveryError) as caught:
        await deliver(email_config(free_port()), message(build_event(change, "evt_1", None, NOW)))
    assert caught.value.permanent is False


def test_email_ports_default_by_security() -> None:
    base = {"name": "m", "type": "email", "host": "h", "sender": "a@b.example"}
    ports = {
        security: EmailConfig.model_validate(
            {**base, "recipients": ["x@y.example"], "security": security}
        ).smtp_port
        for security in ("plain", "starttls", "tls")
    }
    assert ports == {"plain": 25, "starttls": 587, "tls": 465}


# --- apprise and the registry ----------------------------------------------------------


def test_apprise_missing_is_a_config_error() -> None:
    config = AppriseConfig.model_validate(
        {"name": "chat", "type": "apprise", "urls": ["tgram://bottoken/chatid"]}
    )
    with pytest.raises(ConfigError, match=r"newsmonitor\[apprise\]") as caught:
        build_channel(config)
    assert "bottoken" not in str(caught.value)
    with pytest.raises(ConfigError):
        AppriseChannel(config)


def test_apprise_body_is_short_summary() -> None:
    change, doc = document()
    event = build_event(change, "evt_a", doc, NOW)
    body = notification_body(message(event))
    assert body.startswith(f"[{change.significance}] Council approves")
    assert "{+40,000+}" in body
    digest = notification_body(message(event, event, event_id="dig"), limit=120)
    assert len(digest) <= 120 and digest.endswith("…")
    assert "{+40,000+}" not in notification_body(message(event, event, event_id="dig"))


def test_channel_kinds_list_one_line_help() -> None:
    kinds = dict(channel_kinds())
    assert set(kinds) == {"webhook", "email", "apprise"}
    assert all(help_text and "\n" not in help_text for help_text in kinds.values())


async def test_build_channel_dispatches_on_type() -> None:
    hook = build_channel(webhook_config("https://hooks.example/x"))
    assert isinstance(hook, WebhookChannel) and hook.name == "hook"
    await hook.aclose()
    assert isinstance(build_channel(email_config(25)), EmailChannel)


# --- config: accepts -------------------------------------------------------------------


def changed(significance: str | None = "major", **extra: Any) -> Change:
    fields: dict[str, Any] = {
        "kind": ChangeKind.CHANGED,
        "article_id": 1,
        "feed": "world",
        "url": "https://x/",
        "detected_at": NOW,
        "significance": Significance(significance) if significance else None,
        "stats": DiffStats(),
        **extra,
    }
    return Change(**fields)


@pytest.mark.parametrize(
    ("channel", "change", "seed", "default_min", "expected"),
    [
        ({}, changed("minor"), None, "minor", True),
        ({}, changed("cosmetic"), None, "minor", False),
        ({}, changed("cosmetic"), None, "cosmetic", True),
        ({"min_significance": "major"}, changed("minor"), None, "cosmetic", False),
        ({"min_significance": "major"}, changed("rewrite"), None, "rewrite", True),
        ({}, changed(kind=ChangeKind.NEW), None, "minor", False),  # not a default kind
        ({"kinds": ["new"]}, changed(None, kind=ChangeKind.NEW), None, "minor", True),
        ({"kinds": ["new"]}, changed("major"), None, "minor", False),
        ({}, changed(None, kind=ChangeKind.REMOVED), None, "rewrite", True),
        ({}, changed("minor", kind=ChangeKind.REVERTED), None, "minor", True),
        ({}, changed("cosmetic", kind=ChangeKind.REVERTED), None, "minor", False),
        (
            {},
            changed("major", kind=ChangeKind.REVERTED, tags=("headline", "flip-flop")),
            None,
            "minor",
            False,
        ),
        ({"feeds": ["world"]}, changed(), None, "minor", True),
        ({"feeds": ["local"]}, changed(), None, "minor", False),
        ({"seeds": ["s1"]}, changed(), None, "minor", False),
        ({"seeds": ["s1"]}, changed(), "s1", "minor", True),
        ({"seeds": ["s1"]}, changed(), "s2", "minor", False),
        ({"seeds": ["s1"]}, changed(seed_id="s1"), None, "minor", True),
    ],
)
def test_accepts(
    channel: dict[str, Any], change: Change, seed: str | None, default_min: str, expected: bool
) -> None:
    config = WebhookConfig.model_validate(
        {"name": "h", "type": "webhook", "url": "https://h.example/", "secret": "s", **channel}
    )
    assert config.accepts(change, seed, default_min) is expected


# --- config: validation ----------------------------------------------------------------


def load(*channels: dict[str, Any], **top: Any) -> Any:
    return settings_from_dict({"alerts": list(channels), **top})


HOOK = {"name": "hook", "type": "webhook", "url": "https://h.example/x", "secret": "topsecret"}
MAIL = {
    "name": "mail",
    "type": "email",
    "host": "smtp.example",
    "sender": "m@example.org",
    "recipients": ["a@example.org"],
    "username": "desk",
    "password": "pa55word",
}


def test_valid_channels_load_with_defaults() -> None:
    settings = load(HOOK, MAIL, {"name": "chat", "type": "apprise", "urls": ["json://x"]})
    hook, mail, chat = settings.alerts
    assert isinstance(hook, WebhookConfig) and hook.timeout == 10
    assert hook.kinds == ("changed", "reverted", "removed", "restored", "moved")
    assert hook.min_significance is None and hook.digest is None
    assert hook.max_attempts == 10 and hook.max_age == timedelta(days=2)
    assert isinstance(mail, EmailConfig) and mail.security == "starttls"
    assert mail.smtp_port == 587
    assert isinstance(chat, AppriseConfig)
    digest = load({**HOOK, "digest": "1h"}).alerts[0]
    assert digest.digest == timedelta(hours=1)
    assert settings.alert_channel("mail") is mail


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ({k: v for k, v in HOOK.items() if k != "secret"}, "alerts[0].secret: Field required"),
        ({**HOOK, "url": "ftp://h.example/"}, "alerts[0].url: must be an http:// or https://"),
        ({**HOOK, "type": "pigeon"}, "alerts[0].type: unknown type 'pigeon': use one of"),
        ({"name": "x"}, "alerts[0].type: missing: use one of webhook, email, apprise"),
        ({**MAIL, "recipients": []}, "alerts[0].recipients: needs at least one address"),
        ({**MAIL, "recipients": ["nobody"]}, "alerts[0].recipients: not a mail address"),
        ({**MAIL, "security": "ssl"}, "alerts[0].security: Input should be"),
        ({**HOOK, "colour": "red"}, "alerts[0].colour: unknown key"),
        ({**HOOK, "kinds": ["edited"]}, "alerts[0].kinds[0]: Input should be"),
        ({**HOOK, "digest": "soon"}, "alerts[0].digest: invalid duration"),
        ({**HOOK, "secret": "whsec_***"}, "alerts[0].secret: a 'whsec_' secret must be"),
        ({**HOOK, "headers": {"webhook-id": "x"}}, "alerts[0].headers: header 'webhook-id'"),
        ({**MAIL, "password": 5}, "alerts[0].password: Input should be a valid string"),
        (
            {k: v for k, v in MAIL.items() if k != "password"},
            "alerts[0]: set both 'username' and 'password'",
        ),
        ({**HOOK, "feeds": ["nowhere"]}, "alerts[0].feeds: no feed named 'nowhere'"),
    ],
)
def test_invalid_channels_name_the_key(channel: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(channel)
    assert message in str(caught.value)
    for secret in ("topsecret", "pa55word"):
        assert secret not in str(caught.value)


def test_channel_names_are_unique() -> None:
    with pytest.raises(ConfigError, match="alert channel names must be unique: hook"):
        load(HOOK, {**MAIL, "name": "hook"})


def test_secrets_stay_out_of_reprs_and_errors() -> None:
    hook_url = "https://hooks.example/services/T0/B0/tok3n"
    settings = load(
        {**HOOK, "url": hook_url, "headers": {"Authorization": "Bearer b3arer"}},
        MAIL,
        {"name": "chat", "type": "apprise", "urls": ["tgram://b0t/chat"]},
    )
    shown = repr(settings) + str(settings) + "".join(repr(c) + str(c) for c in settings.alerts)
    for secret in ("topsecret", "pa55word", "tok3n", "b3arer", "b0t"):
        assert secret not in shown
    with pytest.raises(ConfigError) as caught:
        load({**HOOK, "url": "gopher://h/tok3n"}, {**MAIL, "password": 5})
    assert "tok3n" not in str(caught.value)


def test_apprise_urls_are_required() -> None:
    with pytest.raises(ConfigError, match=r"alerts\[0\].urls: needs at least one apprise URL"):
        load({"name": "chat", "type": "apprise", "urls": []})


def test_example_config_alert_channels_validate() -> None:
    """The commented [[alerts]] examples in config/example.toml are valid as written."""
    text = (Path(__file__).resolve().parents[1] / "config" / "example.toml").read_text()
    block = text[text.index("# [[alerts]]") :].splitlines()
    raw = tomllib.loads("\n".join(line[2:] for line in block if line.startswith("# ")))
    env = {
        "NEWSMONITOR_WEBHOOK_SECRET": "s",
        "NEWSMONITOR_SMTP_PASSWORD": "p",
        "NEWSMONITOR_APPRISE_URL": "json://localhost",
    }
    settings = settings_from_dict(raw, environ=env)
    assert [channel.type for channel in settings.alerts] == ["webhook", "email", "apprise"]
