"""The apprise channel: its short body, and the package it needs (alerts/apprise_channel.py)."""

from __future__ import annotations

import sys

import pytest

from monitor.alerts import AppriseChannel, build_channel
from monitor.alerts.apprise_channel import notification_body
from monitor.alerts.payload import build_event
from monitor.config import AppriseConfig
from monitor.errors import ConfigError
from tests.alerts.samples import NOW, document, message


def test_apprise_missing_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # The dev install has apprise (the channel contract suite needs it); a user's may not.
    monkeypatch.setitem(sys.modules, "apprise", None)  # `import apprise` now fails
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
