"""Config loading: validation messages name file and key; env interpolation; path rules."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.config import (
    SeedSettings,
    Settings,
    StorageSettings,
    WebhookConfig,
    load_settings,
    parse_duration,
    settings_from_dict,
)
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_and_documents_every_key() -> None:
    settings = load_settings(ROOT / "config" / "example.toml", environ={})
    assert settings.feeds and settings.feeds[0].name == "bbc-world"
    raw = tomllib.loads((ROOT / "config" / "example.toml").read_text())
    documented = set(raw) | {
        f"{k}.{sub}" for k, v in raw.items() if isinstance(v, dict) for sub in v
    }
    sections = ("storage", "seeds", "fetch", "tracking", "classify", "daemon", "outbox", "web")
    for section in sections:
        model = getattr(Settings.model_fields[section].annotation, "model_fields", {})
        for key in model:
            assert f"{section}.{key}" in documented, f"example.toml lacks {section}.{key}"
    feed_keys = set(raw["feeds"][0])
    assert feed_keys >= {"name", "url", "interval", "fetch_articles", "ignore", "classify"}
    text = (ROOT / "config" / "example.toml").read_text()
    assert "[[alerts]]" in text


def test_default_config_loads() -> None:
    settings = load_settings(ROOT / "config" / "monitor.toml", environ={})
    assert settings.storage.url == f"sqlite:///{ROOT / 'snapshots' / 'monitor.db'}"
    assert settings.seeds.dir == str(ROOT / "seeds")


def test_relative_paths_resolve_against_config_dir(tmp_path: Path) -> None:
    path = write(tmp_path, '[storage]\nurl = "sqlite:///data/m.db"\n')
    settings = load_settings(path, environ={})
    assert settings.storage.url == f"sqlite:///{tmp_path / 'data' / 'm.db'}"
    absolute = write(tmp_path, '[storage]\nurl = "sqlite:////var/x.db"\n')
    assert load_settings(absolute, environ={}).storage.url == "sqlite:////var/x.db"


def test_storage_timeouts_and_suspect_confirmation_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[storage]\nurl = "sqlite:///m.db"\nlock_timeout = "2s"\nstatement_timeout = "1m"\n'
        '[tracking]\nconfirm_suspect_after = "30m"\n',
    )
    settings = load_settings(path, environ={})
    assert settings.storage.lock_timeout == timedelta(seconds=2)
    assert settings.storage.statement_timeout == timedelta(minutes=1)
    assert settings.storage.url == f"sqlite:///{tmp_path / 'm.db'}"  # still resolved
    assert settings.tracking.confirm_suspect_after == timedelta(minutes=30)
    zero = write(tmp_path, '[storage]\nlock_timeout = "0s"\n')
    with pytest.raises(ConfigError, match=r"storage.lock_timeout: must be more than 0"):
        load_settings(zero, environ={})


def test_env_interpolation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[storage]\nurl = "postgresql+psycopg://u:${PGPASS}@h/db"\n'
        '[[alerts]]\nname = "hook"\ntype = "webhook"\nurl = "https://h.example/"\n'
        'secret = "$${literal}"\n',
    )
    settings = load_settings(path, environ={"PGPASS": "s3cret"})
    assert settings.storage.url == "postgresql+psycopg://u:s3cret@h/db"
    hook = settings.alerts[0]
    assert isinstance(hook, WebhookConfig)
    assert hook.secret.get_secret_value() == "${literal}"


def test_missing_env_var_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[[feeds]]\nname = "a"\nurl = "https://x/${FEED_TOKEN}"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(path) in str(caught.value)
    assert "feeds[0].url" in str(caught.value)
    assert "FEED_TOKEN" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[[feeds]]\nname = "a"\nurl = "ftp://x"\n', "feeds[0].url", "not an http(s) URL"),
        (
            '[[feeds]]\nname = "a"\nurl = "http://x"\ninterval = "soon"\n',
            "feeds[0].interval",
            "invalid duration",
        ),
        ("[fetch]\nmax_bytes = -1\n", "fetch.max_bytes", "greater than 0"),
        ('[fetch]\nuser_agnet = "x"\n', "fetch.user_agnet", "unknown key"),
        (
            '[[feeds]]\nname = "a"\nurl = "http://x"\nignore = ["("]\n',
            "feeds[0].ignore",
            "invalid regular expression",
        ),
        (
            '[tracking]\nschedule = [{until="1d", every="1h"}, {until="3h", every="15m"}]\n',
            "tracking.schedule",
            "increasing",
        ),
        ('[daemon]\nheartbeat = "0s"\n', "daemon.heartbeat", "more than 0 seconds"),
        (
            '[daemon]\nheartbeat = "1m"\nclaim_lease = "90s"\n',
            "daemon",
            "'claim_lease' must be at least twice 'heartbeat'",
        ),
        ('[daemon]\nmetrics = "nowhere"\n', "daemon.metrics", "host:port"),
    ],
)
def test_validation_errors_name_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert message.startswith(str(path))
    assert key in message
    assert words in message


def test_duplicate_feed_names_rejected() -> None:
    feed = {"name": "a", "url": "http://x/"}
    with pytest.raises(ConfigError, match="unique: a"):
        settings_from_dict({"feeds": [feed, feed]})


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(write(tmp_path, "feeds = [\n"), environ={})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_durations() -> None:
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("1.5h") == timedelta(minutes=90)
    assert parse_duration(90) == timedelta(seconds=90)
    with pytest.raises(ValueError):
        parse_duration("fortnight")


def test_cli_config_error_is_one_line_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, '[fetch]\ntimeout = "slow"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "feeds"])
    assert result.exit_code == 2
    assert "fetch.timeout" in result.output
    assert "Traceback" not in result.output


def test_cli_env_config_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[[feeds]]\nname = "only"\nurl = "http://127.0.0.1:9/feed"\n')
    monkeypatch.setenv("NEWSMONITOR_CONFIG", str(path))
    result = CliRunner().invoke(main, ["feeds", "--json"])
    assert result.exit_code == 0, result.output
    assert '"name": "only"' in result.output


def test_per_feed_classify_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[classify]\nmajor_words = 30\n[[feeds]]\nname = "a"\nurl = "http://x/"\n'
        "classify = { major_words = 80 }\n"
        '[[feeds]]\nname = "b"\nurl = "http://y/"\n',
    )
    settings = load_settings(path, environ={})
    assert settings.rules("a").major_words == 80
    assert settings.rules("b").major_words == 30
    bad = write(tmp_path, '[[feeds]]\nname = "a"\nurl = "http://x/"\nclassify = { majr = 1 }\n')
    with pytest.raises(ConfigError, match=r"feeds\[0\]\.classify\.majr: unknown key"):
        load_settings(bad, environ={})


def _section_words(text: str, section: str) -> str:
    """The lines of one [section] of a TOML file, comment marks removed, joined by spaces."""
    body = text.split(f"\n[{section}]\n", 1)[1].split("\n[", 1)[0]
    lines = [line.strip().lstrip("#").strip() for line in body.splitlines()]
    return " ".join(line for line in lines if line)


def _stated_default(text: str) -> str | None:
    found = re.search(r'Without this key: "([^"]+)"', text)
    return found[1] if found else None


def test_docs_say_where_the_default_store_and_seeds_are(tmp_path: Path) -> None:
    """Issue 14: the defaults resolve against the config file's folder, and the example
    and README say so, in the words the code uses."""
    settings = load_settings(write(tmp_path, ""), environ={})
    assert settings.storage.url == f"sqlite:///{tmp_path / 'snapshots' / 'monitor.db'}"
    assert settings.seeds.dir == str(tmp_path / "seeds")
    example = (ROOT / "config" / "example.toml").read_text(encoding="utf-8")
    storage = _section_words(example, "storage")
    assert _stated_default(storage) == StorageSettings().url
    assert "config/snapshots/monitor.db for config/monitor.toml" in storage
    assert _stated_default(_section_words(example, "seeds")) == SeedSettings().dir
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "a config without `[storage]` keeps it in `snapshots/monitor.db` next to itself" in (
        readme
    )


def test_daemon_heartbeat_lease_and_metrics_are_read(tmp_path: Path) -> None:
    text = '[daemon]\nheartbeat = "5s"\nclaim_lease = "20s"\nmetrics = "127.0.0.1:9464"\n'
    daemon = load_settings(write(tmp_path, text), environ={}).daemon
    assert daemon.heartbeat == timedelta(seconds=5)
    assert daemon.claim_lease == timedelta(seconds=20)
    assert daemon.lost_after == timedelta(seconds=15)
    assert daemon.metrics == "127.0.0.1:9464"
    assert (
        load_settings(write(tmp_path, '[daemon]\nmetrics = ""\n'), environ={}).daemon.metrics
        is None
    )
