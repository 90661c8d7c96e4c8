"""The ``newsmonitor`` command: a thin click layer over the library.

User mistakes (bad config, unknown feed or article) become one clear line and exit code 2,
never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from monitor import __version__
from monitor.config import CONFIG_ENV, Settings, load_settings
from monitor.errors import ConfigError, MonitorError
from monitor.models import AlertStatus, Article
from monitor.render import report as render
from monitor.store import Store, open_store

F = TypeVar("F", bound=Callable[..., Any])
EXIT_CHANGED = 1
EXIT_USAGE = 2
EXIT_FAILURE = 3


class UserError(click.ClickException):
    """A problem the user can fix: printed as one line, exit code 2."""

    exit_code = EXIT_USAGE


class RunFailure(click.ClickException):
    """The run could not be done (store unreachable, ...): one line, exit code 3, so that
    cron scripts can tell it from `--exit-code`'s 1 for "something changed"."""

    exit_code = EXIT_FAILURE


def friendly(func: F) -> F:
    """Turn ConfigError and other MonitorErrors into one-line messages."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise UserError(str(exc)) from exc
        except MonitorError as exc:
            raise RunFailure(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"Config file (default: ${CONFIG_ENV} or config/monitor.toml).",
)
@click.version_option(__version__, prog_name="newsmonitor")
@click.pass_context
def main(ctx: click.Context, config_file: str | None) -> None:
    """Newsmonitor: know when a news article is edited, what changed, and how far it drifted.

    \b
    Quick start:
      newsmonitor demo                  # a built-in newsroom on loopback, no setup
      newsmonitor --config my.toml check
    """
    ctx.obj = config_file


def _settings(ctx: click.Context) -> Settings:
    return load_settings(ctx.obj)


@contextmanager
def _store(settings: Settings, read_only: bool = False) -> Iterator[Store]:
    """The configured store; ``read_only`` for commands that only read it, so that they
    also work on a store that cannot be written (a read-only mount, a backup copy)."""
    storage = settings.storage
    store = open_store(
        storage.url,
        lock_timeout=storage.lock_timeout.total_seconds(),
        statement_timeout=storage.statement_timeout.total_seconds(),
        read_only=read_only,
    )
    try:
        yield store
    finally:
        store.close()


@main.command()
@click.option("--feed", "feeds", multiple=True, help="Check only this feed (repeatable).")
@click.option(
    "--all", "force", is_flag=True, help="Check every feed and tracked article now, due or not."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when anything changed.")
@click.option(
    "--wait",
    type=click.FloatRange(0),
    default=60,
    show_default=True,
    help="Seconds to wait for another running check before skipping this one.",
)
@click.pass_context
@friendly
def check(
    ctx: click.Context,
    feeds: tuple[str, ...],
    force: bool,
    as_json: bool,
    exit_code: bool,
    wait: float,
) -> None:
    """One pass over the due feeds and the due tracked articles (for cron).

    A feed is due when its interval has passed since its last check; articles are
    re-checked on the tracking schedule, also after they leave their feed. Exit code 3
    when the store refused writes (full, locked past [storage] lock_timeout): the report
    says what was stored and what was not, and the next run does the rest.

    \b
    Examples:
      newsmonitor check                     # what is due
      newsmonitor check --all --json        # everything, machine-readable
      newsmonitor check --feed world --exit-code
    """
    from dataclasses import replace

    from monitor.errors import ReadOnlyStoreError, RunLockedError, StoreError
    from monitor.models import FeedStatus
    from monitor.pipeline import check_once, exclusive_check

    settings = _settings(ctx)
    for name in feeds:
        settings.feed(name)  # unknown names are a user error before any work starts
    console = Console(stderr=True)
    if not settings.feeds:
        console.print(
            f"{settings.source}: no [[feeds]] configured; only seeds with a url are watched",
            highlight=False,
            markup=False,
        )
    now = datetime.now(UTC)
    lease_error: str | None = None
    with _store(settings) as store, contextlib.ExitStack() as lease:
        try:
            lease.enter_context(exclusive_check(store, wait))
        except RunLockedError as exc:
            console.print(f"newsmonitor check: {exc}", highlight=False)
            return
        except ReadOnlyStoreError:
            raise  # nothing could be recorded: one line, exit 3
        except StoreError as exc:
            # A full disk or a lock held elsewhere: check anyway, so the report says what
            # could and could not be stored (concurrent checks record each event once).
            lease_error = f"the run lease could not be taken, checked without it: {exc}"
        show_progress = console.is_terminal and not as_json
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
            disable=not show_progress,
        ) as bar:
            task = bar.add_task("checking", total=None)

            def advance(label: str) -> None:
                bar.update(task, advance=1, description=label)

            report = asyncio.run(
                check_once(settings, store, now, feeds=feeds or None, force=force, progress=advance)
            )
        if lease_error is not None:
            report = replace(report, store_errors=(lease_error, *report.store_errors))
        delivery = None
        if settings.alerts:
            from monitor.alerts.outbox import deliver

            wait = settings.outbox.check_wait.total_seconds()
            delivery = asyncio.run(deliver(settings, store, wait))
    if as_json:
        document = render.report_to_json(report)
        if delivery is not None:
            document["alerts"] = render.delivery_to_json(delivery)
        click.echo(json.dumps(document, indent=2))
    else:
        out = Console()
        if report.changes:
            out.print(render.changes_table(report.changes))
        out.print(render.summary_table(report))
        if all(feed.status == FeedStatus.SKIPPED for feed in report.feeds):
            console.print(
                "No feed was due yet; `newsmonitor feeds` shows when each is due, "
                "`check --all` checks them now."
            )
        for feed in report.feeds:
            if feed.error:
                console.print(f"[red]feed {escape(feed.name)}:[/red] {escape(feed.error)}")
            elif feed.warning:
                console.print(f"[yellow]feed {escape(feed.name)}:[/yellow] {escape(feed.warning)}")
        for line in report.errors:
            console.print(f"[red]error:[/red] {escape(line)}", highlight=False)
        for line in report.warnings:
            console.print(f"[yellow]warning:[/yellow] {escape(line)}", highlight=False)
        for line in report.store_errors:
            console.print(f"[red]not stored:[/red] {escape(line)}", highlight=False)
        if delivery is not None:
            console.print(
                f"alerts: {delivery.delivered} delivered, {delivery.retried} queued for retry, "
                f"{delivery.dead} dead",
                highlight=False,
            )
            for line in delivery.errors:
                console.print(f"[red]alert error:[/red] {escape(line)}", highlight=False)
    if report.store_errors:
        # After the report: it says what was done and what the store refused.
        console.print(
            f"newsmonitor check: {len(report.store_errors)} writes failed; "
            "the next run does that work again",
            highlight=False,
        )
        sys.exit(EXIT_FAILURE)
    if exit_code and report.changes:
        sys.exit(EXIT_CHANGED)


@main.command()
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines for people, or JSON lines for a log collector.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
@click.pass_context
@friendly
def run(ctx: click.Context, log_format: str, verbose: bool) -> None:
    """Keep watching: check each feed on its schedule, re-check articles, send alerts.

    Runs until SIGTERM or SIGINT (Ctrl-C): in-flight checks finish within [daemon] grace,
    queued alerts are flushed, and it exits 0; a second signal exits at once. SIGHUP
    reloads the configuration (an invalid file is reported and the old one kept). A store
    that cannot be written stops it at once (exit 3); a lock held elsewhere delays only
    the writes that wait for it, never the fetching.

    \b
    Examples:
      newsmonitor run
      newsmonitor --config /etc/newsmonitor.toml run --log-format json
    """
    import logging

    from monitor.logs import setup_logging
    from monitor.scheduler import run_daemon

    settings = _settings(ctx)
    level = logging.DEBUG if verbose else logging.INFO
    setup_logging(log_format, level, settings.secret_values())  # type: ignore[arg-type]
    with _store(settings) as store:
        code = asyncio.run(run_daemon(settings, store, ctx.obj))
    sys.exit(code)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
@friendly
def status(ctx: click.Context, as_json: bool) -> None:
    """Each feed's last check, next due time and last error; counts of articles, versions
    and alerts. Reads the store only: safe while the daemon runs."""
    settings = _settings(ctx)
    with _store(settings, read_only=True) as store:
        states = [(f.name, f.url, store.get_feed(f.name)) for f in settings.feeds]
        counts = store.counts()
        alerts = store.count_alerts()
    document = {
        "feeds": [render.feed_to_json(state, name, url) for name, url, state in states],
        "articles": counts["articles"],
        "versions": counts["versions"],
        "changes": counts["changes"],
        "alerts": {str(k): v for k, v in alerts.items()},
    }
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    console = Console()
    console.print(render.feeds_table(states))
    console.print(
        f"{counts['articles']} articles, {counts['versions']} versions, "
        f"{counts['changes']} changes; alerts: " + ", ".join(f"{n} {s}" for s, n in alerts.items()),
        highlight=False,
    )


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
@friendly
def feeds(ctx: click.Context, as_json: bool) -> None:
    """Status of each configured feed: last check, HTTP status, errors, next due time."""
    settings = _settings(ctx)
    with _store(settings, read_only=True) as store:
        states = [(f.name, f.url, store.get_feed(f.name)) for f in settings.feeds]
    if as_json:
        rows = [render.feed_to_json(state, name, url) for name, url, state in states]
        click.echo(json.dumps(rows, indent=2))
    else:
        Console().print(render.feeds_table(states))


@main.command()
@click.option("--feed", default=None, help="Only articles of this feed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
@friendly
def articles(ctx: click.Context, feed: str | None, as_json: bool) -> None:
    """Tracked articles with their status and number of versions."""
    settings = _settings(ctx)
    with _store(settings, read_only=True) as store:
        found = store.list_articles(feed=feed)
    if as_json:
        click.echo(json.dumps([render.article_to_json(a) for a in found], indent=2))
    else:
        Console().print(render.articles_table(found))


@main.command()
@click.argument("article")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
@friendly
def history(ctx: click.Context, article: str, as_json: bool) -> None:
    """Versions of ARTICLE (an id from `articles`, or its URL) with time, title, hash, size.

    \b
    Example:
      newsmonitor history 3
    """
    settings = _settings(ctx)
    with _store(settings, read_only=True) as store:
        found = find_article(store, article)
        versions = store.list_versions(found.id)
        changes = store.list_changes(article_id=found.id)
    if as_json:
        document = {
            "article": render.article_to_json(found),
            "versions": [render.version_to_json(v) for v in versions],
            "changes": [render.change_to_json(c) for c in changes],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        console = Console()
        console.print(render.history_table(found, versions))
        console.print(render.changes_table(changes, title="Events"))


@main.command()
@click.argument("article")
@click.option("--from", "start", type=int, default=None, help="Older version number.")
@click.option("--to", "end", type=int, default=None, help="Newer version number (default: latest).")
@click.option(
    "--against",
    type=click.Choice(["previous", "first", "seed"]),
    default="previous",
    show_default=True,
    help="What to compare the newer version with, when --from is not given.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["term", "text", "html", "json"]),
    default="term",
    show_default=True,
)
@click.option(
    "--mode",
    type=click.Choice(["inline", "side-by-side"]),
    default="inline",
    show_default=True,
    help="HTML layout.",
)
@click.option(
    "--context",
    type=click.IntRange(0, 20),
    default=1,
    show_default=True,
    help="Unchanged sentences shown around each change.",
)
@click.pass_context
@friendly
def diff(
    ctx: click.Context,
    article: str,
    start: int | None,
    end: int | None,
    against: str,
    fmt: str,
    mode: str,
    context: int,
) -> None:
    """Show what changed in ARTICLE (an id or URL) between two stored versions.

    Word-level changes inside aligned sentences, with the change's significance and tags.

    \b
    Examples:
      newsmonitor diff 3                      # latest version against the one before
      newsmonitor diff 3 --against first      # how far it moved from the first version
      newsmonitor diff 3 --from 1 --to 4 --format html > diff.html
    """
    from monitor.compare import CompareError, compare_stored

    settings = _settings(ctx)
    with _store(settings, read_only=True) as store:
        found = find_article(store, article)
        try:
            document = compare_stored(
                store,
                settings,
                found,
                datetime.now(UTC),
                start,
                end,
                against,  # type: ignore[arg-type]
            )
        except CompareError as exc:
            raise UserError(f"article {found.id}: {exc}") from exc
    if fmt == "json":
        from monitor.render.jsonout import diff_to_json

        click.echo(json.dumps(diff_to_json(document), indent=2, ensure_ascii=False))
    elif fmt == "text":
        from monitor.render.text import render_text

        click.echo(render_text(document, context=context), nl=False)
    elif fmt == "html":
        from monitor.render.html import render_html

        click.echo(render_html(document, mode=mode, context=context))  # type: ignore[arg-type]
    else:
        from monitor.render.terminal import render_terminal
        from monitor.render.text import render_text

        console = Console()
        if console.is_terminal:
            console.print(render_terminal(document, context=context))
        else:  # piped: colours are gone, so mark words the way the text format does
            click.echo(render_text(document, context=context), nl=False)


@main.group(invoke_without_command=True)
@click.option(
    "--status",
    type=click.Choice([s.value for s in AlertStatus]),
    default=None,
    help="Only alerts in this state.",
)
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
@friendly
def alerts(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    """The alert outbox: what was sent, what waits for a retry, what failed for good.

    \b
    Examples:
      newsmonitor alerts --status dead        # why did an alert fail?
      newsmonitor alerts retry --dead         # send every dead alert again
      newsmonitor alerts test my-webhook      # send a sample alert now
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings(ctx)
    with _store(settings, read_only=True) as store:
        rows = store.list_alerts(AlertStatus(status) if status else None, limit=limit)
        counts = store.count_alerts()
    if as_json:
        click.echo(json.dumps([render.alert_to_json(a) for a in rows], indent=2))
        return
    console = Console()
    console.print(render.alerts_table(rows))
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()))


@alerts.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--dead", "all_dead", is_flag=True, help="Every dead alert.")
@click.pass_context
@friendly
def alerts_retry(ctx: click.Context, ids: tuple[int, ...], all_dead: bool) -> None:
    """Queue alerts IDS (or --dead: every dead one) for delivery again, now."""
    if bool(ids) == all_dead:
        raise UserError("give alert ids or --dead (one of the two)")
    settings = _settings(ctx)
    with _store(settings) as store:
        count = store.requeue_alerts(None if all_dead else ids, datetime.now(UTC))
    click.echo(f"{count} alert(s) queued again; `newsmonitor alerts send` delivers them now")


@alerts.command("send")
@click.option("--wait", type=click.FloatRange(0), default=0, help="Seconds to keep retrying.")
@click.pass_context
@friendly
def alerts_send(ctx: click.Context, wait: float) -> None:
    """Deliver every queued alert that is due (what the daemon does continuously)."""
    from monitor.alerts.outbox import deliver

    settings = _settings(ctx)
    with _store(settings) as store:
        report = asyncio.run(deliver(settings, store, wait))
    click.echo(f"{report.delivered} delivered, {report.retried} to retry, {report.dead} dead")
    for error in report.errors:
        click.echo(f"error: {error}", err=True)


@alerts.command("test")
@click.argument("channel")
@click.pass_context
@friendly
def alerts_test(ctx: click.Context, channel: str) -> None:
    """Send a sample alert to CHANNEL now, built from the latest stored change if any."""
    from monitor.alerts.outbox import send_test

    settings = _settings(ctx)
    with _store(settings, read_only=True) as store:
        described = asyncio.run(send_test(settings, store, channel, datetime.now(UTC)))
    click.echo(f"sent to {channel}: {described}")


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
@friendly
def seeds(ctx: click.Context, as_json: bool) -> None:
    """Seed baselines, each with the articles linked to it and how far they drifted.

    A seed is a story's baseline text in the seeds folder; every new article version is
    matched against the seeds (by URL, else by content) and diffed against its seed.

    \b
    Examples:
      newsmonitor seeds
      newsmonitor seeds show 000_c6811b779e006353
      newsmonitor diff 3 --against seed
    """
    if ctx.invoked_subcommand is not None:
        return
    from monitor.compare import seeds_overview

    settings = _settings(ctx)
    with _store(settings, read_only=True) as store:
        overview = seeds_overview(store, settings)
    if as_json:
        click.echo(json.dumps(render.seeds_to_json(overview), indent=2, ensure_ascii=False))
    elif not overview:
        click.echo(f"no seeds in {settings.seeds.dir}")
    else:
        Console().print(render.seeds_table(overview))


@seeds.command("show")
@click.argument("seed")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
@friendly
def seeds_show(ctx: click.Context, seed: str, as_json: bool) -> None:
    """Timeline of every linked article's versions against SEED (a seed id)."""
    from monitor.compare import CompareError, seed_timeline

    settings = _settings(ctx)
    with _store(settings, read_only=True) as store:
        try:
            found, linked, points = seed_timeline(store, settings, seed)
        except CompareError as exc:
            raise UserError(str(exc)) from exc
    if as_json:
        document = {
            "seed": {"id": found.id, "title": found.title, "url": found.url},
            "links": render.seeds_to_json([(found, linked)])[0]["articles"],
            "timeline": [
                {
                    "article_id": point.article.id,
                    "version": point.version.number,
                    "fetched_at": render.iso(point.version.fetched_at),
                    "title": point.version.title,
                    "drift": render.drift_to_json(point.drift),
                }
                for point in points
            ],
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    console = Console()
    console.print(render.timeline_table(found, points))
    for line in render.link_reasons(linked):
        console.print(escape(line), highlight=False)


def find_article(store: Store, ref: str) -> Article:
    """An article by id or by URL (normalized, current or canonical)."""
    from monitor.normalize import normalize_url

    if ref.isdigit():
        article = store.get_article(int(ref))
    else:
        article = store.find_article([normalize_url(ref), ref])
    if article is None:
        raise UserError(f"no article {ref!r} (see `newsmonitor articles`)")
    return article


@main.command()
@click.option("--rounds", type=click.IntRange(1, 10), default=None, help="Stop after N rounds.")
@friendly
def demo(rounds: int | None) -> None:
    """Watch a built-in newsroom on loopback change over a few rounds; no network, no setup.

    Starts feeds and article pages on 127.0.0.1 that change between rounds (including the
    seed story), checks them with a temporary store, and shows what was detected.
    """
    from monitor.demo import run_demo

    ok = run_demo(Console(), max_rounds=rounds)
    if not ok:
        sys.exit(1)
