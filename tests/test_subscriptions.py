"""Feeds in from the command line (issue 19): `feeds add` with autodiscovery, `feeds remove`,
`feeds import` / `feeds export --opml`, all editing the config file in place."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import listparser
import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.discovery import feed_links
from monitor.opml import read_opml
from tests.webserver import Reply, WebServer

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>
<link>https://news.example.org/</link><item><title>One</title>
<link>https://news.example.org/one</link><guid>one</guid></item></channel></rss>"""
CONFIG = """# My newsroom, with a comment that must survive.
[storage]
url = "sqlite:///{db}"

[[feeds]]
name = "existing"   # kept as written
url = "https://news.example.org/existing.xml"
"""


def page(*links: str) -> str:
    head = f"<title>Site</title>{''.join(links)}"
    return f"<!DOCTYPE html><html><head>{head}</head><body><p>Hi</p></body></html>"


def alternate(href: str, title: str = "", kind: str = "application/rss+xml") -> str:
    return f'<link rel="alternate" type="{kind}" href="{href}" title="{title}">'


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(CONFIG.format(db=tmp_path / "news.db"), encoding="utf-8")
    return path


@pytest.fixture
def site() -> Iterator[WebServer]:
    server = WebServer().start()
    server.set(
        "/feed.xml", Reply(RSS.format(title="World News"), content_type="application/rss+xml")
    )
    server.set(
        "/atom.xml", Reply(RSS.format(title="Second Feed"), content_type="application/rss+xml")
    )
    yield server
    server.stop()


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


def feeds_of(config: Path) -> list[dict[str, object]]:
    return tomllib.loads(config.read_text(encoding="utf-8")).get("feeds", [])


# --- discovery ------------------------------------------------------------------------


def test_feed_links_one_several_none() -> None:
    base = "https://news.example.org/section/"
    html = page(
        alternate("/feed.xml", "All news"),
        alternate("atom.xml", "Section", "application/atom+xml"),
        alternate("/feed.xml", "Duplicate"),
        alternate("/feed.json", "JSON", "application/feed+json"),
        '<link rel="stylesheet" href="/s.css">',
    ).encode()

    links = feed_links(html, base)

    assert [(link.url, link.title, link.kind) for link in links] == [
        ("https://news.example.org/feed.xml", "All news", "RSS"),
        ("https://news.example.org/section/atom.xml", "Section", "Atom"),
    ]
    assert feed_links(page().encode(), base) == ()
    assert feed_links(b"\x00\x01 not html", base) == ()


def test_base_element_resolves_relative_feed_links() -> None:
    html = page('<base href="https://cdn.example.net/x/">', alternate("rss")).encode()

    assert feed_links(html, "https://news.example.org/")[0].url == "https://cdn.example.net/x/rss"


# --- feeds add / remove ---------------------------------------------------------------


def test_add_a_feed_url_keeps_the_files_comments(config: Path, site: WebServer) -> None:
    code, output = run(config, "feeds", "add", site.url("/feed.xml"), "--interval", "10m")

    assert code == 0, output
    assert "added feed 'world-news'" in output
    text = config.read_text(encoding="utf-8")
    assert "# My newsroom, with a comment that must survive." in text
    assert 'name = "existing"   # kept as written' in text
    assert feeds_of(config)[-1] == {
        "name": "world-news",
        "url": site.url("/feed.xml"),
        "interval": "10m",
    }


def test_add_a_page_that_links_one_feed(config: Path, site: WebServer) -> None:
    site.set("/", Reply(page(alternate("/feed.xml", "All news"))))

    code, output = run(config, "feeds", "add", site.url("/"), "--name", "home", "--tag", "world")

    assert code == 0, output
    assert f"linked from {site.url('/')}" in output
    assert feeds_of(config)[-1] == {"name": "home", "url": site.url("/feed.xml"), "tags": ["world"]}


def test_a_page_with_several_feeds_lists_them_unless_first(config: Path, site: WebServer) -> None:
    site.set("/", Reply(page(alternate("/feed.xml", "All"), alternate("/atom.xml", "Second"))))

    code, output = run(config, "feeds", "add", site.url("/"))

    assert code == 2
    assert site.url("/feed.xml") in output and site.url("/atom.xml") in output
    assert "--first" in output and "Traceback" not in output
    assert len(feeds_of(config)) == 1  # nothing written

    code, output = run(config, "feeds", "add", site.url("/"), "--first")

    assert code == 0, output
    assert feeds_of(config)[-1]["url"] == site.url("/feed.xml")


def test_a_page_that_links_no_feed_is_one_clear_line(config: Path, site: WebServer) -> None:
    site.set("/", Reply(page()))

    code, output = run(config, "feeds", "add", site.url("/"))

    assert code == 2
    assert output.strip().endswith("not a feed: HTML page (it links no feed)")
    assert len(output.strip().splitlines()) == 1


def test_a_feed_already_watched_is_refused(config: Path, site: WebServer) -> None:
    assert run(config, "feeds", "add", site.url("/feed.xml"))[0] == 0

    code, output = run(config, "feeds", "add", site.url("/feed.xml"), "--name", "again")

    assert code == 2
    assert "already watched, as feed 'world-news'" in output


def test_remove_a_feed(config: Path) -> None:
    code, output = run(config, "feeds", "remove", "existing")

    assert code == 0, output
    assert feeds_of(config) == []
    assert "# My newsroom" in config.read_text(encoding="utf-8")

    code, output = run(config, "feeds", "remove", "nope")
    assert code == 2
    assert "no feed named 'nope'" in output


def test_an_unwritable_config_file_is_one_line_and_left_whole(
    config: Path, site: WebServer
) -> None:
    before = config.read_text(encoding="utf-8")
    with read_only_directory(config.parent):
        code, output = run(config, "feeds", "add", site.url("/feed.xml"))

    assert code == 2
    assert f"{config}: cannot write config file" in output
    assert config.read_text(encoding="utf-8") == before


class read_only_directory:
    """The directory made unwritable: chmod for a user, the immutable flag for root (whom
    permissions do not stop); skips where neither can be had."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = os.geteuid() == 0

    def __enter__(self) -> None:
        if not self.root:
            self.path.chmod(0o555)
            return
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a directory unwritable")
        done = subprocess.run(["chattr", "+i", str(self.path)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i refused here: {done.stderr.decode().strip()}")

    def __exit__(self, *exc: object) -> None:
        if self.root:
            subprocess.run(["chattr", "-i", str(self.path)], check=False)
        else:
            self.path.chmod(0o755)


# --- OPML -----------------------------------------------------------------------------

OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>Reader</title></head><body>
<outline text="World"><outline type="rss" text="BBC" title="BBC World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
<outline type="rss" text="NPR" xmlUrl="https://feeds.npr.org/1001/rss.xml"
 category="radio"/></outline>
<outline type="rss" text="Existing" xmlUrl="https://news.example.org/existing.xml"/>
</body></opml>"""


def test_import_opml_then_export_round_trips(config: Path, tmp_path: Path) -> None:
    source = tmp_path / "reader.opml"
    source.write_text(OPML, encoding="utf-8")

    code, output = run(config, "feeds", "import", str(source))

    assert code == 0, output
    assert "added 2 feed(s): bbc, npr" in output
    assert "already watched: 1" in output
    feeds = {feed["name"]: feed for feed in feeds_of(config)}
    assert feeds["bbc"]["tags"] == ["World"]
    assert sorted(feeds["npr"]["tags"]) == ["World", "radio"]

    code, exported = run(config, "feeds", "export", "--opml")

    assert code == 0
    parsed = listparser.parse(exported.encode())
    assert not parsed.bozo
    by_url = {feed.url: sorted(feed.tags) for feed in parsed.feeds}
    assert by_url == {
        "https://news.example.org/existing.xml": [],
        "https://feeds.bbci.co.uk/news/world/rss.xml": ["World"],
        "https://feeds.npr.org/1001/rss.xml": ["World", "radio"],
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<html><body>not a list</body></html>", "not an OPML subscription list"),
        ('<opml version="2.0"><body><outline text="no feeds"/></body></opml>', "lists no feed"),
    ],
)
def test_a_bad_opml_is_one_clear_line(
    config: Path, tmp_path: Path, content: str, message: str
) -> None:
    source = tmp_path / "bad.opml"
    source.write_text(content, encoding="utf-8")

    code, output = run(config, "feeds", "import", str(source))

    assert code == 2
    assert output.strip() == f"Error: {source}: {read_opml_error(content, source)}"
    assert message in output


def read_opml_error(content: str, source: Path) -> str:
    with pytest.raises(Exception) as caught:
        read_opml(content.encode(), str(source))
    return str(caught.value).removeprefix(f"{source}: ")


# --- preview and config check -----------------------------------------------------------

ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Bridge to be rebuilt | Example</title>
<meta property="og:title" content="Bridge to be rebuilt">
<meta property="article:published_time" content="2026-12-03T00:30:00+01:00">
<meta name="author" content="Anna Berger"></head><body><article><h1>Bridge to be rebuilt</h1>
<p>The council voted on Tuesday to rebuild the old bridge over the river, after two years of
debate about its cost and the closure of the road during the works.</p>
<p>Follow Example News on Mastodon for more stories like this one, every single day.</p>
<p>Work starts in spring and should last eighteen months, the mayor said at the meeting.</p>
</article></body></html>"""


def test_preview_shows_what_would_be_versioned_and_stores_nothing(
    config: Path, site: WebServer
) -> None:
    text = config.read_text(encoding="utf-8").replace(
        'url = "https://news.example.org/existing.xml"',
        "url = \"https://news.example.org/existing.xml\"\nignore = ['^Follow Example News.*$']",
    )
    config.write_text(text, encoding="utf-8")
    site.set("/bridge", Reply(ARTICLE))

    code, output = run(config, "preview", site.url("/bridge"), "--feed", "existing")

    assert code == 0, output
    assert "headline:  Bridge to be rebuilt" in output
    assert "byline:    Anna Berger" in output
    assert "published: 2026-12-03T00:30:00+01:00" in output  # the page's own day and offset
    assert "removes 1:" in output and "- Follow Example News on Mastodon" in output
    body = output.split("\n\n", 1)[1]
    assert "Work starts in spring" in body and "Follow Example News" not in body
    assert not (config.parent / "news.db").exists()


def test_preview_of_an_unknown_feed_names_the_feeds(config: Path, site: WebServer) -> None:
    code, output = run(config, "preview", site.url("/bridge"), "--feed", "nope")

    assert code == 2
    assert "no feed named 'nope' (feeds: existing)" in output


def test_config_check_says_what_it_would_watch(config: Path) -> None:
    seeds = config.parent / "seeds"
    seeds.mkdir()
    shutil.copy(Path(__file__).parents[1] / "seeds" / "000_c6811b779e006353.txt", seeds)

    code, output = run(config, "config", "check")

    assert code == 0, output
    assert f"{config}: valid" in output
    assert "existing: https://news.example.org/existing.xml every 15m" in output
    assert f"seeds (1) in {seeds}: 000_c6811b779e006353" in output
    assert not (config.parent / "news.db").exists()


def test_config_check_of_a_bad_config_is_one_line_naming_the_key(config: Path) -> None:
    config.write_text(config.read_text(encoding="utf-8") + 'interval = "soon"\n', encoding="utf-8")

    code, output = run(config, "config", "check")

    assert code == 2
    assert f"{config}: feeds[0].interval:" in output
    assert "Traceback" not in output


def test_a_page_given_as_a_feed_names_the_feeds_it_links() -> None:
    from monitor.errors import FeedParseError
    from monitor.feeds import parse_feed

    html = page(*(alternate(f"/feed{n}.xml", f"Feed {n}") for n in range(5))).encode()

    with pytest.raises(FeedParseError) as caught:
        parse_feed(html, "https://news.example.org/", {"content-type": "text/html"})

    assert str(caught.value) == (
        "https://news.example.org/: not a feed: HTML page; it links 5 feed(s): "
        "https://news.example.org/feed0.xml, https://news.example.org/feed1.xml, "
        "https://news.example.org/feed2.xml and 2 more"
    )
