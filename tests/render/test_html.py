"""The HTML rendering of a diff: inert for any input, inline and side by side."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given

from monitor.render.html import render_html
from tests.render.documents import (
    ANY_TEXT,
    MOVED_DOC,
    NASTY,
    NO_DIFF_DOC,
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
