"""The built-in newsroom: formats, noise, validators and the round script, over real HTTP."""

from __future__ import annotations

import re
import socket
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from urllib.error import HTTPError
from urllib.request import HTTPRedirectHandler, OpenerDirector, Request, build_opener

import feedparser
import pytest

from monitor.newsroom import Expected, Newsroom

ATOM = "{http://www.w3.org/2005/Atom}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
RSS1 = "{http://purl.org/rss/1.0/}"
SEED_TEXT = """\
First paragraph of a seed story about an offer.
Officials said up to 30,000 people could be affected.

A third paragraph, after a blank line.
Watch NBS news on YouTube in Bengali । Subscribe Our YouTube Channel:
"""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: str


class _NoRedirect(HTTPRedirectHandler):
    """Let 3xx answers through so tests can see the redirect itself."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER: OpenerDirector = build_opener(_NoRedirect)


def get(url: str, headers: dict[str, str] | None = None) -> Response:
    request = Request(url, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=5) as reply:
            return Response(reply.status, reply.headers, reply.read().decode())
    except HTTPError as error:  # 3xx, 304, 4xx and 5xx all arrive here
        with error:
            return Response(error.code, error.headers, error.read().decode())


def paragraphs(page: str) -> list[str]:
    """The article paragraphs of a page: the story body minus the advert."""
    body = page.split('<div class="story-body">', 1)[1].split("</div>", 1)[0]
    body = re.sub(r"<aside.*?</aside>", "", body, flags=re.S)
    return re.findall(r"<p>(.*?)</p>", body)


def headline(page: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", page)
    assert match is not None
    return match.group(1)


@pytest.fixture
def newsroom() -> Iterator[Newsroom]:
    with Newsroom(SEED_TEXT) as room:
        yield room


def test_start_stop_and_context_manager() -> None:
    room = Newsroom().start()
    try:
        assert room.base_url.startswith("http://127.0.0.1:")
        assert get(room.base_url + "/robots.txt").status == 200
    finally:
        room.stop()
    room.stop()  # twice is harmless
    with pytest.raises(RuntimeError):
        _ = room.base_url


def test_feeds_are_well_formed_in_three_formats(newsroom: Newsroom) -> None:
    urls = dict(newsroom.feeds())
    assert list(urls) == ["world", "politics", "wire"]

    world = ET.fromstring(get(urls["world"]).body)
    assert world.tag == "rss" and world.get("version") == "2.0"
    for item in world.iter("item"):
        for tag in ("guid", "link", "title", "pubDate", "description"):
            assert item.findtext(tag), tag

    politics = ET.fromstring(get(urls["politics"]).body)
    assert politics.tag == f"{ATOM}feed"
    for entry in politics.iter(f"{ATOM}entry"):
        for tag in ("id", "title", "updated", "summary"):
            assert entry.findtext(f"{ATOM}{tag}"), tag
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("href")

    wire = ET.fromstring(get(urls["wire"]).body)
    assert wire.tag == f"{RDF}RDF"
    for item in wire.iter(f"{RSS1}item"):
        assert item.get(f"{RDF}about")
        for tag in (f"{RSS1}link", f"{RSS1}title", f"{RSS1}description"):
            assert item.findtext(tag), tag
        assert item.findtext("{http://purl.org/dc/elements/1.1/}date")

    versions = {name: feedparser.parse(get(url).body).version for name, url in urls.items()}
    assert versions == {"world": "rss20", "politics": "atom10", "wire": "rss10"}


def test_round_one_links_are_served_and_all_new(newsroom: Newsroom) -> None:
    links = [
        entry.link
        for _, url in newsroom.feeds()
        for entry in feedparser.parse(get(url).body).entries
    ]
    assert len(links) == 6
    for link in links:
        assert get(link).status == 200, link
    expected = newsroom.current.expected
    assert {e.kind for e in expected} == {"new"}
    assert sorted(newsroom.article_url(e.slug) for e in expected) == sorted(links)


def test_seed_story_keeps_the_seed_paragraphs(newsroom: Newsroom) -> None:
    page = get(newsroom.article_url("el-salvador-prison-offer")).body
    assert headline(page) == "El Salvador offers to jail deportees from the US"
    assert paragraphs(page) == [
        "First paragraph of a seed story about an offer.",
        "Officials said up to 30,000 people could be affected.",
        "A third paragraph, after a blank line.",
        "Watch NBS news on YouTube in Bengali । Subscribe Our YouTube Channel:",
    ]


def test_noise_changes_per_request_but_the_article_does_not(newsroom: Newsroom) -> None:
    url = newsroom.article_url("glacier-village-evacuated")
    first, second = get(url).body, get(url).body
    token = re.compile(r'name="csrf" value="([^"]+)"')
    nonce = re.compile(r'<script nonce="([^"]+)"')
    assert token.findall(first)[0] != token.findall(second)[0]
    assert nonce.findall(first)[0] != nonce.findall(second)[0]
    assert "Page generated at" in first and "Advertisement" in first
    assert paragraphs(first) == paragraphs(second)
    assert len(paragraphs(first)) >= 4
    for marker in ("<title>", 'rel="canonical"', 'name="author"', "article:published_time"):
        assert marker in first
    assert "article:modified_time" in first and 'class="most-read"' in first


def test_conditional_get_answers_304_where_validators_are_sent(newsroom: Newsroom) -> None:
    with_validators = newsroom.article_url("copper-prices-rally")
    first = get(with_validators)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag and modified
    assert get(with_validators, {"If-None-Match": etag}).status == 304
    assert get(with_validators, {"If-Modified-Since": modified}).status == 304
    assert get(with_validators, {"If-None-Match": '"something-else"'}).status == 200

    without = get(newsroom.article_url("harbour-takeover-bid"))
    assert "ETag" not in without.headers and "Last-Modified" not in without.headers

    for _, feed_url in newsroom.feeds():
        feed = get(feed_url)
        assert get(feed_url, {"If-None-Match": feed.headers["ETag"]}).status == 304
        assert get(feed_url, {"If-Modified-Since": feed.headers["Last-Modified"]}).status == 304


def test_rounds_apply_the_script(newsroom: Newsroom) -> None:
    urls = dict(newsroom.feeds())
    seed_url = newsroom.article_url("el-salvador-prison-offer")
    seed_etag = get(seed_url).headers["ETag"]
    glacier_before = paragraphs(get(newsroom.article_url("glacier-village-evacuated")).body)
    assert [r.number for r in newsroom.rounds] == [1, 2, 3, 4]

    # Round 2: the seed story is edited, the glacier page only changes its chrome.
    assert newsroom.advance().number == 2
    edited = get(seed_url, {"If-None-Match": seed_etag})
    assert edited.status == 200 and edited.headers["ETag"] != seed_etag
    assert headline(edited.body) != "El Salvador offers to jail deportees from the US"
    assert "40,000" in edited.body and "30,000" not in edited.body
    added = paragraphs(edited.body)[1]
    assert added.startswith("Officials said up to 40,000 people could be affected. ")
    glacier = get(newsroom.article_url("glacier-village-evacuated")).body
    assert paragraphs(glacier) == glacier_before and 'class="newsletter"' in glacier
    politics = feedparser.parse(get(urls["politics"]).body)
    assert politics.entries[0].link == newsroom.article_url("senate-ethics-inquiry")
    assert newsroom.current.expected == (
        Expected("changed", "el-salvador-prison-offer"),
        Expected("new", "senate-ethics-inquiry"),
    )

    # Round 3: removal, move, an edit off-feed, a broken wire feed.
    newsroom.advance()
    assert get(newsroom.article_url("harbour-takeover-bid")).status == 404
    moved = get(newsroom.article_url("mayor-tram-plan"))
    assert moved.status == 301
    assert moved.headers["Location"] == newsroom.article_url("city-tram-network-plan")
    new_home = get(moved.headers["Location"]).body
    assert f'<link rel="canonical" href="{moved.headers["Location"]}">' in new_home
    world = feedparser.parse(get(urls["world"]).body)
    world_links = [e.link for e in world.entries]
    assert newsroom.article_url("harbour-takeover-bid") in world_links
    assert newsroom.article_url("glacier-village-evacuated") not in world_links
    glacier = get(newsroom.article_url("glacier-village-evacuated")).body
    assert paragraphs(glacier) != glacier_before
    wire = get(urls["wire"])
    with pytest.raises(ET.ParseError):
        ET.fromstring(wire.body)
    assert feedparser.parse(wire.body).entries == []
    assert get(urls["politics"]).status == 200
    assert newsroom.current.broken_feeds == ("wire",)
    assert Expected("moved", "mayor-tram-plan", "city-tram-network-plan") in (
        newsroom.current.expected
    )

    # Round 4: restored, the wire feed recovers with a new item.
    newsroom.advance()
    assert get(newsroom.article_url("harbour-takeover-bid")).status == 200
    wire_links = [e.link for e in feedparser.parse(get(urls["wire"]).body).entries]
    assert newsroom.article_url("shipping-rates-ease") in wire_links
    assert {(e.kind, e.slug) for e in newsroom.current.expected} == {
        ("restored", "harbour-takeover-bid"),
        ("changed", "budget-vote-delayed"),
        ("new", "shipping-rates-ease"),
    }

    with pytest.raises(IndexError):
        newsroom.advance()
    assert newsroom.current.number == 4


def test_requests_are_recorded(newsroom: Newsroom) -> None:
    get(newsroom.article_url("no-such-story"))
    get(newsroom.feeds()[0][1] + "?utm_source=test")
    assert newsroom.requests == [
        ("GET", "/articles/no-such-story", 404),
        ("GET", "/feeds/world.xml?utm_source=test", 200),
    ]


def test_stand_in_seed_is_used_without_seed_text() -> None:
    with Newsroom() as room:
        page = get(room.article_url("el-salvador-prison-offer")).body
        assert any("30,000" in p for p in paragraphs(page))
        assert paragraphs(page)[-1].startswith("Watch NBS news on YouTube")
        assert "30,000 becomes 40,000" in room.rounds[1].description


def test_a_client_that_resets_the_connection_prints_no_traceback(
    newsroom: Newsroom, capfd: pytest.CaptureFixture[str]
) -> None:
    """Issue 14: a client gone mid-answer showed a ConnectionResetError in 2 of 8 demos."""
    port = int(newsroom.base_url.rsplit(":", 1)[1])
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"GET /feeds/world.xml HTTP/1.1\r\nHost: newsroom\r\n\r\n")
            # Linger 0: close sends a reset instead of a polite FIN.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    assert newsroom.wait_for_hangups(3, timeout=10)
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "ConnectionResetError" not in captured.err
    assert get(newsroom.feeds()[0][1]).status == 200  # and it still serves
