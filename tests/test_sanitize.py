"""No script gets through: feedparser's sanitizer corpus through every HTML we produce.

Each feed of the corpus is parsed, its entries become two versions of an article (the
entry's text, then the text with an edit that brings markup of its own), and the diff of
the two goes through every renderer, the alert payload, its mail bodies and the composed
mail. Every HTML output is parsed back and searched for anything a browser or a mail
client would execute or load as code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest

from monitor.alerts.email import EmailChannel
from monitor.alerts.payload import build_event, event_id_for, html_body, text_body
from monitor.classify import classify
from monitor.config import ClassifyRules, EmailConfig
from monitor.diff import diff_versions
from monitor.errors import FeedParseError
from monitor.feeds import parse_feed
from monitor.models import AlertMessage, Change, ChangeKind, DiffDocument, Version
from monitor.render.html import render_html
from monitor.render.text import render_text

CORPUS = (
    (Path(__file__).resolve().parents[2] / "shared" / "corpora" / "feedparser_tests")
    / "wellformed"
    / "sanitize"
)
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=2)
# The edit brings hostile markup of its own, as text: it must stay text.
EDIT = (
    ' Update: <script>alert("edit")</script> <img src=x onerror=alert(1)>'
    ' <a href="javascript:alert(2)">click</a> "quoted" figure 40,000.'
)
# Article URLs as a hostile feed could give them; only http(s) may ever become a link.
URLS = (
    "https://news.example.org/story?a=1&b=<script>",
    'javascript:alert("url")',
    " JaVaScRiPt:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    'https://news.example.org/"onmouseover="alert(1)',
)
DANGEROUS_ELEMENTS = frozenset(
    {"script", "iframe", "object", "embed", "applet", "frame", "frameset", "base", "link"}
)
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "data"}
)
# Whitespace and controls that browsers skip inside a URL scheme ("java\tscript:").
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f-\x9f]")
_BAD_SCHEME = ("javascript:", "vbscript:", "data:")
_BAD_STYLE = re.compile(r"expression\s*\(|javascript:|vbscript:|url\s*\(|behavior\s*:", re.I)
MAIL = EmailConfig(
    name="desk",
    type="email",
    host="127.0.0.1",
    sender="Newsmonitor <monitor@example.org>",
    recipients=("desk@example.org",),
)


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip(f"feedparser sanitizer corpus not found at {CORPUS}")
    return sorted(CORPUS.glob("*.xml"))


def texts_of(path: Path) -> Iterator[tuple[str | None, str, str]]:
    """(feed title, headline, text) of each entry; the feed's own fields when it has none."""
    try:
        parsed = parse_feed(path.read_bytes(), f"http://127.0.0.1/{path.name}")
    except FeedParseError:
        return
    if not parsed.entries:
        yield parsed.title, parsed.title or "", parsed.title or ""
    for entry in parsed.entries:
        yield parsed.title, entry.title, entry.summary or entry.title


def assert_inert(html: str, where: str) -> None:
    """Nothing in ``html`` runs or loads as code."""
    assert "<script" not in html.lower(), f"{where}: '<script' in the raw HTML"
    root = lxml.html.document_fromstring(html)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        tag = element.tag.lower()
        assert tag not in DANGEROUS_ELEMENTS, f"{where}: <{tag}>"
        if tag == "style":
            assert not _BAD_STYLE.search(element.text_content()), f"{where}: <style> {html}"
        for name, value in element.attrib.items():
            name = name.lower()
            assert not name.startswith("on"), f"{where}: <{tag} {name}=...>"
            if name in URL_ATTRIBUTES:
                scheme = _IGNORED_IN_SCHEME.sub("", value).lower()
                assert not scheme.startswith(_BAD_SCHEME), f"{where}: <{tag} {name}={value!r}>"
            if name == "style":
                assert not _BAD_STYLE.search(value), f"{where}: <{tag} style={value!r}>"


def test_sanitizer_corpus_never_yields_executable_markup() -> None:
    rules = ClassifyRules().thresholds()
    channel = EmailChannel(MAIL, clock=lambda: T1, local_hostname="localhost")
    events = []
    checked = 0
    for index, path in enumerate(corpus_files()):
        for feed_title, headline, text in texts_of(path):
            url = URLS[index % len(URLS)]
            old = Version(
                article_id=index + 1,
                number=1,
                content_hash="",
                text=text,
                fetched_at=T0,
                url=url,
                title=headline or None,
                byline=feed_title,
                feed_title=headline or None,
            )
            new = replace(
                old, number=2, text=text + EDIT, title=f"{headline} {EDIT}", fetched_at=T1
            )
            diff = diff_versions(old, new, 1.0)
            document = DiffDocument(
                diff=diff,
                classification=classify(old, new, diff, rules, T1),
                title=new.title,
                url=url,
                old_label="v1",
                new_label=f"v2 {headline}",
                feed=feed_title,
                article_id=old.article_id,
                old_version=1,
                new_version=2,
                old_time=T0,
                new_time=T1,
            )
            where = path.name
            for mode in ("inline", "side-by-side"):
                for links in (True, False):
                    for full in (True, False):
                        rendered = render_html(document, mode, full_document=full, links=links)
                        assert_inert(rendered, f"{where} render_html {mode} links={links}")
            render_text(document)
            change = Change(
                kind=ChangeKind.CHANGED,
                article_id=old.article_id,
                feed=feed_title or headline,
                url=url,
                detected_at=T1,
                title=new.title,
                version=2,
                previous_version=1,
                detail=text[:200],
                significance=document.classification.significance,
                tags=document.classification.tags,
                stats=diff.body.stats,
            )
            event_id = event_id_for(change, "desk")
            event = build_event(change, event_id, document, T1)
            assert_inert(event["diff"]["html"], f"{where} event diff")
            events.append(event)
            message = AlertMessage(event_id, "article.changed", T1, (event,))
            assert_inert(html_body(message), f"{where} html_body")
            text_body(message)
            mail = channel.compose(message)
            html_part = mail.get_body(("html",))
            assert html_part is not None
            assert_inert(html_part.get_content(), f"{where} mail")
            checked += 1
    assert checked > 700  # the corpus was really read

    digest = AlertMessage("dig_1", "digest", T1, tuple(events[:50]))
    assert_inert(html_body(digest), "digest html_body")
    html_part = channel.compose(digest).get_body(("html",))
    assert html_part is not None
    assert_inert(html_part.get_content(), "digest mail")


@pytest.mark.parametrize(
    "html",
    [
        "<p>x</p><SCRIPT>alert(1)</SCRIPT>",
        '<img src="x" onerror="alert(1)">',
        '<a href=" java\tscript:alert(1)">x</a>',
        '<a href="DATA:text/html,x">x</a>',
        '<form><button formaction="vbscript:x">x</button></form>',
        '<p style="width: expression(alert(1))">x</p>',
        "<style>p { background: url(javascript:alert(1)) }</style>",
        '<iframe src="https://example.org/"></iframe>',
        '<svg><a xlink:href="javascript:alert(1)">x</a></svg>',
    ],
)
def test_the_check_catches_what_it_looks_for(html: str) -> None:
    with pytest.raises(AssertionError):
        assert_inert(f"<html><body>{html}</body></html>", "sample")
