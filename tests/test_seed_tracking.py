"""Seeds end to end: articles link to the seed story, drift is tracked, shown and alerted."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.config import load_settings
from monitor.newsroom import COPPER
from monitor.pipeline import check_once
from monitor.store.sql import open_store
from tests.test_pipeline import page, rss
from tests.webserver import WebServer

ROOT = Path(__file__).resolve().parents[1]
SEED_ID = "000_c6811b779e006353"
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def seed_paragraphs() -> list[str]:
    text = (ROOT / "seeds" / f"{SEED_ID}.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


OTHER = [
    "The city council voted on Tuesday to expand the harbour, a plan that has divided "
    "residents for more than a decade and drawn protests from fishing crews.",
    "Supporters say the new quay will bring 1,200 jobs; opponents fear for the wetlands "
    "north of the old port, home to several rare species of wading birds.",
    "The mayor said construction could begin next spring if the regional government agrees "
    "to pay for a new access road, which engineers say is needed before any digging.",
    "Residents will be able to comment on the plans at a public meeting next month.",
]


@pytest.fixture
def config(tmp_path: Path, web: WebServer) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / f"{SEED_ID}.txt").write_text("\n".join(seed_paragraphs()), encoding="utf-8")
    (seeds / "watched.md").write_text(
        f'+++\ntitle = "A page watched directly"\nurl = "{web.url("/watched")}"\n+++\n'
        + "\n\n".join(COPPER.paragraphs),
        encoding="utf-8",
    )
    web.set("/rss", rss([("Bukele prison offer", "/a/bukele"), ("Harbour", "/a/harbour")], web))
    web.set("/a/bukele", page("Bukele offers to jail US deportees", seed_paragraphs()[:-1]))
    web.set("/a/harbour", page("Harbour vote", OTHER))
    web.set("/watched", page("Watched page", list(COPPER.paragraphs)))
    path = tmp_path / "monitor.toml"
    path.write_text(
        f'ignore = ["^Watch NBS news on YouTube.*$"]\n[[feeds]]\nname = "world"\n'
        f'url = "{web.url("/rss")}"\n[fetch]\nallow_private_addresses = true\nretries = 0\n',
        encoding="utf-8",
    )
    return path


def cli(config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_seed_story_links_and_its_drift_is_tracked(config: Path, web: WebServer) -> None:
    first = json.loads(cli(config, "check", "--json"))
    linked = {c["url"].rsplit("/", 1)[-1]: c["seed_id"] for c in first["changes"]}
    assert linked == {"bukele": SEED_ID, "harbour": None, "watched": "watched"}
    bukele = next(c for c in first["changes"] if c["url"].endswith("/bukele"))
    assert bukele["drift"]["similarity"] == 1.0

    edited = seed_paragraphs()[:-1]
    edited[11] = edited[11].replace("30,000", "40,000")
    edited.insert(2, "The proposal drew immediate criticism from civil liberties groups.")
    del edited[10]  # the Reichlin-Melnick quotation
    web.set("/a/bukele", page("Bukele offers to jail US deportees", edited))
    second = json.loads(cli(config, "check", "--all", "--json"))
    (change,) = [c for c in second["changes"] if c["kind"] == "changed"]
    drift = change["drift"]
    assert change["seed_id"] == SEED_ID
    assert (drift["sentences_added"], drift["sentences_removed"]) == (1, 1)
    assert (drift["numbers_added"], drift["numbers_removed"]) == (["40,000"], ["30,000"])
    assert drift["quotes_removed"] == [
        "I don’t care what Bukele says, the United States cannot legally banish Americans "
        "— such authorities died centuries ago,"
    ]

    seeds = json.loads(cli(config, "seeds", "--json"))
    by_id = {seed["id"]: seed for seed in seeds}
    (article,) = by_id[SEED_ID]["articles"]
    assert article["drift_version"] == 2 and article["reasons"]
    assert any("containment" in reason for reason in article["reasons"])
    assert by_id["watched"]["articles"][0]["reasons"] == ["url matches the seed's url"]

    timeline = json.loads(cli(config, "seeds", "show", SEED_ID, "--json"))["timeline"]
    assert [(p["version"], p["drift"]["sentences_edited"]) for p in timeline] == [(1, 0), (2, 1)]
    table = cli(config, "seeds", "show", SEED_ID)
    assert "30,000 -> 40,000" in table

    article_id = str(change["article_id"])
    text = cli(config, "diff", article_id, "--against", "seed", "--format", "text")
    assert f"--- seed {SEED_ID}" in text
    assert "+ The proposal drew immediate criticism" in text
    assert "[-30,000-]" in text and "{+40,000+}" in text
    assert "- “I don’t care what Bukele says" in text


def test_a_reused_url_is_unlinked(config: Path, web: WebServer) -> None:
    cli(config, "check")
    web.set("/a/bukele", page("Harbour plans approved", OTHER))  # another story, same URL
    held = json.loads(cli(config, "check", "--all", "--json"))
    assert held["changes"] == []  # a collapse to a sixth of the text is suspect at first
    assert any("suspect fetch (the text collapsed" in w for w in held["warnings"])
    # A suspect fetch is confirmed by one at least 15 minutes later (the default): that
    # check runs in-process, with its clock set past that time instead of waiting for it.
    settings = load_settings(str(config))
    later = datetime.now(UTC) + timedelta(minutes=20)
    store = open_store(settings.storage.url)
    try:
        second = asyncio.run(check_once(settings, store, later, force=True))
    finally:
        store.close()
    (change,) = [c for c in second.changes if c.url.endswith("/bukele")]
    assert change.detail == "confirmed after a suspect fetch"
    assert change.significance == "rewrite" and change.seed_id is None
    assert any("no longer matches seed" in w for w in second.warnings)
    seeds = {s["id"]: s for s in json.loads(cli(config, "seeds", "--json"))}
    assert seeds[SEED_ID]["articles"] == []


def test_a_seed_url_without_feed_is_watched_on_its_own_schedule(config: Path, web: WebServer):
    cli(config, "check")
    hits = len(web.hits("/watched"))
    cli(config, "check")  # within the seed interval (1h): not fetched again
    assert len(web.hits("/watched")) == hits == 1
    articles = json.loads(cli(config, "articles", "--json"))
    (watched,) = [a for a in articles if a["url"].endswith("/watched")]
    assert watched["feed"] == "seed:watched"
    next_check = datetime.fromisoformat(watched["next_check"])
    first_seen = datetime.fromisoformat(watched["first_seen"])
    assert next_check - first_seen == timedelta(hours=1)
