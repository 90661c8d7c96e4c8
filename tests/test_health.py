"""`/healthz` and `/metrics` of the daemon (monitor/health.py, monitor/metrics.py).

A real daemon on a real store (SQLite and PostgreSQL) against a loopback newsroom: in
process, its jobs run one at a time under a test clock; as `newsmonitor run`, on a
PostgreSQL database that then stops accepting connections. Each scrape is parsed with
prometheus_client's own parser and compared with what the newsroom served.
"""

from __future__ import annotations

import json
import secrets
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from monitor.config import settings_from_dict
from monitor.errors import ConfigError
from monitor.health import STALE_PASSES, judge, stale_after
from monitor.metrics import StoreReading
from monitor.scheduler import ARTICLES_JOB, FEED_JOB_PREFIX, RELAY_JOB
from tests.test_pipeline import STORY, page, rss
from tests.test_scheduler import ROOT, Clock, DaemonProcess, opened_daemon
from tests.webserver import Reply, WebServer

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def write_config(path: Path, web: WebServer, store_url: str, interval: str = "1m") -> None:
    """One feed with a live article and a missing one; a webhook that keeps failing, so
    that the new article's alert stays queued."""
    path.write_text(
        f'[[feeds]]\nname = "world"\nurl = "{web.url("/rss")}"\ninterval = "{interval}"\n'
        "[fetch]\nallow_private_addresses = true\nretries = 0\ndeadline = 10\n"
        f'[daemon]\narticles_every = "{interval}"\nrelay_every = "1h"\njitter = "0s"\n'
        'grace = "5s"\nmetrics = "127.0.0.1:0"\n'
        '[tracking]\nschedule = [{ until = "1d", every = "1h" }]\n'
        f'[[alerts]]\nname = "hook"\ntype = "webhook"\nurl = "{web.url("/hook")}"\n'
        f'secret = "{SECRET}"\nkinds = ["new"]\n'
        f'[storage]\nurl = "{store_url}"\n',
        encoding="utf-8",
    )


def newsroom(web: WebServer) -> None:
    web.set("/rss", rss([("Harbour vote", "/a/harbour"), ("Gone", "/a/gone")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    web.set("/a/gone", Reply("not here", status=404, content_type="text/plain"))
    web.set("/hook", Reply("unavailable", status=503, content_type="text/plain"))


def served(web: WebServer) -> Counter[str]:
    """The GETs the newsroom answered, by status (the webhook's POSTs are no fetch)."""
    statuses = {"/rss": "200", "/a/harbour": "200", "/a/gone": "404"}
    return Counter(statuses[r.path] for r in list(web.requests) if r.path in statuses)


def samples(exposition: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def fetch_counts(found: Samples) -> Counter[str]:
    return Counter(
        {
            dict(labels)["code"]: int(n)
            for (name, labels), n in found.items()
            if name == "newsmonitor_fetches_total"
        }
    )


# pure parts


NOW = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
UP = StoreReading(up=True)


def test_healthy_while_passes_are_recent_and_the_store_answers():
    stale = timedelta(minutes=3)
    started = NOW - timedelta(hours=1)
    assert judge(NOW, NOW - timedelta(minutes=2), started, stale, UP).healthy
    late = judge(NOW, NOW - timedelta(minutes=4), started, stale, UP)
    assert not late.healthy and "no successful pass for 240s" in late.reason
    # Before the first pass, the start is what counts.
    assert judge(NOW, None, NOW - timedelta(minutes=1), stale, UP).healthy
    assert "since the start" in judge(NOW, None, started, stale, UP).reason
    down = judge(NOW, NOW, started, stale, StoreReading(up=False, error="refused"))
    assert not down.healthy and down.reason == "the store does not answer: refused"


def test_stale_after_is_a_few_times_the_shortest_interval():
    feeds = [
        {"name": "slow", "url": "https://example.org/a", "interval": "30m"},
        {"name": "cron", "url": "https://example.org/b", "cron": "* * * * *"},
        {"name": "fast", "url": "https://example.org/c", "interval": "5m"},
    ]
    settings = settings_from_dict({"feeds": feeds, "daemon": {"articles_every": "10m"}})
    assert stale_after(settings) == STALE_PASSES * timedelta(minutes=5)
    settings = settings_from_dict({"feeds": feeds[:2]})  # articles_every: 1 min
    assert stale_after(settings) == STALE_PASSES * timedelta(minutes=1)


@pytest.mark.parametrize("address", ["9464", "localhost", "::1:9464", "host:70000", " :1"])
def test_a_bad_metrics_address_is_one_error_naming_the_key(address):
    with pytest.raises(ConfigError) as error:
        settings_from_dict({"daemon": {"metrics": address}}, "monitor.toml")
    assert str(error.value) == (
        f'monitor.toml: daemon.metrics: must be "host:port", e.g. "127.0.0.1:9464", got {address!r}'
    )


def test_metrics_are_off_unless_configured():
    assert settings_from_dict({}).daemon.metrics is None
    assert settings_from_dict({"daemon": {"metrics": ""}}).daemon.metrics is None
    assert settings_from_dict({"daemon": {"metrics": "[::1]:0"}}).daemon.metrics == "[::1]:0"


# in process, on both stores


async def scrape(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_metrics_count_what_the_daemon_did(web, tmp_path, store_url):
    newsroom(web)
    config = tmp_path / "monitor.toml"
    write_config(config, web, store_url)
    clock = Clock()
    async with opened_daemon(config, clock) as daemon:
        assert daemon.health is not None
        base = daemon.health.url
        assert base.startswith("http://127.0.0.1:") and not base.endswith(":0")
        status, body = await scrape(f"{base}/healthz")  # no pass yet, but just started
        assert (status, json.loads(body)["status"]) == (200, "ok")

        await daemon.run_job(FEED_JOB_PREFIX + "world")
        await daemon.run_job(RELAY_JOB)  # the webhook answers 503: the alert stays queued
        clock.advance(timedelta(seconds=30))
        status, body = await scrape(f"{base}/metrics")
        assert status == 200
        found = samples(body)
        assert fetch_counts(found) == served(web) == Counter({"200": 2, "404": 1})
        assert value(found, "newsmonitor_fetch_duration_seconds_count") == 3
        assert value(found, "newsmonitor_passes_total", job="feed", outcome="ok") == 1
        assert value(found, "newsmonitor_feed_checks_total", status="ok") == 1
        assert value(found, "newsmonitor_versions_stored_total") == 1
        assert value(found, "newsmonitor_changes_total", kind="new", significance="none") == 1
        assert value(found, "newsmonitor_store_up") == 1
        assert value(found, "newsmonitor_alerts", state="queued") == 1
        assert value(found, "newsmonitor_alerts", state="delivered") == 0
        assert value(found, "newsmonitor_outbox_lag_seconds") == 30
        assert value(found, "newsmonitor_claims_held") is not None
        node = {"node": daemon.node.id, "version": daemon.node.version}
        assert value(found, "newsmonitor_node_info", **node) == 1
        assert value(found, "newsmonitor_last_success_timestamp_seconds") == (
            (clock.now - timedelta(seconds=30)).timestamp()
        )
        assert web.url("/") not in body and "harbour" not in body  # no URLs in labels

        # No pass for longer than three times the shortest interval: unhealthy.
        clock.advance(STALE_PASSES * timedelta(minutes=1))
        status, body = await scrape(f"{base}/healthz")
        document = json.loads(body)
        assert (status, document["status"]) == (503, "unhealthy")
        assert document["reason"].startswith("no successful pass for 210s")
        await daemon.run_job(ARTICLES_JOB)  # a pass (nothing due): healthy again
        status, body = await scrape(f"{base}/healthz")
        assert (status, json.loads(body)["status"]) == (200, "ok")
        found = samples((await scrape(f"{base}/metrics"))[1])
        assert value(found, "newsmonitor_passes_total", job="articles", outcome="ok") == 1
        await daemon.shutdown()


async def test_a_metrics_port_in_use_is_one_error_naming_the_key(web, tmp_path):
    newsroom(web)
    config = tmp_path / "monitor.toml"
    write_config(config, web, f"sqlite:///{tmp_path / 'monitor.db'}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        text_ = config.read_text().replace("127.0.0.1:0", f"127.0.0.1:{port}")
        config.write_text(text_)
        with pytest.raises(
            ConfigError, match=rf"daemon\.metrics: cannot listen on 127\.0\.0\.1:{port}"
        ):
            async with opened_daemon(config, Clock()):
                pass


# `newsmonitor run` on a PostgreSQL database that goes away


@pytest.fixture
def pg_database(postgresql_admin: Engine) -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL database of its own (its name and URL), so that it can be closed
    to connections without touching anyone else's."""
    name = f"newsmonitor_health_{secrets.token_hex(4)}"
    with postgresql_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgresql_admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield name, url
    finally:
        with postgresql_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_run_serves_health_and_metrics_until_the_store_goes(
    web, tmp_path, postgresql_admin, pg_database
):
    newsroom(web)
    name, url = pg_database
    config = tmp_path / "monitor.toml"
    write_config(config, web, url, interval="1h")
    daemon = DaemonProcess(config)
    try:
        listening = daemon.wait_for_message("health and metrics on", timeout=30)
        base = str(listening["message"]).split()[-1].removesuffix("/metrics")
        daemon.wait_for(lambda r: r.get("job") == "feed world", "the first feed pass")
        status, body = get(f"{base}/metrics")
        assert status == 200
        found = samples(body)
        assert fetch_counts(found) == served(web) == Counter({"200": 2, "404": 1})
        assert value(found, "newsmonitor_versions_stored_total") == 1
        assert value(found, "newsmonitor_store_up") == 1
        assert get(f"{base}/healthz")[0] == 200

        with postgresql_admin.connect() as conn:  # the store goes away
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
        status, body = get(f"{base}/healthz")
        document = json.loads(body)
        assert (status, document["status"]) == (503, "unhealthy")
        assert document["reason"].startswith("the store does not answer")
        status, body = get(f"{base}/metrics")  # still answers, with the store down
        assert status == 200
        found = samples(body)
        assert value(found, "newsmonitor_store_up") == 0
        assert value(found, "newsmonitor_alerts", state="queued") is None  # no stale figures
        assert fetch_counts(found) == served(web)
        daemon.signal(signal.SIGKILL)
    finally:
        daemon.kill()
    assert "Traceback" not in daemon.log.read_text()


def test_run_help_and_example_config_name_the_metrics_key():
    example = (ROOT / "config" / "example.toml").read_text(encoding="utf-8")
    assert "metrics = " in example
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "/healthz" in readme and "/metrics" in readme and "[daemon] metrics" in readme
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "/metrics" in done.stdout
