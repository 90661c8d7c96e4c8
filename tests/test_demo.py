"""The demo is the README's first command: it must detect every scripted event."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from monitor.cli import main
from monitor.demo import packaged_seeds, run_demo
from monitor.errors import MonitorError

ROOT = Path(__file__).resolve().parents[1]
SEED_ID = "000_c6811b779e006353"


def test_demo_detects_every_scripted_event() -> None:
    console = Console(record=True, width=120)
    assert run_demo(console) is True
    text = console.export_text()
    for kind in ("new", "changed", "removed", "moved", "restored"):
        assert f"│ {kind}" in text
    assert "feed wire failed" in text
    assert "every expected event was detected" in text
    assert "missed:" not in text and "unexpected:" not in text
    assert re.search(rf"│ {SEED_ID} │ \d+ world: Bukele offers", text)  # the seed story, linked


def test_demo_cli_exits_zero() -> None:
    result = CliRunner().invoke(main, ["demo", "--rounds", "2"])
    assert result.exit_code == 0, result.output
    assert "Round 2" in result.output


def test_demo_shows_the_seed_story_from_any_folder(tmp_path: Path) -> None:
    """Issue 14: run from another folder, the seed story vanished while the demo still
    claimed success; its seed now comes from the package."""
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "demo", "--rounds", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    seeds = result.stdout.split("The seed story, wherever it appeared", 1)[1]
    assert re.search(rf"│ {SEED_ID} +│ \d+ world: El Salvador", seeds), seeds
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())  # nothing written where it was run


def test_packaged_seed_is_the_shipped_seed() -> None:
    """The package ships the same seed story as the repository's sample ``seeds/``."""
    packaged = packaged_seeds().joinpath(f"{SEED_ID}.txt").read_text(encoding="utf-8")
    assert packaged == (ROOT / "seeds" / f"{SEED_ID}.txt").read_text(encoding="utf-8")


def test_demo_without_its_seed_fails_loudly(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    with pytest.raises(MonitorError, match=f"{tmp_path}: the demo's seed story is missing"):
        run_demo(console, seeds=tmp_path)
    assert "every expected event was detected" not in console.export_text()


def test_demo_keeps_its_archive_to_serve_when_asked(tmp_path: Path) -> None:
    from monitor.config import load_settings
    from monitor.store.sql import open_store

    kept = tmp_path / "archive"
    result = CliRunner().invoke(main, ["demo", "--rounds", "2", "--keep", str(kept)])

    assert result.exit_code == 0, result.output
    assert f"newsmonitor --config {kept / 'demo.toml'} serve" in result.output
    settings = load_settings(kept / "demo.toml")
    assert [feed.name for feed in settings.feeds] == ["world", "politics", "wire"]
    store = open_store(settings.storage.url, read_only=True)
    try:
        assert store.list_articles("world")  # the rounds' articles, there to browse
    finally:
        store.close()

    again = CliRunner().invoke(main, ["demo", "--rounds", "1", "--keep", str(kept)])

    assert again.exit_code == 2
    assert "not an empty folder" in again.output
