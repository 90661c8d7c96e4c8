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
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from monitor import __version__
from monitor.errors import CompareError, ConfigError, MonitorError

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

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


# Commands that ended with their store closed and their workers stopped: their process may
# exit without tearing the interpreter down (``monitor.main``).
ENDED: set[str] = set()


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


class _OnFirstUse:
    """A console made when first used, for ``print`` and the like (not to hand to rich):
    `check --json` that goes well prints nothing to the terminal, and importing rich is
    0.03 s of its start-up, when one core does all the work (issue 16)."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            self._console = _console(self._stderr)
        return getattr(self._console, name)


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
    settings = _settings(ctx)
    for name in feeds:
        settings.feed(name)  # unknown names are a user error before any work starts
    # With --json, only a message or an error goes to stderr: rich is loaded if one does.
    console = cast("Console", _OnFirstUse(stderr=True)) if as_json else _console(stderr=True)
    _require_something_to_watch(settings)
    if not settings.feeds:
        console.print(
            f"{settings.source}: no [[feeds]] configured; only seeds with a url are watched",
            highlight=False,
            markup=False,
        )
    now = datetime.now(UTC)
    from monitor.pipeline import fork_idle_workers

    # Before the store is opened: no thread runs yet, so the workers can be forked.
    idle_workers = fork_idle_workers(settings, feeds)
    try:
        with _store(settings) as store:
            show_progress = not as_json and console.is_terminal
            outcome = _check_under_lease(
                store, settings, now, console, feeds, force, wait, show_progress, idle_workers
            )
    finally:
        if idle_workers is not None:
            idle_workers.shutdown(wait=True, cancel_futures=True)
    # Written and closed: nothing is left for the interpreter's teardown to do (monitor.main).
    ENDED.add("check")
    if outcome is None:
        return  # another check holds the store; said so on stderr
    report, delivery = outcome
    if as_json:
        from monitor.serialize import report_to_json

        echo_json(report_to_json(report, delivery))
    else:
        from monitor.render.report import print_check_report  # rich's tables: not for JSON

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
    idle_workers: ProcessPoolExecutor | None = None,
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
                check_once(
                    settings,
                    store,
                    now,
                    feeds=feeds or None,
                    force=force,
                    progress=bar,
                    idle_workers=idle_workers,
                )
            ),
        )
        if lease_error is not None:
            report = replace(report, store_errors=(lease_error, *report.store_errors))
        return report, _deliver(settings, store, settings.outbox.check_wait.total_seconds())


def _with_progress(
    console: Console, show: bool, work: Callable[[PassProgress | None], CheckReport]
) -> CheckReport:
    """Run ``work`` with a progress bar on ``console`` (when ``show``) out of the steps the
    pass has found so far (issue 14: "3/250" tells how long is left)."""
    if not show:
        return work(None)  # a hidden bar still costs its updates, one per article
    from rich import progress

    with progress.Progress(
        progress.TextColumn("[progress.description]{task.description}"),
        progress.BarColumn(),
        progress.MofNCompleteColumn(),
        console=console,
        transient=True,
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
@click.option(
    "--web", is_flag=True, help="Also serve the web pages from this process (see `serve`)."
)
@click.pass_context
@friendly
def run(ctx: click.Context, log_format: str, verbose: bool, web: bool) -> None:
    """Keep watching: check each feed on its schedule, re-check articles, send alerts.

    Runs until SIGTERM or SIGINT (Ctrl-C): in-flight checks finish within [daemon] grace,
    queued alerts are flushed, and it exits 0; a second signal exits at once. SIGHUP
    reloads the configuration (an invalid file is reported and the old one kept). A store
    that cannot be written stops it at once (exit 3); a lock held elsewhere delays only
    the writes that wait for it, never the fetching. With [daemon] metrics = "host:port",
    it serves /healthz and /metrics (Prometheus) there. Several `run` nodes on one
    PostgreSQL store split the work (`status` lists them); on SQLite a second one refuses.

    \b
    Examples:
      newsmonitor run
      newsmonitor run --web                 # and the pages at [web] host:port
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
    if web:
        from monitor.web.auth import require_access_for

        require_access_for(settings.web.host, settings.web, settings.source)
    with _store(settings) as store:
        if web:
            code = asyncio.run(_daemon_with_web(settings, store, ctx.obj))
        else:
            code = asyncio.run(run_daemon(settings, store, ctx.obj))
    sys.exit(code)


async def _daemon_with_web(settings: Settings, store: Store, config_file: str | None) -> int:
    """The daemon, with the web pages served from its event loop (`run --web`)."""
    import logging

    from monitor.scheduler import run_daemon
    from monitor.web.app import start_site, stop_site

    runner, address = await start_site(settings, store)
    logging.getLogger("monitor.web").info("serving %s", address)
    try:
        return await run_daemon(settings, store, config_file)
    finally:
        await stop_site(runner)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default: [web] host).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port (default: [web] port)."
)
@click.option(
    "--hash-password",
    is_flag=True,
    help="Ask for a password and print its hash for [[web.users]] password_hash, then exit.",
)
@click.pass_context
@friendly
def serve(ctx: click.Context, host: str | None, port: int | None, hash_password: bool) -> None:
    """Serve the archive as web pages, Atom and JSON feeds of changes, and a JSON API.

    Read-only, on loopback by default. Listening on any other address needs [web] token
    or [[web.users]] (else it refuses to start); feed readers may be given [web]
    feed_tokens, which open the feeds only, as `?token=`.

    \b
    Examples:
      newsmonitor serve                         # http://127.0.0.1:8080/
      newsmonitor serve --port 9000
      newsmonitor serve --hash-password         # for [[web.users]]
    """
    if hash_password:
        from monitor.web.auth import hash_password as make_hash

        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        click.echo(make_hash(password))
        return
    import asyncio

    from monitor.web.app import serve_forever

    settings = _settings(ctx)
    with _store(settings, read_only=True) as store:
        asyncio.run(
            serve_forever(
                settings,
                store,
                host,
                port,
                lambda address: click.echo(f"serving {address} (Ctrl-C stops)", err=True),
            )
        )


@main.command()
@json_option("Print JSON instead of tables.")
@click.pass_context
@friendly
def status(ctx: click.Context, as_json: bool) -> None:
    """Each feed's last check, next due time, last error and pages failing (its articles
    whose last fetch failed); counts of articles, versions and alerts; the daemons (nodes)
    working the store, alive or lost, and the hosts and feeds each has claimed. Reads the
    store only: safe while the daemon runs. Piped, one tab-separated line per feed."""
    from monitor.clock import utc_now

    with _opened(ctx, read_only=True) as (settings, store):
        now = utc_now()
        states = [(f.name, f.url, store.get_feed(f.name)) for f in settings.feeds]
        failing = store.article_failures_by_feed()
        counts = store.counts()
        alerts = store.count_alerts()
        nodes = store.list_nodes(now)
    lost_after = settings.daemon.lost_after
    if as_json:
        from monitor.serialize import nodes_to_json, status_to_json

        listed = nodes_to_json(nodes, now, lost_after)
        echo_json(status_to_json(states, counts, alerts, failing, listed))
        return
    from monitor.render.report import feeds_listing, nodes_listing
    from monitor.render.tables import print_listing

    console = _console()
    print_listing(console, feeds_listing(states, failing))
    if nodes:
        print_listing(console, nodes_listing(nodes, now, lost_after))
    console.print(
        f"{counts['articles']} articles, {counts['versions']} versions, "
        f"{counts['changes']} changes; alerts: " + ", ".join(f"{n} {s}" for s, n in alerts.items()),
        highlight=False,
    )


@main.group(invoke_without_command=True)
@json_option()
@click.pass_context
@friendly
def feeds(ctx: click.Context, as_json: bool) -> None:
    """Status of each configured feed: last check, HTTP status, pages failing (its articles
    whose last fetch failed), last error, next due time. Piped, one tab-separated line per
    feed. Subcommands add, remove, import and export the watched feeds."""
    if ctx.invoked_subcommand is not None:
        return
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


def _config_file(ctx: click.Context) -> Path:
    """The config file that `feeds add/remove/import` edit."""
    from monitor.config import config_path

    return config_path(ctx.find_root().obj)


@feeds.command("add")
@click.argument("url")
@click.option("--name", default=None, help="The feed's name (default: from its title).")
@click.option("--interval", default=None, help='How often to fetch it, e.g. "10m" (default 15m).')
@click.option("--first", is_flag=True, help="A page that links several feeds: take the first.")
@click.option(
    "--no-fetch-articles", is_flag=True, help="Version each entry's own text, not its page."
)
@click.option("--tag", "tags", multiple=True, help="A label for the feed (repeatable).")
@click.pass_context
@friendly
def feeds_add(
    ctx: click.Context,
    url: str,
    name: str | None,
    interval: str | None,
    first: bool,
    no_fetch_articles: bool,
    tags: tuple[str, ...],
) -> None:
    """Watch the feed at URL, or the feed a web page at URL links (autodiscovery): its
    [[feeds]] table is added to the config file, comments and layout kept."""
    import asyncio

    from monitor.fetch import Fetcher
    from monitor.subscriptions import add_feed, find_feed

    settings = _settings(ctx)

    async def find() -> Any:
        async with Fetcher(settings.fetch) as fetcher:
            return await find_feed(fetcher, url, first)

    found = asyncio.run(find())
    feed = add_feed(_config_file(ctx), settings, found, name, interval, not no_fetch_articles, tags)
    via = f" (linked from {found.page})" if found.page else ""
    click.echo(f"added feed {feed.name!r}: {feed.url}{via}, {found.entries} entries now")


@feeds.command("remove")
@click.argument("name")
@click.pass_context
@friendly
def feeds_remove(ctx: click.Context, name: str) -> None:
    """Stop watching the feed NAME (its table leaves the config file; what the store holds
    of it stays)."""
    from monitor.config_edit import remove_feed

    remove_feed(_config_file(ctx), name)
    click.echo(f"removed feed {name!r}")


@feeds.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
@friendly
def feeds_import(ctx: click.Context, file: str) -> None:
    """Watch every feed of an OPML subscription list (a feed reader's export); its
    categories become the feeds' tags. Feeds already watched are left as they are."""
    from monitor.subscriptions import import_opml

    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise UserError(f"{file}: cannot read: {exc.strerror or exc}") from exc
    report = import_opml(_config_file(ctx), _settings(ctx), data, file)
    click.echo(f"added {len(report.added)} feed(s): {', '.join(report.added) or 'none'}")
    if report.already:
        click.echo(f"already watched: {len(report.already)}")


@feeds.command("export")
@click.option("--opml", "as_opml", is_flag=True, required=True, help="Write OPML 2.0.")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.pass_context
@friendly
def feeds_export(ctx: click.Context, as_opml: bool, file: str) -> None:
    """The watched feeds as an OPML subscription list (tags as categories), to FILE or
    standard output."""
    from monitor.subscriptions import export_opml

    document = export_opml(_settings(ctx))
    if file == "-":
        click.echo(document)
        return
    try:
        Path(file).write_text(document + "\n", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{file}: cannot write: {exc.strerror or exc}") from exc


@main.group("config")
def config_group() -> None:
    """The configuration file: check it before a run."""


@config_group.command("check")
@json_option()
@click.pass_context
@friendly
def config_check(ctx: click.Context, as_json: bool) -> None:
    """Validate the configuration (every error: one line naming the file and key) and say
    what it would watch: feeds, seeds, alert channels, the store and the web server."""
    from monitor.config import format_duration
    from monitor.seeds import load_seeds
    from monitor.store.engine import display_url

    settings = _settings(ctx)
    seeds = [seed.id for seed in load_seeds(settings.seeds.dir, settings.ignore)]
    feeds = [
        {
            "name": feed.name,
            "url": feed.url,
            "schedule": feed.cron or format_duration(feed.interval),
            "fetch_articles": feed.fetch_articles,
            "tags": list(feed.tags),
        }
        for feed in settings.feeds
    ]
    channels = [{"name": alert.name, "type": alert.type} for alert in settings.alerts]
    storage = display_url(settings.storage.url)
    web = f"{settings.web.host}:{settings.web.port}"
    if as_json:
        echo_json(
            {
                "config": settings.source,
                "feeds": feeds,
                "seeds": {"dir": settings.seeds.dir, "ids": seeds},
                "alerts": channels,
                "storage": storage,
                "web": web,
            }
        )
        return
    click.echo(f"{settings.source}: valid")
    click.echo(f"feeds ({len(feeds)}):")
    for feed in feeds:
        pages = "" if feed["fetch_articles"] else ", entries only"
        click.echo(f"  {feed['name']}: {feed['url']} every {feed['schedule']}{pages}")
    if not feeds:
        click.echo("  none: nothing to watch yet (`newsmonitor feeds add URL`)")
    click.echo(f"seeds ({len(seeds)}) in {settings.seeds.dir}: {', '.join(seeds) or 'none'}")
    named = ", ".join(f"{channel['name']} ({channel['type']})" for channel in channels)
    click.echo(f"alerts: {named or 'none'}")
    click.echo(f"store: {storage}")
    click.echo(f"web: {web}")


@main.command()
@click.argument("url")
@click.option("--feed", default=None, help="Apply this feed's ignore rules too.")
@json_option()
@click.pass_context
@friendly
def preview(ctx: click.Context, url: str, feed: str | None, as_json: bool) -> None:
    """Fetch one article and show what would be versioned: headline, byline, dates and
    text, and what the ignore rules remove. Stores nothing."""
    import asyncio

    from monitor.extract import TrafilaturaExtractor
    from monitor.fetch import Fetcher
    from monitor.preview import preview as preview_article

    settings = _settings(ctx)
    if feed is not None:
        settings.feed(feed)  # an unknown feed is the user's mistake, named

    async def fetch() -> Any:
        async with Fetcher(settings.fetch) as fetcher:
            extractor = TrafilaturaExtractor()
            return await preview_article(fetcher, extractor, url, settings.ignore_patterns(feed))

    shown = asyncio.run(fetch())
    dates = {
        "published": shown.published.isoformat() if shown.published else None,
        "modified": shown.modified.isoformat() if shown.modified else None,
    }
    if as_json:
        from monitor.serialize import json_value

        echo_json({**json_value(shown), **dates}, ensure_ascii=False)
        return
    click.echo(f"url:       {shown.final_url} ({shown.status})")
    for label, value in (
        ("headline", shown.title),
        ("byline", shown.byline),
        ("published", dates["published"]),
        ("modified", dates["modified"]),
        ("canonical", shown.canonical_url),
    ):
        click.echo(f"{label + ':':<10} {value or '-'}")
    for removal in shown.removals:
        click.echo(f"ignore {removal.pattern!r} removes {len(removal.matches)}:")
        for match in removal.matches:
            click.echo(f"  - {match}")
    click.echo("")
    click.echo(shown.text)


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
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the archive in this new folder (to `serve` it afterwards).",
)
@friendly
def demo(rounds: int | None, keep: str | None) -> None:
    """Watch a built-in newsroom on loopback change over a few rounds; no network, no setup.

    Starts feeds and article pages on 127.0.0.1 that change between rounds (including the
    seed story), checks them with a temporary store, and shows what was detected. --keep
    DIR keeps the archive, to browse with `newsmonitor --config DIR/demo.toml serve`.
    """
    from monitor.demo import run_demo

    ok = run_demo(_console(), max_rounds=rounds, keep=Path(keep) if keep else None)
    if not ok:
        sys.exit(1)


# Getting evidence out (issue 19): search, show and export live in their own module.
from monitor.cli_archive import export, search, show  # noqa: E402

main.add_command(search)
main.add_command(show)
main.add_command(export)
