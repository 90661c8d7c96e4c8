"""The ``newsmonitor`` command: a thin click layer over the library.

User mistakes (bad config, unknown feed or article) become one clear line and exit code 2,
never a traceback. Each command imports what it needs when it runs, so that ``--help``
and the read commands start without the fetching, checking and alerting machinery.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from monitor import __version__
from monitor.errors import CompareError, ConfigError, MonitorError

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.config import Settings
    from monitor.models import Article, CheckReport, DiffDocument, RelayReport
    from monitor.pipeline import Progress as PassProgress
    from monitor.store import ArchiveStore, OutboxStore, Store

F = TypeVar("F", bound=Callable[..., Any])
EXIT_CHANGED = 1
EXIT_USAGE = 2
EXIT_FAILURE = 3
# Written out rather than imported, so that `--help` does not load the config machinery;
# tests/test_cli.py checks them against monitor.config.CONFIG_ENV and models.AlertStatus.
CONFIG_ENV = "NEWSMONITOR_CONFIG"
ALERT_STATUSES = ("queued", "delivered", "dead")


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


def json_option(help: str = "Print JSON instead of a table.") -> Callable[[F], F]:
    """The ``--json`` flag of every command that can print JSON, passed as ``as_json``."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def choice_option(
    *decls: str, choices: Sequence[str], default: str, help: str | None = None
) -> Callable[[F], F]:
    """An option that takes one of ``choices``, its default shown in --help."""
    return click.option(
        *decls, type=click.Choice(choices), default=default, show_default=True, help=help
    )


def echo_json(document: Any, ensure_ascii: bool = True) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=ensure_ascii))


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
    """The settings of ``--config`` (a ConfigError is the user's: exit 2)."""
    from monitor.config import load_settings

    return load_settings(ctx.obj)


@contextmanager
def _store(settings: Settings, read_only: bool = False) -> Iterator[Store]:
    """The configured store; ``read_only`` for commands that only read it, so that they
    also work on a store that cannot be written (a read-only mount, a backup copy)."""
    from monitor.store.sql import open_store

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


@contextmanager
def _opened(ctx: click.Context, read_only: bool = False) -> Iterator[tuple[Settings, Store]]:
    """The settings, then the store they configure: how every command but `check` and
    `run` (which act between the two) starts."""
    settings = _settings(ctx)
    with _store(settings, read_only) as store:
        yield settings, store


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr)


@main.command()
@click.option("--feed", "feeds", multiple=True, help="Check only this feed (repeatable).")
@click.option(
    "--all", "force", is_flag=True, help="Check every feed and tracked article now, due or not."
)
@json_option("Print one JSON document on stdout.")
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

    Prints the changes (on a terminal a table, a first check's new articles counted per
    feed; piped, one tab-separated line per change), article failures grouped by host and
    reason on stderr, and last the summary, which counts every failed page as an error.

    \b
    Examples:
      newsmonitor check                     # what is due
      newsmonitor check --all --json        # everything, machine-readable
      newsmonitor check --feed world --exit-code
    """
    from monitor.render.report import print_check_report
    from monitor.serialize import report_to_json

    settings = _settings(ctx)
    for name in feeds:
        settings.feed(name)  # unknown names are a user error before any work starts
    console = _console(stderr=True)
    _require_something_to_watch(settings)
    if not settings.feeds:
        console.print(
            f"{settings.source}: no [[feeds]] configured; only seeds with a url are watched",
            highlight=False,
            markup=False,
        )
    now = datetime.now(UTC)
    with _store(settings) as store:
        show_progress = console.is_terminal and not as_json
        outcome = _check_under_lease(
            store, settings, now, console, feeds, force, wait, show_progress
        )
    if outcome is None:
        return  # another check holds the store; said so on stderr
    report, delivery = outcome
    if as_json:
        echo_json(report_to_json(report, delivery))
    else:
        print_check_report(_console(), console, report, delivery)
    _exit_after_check(console, report, exit_code)


def _require_something_to_watch(settings: Settings) -> None:
    """UserError when no feed is configured and no seed names a url without feeds (a page
    watched directly): `check` and `run` would quietly do nothing (issue 14)."""
    if settings.feeds:
        return
    from monitor.seeds import load_seeds

    seeds = load_seeds(settings.seeds.dir, settings.ignore)
    if not any(seed.url and not seed.feeds for seed in seeds):
        raise UserError(
            f"no feeds configured in {settings.source}: add a [[feeds]] table, or a seed "
            "with a url (see config/example.toml)"
        )


def _check_under_lease(
    store: Store,
    settings: Settings,
    now: datetime,
    console: Console,
    feeds: tuple[str, ...],
    force: bool,
    wait: float,
    show_progress: bool,
) -> tuple[CheckReport, RelayReport | None] | None:
    """Check and deliver alerts holding the run lease; None when another check holds it."""
    import asyncio
    from dataclasses import replace

    from monitor.errors import ReadOnlyStoreError, RunLockedError, StoreError
    from monitor.pipeline import check_once
    from monitor.runlease import exclusive_check

    lease_error: str | None = None
    with ExitStack() as lease:
        try:
            lease.enter_context(exclusive_check(store, wait))
        except RunLockedError as exc:
            console.print(f"newsmonitor check: {exc}", highlight=False)
            return None
        except ReadOnlyStoreError:
            raise  # nothing could be recorded: one line, exit 3
        except StoreError as exc:
            # A full disk or a lock held elsewhere: check anyway, so the report says what
            # could and could not be stored (concurrent checks record each event once).
            lease_error = f"the run lease could not be taken, checked without it: {exc}"
        report = _with_progress(
            console,
            show_progress,
            lambda bar: asyncio.run(
                check_once(settings, store, now, feeds=feeds or None, force=force, progress=bar)
            ),
        )
        if lease_error is not None:
            report = replace(report, store_errors=(lease_error, *report.store_errors))
        return report, _deliver(settings, store, settings.outbox.check_wait.total_seconds())


def _with_progress(
    console: Console, show: bool, work: Callable[[PassProgress], CheckReport]
) -> CheckReport:
    """Run ``work`` with a progress bar on ``console`` (when ``show``) out of the steps the
    pass has found so far (issue 14: "3/250" tells how long is left)."""
    from rich import progress

    with progress.Progress(
        progress.TextColumn("[progress.description]{task.description}"),
        progress.BarColumn(),
        progress.MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not show,
    ) as bar:
        return work(_Bar(bar, bar.add_task("checking", total=0)))


class _Bar:
    """A pass's progress on a rich progress bar: its total grows as the pass plans."""

    def __init__(self, bar: Any, task: Any) -> None:
        self.bar, self.task, self.total = bar, task, 0

    def planned(self, steps: int) -> None:
        self.total += steps
        self.bar.update(self.task, total=self.total)

    def done(self, label: str) -> None:
        self.bar.update(self.task, advance=1, description=label)


def _deliver(settings: Settings, store: OutboxStore, wait: float) -> RelayReport | None:
    """Deliver the queued alerts when channels are configured; None when there are none."""
    if not settings.alerts:
        return None
    import asyncio

    from monitor.alerts.outbox import deliver

    return asyncio.run(deliver(settings, store, wait))


def _exit_after_check(console: Console, report: CheckReport, exit_code: bool) -> None:
    """Exit 3 when the store refused writes (after the report), 1 for `--exit-code`."""
    if report.store_errors:
        console.print(
            f"newsmonitor check: {len(report.store_errors)} writes failed; "
            "the next run does that work again",
            highlight=False,
        )
        sys.exit(EXIT_FAILURE)
    if exit_code and report.changes:
        sys.exit(EXIT_CHANGED)


@main.command()
@choice_option(
    "--log-format",
    choices=["text", "json"],
    default="text",
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
    import asyncio
    import logging

    from monitor.logs import setup_logging
    from monitor.scheduler import run_daemon

    settings = _settings(ctx)
    _require_something_to_watch(settings)
    level = logging.DEBUG if verbose else logging.INFO
    setup_logging(log_format, level, settings.secret_values())  # type: ignore[arg-type]
    with _store(settings) as store:
        code = asyncio.run(run_daemon(settings, store, ctx.obj))
    sys.exit(code)


@main.command()
@json_option("Print JSON instead of tables.")
@click.pass_context
@friendly
def status(ctx: click.Context, as_json: bool) -> None:
    """Each feed's last check, next due time, last error and pages failing (its articles
    whose last fetch failed); counts of articles, versions and alerts. Reads the store
    only: safe while the daemon runs. Piped, one tab-separated line per feed."""
    with _opened(ctx, read_only=True) as (settings, store):
        states = [(f.name, f.url, store.get_feed(f.name)) for f in settings.feeds]
        failing = store.article_failures_by_feed()
        counts = store.counts()
        alerts = store.count_alerts()
    if as_json:
        from monitor.serialize import status_to_json

        echo_json(status_to_json(states, counts, alerts, failing))
        return
    from monitor.render.report import feeds_listing
    from monitor.render.tables import print_listing

    console = _console()
    print_listing(console, feeds_listing(states, failing))
    console.print(
        f"{counts['articles']} articles, {counts['versions']} versions, "
        f"{counts['changes']} changes; alerts: " + ", ".join(f"{n} {s}" for s, n in alerts.items()),
        highlight=False,
    )


@main.command()
@json_option()
@click.pass_context
@friendly
def feeds(ctx: click.Context, as_json: bool) -> None:
    """Status of each configured feed: last check, HTTP status, pages failing (its articles
    whose last fetch failed), last error, next due time. Piped, one tab-separated line per
    feed."""
    with _opened(ctx, read_only=True) as (settings, store):
        states = [(f.name, f.url, store.get_feed(f.name)) for f in settings.feeds]
        failing = store.article_failures_by_feed()
    if as_json:
        from monitor.serialize import feeds_to_json

        echo_json(feeds_to_json(states, failing))
    else:
        from monitor.render.report import feeds_listing
        from monitor.render.tables import print_listing

        print_listing(_console(), feeds_listing(states, failing))


@main.command()
@click.option("--feed", default=None, help="Only articles of this feed.")
@json_option()
@click.pass_context
@friendly
def articles(ctx: click.Context, feed: str | None, as_json: bool) -> None:
    """Tracked articles with their status and number of versions.

    On a terminal one line each, titles cut at a word and URLs in the middle to fit; piped,
    one tab-separated line each with every value whole (`newsmonitor articles | grep x`).
    """
    with _opened(ctx, read_only=True) as (settings, store):
        found = store.list_articles(feed=feed)
    if feed is not None and not found:
        # An unknown name is a typo, as in `check --feed` (exit 2, the feeds listed); a feed
        # no longer configured, or a watched seed's, still lists what was tracked.
        settings.feed(feed)
    if as_json:
        from monitor.serialize import article_to_json

        echo_json([article_to_json(a) for a in found])
    else:
        from monitor.render.report import articles_listing
        from monitor.render.tables import print_listing

        print_listing(_console(), articles_listing(found))


@main.command()
@click.argument("article")
@json_option()
@click.pass_context
@friendly
def history(ctx: click.Context, article: str, as_json: bool) -> None:
    """Versions of ARTICLE (an id from `articles`, or its URL) with time, title, hash, size.

    \b
    Example:
      newsmonitor history 3
    """
    with _opened(ctx, read_only=True) as (_, store):
        found = find_article(store, article)
        versions = store.list_versions(found.id)
        changes = store.list_changes(article_id=found.id)
    if as_json:
        from monitor.serialize import history_to_json

        echo_json(history_to_json(found, versions, changes))
    else:
        from monitor.render.report import changes_table, history_table

        console = _console()
        console.print(history_table(found, versions))
        console.print(changes_table(changes, title="Events"))


@main.command()
@click.argument("article")
@click.option("--from", "start", type=int, default=None, help="Older version number.")
@click.option("--to", "end", type=int, default=None, help="Newer version number (default: latest).")
@choice_option(
    "--against",
    choices=["previous", "first", "seed"],
    default="previous",
    help="What to compare the newer version with, when --from is not given.",
)
@choice_option("--format", "fmt", choices=["term", "text", "html", "json"], default="term")
@choice_option(
    "--mode",
    choices=["inline", "side-by-side"],
    default="inline",
    help="HTML layout (--format html; the other formats are inline).",
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
    from monitor.compare import compare_stored

    if mode == "side-by-side" and fmt != "html":
        raise UserError(
            "--mode side-by-side is an HTML layout: use it with --format html "
            f"(--format {fmt} shows changes inline)"
        )
    with _opened(ctx, read_only=True) as (settings, store):
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
    if document.old_version is not None and document.old_version == document.new_version:
        raise UserError(_nothing_to_compare(found, document.old_version))
    _print_diff(document, fmt, mode, context)


def _nothing_to_compare(article: Article, version: int) -> str:
    """Why a version was about to be diffed against itself: the article has no other yet,
    or --to/--from named the first version, or the same one twice."""
    if article.versions <= 1:
        return f"article {article.id} has one version (v{version}): nothing to compare it with yet"
    return (
        f"article {article.id}: v{version} against itself shows nothing; "
        f"name another with --from or --to (versions 1-{article.versions})"
    )


def _print_diff(document: DiffDocument, fmt: str, mode: str, context: int) -> None:
    """The diff in ``fmt``; "term" falls back to the text format when piped."""
    if fmt == "json":
        from monitor.render.jsonout import diff_to_json

        echo_json(diff_to_json(document), ensure_ascii=False)
    elif fmt == "html":
        from monitor.render.html import render_html

        click.echo(render_html(document, mode=mode, context=context))  # type: ignore[arg-type]
    else:
        from monitor.render.text import render_text

        console = _console() if fmt == "term" else None
        if console is not None and console.is_terminal:
            from monitor.render.terminal import render_terminal

            console.print(render_terminal(document, context=context))
        else:  # text, or piped: colours are gone, so mark words the way text does
            click.echo(render_text(document, context=context), nl=False)


@main.group(invoke_without_command=True)
@click.option(
    "--status",
    type=click.Choice(ALERT_STATUSES),
    default=None,
    help="Only alerts in this state.",
)
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@json_option()
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
    from monitor.models import AlertStatus

    with _opened(ctx, read_only=True) as (_, store):
        rows = store.list_alerts(AlertStatus(status) if status else None, limit=limit)
        counts = store.count_alerts()
    if as_json:
        from monitor.serialize import alert_to_json

        echo_json([alert_to_json(a) for a in rows])
        return
    from monitor.render.report import alerts_listing
    from monitor.render.tables import print_listing

    console = _console()
    print_listing(console, alerts_listing(rows))
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
    with _opened(ctx) as (_, store):
        count = store.requeue_alerts(None if all_dead else ids, datetime.now(UTC))
        if not all_dead and count < len(set(ids)):
            raise UserError(_not_requeued(store, set(ids), count))
    click.echo(f"{count} alert(s) queued again; `newsmonitor alerts send` delivers them now")


def _not_requeued(store: OutboxStore, ids: set[int], count: int) -> str:
    """Why some of ``ids`` were not queued again: no such alert, or delivered already.

    Only read when ids were refused, so a plain retry never reads the whole outbox."""
    from monitor.models import AlertStatus

    known = {alert.id: alert.status for alert in store.list_alerts()}
    missing = sorted(i for i in ids if i not in known)
    delivered = sorted(i for i in ids if known.get(i) == AlertStatus.DELIVERED)
    reasons = [f"{count} alert(s) queued again"] if count else []
    if missing:
        reasons.append(f"no {_alert_ids(missing)} (see `newsmonitor alerts`)")
    if delivered:
        reasons.append(f"{_alert_ids(delivered)} delivered already")
    return "; ".join(reasons)


def _alert_ids(ids: list[int]) -> str:
    """ "alert 7" or "alerts 7, 9"."""
    return ("alert " if len(ids) == 1 else "alerts ") + ", ".join(map(str, ids))


@alerts.command("send")
@click.option("--wait", type=click.FloatRange(0), default=0, help="Seconds to keep retrying.")
@click.pass_context
@friendly
def alerts_send(ctx: click.Context, wait: float) -> None:
    """Deliver every queued alert that is due (what the daemon does continuously)."""
    import asyncio

    from monitor.alerts.outbox import deliver

    with _opened(ctx) as (settings, store):
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
    import asyncio

    from monitor.alerts.outbox import send_test

    with _opened(ctx, read_only=True) as (settings, store):
        described = asyncio.run(send_test(settings, store, channel, datetime.now(UTC)))
    click.echo(f"sent to {channel}: {described}")


@main.group(invoke_without_command=True)
@json_option()
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

    with _opened(ctx, read_only=True) as (settings, store):
        overview = seeds_overview(store, settings)
    if as_json:
        from monitor.serialize import seeds_to_json

        echo_json(seeds_to_json(overview), ensure_ascii=False)
    elif not overview:
        click.echo(f"no seeds in {settings.seeds.dir}")
    else:
        from monitor.render.report import seeds_table

        _console().print(seeds_table(overview))


@seeds.command("show")
@click.argument("seed")
@json_option()
@click.pass_context
@friendly
def seeds_show(ctx: click.Context, seed: str, as_json: bool) -> None:
    """Timeline of every linked article's versions against SEED (a seed id)."""
    from monitor.compare import seed_timeline

    with _opened(ctx, read_only=True) as (settings, store):
        try:
            found, linked, points = seed_timeline(store, settings, seed)
        except CompareError as exc:
            raise UserError(str(exc)) from exc
    if as_json:
        from monitor.serialize import timeline_to_json

        echo_json(timeline_to_json(found, linked, points), ensure_ascii=False)
        return
    from rich.markup import escape

    from monitor.render.report import link_reasons, timeline_table

    console = _console()
    console.print(timeline_table(found, points))
    for line in link_reasons(linked):
        console.print(escape(line), highlight=False)


def find_article(store: ArchiveStore, ref: str) -> Article:
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

    ok = run_demo(_console(), max_rounds=rounds)
    if not ok:
        sys.exit(1)
