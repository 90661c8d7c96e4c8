"""End to end: real feeds and pages on loopback -> pipeline -> store, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape

import pytest

from monitor.config import Settings, settings_from_dict
from monitor.extract import TrafilaturaExtractor
from monitor.models import ArticleStatus, ChangeKind, CheckReport, FeedStatus, Page
from monitor.pipeline import check_once
from monitor.store import Store
from tests.webserver import Reply, Request, WebServer

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
_tokens = itertools.count()

STORY = [
    "The city council voted on Tuesday to expand the harbour, a plan that has divided "
    "residents for more than a decade.",
    "Supporters say the new quay will bring 1,200 jobs; opponents fear for the wetlands "
    "north of the old port.",
    "The mayor said construction could begin next spring if the regional government agrees.",
]


def page(title: str, paragraphs: Sequence[str], canonical: str | None = None) -> Reply:
    """An article page whose chrome changes on every request (tokens, ads, timestamps)."""

    def render(_request: Request) -> Reply:
        token = next(_tokens)
        link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
        body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        html = f"""<!doctype html><html><head><title>{escape(title)}</title>{link}
<meta name="author" content="Ana Reporter"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<form><input type="hidden" name="csrf" value="tok-{token}-{token * 7919}"></form>
<article><h1>{escape(title)}</h1><p class="byline">By Ana Reporter</p>{body}</article>
<aside class="ad">Advert {token}: buy {token % 5} widgets today!</aside>
<footer>Page generated at 12:{token % 60:02d}:{(token * 7) % 60:02d}</footer>
<script nonce="n{token}">var t = {token};</script></body></html>"""
        return Reply(html)

    return render  # type: ignore[return-value]


def rss(items: Sequence[tuple[str, str]], web: WebServer) -> Reply:
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{web.url(p)}</link><guid>{web.url(p)}</guid>"
        f"<description>{escape(t)} summary</description>"
        "<pubDate>Sat, 28 Nov 2026 11:00:00 GMT</pubDate></item>"
        for t, p in items
    )
    return Reply(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
        f"<link>{web.url('/')}</link><description>d</description>{entries}</channel></rss>",
        content_type="application/rss+xml",
    )


def atom(items: Sequence[tuple[str, str]], web: WebServer) -> Reply:
    entries = "".join(
        f'<entry><title>{escape(t)}</title><link href="{web.url(p)}"/><id>tag:x,2026:{p}</id>'
        f"<updated>2026-11-28T11:00:00Z</updated><summary>{escape(t)}</summary></entry>"
        for t, p in items
    )
    return Reply(
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Politics</title><id>tag:x,2026:feed</id><updated>2026-11-28T11:00:00Z</updated>"
        f"{entries}</feed>",
        content_type="application/atom+xml",
        etag='"atom-1"',
    )


def rdf(items: Sequence[tuple[str, str]], web: WebServer) -> Reply:
    seq = "".join(f'<rdf:li resource="{web.url(p)}"/>' for _, p in items)
    entries = "".join(
        f'<item rdf:about="{web.url(p)}"><title>{escape(t)}</title><link>{web.url(p)}</link>'
        f"<description>{escape(t)}</description></item>"
        for t, p in items
    )
    return Reply(
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>Wire</title>'
        f"<link>{web.url('/')}</link><description>w</description>"
        f"<items><rdf:Seq>{seq}</rdf:Seq></items></channel>{entries}</rdf:RDF>",
        content_type="application/rdf+xml",
    )


def settings_for(web: WebServer, store_url: str, **feeds: str) -> Settings:
    return settings_from_dict(
        {
            "feeds": [{"name": n, "url": web.url(p), "interval": "15m"} for n, p in feeds.items()],
            "fetch": {"allow_private_addresses": True, "retries": 0, "deadline": 10},
            "storage": {"url": store_url},
        }
    )


async def run(settings: Settings, store: Store, now: datetime) -> CheckReport:
    return await check_once(settings, store, now, force=True)


def kinds(report: CheckReport) -> list[tuple[str, str]]:
    return sorted((str(c.kind), c.url.rsplit("/", 1)[-1]) for c in report.changes)


async def test_lifecycle_over_three_feed_formats(web: WebServer, store: Store, store_url: str):
    web.set("/rss", rss([("Harbour vote", "/a/harbour"), ("Budget", "/a/budget")], web))
    web.set("/atom", atom([("Election", "/a/election")], web))
    web.set("/rdf", rdf([("Wire story", "/a/wire")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    web.set(
        "/a/budget", page("Budget passes", ["The budget passed by 30 votes to 12.", *STORY[1:]])
    )
    web.set("/a/election", page("Election called", ["An election was called for May.", *STORY[:2]]))
    web.set("/a/wire", page("Wire story", ["A wire report about shipping.", STORY[2]]))
    settings = settings_for(web, store_url, world="/rss", politics="/atom", wire="/rdf")

    first = await run(settings, store, T0)
    assert [f.status for f in first.feeds] == [FeedStatus.OK] * 3
    assert kinds(first) == [("new", n) for n in ("budget", "election", "harbour", "wire")]

    # Only chrome changed (every page has fresh tokens, ads, timestamps): no new versions.
    second = await run(settings, store, T0 + timedelta(minutes=20))
    assert second.changes == ()
    assert second.articles_checked == 4
    # The Atom feed sent an ETag: the second fetch was conditional and answered 304.
    assert web.hits("/atom")[-1].headers.get("if-none-match") == '"atom-1"'
    assert second.feeds[1].status == FeedStatus.NOT_MODIFIED

    # A real edit: one number in the harbour story.
    edited = [STORY[0], STORY[1].replace("1,200", "2,400"), STORY[2]]
    web.set("/a/harbour", page("Harbour vote", edited))
    third = await run(settings, store, T0 + timedelta(minutes=40))
    assert kinds(third) == [("changed", "harbour")]
    change = third.changes[0]
    assert (change.version, change.previous_version) == (2, 1)
    harbour = store.get_article(change.article_id)
    assert harbour is not None and harbour.versions == 2
    assert "2,400" in store.list_versions(harbour.id)[-1].text
    raw = store.get_raw_body(harbour.id, 2)
    assert raw is not None and b"2,400" in raw.content


async def test_article_edited_after_leaving_feed_is_caught(web, store, store_url):
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    settings = settings_for(web, store_url, world="/rss")
    await run(settings, store, T0)

    web.set("/rss", rss([], web))  # the story drops out of the feed ...
    web.set("/a/harbour", page("Harbour vote", [*STORY, "Update: the vote was annulled."]))
    report = await run(settings, store, T0 + timedelta(minutes=30))  # ... and is edited
    assert kinds(report) == [("changed", "harbour")]

    # After the tracking window ends it is no longer fetched.
    hits = len(web.hits("/a/harbour"))
    late = await run(settings, store, T0 + timedelta(days=8))
    await run(settings, store, T0 + timedelta(days=9))
    assert late.articles_checked == 1  # the last check, which ends tracking
    assert len(web.hits("/a/harbour")) == hits + 1


async def test_removed_restored_and_moved(web, store, store_url):
    web.set("/rss", rss([("Harbour", "/a/harbour"), ("Budget", "/a/budget")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    web.set(
        "/a/budget", page("Budget passes", ["The budget passed by 30 votes to 12.", *STORY[1:]])
    )
    settings = settings_for(web, store_url, world="/rss")
    await run(settings, store, T0)

    web.set("/a/harbour", Reply("gone", status=410))
    web.set("/a/budget", Reply("", status=301, headers={"Location": "/b/budget-2026"}))
    web.set(
        "/b/budget-2026",
        page("Budget passes", ["The budget passed by 30 votes to 12.", *STORY[1:]]),
    )
    report = await run(settings, store, T0 + timedelta(minutes=20))
    assert kinds(report) == [("moved", "budget-2026"), ("removed", "harbour")]
    articles = {a.url.rsplit("/", 1)[-1]: a for a in store.list_articles()}
    assert set(articles) == {"harbour", "budget"}  # moved is the same article, not a new one
    assert articles["harbour"].status == ArticleStatus.REMOVED
    assert articles["budget"].current_url.endswith("/b/budget-2026")
    assert articles["budget"].versions == 1

    # Quiet on the next pass; then the removed page comes back.
    assert (await run(settings, store, T0 + timedelta(minutes=40))).changes == ()
    web.set("/a/harbour", page("Harbour vote", STORY))
    back = await run(settings, store, T0 + timedelta(minutes=60))
    assert kinds(back) == [("restored", "harbour")]


async def test_redirect_to_front_page_is_removal(web, store, store_url):
    web.set("/rss", rss([("Harbour", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    web.set("/", page("Front page", ["Today's top stories from everywhere, updated hourly."]))
    settings = settings_for(web, store_url, world="/rss")
    await run(settings, store, T0)
    web.set("/a/harbour", Reply("", status=302, headers={"Location": "/"}))
    report = await run(settings, store, T0 + timedelta(minutes=20))
    assert kinds(report) == [("removed", "harbour")]


async def test_broken_feed_does_not_stop_others(web, store, store_url):
    web.set("/good", rss([("Harbour", "/a/harbour")], web))
    web.set("/broken", Reply("<html><body>Oops, an error page</body></html>"))
    web.set("/a/harbour", page("Harbour vote", STORY))
    settings = settings_for(web, store_url, broken="/broken", dead="/nothing-here", good="/good")
    report = await run(settings, store, T0)
    statuses = {f.name: f.status for f in report.feeds}
    assert statuses == {"broken": FeedStatus.ERROR, "dead": FeedStatus.ERROR, "good": FeedStatus.OK}
    assert kinds(report) == [("new", "harbour")]
    dead = store.get_feed("dead")
    assert dead is not None and dead.failures == 1 and "404" in (dead.last_error or "")
    assert dead.next_due is not None


async def test_unreachable_page_falls_back_to_feed_text(web, store, store_url):
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", Reply("server on fire", status=500))
    settings = settings_for(web, store_url, world="/rss")
    report = await run(settings, store, T0)
    assert kinds(report) == [("new", "harbour")]
    assert any("feed entry" in w for w in report.warnings)
    version = store.latest_version(report.changes[0].article_id)
    assert version is not None and version.source == "feed"
    assert "Harbour vote summary" in version.text


async def test_fetch_articles_false_versions_entry_text(web, store, store_url):
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    settings = settings_from_dict(
        {
            "feeds": [{"name": "w", "url": web.url("/rss"), "fetch_articles": False}],
            "fetch": {"allow_private_addresses": True, "retries": 0},
            "storage": {"url": store_url},
        }
    )
    first = await run(settings, store, T0)
    assert kinds(first) == [("new", "harbour")]
    assert web.hits("/a/harbour") == []  # never fetched
    web.set("/rss", rss([("Harbour vote annulled", "/a/harbour")], web))
    second = await run(settings, store, T0 + timedelta(minutes=20))
    assert kinds(second) == [("changed", "harbour")]


async def test_links_to_private_addresses_are_not_followed_by_default(web, store, store_url):
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    feed = {"name": "w", "url": web.url("/rss")}
    settings = settings_from_dict({"feeds": [feed], "storage": {"url": store_url}})
    report = await run(settings, store, T0)
    # The feed is configured by the user (an intranet feed is fine) ...
    assert report.feeds[0].status == FeedStatus.OK
    # ... the link found in it is a third party's and points at loopback: not fetched.
    assert web.hits("/a/harbour") == []
    assert any("non-public" in w and "feed entry" in w for w in report.warnings)
    version = store.latest_version(report.changes[0].article_id)
    assert version is not None and version.source == "feed"

    trusted = settings_from_dict(
        {"feeds": [{**feed, "allow_private_links": True}], "storage": {"url": store_url}}
    )
    await run(trusted, store, T0 + timedelta(minutes=20))
    assert len(web.hits("/a/harbour")) == 1


async def test_due_feeds_only_without_force(web, store, store_url):
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    settings = settings_for(web, store_url, world="/rss")
    await check_once(settings, store, T0)
    early = await check_once(settings, store, T0 + timedelta(minutes=5))
    assert early.feeds[0].status == FeedStatus.SKIPPED
    assert len(web.hits("/rss")) == 1
    later = await check_once(settings, store, T0 + timedelta(minutes=15))
    assert later.feeds[0].status == FeedStatus.OK
    assert len(web.hits("/rss")) == 2


@pytest.mark.parametrize("ignore", [r"^Sponsored: .*$"])
async def test_ignore_patterns_suppress_boilerplate_edits(web, store, store_url, ignore):
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", [*STORY, "Sponsored: visit our shop, code A1"]))
    settings = settings_from_dict(
        {
            "feeds": [{"name": "w", "url": web.url("/rss"), "ignore": [ignore]}],
            "fetch": {"allow_private_addresses": True, "retries": 0},
            "storage": {"url": store_url},
        }
    )
    await run(settings, store, T0)
    web.set("/a/harbour", page("Harbour vote", [*STORY, "Sponsored: visit our shop, code B2"]))
    assert (await run(settings, store, T0 + timedelta(minutes=20))).changes == ()


async def test_second_link_with_same_canonical_is_the_same_article(web, store, store_url):
    canonical = web.url("/a/harbour")
    web.set("/rss", rss([("Harbour", "/a/harbour")], web))
    web.set("/atom", atom([("Harbour (politics)", "/politics/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY, canonical=canonical))
    web.set("/politics/harbour", page("Harbour vote", STORY, canonical=canonical))
    settings = settings_for(web, store_url, world="/rss")
    await run(settings, store, T0)
    both = settings_for(web, store_url, world="/rss", politics="/atom")
    report = await run(both, store, T0 + timedelta(minutes=20))
    assert report.changes == ()
    assert len(store.list_articles()) == 1
    # The alias is remembered: the second link is not fetched again on the next pass.
    hits = len(web.hits("/politics/harbour"))
    await run(both, store, T0 + timedelta(minutes=40))
    assert len(web.hits("/politics/harbour")) == hits == 1


async def test_guid_only_matches_within_its_feed(web, store, store_url):
    def numbered(path: str, link: str) -> None:
        web.set(
            path,
            Reply(
                '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                f'<item><title>x</title><link>{web.url(link)}</link><guid isPermaLink="false">1'
                "</guid></item></channel></rss>",
                content_type="application/rss+xml",
            ),
        )

    numbered("/one", "/a/harbour")
    numbered("/two", "/a/budget")
    web.set("/a/harbour", page("Harbour vote", STORY))
    web.set(
        "/a/budget", page("Budget passes", ["The budget passed by 30 votes to 12.", *STORY[1:]])
    )
    report = await run(settings_for(web, store_url, one="/one", two="/two"), store, T0)
    assert kinds(report) == [("new", "budget"), ("new", "harbour")]


@pytest.mark.parametrize("status", [404, 410])
async def test_gone_statuses_mean_removed(web, store, store_url, status):
    web.set("/rss", rss([("Harbour", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    settings = settings_for(web, store_url, world="/rss")
    await run(settings, store, T0)
    web.set("/a/harbour", Reply("no such page", status=status))
    report = await run(settings, store, T0 + timedelta(minutes=20))
    assert kinds(report) == [("removed", "harbour")]
    assert report.changes[0].detail == f"HTTP {status}"


async def test_unchanged_article_page_costs_one_conditional_request(web, store, store_url):
    calls: list[str] = []
    fixed = page("Harbour vote", STORY)

    def validated(request: Request) -> Reply:
        calls.append(request.headers.get("if-none-match", ""))
        reply = fixed(request)  # type: ignore[operator]
        reply.etag = '"v1"'
        return reply

    web.set("/rss", rss([("Harbour", "/a/harbour")], web))
    web.set("/a/harbour", validated)
    settings = settings_for(web, store_url, world="/rss")
    await run(settings, store, T0)
    report = await run(settings, store, T0 + timedelta(minutes=20))
    assert report.changes == () and report.articles_checked == 1
    assert calls == ["", '"v1"']  # the re-check was conditional and answered 304
    article = store.list_articles()[0]
    assert article.last_checked == T0 + timedelta(minutes=20) and article.versions == 1


class _Crash(BaseException):
    """Stands in for the process dying (SIGKILL, power loss) in the middle of a run."""


class _FlakyExtractor:
    """The real extractor, except on pages whose URL contains ``trigger``."""

    def __init__(self, trigger: str, error: BaseException) -> None:
        self.trigger, self.error = trigger, error
        self.real = TrafilaturaExtractor()

    def extract(self, html: bytes, url: str, content_type: str | None = None) -> Page:
        if self.trigger in url:
            raise self.error
        return self.real.extract(html, url, content_type)


def three_stories(web: WebServer) -> None:
    web.set("/rss", rss([("A", "/a/harbour"), ("B", "/a/budget"), ("C", "/a/wire")], web))
    web.set("/a/harbour", page("Harbour vote", STORY))
    web.set(
        "/a/budget", page("Budget passes", ["The budget passed by 30 votes to 12.", *STORY[1:]])
    )
    web.set("/a/wire", page("Wire story", ["A wire report about shipping.", STORY[2]]))


async def test_unexpected_error_in_one_article_does_not_stop_the_run(web, store, store_url):
    three_stories(web)
    settings = settings_for(web, store_url, world="/rss")
    flaky = _FlakyExtractor("budget", RuntimeError("extractor bug"))
    report = await check_once(settings, store, T0, force=True, extractor=flaky)
    assert kinds(report) == [("new", "harbour"), ("new", "wire")]
    assert any("budget" in e and "extractor bug" in e for e in report.errors)
    again = await run(settings, store, T0 + timedelta(minutes=20))
    assert kinds(again) == [("new", "budget")]


async def test_run_killed_midway_is_completed_by_the_next_run(web, store, store_url):
    three_stories(web)
    settings = settings_for(web, store_url, world="/rss")
    with pytest.raises(_Crash):
        await check_once(
            settings, store, T0, force=True, extractor=_FlakyExtractor("wire", _Crash())
        )
    assert store.get_feed("world") is None  # feed state is saved only after its entries
    report = await run(settings, store, T0 + timedelta(minutes=1))
    captured = {a.url.rsplit("/", 1)[-1]: a.versions for a in store.list_articles()}
    assert captured == {"harbour": 1, "budget": 1, "wire": 1}
    assert ("new", "wire") in kinds(report)
    assert all(c.kind == ChangeKind.NEW for c in store.list_changes())
    assert len(store.list_changes()) == 3  # nothing recorded twice


async def test_changes_are_classified_and_reverts_recognized(web, store, store_url):
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    settings = settings_for(web, store_url, world="/rss")
    original = page("Harbour vote", STORY)
    edited = page("Harbour vote", [STORY[0], STORY[1].replace("1,200", "2,400"), STORY[2]])
    minutes = itertools.count(20, 20)

    async def serve(reply) -> CheckReport:
        web.set("/a/harbour", reply)
        return await run(settings, store, T0 + timedelta(minutes=next(minutes)))

    web.set("/a/harbour", original)
    await run(settings, store, T0)
    changed = (await serve(edited)).changes[0]
    assert (changed.kind, changed.significance, changed.tags) == ("changed", "minor", ("numbers",))
    assert changed.stats is not None and changed.stats.words_added == 1

    first_flip = (await serve(original)).changes[0]
    assert (first_flip.kind, first_flip.version, first_flip.reverted_to) == ("reverted", 3, 1)
    assert first_flip.tags == ("numbers",)
    second_flip = (await serve(edited)).changes[0]
    assert (second_flip.kind, second_flip.reverted_to) == ("reverted", 2)
    assert second_flip.tags == ("numbers", "flip-flop")  # not news the second time
    stored = store.list_changes(changed.article_id)
    assert [c.kind for c in stored] == ["new", "changed", "reverted", "reverted"]
    assert stored[-1] == second_flip


async def test_feed_title_change_alone_is_a_headline_change(web, store, store_url):
    fixed = page("Harbour vote", STORY)

    def validated(request: Request) -> Reply:
        reply = fixed(request)  # type: ignore[operator]
        reply.etag = '"same"'
        return reply

    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", validated)
    settings = settings_for(web, store_url, world="/rss")
    await run(settings, store, T0)
    web.set("/rss", rss([("Harbour vote annulled by court", "/a/harbour")], web))
    report = await run(settings, store, T0 + timedelta(minutes=5))
    (change,) = report.changes
    assert (change.kind, change.significance, change.tags) == ("changed", "major", ("headline",))
    latest = store.latest_version(change.article_id)
    assert latest is not None and latest.feed_title == "Harbour vote annulled by court"
    assert latest.text == store.get_version(change.article_id, 1).text  # type: ignore[union-attr]


LONG_STORY = [
    f"{sentence} Paragraph {n} adds detail on the council's plans."
    for n, sentence in enumerate(STORY * 4)
]
CHALLENGE = [
    "Just a moment... Checking your browser before accessing the site. Please enable "
    "JavaScript and cookies to continue."
]


async def test_block_page_is_held_as_suspect_until_confirmed(web, store, store_url):
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", page("Harbour vote", LONG_STORY))
    settings = settings_for(web, store_url, world="/rss")
    await run(settings, store, T0)
    web.set("/a/harbour", page("Harbour vote", CHALLENGE))
    first = await run(settings, store, T0 + timedelta(minutes=20))
    assert first.changes == ()  # no version, and no alertable mass deletion
    assert any("suspect fetch (it looks like a block" in w for w in first.warnings)
    second = await run(settings, store, T0 + timedelta(minutes=40))
    (confirmed,) = second.changes
    assert confirmed.kind == "changed" and confirmed.detail == "confirmed after a suspect fetch"


async def test_collapsed_text_that_comes_back_is_a_swing(web, store, store_url):
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    full = page("Harbour vote", LONG_STORY)
    web.set("/a/harbour", full)
    settings = settings_for(web, store_url, world="/rss")
    await run(settings, store, T0)
    warnings: list[str] = []
    for step in range(1, 5):  # collapsed, back, collapsed, back
        web.set("/a/harbour", page("Harbour vote", LONG_STORY[:3]) if step % 2 else full)
        report = await run(settings, store, T0 + timedelta(minutes=20 * step))
        assert report.changes == ()
        warnings += report.warnings
    assert sum("collapsed" in w for w in warnings) == 2
    assert any("extraction swings between fetches (2 times)" in w for w in warnings)
    (article,) = store.list_articles()
    assert article.versions == 1 and article.swings == 2


class _CountingExtractor:
    def __init__(self) -> None:
        self.calls = 0
        self.real = TrafilaturaExtractor()

    def extract(self, html: bytes, url: str, content_type: str | None = None) -> Page:
        self.calls += 1
        return self.real.extract(html, url, content_type)


async def test_identical_bytes_are_not_extracted_again(web, store, store_url):
    fixed = page("Harbour vote", STORY)(Request("GET", "/", {}))  # one rendering, no tokens
    web.set("/rss", rss([("Harbour vote", "/a/harbour")], web))
    web.set("/a/harbour", fixed)  # and no validators: every fetch is a full 200
    settings = settings_for(web, store_url, world="/rss")
    counting = _CountingExtractor()
    await check_once(settings, store, T0, force=True, extractor=counting)
    again = await check_once(
        settings, store, T0 + timedelta(minutes=20), force=True, extractor=counting
    )
    assert again.changes == () and again.articles_checked == 1
    assert counting.calls == 1 and len(web.hits("/a/harbour")) == 2
    web.set("/a/harbour", page("Harbour vote", [*STORY, "A new paragraph."]))
    edited = await check_once(
        settings, store, T0 + timedelta(minutes=40), force=True, extractor=counting
    )
    assert counting.calls == 2 and [c.kind for c in edited.changes] == ["changed"]


async def test_worker_processes_store_what_one_process_stores(
    web: WebServer, store: Store, store_url: str, tmp_path, caplog
) -> None:
    # More new pages than START_AFTER: extraction moves to worker processes mid-run, and
    # the versions must be exactly those extracted in this process (another store).
    from monitor.store.sql import open_store
    from monitor.workers import START_AFTER

    stories = [(f"Story {n}", f"/a/story-{n}") for n in range(START_AFTER + 8)]
    web.set("/rss", rss(stories, web))
    for title, path in stories:
        web.set(path, page(title, [f"{title} opens with its own lede number {len(path)}.", *STORY]))
    pooled = settings_for(web, store_url, local="/rss").model_copy(
        update={"extract": settings_for(web, store_url).extract.model_copy(update={"workers": 2})}
    )
    with caplog.at_level(logging.INFO, logger="monitor.workers"):
        report = await run(pooled, store, T0)
    assert "starting 2 worker processes" in caplog.text
    assert report.errors == ()
    assert report.count(ChangeKind.NEW) == len(stories)

    alone_url = f"sqlite:///{tmp_path / 'alone.db'}"
    single = settings_from_dict(
        {
            "feeds": [{"name": "local", "url": web.url("/rss")}],
            "fetch": {"allow_private_addresses": True, "retries": 0},
            "extract": {"workers": 1},
            "storage": {"url": alone_url},
        }
    )
    alone = open_store(alone_url)
    try:
        await run(single, alone, T0)
        texts = {a.url: alone.latest_version(a.id) for a in alone.list_articles()}
        pooled_texts = {a.url: store.latest_version(a.id) for a in store.list_articles()}
        assert {u: (v.text, v.title) for u, v in texts.items() if v} == {
            u: (v.text, v.title) for u, v in pooled_texts.items() if v
        }
    finally:
        alone.close()


async def test_a_changed_feeds_unchanged_entries_are_only_marked_as_still_listed(
    web, store, store_url, monkeypatch
):
    # Of a feed rewritten for one entry, the others bring nothing but "still in the feed":
    # their articles are marked so, not looked up and checked in full (issue 16).
    stories = [("Harbour", "/a/harbour"), ("Budget", "/a/budget"), ("Tram", "/a/tram")]
    web.set("/rss", rss(stories, web))
    for _, path in stories:
        web.set(path, page(path, STORY))
    settings = settings_for(web, store_url, world="/rss")
    await run(settings, store, T0)
    web.set("/rss", rss([("Harbour vote annulled", "/a/harbour"), *stories[1:]], web))
    looked_up: list[str] = []
    find_articles = store.find_articles

    def spy(urls):
        looked_up.extend(urls)
        return find_articles(urls)

    monkeypatch.setattr(store, "find_articles", spy)
    later = T0 + timedelta(minutes=20)
    report = await check_once(settings, store, later)
    assert looked_up == [web.url("/a/harbour")]
    (change,) = report.changes
    assert (change.url, change.tags) == (web.url("/a/harbour"), ("headline",))
    assert {a.url: a.last_in_feed for a in store.list_articles()} == {
        web.url(path): later for _, path in stories
    }
