"""Every rendering of one diff: any input renders safely, real diffs show every change."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.models import DiffDocument
from monitor.render.html import render_html
from monitor.render.jsonout import diff_to_json
from monitor.render.terminal import render_terminal
from monitor.render.text import render_text
from tests.render.documents import (
    NEW_BODY,
    OLD_BODY,
    S,
    article_bodies,
    check_html_is_inert,
    exported,
    hostile_docs,
    real_doc,
    text_line,
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
