"""One article checked: the feed entry is evidence when the page fails, a page that comes
back is compared with the page, and a summary that comes and goes is not an edit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import pytest

from monitor.config import settings_from_dict
from monitor.models import ChangeKind, CheckReport, TextSource
from monitor.pipeline import check_once
from monitor.store import Store
from tests.test_pipeline import STORY, page
from tests.webserver import Reply, WebServer

REAL_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "real_feeds"
MEDIUM = REAL_FEEDS / "netnewswire-rsparser" / "EMarley.rss"
T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def feed(web: WebServer, items: list[tuple[str, str, str | None]]) -> Reply:
    """RSS of (title, path, summary or None for an entry without one)."""
    entries = "".join(
        f"<item><title>{escape(title)}</title><link>{web.url(path)}</link>"
        f"<guid>{web.url(path)}</guid>"
        + (f"<description>{escape(summary)}</description>" if summary is not None else "")
        + "</item>"
        for title, path, summary in items
    )
    return Reply(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Front</title>'
        f"<link>{web.url('/')}</link><description>d</description>{entries}</channel></rss>",
        content_type="application/rss+xml",
    )


def settings(url: str, store_url: str, fetch_articles: bool = True):  # type: ignore[no-untyped-def]
    return settings_from_dict(
        {
            "feeds": [{"name": "front", "url": url, "fetch_articles": fetch_articles}],
            "fetch": {"allow_private_addresses": True, "retries": 0, "deadline": 5},
            "storage": {"url": store_url},
        }
    )


async def check(config, store: Store, hours: int) -> CheckReport:  # type: ignore[no-untyped-def]
    return await check_once(config, store, T0 + timedelta(hours=hours), force=True)


def changed(report: CheckReport) -> list[tuple[str, str | None]]:
    return [(str(c.kind), c.detail) for c in report.changes]


@pytest.mark.skipif(not MEDIUM.is_file(), reason=f"real feed not found: {MEDIUM}")
async def test_feed_edits_are_recorded_when_the_page_cannot_be_fetched(
    web: WebServer, store: Store, store_url: str
) -> None:
    # A real feed whose article links (medium.com) cannot be fetched from here.
    original = MEDIUM.read_text(encoding="utf-8")
    web.set("/feed", Reply(original.encode(), content_type="application/rss+xml"))
    config = settings(web.url("/feed"), store_url)
    first = await check(config, store, 0)
    assert len(first.changes) == len(store.list_articles()) > 2
    # One entry's headline is rewritten, another's summary edited.
    titles = re.findall(r"<title><!\[CDATA\[(.*?)\]\]></title>", original)[1:]
    edited = original.replace(titles[0], titles[0] + " (and what it cost)", 1)
    summary_at = edited.index("</p>", edited.index(titles[1]))
    edited = edited[:summary_at] + " A sentence added later." + edited[summary_at:]
    web.set("/feed", Reply(edited.encode(), content_type="application/rss+xml"))
    second = await check(config, store, 1)
    kinds = sorted(str(c.kind) for c in second.changes)
    assert kinds == ["changed", "changed"], changed(second)
    for change in second.changes:
        assert change.detail is not None
        assert change.detail.startswith("text from the feed entry (page unavailable: ")
        version = store.latest_version(change.article_id)
        assert version is not None and version.source == TextSource.FEED
        assert version.number == 2
    headline = next(c for c in second.changes if titles[0] in (c.title or ""))
    assert "headline" in headline.tags
    # Nothing changed since: nothing recorded, the page's failure still reported.
    third = await check(config, store, 2)
    assert third.changes == () and len(third.errors) >= len(first.changes)


async def test_a_page_that_comes_back_is_compared_with_the_page(
    web: WebServer, store: Store, store_url: str
) -> None:
    web.set("/feed", feed(web, [("Harbour vote", "/a/harbour", "The council votes.")]))
    web.set("/a/harbour", page("Harbour vote", STORY))
    config = settings(web.url("/feed"), store_url)
    await check(config, store, 0)
    # The page fails while the feed's headline changes: the edit is recorded from the feed.
    web.set("/a/harbour", Reply("gone fishing", status=503))
    web.set("/feed", feed(web, [("Harbour vote delayed", "/a/harbour", "The council votes.")]))
    failed = await check(config, store, 1)
    assert [str(c.kind) for c in failed.changes] == ["changed"]
    assert "headline" in failed.changes[0].tags
    # The page is back as it was: not an edit (nor a revert of the feed's version).
    web.set("/a/harbour", page("Harbour vote", STORY))
    back = await check(config, store, 2)
    assert back.changes == (), changed(back)
    # The page is then edited: compared with the page as last fetched (v1), not the feed's.
    web.set("/a/harbour", page("Harbour vote", [*STORY, "The vote is now due next week."]))
    edited = await check(config, store, 3)
    [change] = edited.changes
    assert change.kind == ChangeKind.CHANGED and change.previous_version == 1
    assert change.version == 3 and "headline" not in change.tags


async def test_a_summary_that_comes_and_goes_is_not_an_edit(
    web: WebServer, store: Store, store_url: str
) -> None:
    def front(title: str, summary: str | None) -> Reply:
        return feed(web, [(title, "/a/story", summary), ("Other", "/a/other", "Other news.")])

    web.set("/feed", front("Mayor resigns", "The mayor resigned on Tuesday."))
    config = settings(web.url("/feed"), store_url, fetch_articles=False)
    await check(config, store, 0)
    web.set("/feed", front("Mayor resigns", None))  # moved to a slot without a summary
    assert (await check(config, store, 1)).changes == ()
    web.set("/feed", front("Mayor resigns", "The mayor resigned on Tuesday."))
    assert (await check(config, store, 2)).changes == ()
    # A headline test while the summary is away, then back to the first headline.
    web.set("/feed", front("Mayor quits after vote", None))
    [headline] = (await check(config, store, 3)).changes
    assert headline.kind == ChangeKind.CHANGED
    assert headline.stats is not None and headline.stats.words_removed == 0
    web.set("/feed", front("Mayor resigns", None))
    [revert] = (await check(config, store, 4)).changes
    assert revert.kind == ChangeKind.REVERTED and revert.reverted_to == 1


async def test_a_seed_page_whose_url_has_a_fragment_is_fetched(
    web: WebServer, store: Store, store_url: str, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    url = web.url("/watched") + "#top"
    (seeds / "watched.md").write_text(
        f'+++\ntitle = "Watched"\nurl = "{url}"\n+++\n' + "\n\n".join(STORY), encoding="utf-8"
    )
    web.set("/watched", page("Harbour vote", STORY))
    config = settings_from_dict(
        {
            "seeds": {"dir": str(seeds)},
            "fetch": {"allow_private_addresses": True, "retries": 0, "deadline": 5},
            "storage": {"url": store_url},
        }
    )
    report = await check(config, store, 0)
    [change] = report.changes
    assert change.kind == ChangeKind.NEW and change.detail is None  # from the page itself
    version = store.latest_version(change.article_id)
    assert version is not None and version.source == TextSource.PAGE
