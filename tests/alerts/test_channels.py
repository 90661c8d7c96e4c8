"""The channel registry: every kind listed with its help, built from its config
(alerts/channels.py)."""

from __future__ import annotations

from monitor.alerts import EmailChannel, WebhookChannel, build_channel, channel_kinds
from tests.alerts.samples import email_config, webhook_config


def test_channel_kinds_list_one_line_help() -> None:
    kinds = dict(channel_kinds())
    assert set(kinds) == {"webhook", "email", "apprise"}
    assert all(help_text and "\n" not in help_text for help_text in kinds.values())


async def test_build_channel_dispatches_on_type() -> None:
    hook = build_channel(webhook_config("https://hooks.example/x"))
    assert isinstance(hook, WebhookChannel) and hook.name == "hook"
    await hook.aclose()
    assert isinstance(build_channel(email_config(25)), EmailChannel)
