"""Models as JSON-ready dicts: the one place that knows each model's JSON fields.

Every ``--json`` document, the webhook event and the JSON log lines take their values from
here, so a field is named, typed and formatted once. All timestamps are RFC 3339 in UTC
with a ``Z`` (``format_timestamp``), the form webhook receivers and log collectors parse
most readily.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, overload

from monitor.models import (
    Alert,
    Article,
    Change,
    CheckReport,
    DiffStats,
    Drift,
    FeedState,
    Node,
    PhraseHistory,
    RelayReport,
    Seed,
    SeedLink,
    Version,
)

JSON_SCHEMA_VERSION = 1


class SeedLinkedArticle(Protocol):
    """An article linked to a seed, as ``compare.seeds_overview`` lists it."""

    @property
    def link(self) -> SeedLink: ...

    @property
    def article(self) -> Article: ...


class SeedDriftPoint(Protocol):
    """One version of a linked article against its seed (``compare.seed_timeline``)."""

    @property
    def article(self) -> Article: ...

    @property
    def version(self) -> Version: ...

    @property
    def drift(self) -> Drift: ...


@overload
def format_timestamp(moment: datetime) -> str: ...
@overload
def format_timestamp(moment: None) -> None: ...
def format_timestamp(moment: datetime | None) -> str | None:
    """``2026-12-04T21:21:43Z`` (fractional seconds only when there are any); None stays None.

    A naive datetime is taken as UTC, which is what every stored time is.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def json_value(value: Any) -> Any:
    """A model's value as JSON: times by ``format_timestamp``, enums as their value,
    tuples as lists, nested dataclasses (stats, drift) as dicts of every field."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, tuple | list):
        return [json_value(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_value(getattr(value, f.name)) for f in fields(value)}
    return value


def pick(model: object, names: Iterable[str]) -> dict[str, Any]:
    """The named attributes of ``model`` as JSON, in order; ``"key:attribute"`` renames."""
    document = {}
    for name in names:
        key, _, attribute = name.partition(":")
        document[key] = json_value(getattr(model, attribute or key))
    return document


# The JSON fields of each model, in document order: add a field here and every document
# that carries the model has it.
CHANGE_FIELDS = (
    "id",
    "kind",
    "article_id",
    "url",
    "feed",
    "title",
    "version",
    "previous_version",
    "detected_at",
    "detail",
    "significance",
    "tags",
    "stats",
    "reverted_to",
    "seed_id",
    "drift",
)
FEED_REPORT_FIELDS = ("name", "status", "http_status", "entries", "error", "warning")
FEED_STATE_FIELDS = (
    "last_checked",
    "last_success",
    "last_status",
    "last_error",
    "failures",
    "next_due",
    "entries",
)
ARTICLE_FIELDS = (
    "id",
    "feed",
    "url",
    "current_url",
    "canonical_url",
    "guid",
    "title",
    "status",
    "versions",
    "first_seen",
    "last_checked",
    "next_check",
    "last_error",
)
VERSION_FIELDS = (
    "number",
    "fetched_at",
    "title",
    "byline",
    "hash:content_hash",
    "size",
    "source",
    "url",
    "published",
    "modified",
)
ALERT_FIELDS = (  # not the payload: that is the event document the alert carries
    "id",
    "event_id",
    "channel",
    "type:event_type",
    "status",
    "change_id",
    "created_at",
    "attempts",
    "next_attempt",
    "delivered_at",
    "last_error",
    "digest",
)
DELIVERY_FIELDS = ("delivered", "retried", "dead", "errors")
SEED_FIELDS = ("id", "title", "url")
LINK_FIELDS = ("score", "reasons", "linked_at", "drift_version", "drift")


def stats_to_json(stats: DiffStats | None) -> dict[str, Any] | None:
    """Every ``DiffStats`` field, in declaration order, so new counters appear on their own."""
    return json_value(stats)


def drift_to_json(drift: Drift | None) -> dict[str, Any] | None:
    """Every ``Drift`` field; tuples as lists, so the dict equals its JSON round trip."""
    return json_value(drift)


def change_to_json(change: Change) -> dict[str, Any]:
    """A change as ``check --json`` and ``history --json`` list it (the webhook event
    regroups these same values, see ``alerts/payload.py``)."""
    return pick(change, CHANGE_FIELDS)


def report_to_json(report: CheckReport, delivery: RelayReport | None = None) -> dict[str, Any]:
    """The ``check --json`` document (schema in the README); ``alerts`` only with a relay."""
    document: dict[str, Any] = {
        "schema": JSON_SCHEMA_VERSION,
        "feeds": [pick(feed, FEED_REPORT_FIELDS) for feed in report.feeds],
        "changes": [change_to_json(change) for change in report.changes],
        **pick(report, ("articles_checked", "errors", "warnings", "store_errors")),
    }
    if delivery is not None:
        document["alerts"] = pick(delivery, DELIVERY_FIELDS)
    return document


def feed_to_json(
    state: FeedState | None, name: str, url: str, article_failures: int | None = None
) -> dict[str, Any]:
    """A configured feed with its stored state (all empty when never checked) and, when
    given, how many of its articles failed their last fetch."""
    state = state or FeedState(name=name, url=url)
    document = {"name": name, "url": url, **pick(state, FEED_STATE_FIELDS)}
    if article_failures is not None:
        document["article_failures"] = article_failures
    return document


def feeds_to_json(
    states: Sequence[tuple[str, str, FeedState | None]], failing: Mapping[str, int]
) -> list[dict[str, Any]]:
    """The ``feeds --json`` document: feeds as (name, url, state), each with its count of
    failing articles (``failing``: by feed name; a feed not in it has none)."""
    return [feed_to_json(state, name, url, failing.get(name, 0)) for name, url, state in states]


def status_to_json(
    states: Sequence[tuple[str, str, FeedState | None]],
    counts: Mapping[str, int],
    alerts: Mapping[Any, int],
    failing: Mapping[str, int],
    nodes: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The ``status --json`` document: the feeds as in ``feeds_to_json``, store counts,
    and the nodes as in ``nodes_to_json``."""
    return {
        "feeds": feeds_to_json(states, failing),
        "articles": counts["articles"],
        "versions": counts["versions"],
        "changes": counts["changes"],
        "alerts": {str(k): v for k, v in alerts.items()},
        "nodes": list(nodes),
    }


def nodes_to_json(
    nodes: Sequence[Node], now: datetime, lost_after: timedelta
) -> list[dict[str, Any]]:
    """The daemons working the store (issue 17), each ``lost`` when its heartbeat is older
    than ``lost_after``, with the claims it holds."""
    return [
        {
            "id": node.id,
            "host": node.host,
            "pid": node.pid,
            "version": node.version,
            "started": json_value(node.started),
            "heartbeat": json_value(node.heartbeat),
            "lost": now - node.heartbeat > lost_after,
            "claims": list(node.claims),
        }
        for node in nodes
    ]


def article_to_json(article: Article) -> dict[str, Any]:
    return pick(article, ARTICLE_FIELDS)


def version_to_json(version: Version) -> dict[str, Any]:
    return pick(version, VERSION_FIELDS)


def history_to_json(
    article: Article, versions: Sequence[Version], changes: Sequence[Change]
) -> dict[str, Any]:
    """The ``history --json`` document."""
    return {
        "article": article_to_json(article),
        "versions": [version_to_json(v) for v in versions],
        "changes": [change_to_json(c) for c in changes],
    }


def alert_to_json(alert: Alert) -> dict[str, Any]:
    return pick(alert, ALERT_FIELDS)


def linked_to_json(item: SeedLinkedArticle) -> dict[str, Any]:
    """An article linked to a seed: why it linked and how far its latest version drifted."""
    return {"article": article_to_json(item.article), **pick(item.link, LINK_FIELDS)}


def seeds_to_json(
    overview: Sequence[tuple[Seed, Sequence[SeedLinkedArticle]]],
) -> list[dict[str, Any]]:
    """The ``seeds --json`` document: each seed with its linked articles."""
    return [
        {
            **pick(seed, (*SEED_FIELDS, "feeds")),
            "articles": [linked_to_json(item) for item in linked],
        }
        for seed, linked in overview
    ]


def timeline_to_json(
    seed: Seed, linked: Sequence[SeedLinkedArticle], points: Sequence[SeedDriftPoint]
) -> dict[str, Any]:
    """The ``seeds show --json`` document: every linked version against the seed."""
    return {
        "seed": pick(seed, SEED_FIELDS),
        "links": [linked_to_json(item) for item in linked],
        "timeline": [
            {
                "article_id": point.article.id,
                "version": point.version.number,
                **pick(point.version, ("fetched_at", "title")),
                "drift": drift_to_json(point.drift),
            }
            for point in points
        ],
    }


def phrase_history_to_json(history: PhraseHistory) -> dict[str, Any]:
    """An article ``search --json`` found: where the phrase appeared and disappeared (each
    run of versions that had it), and the numbers of all the versions that had it."""
    return {
        "article": article_to_json(history.article),
        "first_version": history.first_version.number,
        "first_at": format_timestamp(history.first_version.fetched_at),
        "removed_in": history.removed_in.number if history.removed_in else None,
        "removed_at": format_timestamp(history.removed_in.fetched_at)
        if history.removed_in
        else None,
        "spans": [
            {"from": start.number, "until": end.number if end else None}
            for start, end in history.spans
        ],
        "versions": [stamp.number for stamp in history.versions if stamp.contains],
    }
