"""One feed checked, on real feeds served on loopback: every entry the feed keeps apart is
tracked apart, and a collapse is never silent.

The real feeds are read from ``../shared/corpora/real_feeds`` at test time (never copied).
Their article links point to the internet, which is unreachable here, as blocked sites are.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import settings_from_dict
from monitor.feeds import parse_feed
from monitor.models import ChangeKind, FeedStatus, TextSource
from monitor.pipeline import check_once
from monitor.store import Store
from tests.webserver import Reply, WebServer

REAL_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "real_feeds"
SCRIPTING = REAL_FEEDS / "netnewswire-rsparser" / "scriptingNews.rss"
DARING = REAL_FEEDS / "netnewswire-rsparser" / "DaringFireball.rss"
T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.skipif(
    not SCRIPTING.is_file() or not DARING.is_file(),
    reason=f"real feeds not found under {REAL_FEEDS}",
)


def serve(web: WebServer, path: Path) -> str:
    web.set("/feed", Reply(path.read_bytes(), content_type="application/rss+xml"))
    return web.url("/feed")


def distinct_entries(path: Path) -> set[tuple[str | None, str | None]]:
    """What the feed itself keeps apart: (link, GUID) pairs."""
    return {(e.link, e.guid) for e in parse_feed(path.read_bytes(), "http://x/", {}).entries}


def settings(web: WebServer, store_url: str, path: Path, fetch_articles: bool):  # type: ignore[no-untyped-def]
    feed = {"name": "feed", "url": serve(web, path), "fetch_articles": fetch_articles}
    return settings_from_dict(
        {"feeds": [feed], "fetch": {"retries": 0, "deadline": 5}, "storage": {"url": store_url}}
    )


@pytest.mark.parametrize("fetch_articles", [False, True])
async def test_posts_on_one_page_are_tracked_apart(
    web: WebServer, store: Store, store_url: str, fetch_articles: bool
) -> None:
    # Scripting News: 50 entries, posts on 7 day pages addressed by fragment, each with its
    # own GUID; two entries repeat another's link and GUID.
    config = settings(web, store_url, SCRIPTING, fetch_articles)
    report = await check_once(config, store, T0, force=True)
    articles = store.list_articles("feed")
    assert len(articles) == len(distinct_entries(SCRIPTING)) == 48
    assert len({a.guid for a in articles}) == 48
    [feed] = report.feeds
    assert feed.status == FeedStatus.OK
    assert feed.warning is not None and "2 entries repeat the link and GUID" in feed.warning
    # Several posts on one page: versioned from their feed entries, the page never fetched.
    shared = [a for a in articles if "#" in a.url]
    assert len(shared) == 47 and all(a.next_check is None for a in shared)
    version = store.latest_version(shared[0].id)
    assert version is not None and version.source == TextSource.FEED
    details = {c.detail for c in report.changes if c.url == shared[0].current_url}
    assert details == {"text from the feed entry (one of several posts on one page)"}


async def test_an_edit_to_one_post_is_seen_as_that_posts_edit(
    web: WebServer, store: Store, store_url: str
) -> None:
    config = settings(web, store_url, SCRIPTING, False)
    await check_once(config, store, T0, force=True)
    original = SCRIPTING.read_text(encoding="utf-8")
    marker = "#a030658"
    assert original.count(marker) >= 1
    # Edit the description of one post of a page that holds several.
    item = original.rindex("<item>", 0, original.index(marker))
    end = original.index("</description>", item)
    edited = original[:end] + " An added sentence about the harbour vote." + original[end:]
    web.set("/feed", Reply(edited.encode(), content_type="application/rss+xml"))
    report = await check_once(config, store, T0 + timedelta(hours=1), force=True)
    changed = [c for c in report.changes if c.kind == ChangeKind.CHANGED]
    assert [c.url for c in changed] == ["http://scripting.com/2017/06/26.html#a030658"]


async def test_one_link_with_two_guids_is_two_articles(
    web: WebServer, store: Store, store_url: str
) -> None:
    # Daring Fireball: a sponsor post beside the linked-list post that points to the same URL.
    config = settings(web, store_url, DARING, False)
    await check_once(config, store, T0, force=True)
    assert len(store.list_articles("feed")) == len(distinct_entries(DARING)) == 47
