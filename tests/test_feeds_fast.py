"""The lxml fast path of parse_feed gives feedparser's answer wherever it answers.

Each document is parsed twice: by ``parse_feed`` as shipped (the fast path first), and by
``parse_feed`` with the fast path switched off (feedparser alone). Where the fast path
answers, the two ParsedFeeds must be equal, field for field; where it is unsure it must
decline, and parse_feed then gives feedparser's answer anyway. The corpora are read from
``../shared/corpora`` (skipped, with the reason, where they are absent).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urljoin

import pytest

import monitor.feeds as feeds
from monitor.errors import FeedParseError
from monitor.feeds import parse_feed
from monitor.models import ParsedFeed

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
FEED_URL = "https://news.example.com/section/feed.xml"


def feedparser_only(
    body: bytes, url: str, headers: Mapping[str, str] | None = None
) -> ParsedFeed | str:
    """parse_feed's answer with the fast path switched off (a FeedParseError as its text)."""
    fast = feeds._parse_well_formed
    feeds._parse_well_formed = lambda *args: None  # type: ignore[assignment]
    try:
        return parse_feed(body, url, headers)
    except FeedParseError as exc:
        return str(exc)
    finally:
        feeds._parse_well_formed = fast  # type: ignore[assignment]


def fast_answer(
    body: bytes, url: str, headers: Mapping[str, str] | None = None
) -> ParsedFeed | None:
    """The fast path's own answer (None: it declines), given what parse_feed gives it."""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    location = urljoin(url, lowered.get("content-location", "") or url)
    return feeds._parse_well_formed(body, lowered.get("content-type", "application/xml"), location)


def same_as_feedparser(body: bytes, headers: Mapping[str, str] | None = None) -> bool:
    """Asserts that parse_feed agrees with feedparser; whether the fast path answered."""
    answer = fast_answer(body, FEED_URL, headers)
    reference = feedparser_only(body, FEED_URL, headers)
    if answer is not None:
        assert answer == reference
    try:
        shipped: ParsedFeed | str = parse_feed(body, FEED_URL, headers)
    except FeedParseError as exc:
        shipped = str(exc)
    assert shipped == reference
    return answer is not None


# --- the corpora ------------------------------------------------------------------------


def corpus_files() -> Iterator[tuple[str, Path, dict[str, str]]]:
    with (CORPORA / "real_feeds" / "INVENTORY.tsv").open(encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            yield "real_feeds", CORPORA / "real_feeds" / row["path"], {}
    tests = CORPORA / "feedparser_tests"
    with (tests / "MANIFEST.jsonl").open(encoding="utf-8") as manifest:
        for line in manifest:
            if line.strip():
                row = json.loads(line)
                headers = {str(k): str(v) for k, v in (row.get("http_headers") or {}).items()}
                yield "feedparser_tests", tests / row["path"], headers


@pytest.mark.skipif(
    not (CORPORA / "real_feeds" / "INVENTORY.tsv").is_file()
    or not (CORPORA / "feedparser_tests" / "MANIFEST.jsonl").is_file(),
    reason=f"feed corpora not found under {CORPORA}",
)
def test_fast_path_agrees_with_feedparser_on_every_corpus_feed() -> None:
    answered = {"real_feeds": 0, "feedparser_tests": 0}
    disagreements = []
    fast_seconds = reference_seconds = 0.0
    for corpus, path, headers in corpus_files():
        body = path.read_bytes()
        url = f"https://feeds.example.net/{corpus}/{path.name}"
        began = time.perf_counter()
        answer = fast_answer(body, url, headers)
        fast_seconds += time.perf_counter() - began
        if answer is None:
            continue
        answered[corpus] += 1
        began = time.perf_counter()
        reference = feedparser_only(body, url, headers)
        reference_seconds += time.perf_counter() - began
        if answer != reference:
            disagreements.append(str(path))
    assert disagreements == []
    # The path is exercised: most well-formed RSS 2.0 and Atom 1.0 real feeds take it
    # (the rest have encodings, Atom 0.3, RDF or elements it leaves to feedparser).
    assert answered["real_feeds"] >= 150
    assert answered["feedparser_tests"] >= 300
    print(
        f"fast path answered {answered}; {fast_seconds:.2f} s against feedparser's "
        f"{reference_seconds:.2f} s on the same documents"
    )


# --- built documents: what it answers, and what it leaves to feedparser -------------------


def rss(items: str, channel: str = "<title>News</title>", head: str = "", root: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{head}\n<rss version="2.0"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        f' xmlns:media="http://search.yahoo.com/mrss/"{root}>'
        f"<channel>{channel}{items}</channel></rss>"
    ).encode()


def atom(entries: str, feed: str = "<title>Blog</title>", root: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom"{root}><id>urn:feed</id>{feed}{entries}</feed>'
    ).encode()


ANSWERED = {
    "plain item": rss(
        "<item><title>A story</title><link>https://news.example.com/a</link>"
        '<guid isPermaLink="true">https://news.example.com/a</guid>'
        "<pubDate>Tue, 03 Jun 2003 09:39:21 GMT</pubDate><description>Lede.</description>"
        "<category>World</category><dc:creator>Ana Ruiz</dc:creator></item>"
    ),
    "relative link and a guid that is not a URL": rss(
        "<item><title>x</title><link>/2024/05/story?id=1&amp;b=2</link><guid>12345</guid></item>"
    ),
    "permalink guid alone": rss("<item><title>x</title><guid>/stories/7</guid></item>"),
    "guid not a permalink, no link": rss(
        '<item><title>x</title><guid isPermaLink="false">tag:x,2024:7</guid></item>'
    ),
    "empty link beside a permalink guid": rss(
        "<item><title>x</title><link/><guid>https://news.example.com/g</guid></item>"
    ),
    "title that looks like HTML": rss(
        "<item><title>Tom &amp;amp; Jerry &lt;b&gt;bold&lt;/b&gt;</title></item>"
        "<item><title>AT&amp;T, 3 &lt; 4</title></item>"
    ),
    "channel title with markup": rss("", channel="<title>&lt;i&gt;The&lt;/i&gt; News</title>"),
    "description with markup, scripts and frames": rss(
        "<item><title>x</title><description><![CDATA[<p>One <b>two</b></p>"
        '<script>alert(1)</script><iframe src="/x">frame text</iframe><noscript>ns</noscript>'
        '<div>Three<br>four</div><a href="/rel">link</a> &nbsp;&amp; more]]></description></item>'
    ),
    "content:encoded before and after description": rss(
        "<item><title>a</title><content:encoded>&lt;p&gt;Full&lt;/p&gt;</content:encoded>"
        "<description>Short</description></item>"
        "<item><title>b</title><description>Short</description>"
        "<content:encoded><![CDATA[<img src='x'>]]></content:encoded></item>"
        "<item><title>c</title><content:encoded>Only content</content:encoded></item>"
    ),
    "UTF-8 read as Latin-1 and C1 controls": rss(
        "<item><title>CafÃ© society</title><description>Quote \u0093x\u0094 \u0085</description>"
        "</item>"
    ),
    "comment and CDATA inside a title": rss(
        "<item><title>Split<!-- c --> title <![CDATA[& more]]></title></item>"
    ),
    "markup in plain fields (author, guid)": rss(
        "<item><title>x</title><author><![CDATA[<p>&#233;t&#xE9;</p>]]></author>"
        '<guid isPermaLink="false">&lt;b&gt;id&lt;/b&gt;</guid></item>'
    ),
    "dates only feedparser reads": rss(
        "<item><title>x</title><pubDate>2004-02-28T18:14:55-08:00</pubDate>"
        "<dc:date>Sun, 31 Dec 9999 23:59:59 -9999</dc:date></item>"
        "<item><title>y</title><pubDate>not a date</pubDate></item>"
    ),
    "harmless extensions": rss(
        '<item><title>x</title><media:thumbnail url="https://i.example.com/a.jpg"/>'
        '<enclosure url="https://a.example.com/a.mp3" length="1" type="audio/mpeg"/>'
        "<comments>https://news.example.com/a#c</comments><x:rank>3</x:rank></item>",
        root=' xmlns:x="https://example.org/rank"',
    ),
    "channel image and text input": rss(
        "<item><title>x</title></item>",
        channel="<image><title>Logo</title><url>https://x/l.png</url></image><title>News</title>"
        "<textInput><title>Search</title><name>q</name></textInput>",
    ),
    "atom basic": atom(
        '<entry><title>One</title><link href="https://blog.example.org/1"/>'
        "<id>https://blog.example.org/1</id><published>2024-05-01T09:30:00+02:00</published>"
        "<updated>2024-05-02T10:00:00Z</updated><author><name> Sam  Lee </name>"
        "<email>sam@example.org</email></author><summary>Text &amp; more</summary></entry>"
    ),
    "atom html types and content": atom(
        '<entry><title type="html">A &lt;em&gt;title&lt;/em&gt;</title><id>tag:x,2024:2</id>'
        '<content type="html">&lt;p&gt;One&lt;/p&gt;&lt;p&gt;Two&lt;/p&gt;</content>'
        "<summary>Short</summary></entry>"
        '<entry><title>t</title><id>tag:x,2024:3</id><content type="text">Plain\n\nbody</content>'
        "</entry>",
        feed='<title type="html">A &lt;b&gt;blog&lt;/b&gt;</title>',
    ),
    "atom links: id as link, self and enclosure, last alternate": atom(
        "<entry><title>a</title><id>https://blog.example.org/a</id></entry>"
        '<entry><title>b</title><id>urn:uuid:b</id><link rel="self" href="/self"/>'
        '<link rel="enclosure" href="/a.mp3"/></entry>'
        '<entry><title>c</title><id>c</id><link href="/one"/><link rel="alternate" '
        'type="text/html" href="/two"/></entry>'
    ),
}

DECLINED = {
    "xml:base": atom(
        '<entry><title>a</title><id>a</id><link href="a.html"/></entry>',
        root=' xml:base="https://blog.example.org/posts/"',
    ),
    "a DOCTYPE with entities": rss(
        "<item><title>&x;</title></item>", head='<!DOCTYPE rss [<!ENTITY x "expanded">]>'
    ),
    "an undefined HTML entity (not well-formed XML)": rss("<item><title>a&nbsp;b</title></item>"),
    "another encoding": rss("<item><title>Caf\u00e9</title></item>").replace(
        b'encoding="utf-8"', b'encoding="windows-1252"'
    ),
    "an author with an e-mail address": rss(
        "<item><title>x</title><author>jo@example.com (Jo Smith)</author></item>"
    ),
    "a media:title inside media:content": rss(
        '<item><title>x</title><media:content url="https://x/a.mp4">'
        "<media:title>Other</media:title></media:content></item>"
    ),
    "a known prefix bound to another namespace": rss(
        "<item><title>x</title><content:encoded>Body</content:encoded></item>"
    ).replace(b"http://purl.org/rss/1.0/modules/content/", b"https://example.org/not-content"),
    "an element in an unknown default namespace": rss(
        '<item><title>x</title><summary xmlns="https://example.org/x">s</summary></item>'
    ),
    "a repeated field": rss("<item><title>a</title><title>b</title></item>"),
    "an element it does not know": rss(
        "<item><title>x</title><itunes:summary>s</itunes:summary></item>",
        root=' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"',
    ),
    "xhtml content": atom(
        '<entry><title>x</title><id>x</id><content type="xhtml"><div '
        'xmlns="http://www.w3.org/1999/xhtml"><p>a</p></div></content></entry>'
    ),
    "an alternate link to a PDF": atom(
        '<entry><title>x</title><id>x</id><link type="application/pdf" href="/a.pdf"/></entry>'
    ),
    "item attributes": rss(
        '<item rdf:about="https://x/1"><title>x</title></item>',
        root=' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"',
    ),
    "RSS 0.91": rss("<item><title>x</title></item>").replace(b'version="2.0"', b'version="0.91"'),
}


@pytest.mark.parametrize("name", sorted(ANSWERED))
def test_fast_path_answers_as_feedparser_does(name: str) -> None:
    assert same_as_feedparser(ANSWERED[name]), f"{name}: the fast path declined"


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_fast_path_leaves_to_feedparser_what_it_is_unsure_of(name: str) -> None:
    assert not same_as_feedparser(DECLINED[name]), f"{name}: the fast path answered"


@pytest.mark.parametrize(
    ("content_type", "answered"),
    [
        ("application/rss+xml; charset=UTF-8", True),
        ("text/xml; charset=utf-8", True),
        ("text/xml", False),  # us-ascii by RFC 3023, and the document is not ASCII
        ("text/html; charset=utf-8", False),  # not an XML type: feedparser flags it
        ("application/xml; charset=iso-8859-1", False),
    ],
)
def test_fast_path_follows_feedparser_on_the_content_type(
    content_type: str, answered: bool
) -> None:
    body = rss("<item><title>Caf\u00e9</title><link>https://x.example/a</link></item>")
    assert same_as_feedparser(body, {"Content-Type": content_type}) is answered


def test_fast_path_expands_no_entity_and_reads_no_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    for head in (
        f'<!DOCTYPE rss [<!ENTITY l0 "lol">{laughs}]>',
        f'<!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>',
    ):
        body = rss("<item><title>&l9;&x;</title></item>", head=head)
        assert fast_answer(body, FEED_URL) is None
        parsed = parse_feed(body, FEED_URL)
        assert all("do not read" not in entry.title for entry in parsed.entries)
