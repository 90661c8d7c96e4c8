"""The CLI as a user runs it: check --json, exit codes, feeds/articles/history, docs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from tests.test_pipeline import STORY, page, rss
from tests.webserver import WebServer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(tmp_path: Path, web: WebServer) -> Path:
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    path = tmp_path / "monitor.toml"
    path.write_text(
        f'[[feeds]]\nname = "world"\nurl = "{web.url("/rss")}"\n'
        "[fetch]\nallow_private_addresses = true\nretries = 0\n"
        '[storage]\nurl = "sqlite:///data/monitor.db"\n',
        encoding="utf-8",
    )
    return path


def invoke(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


def test_check_json_and_exit_code(config: Path, web: WebServer) -> None:
    code, out = invoke(config, "check", "--json", "--exit-code")
    assert code == 1
    document = json.loads(out)
    assert document["feeds"] == [
        {
            "name": "world",
            "status": "ok",
            "http_status": 200,
            "entries": 1,
            "error": None,
            "warning": None,
        }
    ]
    (change,) = document["changes"]
    assert change["kind"] == "new"
    assert change["url"] == web.url("/a/harbour")
    assert change["feed"] == "world" and change["title"] == "Harbour vote"
    assert change["version"] == 1 and change["previous_version"] is None
    assert set(change) >= {
        "kind",
        "article_id",
        "url",
        "feed",
        "title",
        "version",
        "previous_version",
        "detected_at",
    }
    assert (config.parent / "data" / "monitor.db").exists()  # relative to the config file

    # Nothing changed: exit 0 even with --exit-code; the feed is not due yet.
    code, out = invoke(config, "check", "--json", "--exit-code")
    assert code == 0
    assert json.loads(out)["feeds"][0]["status"] == "skipped"


def test_check_table_feeds_articles_history(config: Path) -> None:
    code, out = invoke(config, "check", "--all")
    assert code == 0
    assert "Check summary" in out and "Harbour vote" in out
    code, out = invoke(config, "feeds")
    assert code == 0 and "world" in out and "200" in out
    code, out = invoke(config, "articles", "--json")
    (article,) = json.loads(out)
    assert article["versions"] == 1
    code, out = invoke(config, "history", str(article["id"]), "--json")
    history = json.loads(out)
    assert history["versions"][0]["number"] == 1
    assert len(history["versions"][0]["hash"]) == 64
    code, out = invoke(config, "history", article["url"])
    assert code == 0 and "v1" in out


def test_user_errors_are_one_line_exit_2(config: Path) -> None:
    code, out = invoke(config, "check", "--feed", "nope")
    assert code == 2 and "no feed named 'nope'" in out and "Traceback" not in out
    code, out = invoke(config, "history", "999")
    assert code == 2 and "no article '999'" in out


def test_broken_store_url_is_clear(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[storage]\nurl = "postgresql+psycopg://nobody:pw@127.0.0.1:1/x"\n')
    code, out = invoke(path, "feeds")
    assert code != 0 and "Traceback" not in out
    assert "pw@" not in out  # the password never reaches the output


def test_every_command_documented_in_readme_and_has_help() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, command in main.commands.items():
        assert f"`{name}" in readme, f"README does not document `{name}`"
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0 and command.help
    assert re.search(r"make demo", readme) and re.search(r"make test", readme)


def test_python_dash_m_monitor_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0 and "newsmonitor" in result.stdout


def test_diff_command_in_every_format(config: Path, web: WebServer) -> None:
    invoke(config, "check", "--all")
    web.set("/a/harbour", page("Harbour vote", [STORY[0], STORY[1].replace("1,200", "2,400")]))
    invoke(config, "check", "--all")
    code, out = invoke(config, "history", "1", "--json")
    assert [v["number"] for v in json.loads(out)["versions"]] == [1, 2]
    (changed,) = [c for c in json.loads(out)["changes"] if c["kind"] == "changed"]
    assert changed["significance"] == "major" and "numbers" in changed["tags"]
    assert changed["stats"]["sentences_removed"] == 1

    code, out = invoke(config, "diff", "1", "--format", "text")
    assert code == 0
    assert "[-1,200-]" in out and "{+2,400+}" in out and "Significance: major" in out
    code, out = invoke(config, "diff", "1", "--format", "json")
    document = json.loads(out)
    assert (document["old"]["version"], document["new"]["version"]) == (1, 2)
    code, out = invoke(
        config, "diff", web.url("/a/harbour"), "--format", "html", "--mode", "side-by-side"
    )
    assert code == 0 and out.startswith("<!doctype html>") and "2,400" in out
    code, out = invoke(config, "diff", "1", "--against", "first")
    assert code == 0 and "2,400" in out

    code, out = invoke(config, "diff", "1", "--from", "9")
    assert code == 2 and "no version 9" in out
    code, out = invoke(config, "diff", "1", "--against", "seed")
    assert code == 2 and "not linked to a seed" in out


def test_check_json_changes_carry_classification(config: Path, web: WebServer) -> None:
    invoke(config, "check", "--all")
    web.set("/a/harbour", page("Harbour vote", [*STORY[:2], STORY[2].replace("spring", "summer")]))
    code, out = invoke(config, "check", "--all", "--json")
    assert code == 0
    (change,) = json.loads(out)["changes"]
    assert change["kind"] == "changed"
    assert change["significance"] == "minor" and change["tags"] == []
    assert change["stats"]["words_added"] == 1 and change["stats"]["words_removed"] == 1


def test_json_output_times_are_rfc3339_utc_with_z(config: Path) -> None:
    code, out = invoke(config, "check", "--json")
    (change,) = json.loads(out)["changes"]
    assert change["detected_at"].endswith("Z") and "+00:00" not in out
    documents = {}
    for args in (["feeds"], ["articles"], ["history", "1"], ["status"]):
        code, out = invoke(config, *args, "--json")
        assert code == 0, out
        documents[args[0]] = json.loads(out)
    assert documents["feeds"][0]["last_checked"].endswith("Z")
    (article,) = documents["articles"]
    assert article["first_seen"].endswith("Z") and article["next_check"].endswith("Z")
    assert documents["history"]["versions"][0]["fetched_at"].endswith("Z")
    assert documents["status"]["feeds"][0]["next_due"].endswith("Z")


def test_names_written_out_for_startup_match_the_library() -> None:
    from monitor import cli
    from monitor.config import CONFIG_ENV
    from monitor.models import AlertStatus

    assert cli.CONFIG_ENV == CONFIG_ENV
    assert tuple(status.value for status in AlertStatus) == cli.ALERT_STATUSES


def loaded_modules(*args: str) -> set[str]:
    """The modules a fresh `newsmonitor ARGS` process has loaded when it exits."""
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(' '.join(sys.modules), file=sys.stderr))\n"
        "from monitor.cli import main\n"
        f"main({list(args)!r})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return set(result.stderr.split())


def test_help_and_read_commands_start_without_the_check_machinery(tmp_path: Path) -> None:
    heavy = {"monitor.pipeline", "monitor.fetch", "monitor.alerts", "feedparser", "httpx"}
    assert not loaded_modules("--help") & (heavy | {"monitor.config", "pydantic", "rich"})
    path = tmp_path / "monitor.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{tmp_path / "m.db"}"\n', encoding="utf-8")
    assert not loaded_modules("--config", str(path), "feeds") & heavy
