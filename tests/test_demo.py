"""The demo is the README's first command: it must detect every scripted event."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from monitor.cli import main
from monitor.demo import run_demo

ROOT = Path(__file__).resolve().parents[1]


def test_demo_detects_every_scripted_event() -> None:
    console = Console(record=True, width=120)
    assert run_demo(console, seeds_dir=str(ROOT / "seeds")) is True
    text = console.export_text()
    for kind in ("new", "changed", "removed", "moved", "restored"):
        assert f"│ {kind}" in text
    assert "feed wire failed" in text
    assert "every expected event was detected" in text
    assert "missed:" not in text and "unexpected:" not in text


def test_demo_cli_exits_zero() -> None:
    result = CliRunner().invoke(main, ["demo", "--rounds", "2"])
    assert result.exit_code == 0, result.output
    assert "Round 2" in result.output
