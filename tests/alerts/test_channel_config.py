"""The [[alerts]] tables of the config: defaults, validation, secrets kept out of sight
(config.py's alert channel models)."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import AppriseConfig, EmailConfig, WebhookConfig, settings_from_dict
from monitor.errors import ConfigError


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
    text = (Path(__file__).resolve().parents[2] / "config" / "example.toml").read_text()
    block = text[text.index("# [[alerts]]") :].splitlines()
    raw = tomllib.loads("\n".join(line[2:] for line in block if line.startswith("# ")))
    env = {
        "NEWSMONITOR_WEBHOOK_SECRET": "s",
        "NEWSMONITOR_SMTP_PASSWORD": "p",
        "NEWSMONITOR_APPRISE_URL": "json://localhost",
    }
    settings = settings_from_dict(raw, environ=env)
    assert [channel.type for channel in settings.alerts] == ["webhook", "email", "apprise"]
