"""The HTML rendering of a diff: inert for any input, inline and side by side."""

from __future__ import annotations

import html
import inspect
import re
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest
from hypothesis import given

from monitor.diff import diff_versions
from monitor.models import Op, Significance, Version
from monitor.render import html as html_module
from monitor.render.html import render_html, word_diff
from tests.render.contrast import text_colors, text_runs
from tests.render.documents import (
    ANY_TEXT,
    MOVED_DOC,
    NASTY,
    NO_DIFF_DOC,
    OLD_TIME,
    TIMED_OUT_DOC,
    TagCollector,
    check_html_is_inert,
    long_doc,
    make_doc,
    nasty_doc,
)


@pytest.mark.parametrize("mode", ["inline", "side-by-side"])
@pytest.mark.parametrize("full_document", [True, False])
def test_html_from_hostile_input_is_inert(mode: str, full_document: bool) -> None:
    output = render_html(nasty_doc(), mode=mode, full_document=full_document)  # type: ignore[arg-type]
    parser = check_html_is_inert(output)
    assert not re.search("<[^>]*javascript:", output, re.IGNORECASE)
    assert not [tag for tag, _ in parser.tags if tag == "a"]  # a javascript: URL is no link
    text = "".join(parser.text)
    for payload in NASTY[:3]:
        assert payload in text  # shown, as text
    assert "javascript:alert(1)" in text
    assert output.startswith("<!doctype html>") == full_document


@pytest.mark.parametrize("mode", ["inline", "side-by-side"])
def test_html_has_no_javascript_url_anywhere(mode: str) -> None:
    """A javascript: URL is not even spelled out: nothing for a mail filter to flag."""
    doc = nasty_doc(payloads=NASTY[:3])
    output = render_html(doc, mode=mode)  # type: ignore[arg-type]
    check_html_is_inert(output)
    assert "javascript:" not in output.lower()
    assert "javascript&#58;alert(1)" in output


def test_html_links_only_http_urls_and_escapes_them() -> None:
    url = 'https://example.com/a?b=1&c="2"<x>'
    output = render_html(make_doc(url=url))
    parser = check_html_is_inert(output)
    [(_, attrs)] = [(tag, attrs) for tag, attrs in parser.tags if tag == "a"]
    assert dict(attrs)["href"] == url
    assert 'href="https://example.com/a?b=1&amp;c=&quot;2&quot;&lt;x&gt;"' in output
    for bad in ("data:text/html,<b>x</b>", "//evil.example/x", "ftp://example.com/"):
        check_html_is_inert(render_html(make_doc(url=bad)))
        assert "<a " not in render_html(make_doc(url=bad))


def test_html_inline_mode_marks_words_and_sentences() -> None:
    output = render_html(make_doc(), full_document=False)
    check_html_is_inert(output)
    assert not output.startswith("<!doctype")
    assert "The toll rose to <del style=" in output
    assert re.search(r"<del style=\"[^\"]*background-color:#ffdcdc[^\"]*\">12</del>", output)
    assert re.search(r"<ins style=\"[^\"]*background-color:#d4f5d4[^\"]*\">15</ins>", output)
    assert re.search(r"<del [^>]*>Officials declined to comment\.</del>", output)
    assert re.search(r"<ins [^>]*>A shelter opened\.</ins>", output)
    assert re.search(r"<del [^>]*>Storm kills 12</del>", output)  # the headline change
    assert "MAJOR" in output
    assert "<style" not in output and "class=" not in output and "<link" not in output


def test_html_side_by_side_puts_old_and_new_in_two_columns() -> None:
    output = render_html(make_doc(), mode="side-by-side")
    parser = check_html_is_inert(output)
    grid = output.split(">Text</p>", 1)[1]
    rows = re.findall(r"<tr><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>", grid)
    by_text = {html.unescape(re.sub(r"<[^>]+>", "", old + "|" + new)) for old, new in rows}
    assert "The toll rose to 12.|The toll rose to 15." in by_text
    assert "Officials declined to comment.|" in by_text
    assert "|A shelter opened." in by_text
    assert "Rain fell all day.|Rain fell all day." in by_text
    assert [tag for tag, _ in parser.tags].count("th") == 2  # one hunk, one header row


def test_html_context_moved_no_differences_and_rewrite() -> None:
    long_html = render_html(long_doc())
    assert "&hellip; 22 unchanged sentences" in long_html
    assert "Sentence 10." not in long_html
    assert "[moved from sentence 4]" in render_html(MOVED_DOC)
    assert "No differences between these versions." in render_html(NO_DIFF_DOC)
    for mode in ("inline", "side-by-side"):
        rewrite = render_html(TIMED_OUT_DOC, mode=mode)  # type: ignore[arg-type]
        assert "shown as a rewrite" in rewrite
        assert re.search(r"<del [^>]*>Rain fell all day\.</del>", rewrite)
        assert re.search(r"<ins [^>]*>Markets rallied\.</ins>", rewrite)


@given(ANY_TEXT)
def test_escaped_text_reads_back_as_written(value: str) -> None:
    parser = TagCollector()
    parser.feed(render_html(make_doc(title=value), full_document=False))
    parser.close()
    expected = re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f]", "\ufffd", value)
    assert expected in "".join(parser.text).replace("\r\n", "\n")


# Issue 14: HTML and email that read well (direction, wrapping, separation, contrast).

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
URDU_FEED = CORPORA / "real_feeds" / "miniflux" / "parser_testdata" / "urdu_UTF8.xml"
SIGNIFICANCE_DOCS = [make_doc(significance=s) for s in Significance]
ALL_DOCS = [*SIGNIFICANCE_DOCS, MOVED_DOC, NO_DIFF_DOC, TIMED_OUT_DOC, long_doc()]


def _plain(output: str) -> str:
    """The text a reader gets where a mail client drops every style."""
    parser = TagCollector()
    parser.feed(output)
    parser.close()
    return "".join(parser.text)


def test_deleted_and_inserted_runs_are_kept_apart() -> None:
    """ "12 15", not "1215", in the inline view, with and without its styles."""
    output = render_html(make_doc(), full_document=False)
    assert "The toll rose to 12 15." in _plain(output)
    assert re.search(r">12</del> <ins ", output)
    real = diff_versions(
        _version(1, "Eight people were hurt."), _version(2, "Six people were hurt.")
    )
    plain = _plain(render_html(make_doc(real.body.sentences, real.body.ops), full_document=False))
    assert "Eight Six people were hurt." in plain
    # Runs already apart stay single-spaced; side by side, each column has one side only.
    spaced = ((Op.EQUAL, "rose to "), (Op.DELETE, "12 "), (Op.INSERT, "15"), (Op.EQUAL, "."))
    assert word_diff(spaced) == re.sub(r"12 </del> <ins", "12 </del><ins", word_diff(spaced))
    assert "12 15" in _plain(word_diff(spaced)) and "12  15" not in _plain(word_diff(spaced))
    assert _plain(word_diff(real.body.sentences[0].ops, new=False)) == "Eight people were hurt."


@pytest.mark.parametrize("mode", ["inline", "side-by-side"])
def test_every_text_colour_has_aa_contrast(mode: str) -> None:
    """WCAG AA, 4.5:1, for every text colour the module writes, on its real background."""
    seen: set[str] = set()
    for doc in ALL_DOCS:
        for run in text_runs(render_html(doc, mode=mode)):  # type: ignore[arg-type]
            assert run.contrast >= 4.5, (run.text, run.look, round(run.contrast, 2))
            seen.add(run.look.color)
    declared = text_colors(inspect.getsource(html_module))
    declared |= set(html_module.SIGNIFICANCE_COLORS.values())
    assert declared <= seen, declared - seen  # every colour was checked


@pytest.mark.parametrize("mode", ["inline", "side-by-side"])
def test_long_words_and_urls_wrap_anywhere(mode: str) -> None:
    """A 300-character URL or word cannot widen a column: side by side fits 400 px."""
    word = "Donaudampfschifffahrtsgesellschaftskapitän" * 7
    url = "https://news.example/" + "x" * 300
    doc = make_doc(title=word, url=url)
    output = render_html(doc, mode=mode)  # type: ignore[arg-type]
    runs = text_runs(output)
    assert {run.look.overflow_wrap for run in runs} == {"anywhere"}
    assert any(url in run.text for run in runs) and any(word in run.text for run in runs)
    if mode == "side-by-side":
        assert "table-layout:fixed" in output.split(">Text</p>", 1)[1]


@pytest.mark.skipif(not URDU_FEED.is_file(), reason=f"real feed corpus not found: {URDU_FEED}")
@pytest.mark.parametrize("mode", ["inline", "side-by-side"])
def test_article_text_takes_its_own_direction_and_no_english_lang(mode: str) -> None:
    """Urdu from a real BBC feed: its blocks say dir="auto"; they do not inherit lang="en"."""
    entry = feedparser.parse(URDU_FEED.read_bytes()).entries[0]
    text = entry.summary
    assert "70 سالہ" in text
    old, new = _version(1, text, entry.title), _version(2, text.replace("70", "71"), entry.title)
    real = diff_versions(old, new)
    doc = replace(make_doc(real.body.sentences, real.body.ops, changes=()), title=entry.title)
    output = render_html(doc, mode=mode)  # type: ignore[arg-type]
    assert output.startswith('<!doctype html>\n<html lang="en">')  # the labels are English
    urdu = [
        run
        for run in text_runs(output)
        if re.search("[\u0600-\u06ff]", run.text) or run.text in ("70", "71")
    ]
    assert {run.text for run in urdu} >= {entry.title, "70", "71"}
    for run in urdu:
        assert (run.look.direction, run.look.lang) == ("auto", ""), run
    assert "70 71 سالہ" in _plain(output) or mode == "side-by-side"


def _version(number: int, text: str, title: str = "Storm") -> Version:
    return Version(
        article_id=7,
        number=number,
        content_hash=f"h{number}",
        text=text,
        fetched_at=OLD_TIME,
        url="https://example.com/storm",
        title=title,
    )
