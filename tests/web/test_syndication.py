"""Atom and JSON Feed of changes, parsed back with feedparser and checked against the
rules of RFC 4287 and JSON Feed 1.1 that can be checked offline (feedparser 6.0 reads no
JSON Feed, so that one is checked field by field)."""

from __future__ import annotations

import json
from datetime import datetime
from xml.etree import ElementTree as ET

import feedparser
import lxml.html

from monitor.models import ChangeKind
from monitor.store import ChangeFilter
from monitor.store.sql import SQLStore
from tests.web.conftest import Archive, serving

ATOM = "{http://www.w3.org/2005/Atom}"


def check_atom_rules(document: str) -> None:
    """RFC 4287's musts: feed and entries have exactly one id, title and updated (RFC 3339),
    the feed has an author (none of its entries has its own), ids are absolute IRIs and
    unique, a self link, and html content that parses."""
    root = ET.fromstring(document.encode())
    assert root.tag == f"{ATOM}feed"

    def one(element: ET.Element, tag: str) -> str:
        found = element.findall(f"{ATOM}{tag}")
        assert len(found) == 1, (tag, len(found))
        return found[0].text or ""

    for element in (root, *root.findall(f"{ATOM}entry")):
        assert ":" in one(element, "id")
        assert one(element, "title")
        datetime.fromisoformat(one(element, "updated").replace("Z", "+00:00"))
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    selves = [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert len(selves) == 1 and selves[0].get("href", "").startswith("http")
    ids = [entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")]
    assert len(ids) == len(set(ids))
    for entry in root.findall(f"{ATOM}entry"):
        alternates = [x for x in entry.findall(f"{ATOM}link") if x.get("rel") == "alternate"]
        assert len(alternates) == 1
        content = entry.find(f"{ATOM}content")
        if content is not None:
            assert content.get("type") == "html"
            lxml.html.fragment_fromstring(content.text or "", create_parent="div")


async def test_atom_round_trips_through_feedparser_with_diffs_and_stable_ids(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    every = archive_store.page_changes(ChangeFilter(), 1000)
    async with serving(demo_archive.settings(), archive_store) as site:
        response = await site.get("/changes.atom")
        assert response.status == 200
        assert response.content_type == "application/atom+xml"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        document = await response.text()
        check_atom_rules(document)
        parsed = feedparser.parse(document)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.version == "atom10"
        assert len(parsed.entries) == len(every)
        again = feedparser.parse(await site.text("/changes.atom"))
        assert [e.id for e in again.entries] == [e.id for e in parsed.entries]
        assert all(e.id.startswith("urn:newsmonitor:evt_") for e in parsed.entries)

        edits = [e for e in parsed.entries if e.title.startswith("changed:")]
        assert edits
        for entry in edits:
            html = entry.content[0].value
            assert "<del" in html or "<ins" in html
            assert entry.link.startswith(site.base + "/articles/") and "#diff" in entry.link
            related = [x.href for x in entry.links if x.rel == "related"]
            assert related and related[0].startswith("http://127.0.0.1")
        assert [e.updated for e in parsed.entries] == sorted(
            (e.updated for e in parsed.entries), reverse=True
        )

        only_changed = feedparser.parse(await site.text("/changes.atom?kind=changed"))
        assert only_changed.entries
        assert all(e.title.startswith("changed:") for e in only_changed.entries)
        assert len(only_changed.entries) == sum(1 for c in every if c.kind == ChangeKind.CHANGED)
        article = every[0].article_id
        per_article = feedparser.parse(await site.text(f"/changes.atom?article={article}"))
        assert len(per_article.entries) == sum(1 for c in every if c.article_id == article)


async def test_json_feed_carries_the_same_entries(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    async with serving(demo_archive.settings(), archive_store) as site:
        response = await site.get("/changes.json?feed=world")
        assert response.content_type == "application/feed+json"
        document = json.loads(await response.text())
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert document["feed_url"] == site.base + "/changes.json?feed=world"
        assert document["title"] and document["items"]
        for item in document["items"]:
            assert isinstance(item["id"], str) and item["url"].startswith(site.base)
            assert "content_html" in item or "content_text" in item
            datetime.fromisoformat(item["date_modified"].replace("Z", "+00:00"))
        atom = feedparser.parse(await site.text("/changes.atom?feed=world"))
        assert [item["id"] for item in document["items"]] == [e.id for e in atom.entries]


async def test_a_feed_reader_finds_the_feeds_from_a_page_address(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    async with serving(demo_archive.settings(), archive_store) as site:
        for page in ("/", "/articles/1", "/?kind=changed"):
            head = lxml.html.document_fromstring(await site.text(page)).find("head")
            assert head is not None
            for link in head.iter("link"):
                if link.get("rel") != "alternate":
                    continue
                feed = await site.get(link.get("href"))
                assert feed.status == 200
                assert feed.content_type == link.get("type")
