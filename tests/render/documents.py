"""Diff documents to render, hostile ones among them, and helpers to inspect the output.

Shared by the tests of every rendering in tests/render/ (moved from tests/test_render_diff.py)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

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
    "bdi",
}


ALLOWED_ATTRIBUTES = {
    ("html", "lang"),
    ("meta", "charset"),
    ("meta", "name"),
    ("meta", "content"),
    ("a", "href"),
    # Article text: dir="auto" lang="" (render/html.py ARTICLE_TEXT)
    ("p", "dir"),
    ("p", "lang"),
    ("td", "dir"),
    ("td", "lang"),
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


def text_line(sentence: str) -> str:
    """How a sentence appears in the text rendering: on one line, trailing space dropped."""
    return " ".join(sentence.splitlines()).rstrip()
