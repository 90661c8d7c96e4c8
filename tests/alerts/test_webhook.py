"""The webhook channel against a real loopback receiver (alerts/webhook.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from monitor.alerts import DeliveryError, WebhookChannel
from monitor.alerts.payload import build_event
from monitor.alerts.webhook import encode_body, sign
from monitor.config import WebhookConfig
from monitor.models import AlertMessage
from tests.alerts.samples import (
    NOW,
    SECRET,
    clock,
    document,
    free_port,
    message,
    webhook_config,
)
from tests.webserver import Reply, WebServer


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
