"""Hostile content stays data on every page and feed (issue 18).

feedparser's sanitizer corpus (read from ../shared/corpora, never copied here) is stored as
articles: hostile headlines, texts, URLs, feed names, details, seed reasons and raw
captures, each with an edit that brings markup of its own. Every page, feed and raw view
is then fetched over HTTP and searched for anything a browser would run or load.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import lxml.etree
import lxml.html
import pytest

from monitor.classify import classify
from monitor.config import ClassifyRules, Settings, settings_from_dict
from monitor.diff import diff_versions
from monitor.models import Article, Change, ChangeKind, RawBody, Recording, SeedLink, Version
from monitor.store.sql import SQLStore
from tests.test_sanitize import EDIT, T0, T1, URLS, assert_inert, corpus_files, texts_of
from tests.web.conftest import serving

HOSTILE_SEED = (
    "+++\n"
    'title = "<script>alert(\\"seed\\")</script><img src=x onerror=alert(1)>"\n'
    "+++\n"
    'The council "<b onmouseover=alert(1)>approved</b>" 40,000 homes. <script>x()</script>\n'
)


def assert_page_inert(html: str, where: str) -> None:
    """``assert_inert`` on a whole page of ours: our own <link>s (stylesheet, feeds) are
    checked to point at our origin and set aside; links off it must be cut off."""
    root = lxml.html.document_fromstring(html)
    for link in list(root.iter("link")):
        assert link.getparent() is not None and link.getparent().tag == "head", where
        assert (link.get("href") or "").startswith("/"), (where, link.get("href"))
        link.getparent().remove(link)
    for anchor in root.iter("a"):
        href = anchor.get("href") or ""
        if href and not href.startswith(("/", "#")):
            assert {"noopener", "noreferrer"} <= set((anchor.get("rel") or "").split()), where
            assert href.startswith(("http://", "https://")), (where, href)
    assert_inert(lxml.html.tostring(root, encoding="unicode"), where)


def _fill(store: SQLStore, seed_id: str) -> int:
    """The corpus as articles, two versions and three changes each; how many articles."""
    rules = ClassifyRules().thresholds()
    count = 0
    for index, path in enumerate(corpus_files()):
        for feed_title, headline, text in texts_of(path):
            url = URLS[index % len(URLS)] + f"#{count}"
            article = store.add_article(
                Article(
                    id=0,
                    feed=f"{feed_title or 'feed'}<script>{count}</script>",
                    url=url,
                    current_url=url,
                    first_seen=T0,
                    last_in_feed=T0,
                    title=headline or None,
                )
            )
            old = Version(
                article_id=article.id,
                number=1,
                content_hash=f"{count:063x}a",
                text=text or "x",
                fetched_at=T0,
                url=url,
                title=headline or None,
                byline=feed_title,
            )
            new = replace(
                old,
                number=2,
                content_hash=f"{count:063x}b",
                text=(text or "x") + EDIT,
                title=f"{headline} {EDIT}",
                fetched_at=T1,
            )
            diff = diff_versions(old, new, 1.0)
            verdict = classify(old, new, diff, rules, T1)
            raw = RawBody(path.read_bytes(), "text/html; charset=utf-8")
            first = Change(ChangeKind.NEW, article.id, article.feed, url, T0, old.title, 1)
            store.record(Recording(replace(article, versions=1), [first], old, raw))
            edited = Change(
                ChangeKind.CHANGED,
                article.id,
                article.feed,
                url,
                T1,
                new.title,
                version=2,
                previous_version=1,
                detail=text[:200],
                significance=verdict.significance,
                tags=verdict.tags,
                stats=diff.body.stats,
                seed_id=seed_id if count % 50 == 0 else None,
            )
            link = None
            if count % 50 == 0:
                link = SeedLink(article.id, seed_id, 0.9, (f"<script>{headline}</script>",), T1)
            removed = replace(
                edited, kind=ChangeKind.REMOVED, detected_at=T1 + timedelta(hours=1), stats=None
            )
            store.record(
                Recording(
                    replace(article, versions=2, revision=1),
                    [edited, removed],
                    new,
                    raw,
                    link,
                )
            )
            count += 1
    return count


def hostile_settings(tmp_path: Path, **extra: Any) -> Settings:
    """Settings over a new store in ``tmp_path`` with the hostile seed, 500 rows a page."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "hostile.md").write_text(HOSTILE_SEED, encoding="utf-8")
    return settings_from_dict(
        {
            "storage": {"url": f"sqlite:///{tmp_path / 'hostile.db'}"},
            "seeds": {"dir": str(seeds)},
            "web": {"page_size": 500},
            **extra,
        },
        source=tmp_path / "hostile.toml",
    )


async def test_the_sanitizer_corpus_stays_inert_on_every_page_and_feed(tmp_path: Path) -> None:
    files = corpus_files()  # skips, naming the folder, when the corpora are absent
    assert files
    settings = hostile_settings(
        tmp_path, feeds=[{"name": "world", "url": "http://127.0.0.1:9/feed"}]
    )
    with SQLStore.open(settings.storage.url) as store:
        articles = _fill(store, "hostile")
        assert articles > 700  # the corpus was really read
        async with serving(settings, store) as site:
            pages = ["/feeds", "/seeds", "/alerts", "/?kind=changed", "/?tag=numbers"]
            following: str | None = "/"
            while following:  # every change, page by page
                html = await site.text(following)
                pages.append(following)
                assert_page_inert(html, following)
                next_links = lxml.html.document_fromstring(html).cssselect('a[rel="next"]')
                following = next_links[0].get("href") if next_links else None
            for article_id in range(1, articles + 1):
                pages.append(f"/articles/{article_id}")
                if article_id % 7 == 0:
                    pages.append(f"/articles/{article_id}?mode=side-by-side&against=first")
            for path in pages:
                assert_page_inert(await site.text(path), path)

            for article_id in range(1, articles + 1, 25):
                raw = await site.get(f"/articles/{article_id}/versions/2/raw?as=html")
                # The capture is the corpus's own markup, so it is shown sandboxed: no
                # script, no request, not our origin.
                assert raw.headers["Content-Security-Policy"].startswith("sandbox;")
                assert "default-src 'none'" in raw.headers["Content-Security-Policy"]

            for query in ("", "?kind=changed", "?seed=hostile"):
                atom = await site.text(f"/changes.atom{query}")
                assert "<script" not in atom.lower()
                root = lxml.etree.fromstring(atom.encode())
                ns = {"a": "http://www.w3.org/2005/Atom"}
                for content in root.iterfind(".//a:entry/a:content", ns):
                    assert_inert(f"<div>{content.text}</div>", f"atom{query}")
                document = json.loads(await site.text(f"/changes.json{query}"))
                for item in document["items"]:
                    if "content_html" in item:
                        assert_inert(f"<div>{item['content_html']}</div>", f"json{query}")


@pytest.mark.parametrize("path", ["/api/changes", "/api/articles/1"])
async def test_api_documents_are_json_not_html(tmp_path: Path, path: str) -> None:
    settings = settings_from_dict(
        {"storage": {"url": f"sqlite:///{tmp_path / 'a.db'}"}}, source=tmp_path / "a.toml"
    )
    with SQLStore.open(settings.storage.url) as store:
        store.add_article(
            Article(0, "<b>f</b>", "https://x.example/<script>", "https://x.example/", T0, T0)
        )
        async with serving(settings, store) as site:
            response = await site.get(path)
            assert response.status == 200
            assert response.content_type == "application/json"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
