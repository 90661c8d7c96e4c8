"""Hunks: which sentences of a body diff are shown, grouped by paragraph."""

from __future__ import annotations

from monitor.models import SentenceDiff
from monitor.render.hunks import body_sentences, old_text, paragraph_keys, select_hunks
from tests.render.documents import EDIT_OPS, EDIT_SENTENCES, NO_DIFF_DOC, TIMED_OUT_DOC, S, long_doc


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
