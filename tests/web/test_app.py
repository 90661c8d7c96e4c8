"""The web server through real HTTP on loopback: pages, headers, access control."""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.config import settings_from_dict
from monitor.errors import ConfigError
from monitor.models import Article, Change, ChangeKind, Recording, Version
from monitor.serialize import feeds_to_json, history_to_json
from monitor.store import ChangeFilter
from monitor.store.sql import SQLStore
from monitor.web.app import create_app
from monitor.web.auth import hash_password
from tests.store.samples import T0
from tests.web.conftest import Archive, serving

PAGES = (
    "/",
    "/feeds",
    "/seeds",
    "/alerts",
    "/search?q=fee",
    "/articles/1",
    "/articles/2?mode=side-by-side",
)


def assert_strict_headers(headers: object, path: str) -> None:
    csp = headers["Content-Security-Policy"]  # type: ignore[index]
    assert "default-src 'none'" in csp, path
    assert "script-src" not in csp and "unsafe-eval" not in csp, path
    assert headers["X-Content-Type-Options"] == "nosniff", path  # type: ignore[index]
    assert headers["Referrer-Policy"] == "no-referrer", path  # type: ignore[index]


def outbound_links_are_cut_off(html: str, path: str) -> None:
    """Every link off our origin carries rel="noopener noreferrer"; nothing is loaded
    from elsewhere."""
    root = lxml.html.document_fromstring(html)
    for anchor in root.iter("a"):
        href = anchor.get("href", "")
        if href.startswith(("/", "#", "?")):
            continue
        rel = set((anchor.get("rel") or "").split())
        assert {"noopener", "noreferrer"} <= rel, (path, href)
    for element in root.iter("link", "img", "script", "iframe"):
        for attribute in ("href", "src"):
            value = element.get(attribute)
            assert value is None or value.startswith("/"), (path, element.tag, value)


async def test_every_page_answers_with_strict_headers(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    async with serving(demo_archive.settings(), archive_store) as site:
        for path in PAGES:
            response = await site.get(path)
            assert response.status == 200, path
            assert response.content_type == "text/html"
            assert_strict_headers(response.headers, path)
            html = await response.text()
            outbound_links_are_cut_off(html, path)
            head = lxml.html.document_fromstring(html).find("head")
            assert head is not None
            kinds = {
                link.get("type") for link in head.iter("link") if link.get("rel") == "alternate"
            }
            assert kinds == {"application/atom+xml", "application/feed+json"}, path
        style = await site.get("/static/style.css")
        assert style.status == 200 and "prefers-color-scheme: dark" in await style.text()
        assert_strict_headers(style.headers, "/static/style.css")
        missing = await site.get("/articles/999")
        assert missing.status == 404
        assert_strict_headers(missing.headers, "/articles/999")


async def test_changes_page_filters_and_pages_through_everything(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    every = archive_store.page_changes(ChangeFilter(), 1000)
    assert len(every) > 6
    async with serving(demo_archive.settings(page_size=4), archive_store) as site:
        shown: list[str] = []
        path: str | None = "/"
        pages = 0
        while path is not None:
            root = lxml.html.document_fromstring(await site.text(path))
            shown += [a.get("href") for a in root.cssselect("li.change .headline a")]
            following = root.cssselect('a[rel="next"]')
            path = following[0].get("href") if following else None
            pages += 1
        assert shown == [f"/articles/{c.article_id}" for c in every]
        assert pages == -(-len(every) // 4)

        root = lxml.html.document_fromstring(await site.text("/?kind=changed&feed=world"))
        kinds = [k.text for k in root.cssselect("li.change .kind")]
        expected = [c for c in every if c.kind == "changed" and c.feed == "world"]
        assert kinds == ["changed"] * len(expected) and expected
        # The chosen filters stay selected, and the page's feeds carry them.
        assert root.cssselect("#f-kind option[selected]")[0].text == "changed"
        atom = root.cssselect('head link[type="application/atom+xml"]')[0].get("href")
        assert atom == "/changes.atom?feed=world&kind=changed"

        # An edit of figures says which: "30,000 → 40,000" (the seed story's edit).
        root = lxml.html.document_fromstring(await site.text("/?tag=numbers"))
        summaries = [p.text_content() for p in root.cssselect("li.change .summary")]
        assert summaries and all(re.search(r"\d \u2192 \d", text) for text in summaries)
        assert any("30,000 \u2192 40,000" in text for text in summaries)

        for bad in ("/?kind=edited", "/?since=yesterday", "/?after=x", "/?significance=huge"):
            response = await site.get(bad)
            assert response.status == 400, bad
            assert_strict_headers(response.headers, bad)


async def test_article_page_shows_timeline_events_and_both_diff_layouts(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    edited = next(
        c for c in archive_store.page_changes(ChangeFilter(), 1000) if c.kind == "changed"
    )
    article = edited.article_id
    async with serving(demo_archive.settings(), archive_store) as site:
        query = f"from={edited.previous_version}&to={edited.version}"
        inline = lxml.html.document_fromstring(await site.text(f"/articles/{article}?{query}"))
        versions = inline.cssselect("#h-versions + .scroll tbody tr")
        assert len(versions) == len(archive_store.list_versions(article))
        events = inline.cssselect("ul.events li")
        assert len(events) == len(archive_store.list_changes(article_id=article))
        diff = inline.cssselect("div.diff")[0]
        assert diff.cssselect("ins") or diff.cssselect("del")
        toggle = inline.cssselect("section[aria-labelledby=diff] p a")[0].get("href")
        assert "mode=side-by-side" in toggle
        side = lxml.html.document_fromstring(await site.text(toggle.split("#")[0]))
        headings = [th.text_content() for th in side.cssselect("div.diff th")]
        assert any(f"v{edited.previous_version}" in h for h in headings)
        assert any(f"v{edited.version}" in h for h in headings)

        raw = await site.get(f"/articles/{article}/versions/{edited.version}/raw")
        assert raw.status == 200 and raw.content_type == "text/plain"
        sandboxed = await site.get(f"/articles/{article}/versions/{edited.version}/raw?as=html")
        assert sandboxed.content_type == "text/html"
        for response in (raw, sandboxed):
            assert response.headers["Content-Security-Policy"].startswith("sandbox;")
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_api_serves_the_cli_json_documents(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    settings = demo_archive.settings()
    async with serving(settings, archive_store) as site:
        article = archive_store.get_article(1)
        assert article is not None
        history = history_to_json(
            article, archive_store.list_versions(1), archive_store.list_changes(article_id=1)
        )
        assert json.loads(await site.text("/api/articles/1")) == json.loads(json.dumps(history))
        states = [(f.name, f.url, archive_store.get_feed(f.name)) for f in settings.feeds]
        expected = feeds_to_json(states, archive_store.article_failures_by_feed())
        assert json.loads(await site.text("/api/feeds")) == json.loads(json.dumps(expected))

        first = json.loads(await site.text("/api/changes?limit=3"))
        second = json.loads(await site.text(f"/api/changes?limit=3&after={first['next']}"))
        ids = [c["id"] for c in first["changes"] + second["changes"]]
        every = archive_store.page_changes(ChangeFilter(), 6)
        assert ids == [c.id for c in every]
        one = json.loads(await site.text(f"/api/changes/{ids[0]}"))
        assert one["id"] == ids[0]
        edited = next(c for c in archive_store.page_changes(ChangeFilter(), 100) if c.stats)
        diff = json.loads(
            await site.text(
                f"/api/articles/{edited.article_id}/diff"
                f"?from={edited.previous_version}&to={edited.version}"
            )
        )
        assert diff["stats"]["words_added"] == edited.stats.words_added  # type: ignore[union-attr]
        assert isinstance(json.loads(await site.text("/api/seeds")), list)
        assert json.loads(await site.text("/api/alerts")) == []
        response = await site.get("/api/articles/1/diff?against=sideways")
        assert response.status == 400
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_token_opens_everything_and_a_feed_token_only_the_feeds(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    settings = demo_archive.settings(token="desk-token-0123456789", feed_tokens=["reader-42"])
    async with serving(settings, archive_store) as site:
        refused = await site.get("/")
        assert refused.status == 401
        assert refused.headers["WWW-Authenticate"].startswith("Basic")
        assert_strict_headers(refused.headers, "/ refused")
        bearer = {"Authorization": "Bearer desk-token-0123456789"}
        assert (await site.get("/", headers=bearer)).status == 200
        basic = base64.b64encode(b"anyone:desk-token-0123456789").decode()
        assert (await site.get("/feeds", headers={"Authorization": f"Basic {basic}"})).status == 200
        assert (await site.get("/changes.atom?token=desk-token-0123456789")).status == 200

        feed = await site.get("/changes.atom?token=reader-42&kind=changed")
        assert feed.status == 200
        assert "reader-42" not in await feed.text()  # never written back into its links
        assert (await site.get("/changes.json?token=reader-42&kind=changed")).status == 200
        for path in (
            "/?token=reader-42",
            "/api/changes?token=reader-42",
            "/api/x.json?token=reader-42",
        ):
            assert (await site.get(path)).status == 401, path
        # A wrong token and none at all get the same answer: no hint.
        wrong = await site.get("/changes.atom?token=reader-43")
        none = await site.get("/changes.atom")
        assert wrong.status == none.status == 401
        assert await wrong.text() == await none.text()
        assert (await site.get("/", headers={"Authorization": "Bearer nope"})).status == 401
        # Static files carry no data, so a sign-in page can have its styles.
        assert (await site.get("/static/style.css")).status == 200


async def test_users_sign_in_with_hashed_passwords(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    users = [{"name": "editor", "password_hash": hash_password("correct horse")}]
    async with serving(demo_archive.settings(users=users), archive_store) as site:

        def basic(name: str, password: str) -> dict[str, str]:
            token = base64.b64encode(f"{name}:{password}".encode()).decode()
            return {"Authorization": f"Basic {token}"}

        assert (await site.get("/", headers=basic("editor", "correct horse"))).status == 200
        assert (await site.get("/", headers=basic("editor", "correct horse"))).status == 200
        assert (await site.get("/", headers=basic("editor", "wrong horse"))).status == 401
        assert (await site.get("/", headers=basic("someone", "correct horse"))).status == 401
        assert (await site.get("/", headers={"Authorization": "Basic %%%"})).status == 401


def test_binding_beyond_loopback_needs_configured_access(
    demo_archive: Archive, archive_store: SQLStore
) -> None:
    with pytest.raises(ConfigError, match=r"refusing to serve on 0\.0\.0\.0"):
        create_app(demo_archive.settings(), archive_store, "0.0.0.0")
    create_app(demo_archive.settings(token="t" * 24), archive_store, "0.0.0.0")  # accepted

    config = demo_archive.seeds.parent / "open.toml"
    config.write_text(
        f'[storage]\nurl = "{demo_archive.url}"\n[web]\nhost = "0.0.0.0"\n'
        '[[feeds]]\nname = "world"\nurl = "http://127.0.0.1:9/feed"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--config", str(config), "serve"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "refusing to serve on 0.0.0.0" in lines[0]
    assert re.search(r"\[web\] token|\[\[web\.users\]\]", lines[0])
    run = CliRunner().invoke(main, ["--config", str(config), "run", "--web"])
    assert run.exit_code == 2 and "refusing to serve" in run.output


def test_hash_password_prints_a_hash_the_config_accepts(demo_archive: Archive) -> None:
    result = CliRunner().invoke(main, ["serve", "--hash-password"], input="s3cret\ns3cret\n")
    assert result.exit_code == 0, result.output
    stored = result.output.strip().splitlines()[-1]
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    settings = demo_archive.settings(users=[{"name": "a", "password_hash": stored}])
    assert settings.web.users[0].name == "a"
    with pytest.raises(ConfigError, match="password_hash"):
        demo_archive.settings(users=[{"name": "a", "password_hash": "s3cret"}])


def test_run_web_serves_the_pages_from_the_daemon(demo_archive: Archive, tmp_path: Path) -> None:
    config = tmp_path / "daemon.toml"
    config.write_text(
        f'[storage]\nurl = "{demo_archive.url}"\n[web]\nport = 0\n'
        '[[feeds]]\nname = "world"\nurl = "http://127.0.0.1:9/feed.xml"\ninterval = "1h"\n',
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "monitor", "--config", str(config), "run", "--web"]
    process = subprocess.Popen(
        [*command, "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )
    try:
        assert process.stdout is not None
        address = None
        for line in process.stdout:  # ends when the process does: a bounded wait
            message = str(json.loads(line).get("message")) if line.startswith("{") else line
            if message.startswith("serving http://"):
                address = message.removeprefix("serving ").strip()
                break
        assert address, "the daemon exited without serving"
        with urllib.request.urlopen(address + "feeds", timeout=10) as response:
            assert response.status == 200
            assert "world" in response.read().decode()
            assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def test_right_to_left_and_cjk_headlines_keep_their_direction(tmp_path: Path) -> None:
    settings = settings_from_dict(
        {"storage": {"url": f"sqlite:///{tmp_path / 'rtl.db'}"}}, source=tmp_path / "rtl.toml"
    )
    titles = ("وزیر اعظم نے بجٹ پیش کیا", "東京都、予算案を発表")
    with SQLStore.open(settings.storage.url) as store:
        for title in titles:
            url = f"https://news.example/{len(title)}"
            article = store.add_article(Article(0, "world", url, url, T0, T0, title=title))
            version = Version(article.id, 1, "a" * 64, title + "。", T0, url, title=title)
            change = Change(ChangeKind.NEW, article.id, "world", url, T0, title, 1)
            store.record(Recording(article, [change], version))
        async with serving(settings, store) as site:
            root = lxml.html.document_fromstring(await site.text("/"))
            shown = {p.text_content().strip(): p.get("dir") for p in root.cssselect(".headline")}
            assert shown == {title: "auto" for title in titles}
            page = lxml.html.document_fromstring(await site.text("/articles/1"))
            assert page.cssselect("h1")[0].get("dir") == "auto"
            assert page.cssselect("h1")[0].text_content() == titles[0]
