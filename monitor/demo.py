"""``newsmonitor demo``: the monitor watching a built-in newsroom on loopback.

Each round the newsroom changes (edits, a removal, a move, a broken feed) and the clock
jumps 20 minutes, so tracked articles come due for re-checking as they would in real life.
The seed story comes from the package (``monitor/demo_seeds/``), not the current folder, so
the demo shows it from wherever it is run (issue 14).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from monitor.compare import compare_stored, seeds_overview
from monitor.config import Settings, settings_from_dict
from monitor.errors import ConfigError, MonitorError
from monitor.models import Change, ChangeKind, CheckReport
from monitor.newsroom import Newsroom, Round
from monitor.pipeline import check_once
from monitor.render.report import changes_table, print_feed_problems, seeds_table
from monitor.render.terminal import render_terminal
from monitor.render.text import render_text
from monitor.store import ArchiveStore
from monitor.store.sql import open_store

ROUND_GAP = timedelta(minutes=20)
SEED_SUFFIXES = (".txt", ".md")  # what seeds.load_seeds reads


def packaged_seeds() -> Traversable:
    """The folder of seed documents shipped in the package (pyproject package-data)."""
    return resources.files("monitor").joinpath("demo_seeds")


def copy_seeds(source: Traversable, target: Path) -> str:
    """Copy the seed documents of ``source`` into ``target``; return the first one's text.

    Raises MonitorError naming ``source`` when it holds none: without its seed the newsroom
    would serve a stand-in story that no seed matches, and the demo would "succeed" without
    ever showing what seeds are for.
    """
    files = []
    if source.is_dir():
        files = [item for item in source.iterdir() if item.name.endswith(SEED_SUFFIXES)]
        files.sort(key=lambda item: item.name)
    if not files:
        raise MonitorError(f"{source}: the demo's seed story is missing (reinstall newsmonitor)")
    target.mkdir(parents=True, exist_ok=True)
    for item in files:
        (target / item.name).write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
    return files[0].read_text(encoding="utf-8")


def demo_settings(newsroom: Newsroom, workdir: Path, seeds_dir: Path) -> Settings:
    """Settings watching every feed of ``newsroom``, with a store and seeds in ``workdir``."""
    return settings_from_dict(
        {
            "feeds": [
                {"name": name, "url": url, "interval": "15m"} for name, url in newsroom.feeds()
            ],
            "fetch": {"allow_private_addresses": True, "retries": 0, "deadline": 10},
            "storage": {"url": f"sqlite:///{workdir / 'demo.db'}"},
            "ignore": [r"^Watch NBS news on YouTube.*$"],
            "seeds": {"dir": str(seeds_dir)},
        },
        source=workdir / "demo.toml",
    )


def run_demo(
    console: Console,
    max_rounds: int | None = None,
    seeds: Traversable | None = None,
    keep: Path | None = None,
) -> bool:
    """Run the scripted rounds; return True when every expected event was detected.

    ``seeds`` is the folder of seed documents (default: the packaged ones). ``keep``: a new
    folder that keeps the demo's store, seeds and a ``demo.toml`` to open them with
    (``newsmonitor --config DIR/demo.toml serve``); without it all is temporary.
    """
    with ExitStack() as stack:
        if keep is None:
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="newsmonitor-demo-"))
            )
        else:
            workdir = _new_folder(keep)
        seed_text = copy_seeds(seeds or packaged_seeds(), workdir / "seeds")
        with Newsroom(seed_text=seed_text) as newsroom:
            settings = demo_settings(newsroom, workdir, workdir / "seeds")
            console.print(
                f"[bold]Newsmonitor demo[/bold]: a newsroom at {newsroom.base_url} with feeds "
                + ", ".join(name for name, _ in newsroom.feeds())
            )
            all_ok = _run_rounds(console, newsroom, settings, max_rounds)
            if keep is not None:
                _write_config(workdir / "demo.toml", newsroom)
    console.rule()
    verdict = "[green]every expected event was detected[/green]"
    console.print(verdict if all_ok else "[red]some expected events were missed[/red]")
    if keep is not None:
        # Not wrapped: the command is for copying.
        console.print(f"The demo's archive is kept in {escape(str(keep))}; browse it with")
        console.print(
            f"  newsmonitor --config {escape(str(keep / 'demo.toml'))} serve", soft_wrap=True
        )
    return all_ok


def _new_folder(path: Path) -> Path:
    """``path`` as a new, empty folder; MonitorError (one line) when it holds anything."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ConfigError(f"{path}: not an empty folder; the demo keeps its archive in a new one")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the folder: {exc.strerror or exc}") from exc
    return path


def _write_config(path: Path, newsroom: Newsroom) -> None:
    """A config that opens the kept archive: its store and seeds beside it, its feeds (on a
    loopback newsroom that is gone once the demo ends, so only the read commands and
    `serve` are of use)."""
    lines = [
        "# Written by `newsmonitor demo --keep`: the demo's archive, to read and serve.",
        'ignore = ["^Watch NBS news on YouTube.*$"]',
        "",
        "[storage]",
        'url = "sqlite:///demo.db"',
        "",
        "[seeds]",
        'dir = "seeds"',
        "",
        "[fetch]",
        "allow_private_addresses = true",
    ]
    for name, url in newsroom.feeds():
        lines += ["", "[[feeds]]", f"name = {json.dumps(name)}", f"url = {json.dumps(url)}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _run_rounds(
    console: Console, newsroom: Newsroom, settings: Settings, max_rounds: int | None
) -> bool:
    """Each round checked and shown, then the seed story; True when nothing was missed."""
    all_ok = True
    store = open_store(settings.storage.url)
    try:
        now = datetime.now(UTC)
        rounds = newsroom.rounds[:max_rounds] if max_rounds else newsroom.rounds
        for index, script in enumerate(rounds):
            if index:
                newsroom.advance()
                now += ROUND_GAP
            console.rule(f"Round {script.number}")
            console.print(escape(script.description))
            report = asyncio.run(check_once(settings, store, now, force=True))
            all_ok &= _show_round(console, report, script, newsroom)
            _show_diffs(console, report, store, settings, now)
        all_ok &= _show_seeds(console, store, settings)
    finally:
        store.close()
    return all_ok


def _show_seeds(console: Console, store: ArchiveStore, settings: Settings) -> bool:
    """The seeds table; False (and said in red) when no article was linked to a seed."""
    console.rule("The seed story, wherever it appeared")
    console.print("[dim]$ newsmonitor seeds[/dim]")
    overview = seeds_overview(store, settings)
    console.print(seeds_table(overview))
    if any(linked for _, linked in overview):
        return True
    console.print("[red]missed:[/red] the seed story was linked to no article")
    return False


def _slug(change: Change, newsroom: Newsroom) -> str:
    return change.url.removeprefix(newsroom.base_url).rsplit("/", 1)[-1]


def _show_round(console: Console, report: CheckReport, script: Round, newsroom: Newsroom) -> bool:
    if report.changes:
        console.print(changes_table(report.changes, title="Detected"))
    else:
        console.print("[dim]nothing changed[/dim]")
    versions = sum(1 for c in report.changes if c.version and c.kind in ("new", "changed"))
    console.print(
        f"[dim]{report.articles_checked} article pages checked, {versions} new versions stored; "
        "pages whose ads, tokens or timestamps changed are not new versions[/dim]"
    )
    print_feed_problems(console, report.feeds, failed=" failed")
    # A moved article is reported under its new address.
    expected = Counter((e.kind, e.moved_to or e.slug) for e in script.expected)
    got = Counter((str(c.kind), _slug(c, newsroom)) for c in report.changes)
    missed = expected - got
    surprising = got - expected
    for kind, slug in sorted(missed):
        console.print(f"[red]missed:[/red] {kind} {slug}")
    for kind, slug in sorted(surprising):
        console.print(f"[yellow]unexpected:[/yellow] {kind} {slug}")
    return not missed and not surprising


def _show_diffs(
    console: Console, report: CheckReport, store: ArchiveStore, settings: Settings, now: datetime
) -> None:
    """What `newsmonitor diff` shows for each edit of the round."""
    for change in report.changes:
        if change.kind not in (ChangeKind.CHANGED, ChangeKind.REVERTED) or not change.version:
            continue
        article = store.get_article(change.article_id)
        if article is None:
            continue
        document = compare_stored(store, settings, article, now, end=change.version)
        console.print(f"[dim]$ newsmonitor diff {article.id} --context 0[/dim]")
        if console.is_terminal:
            console.print(render_terminal(document, context=0))
        else:  # without colour, struck and green words would be indistinguishable
            console.print(render_text(document, context=0), markup=False, highlight=False)
