"""News sitemaps and sitemap indexes as a feed's source (issue 19), parsed and checked on
loopback: the news title is the entry's title, an index's unchanged children are not
fetched again, and a sitemap over the protocol's limit is one clear error."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import Settings, settings_from_dict
from monitor.errors import FeedParseError
from monitor.models import FeedStatus
from monitor.pipeline import check_once
from monitor.sitemaps import MAX_SITEMAP_BYTES, SitemapRef, children_due, parse_sitemap
from monitor.store import Store
from tests.webserver import Reply, WebServer

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
NS = (
    'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
)


def news_sitemap(*items: tuple[str, str, str]) -> str:
    urls = "".join(
        f"<url><loc>{loc}</loc><lastmod>{day}T08:00:00Z</lastmod><news:news>"
        f"<news:publication><news:name>Example</news:name><news:language>en</news:language>"
        f"</news:publication><news:publication_date>{day}T07:30:00+01:00</news:publication_date>"
        f"<news:title>{title}</news:title></news:news></url>"
        for loc, title, day in items
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{urls}</urlset>'


def index(*children: tuple[str, str]) -> str:
    listed = "".join(
        f"<sitemap><loc>{loc}</loc><lastmod>{day}</lastmod></sitemap>" for loc, day in children
    )
    return f'<?xml version="1.0"?><sitemapindex {NS}>{listed}</sitemapindex>'


def article(title: str) -> str:
    body = " ".join(["The council met on Tuesday and decided the matter after a long debate."] * 3)
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"<p>{body}</p></article></body></html>"
    )


def sitemap_feed(web: WebServer, store_url: str) -> Settings:
    """Settings watching ``/index.xml`` on ``web`` as a sitemap feed."""
    return settings_from_dict(
        {
            "feeds": [{"name": "news", "url": web.url("/index.xml"), "type": "sitemap"}],
            "fetch": {"allow_private_addresses": True, "retries": 0, "deadline": 10},
            "storage": {"url": store_url},
        }
    )


def test_a_news_sitemap_gives_titled_dated_entries() -> None:
    parsed = parse_sitemap(
        news_sitemap(("https://n.example/a", "Bridge  to be rebuilt", "2026-12-04")).encode(),
        "https://n.example/sitemap.xml",
    )

    [entry] = parsed.entries
    assert (entry.link, entry.guid, entry.title) == ("https://n.example/a",) * 2 + (
        "Bridge to be rebuilt",
    )
    assert entry.published == datetime(2026, 12, 4, 6, 30, tzinfo=UTC)
    assert entry.updated == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    assert parsed.children == ()


def test_a_gzipped_index_lists_its_children() -> None:
    body = gzip.compress(index(("https://n.example/s1.xml", "2026-12-04")).encode())

    parsed = parse_sitemap(body, "https://n.example/index.xml.gz")

    assert parsed.children == (
        SitemapRef("https://n.example/s1.xml", datetime(2026, 12, 4, tzinfo=UTC)),
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<rss version='2.0'><channel/></rss>", "not a sitemap: root element <rss>"),
        (b"<urlset><url><loc>x", "not a sitemap: XML syntax error"),
        (gzip.compress(b" " * (MAX_SITEMAP_BYTES + 10)), "sitemap over 50 MB once decompressed"),
    ],
)
def test_what_is_not_a_sitemap_is_named(body: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_sitemap(body, "https://n.example/s.xml")


def test_an_entity_bomb_is_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<urlset><url><loc>https://n.example/&b;</loc></url></urlset>"
    )

    parsed = parse_sitemap(bomb, "https://n.example/s.xml")

    assert all("aaaaaaaaaa" not in (entry.link or "") for entry in parsed.entries)


def test_children_due_newest_first_and_only_changed() -> None:
    day = lambda d: datetime(2026, 12, d, tzinfo=UTC)  # noqa: E731
    children = [SitemapRef(f"https://n.example/{d}.xml", day(d)) for d in (1, 3, 2)]
    children.append(SitemapRef("https://n.example/undated.xml", None))

    assert [c.url for c in children_due(children, None, limit=3)] == [
        "https://n.example/undated.xml",
        "https://n.example/3.xml",
        "https://n.example/2.xml",
    ]
    assert [c.url for c in children_due(children, day(2))] == [
        "https://n.example/undated.xml",
        "https://n.example/3.xml",
    ]


async def test_a_sitemap_index_feed_is_checked_and_its_old_children_skipped(
    web: WebServer, store: Store, store_url: str
) -> None:
    web.set("/a", Reply(article("Bridge to be rebuilt")))
    web.set("/b", Reply(article("Mayor re-elected")))
    web.set(
        "/today.xml",
        Reply(
            news_sitemap((web.url("/a"), "Bridge to be rebuilt", "2026-12-05")),
            content_type="application/xml",
        ),
    )
    web.set(
        "/old.xml",
        Reply(
            news_sitemap((web.url("/b"), "Mayor re-elected", "2026-11-01")),
            content_type="application/xml",
        ),
    )
    web.set(
        "/index.xml",
        Reply(
            index(
                (web.url("/today.xml"), "2026-12-05T11:00:00Z"), (web.url("/old.xml"), "2026-11-01")
            ),
            content_type="application/xml",
        ),
    )
    settings = sitemap_feed(web, store_url)

    report = await check_once(settings, store, T0, force=True)

    [feed] = report.feeds
    assert feed.status == FeedStatus.OK and feed.entries == 2
    titles = {a.url: a.title for a in store.list_articles("news")}
    assert titles == {web.url("/a"): "Bridge to be rebuilt", web.url("/b"): "Mayor re-elected"}

    # The index changes (a new day), the old child does not: only the new one is fetched.
    web.set(
        "/index.xml",
        Reply(
            index(
                (web.url("/today.xml"), "2026-12-05T13:00:00Z"), (web.url("/old.xml"), "2026-11-01")
            ),
            content_type="application/xml",
        ),
    )
    await check_once(settings, store, T0 + timedelta(hours=2), force=True)

    assert len(web.hits("/old.xml")) == 1
    assert len(web.hits("/today.xml")) == 2


async def test_a_broken_child_is_named_and_the_rest_is_read(
    web: WebServer, store: Store, store_url: str
) -> None:
    web.set("/a", Reply(article("Bridge to be rebuilt")))
    web.set(
        "/good.xml",
        Reply(
            news_sitemap((web.url("/a"), "Bridge to be rebuilt", "2026-12-05")),
            content_type="application/xml",
        ),
    )
    web.set(
        "/index.xml",
        Reply(
            index((web.url("/good.xml"), "2026-12-05"), (web.url("/gone.xml"), "2026-12-05")),
            content_type="application/xml",
        ),
    )
    settings = sitemap_feed(web, store_url)

    report = await check_once(settings, store, T0, force=True)

    [feed] = report.feeds
    assert feed.status == FeedStatus.OK and feed.entries == 1
    assert feed.warning is not None and "1 child sitemap(s) failed" in feed.warning
    assert "gone.xml" in feed.warning
