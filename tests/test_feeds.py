"""parse_feed: RSS 2.0, Atom 1.0 and RDF documents to ParsedFeed, and what is not a feed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import FeedParseError
from monitor.feeds import html_to_text, parse_feed
from monitor.models import FeedEntry, ParsedFeed
from tests.webserver import Reply, WebServer

FEED_URL = "https://news.example.com/section/feed.xml"

RSS20 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>Example  News &amp; Views</title>
    <link>https://news.example.com/</link>
    <item>
      <title>Caf&#233; owners &amp; the   council</title>
      <link>/2024/05/cafe-owners</link>
      <guid isPermaLink="false">story-1</guid>
      <dc:creator>Ana Ruiz</dc:creator>
      <pubDate>Sun, 17 Dec 2017 1:55 PM EST</pubDate>
      <description>&lt;p&gt;Short &amp;amp; sweet.&lt;/p&gt;</description>
      <content:encoded><![CDATA[<p>First <b>paragraph</b> with
        a line break.</p><script>alert("x")</script><p>Second &ldquo;one&rdquo;.</p>
        <style>p { color: red }</style><div>Third</div>]]></content:encoded>
    </item>
    <item>
      <title>Second story</title>
      <link>https://news.example.com/2024/05/second</link>
      <description>Plain text only</description>
      <pubDate>Tue, 03 Jun 2003 09:39:21 GMT</pubDate>
    </item>
  </channel>
</rss>
"""

ATOM10 = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.org/posts/">
  <title type="html">A &lt;em&gt;blog&lt;/em&gt;</title>
  <id>urn:uuid:feed</id>
  <updated>2024-05-02T10:00:00Z</updated>
  <entry>
    <title type="text">Tom &amp; Jerry</title>
    <id>tag:blog.example.org,2024:1</id>
    <link rel="enclosure" href="/media/a.mp3"/>
    <link rel="alternate" type="text/html" href="tom-and-jerry.html"/>
    <author><name>Sam Lee</name><email>sam@example.org</email></author>
    <published>2024-05-01T09:30:00+02:00</published>
    <updated>2024-05-02T10:00:00Z</updated>
    <summary>Summary text</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One</p><p>Two
      <a href="/x">link</a></p></div></content>
  </entry>
</feed>
"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example.net/">
    <title>RDF site</title>
    <link>https://rdf.example.net/</link>
    <items><rdf:Seq><rdf:li resource="https://rdf.example.net/a"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://rdf.example.net/a">
    <title>RDF item</title>
    <link>https://rdf.example.net/a</link>
    <description>Item &lt;i&gt;description&lt;/i&gt;</description>
    <dc:date>2004-07-08T23:56:58-00:20</dc:date>
  </item>
</rdf:RDF>
"""


def test_rss20_entries() -> None:
    feed = parse_feed(RSS20, FEED_URL, {"Content-Type": "application/rss+xml; charset=utf-8"})
    assert isinstance(feed, ParsedFeed)
    assert feed.version == "rss20"
    assert feed.title == "Example News & Views"
    assert not feed.bozo and feed.warning is None
    first, second = feed.entries
    assert first == FeedEntry(
        guid="story-1",
        link="https://news.example.com/2024/05/cafe-owners",  # relative link resolved
        title="Café owners & the council",  # entities decoded, whitespace collapsed
        summary="First paragraph with a line break.\n\nSecond “one”.\n\nThird",
        author="Ana Ruiz",
        # "1:55 PM EST": feedparser alone would say 01:55 UTC
        published=datetime(2017, 12, 17, 18, 55, tzinfo=UTC),
        updated=None,
    )
    assert second.guid is None
    assert second.summary == "Plain text only"
    assert second.published == datetime(2003, 6, 3, 9, 39, 21, tzinfo=UTC)


def test_script_and_style_never_reach_text() -> None:
    entry = parse_feed(RSS20, FEED_URL).entries[0]
    assert "alert" not in entry.summary
    assert "color" not in entry.summary
    assert "<" not in entry.summary


def test_atom10_entry() -> None:
    feed = parse_feed(ATOM10, "https://blog.example.org/atom")
    assert feed.version == "atom10"
    assert feed.title == "A blog"
    (entry,) = feed.entries
    assert entry.guid == "tag:blog.example.org,2024:1"
    # The alternate link, not the enclosure, resolved against xml:base.
    assert entry.link == "https://blog.example.org/posts/tom-and-jerry.html"
    assert entry.title == "Tom & Jerry"
    assert entry.summary == "One\n\nTwo link"  # content preferred over summary
    assert entry.author == "Sam Lee"
    assert entry.published == datetime(2024, 5, 1, 7, 30, tzinfo=UTC)
    assert entry.updated == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)


def test_rdf_rss10() -> None:
    feed = parse_feed(RDF, "https://rdf.example.net/index.rdf")
    assert feed.version == "rss10"
    (entry,) = feed.entries
    assert entry.link == "https://rdf.example.net/a"
    assert entry.summary == "Item description"
    assert entry.updated == datetime(2004, 7, 9, 0, 16, 58, tzinfo=UTC)


def test_relative_links_use_content_location_header() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title>
        <item><title>a</title><link>story.html</link></item></channel></rss>"""
    feed = parse_feed(body, "https://a.example/feeds/main", {"Content-Location": "/other/"})
    assert feed.entries[0].link == "https://a.example/other/story.html"


def test_non_http_links_are_dropped() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title>
        <item><title>a</title><link>mailto:someone@example.com</link></item></channel></rss>"""
    assert parse_feed(body, FEED_URL).entries[0].link is None


def test_entities_in_titles_and_summaries() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
        <rss version="2.0"><channel><title>t</title><item>
        <title>Fish &amp;amp; chips &#8212; &lt;b&gt;fresh&lt;/b&gt;</title>
        <description>&amp;eacute;t&amp;eacute; &amp;nbsp;&amp;lt;tag&amp;gt;</description>
        </item></channel></rss>"""
    entry = parse_feed(body, FEED_URL).entries[0]
    assert entry.title == "Fish & chips — fresh"
    assert entry.summary == "été <tag>"


def test_bozo_feed_with_entries_is_a_warning() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
        <rss version="2.0"><channel><title>Broken</title>
        <item><title>Kept</title><link>https://x.example/1</link></item>
        <item><title>Unclosed</title>
        </channel></rss>"""
    feed = parse_feed(body, FEED_URL)
    assert feed.bozo
    assert feed.warning is not None and feed.warning.startswith("XML syntax error at line")
    assert [entry.title for entry in feed.entries] == ["Kept", "Unclosed"]


def test_valid_empty_feed_has_no_entries() -> None:
    body = b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse_feed(body, FEED_URL)
    assert feed.entries == ()
    assert feed.title == "Quiet"
    assert not feed.bozo


def test_broken_feed_without_entries_is_empty_with_warning() -> None:
    # A recognised format with nothing in it stays that site's (empty) feed.
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></rss>'
    feed = parse_feed(body, FEED_URL)
    assert feed.version == "rss20"
    assert feed.entries == ()
    assert feed.bozo and feed.warning


def test_html_page_is_not_a_feed() -> None:
    page = b"""<!DOCTYPE html><html><head><title>Home</title></head>
        <body><p>Welcome</p><a href="/feed">feed</a></body></html>"""
    with pytest.raises(FeedParseError, match=r"https://news\.example\.com/.*: not a feed: HTML"):
        parse_feed(page, FEED_URL, {"content-type": "text/html; charset=utf-8"})


def test_xml_syntax_error_without_entries_names_the_line() -> None:
    with pytest.raises(FeedParseError, match="not a feed: XML syntax error at line 2"):
        parse_feed(b"<?xml version='1.0'?>\n<rss version=", FEED_URL)


def test_unknown_xml_is_not_a_feed() -> None:
    with pytest.raises(FeedParseError, match="without an RSS, Atom or RDF root element"):
        parse_feed(b"<?xml version='1.0'?><catalog><book/></catalog>", FEED_URL)


@pytest.mark.parametrize("body", [b"", b"   \n\t "])
def test_empty_body_is_an_error(body: bytes) -> None:
    # An empty 200 response is a broken feed, not a feed that has no news.
    with pytest.raises(FeedParseError, match="empty document"):
        parse_feed(body, FEED_URL)


def test_body_that_is_a_url_is_never_fetched(web: WebServer) -> None:
    web.set("/feed", Reply(body=RSS20, content_type="application/rss+xml"))
    with pytest.raises(FeedParseError, match="not a feed"):
        parse_feed(web.url("/feed").encode(), FEED_URL)
    assert web.hits("/feed") == []


def test_body_that_is_a_path_is_never_opened(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS20)
    with pytest.raises(FeedParseError, match="not a feed"):
        parse_feed(str(path).encode(), FEED_URL)


def test_str_body_is_refused() -> None:
    with pytest.raises(TypeError):
        parse_feed("http://127.0.0.1:1/feed", FEED_URL)  # type: ignore[arg-type]


def test_undeclared_utf8_without_headers_is_read_as_utf8() -> None:
    body = '<rss version="2.0"><channel><item><title>Zoë</title></item></channel></rss>'
    feed = parse_feed(body.encode("utf-8"), FEED_URL)
    assert feed.entries[0].title == "Zoë"
    assert not feed.bozo


def test_html_to_text_paragraphs() -> None:
    markup = "<h2>Head</h2>Intro<br>same para<br><br>next<ul><li>a</li><li>b</li></ul>"
    assert html_to_text(markup) == "Head\n\nIntro same para\n\nnext\n\na\n\nb"
    assert html_to_text("<p>x</p><noscript><img src=x></noscript><template>t</template>") == "x"
