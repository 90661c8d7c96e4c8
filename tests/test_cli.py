"""The CLI as a user runs it: check --json, exit codes, feeds/articles/history, docs."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from tests.test_pipeline import STORY, page, rss
from tests.webserver import Reply, WebServer

ROOT = Path(__file__).resolve().parents[1]


def harbour_config(tmp_path: Path, web: WebServer) -> Path:
    """A config watching one feed on ``web`` with one article (STORY), its store beside it."""
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


@pytest.fixture
def config(tmp_path: Path, web: WebServer) -> Path:
    return harbour_config(tmp_path, web)


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


_ENDING = """
import atexit, pathlib, sys

config = sys.argv[1]

class Teardown:
    def __del__(self):  # runs only if the interpreter frees its modules one by one
        pathlib.Path(config + ".teardown").write_text("ran")

kept = Teardown()
atexit.register(lambda: pathlib.Path(config + ".atexit").write_text("ran"))
sys.argv = ["newsmonitor", "--config", config, *sys.argv[2:]]
from monitor import main
main()
"""


@pytest.mark.parametrize(("args", "status"), [((), 0), (("--exit-code",), 1)])
def test_a_check_process_ends_without_the_teardown_but_with_everything_else(
    config: Path, args: tuple[str, ...], status: int
) -> None:
    # Issue 16: a finished check skips freeing its modules one by one (0.1 s); its output,
    # its status and every exit handler are as in any exit.
    command = [sys.executable, "-c", _ENDING, str(config), "check", "--json", *args]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == status, result.stderr
    report = json.loads(result.stdout)
    assert [c["kind"] for c in report["changes"]] == ["new"]
    assert Path(f"{config}.atexit").read_text() == "ran"
    assert not Path(f"{config}.teardown").exists()

    # Any other command ends as usual, teardown included.
    done = subprocess.run(
        [sys.executable, "-c", _ENDING, str(config), "status"], capture_output=True, cwd=ROOT
    )
    assert done.returncode == 0 and Path(f"{config}.teardown").read_text() == "ran"


def test_a_check_with_nothing_to_parse_or_extract_loads_neither(config: Path) -> None:
    # Issue 16: feedparser, lxml and the extractor are loaded by the first feed, sitemap or
    # page that needs them; a round of 304s (here: a feed that cannot be reached) starts
    # sooner without them.
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed = unused.getsockname()[1]  # nobody listens there once it is closed
    feed = f'url = "http://127.0.0.1:{closed}/rss"'
    config.write_text(re.sub(r'url = "http[^"]*"', feed, config.read_text()))
    script = (
        "import sys\nfrom monitor.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = sorted({'lxml', 'feedparser', 'monitor.extract'} & set(sys.modules))\n"
        "print('loaded:', loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "--config", str(config), "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert "loaded: []" in result.stdout, result.stdout + result.stderr


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


# --- issue 14, "small truths" -------------------------------------------------------------

CORPORA = ROOT.parent / "shared" / "corpora"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
WAPO = CORPORA / "real_feeds" / "diffengine-wapo" / "wapo_politics_2017-01-07.xml"


def test_check_all_progress_bar_shows_its_total(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich draws the bar as on a terminal
    code, out = invoke(config, "check", "--all")
    assert code == 0
    bar = ANSI.sub("", out)
    assert "1/1" in bar and "/?" not in bar  # one feed, nothing tracked yet
    code, out = invoke(config, "check", "--all")
    assert code == 0
    bar = ANSI.sub("", out)
    assert "2/2" in bar and "/?" not in bar  # the feed and its tracked article


def test_diff_of_an_article_with_one_version_says_so(config: Path, web: WebServer) -> None:
    invoke(config, "check")
    for args in ([], ["--against", "first"], ["--format", "json"]):
        code, out = invoke(config, "diff", "1", *args)
        assert code == 2, out
        assert out.strip().splitlines() == [
            "Error: article 1 has one version (v1): nothing to compare it with yet"
        ]
    web.set("/a/harbour", page("Harbour vote", [STORY[0], STORY[1].replace("1,200", "2,400")]))
    invoke(config, "check", "--all")
    code, out = invoke(config, "diff", "1", "--to", "1")
    assert code == 2 and "v1 against itself shows nothing" in out


def test_unknown_feed_and_alert_ids_are_one_line_exit_2(config: Path) -> None:
    invoke(config, "check")
    code, out = invoke(config, "articles", "--feed", "nope")
    assert code == 2 and "Traceback" not in out
    assert out.strip().splitlines() == [f"Error: {config}: no feed named 'nope' (feeds: world)"]
    code, out = invoke(config, "articles", "--feed", "world", "--json")
    assert code == 0 and len(json.loads(out)) == 1
    code, out = invoke(config, "alerts", "retry", "999")
    assert code == 2
    assert out.strip().splitlines() == ["Error: no alert 999 (see `newsmonitor alerts`)"]


def test_check_and_run_without_feeds_name_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text('[storage]\nurl = "sqlite:///m.db"\n', encoding="utf-8")
    for command in ("check", "run"):
        code, out = invoke(path, command)
        assert code == 2, out
        assert out.strip().splitlines() == [
            f"Error: no feeds configured in {path}: add a [[feeds]] table, or a seed "
            "with a url (see config/example.toml)"
        ]
    for command in ("status", "articles", "alerts"):  # reading a store needs no feeds
        code, out = invoke(path, command)
        assert code == 0, out


def test_check_watches_a_seed_url_without_any_feed(tmp_path: Path, web: WebServer) -> None:
    web.set("/watched", page("Watched page", STORY))
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "watched.md").write_text(
        f'+++\ntitle = "Watched page"\nurl = "{web.url("/watched")}"\n+++\n' + STORY[0],
        encoding="utf-8",
    )
    path = tmp_path / "monitor.toml"
    path.write_text(
        '[storage]\nurl = "sqlite:///m.db"\n[fetch]\nallow_private_addresses = true\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--config", str(path), "check", "--json"])
    assert result.exit_code == 0, result.output
    assert [c["url"] for c in json.loads(result.stdout)["changes"]] == [web.url("/watched")]


def test_side_by_side_is_for_html_only(config: Path, web: WebServer) -> None:
    invoke(config, "check")
    web.set("/a/harbour", page("Harbour vote", [STORY[0], STORY[1].replace("1,200", "2,400")]))
    invoke(config, "check", "--all")
    for fmt in ("term", "text", "json"):
        code, out = invoke(config, "diff", "1", "--format", fmt, "--mode", "side-by-side")
        assert code == 2, out
        assert out.strip().splitlines() == [
            f"Error: --mode side-by-side is an HTML layout: use it with --format html "
            f"(--format {fmt} shows changes inline)"
        ]
    code, out = invoke(config, "diff", "1", "--format", "html", "--mode", "side-by-side")
    assert code == 0 and "2,400" in out


@pytest.mark.skipif(not WAPO.is_file(), reason=f"real feed not found: {WAPO}")
def test_a_headline_that_is_also_the_feed_title_is_shown_once(
    tmp_path: Path, web: WebServer
) -> None:
    """Feed-only monitoring of a real Washington Post feed: the version's headline is the
    entry's title, so a retitled entry changed both; the diff names it once."""
    original = WAPO.read_text(encoding="utf-8")
    edited = original.replace("Putin ‘ordered’ effort", "Putin ‘directed’ effort", 1)
    assert edited != original
    web.set("/rss", Reply(original, content_type="application/rss+xml"))
    path = tmp_path / "monitor.toml"
    path.write_text(
        f'[[feeds]]\nname = "wapo"\nurl = "{web.url("/rss")}"\nfetch_articles = false\n'
        '[storage]\nurl = "sqlite:///m.db"\n',
        encoding="utf-8",
    )
    invoke(path, "check")
    web.set("/rss", Reply(edited, content_type="application/rss+xml"))
    code, out = invoke(path, "check", "--all", "--json")
    assert code == 0, out
    (change,) = [c for c in json.loads(out)["changes"] if c["kind"] == "changed"]
    article = str(change["article_id"])
    code, out = invoke(path, "diff", article, "--format", "text")
    assert code == 0, out
    assert out.count("@@ Headline @@") == 1 and "Feed title" not in out
    assert out.count("‘directed’") == 2  # the title line of the header, and the new headline
    code, out = invoke(path, "diff", article, "--format", "json")
    assert [f["field"] for f in json.loads(out)["fields"]] == ["headline"]


# Issue 14, "honest summaries" and "80 columns and pipes": a real feed whose article pages
# all fail. The corpus feed's links are moved to .invalid (RFC 6761: never resolves), so
# every page fails to resolve here as on any machine, as unreachable sites do.
WAPO_FEED = ROOT.parent / "shared" / "corpora" / "real_feeds" / "diffengine-wapo"
WAPO_FEED = WAPO_FEED / "wapo_national_2017-01-07.xml"


def served_feed_config(folder: Path, web: WebServer, name: str, feed: bytes, rest: str) -> Path:
    """A config of one feed ``name`` served on loopback, ``rest`` (TOML tables) after it."""
    web.set(f"/{name}", Reply(feed, content_type="application/rss+xml"))
    path = folder / "monitor.toml"
    table = f'[[feeds]]\nname = "{name}"\nurl = "{web.url(f"/{name}")}"\n'
    path.write_text(table + rest + '[storage]\nurl = "sqlite:///m.db"\n', encoding="utf-8")
    return path


@pytest.fixture
def wapo_config(tmp_path: Path, web: WebServer) -> Path:
    if not WAPO_FEED.is_file():
        pytest.skip(f"real feed corpus not found: {WAPO_FEED}")
    feed = WAPO_FEED.read_bytes().replace(b"washingtonpost.com", b"washingtonpost.invalid")
    rest = "[fetch]\nretries = 0\n[extract]\nworkers = 1\n"
    return served_feed_config(tmp_path, web, "wapo-national", feed, rest)


def test_a_first_check_of_a_real_feed_counts_its_failed_pages(wapo_config: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(wapo_config), "check"])
    assert result.exit_code == 0, result.output
    out, notes = result.stdout.splitlines(), result.stderr.splitlines()
    # Piped: a header, one line per new article, and the summary last, errors counted.
    assert len(out) == 1 + 20 + 3 and not any("│" in line or "━" in line for line in out)
    assert out[-1] == "errors: 20 (0 feeds, 20 article pages, 0 writes not stored)"
    assert notes == ["error: 20 × washingtonpost.invalid: cannot resolve host"]

    code, listed = invoke(wapo_config, "feeds")
    assert listed.splitlines()[1].split("\t")[:3] == ["wapo-national", "ok (200)", "20"]
    code, document = invoke(wapo_config, "feeds", "--json")
    assert code == 0 and json.loads(document)[0]["article_failures"] == 20
    code, document = invoke(wapo_config, "status", "--json")
    assert code == 0 and json.loads(document)["feeds"][0]["article_failures"] == 20


def test_piped_articles_are_one_whole_record_per_line(wapo_config: Path) -> None:
    invoke(wapo_config, "check")
    code, out = invoke(wapo_config, "articles")
    header, *rows = out.splitlines()
    assert code == 0 and header.split("\t")[:2] == ["id", "feed"] and len(rows) == 20
    url = "https://www.washingtonpost.invalid/news/post-nation/wp/2017/01/07/"
    url += "fort-lauderdale-airport-gunman-lost-his-mind-in-iraq-family-says/"
    (row,) = [row.split("\t") for row in rows if url in row]  # what `| grep` finds
    title = (
        "Suspect in Fort Lauderdale shooting charged with federal crimes, could face death penalty"
    )
    assert row[4] == title  # whole, however long
    assert row[5] == url and row[7] == "cannot resolve host 'www.washingtonpost.invalid'"


_REAPER = """
import ctypes, os, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come to us
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(done.stdout)
sys.stderr.write(done.stderr)
time.sleep(0.2)
left = 0
try:
    while os.waitpid(-1, os.WNOHANG) != (0, 0):
        pass
    left = 1  # a descendant outlived the check, and is still running
except ChildProcessError:
    pass  # none
sys.exit(done.returncode + 10 * left)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="subreaper, fork: Linux")
def test_check_with_many_feeds_forks_its_workers_and_leaves_none_behind(
    tmp_path: Path, web: WebServer
) -> None:
    # Issue 16: more than 16 feeds, and the workers are forked before the store is opened;
    # they extract the pages, and end with the check, whether used or not.
    feeds = ""
    for n in range(20):
        web.set(f"/rss{n}", rss([(f"Story {n}", f"/a/story-{n}")], web))
        web.set(f"/a/story-{n}", page(f"Story {n}", [f"Paragraph {n}.", *STORY]))
        feeds += f'[[feeds]]\nname = "f{n}"\nurl = "{web.url(f"/rss{n}")}"\n'
    config = tmp_path / "monitor.toml"
    config.write_text(
        feeds + "[fetch]\nallow_private_addresses = true\nretries = 0\n"
        '[storage]\nurl = "sqlite:///monitor.db"\n',
        encoding="utf-8",
    )
    script = tmp_path / "reaper.py"
    script.write_text(_REAPER)
    command = [sys.executable, str(script), sys.executable, "-m", "monitor"]
    for round_ in ("new", "unchanged"):
        done = subprocess.run(
            [*command, "--config", str(config), "check", "--all", "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert done.returncode == 0, (round_, done.stderr)  # 10 and up: a process left
        report = json.loads(done.stdout)
        assert report["errors"] == []
        kinds = sorted(change["kind"] for change in report["changes"])
        assert kinds == (["new"] * 20 if round_ == "new" else [])
