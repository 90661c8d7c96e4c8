"""The plain-text rendering of a diff."""

from __future__ import annotations

import re
from dataclasses import replace

from monitor.models import SentenceDiff
from monitor.render.html import render_html
from monitor.render.terminal import render_terminal
from monitor.render.text import render_text
from tests.render.documents import (
    DEL,
    EQ,
    HEADLINE_CHANGE,
    INS,
    MOVED_DOC,
    NEW_BODY,
    NO_DIFF_DOC,
    TIMED_OUT_DOC,
    S,
    exported,
    long_doc,
    make_doc,
    real_doc,
)

EXPECTED_TEXT = """\
Storm kills 15
URL: https://example.com/storm
Feed: Example News, article 7
--- v1 (2026-11-28 12:00 UTC)
+++ v2 (2026-11-28 13:05 UTC)
Significance: major; tags: headline, numbers
Changes: +4 words, -5 words; sentences: 1 added, 1 removed, 1 edited, 0 moved; 70% similar

@@ Headline @@
- Storm kills 12
+ Storm kills 15

@@ paragraph 1 @@
  Rain fell all day.
- The toll rose to [-12-].
+ The toll rose to {+15+}.
- Officials declined to comment.

@@ paragraph 2 @@
  Roads were closed.

@@ paragraph 3 @@
+ A shelter opened.
"""


def test_text_rendering_is_exact() -> None:
    assert render_text(make_doc()) == EXPECTED_TEXT


def test_text_marks_left_out_sentences_and_paragraph_headers() -> None:
    text = render_text(long_doc(), context=1)
    assert text.split("Changes: ", 1)[1].split("\n", 1)[1] == (
        "\n"
        "… 1 unchanged sentence\n"
        "\n"
        "@@ paragraph 1 @@\n"
        "  Sentence 1.\n"
        "- Sentence [-2-].\n"
        "+ Sentence {+two+}.\n"
        "  Sentence 3.\n"
        "\n"
        "… 22 unchanged sentences\n"
        "\n"
        "@@ paragraph 6 @@\n"
        "  Sentence 26.\n"
        "- Sentence 27.\n"
        "  Sentence 28.\n"
        "\n"
        "… 1 unchanged sentence\n"
    )
    everything = render_text(long_doc(), context=50)
    assert "…" not in everything
    assert everything.count("@@ paragraph") == 6
    assert "  Sentence 0.\n" in everything


def test_text_moved_no_differences_and_rewrite() -> None:
    assert "> (moved from sentence 4) Schools shut.\n" in render_text(MOVED_DOC)
    none = render_text(NO_DIFF_DOC)
    assert none.endswith("\nNo differences between these versions.\n")
    assert "@@" not in none
    rewrite = render_text(TIMED_OUT_DOC)
    assert "shown as a rewrite" in rewrite
    assert "- Rain fell all day.\n" in rewrite
    assert "+ The index rose 3%.\n" in rewrite


def test_text_with_only_field_changes_says_the_body_is_unchanged() -> None:
    doc = replace(NO_DIFF_DOC, diff=replace(NO_DIFF_DOC.diff, fields=(HEADLINE_CHANGE,)))
    text = render_text(doc)
    assert "@@ Headline @@\n- Storm kills 12\n+ Storm kills 15\n\nBody text unchanged.\n" in text


def test_a_change_between_sentences_only_is_called_so() -> None:
    doc = replace(NO_DIFF_DOC, diff=replace(NO_DIFF_DOC.diff, fields=(HEADLINE_CHANGE,)))
    spaced = replace(doc.diff.body, ops=((EQ, "Rain fell all day."), (DEL, "\n\n"), (INS, " ")))
    doc = replace(doc, diff=replace(doc.diff, body=spaced))
    note = "Only spacing or paragraph breaks changed in the body text."
    assert render_text(doc).endswith(f"\n{note}\n")
    assert note in exported(render_terminal(doc))
    assert note in render_html(doc)


def test_text_keeps_every_line_prefixed_even_with_line_breaks_in_sentences() -> None:
    doc = make_doc((SentenceDiff(S.ADDED, None, "one\ntwo\r\nthree\u2028four  ", None, 0, 0),))
    assert "+ one two three four\n" in render_text(doc)


def test_real_diff_renders_as_text() -> None:
    text = render_text(real_doc())
    body = text.split("\n\n", 1)[1]
    assert body.startswith("@@ Headline @@\n- Storm: 12\n+ Storm: 15\n")
    assert "- The toll rose to [-12-].\n+ The toll rose to {+15+}.\n" in text
    assert "- Editor's note: updated.\n  Rain fell all day.\n" in text  # same paragraph
    assert "- Officials declined to comment.\n" in text
    assert "+ A shelter opened <b>at noon</b>.\n" in text
    assert re.search(r"^> \(moved from sentence \d+\) Schools shut\.$", text, re.MULTILINE)
    assert "@@ paragraph 1 @@" in text and "@@ paragraph 3 @@" in text


def test_real_identical_versions_have_no_differences() -> None:
    doc = real_doc(NEW_BODY, NEW_BODY)
    doc = replace(doc, diff=replace(doc.diff, fields=()))
    assert render_text(doc).endswith("\nNo differences between these versions.\n")
