"""Check reports, feeds, articles, histories, alerts and seeds as rich tables and lines.

Their JSON lives in ``monitor/serialize.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from monitor.models import (
    Alert,
    Article,
    Change,
    ChangeKind,
    CheckReport,
    Drift,
    FeedReport,
    FeedState,
    FeedStatus,
    Node,
    PhraseHistory,
    RelayReport,
    Seed,
    Version,
)
from monitor.render.summary import percent
from monitor.render.tables import Cell, Column, Listing, print_listing
from monitor.serialize import SeedDriftPoint, SeedLinkedArticle

if TYPE_CHECKING:
    from rich.console import Console

NOTHING_DUE = (
    "No feed was due yet; `newsmonitor feeds` shows when each is due, "
    "`check --all` checks them now."
)


def short_time(moment: datetime | None) -> str:
    """A timestamp for tables: minutes are precise enough for a glance (UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


_KIND_STYLE = {
    ChangeKind.NEW: "green",
    ChangeKind.CHANGED: "yellow",
    ChangeKind.REMOVED: "red",
    ChangeKind.RESTORED: "cyan",
    ChangeKind.MOVED: "magenta",
    ChangeKind.REVERTED: "blue",
}
_SIGNIFICANCE_STYLE = {
    "cosmetic": "dim",
    "minor": "",
    "major": "bold yellow",
    "rewrite": "bold red",
}
# On a terminal, a first check of a few feeds would list hundreds of "new" rows: past this
# many they are counted per feed instead (`articles` lists them; piped, all are listed).
NEW_LISTED = 20

CHANGE_COLUMNS = (
    Column("kind", keep=9),
    Column("article", keep=8, justify="right"),
    Column("version", keep=6),
    Column("feed", keep=5),
    Column("significance", keep=4),
    Column("title", keep=7, fit="wrap", min_width=20, ratio=2),
    Column("detail", keep=3, fit="wrap", min_width=16),
    Column("url", keep=1, fit="url", min_width=24),
)


def change_row(change: Change) -> list[Cell]:
    """A change as cells of CHANGE_COLUMNS; the detail cell also carries tags and seed."""
    version = "" if change.version is None else f"v{change.version}"
    if change.previous_version:
        version = f"v{change.previous_version}→{version}"
    detail = Text(change.detail or "", style="dim")
    if change.tags:
        detail.append("\n" if detail else "")
        detail.append(" ".join(change.tags), style="cyan")
    if change.seed_id:
        detail.append("\n" if detail else "")
        detail.append(f"seed {change.seed_id}", style="magenta")
        detail.append(f" {drift_summary(change.drift)}")
    significance = str(change.significance or "")
    return [
        Text(str(change.kind), style=_KIND_STYLE.get(change.kind, "")),
        str(change.article_id),
        version,
        change.feed,
        Text(significance, style=_SIGNIFICANCE_STYLE.get(significance, "")),
        change.title or change.url,
        detail,
        change.url,
    ]


def changes_listing(changes: Sequence[Change], title: str = "Changes") -> Listing:
    return Listing(title, CHANGE_COLUMNS, [change_row(change) for change in changes])


def changes_table(changes: Sequence[Change], title: str = "Changes", width: int = 120) -> Table:
    """The changes as a table at most ``width`` wide (the demo's and `history`'s)."""
    return changes_listing(changes, title).table(width)


FEED_COLUMNS = (
    Column("name", keep=9),
    Column("status", keep=9),
    Column("pages failing", keep=8, justify="right"),
    Column("last checked", keep=2),
    Column("next due", keep=4),
    Column("entries", keep=3, justify="right"),
    Column("last error", keep=7, fit="wrap", min_width=16),
)


def feeds_listing(
    states: Sequence[tuple[str, str, FeedState | None]], failing: Mapping[str, int]
) -> Listing:
    """Feeds as (name, url, stored state or None when never checked), each with how many
    of its articles failed their last fetch (``failing``): a feed that answers while its
    pages do not is not simply "ok" (issue 14)."""
    rows: list[list[Cell]] = []
    for name, url, state in states:
        if state is None or state.last_checked is None:
            status = Text("never checked")
        elif state.failures:
            status = Text(f"failing ×{state.failures}", style="red")
        else:
            status = Text(f"ok ({state.last_status})" if state.last_status else "ok")
        pages = failing.get(name, 0)
        rows.append(
            [
                name,
                status,
                Text(str(pages), style="yellow" if pages else "dim"),
                short_time(state.last_checked) if state else "",
                short_time(state.next_due) if state and state.next_due else "now",
                "" if state is None or state.entries is None else str(state.entries),
                ((state.last_error or "") if state else "").removeprefix(f"{url}: "),
            ]
        )
    return Listing("Feeds (times in UTC)", FEED_COLUMNS, rows)


NODE_COLUMNS = (
    Column("node", keep=9, fit="wrap", min_width=16),
    Column("state", keep=9),
    Column("started", keep=3),
    Column("heartbeat", keep=6),
    Column("version", keep=2),
    Column("holds", keep=7, fit="wrap", min_width=16),
)


def nodes_listing(nodes: Sequence[Node], now: datetime, lost_after: timedelta) -> Listing:
    """The daemons working the store (issue 17): alive, or lost when their heartbeat is
    older than ``lost_after``, and the claims each holds."""
    rows: list[list[Cell]] = []
    for node in nodes:
        lost = now - node.heartbeat > lost_after
        rows.append(
            [
                node.id,
                Text("lost", style="red") if lost else Text("alive", style="green"),
                short_time(node.started),
                short_time(node.heartbeat),
                node.version,
                ", ".join(node.claims) or "nothing",
            ]
        )
    return Listing("Nodes (times in UTC)", NODE_COLUMNS, rows)


# At 80 columns: id, versions, title and URL (the feed goes first: `--feed` filters by it).
ARTICLE_COLUMNS = (
    Column("id", keep=10, justify="right"),
    Column("feed", keep=6),
    Column("status", keep=2),
    Column("versions", keep=8, justify="right"),
    Column("title", keep=9, fit="words", min_width=16, ratio=3),
    Column("url", keep=7, fit="url", min_width=26, ratio=2),
    Column("next check", keep=3),
    Column("last error", keep=1, fit="words", min_width=16),
)


def articles_listing(articles: Sequence[Article]) -> Listing:
    """One line per article on a terminal too: titles cut at a word, URLs in the middle."""
    rows: list[list[Cell]] = [
        [
            str(article.id),
            article.feed,
            str(article.status),
            str(article.versions),
            article.title or "",
            article.current_url,
            short_time(article.next_check) or "done",
            (article.last_error or "").removeprefix(f"{article.current_url}: "),
        ]
        for article in articles
    ]
    return Listing("Articles (times in UTC)", ARTICLE_COLUMNS, rows)


def history_table(article: Article, versions: Sequence[Version]) -> Table:
    table = Table(title=escape(f"History of article {article.id}: {article.current_url}"))
    for column in ("version", "fetched at", "title", "hash", "size", "source"):
        table.add_column(column)
    for version in versions:
        table.add_row(
            f"v{version.number}",
            short_time(version.fetched_at),
            escape(version.title or ""),
            version.content_hash[:12],
            str(version.size),
            str(version.source),
        )
    return table


ALERT_COLUMNS = (
    Column("id", keep=9, justify="right"),
    Column("channel", keep=8),
    Column("type", keep=4),
    Column("status", keep=9),
    Column("tries", keep=3, justify="right"),
    Column("next / done", keep=5),
    Column("last error", keep=7, fit="wrap", min_width=20),
)
_ALERT_STYLE = {"queued": "yellow", "delivered": "green", "dead": "red"}


def alerts_listing(alerts: Sequence[Alert]) -> Listing:
    rows: list[list[Cell]] = []
    for alert in alerts:
        when = alert.delivered_at if alert.delivered_at else alert.next_attempt
        rows.append(
            [
                str(alert.id),
                alert.channel,
                alert.event_type + (" (digest)" if alert.digest else ""),
                Text(str(alert.status), style=_ALERT_STYLE[str(alert.status)]),
                str(alert.attempts),
                short_time(when),
                alert.last_error or "",
            ]
        )
    return Listing("Alerts (times in UTC)", ALERT_COLUMNS, rows)


def drift_summary(drift: Drift | None) -> str:
    """ "82% like the seed; +2 -1 ~1 sentences; figures 30,000 -> 40,000" """
    if drift is None:
        return ""
    text = (
        f"{percent(drift.similarity)} like the seed; sentences +{drift.sentences_added} "
        f"-{drift.sentences_removed} ~{drift.sentences_edited}"
    )
    if drift.numbers_added or drift.numbers_removed:
        text += f"; figures {', '.join(drift.numbers_removed) or '-'} -> "
        text += ", ".join(drift.numbers_added) or "-"
    if drift.quotes_added or drift.quotes_removed:
        text += f"; quotes +{len(drift.quotes_added)} -{len(drift.quotes_removed)}"
    return text


def seeds_table(overview: Sequence[tuple[Seed, Sequence[SeedLinkedArticle]]]) -> Table:
    table = Table(title="Seeds")
    table.add_column("seed", overflow="fold")
    table.add_column("linked article", overflow="fold")
    table.add_column("drift of its latest version", overflow="fold")
    for seed, linked in overview:
        name = escape(seed.id) + (f"\n[dim]{escape(seed.title)}[/dim]" if seed.title else "")
        if not linked:
            table.add_row(name, "[dim]none yet[/dim]", "")
        for index, item in enumerate(linked):
            article = item.article
            table.add_row(
                name if index == 0 else "",
                f"{article.id} {escape(article.feed)}: {escape(article.title or article.url)}",
                f"v{item.link.drift_version}: {escape(drift_summary(item.link.drift))}",
            )
    return table


def timeline_table(seed: Seed, points: Sequence[SeedDriftPoint]) -> Table:
    table = Table(title=escape(f"Seed {seed.id}: every linked version against the seed"))
    for column in ("time (UTC)", "article", "version", "title"):
        table.add_column(column, overflow="fold")
    table.add_column("against the seed", overflow="fold")
    for point in points:
        table.add_row(
            short_time(point.version.fetched_at),
            f"{point.article.id} {escape(point.article.feed)}",
            f"v{point.version.number}",
            escape(point.version.title or ""),
            escape(drift_summary(point.drift)),
        )
    return table


def link_reasons(linked: Sequence[SeedLinkedArticle]) -> list[str]:
    return [
        f"article {item.article.id} linked {short_time(item.link.linked_at)}: "
        + "; ".join(item.link.reasons)
        for item in linked
    ]


# How capture.py and decide.py end a warning about a new article whose page failed or was
# held as suspect: the page is a failure all the same, so the summary counts it as an error.
FEED_TEXT_USED = "; using the feed entry's text"


@dataclass(frozen=True)
class ProblemGroup:
    """Article problems of one kind ("error" or "warning") with one reason: on one host,
    or one each on several hosts."""

    label: str
    reason: str
    hosts: tuple[str, ...]
    lines: tuple[str, ...]  # as reported, each naming its URL


# Hosts with one problem of the same reason are listed one by one up to this many; more
# become one line naming the first HOSTS_NAMED (linked-list feeds link to dozens of sites).
SINGLES_LISTED = 3
HOSTS_NAMED = 4


def page_failures(report: CheckReport) -> tuple[str, ...]:
    """Articles whose page could not be used: errors, and new articles stored with their
    feed entry's text because their page failed."""
    return report.errors + tuple(w for w in report.warnings if w.endswith(FEED_TEXT_USED))


def split_problem(line: str) -> tuple[str, str]:
    """("host", "reason") of a "URL: reason" line: the reason without the URL, the
    fallback note or the host quoted again, so that lines alike group together."""
    url, _, reason = line.partition(": ")
    host = urlsplit(url).hostname
    if not host or not reason:
        return "", line.removesuffix(FEED_TEXT_USED)
    reason = reason.removesuffix(FEED_TEXT_USED)
    for quoted in (f" '{host}'", f' "{host}"', f" {host}"):
        reason = reason.replace(quoted, "")
    return host.removeprefix("www."), reason


def group_problems(report: CheckReport) -> list[ProblemGroup]:
    """The report's article errors and warnings grouped by host and reason, largest first
    (a first check of ten real feeds printed 101 warnings over 345 lines: issue 14)."""
    warnings = [w for w in report.warnings if not w.endswith(FEED_TEXT_USED)]
    by_host: dict[tuple[str, str, str], list[str]] = {}
    for label, lines in (("error", page_failures(report)), ("warning", warnings)):
        for line in lines:
            by_host.setdefault((label, *split_problem(line)), []).append(line)
    groups: list[ProblemGroup] = []
    singles: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for (label, host, reason), lines in by_host.items():
        if len(lines) == 1 and host:
            singles.setdefault((label, reason), []).append((host, lines[0]))
        else:
            groups.append(ProblemGroup(label, reason, (host,), tuple(lines)))
    for (label, reason), items in singles.items():
        if len(items) > SINGLES_LISTED:
            hosts, lines = zip(*sorted(items), strict=True)
            groups.append(ProblemGroup(label, reason, hosts, lines))
        else:
            groups += [ProblemGroup(label, reason, (host,), (line,)) for host, line in items]
    return sorted(groups, key=lambda g: (g.label != "error", -len(g.lines), g.hosts))


def problem_line(group: ProblemGroup) -> str:
    """``36 × washingtonpost.com: cannot resolve host``; a single problem as reported."""
    if len(group.lines) == 1:
        return group.lines[0]
    if len(group.hosts) == 1:
        where = f"{group.hosts[0]}: " if group.hosts[0] else ""
        return f"{len(group.lines)} × {where}{group.reason}"
    named = ", ".join(group.hosts[:HOSTS_NAMED]) + (", …" * (len(group.hosts) > HOSTS_NAMED))
    return f"{len(group.hosts)} hosts, one page each: {group.reason} ({named})"


def summary_lines(report: CheckReport) -> list[str]:
    """The counts a cron mail or a terminal needs, every failure counted: a feed that
    answered is not a success when its pages did not (issue 14)."""
    checked = sum(1 for f in report.feeds if f.status != FeedStatus.SKIPPED)
    kinds = ", ".join(f"{report.count(kind)} {kind}" for kind in ChangeKind)
    pages = len(page_failures(report))
    errors = report.feed_errors + pages + len(report.store_errors)
    lines = [
        f"Check summary: {checked} feeds and {report.articles_checked} articles checked",
        f"changes: {kinds}",
        f"errors: {errors} ({report.feed_errors} feeds, {pages} article pages, "
        f"{len(report.store_errors)} writes not stored)",
    ]
    if others := len(report.warnings) - (pages - len(report.errors)):
        lines.append(f"warnings: {others}")
    return lines


def _new_by_feed(changes: Sequence[Change]) -> str:
    counts = Counter(c.feed for c in changes if c.kind == ChangeKind.NEW)
    listed = ", ".join(f"{feed} {count}" for feed, count in counts.most_common())
    return f"{sum(counts.values())} new articles ({listed}); `newsmonitor articles` lists them"


def print_changes(out: Console, changes: Sequence[Change]) -> None:
    """The changes: every one, one per line, when piped; on a terminal a table, in which a
    flood of new articles (a first check) is counted per feed rather than listed."""
    new = sum(1 for change in changes if change.kind == ChangeKind.NEW)
    if not out.is_terminal or new <= NEW_LISTED:
        if changes:
            print_listing(out, changes_listing(changes))
        return
    if listed := [change for change in changes if change.kind != ChangeKind.NEW]:
        print_listing(out, changes_listing(listed))
    out.print(_new_by_feed(changes), highlight=False, markup=False)


def print_check_report(
    out: Console, notes: Console, report: CheckReport, delivery: RelayReport | None = None
) -> None:
    """What `check` prints: the changes on ``out``; then on ``notes`` (stderr) whether
    anything was due, failing feeds, article problems grouped by host and reason, refused
    writes and the alerts sent; and last, where it stays in sight, the summary on ``out``."""
    print_changes(out, report.changes)
    if all(feed.status == FeedStatus.SKIPPED for feed in report.feeds):
        notes.print(NOTHING_DUE)
    print_feed_problems(notes, report.feeds)
    styles = {"error": "[red]error:[/red]", "warning": "[yellow]warning:[/yellow]"}
    # Piped, a line stays one line (grep); on a terminal rich wraps it at words.
    piped = not notes.is_terminal
    for group in group_problems(report):
        line = escape(problem_line(group))
        notes.print(f"{styles[group.label]} {line}", highlight=False, soft_wrap=piped)
    for line in report.store_errors:
        notes.print(f"[red]not stored:[/red] {escape(line)}", highlight=False, soft_wrap=piped)
    if delivery is not None:
        print_delivery(notes, delivery)
    for line in summary_lines(report):
        out.print(line, highlight=False, markup=False, soft_wrap=not out.is_terminal)


def print_feed_problems(console: Console, feeds: Iterable[FeedReport], failed: str = "") -> None:
    """A line per feed that failed (red, its label ending in ``failed``) or that was
    malformed but still used (yellow)."""
    for feed in feeds:
        if feed.error:
            console.print(f"[red]feed {escape(feed.name)}{failed}:[/red] {escape(feed.error)}")
        elif feed.warning:
            console.print(f"[yellow]feed {escape(feed.name)}:[/yellow] {escape(feed.warning)}")


def print_delivery(console: Console, delivery: RelayReport) -> None:
    """What the relay did at the end of `check`, and why alerts failed."""
    console.print(
        f"alerts: {delivery.delivered} delivered, {delivery.retried} queued for retry, "
        f"{delivery.dead} dead",
        highlight=False,
    )
    for line in delivery.errors:
        console.print(f"[red]alert error:[/red] {escape(line)}", highlight=False)


# At 80 columns: id, where the phrase appeared and disappeared, and the URL.
SEARCH_COLUMNS = (
    Column("id", keep=10, justify="right"),
    Column("feed", keep=5),
    Column("appeared", keep=9),
    Column("disappeared", keep=8),
    Column("title", keep=6, fit="words", min_width=16, ratio=3),
    Column("url", keep=7, fit="url", min_width=26, ratio=2),
)


def search_listing(phrase: str, found: Sequence[PhraseHistory]) -> Listing:
    """Articles whose text had ``phrase``: the version (and time) it appeared in and the one
    it disappeared in, for each run of versions that had it."""
    rows: list[list[Cell]] = []
    for history in found:
        appeared = ", ".join(
            f"v{start.number} {short_time(start.fetched_at)}" for start, _ in history.spans
        )
        gone = ", ".join(
            f"v{end.number} {short_time(end.fetched_at)}" if end else "still there"
            for _, end in history.spans
        )
        article = history.article
        rows.append(
            [str(article.id), article.feed, appeared, gone, article.title or "", article.url]
        )
    title = f"Articles that contained {escape(repr(phrase))} (times in UTC)"
    return Listing(title, SEARCH_COLUMNS, rows)
