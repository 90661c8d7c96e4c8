"""The Search page and /api/search (issue 19): the same phrase search as `search`, on the
demo newsroom's archive, through real HTTP."""

from __future__ import annotations

import json
import re

import lxml.html

from monitor.serialize import phrase_history_to_json
from monitor.store.sql import SQLStore
from tests.web.conftest import Archive, serving

# The demo's seed story: "30,000" is in its first version and edited away in the second.
GONE = "30,000"


async def test_search_shows_where_a_phrase_appeared_and_went(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    [history] = archive_store.search_phrase(GONE)
    article = history.article
    async with serving(demo_archive.settings(), archive_store) as site:
        html = await site.text(f"/search?q={GONE}")

    page = lxml.html.document_fromstring(html)
    assert "1 article ever held" in page.text_content()
    [item] = page.find_class("spans")[0].iter("li")
    text = " ".join(item.text_content().split())
    assert re.match(r"appeared in v1 \(.+\), gone in v2 \(.+\): the diff that removed it", text)
    [link] = item.iter("a")
    assert link.get("href") == f"/articles/{article.id}?from=1&to=2"
    titles = [a.text_content() for a in page.find_class("headline")[0].iter("a")]
    assert titles == [article.title]


async def test_the_api_gives_the_clis_search_document(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    expected = {
        "phrase": GONE,
        "limit": 50,
        "offset": 0,
        "more": False,
        "articles": [phrase_history_to_json(h) for h in archive_store.search_phrase(GONE)],
    }
    async with serving(demo_archive.settings(), archive_store) as site:
        found = json.loads(await site.text(f"/api/search?q={GONE}"))
        empty = await site.get("/api/search?q=%20")
        wordless = await site.get("/api/search?q=%21%21")
        bad_day = await site.get("/search?q=fee&since=yesterday")

    assert found == json.loads(json.dumps(expected))
    assert len(found["articles"]) == 1
    assert (empty.status, wordless.status, bad_day.status) == (400, 400, 400)


async def test_a_hostile_phrase_stays_text(demo_archive: Archive, archive_store: SQLStore) -> None:
    async with serving(demo_archive.settings(), archive_store) as site:
        html = await site.text("/search?q=%3Cscript%3Ealert(1)%3C/script%3E")

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "0 articles ever held" in html


async def test_search_pages_newest_first(demo_archive: Archive, archive_store: SQLStore) -> None:
    every = [phrase_history_to_json(h) for h in archive_store.search_phrase("the")]
    assert len(every) >= 3
    async with serving(demo_archive.settings(page_size=2), archive_store) as site:
        first = json.loads(await site.text("/api/search?q=the&limit=2"))
        second = json.loads(await site.text("/api/search?q=the&limit=2&offset=2"))
        bad = await site.get("/api/search?q=the&offset=-1")
        html = await site.text("/search?q=the")
        following = await site.text("/search?q=the&offset=2")

    assert (first["more"], first["articles"]) == (True, every[:2])
    assert second["articles"] == every[2:4] and second["more"] == (len(every) > 4)
    assert bad.status == 400
    page = lxml.html.document_fromstring(html)
    [older] = [a for a in page.iter("a") if a.get("rel") == "next"]
    assert older.get("href") == "/search?offset=2&q=the"
    assert "Articles 1–2 (more follow)" in " ".join(page.text_content().split())
    listed = lxml.html.document_fromstring(following).find_class("headline")
    assert [p.find("a").get("href") for p in listed] == [
        f"/articles/{h['article']['id']}" for h in every[2:4]
    ]
