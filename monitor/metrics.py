"""A daemon's Prometheus metrics (issue 17): counters fed where the facts are, gauges read
from the store when scraped. The only module that imports ``prometheus_client``.

Each daemon has its own ``CollectorRegistry`` (tests run several daemons in one process;
the library's global registry would mix them). What is counted:

- ``fetch``: every GET exchange the fetcher makes (each hop of a redirect, each retry),
  by status code ("error" when no answer came), and its duration. ``fetch.py`` knows
  nothing of Prometheus: it calls an observer, ``DaemonMetrics.observe_fetch``.
- passes: every feed job and articles job of the scheduler, from its ``CheckReport``:
  feeds by outcome, articles checked, versions stored, changes by kind and significance,
  errors; and the time of the last successful pass (what ``/healthz`` judges).
- the store, read at scrape time (``StoreReading``, read by health.py): whether it
  answered, alerts by state, the outbox's lag, the claims this node holds.

Labels are bounded: status codes, change kinds, significances, alert states, feed
outcomes; never a URL, a feed name or an article (cardinality, and URLs may carry
credentials).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor.models import ChangeKind, CheckReport

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Internet fetches: a loopback 304 takes milliseconds, a slow site tens of seconds.
FETCH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# The change kinds that store a new version of the article.
VERSION_KINDS = frozenset({ChangeKind.NEW, ChangeKind.CHANGED, ChangeKind.REVERTED})


@dataclass(frozen=True)
class StoreReading:
    """What the store said when a scrape or a health check read it; ``up`` False (and
    ``error`` why) when it did not answer in time."""

    up: bool
    alerts: Mapping[str, int] = field(default_factory=dict)  # by state
    oldest_queued: datetime | None = None  # when the oldest queued alert was queued
    claims: int | None = None  # held by this node; None: the store keeps no claims
    error: str | None = None


class DaemonMetrics:
    """The metrics of one daemon, in a registry of its own."""

    def __init__(self, node: str, version: str) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.fetches = Counter(
            "newsmonitor_fetches",
            "HTTP GET exchanges (each redirect hop and retry), by status code or 'error'",
            ["code"],
            registry=registry,
        )
        self.fetch_seconds = Histogram(
            "newsmonitor_fetch_duration_seconds",
            "Time of one HTTP GET exchange, from sending the request to the end of its body",
            buckets=FETCH_BUCKETS,
            registry=registry,
        )
        self.passes = Counter(
            "newsmonitor_passes",
            "Feed and article passes (jobs) run, by job and outcome",
            ["job", "outcome"],
            registry=registry,
        )
        self.feed_checks = Counter(
            "newsmonitor_feed_checks",
            "Feed checks by outcome (ok, not_modified, error, skipped)",
            ["status"],
            registry=registry,
        )
        self.articles_checked = Counter(
            "newsmonitor_articles_checked",
            "Articles fetched and compared",
            registry=registry,
        )
        self.versions = Counter(
            "newsmonitor_versions_stored",
            "Article versions stored by this node",
            registry=registry,
        )
        self.changes = Counter(
            "newsmonitor_changes",
            "Changes recorded, by kind and significance ('none' for unclassified kinds)",
            ["kind", "significance"],
            registry=registry,
        )
        self.errors = Counter(
            "newsmonitor_check_errors",
            "Article fetch errors ('article') and refused store writes ('store')",
            ["kind"],
            registry=registry,
        )
        self.last_success = Gauge(
            "newsmonitor_last_success_timestamp_seconds",
            "When the last pass without store errors finished (Unix time)",
            registry=registry,
        )
        info = Gauge(
            "newsmonitor_node_info",
            "This daemon: its node id and version",
            ["node", "version"],
            registry=registry,
        )
        info.labels(node, version).set(1)
        ProcessCollector(registry=registry)
        self._store = _StoreCollector()
        registry.register(self._store)
        self.last_success_at: datetime | None = None

    def observe_fetch(self, status: int | None, seconds: float) -> None:
        """One GET exchange: its status (None: no answer) and duration (fetch.py's observer)."""
        self.fetches.labels("error" if status is None else str(status)).inc()
        self.fetch_seconds.observe(seconds)

    def observe_pass(self, job: str, report: CheckReport, now: datetime) -> None:
        """One feed or articles pass, from its report; ``now``: when it ended."""
        ok = not report.store_errors
        self.passes.labels(job, "ok" if ok else "store_errors").inc()
        for feed in report.feeds:
            self.feed_checks.labels(str(feed.status)).inc()
        self.articles_checked.inc(report.articles_checked)
        for change in report.changes:
            significance = str(change.significance) if change.significance else "none"
            self.changes.labels(str(change.kind), significance).inc()
            if change.kind in VERSION_KINDS:
                self.versions.inc()
        if report.errors:
            self.errors.labels("article").inc(len(report.errors))
        if report.store_errors:
            self.errors.labels("store").inc(len(report.store_errors))
        if ok:
            self.last_success_at = now
            self.last_success.set(now.timestamp())

    def render(self, reading: StoreReading, now: datetime) -> bytes:
        """The text exposition of every metric, the store's as ``reading`` has them."""
        self._store.reading, self._store.now = reading, now
        return generate_latest(self.registry)


class _StoreCollector(Collector):
    """The store's gauges, from the reading the scrape made just before rendering."""

    def __init__(self) -> None:
        self.reading = StoreReading(up=False, error="not read yet")
        self.now: datetime | None = None

    def collect(self) -> Iterator[Metric]:
        reading = self.reading
        yield GaugeMetricFamily(
            "newsmonitor_store_up",
            "Whether the store answered this scrape's reads in time",
            value=1 if reading.up else 0,
        )
        if not reading.up:
            return  # no stale figures: the series are absent while the store is
        alerts = GaugeMetricFamily(
            "newsmonitor_alerts", "Alerts in the outbox, by state", labels=["state"]
        )
        for state, count in sorted(reading.alerts.items()):
            alerts.add_metric([state], count)
        yield alerts
        lag = 0.0
        if reading.oldest_queued is not None and self.now is not None:
            lag = max(0.0, (self.now - reading.oldest_queued).total_seconds())
        yield GaugeMetricFamily(
            "newsmonitor_outbox_lag_seconds",
            "Age of the oldest queued alert (0: none queued)",
            value=lag,
        )
        if reading.claims is not None:
            yield GaugeMetricFamily(
                "newsmonitor_claims_held",
                "Claims on due work (hosts, feeds) this node holds",
                value=reading.claims,
            )
