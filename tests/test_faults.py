"""Hostile and broken sites through the real pipeline, on SQLite and PostgreSQL.

Each fault of ``tests/faults.py`` is served as a feed and as an article page beside a
healthy feed. What must hold every time: the fault is reported in one readable line that
names the URL and the problem, nothing is stored that the site did not really publish, the
healthy feed is captured in the same run, and the run ends within a few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

import pytest

from monitor.config import Settings, settings_from_dict
from monitor.models import ChangeKind, CheckReport, FeedReport, FeedStatus, TextSource
from monitor.pipeline import check_once
from monitor.store import Store
from tests.faults import ACCENTED, SECOND_STORY, STORY, STORY_TITLE, FaultServer, faults
from tests.test_pipeline import page
from tests.webserver import Reply

__all__ = ["faults"]  # the fixture, imported for pytest

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=20)
MAX_BYTES = 1_000_000
DEADLINE = 2.0
RUN_BOUND = 6.0  # seconds: every fault here costs at most one deadline per round
FETCH: dict[str, Any] = {
    "allow_private_addresses": True,  # the fault server is on loopback
    "retries": 1,
    "backoff": 0.01,
    "max_retry_after": 1,  # a longer Retry-After fails at once instead of sleeping
    "deadline": DEADLINE,
    "timeout": DEADLINE,
    "max_bytes": MAX_BYTES,
    "concurrency": 32,
    "per_host_concurrency": 32,  # every fault shares one host
}
FALLBACK = "; using the feed entry's text"
# pipeline.py prefixes an ExtractError (which names its URL already) with the URL again
# when falling back to the feed text; see test_extract_error_warning_names_the_url_once.
EXTRACT_WARNING_REPEATS_URL = False

FETCH_FAULTS = {
    "drip": f"no complete response within {DEADLINE}s",
    "endless": f"body exceeds {MAX_BYTES} bytes",
    "gzip-bomb": f"body exceeds {MAX_BYTES} bytes",
    "redirect-loop": "more than 5 redirects",
    "rate-limited": "HTTP 429",
    "reset-headers": "network error: connection reset by peer",
    "reset-body": "network error: connection reset by peer",
}
NOT_A_FEED = {
    "moved-page": "not a feed: HTML page (it links no feed)",
    "pdf": "not a feed: PDF document",
    "png": "not a feed: PNG image",
    "empty": "not a feed: empty document",
    "challenge": "not a feed: HTML page (it links no feed)",
    "access-denied": "not a feed: HTML page (it links no feed)",
    "paywall": "not a feed: HTML page (it links no feed)",
}
NOT_AN_ARTICLE = {
    "moved-page": "no article text found",
    "pdf": "not an HTML document",
    "png": "not an HTML document",
    "empty": "not an HTML document",
}


def rss(items: Sequence[tuple[str, str]]) -> Reply:
    """An RSS feed of (title, absolute URL) items."""
    entries = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(url)}</link>"
        f"<guid>{escape(url)}</guid><description>{escape(title)} summary</description></item>"
        for title, url in items
    )
    return Reply(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        f"<link>http://127.0.0.1/</link><description>d</description>{entries}</channel></rss>",
        content_type="application/rss+xml",
    )


def settings_for(store_url: str, fetch: dict[str, Any] | None = None, **feeds: str) -> Settings:
    """Settings for ``feeds`` (name -> URL), fetching with ``FETCH`` (updated by ``fetch``)."""
    return settings_from_dict(
        {
            "feeds": [{"name": name, "url": url, "interval": "15m"} for name, url in feeds.items()],
            "fetch": {**FETCH, **(fetch or {})},
            "storage": {"url": store_url},
        }
    )


async def run(settings: Settings, store: Store, now: datetime) -> CheckReport:
    started = time.monotonic()
    report = await check_once(settings, store, now, force=True)
    elapsed = time.monotonic() - started
    assert elapsed < RUN_BOUND, f"the run took {elapsed:.1f}s"
    return report


def feed_report(report: CheckReport, name: str) -> FeedReport:
    return next(feed for feed in report.feeds if feed.name == name)


def kinds(report: CheckReport) -> list[tuple[str, str]]:
    return sorted((str(c.kind), c.url.rsplit("/", 1)[-1]) for c in report.changes)


def versions_of(store: Store, url: str) -> list[tuple[str, str]]:
    """(source, text) of every stored version of the article at ``url``."""
    article = store.find_article([url])
    assert article is not None, f"{url} is not tracked"
    return [(str(v.source), v.text) for v in store.list_versions(article.id)]


def fallback_warning(url: str, reason: str, extract: bool = False) -> str:
    named = (
        f"{url}: {url}: {reason}" if extract and EXTRACT_WARNING_REPEATS_URL else f"{url}: {reason}"
    )
    return named + FALLBACK


def healthy_feed(faults: FaultServer, *slugs: str) -> str:
    """Serve the healthy feed with an article per slug; return its URL."""
    stories = {
        "ferry": ("Ferry timetable", SECOND_STORY),
        "budget": ("Budget passes", ("The budget passed by 30 votes to 12.", *STORY[1:])),
    }
    for slug in slugs:
        title, paragraphs = stories[slug]
        faults.web.set(f"/h/{slug}", page(title, paragraphs))
    faults.web.set("/healthy.xml", rss([(stories[s][0], faults.web.url(f"/h/{s}")) for s in slugs]))
    return faults.web.url("/healthy.xml")


async def test_the_guard_keeps_the_pipeline_on_loopback(faults, store, store_url):
    """The fixture's own safety net: with every address allowed, a link elsewhere (here a
    documentation address, never routed) is refused in-process, not connected to."""
    faults.web.set("/news.xml", rss([("Elsewhere", "http://192.0.2.1/story")]))
    report = await run(settings_for(store_url, news=faults.web.url("/news.xml")), store, T0)
    assert set(faults.refused) == {"http://192.0.2.1/story"}  # tried, and retried once
    assert report.warnings == (
        f"http://192.0.2.1/story: cannot connect: the test's loopback guard refused{FALLBACK}",
    )


# --- faults as the feed URL ------------------------------------------------------------


async def test_feed_faults_are_one_readable_error_each(faults, store, store_url):
    """Every fault as a feed URL, all in one run beside a healthy feed."""
    reasons = {**FETCH_FAULTS, **NOT_A_FEED}
    feeds = {name: faults.url(name) for name in reasons}
    settings = settings_for(store_url, **feeds, healthy=healthy_feed(faults, "ferry"))
    report = await run(settings, store, T0)

    expected = {
        name: FeedReport(
            name,
            FeedStatus.ERROR,
            429 if name == "rate-limited" else None,
            None,
            error=f"{feeds[name]}: {reason}",
        )
        for name, reason in reasons.items()
    }
    assert {feed.name: feed for feed in report.feeds if feed.name != "healthy"} == expected
    for name, reason in reasons.items():
        state = store.get_feed(name)
        assert state is not None
        assert (state.failures, state.last_error) == (1, f"{feeds[name]}: {reason}")
    assert feed_report(report, "healthy").status == FeedStatus.OK
    assert kinds(report) == [("new", "ferry")]
    assert (report.errors, report.warnings) == ((), ())


async def test_rate_limited_feed_is_not_fetched_again_before_retry_after(faults, store, store_url):
    settings = settings_from_dict(
        {
            "feeds": [{"name": "bad", "url": faults.url("rate-limited"), "interval": "1m"}],
            "fetch": FETCH,
            "storage": {"url": store_url},
        }
    )
    await run(settings, store, T0)
    assert faults.hits("rate-limited") == 1  # longer than max_retry_after: no retry now
    state = store.get_feed("bad")
    assert state is not None and state.next_due is not None
    assert state.next_due >= T0 + timedelta(seconds=120)  # the site's Retry-After: 120


@pytest.mark.parametrize(
    ("name", "warning", "title"),
    [
        # Two stray bytes in each of title and description: replaced, the rest intact.
        (
            "feed-invalid-utf8",
            "character encoding: 4 invalid UTF-8 sequence(s) replaced",
            ACCENTED.replace("é", "\ufffd\ufffd"),
        ),
        # windows-1252 labelled UTF-8: decoded as windows-1252, and said so.
        (
            "feed-cp1252-as-utf8",
            "character encoding: document declared as utf-8, but parsed as windows-1252",
            ACCENTED,
        ),
        # UTF-8 labelled ISO-8859-1 in the header: the XML declaration (UTF-8) wins.
        ("feed-utf8-as-latin1", None, ACCENTED),
    ],
)
async def test_feed_in_the_wrong_encoding(faults, store, store_url, name, warning, title):
    settings = settings_for(store_url, bad=faults.url(name), healthy=healthy_feed(faults, "ferry"))
    report = await run(settings, store, T0)
    assert feed_report(report, "bad") == FeedReport("bad", FeedStatus.OK, 200, 1, warning=warning)
    assert kinds(report) == [("new", "ferry"), ("new", "story")]
    story = store.find_article([faults.web.url("/story")])
    assert story is not None
    version = store.latest_version(story.id)
    assert version is not None and version.feed_title == title


async def test_entity_bomb_is_not_expanded(faults, store, store_url):
    settings = settings_for(
        store_url, bad=faults.url("entity-bomb"), healthy=healthy_feed(faults, "ferry")
    )
    report = await run(settings, store, T0)
    assert feed_report(report, "bad") == FeedReport(
        "bad",
        FeedStatus.OK,
        200,
        1,
        warning="XML syntax error at line 5, column 122: undefined entity",
    )
    assert kinds(report) == [("new", "ferry"), ("new", "story")]
    story = store.find_article([faults.web.url("/story")])
    assert story is not None
    version = store.latest_version(story.id)
    # The reference stays a literal: nothing was expanded, let alone a billion times.
    assert version is not None and version.feed_title == "&lol9;"


async def test_truncated_feed_keeps_the_entries_before_the_cut(faults, store, store_url):
    settings = settings_for(
        store_url, bad=faults.url("truncated-feed"), healthy=healthy_feed(faults, "ferry")
    )
    report = await run(settings, store, T0)
    bad = feed_report(report, "bad")
    assert (bad.status, bad.entries) == (FeedStatus.OK, 2)
    assert bad.warning is not None
    assert bad.warning.startswith("XML syntax error at line 1, column ")
    assert bad.warning.endswith(": no element found")
    assert kinds(report) == [("new", "ferry"), ("new", "story"), ("new", "story-2")]
    second = versions_of(store, faults.web.url("/story-2"))
    assert second == [("page", "\n\n".join(SECOND_STORY))]


# --- faults as an article page -----------------------------------------------------------


async def test_article_faults_store_nothing_the_site_did_not_publish(faults, store, store_url):
    """Every fault as an article page, all in one feed beside a healthy feed.

    A new article behind a fault gets its feed entry's text, as documented. A tracked
    article that turns into a fault is an error, and gets no new version."""
    reasons = {**FETCH_FAULTS, **NOT_AN_ARTICLE}
    new = {name: faults.url(name) for name in reasons}
    tracked = {name: faults.web.url(f"/a/{name}") for name in reasons}
    for name in reasons:
        faults.web.set(f"/a/{name}", page(STORY_TITLE, STORY))
    items = [(f"New {name}", url) for name, url in new.items()]
    items += [(f"Tracked {name}", url) for name, url in tracked.items()]
    faults.web.set("/news.xml", rss(items))
    settings = settings_for(
        store_url, news=faults.web.url("/news.xml"), healthy=healthy_feed(faults, "ferry")
    )
    first = await run(settings, store, T0)

    assert [feed.status for feed in first.feeds] == [FeedStatus.OK, FeedStatus.OK]
    assert sorted(first.warnings) == sorted(
        fallback_warning(new[name], reason, name in NOT_AN_ARTICLE)
        for name, reason in reasons.items()
    )
    assert first.errors == ()
    assert len(first.changes) == 2 * len(reasons) + 1
    assert {c.kind for c in first.changes} == {ChangeKind.NEW}
    for name, url in new.items():
        assert versions_of(store, url) == [("feed", f"New {name} summary")]

    # The tracked articles now answer with the faults; the healthy feed has a new story.
    for name in reasons:
        faults.web.set(f"/a/{name}", faults.route(name))
    healthy_feed(faults, "ferry", "budget")
    second = await run(settings, store, LATER)

    assert sorted(second.errors) == sorted(
        f"{url}: {reasons[name]}" for urls in (new, tracked) for name, url in urls.items()
    )
    assert second.warnings == ()
    assert kinds(second) == [("new", "budget")]
    for name, url in new.items():
        assert versions_of(store, url) == [("feed", f"New {name} summary")]
    for name, url in tracked.items():
        assert versions_of(store, url) == [("page", "\n\n".join(STORY))]
        article = store.find_article([url])
        assert article is not None and article.last_error == f"{url}: {reasons[name]}"


async def test_extract_error_warning_names_the_url_once(faults, store, store_url):
    url = faults.url("pdf")
    faults.web.set("/news.xml", rss([("Entry title", url)]))
    report = await run(settings_for(store_url, news=faults.web.url("/news.xml")), store, T0)
    assert report.warnings == (f"{url}: not an HTML document{FALLBACK}",)


@pytest.mark.parametrize(
    ("name", "first_paragraph"),
    [
        # A stray byte costs one character, not every accented letter of the article.
        ("page-invalid-utf8", ACCENTED.replace("é", "\ufffd\ufffd")),
        ("page-cp1252-as-utf8", ACCENTED),
        ("page-utf8-as-latin1", ACCENTED),
    ],
)
async def test_article_in_the_wrong_encoding(faults, store, store_url, name, first_paragraph):
    url = faults.url(name)
    faults.web.set("/news.xml", rss([("Entry title", url)]))
    report = await run(settings_for(store_url, news=faults.web.url("/news.xml")), store, T0)
    assert (report.errors, report.warnings) == ((), ())
    assert versions_of(store, url) == [("page", "\n\n".join((first_paragraph, *STORY)))]


# --- redirects to private addresses ------------------------------------------------------

PRIVATE_TARGETS = {
    "to-metadata": ("http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254"),
    "to-loopback": ("http://127.0.0.1:{port}/story", "127.0.0.1"),
    "to-private": ("http://10.0.0.1/admin", "10.0.0.1"),
    "to-ipv6-loopback": ("http://[::1]:{port}/story", "::1"),
}


@pytest.mark.parametrize("name", PRIVATE_TARGETS)
async def test_links_to_private_addresses_are_refused_before_connecting(
    faults, store, store_url, name
):
    """Private addresses disallowed: links in a feed (third-party URLs) that point or
    redirect to internal addresses are refused without a connection attempt."""
    target, host = PRIVATE_TARGETS[name]
    target = target.format(port=faults.web.port)
    blocked = f"{target}: host {host!r} resolves to non-public {host}"
    redirecting = faults.public_url(f"/fault/{name}")
    story = faults.public_url("/h/ferry")
    faults.web.set("/h/ferry", page("Ferry timetable", SECOND_STORY))
    items = [("Redirecting", redirecting), ("Direct", target), ("Ferry timetable", story)]
    faults.web.set("/news.xml", rss(items))
    settings = settings_for(
        store_url, {"allow_private_addresses": False}, news=faults.public_url("/news.xml")
    )
    report = await run(settings, store, T0)

    assert feed_report(report, "news").status == FeedStatus.OK
    assert report.warnings == (blocked + FALLBACK, blocked + FALLBACK)
    assert versions_of(store, redirecting) == [("feed", "Redirecting summary")]
    assert versions_of(store, target) == [("feed", "Direct summary")]
    assert versions_of(store, story) == [("page", "\n\n".join(SECOND_STORY))]
    assert faults.refused == []  # no connection was even attempted
    assert faults.web.hits("/story") == []  # the live loopback target never saw a request


@pytest.mark.parametrize("name", ["to-metadata", "to-private"])
@pytest.mark.parametrize("origin", ["loopback", "public"])
async def test_configured_feed_cannot_redirect_to_another_private_origin(
    faults, store, store_url, name, origin
):
    """The user vouched for the feed's own address, not for wherever it redirects:
    least of all the cloud metadata service."""
    url = faults.url(name) if origin == "loopback" else faults.public_url(f"/fault/{name}")
    settings = settings_for(store_url, {"allow_private_addresses": False}, bad=url)
    report = await run(settings, store, T0)
    assert faults.refused == []
    target, host = PRIVATE_TARGETS[name]
    assert feed_report(report, "bad").error == (
        f"{target}: host {host!r} resolves to non-public {host}"
    )


# --- pages that are not the article: the quality gate -----------------------------------

LONG_STORY = (
    *STORY,
    "Environmental groups have promised to challenge the decision in court, arguing that "
    "the council ignored its own consultants, who warned that dredging the channel would "
    "destroy the feeding grounds of migratory birds that winter on the mudflats.",
    "Local businesses welcomed the vote. The chamber of commerce said the harbour had been "
    "losing traffic to rival ports for years and that the expansion was the only way to keep "
    "the shipping lines that still call here.",
)


@pytest.mark.parametrize("name", ["challenge", "access-denied", "paywall", "collapse"])
async def test_page_that_is_not_the_article_is_suspect_until_confirmed(
    faults, store, store_url, name
):
    url = faults.web.url("/a/story")
    faults.web.set("/a/story", page(STORY_TITLE, LONG_STORY))
    faults.web.set("/news.xml", rss([(STORY_TITLE, url)]))
    settings = settings_for(
        store_url, news=faults.web.url("/news.xml"), healthy=healthy_feed(faults, "ferry")
    )
    await run(settings, store, T0)

    if name == "collapse":
        faults.web.set("/a/story", page(STORY_TITLE, LONG_STORY[:1]))
    else:
        faults.web.set("/a/story", faults.route(name))
    healthy_feed(faults, "ferry", "budget")
    first = await run(settings, store, LATER)
    assert any("suspect" in warning and url in warning for warning in first.warnings)
    assert kinds(first) == [("new", "budget")]  # neither a version nor a removal
    assert [source for source, _ in versions_of(store, url)] == ["page"]

    confirmed = await run(settings, store, LATER + timedelta(minutes=20))
    assert [c.kind for c in confirmed.changes] == [ChangeKind.CHANGED]
    assert [source for source, _ in versions_of(store, url)] == ["page", "page"]
    assert store.latest_version(confirmed.changes[0].article_id).source == TextSource.PAGE  # type: ignore[union-attr]
