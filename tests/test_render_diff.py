"""Renderings of a diff: terminal, plain text, HTML (inline and side by side) and JSON."""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import fields, replace
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console, RenderableType
from rich.style import Style

from monitor.diff import diff_versions
from monitor.models import (
    Classification,
    DiffDocument,
    DiffOp,
    DiffStats,
    FieldChange,
    Op,
    SentenceDiff,
    SentenceStatus,
    Significance,
    TextDiff,
    Version,
    VersionDiff,
)
from monitor.render.html import render_html
from monitor.render.hunks import body_sentences, old_text, paragraph_keys, select_hunks
from monitor.render.jsonout import SCHEMA_VERSION, diff_to_json
from monitor.render.terminal import render_terminal
from monitor.render.text import render_text

EQ, DEL, INS = Op.EQUAL, Op.DELETE, Op.INSERT
S = SentenceStatus
OLD_TIME = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
NEW_TIME = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)

# Old: "Rain fell all day. The toll rose to 12. Officials declined to comment.\n\n
#       Roads were closed."
# New: "Rain fell all day. The toll rose to 15.\n\nRoads were closed.\n\nA shelter opened."
EDIT_OPS: tuple[DiffOp, ...] = (
    (EQ, "Rain fell all day. The toll rose to "),
    (DEL, "12"),
    (INS, "15"),
    (EQ, "."),
    (DEL, " Officials declined to comment."),
    (EQ, "\n\nRoads were closed."),
    (INS, "\n\nA shelter opened."),
)
EDIT_SENTENCES = (
    SentenceDiff(S.UNCHANGED, "Rain fell all day.", "Rain fell all day.", 0, 0, 0),
    SentenceDiff(
        S.EDITED,
        "The toll rose to 12.",
        "The toll rose to 15.",
        1,
        1,
        0,
        ((EQ, "The toll rose to "), (DEL, "12"), (INS, "15"), (EQ, ".")),
        0.75,
    ),
    SentenceDiff(S.DELETED, "Officials declined to comment.", None, 2, None, 0, similarity=0.0),
    SentenceDiff(S.UNCHANGED, "Roads were closed.", "Roads were closed.", 3, 2, 1),
    SentenceDiff(S.ADDED, None, "A shelter opened.", None, 3, 2, similarity=0.0),
)
EDIT_STATS = DiffStats(4, 5, 1, 1, 1, 0, 0.7, 40)
HEADLINE_CHANGE = FieldChange("headline", "Storm kills 12", "Storm kills 15")


def make_doc(
    sentences: tuple[SentenceDiff, ...] = EDIT_SENTENCES,
    ops: tuple[DiffOp, ...] = EDIT_OPS,
    *,
    changes: tuple[FieldChange, ...] = (HEADLINE_CHANGE,),
    stats: DiffStats = EDIT_STATS,
    timed_out: bool = False,
    title: str | None = "Storm kills 15",
    url: str = "https://example.com/storm",
    feed: str | None = "Example News",
    tags: tuple[str, ...] = ("headline", "numbers"),
    significance: Significance = Significance.MAJOR,
    old_label: str = "v1",
    new_label: str = "v2",
) -> DiffDocument:
    return DiffDocument(
        diff=VersionDiff(changes, TextDiff(ops, sentences, stats, timed_out)),
        classification=Classification(significance, tags),
        title=title,
        url=url,
        old_label=old_label,
        new_label=new_label,
        feed=feed,
        article_id=7,
        old_version=1,
        new_version=2,
        old_time=OLD_TIME,
        new_time=NEW_TIME,
    )


def unchanged(text: str, index: int, paragraph: int) -> SentenceDiff:
    return SentenceDiff(S.UNCHANGED, text, text, index, index, paragraph)


def long_doc() -> DiffDocument:
    """30 sentences in paragraphs of five; sentence 3 edited, sentence 28 deleted."""
    sentences = [unchanged(f"Sentence {i}.", i, i // 5) for i in range(30)]
    sentences[2] = SentenceDiff(
        S.EDITED,
        "Sentence 2.",
        "Sentence two.",
        2,
        2,
        0,
        ((EQ, "Sentence "), (DEL, "2"), (INS, "two"), (EQ, ".")),
        0.5,
    )
    sentences[27] = SentenceDiff(S.DELETED, "Sentence 27.", None, 27, None, 5, similarity=0.0)
    return make_doc(tuple(sentences), ((DEL, "x"), (INS, "y")), changes=())


MOVED_DOC = make_doc(
    (
        unchanged("Rain fell all day.", 0, 0),
        SentenceDiff(S.MOVED, "Schools shut.", "Schools shut.", 3, 1, 0),
        SentenceDiff(S.UNCHANGED, "The toll rose.", "The toll rose.", 1, 2, 0),
        SentenceDiff(S.UNCHANGED, "Roads were closed.", "Roads were closed.", 2, 3, 0),
    ),
    (
        (EQ, "Rain fell all day."),
        (INS, " Schools shut."),
        (EQ, " The toll rose. Roads were closed."),
    ),
    changes=(),
    stats=DiffStats(sentences_moved=1),
    tags=(),
    significance=Significance.MINOR,
)
SAME_TEXT = "Rain fell all day.\n\nRoads were closed."
NO_DIFF_DOC = make_doc(
    (unchanged("Rain fell all day.", 0, 0), unchanged("Roads were closed.", 1, 1)),
    ((EQ, SAME_TEXT),),
    changes=(),
    stats=DiffStats(),
    tags=(),
    significance=Significance.COSMETIC,
)
REWRITE_OLD = "Rain fell all day.\n\nRoads were closed."
REWRITE_NEW = "Markets rallied.\n\nThe index rose 3%."
TIMED_OUT_DOC = make_doc(
    (),
    ((DEL, REWRITE_OLD), (INS, REWRITE_NEW)),
    changes=(),
    stats=DiffStats(6, 6, 2, 2, similarity=0.0, chars_changed=73),
    timed_out=True,
    tags=(),
    significance=Significance.REWRITE,
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

NASTY = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'><a href=javascript:alert(1)>x</a>",
    "[bold]x[/bold] [/] [link=https://evil]y[/link]",
)


def nasty_doc(url: str = "javascript:alert(1)", payloads: tuple[str, ...] = NASTY) -> DiffDocument:
    """Every text field of a document carries script, event-handler and markup payloads."""
    payload = " ".join(payloads)
    sentences = (
        unchanged(payload, 0, 0),
        SentenceDiff(
            S.EDITED,
            f"{payload} old.",
            f"{payload} new.",
            1,
            1,
            0,
            ((EQ, payload + " "), (DEL, NASTY[1]), (INS, NASTY[2]), (EQ, ".")),
            0.5,
        ),
        SentenceDiff(S.DELETED, payload, None, 2, None, 0, similarity=0.0),
        SentenceDiff(S.ADDED, None, payload, None, 2, 1, similarity=0.0),
        SentenceDiff(S.MOVED, payload, payload, 5, 3, 1, ((DEL, NASTY[0]), (INS, NASTY[2]))),
        SentenceDiff(S.EDITED, payload, payload + "!", 3, 4, 1, (), 0.9),
    )
    return make_doc(
        sentences,
        ((EQ, payload), (DEL, NASTY[0]), (INS, NASTY[1])),
        changes=(
            FieldChange("headline", NASTY[0], NASTY[1]),
            FieldChange(NASTY[2], None, "a new value"),
        ),
        title=payload,
        url=url,
        feed=payload,
        tags=payloads,
        old_label=NASTY[2],
        new_label=NASTY[1],
    )


# --- hunks ---------------------------------------------------------------------------------


def test_hunks_keep_changes_with_context_and_count_what_is_left_out() -> None:
    sentences = long_doc().diff.body.sentences
    hunks = select_hunks(sentences, context=1)
    assert [[s.old for s in h.sentences] for h in hunks] == [
        ["Sentence 1.", "Sentence 2.", "Sentence 3."],
        ["Sentence 26.", "Sentence 27.", "Sentence 28."],
    ]
    assert [(h.skipped_before, h.skipped_after) for h in hunks] == [(1, 0), (22, 1)]
    assert [h.label for h in hunks] == ["paragraph 1", "paragraph 6"]
    assert len(select_hunks(sentences, context=100)) == 1
    assert [len(h.sentences) for h in select_hunks(sentences, context=0)] == [1, 1]
    assert select_hunks(NO_DIFF_DOC.diff.body.sentences) == ()


def test_deleted_sentences_sit_inside_a_paragraph_or_between_paragraphs() -> None:
    # Between new paragraphs 0 and 1 and no old text to look at: its old paragraph number.
    keys = paragraph_keys(EDIT_SENTENCES)
    assert keys == (("new", 0), ("new", 0), ("old", 0), ("new", 1), ("new", 2))
    # The old text shows it ended the paragraph of the sentence before it.
    keys = paragraph_keys(EDIT_SENTENCES, old_text(EDIT_OPS))
    assert keys == (("new", 0), ("new", 0), ("new", 0), ("new", 1), ("new", 2))
    # Kept sentences on both sides in one paragraph: cut from its middle.
    assert paragraph_keys(long_doc().diff.body.sentences)[27] == ("new", 5)
    # A leading sentence joins the paragraph after it; a whole deleted paragraph stays apart.
    old = "Note here. Intro stays.\n\nGone para.\n\nBody stays."
    sentences = (
        SentenceDiff(S.DELETED, "Note here.", None, 0, None, 0, similarity=0.0),
        SentenceDiff(S.UNCHANGED, "Intro stays.", "Intro stays.", 1, 0, 0),
        SentenceDiff(S.DELETED, "Gone para.", None, 2, None, 1, similarity=0.0),
        SentenceDiff(S.UNCHANGED, "Body stays.", "Body stays.", 3, 1, 1),
    )
    assert paragraph_keys(sentences, old) == (("new", 0), ("new", 0), ("old", 1), ("new", 1))


def test_a_diff_without_alignment_is_shown_paragraph_by_paragraph() -> None:
    sentences = body_sentences(TIMED_OUT_DOC.diff.body)
    assert [(s.status, s.old or s.new) for s in sentences] == [
        (S.DELETED, "Rain fell all day."),
        (S.DELETED, "Roads were closed."),
        (S.ADDED, "Markets rallied."),
        (S.ADDED, "The index rose 3%."),
    ]


# --- text ----------------------------------------------------------------------------------


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


# --- terminal ------------------------------------------------------------------------------


def console() -> Console:
    return Console(record=True, width=100, color_system="truecolor", file=io.StringIO())


def segments(renderable: RenderableType) -> list[tuple[str, Style | None]]:
    out = console()
    return [(seg.text, seg.style) for seg in out.render(renderable)]


def styled(renderable: RenderableType, text: str) -> Style:
    """The style of the first segment that is exactly ``text``."""
    for chunk, style in segments(renderable):
        if chunk == text:
            assert style is not None
            return style
    raise AssertionError(f"no segment {text!r}")


def exported(renderable: RenderableType) -> str:
    out = console()
    out.print(renderable)
    return out.export_text()


def test_terminal_shows_header_fields_and_inline_word_diff() -> None:
    text = exported(render_terminal(make_doc()))
    for expected in (
        "Storm kills 15",
        "https://example.com/storm",
        "Example News",
        "v1 (2026-11-28 12:00 UTC)",
        "v2 (2026-11-28 13:05 UTC)",
        "MAJOR",
        "headline, numbers",
        "Headline: Storm kills 12 → Storm kills 15",
        "The toll rose to 1215.",
        "Officials declined to comment.",
        "A shelter opened.",
    ):
        assert expected in text
    renderable = render_terminal(make_doc())
    deleted, inserted = styled(renderable, "12"), styled(renderable, "15")
    assert deleted.strike and deleted.color is not None and deleted.color.name == "red"
    assert not inserted.strike and inserted.color is not None and inserted.color.name == "green"
    assert styled(renderable, "Officials declined to comment.").strike
    added = styled(renderable, "A shelter opened.")
    assert added.color is not None and added.color.name == "green"
    assert styled(renderable, "MAJOR").color is not None


def test_terminal_styles_reach_the_console_output() -> None:
    out = console()
    out.print(render_terminal(make_doc()))
    ansi = out.export_text(styles=True, clear=False)
    assert re.search(r"\x1b\[[0-9;]*\b9;31m12\x1b", ansi)  # strike + red
    assert re.search(r"\x1b\[[0-9;]*32m15\x1b", ansi)  # green
    assert "line-through" in out.export_html(inline_styles=True)


def test_terminal_context_moved_no_differences_and_rewrite() -> None:
    long_text = exported(render_terminal(long_doc(), context=1))
    assert "… 22 unchanged sentences" in long_text
    assert "Sentence 10." not in long_text
    moved = render_terminal(MOVED_DOC)
    assert "[moved from sentence 4] Schools shut." in exported(moved)
    assert styled(moved, "Schools shut.").color is not None
    assert "No differences between these versions." in exported(render_terminal(NO_DIFF_DOC))
    rewrite = exported(render_terminal(TIMED_OUT_DOC))
    assert "shown as a rewrite" in rewrite
    assert "Markets rallied." in rewrite


def test_terminal_shows_markup_in_article_text_literally() -> None:
    doc = nasty_doc()
    text = exported(render_terminal(doc))
    assert "[bold]x[/bold] [/] [link=https://evil]y[/link]" in text
    assert "<script>alert(1)</script>" in text
    # Had the markup been parsed, "x" and "y" would be segments of their own, "y" a link.
    rendered = segments(render_terminal(doc))
    assert any("[bold]x[/bold]" in chunk for chunk, _ in rendered)
    assert not [chunk for chunk, _ in rendered if chunk.strip() in ("x", "y")]
    assert not [style for _, style in rendered if style is not None and style.link]


# --- HTML ----------------------------------------------------------------------------------

ALLOWED_ELEMENTS = {
    "html",
    "head",
    "meta",
    "title",
    "body",
    "table",
    "tr",
    "th",
    "td",
    "p",
    "span",
    "strong",
    "del",
    "ins",
    "a",
}
ALLOWED_ATTRIBUTES = {
    ("html", "lang"),
    ("meta", "charset"),
    ("meta", "name"),
    ("meta", "content"),
    ("a", "href"),
}


class TagCollector(HTMLParser):
    """Every start tag and its attributes, plus the text, of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_html_is_inert(output: str) -> TagCollector:
    """Only allowlisted elements, only style (and fixed head/link) attributes, no handlers."""
    parser = TagCollector()
    parser.feed(output)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_ELEMENTS, tag
        for name, value in attrs:
            assert name == "style" or (tag, name) in ALLOWED_ATTRIBUTES, (tag, name)
            if name == "href":
                assert value is not None and re.match(r"https?://", value)
    links = [tag for tag, _ in parser.tags if tag == "a"]
    assert len(links) <= 1
    # Escaped text has no raw "<", so an event handler could only appear inside a real tag.
    assert not re.search(r"<[^>]*\son\w+\s*=", output, re.IGNORECASE)
    assert "<script" not in output.lower()
    return parser


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


# --- JSON ----------------------------------------------------------------------------------


def test_json_round_trips_and_rebuilds_both_texts() -> None:
    document = diff_to_json(make_doc())
    assert json.loads(json.dumps(document)) == document
    assert document["schema"] == SCHEMA_VERSION == 1
    assert list(document) == [
        "schema",
        "article_id",
        "feed",
        "url",
        "title",
        "old",
        "new",
        "significance",
        "tags",
        "stats",
        "fields",
        "timed_out",
        "ops",
        "sentences",
    ]
    assert document["old"] == {"label": "v1", "version": 1, "time": "2026-11-28T12:00:00+00:00"}
    assert document["significance"] == "major"
    assert list(document["stats"]) == [f.name for f in fields(DiffStats)]
    assert document["fields"] == [
        {"field": "headline", "old": "Storm kills 12", "new": "Storm kills 15"}
    ]
    ops = document["ops"]
    old = "".join(text for op, text in ops if op != 1)
    new = "".join(text for op, text in ops if op != -1)
    assert old == (
        "Rain fell all day. The toll rose to 12. Officials declined to comment.\n\n"
        "Roads were closed."
    )
    assert (
        new == "Rain fell all day. The toll rose to 15.\n\nRoads were closed.\n\nA shelter opened."
    )
    edited = document["sentences"][1]
    assert edited == {
        "status": "edited",
        "old": "The toll rose to 12.",
        "new": "The toll rose to 15.",
        "old_index": 1,
        "new_index": 1,
        "paragraph": 0,
        "similarity": 0.75,
        "ops": [[0, "The toll rose to "], [-1, "12"], [1, "15"], [0, "."]],
    }
    assert diff_to_json(TIMED_OUT_DOC)["timed_out"] is True


# --- properties ----------------------------------------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(NASTY)


@st.composite
def hostile_docs(draw: st.DrawFn) -> DiffDocument:
    words = st.lists(ANY_TEXT, max_size=4)
    sentences = []
    for i, status in enumerate(draw(st.lists(st.sampled_from(list(S)), max_size=6))):
        old = None if status == S.ADDED else draw(ANY_TEXT)
        new = None if status == S.DELETED else draw(ANY_TEXT)
        ops = tuple((draw(st.sampled_from(list(Op))), w) for w in draw(words))
        paragraph = draw(st.none() | st.integers(0, 3))
        sentences.append(SentenceDiff(status, old, new, i, i, paragraph, ops))
    body_ops = tuple((draw(st.sampled_from(list(Op))), w) for w in draw(words))
    changes = tuple(
        FieldChange(draw(ANY_TEXT), draw(st.none() | ANY_TEXT), draw(st.none() | ANY_TEXT))
        for _ in range(draw(st.integers(0, 2)))
    )
    return make_doc(
        tuple(sentences),
        body_ops,
        changes=changes,
        timed_out=draw(st.booleans()),
        title=draw(st.none() | ANY_TEXT),
        url=draw(ANY_TEXT | st.just("https://example.com/") | st.just("javascript:alert(1)")),
        feed=draw(st.none() | ANY_TEXT),
        tags=tuple(draw(words)),
        old_label=draw(ANY_TEXT),
        new_label=draw(ANY_TEXT),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=hostile_docs(), context=st.integers(-1, 3))
def test_any_input_renders_without_error_or_injection(doc: DiffDocument, context: int) -> None:
    for mode in ("inline", "side-by-side"):
        for full_document in (True, False):
            output = render_html(doc, mode, context, full_document)  # type: ignore[arg-type]
            check_html_is_inert(output)
    text = render_text(doc, context)
    assert text.endswith("\n")
    assert all(line == line.rstrip() for line in text.split("\n"))
    exported(render_terminal(doc, context))
    assert json.loads(json.dumps(diff_to_json(doc))) == diff_to_json(doc)


@given(ANY_TEXT)
def test_escaped_text_reads_back_as_written(value: str) -> None:
    parser = TagCollector()
    parser.feed(render_html(make_doc(title=value), full_document=False))
    parser.close()
    expected = re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f]", "\ufffd", value)
    assert expected in "".join(parser.text).replace("\r\n", "\n")


# --- real diffs from the diff engine ----------------------------------------------------------

OLD_BODY = (
    "Editor's note: updated. Rain fell all day. The toll rose to 12. Officials declined to "
    "comment.\n\nRoads were closed. Schools shut.\n\nMore details later."
)
NEW_BODY = (
    "Rain fell all day. Schools shut. The toll rose to 15.\n\nRoads were closed.\n\n"
    "A shelter opened <b>at noon</b>.\n\nMore details later."
)


def real_doc(old_body: str = OLD_BODY, new_body: str = NEW_BODY) -> DiffDocument:
    old = Version(7, 1, "a", old_body, OLD_TIME, "https://example.com/storm", title="Storm: 12")
    new = Version(7, 2, "b", new_body, NEW_TIME, "https://example.com/storm", title="Storm: 15")
    return DiffDocument(
        diff=diff_versions(old, new),
        classification=Classification(Significance.MAJOR, ("numbers",)),
        title=new.title,
        url=new.url,
        old_label="v1",
        new_label="v2",
        feed="Example News",
        article_id=7,
        old_version=1,
        new_version=2,
        old_time=OLD_TIME,
        new_time=NEW_TIME,
    )


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


def test_real_diff_renders_in_terminal_and_html_and_json() -> None:
    doc = real_doc()
    terminal = exported(render_terminal(doc))
    assert "A shelter opened <b>at noon</b>." in terminal
    assert "1215." in terminal  # the wrapped paragraph may break the line before it
    for mode in ("inline", "side-by-side"):
        output = render_html(doc, mode=mode)  # type: ignore[arg-type]
        check_html_is_inert(output)
        assert "A shelter opened &lt;b&gt;at noon&lt;/b&gt;." in output
        assert re.search(r"<del [^>]*>12</del>", output)
    document = json.loads(json.dumps(diff_to_json(doc)))
    assert "".join(text for op, text in document["ops"] if op != 1) == OLD_BODY
    assert "".join(text for op, text in document["ops"] if op != -1) == NEW_BODY
    assert document["fields"][0] == {"field": "headline", "old": "Storm: 12", "new": "Storm: 15"}


def test_real_identical_versions_have_no_differences() -> None:
    doc = real_doc(NEW_BODY, NEW_BODY)
    doc = replace(doc, diff=replace(doc.diff, fields=()))
    assert render_text(doc).endswith("\nNo differences between these versions.\n")


SENTENCE_POOL = (
    "Rain fell all day.",
    "The toll rose to 12.",
    "The toll rose to 15.",
    "Officials declined to comment.",
    "Roads were closed.",
    "A shelter opened.",
    "He said <script>alert(1)</script>.",
    'They wrote "><svg onload=alert(1)>.',
    "Markup [bold]x[/bold] and [/] stays.",
)


@st.composite
def article_bodies(draw: st.DrawFn) -> str:
    sentences = st.lists(st.sampled_from(SENTENCE_POOL) | ANY_TEXT, min_size=1, max_size=4)
    paragraphs = draw(st.lists(sentences, max_size=4))
    return "\n\n".join(" ".join(p) for p in paragraphs)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=article_bodies(), new=article_bodies())
def test_real_diffs_render_every_changed_sentence(old: str, new: str) -> None:
    doc = real_doc(old, new)
    text = render_text(doc, context=10**6)
    changed = any(s.status != S.UNCHANGED for s in doc.diff.body.sentences)
    for sentence in doc.diff.body.sentences if changed else ():
        if sentence.status in (S.ADDED, S.UNCHANGED) and sentence.new:
            assert text_line(sentence.new) in text
        if sentence.status == S.DELETED and sentence.old:
            assert text_line(sentence.old) in text
    for mode in ("inline", "side-by-side"):
        check_html_is_inert(render_html(doc, mode=mode))  # type: ignore[arg-type]
    exported(render_terminal(doc))
    document = diff_to_json(doc)
    assert "".join(text for op, text in document["ops"] if op != 1) == old
    assert "".join(text for op, text in document["ops"] if op != -1) == new


def text_line(sentence: str) -> str:
    """How a sentence appears in the text rendering: on one line, trailing space dropped."""
    return " ".join(sentence.splitlines()).rstrip()
