"""The channel contract (alerts/base.py), one suite over every channel type.

Each channel is built from its config by the registry and talks to a real receiver on
loopback: an HTTP server for the webhook and for apprise (its ``json://`` service), an SMTP
server for email. What ``AlertChannel`` promises, each of them keeps: a message arrives
once, with every event it carries and its event id (where the receiver has room for one);
a refusal raises ``DeliveryError``, permanent only when the receiver said it will never
take the message (apprise reports one bool and cannot tell, so its failures are all
retried); an unreachable receiver is worth a retry; no error repeats a secret of the
config. The apprise cases run where the optional package is installed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from monitor.alerts import DeliveryError, build_channel
from monitor.alerts.payload import build_event
from monitor.config import AlertChannelConfig, AppriseConfig, EmailConfig
from monitor.models import AlertMessage
from tests.alerts.samples import (
    NOW,
    PASSWORD,
    SECRET,
    document,
    email_config,
    free_port,
    message,
    webhook_config,
)
from tests.smtpserver import Mailbox
from tests.webserver import Reply, Request, WebServer

TOKEN = "s3cr3t-path-token"  # in the webhook's and the apprise URL's path


@dataclass
class Receiver:
    """One channel type's loopback receiver, and what the contract may expect of it."""

    config: AlertChannelConfig
    received: Callable[[], list[str]]  # every delivery so far, as text
    refuse: Callable[[bool], None]  # from now on; True: for good, False: for now
    unreachable: AlertChannelConfig  # the same channel, pointed at a closed port
    secrets: tuple[str, ...]
    tells_permanent: bool = True  # whether the channel can tell a refusal for good
    carries_event_id: bool = True  # whether a delivery names its message's event id


def http_receiver(
    web: WebServer, path: str
) -> tuple[Callable[[], list[str]], Callable[[bool], None]]:
    """A route at ``path`` that takes deliveries, or refuses them with 400 or 503."""
    status = {"code": 204}
    taken: list[str] = []

    def take(request: Request) -> Reply:
        if status["code"] >= 300:
            return Reply(b"refused", status=status["code"])
        taken.append(json.dumps({"headers": request.headers, "body": request.body.decode()}))
        return Reply(status=status["code"])

    def refuse(permanent: bool) -> None:
        status["code"] = 400 if permanent else 503

    web.set(path, take)
    return lambda: list(taken), refuse


def webhook_receiver(web: WebServer) -> Receiver:
    received, refuse = http_receiver(web, f"/hook/{TOKEN}")
    return Receiver(
        config=webhook_config(web.url(f"/hook/{TOKEN}")),
        received=received,
        refuse=refuse,
        unreachable=webhook_config(f"http://127.0.0.1:{free_port()}/hook/{TOKEN}", timeout=2),
        secrets=(SECRET, TOKEN),
    )


def email_receiver(box: Mailbox, port: int) -> Receiver:
    def received() -> list[str]:
        texts = []
        for envelope in box.envelopes:
            assert isinstance(envelope.content, bytes)
            mail = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(mail, EmailMessage)
            parts = [part.get_content() for part in mail.walk() if not part.is_multipart()]
            texts.append("\n".join([str(mail["Subject"]), str(mail["Message-ID"]), *parts]))
        return texts

    def refuse(permanent: bool) -> None:
        box.refuse = "550 5.1.1 no such user" if permanent else "451 4.3.0 try later"

    def config(port: int) -> EmailConfig:
        return email_config(port, username="desk", password=PASSWORD)

    return Receiver(
        config=config(port),
        received=received,
        refuse=refuse,
        unreachable=config(free_port()),
        secrets=(PASSWORD,),
    )


def apprise_receiver(web: WebServer) -> Receiver:
    pytest.importorskip("apprise")
    received, refuse = http_receiver(web, f"/notify/{TOKEN}")

    def config(port: int) -> AppriseConfig:
        url = f"json://127.0.0.1:{port}/notify/{TOKEN}"
        return AppriseConfig.model_validate({"name": "chat", "type": "apprise", "urls": [url]})

    return Receiver(
        config=config(web.port),
        received=received,
        refuse=refuse,
        unreachable=config(free_port()),
        secrets=(TOKEN,),
        tells_permanent=False,
        carries_event_id=False,
    )


@pytest.fixture(params=["webhook", "email", "apprise"])
def receiver(
    request: pytest.FixtureRequest, web: WebServer, mailbox: tuple[Mailbox, int]
) -> Receiver:
    if request.param == "webhook":
        return webhook_receiver(web)
    if request.param == "email":
        return email_receiver(*mailbox)
    return apprise_receiver(web)


async def send(config: AlertChannelConfig, alert: AlertMessage) -> None:
    """Build the channel as the relay does, send ``alert`` once, close the channel."""
    channel = build_channel(config)
    assert channel.name == config.name and channel.kind == config.type
    try:
        await channel.send(alert)
    finally:
        await channel.aclose()


def events(*titles: str) -> list[dict[str, Any]]:
    """One event per title, each of its own change."""
    change, _ = document()
    return [
        build_event(replace(change, title=title, id=n), f"evt_{n}", None, NOW)
        for n, title in enumerate(titles)
    ]


def assert_secret_free(error: DeliveryError, receiver: Receiver) -> None:
    assert str(error).startswith(f"{receiver.config.name}: ")
    for secret in receiver.secrets:
        assert secret not in str(error)


async def test_a_message_arrives_once_naming_its_event(receiver: Receiver) -> None:
    (event,) = events("Harbour vote delayed")
    await send(receiver.config, message(event, event_id="evt_0"))
    (delivery,) = receiver.received()
    assert "Harbour vote delayed" in delivery
    if receiver.carries_event_id:
        assert "evt_0" in delivery


async def test_a_digest_arrives_as_one_message_with_every_event(receiver: Receiver) -> None:
    titles = ("Harbour vote delayed", "Mayor resigns", "Bridge reopens")
    await send(receiver.config, message(*events(*titles), event_id="dig_1"))
    (delivery,) = receiver.received()
    assert all(title in delivery for title in titles)
    if receiver.carries_event_id:
        assert "dig_1" in delivery


async def test_a_refusal_for_good_is_permanent_when_the_channel_can_tell(
    receiver: Receiver,
) -> None:
    receiver.refuse(True)
    with pytest.raises(DeliveryError) as caught:
        await send(receiver.config, message(*events("Harbour vote delayed")))
    assert caught.value.permanent is receiver.tells_permanent
    assert_secret_free(caught.value, receiver)
    assert receiver.received() == []


async def test_a_refusal_for_now_is_worth_a_retry(receiver: Receiver) -> None:
    receiver.refuse(False)
    with pytest.raises(DeliveryError) as caught:
        await send(receiver.config, message(*events("Harbour vote delayed")))
    assert caught.value.permanent is False
    assert_secret_free(caught.value, receiver)
    assert receiver.received() == []


async def test_an_unreachable_receiver_is_worth_a_retry(receiver: Receiver) -> None:
    with pytest.raises(DeliveryError) as caught:
        await send(receiver.unreachable, message(*events("Harbour vote delayed")))
    assert caught.value.permanent is False
    assert_secret_free(caught.value, receiver)
