"""The email channel against a real loopback SMTP server (alerts/email.py)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from monitor.alerts import DeliveryError, EmailChannel
from monitor.alerts.email import message_id
from monitor.alerts.payload import build_event, subject
from monitor.config import EmailConfig
from monitor.models import AlertMessage
from tests.alerts.samples import (
    NOW,
    PASSWORD,
    clock,
    document,
    email_config,
    free_port,
    message,
)
from tests.smtpserver import Mailbox


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
    # Issue 14: the article is a link in the HTML part, its URL as is in the text part, and a
    # replaced figure reads "30,000 40,000" even where a mail client drops the styles.
    assert '<a href="https://news.example/world/1"' in html_content
    assert "URL: https://news.example/world/1" in text.get_content()
    assert "30,000</del> <ins" in html_content


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
