"""Render check reports, feeds, articles and histories as rich tables or JSON-ready dicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from monitor.models import (
    Alert,
    Article,
    Change,
    ChangeKind,
    CheckReport,
    Drift,
    FeedState,
    FeedStatus,
    RelayReport,
    Seed,
    Version,
)
from monitor.render.summary import percent

if TYPE_CHECKING:  # the comparisons are not needed to print a check's report
    from monitor.compare import DriftPoint, LinkedArticle

JSON_SCHEMA_VERSION = 1


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def short_time(moment: datetime | None) -> str:
    """A timestamp for tables: minutes are precise enough for a glance (UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def change_to_json(change: Change) -> dict[str, Any]:
    return {
        "id": change.id,
        "kind": str(change.kind),
        "article_id": change.article_id,
        "url": change.url,
        "feed": change.feed,
        "title": change.title,
        "version": change.version,
        "previous_version": change.previous_version,
        "detected_at": iso(change.detected_at),
        "detail": change.detail,
        "significance": str(change.significance) if change.significance else None,
        "tags": list(change.tags),
        "stats": asdict(change.stats) if change.stats else None,
        "reverted_to": change.reverted_to,
        "seed_id": change.seed_id,
        "drift": drift_to_json(change.drift),
    }


def drift_to_json(drift: Drift | None) -> dict[str, Any] | None:
    if drift is None:
        return None
    return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(drift).items()}


def report_to_json(report: CheckReport) -> dict[str, Any]:
    """The ``check --json`` document (schema in the README)."""
    return {
        "schema": JSON_SCHEMA_VERSION,
        "feeds": [
            {
                "name": feed.name,
                "status": str(feed.status),
                "http_status": feed.http_status,
                "entries": feed.entries,
                "error": feed.error,
                "warning": feed.warning,
            }
            for feed in report.feeds
        ],
        "changes": [change_to_json(change) for change in report.changes],
        "articles_checked": report.articles_checked,
        "errors": list(report.errors),
        "warnings": list(report.warnings),
        "store_errors": list(report.store_errors),
    }


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


def feed_to_json(state: FeedState | None, name: str, url: str) -> dict[str, Any]:
    state = state or FeedState(name=name, url=url)
    return {
        "name": name,
        "url": url,
        "last_checked": iso(state.last_checked),
        "last_success": iso(state.last_success),
        "last_status": state.last_status,
        "last_error": state.last_error,
        "failures": state.failures,
        "next_due": iso(state.next_due),
        "entries": state.entries,
    }


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


def article_to_json(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "feed": article.feed,
        "url": article.url,
        "current_url": article.current_url,
        "canonical_url": article.canonical_url,
        "guid": article.guid,
        "title": article.title,
        "status": str(article.status),
        "versions": article.versions,
        "first_seen": iso(article.first_seen),
        "last_checked": iso(article.last_checked),
        "next_check": iso(article.next_check),
        "last_error": article.last_error,
    }


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


def version_to_json(version: Version) -> dict[str, Any]:
    return {
        "number": version.number,
        "fetched_at": iso(version.fetched_at),
        "title": version.title,
        "byline": version.byline,
        "hash": version.content_hash,
        "size": version.size,
        "source": str(version.source),
        "url": version.url,
        "published": iso(version.published),
        "modified": iso(version.modified),
    }


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


def alert_to_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "event_id": alert.event_id,
        "channel": alert.channel,
        "type": alert.event_type,
        "status": str(alert.status),
        "change_id": alert.change_id,
        "created_at": iso(alert.created_at),
        "attempts": alert.attempts,
        "next_attempt": iso(alert.next_attempt),
        "delivered_at": iso(alert.delivered_at),
        "last_error": alert.last_error,
        "digest": alert.digest,
    }


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


def delivery_to_json(report: RelayReport) -> dict[str, Any]:
    """What the relay did at the end of `check`."""
    return {
        "delivered": report.delivered,
        "retried": report.retried,
        "dead": report.dead,
        "errors": list(report.errors),
    }


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


def seeds_to_json(overview: Sequence[tuple[Seed, Sequence[LinkedArticle]]]) -> list[dict[str, Any]]:
    return [
        {
            "id": seed.id,
            "title": seed.title,
            "url": seed.url,
            "feeds": list(seed.feeds),
            "articles": [
                {
                    "article": article_to_json(item.article),
                    "score": item.link.score,
                    "reasons": list(item.link.reasons),
                    "linked_at": iso(item.link.linked_at),
                    "drift_version": item.link.drift_version,
                    "drift": drift_to_json(item.link.drift),
                }
                for item in linked
            ],
        }
        for seed, linked in overview
    ]


def seeds_table(overview: Sequence[tuple[Seed, Sequence[LinkedArticle]]]) -> Table:
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


def timeline_table(seed: Seed, points: Sequence[DriftPoint]) -> Table:
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


def link_reasons(linked: Sequence[LinkedArticle]) -> list[str]:
    return [
        f"article {item.article.id} linked {short_time(item.link.linked_at)}: "
        + "; ".join(item.link.reasons)
        for item in linked
    ]
