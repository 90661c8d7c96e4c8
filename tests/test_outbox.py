"""The relay against real receivers: retries, dead letters, crashes, digests, `check`."""

from __future__ import annotations

import asyncio
import email
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.alerts.outbox import Relay, open_channels, retry_delay
from monitor.cli import main
from monitor.config import Settings, load_settings, settings_from_dict
from monitor.models import Alert, AlertStatus, RelayReport
from monitor.pipeline import check_once
from tests.smtpserver import LoopbackController, Mailbox
from tests.test_pipeline import STORY, page, rss
from tests.webserver import Reply, Request, WebServer

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = LoopbackController(box, hostname="127.0.0.1", port=0)
    controller.start()
    yield box, controller.port
    controller.stop()


def hook(web: WebServer, **extra: Any) -> dict[str, Any]:
    return {"name": "hook", "type": "webhook", "url": web.url("/hook"), "secret": SECRET, **extra}


def settings_with(store_url: str, *channels: dict[str, Any], **extra: Any) -> Settings:
    return settings_from_dict({"storage": {"url": store_url}, "alerts": list(channels), **extra})


def queued(n: int, channel: str = "hook") -> Alert:
    return Alert(
        id=0,
        event_id=f"evt_{channel}_{n}",
        channel=channel,
        event_type="article.changed",
        payload={"version": 1, "type": "article.changed", "id": f"evt_{channel}_{n}", "n": n},
        created_at=T0,
        next_attempt=T0,
    )


def answers(*statuses: int, headers: dict[str, str] | None = None):
    """A receiver answering with ``statuses`` in turn, then 200 for ever."""
    remaining = list(statuses)
    lock = threading.Lock()

    def handler(_request: Request) -> Reply:
        with lock:
            status = remaining.pop(0) if remaining else 200
        return Reply("no" if status >= 300 else "ok", status=status, headers=headers or {})

    return handler


async def test_retries_until_the_receiver_recovers_then_once_per_id(web, store, store_url):
    web.set("/hook", answers(503, 503, 503, headers={"Retry-After": "120"}))
    store.add_alerts([queued(1), queued(2)])
    settings = settings_with(store_url, hook(web))
    now = T0
    async with open_channels(settings) as channels:
        relay = Relay(store, channels)
        while store.count_alerts()[AlertStatus.QUEUED]:
            report = await relay.run_once(now)
            assert report.dead == 0
            now += timedelta(hours=1)
    received = [json.loads(r.body) for r in web.hits("/hook")]
    ids = [r.headers["webhook-id"] for r in web.hits("/hook")]
    assert len(received) == 5  # three 503s, then one success per alert
    assert sorted(set(ids)) == ["evt_hook_1", "evt_hook_2"]
    assert all(body["id"] == wid for body, wid in zip(received, ids, strict=True))
    delivered = store.list_alerts(AlertStatus.DELIVERED)
    assert len(delivered) == 2 and sum(a.attempts for a in delivered) == 5


def test_retry_delay_backs_off_and_honours_retry_after() -> None:
    assert retry_delay(1, None, 0.0) == timedelta(seconds=30)
    assert retry_delay(3, None, 0.0) == timedelta(minutes=2)
    assert retry_delay(30, None, 0.0) == timedelta(hours=2)  # capped
    assert retry_delay(1, None, 0.99) > retry_delay(1, None, 0.0)  # jitter spreads them
    assert retry_delay(1, 600, 0.0) == timedelta(minutes=10)


async def test_permanent_failure_is_dead_at_once_and_shown(web, store, store_url, tmp_path):
    web.set("/hook", answers(400))
    store.add_alerts([queued(1)])
    settings = settings_with(store_url, hook(web))
    async with open_channels(settings) as channels:
        report = await Relay(store, channels).run_once(T0)
    assert (report.delivered, report.retried, report.dead) == (0, 0, 1)
    (dead,) = store.list_alerts(AlertStatus.DEAD)
    assert dead.attempts == 1 and "400" in (dead.last_error or "")

    config = tmp_path / "m.toml"
    config.write_text(
        f'[storage]\nurl = "{store_url}"\n[[alerts]]\nname = "hook"\ntype = "webhook"\n'
        f'url = "{web.url("/hook")}"\nsecret = "{SECRET}"\n'
    )

    async def cli(*args: str) -> str:
        # The CLI runs its own event loop: give it a thread of its own.
        result = await asyncio.to_thread(CliRunner().invoke, main, ["--config", str(config), *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert "HTTP 400" in await cli("alerts", "--status", "dead")
    web.set("/hook", answers())
    assert "1 alert(s) queued again" in await cli("alerts", "retry", "--dead")
    assert "1 delivered" in await cli("alerts", "send")
    assert store.count_alerts()[AlertStatus.DELIVERED] == 1


async def test_too_many_attempts_end_dead(web, store, store_url):
    web.set("/hook", answers(*[500] * 10))
    store.add_alerts([queued(1)])
    settings = settings_with(store_url, hook(web, max_attempts=3))
    async with open_channels(settings) as channels:
        relay = Relay(store, channels)
        for hour in range(5):
            await relay.run_once(T0 + timedelta(hours=hour))
    (dead,) = store.list_alerts(AlertStatus.DEAD)
    assert dead.attempts == 3 and len(web.hits("/hook")) == 3


def test_killed_between_sending_and_marking_resends_same_id(web, store_url, tmp_path):
    """SIGKILL while the receiver holds the request: the next run sends it again."""
    arrived = threading.Event()
    release = threading.Event()

    def slow(_request: Request) -> Reply:
        arrived.set()
        release.wait(10)
        return Reply("ok")

    web.set("/hook", slow)
    config = tmp_path / "m.toml"
    config.write_text(
        f'[storage]\nurl = "{store_url}"\n[outbox]\nlease = "1s"\n'
        f'[[alerts]]\nname = "hook"\ntype = "webhook"\nurl = "{web.url("/hook")}"\n'
        f'secret = "{SECRET}"\n'
    )
    with Store_(store_url) as store:
        store.add_alerts([queued(1)])
    command = [sys.executable, "-m", "monitor", "--config", str(config), "alerts", "send"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert arrived.wait(20), process.communicate(timeout=5)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        release.set()
    with Store_(store_url) as store:
        (alert,) = store.list_alerts()
        assert alert.status == AlertStatus.QUEUED  # sent, but never marked
    web.set("/hook", answers())
    # The next run, once the dead relay's lease (1s) has run out: its clock says so.
    later = datetime.now(UTC) + timedelta(seconds=2)
    report = asyncio.run(relay_at(later, load_settings(config), store_url))
    assert report.delivered == 1, report.errors
    ids = [r.headers["webhook-id"] for r in web.hits("/hook")]
    assert ids == ["evt_hook_1", "evt_hook_1"]
    with Store_(store_url) as store:
        assert [a.status for a in store.list_alerts()] == [AlertStatus.DELIVERED]


async def relay_at(now: datetime, settings: Settings, store_url: str) -> RelayReport:
    """One pass of a relay whose clock reads ``now``."""
    with Store_(store_url) as store:
        async with open_channels(settings) as channels:
            relay = Relay(store, channels, lease=settings.outbox.lease, clock=lambda: now)
            try:
                return await relay.run_once(now)
            finally:
                relay.close()


def Store_(url: str):
    from monitor.store.sql import SQLStore

    return SQLStore.open(url)


async def test_digest_gathers_five_changes_into_one_message_per_channel(
    web, store, store_url, smtp
):
    box, port = smtp
    slugs = [f"story-{n}" for n in range(5)]
    web.set("/rss", rss([(f"Story {n}", f"/a/{s}") for n, s in enumerate(slugs)], web))
    for n, slug in enumerate(slugs):
        web.set(f"/a/{slug}", page(f"Story {n}", STORY))
    web.set("/hook", answers())
    mail = {
        "name": "mail",
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "security": "plain",
        "sender": "monitor@desk.example",
        "recipients": ["desk@desk.example"],
        "digest": "1h",
    }
    settings = settings_from_dict(
        {
            "feeds": [{"name": "world", "url": web.url("/rss")}],
            "fetch": {"allow_private_addresses": True, "retries": 0},
            "storage": {"url": store_url},
            "alerts": [hook(web, digest="1h"), mail],
        }
    )
    await check_once(settings, store, T0, force=True)
    for n, slug in enumerate(slugs):
        web.set(f"/a/{slug}", page(f"Story {n}", [*STORY, f"Update {n}: a new paragraph."]))
    report = await check_once(settings, store, T0 + timedelta(minutes=20), force=True)
    assert len(report.changes) == 5
    async with open_channels(settings) as channels:
        relay = Relay(store, channels)
        early = await relay.run_once(T0 + timedelta(minutes=50))
        assert early.delivered == 0 and web.hits("/hook") == [] and box.envelopes == []
        late = await relay.run_once(T0 + timedelta(minutes=81))
    assert late.delivered == 10
    (call,) = web.hits("/hook")
    digest = json.loads(call.body)
    assert digest["type"] == "digest" and len(digest["events"]) == 5
    assert call.headers["webhook-id"] == digest["id"]
    (envelope,) = box.envelopes
    message = email.message_from_bytes(envelope.content, policy=default_policy)
    assert isinstance(message, EmailMessage)
    assert "5 changes" in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert all(f"Story {n}" in text for n in range(5))


def hooked_site(
    web: WebServer, tmp_path: Path, receive: Callable[[Request], Reply], extra: str = ""
) -> Path:
    """One feed with one article, and a webhook channel posting to ``receive``."""
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    web.set("/hook", receive)
    config = tmp_path / "m.toml"
    config.write_text(
        f'[[feeds]]\nname = "world"\nurl = "{web.url("/rss")}"\n'
        "[fetch]\nallow_private_addresses = true\nretries = 0\n"
        f'[[alerts]]\nname = "hook"\ntype = "webhook"\nurl = "{web.url("/hook")}"\n'
        f'secret = "{SECRET}"\n' + extra
    )
    return config


def test_check_delivers_its_alerts_before_exiting(web, tmp_path):
    received: list[dict[str, Any]] = []

    def receive(request: Request) -> Reply:
        received.append(json.loads(request.body))
        return Reply("ok")

    config = hooked_site(web, tmp_path, receive, 'kinds = ["new", "changed"]\n')
    result = CliRunner().invoke(main, ["--config", str(config), "check", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["alerts"] == {
        "delivered": 1,
        "retried": 0,
        "dead": 0,
        "errors": [],
    }
    assert [event["type"] for event in received] == ["article.new"]
    assert received[0]["article"]["url"] == web.url("/a/harbour")


def test_alerts_test_sends_a_sample_built_from_a_stored_change(web, tmp_path):
    received: list[Request] = []

    def receive(request: Request) -> Reply:
        received.append(request)
        return Reply("ok")

    config = hooked_site(web, tmp_path, receive)

    def cli(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["--config", str(config), *args])
        return result.exit_code, result.output

    code, out = cli("alerts", "test", "hook")  # nothing stored yet: a made-up sample
    assert code == 0 and "Sample alert" in out
    cli("check")
    web.set("/a/harbour", page("Harbour vote", [STORY[0], STORY[1].replace("1,200", "2,400")]))
    cli("check", "--all")
    code, out = cli("alerts", "test", "hook")
    assert code == 0 and "article.changed" in out
    sample = json.loads(received[-1].body)
    assert "{+2,400+}" in sample["diff"]["text"]
    assert received[-1].headers["webhook-id"].startswith("test_")
    code, out = cli("alerts", "test", "nope")
    assert code == 2 and "no alert channel named 'nope'" in out


def test_alerts_test_is_marked_as_a_test_in_subject_and_document(
    web: WebServer, tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    """Issue 14: a sample must not be mistaken for a real edit by whoever receives it."""
    box, port = smtp
    received: list[dict[str, Any]] = []

    def receive(request: Request) -> Reply:
        received.append(json.loads(request.body))
        return Reply("ok")

    mail = (
        '[[alerts]]\nname = "desk"\ntype = "email"\nhost = "127.0.0.1"\n'
        f'port = {port}\nsecurity = "plain"\nsender = "monitor@example.org"\n'
        'recipients = ["desk@example.org"]\n'
    )
    config = hooked_site(web, tmp_path, receive, mail)
    for channel in ("hook", "desk"):
        result = CliRunner().invoke(main, ["--config", str(config), "alerts", "test", channel])
        assert result.exit_code == 0, result.output
    (document,) = received
    assert document["test"] is True and document["type"] == "article.changed"
    (envelope,) = box.envelopes
    message = email.message_from_bytes(envelope.content, policy=default_policy)
    assert message["Subject"].startswith("[test] [minor] sample: Sample alert")
