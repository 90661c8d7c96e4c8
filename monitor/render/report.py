"""Check reports, feeds, articles, histories, alerts and seeds as rich tables and lines.

Their JSON lives in ``monitor/serialize.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

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
    RelayReport,
    Seed,
    Version,
)
from monitor.render.summary import percent
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


def summary_table(report: CheckReport) -> Table:
    """One row of counts: the glance a cron mail or a terminal needs."""
    table = Table(title="Check summary")
    for column in (
        "feeds checked",
        "new articles",
        "new versions",
        "removed",
        "moved",
        "restored",
        "errors",
    ):
        table.add_column(column, justify="right")
    checked = sum(1 for f in report.feeds if f.status != FeedStatus.SKIPPED)
    table.add_row(
        str(checked),
        str(report.count(ChangeKind.NEW)),
        str(report.count(ChangeKind.CHANGED)),
        str(report.count(ChangeKind.REMOVED)),
        str(report.count(ChangeKind.MOVED)),
        str(report.count(ChangeKind.RESTORED)),
        str(report.feed_errors + len(report.errors) + len(report.store_errors)),
    )
    return table


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


def changes_table(changes: Sequence[Change], title: str = "Changes") -> Table:
    table = Table(title=title)
    for column in ("kind", "article", "version", "feed", "significance", "title / detail"):
        table.add_column(column)
    for change in changes:
        version = "" if change.version is None else f"v{change.version}"
        if change.previous_version:
            version = f"v{change.previous_version}→{version}"
        text = escape(change.title or change.url)
        if change.detail:
            text += f"\n[dim]{escape(change.detail)}[/dim]"
        if change.tags:
            text += f"\n[cyan]{escape(' '.join(change.tags))}[/cyan]"
        if change.seed_id:
            drift = drift_summary(change.drift)
            text += f"\n[magenta]seed {escape(change.seed_id)}[/magenta] {escape(drift)}"
        style = _KIND_STYLE.get(change.kind, "")
        significance = str(change.significance or "")
        weight = _SIGNIFICANCE_STYLE.get(significance) or "default"
        table.add_row(
            f"[{style}]{change.kind}[/{style}]",
            str(change.article_id),
            version,
            escape(change.feed),
            f"[{weight}]{significance}[/{weight}]" if significance else "",
            text,
        )
    return table


def feeds_table(states: Sequence[tuple[str, str, FeedState | None]]) -> Table:
    """Feeds as (name, url, stored state or None when never checked)."""
    table = Table(title="Feeds (times in UTC)")
    table.add_column("name", overflow="fold", min_width=8)
    table.add_column("status", no_wrap=True)
    for column in ("last checked", "next due"):
        table.add_column(column)
    table.add_column("entries", justify="right")
    table.add_column("last error", overflow="fold", min_width=16)
    for name, url, state in states:
        if state is None or state.last_checked is None:
            status = "never checked"
        elif state.failures:
            status = f"[red]failing ×{state.failures}[/red]"
        else:
            status = f"ok ({state.last_status})" if state.last_status else "ok"
        error = (state.last_error or "") if state else ""
        table.add_row(
            escape(name),
            status,
            short_time(state.last_checked) if state else "",
            short_time(state.next_due) if state and state.next_due else "now",
            "" if state is None or state.entries is None else str(state.entries),
            escape(error.removeprefix(f"{url}: ")),
        )
    return table


def articles_table(articles: Sequence[Article]) -> Table:
    table = Table(title="Articles")
    for column in ("id", "feed", "status", "versions", "title", "url", "next check"):
        table.add_column(column)
    for article in articles:
        table.add_row(
            str(article.id),
            escape(article.feed),
            str(article.status),
            str(article.versions),
            escape(article.title or ""),
            escape(article.current_url),
            short_time(article.next_check) or "done",
        )
    return table


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


def alerts_table(alerts: Sequence[Alert]) -> Table:
    table = Table(title="Alerts (times in UTC)")
    table.add_column("id", justify="right")
    table.add_column("channel / type", overflow="fold")
    table.add_column("status")
    table.add_column("tries", justify="right")
    table.add_column("next / done")
    table.add_column("last error", overflow="fold", ratio=1, min_width=20)
    styles = {"queued": "yellow", "delivered": "green", "dead": "red"}
    for alert in alerts:
        style = styles[str(alert.status)]
        when = alert.delivered_at if alert.delivered_at else alert.next_attempt
        kind = escape(alert.event_type) + (" (digest)" if alert.digest else "")
        table.add_row(
            str(alert.id),
            f"{escape(alert.channel)}\n[dim]{kind}[/dim]",
            f"[{style}]{alert.status}[/{style}]",
            str(alert.attempts),
            short_time(when),
            escape(alert.last_error or ""),
        )
    return table


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


def print_check_report(out: Console, notes: Console, report: CheckReport) -> None:
    """What `check` prints: the changes and the summary on ``out``, then on ``notes``
    (stderr) whether anything was due, failing feeds, errors and refused writes."""
    if report.changes:
        out.print(changes_table(report.changes))
    out.print(summary_table(report))
    if all(feed.status == FeedStatus.SKIPPED for feed in report.feeds):
        notes.print(NOTHING_DUE)
    print_feed_problems(notes, report.feeds)
    for label, lines in (
        ("[red]error:[/red]", report.errors),
        ("[yellow]warning:[/yellow]", report.warnings),
        ("[red]not stored:[/red]", report.store_errors),
    ):
        for line in lines:
            notes.print(f"{label} {escape(line)}", highlight=False)


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
