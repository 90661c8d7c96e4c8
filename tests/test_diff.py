"""Word diff, sentence splitting and alignment, statistics and version diffs."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor import diff as diff_module
from monitor.diff import (
    align_sentences,
    diff_texts,
    diff_versions,
    split_sentences,
    tokenize,
    word_diff,
)
from monitor.feeds import parse_feed
from monitor.models import DiffOp, Op, SentenceStatus, Version
from monitor.normalize import normalize_text

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_c6811b779e006353.txt"
REAL_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "real_feeds"

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text built from pieces that exercise the tokenizer: words, numbers, abbreviations,
# punctuation, runs of whitespace and line breaks, non-Latin scripts and astral characters.
PIECES = st.sampled_from(
    [
        "the", "The", "cat", "sat", "30,000", "3.5", "U.S.", "don’t", "Mr.", "J.",
        " ", "  ", "\n", "\n\n", "\t", ".", ",", "!", "?", "…", "“", "”", "'", "-", "—",
        "हिन्दी", "naïve", "日本語", "。", "😀", "e\u0301", "_", "%", "(", ")",
        "680元", "ひらがな", "「", "」", "۔", "॥",
    ]
)  # fmt: skip
TEXTS = st.one_of(st.text(), st.lists(PIECES, max_size=60).map("".join))


def old_side(ops: tuple[DiffOp, ...]) -> str:
    return "".join(text for op, text in ops if op != Op.INSERT)


def new_side(ops: tuple[DiffOp, ...]) -> str:
    return "".join(text for op, text in ops if op != Op.DELETE)


def seed_text() -> str:
    """The seed story, one paragraph per line, in our normalized form (blank-line breaks)."""
    return "\n\n".join(line for line in SEED.read_text(encoding="utf-8").splitlines() if line)


def statuses(text_old: str, text_new: str) -> list[SentenceStatus]:
    return [sentence.status for sentence in align_sentences(text_old, text_new)]


# --- tokenize ---------------------------------------------------------------------------------


def test_tokenize_keeps_numbers_abbreviations_and_contractions_whole() -> None:
    tokens = tokenize("In the U.S., 30,000 people (3.5%) don’t vote.\n\nNext")
    assert tokens == [
        "In", " ", "the", " ", "U.S.", ",", " ", "30,000", " ", "people", " ", "(", "3.5",
        "%", ")", " ", "don’t", " ", "vote", ".", "\n\n", "Next",
    ]  # fmt: skip


def test_tokenize_keeps_combining_marks_inside_words() -> None:
    assert tokenize("हिन्दी भाषा") == ["हिन्दी", " ", "भाषा"]


@FAST
@given(TEXTS)
def test_tokenize_round_trips_and_matches_the_plain_regex(text: str) -> None:
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert all(tokens)
    cjk = diff_module._CJK.search(text) is not None
    assert tokens == diff_module._token_pattern(cjk).findall(text)


def whole(text: str) -> tuple[list[str], list[tuple[int, int, int]]]:
    return tokenize(text), diff_module._sentence_spans(text)


def assert_prepared_as_whole(old: str, new: str) -> None:
    pair = diff_module._Prepared.of(old, new)
    assert (pair.old_tokens, pair.old_spans) == whole(old)
    assert (pair.new_tokens, pair.new_spans) == whole(new)


@FAST
@given(TEXTS, TEXTS, TEXTS, TEXTS)
def test_prepared_pair_shares_lines_yet_equals_each_text_worked_out_whole(
    head: str, old_middle: str, new_middle: str, tail: str
) -> None:
    # Shared heads and tails cut anywhere, line breaks, blank lines and spaces around them.
    assert_prepared_as_whole(head + old_middle + tail, head + new_middle + tail)
    assert_prepared_as_whole(old_middle, new_middle)


@FAST
@given(st.data())
def test_prepared_pair_of_an_edited_article_equals_each_text_worked_out_whole(
    data: st.DataObject,
) -> None:
    paragraphs = seed_text().split("\n\n")
    edited = list(paragraphs)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(edited) - 1))
        edit = data.draw(st.sampled_from(["word", "insert", "delete", "split", "indent"]))
        if edit == "word":
            words = edited[at].split(" ")
            words[data.draw(st.integers(0, len(words) - 1))] = data.draw(TEXTS)
            edited[at] = " ".join(words)
        elif edit == "insert":
            edited.insert(at, data.draw(TEXTS))
        elif edit == "delete" and len(edited) > 1:
            del edited[at]
        elif edit == "split":
            edited[at] = edited[at].replace(". ", ".\n", 1)
        else:
            edited[at] = " " + edited[at]
    assert_prepared_as_whole("\n\n".join(paragraphs), "\n\n".join(edited))


def test_tokenize_takes_chinese_and_japanese_one_character_at_a_time() -> None:
    assert tokenize("一起出7枚680元，iPhone新款") == [
        "一", "起", "出", "7", "枚", "680", "元", "，", "iPhone", "新", "款",
    ]  # fmt: skip
    assert tokenize("価格は3.5万円です") == ["価", "格", "は", "3.5", "万", "円", "で", "す"]
    assert tokenize("한국어 문장") == ["한국어", " ", "문장"]  # Korean has spaces: words stay


def real_feed_summaries(path: str) -> list[str]:
    """The entry texts of a feed of the real-feeds corpus, normalized as stored."""
    if not REAL_FEEDS.is_dir():
        pytest.skip(f"real feeds corpus not found at {REAL_FEEDS}")
    feed = parse_feed((REAL_FEEDS / path).read_bytes(), f"https://{path}")
    return [normalize_text(entry.summary) for entry in feed.entries]


def test_chinese_edit_from_a_real_feed_is_shown_character_by_character() -> None:
    # A gb2312 forum feed: "一起出7枚680元，包真包老。" The price edited, 680 -> 650.
    text = next(t for t in real_feed_summaries("netnewswire-rsparser/kc0011.rss") if "680元" in t)
    edited = text.replace("680元", "650元")
    ops, _ = word_diff(text, edited)
    assert [op for op in ops if op[0] != Op.EQUAL] == [(Op.DELETE, "680"), (Op.INSERT, "650")]
    [sentence] = [s for s in align_sentences(text, edited) if s.status != SentenceStatus.UNCHANGED]
    assert sentence.status == SentenceStatus.EDITED
    assert sentence.old == "35周年1套520，华表60一个，和平鸽20一个 一起出7枚680元，包真包老。"
    assert [op for op in sentence.ops if op[0] != Op.EQUAL] == [
        (Op.DELETE, "680"),
        (Op.INSERT, "650"),
    ]
    assert diff_texts(text, edited).stats.chars_changed == 6


def test_japanese_edit_inside_a_clause_is_character_level() -> None:
    old = "東京都は来年度の予算を680億円とする方針を固めた。"
    new = "東京都は来年度の予算を650億円とする方針を決めた。"
    ops, _ = word_diff(old, new)
    assert [op for op in ops if op[0] != Op.EQUAL] == [
        (Op.DELETE, "680"), (Op.INSERT, "650"), (Op.DELETE, "固"), (Op.INSERT, "決"),
    ]  # fmt: skip


# --- word_diff ----------------------------------------------------------------------------


def test_one_number_changed_is_one_delete_and_one_insert() -> None:
    ops, timed_out = word_diff(
        "deport up to 30,000 undocumented immigrants", "deport up to 40,000 undocumented immigrants"
    )
    assert not timed_out
    assert ops == (
        (Op.EQUAL, "deport up to "),
        (Op.DELETE, "30,000"),
        (Op.INSERT, "40,000"),
        (Op.EQUAL, " undocumented immigrants"),
    )


def test_replaced_phrase_reads_as_whole_words() -> None:
    ops, _ = word_diff("The quick brown fox jumps.", "The slow red fox jumps.")
    assert ops == (
        (Op.EQUAL, "The "),
        (Op.DELETE, "quick brown"),
        (Op.INSERT, "slow red"),
        (Op.EQUAL, " fox jumps."),
    )


def test_whitespace_only_change() -> None:
    ops, _ = word_diff("one two three", "one  two three")
    assert ops == ((Op.EQUAL, "one"), (Op.DELETE, " "), (Op.INSERT, "  "), (Op.EQUAL, "two three"))
    result = diff_texts("one two three", "one  two three")
    assert result.stats.words_added == result.stats.words_removed == 0
    assert result.stats.similarity == 1.0
    assert result.stats.chars_changed == 3
    [sentence] = result.sentences
    assert sentence.status == SentenceStatus.EDITED
    assert sentence.similarity == 1.0


def test_adjacent_edits_merge_into_one_delete_then_one_insert() -> None:
    ops, _ = word_diff("a b c d", "a x y d")
    kinds = [op for op, _ in ops]
    assert kinds == [Op.EQUAL, Op.DELETE, Op.INSERT, Op.EQUAL]


@FAST
@given(TEXTS, TEXTS)
def test_ops_reconstruct_both_texts(old: str, new: str) -> None:
    ops, timed_out = word_diff(old, new)
    assert old_side(ops) == old
    assert new_side(ops) == new
    assert all(text for _, text in ops)
    assert all(isinstance(op, Op) for op, _ in ops)
    # Merged: never two ops of a kind in a row, and an insertion never before a deletion.
    pairs = list(pairwise(ops))
    assert all(a[0] != b[0] for a, b in pairs)
    assert not any(a[0] == Op.INSERT and b[0] == Op.DELETE for a, b in pairs)
    assert not timed_out


@FAST
@given(TEXTS)
def test_text_against_itself_is_all_equal(text: str) -> None:
    result = diff_texts(text, text)
    assert all(op == Op.EQUAL for op, _ in result.ops)
    assert all(s.status == SentenceStatus.UNCHANGED for s in result.sentences)
    assert result.stats.similarity == 1.0
    assert result.stats.chars_changed == 0


def long_texts() -> tuple[str, str]:
    words = [f"w{i % 997}x{i % 13}" for i in range(20_000)]
    old = " ".join(words)
    new = " ".join(word if i % 7 else "changed" for i, word in enumerate(words))
    return old, new


def test_time_limit_gives_a_coarse_but_exact_diff() -> None:
    old, new = long_texts()
    ops, timed_out = word_diff("keep " + old + " tail", "keep " + new + " tail", timeout=1e-9)
    assert timed_out
    assert ops[0] == (Op.EQUAL, "keep ")
    assert ops[-1] == (Op.EQUAL, " tail")
    assert [op for op, _ in ops[1:-1]] == [Op.DELETE, Op.INSERT]
    assert old_side(ops) == "keep " + old + " tail"
    assert new_side(ops) == "keep " + new + " tail"


def test_time_limit_in_diff_texts_still_aligns_sentences() -> None:
    old = "First sentence stays. Second one is here. Third closes."
    new = "First sentence stays. Second one was here. Third closes."
    result = diff_texts(old, new, timeout=1e-9)
    assert result.timed_out
    assert old_side(result.ops) == old
    assert new_side(result.ops) == new
    assert len(result.sentences) >= 3


@FAST
@given(TEXTS, TEXTS)
def test_timed_out_diffs_still_reconstruct(old: str, new: str) -> None:
    ops, _ = word_diff(old, new, timeout=1e-9)
    assert old_side(ops) == old
    assert new_side(ops) == new


def test_pure_python_fallback_when_the_extension_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = word_diff("up to 30,000 people", "up to 40,000 people")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no extension")

    monkeypatch.setattr(diff_module, "_FAST_DIFF", broken)
    assert word_diff("up to 30,000 people", "up to 40,000 people") == expected
    old, new = edited_story(1)
    ops, timed_out = word_diff(old, new)
    assert (old_side(ops), new_side(ops), timed_out) == (old, new, False)


def test_pure_python_fallback_without_the_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diff_module, "_FAST_DIFF", None)
    result = diff_texts("A cat sat. It purred.", "A dog sat. It purred.")
    assert result.stats.words_added == result.stats.words_removed == 1


def test_seventy_thousand_distinct_words() -> None:
    # More distinct tokens than the Basic Multilingual Plane has code points.
    old = " ".join(f"word{i}" for i in range(70_000))
    new = old.replace("word500 ", "changed ").replace("word69000", "last")
    ops, timed_out = word_diff(old, new)
    assert not timed_out
    assert (old_side(ops), new_side(ops)) == (old, new)
    assert [text for op, text in ops if op != Op.EQUAL] == [
        "word500",
        "changed",
        "word69000",
        "last",
    ]


def test_too_many_distinct_tokens_fall_back_to_a_coarse_diff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(diff_module, "_MAX_DISTINCT_TOKENS", 3)
    ops, timed_out = word_diff("a b c d e", "a b x d e")
    assert timed_out
    assert (old_side(ops), new_side(ops)) == ("a b c d e", "a b x d e")


# --- split_sentences ----------------------------------------------------------------------


def test_split_sentences_by_paragraph_and_terminal() -> None:
    text = "First one. Second one!\n\nThird? “Quoted.” Fourth…  Fifth 2024 ends."
    assert split_sentences(text) == [
        (0, "First one."),
        (0, "Second one!"),
        (1, "Third?"),
        (1, "“Quoted.”"),
        (1, "Fourth…"),
        (1, "Fifth 2024 ends."),
    ]


def test_split_sentences_skips_abbreviations_initials_and_decimals() -> None:
    text = (
        "Mr. Smith met Dr. Jones on Jan. 6 in St. Louis. J. R. Smith paid 3.5 dollars in "
        "the U.S. Senate. It rose to No. 1 today. Apple Inc. Then fell."
    )
    assert [sentence for _, sentence in split_sentences(text)] == [
        "Mr. Smith met Dr. Jones on Jan. 6 in St. Louis.",
        "J. R. Smith paid 3.5 dollars in the U.S. Senate.",
        "It rose to No. 1 today.",
        "Apple Inc.",
        "Then fell.",
    ]


def test_split_sentences_needs_a_capital_after_the_stop() -> None:
    assert split_sentences("He said no. and left. “Go,” she said.") == [
        (0, "He said no. and left."),
        (0, "“Go,” she said."),
    ]


def test_split_sentences_quotes_of_several_sentences_split_inside() -> None:
    # Documented choice: a quotation split at its inner full stop, like any text.
    text = "“There are legalities involved. We have a constitution,” Rubio said."
    assert [s for _, s in split_sentences(text)] == [
        "“There are legalities involved.",
        "We have a constitution,” Rubio said.",
    ]


def test_split_sentences_at_urdu_full_stops_of_a_real_feed() -> None:
    # BBC Urdu: each entry's summary is one sentence ending in "۔"; an article body is
    # sentences like these in a row.
    summaries = real_feed_summaries("miniflux/parser_testdata/urdu_UTF8.xml")[:5]
    assert all(summary.endswith("۔") for summary in summaries)
    assert [s for _, s in split_sentences(" ".join(summaries))] == summaries


def test_split_sentences_at_chinese_and_japanese_marks_without_spaces() -> None:
    # A real Chinese entry: three sentences, no space between them.
    text = next(t for t in real_feed_summaries("netnewswire-rsparser/kc0011.rss") if "1880" in t)
    assert [s for _, s in split_sentences(text)] == [
        "着急的不用确认。", "最快明天发货上班没时间。", "1880包邮。", "先款",
    ]  # fmt: skip
    # A quotation closed and followed by a particle goes on with the sentence.
    japanese = "彼は「明日は雨でしょう。」と言った。本当？はい！「次へ。」"
    assert [s for _, s in split_sentences(japanese)] == [
        "彼は「明日は雨でしょう。」と言った。", "本当？", "はい！", "「次へ。」",
    ]  # fmt: skip


def test_split_sentences_at_devanagari_double_danda() -> None:
    text = "पहली पंक्ति॥ दूसरी पंक्ति। तीसरी"
    assert [s for _, s in split_sentences(text)] == ["पहली पंक्ति॥", "दूसरी पंक्ति।", "तीसरी"]


def test_split_sentences_caseless_scripts_and_single_line_breaks() -> None:
    assert split_sentences("पहला वाक्य। दूसरा वाक्य।\nNext line") == [
        (0, "पहला वाक्य।"),
        (0, "दूसरा वाक्य।"),
        (1, "Next line"),
    ]
    assert split_sentences("") == []
    assert split_sentences(" \n\n ") == []


@FAST
@given(TEXTS)
def test_sentences_are_in_order_and_cover_the_visible_text(text: str) -> None:
    sentences = split_sentences(text)
    assert "".join("".join(s.split()) for _, s in sentences) == "".join(text.split())
    assert [p for p, _ in sentences] == sorted(p for p, _ in sentences)
    assert all(s and s == s.strip() and "\n" not in s for _, s in sentences)


# --- align_sentences ----------------------------------------------------------------------

PARAGRAPHS = [
    "The council met on Tuesday. It approved the harbour budget.",
    "Residents objected to the tram line. They gathered outside the hall.",
    "The mayor promised a new vote. No date was set.",
]


def test_identical_texts_are_all_unchanged() -> None:
    text = "\n\n".join(PARAGRAPHS)
    result = diff_texts(text, text)
    assert result.ops == ((Op.EQUAL, text),)
    assert [s.status for s in result.sentences] == [SentenceStatus.UNCHANGED] * 6
    assert result.stats == type(result.stats)()


def test_inserted_paragraph_is_added_sentences() -> None:
    old = "\n\n".join(PARAGRAPHS)
    inserted = "Police closed the road. Traffic was diverted."
    new = "\n\n".join([PARAGRAPHS[0], inserted, *PARAGRAPHS[1:]])
    result = diff_texts(old, new)
    assert [s.status for s in result.sentences] == [
        SentenceStatus.UNCHANGED,
        SentenceStatus.UNCHANGED,
        SentenceStatus.ADDED,
        SentenceStatus.ADDED,
        *[SentenceStatus.UNCHANGED] * 4,
    ]
    added = [s for s in result.sentences if s.status == SentenceStatus.ADDED]
    assert [(s.new, s.paragraph, s.new_index, s.old) for s in added] == [
        ("Police closed the road.", 1, 2, None),
        ("Traffic was diverted.", 1, 3, None),
    ]
    assert result.stats.sentences_added == 2
    assert result.stats.words_added == 7
    assert result.stats.words_removed == 0


def test_deleted_paragraph_is_deleted_sentences_in_place() -> None:
    old = "\n\n".join(PARAGRAPHS)
    new = "\n\n".join([PARAGRAPHS[0], PARAGRAPHS[2]])
    result = diff_texts(old, new)
    assert [(s.status, s.old_index) for s in result.sentences] == [
        (SentenceStatus.UNCHANGED, 0),
        (SentenceStatus.UNCHANGED, 1),
        (SentenceStatus.DELETED, 2),
        (SentenceStatus.DELETED, 3),
        (SentenceStatus.UNCHANGED, 4),
        (SentenceStatus.UNCHANGED, 5),
    ]
    deleted = result.sentences[2]
    assert (deleted.new, deleted.paragraph, deleted.new_index) == (None, 1, None)
    assert result.stats.sentences_removed == 2


def test_sentence_moved_to_the_end_is_moved_and_nothing_else() -> None:
    old = "Alpha opens the story. Beta is second. Gamma follows. Delta closes."
    new = "Alpha opens the story. Gamma follows. Delta closes. Beta is second."
    sentences = align_sentences(old, new)
    assert [(s.status, s.new) for s in sentences] == [
        (SentenceStatus.UNCHANGED, "Alpha opens the story."),
        (SentenceStatus.UNCHANGED, "Gamma follows."),
        (SentenceStatus.UNCHANGED, "Delta closes."),
        (SentenceStatus.MOVED, "Beta is second."),
    ]
    moved = sentences[-1]
    assert (moved.old_index, moved.new_index, moved.ops, moved.similarity) == (1, 3, (), 1.0)
    stats = diff_texts(old, new).stats
    assert (stats.sentences_moved, stats.sentences_added, stats.sentences_removed) == (1, 0, 0)


def test_moved_and_edited_sentence_carries_its_ops() -> None:
    old = "Alpha opens the story. Beta is the second sentence here. Gamma follows. Delta ends."
    new = "Alpha opens the story. Gamma follows. Delta ends. Beta is the second line here."
    moved = [s for s in align_sentences(old, new) if s.status == SentenceStatus.MOVED]
    assert len(moved) == 1
    assert (moved[0].old, moved[0].new) == (
        "Beta is the second sentence here.",
        "Beta is the second line here.",
    )
    assert (Op.DELETE, "sentence") in moved[0].ops
    assert (Op.INSERT, "line") in moved[0].ops
    assert 0.5 <= moved[0].similarity < 1.0


def test_edited_sentence_has_word_ops_and_similarity() -> None:
    old = "\n\n".join(PARAGRAPHS)
    new = old.replace("approved the harbour budget", "rejected the harbour budget")
    sentences = align_sentences(old, new)
    edited = [s for s in sentences if s.status == SentenceStatus.EDITED]
    assert len(edited) == 1
    assert edited[0].ops == (
        (Op.EQUAL, "It "),
        (Op.DELETE, "approved"),
        (Op.INSERT, "rejected"),
        (Op.EQUAL, " the harbour budget."),
    )
    assert edited[0].similarity == pytest.approx(2 * 4 / 10)
    assert sum(s.status == SentenceStatus.UNCHANGED for s in sentences) == 5


def test_rewritten_sentence_is_deleted_and_added() -> None:
    old = "The council met. Nothing at all happened yesterday evening."
    new = "The council met. Fireworks lit up the sky over the harbour."
    assert statuses(old, new) == [
        SentenceStatus.UNCHANGED,
        SentenceStatus.DELETED,
        SentenceStatus.ADDED,
    ]


def test_seed_story_with_realistic_edits() -> None:
    old = seed_text()
    paragraphs = old.split("\n\n")
    paragraphs[11] = paragraphs[11].replace("30,000", "40,000")
    del paragraphs[4]
    paragraphs.insert(1, "The White House did not respond to a request for comment.")
    new = "\n\n".join(paragraphs)
    result = diff_texts(old, new)
    assert (old_side(result.ops), new_side(result.ops)) == (old, new)
    counts = result.stats
    assert (counts.sentences_added, counts.sentences_removed, counts.sentences_edited) == (1, 1, 1)
    assert counts.sentences_moved == 0
    edited = next(s for s in result.sentences if s.status == SentenceStatus.EDITED)
    assert [(op, text) for op, text in edited.ops if op != Op.EQUAL] == [
        (Op.DELETE, "30,000"),
        (Op.INSERT, "40,000"),
    ]
    added = next(s for s in result.sentences if s.status == SentenceStatus.ADDED)
    assert added.paragraph == 1
    deleted = next(s for s in result.sentences if s.status == SentenceStatus.DELETED)
    assert (
        deleted.old
        == "He did not even say that it would be legal to do so in the case of US citizens."
    )
    assert 0.9 < counts.similarity < 1.0


@FAST
@given(TEXTS, TEXTS)
def test_alignment_accounts_for_every_sentence_once(old: str, new: str) -> None:
    sentences = align_sentences(old, new)
    old_sentences = [s for _, s in split_sentences(old)]
    new_sentences = [s for _, s in split_sentences(new)]
    assert sorted(s.old_index for s in sentences if s.old_index is not None) == list(
        range(len(old_sentences))
    )
    assert [s.new_index for s in sentences if s.new_index is not None] == list(
        range(len(new_sentences))
    )
    for sentence in sentences:
        if sentence.old_index is not None:
            assert sentence.old == old_sentences[sentence.old_index]
        if sentence.new_index is not None:
            assert sentence.new == new_sentences[sentence.new_index]
        if sentence.status in (SentenceStatus.EDITED, SentenceStatus.MOVED) and sentence.ops:
            assert old_side(sentence.ops) == sentence.old
            assert new_side(sentence.ops) == sentence.new
        if sentence.status == SentenceStatus.UNCHANGED:
            assert sentence.old == sentence.new


def edited_story(seed: int) -> tuple[str, str]:
    """The seed story, and a copy with a few words and sentences changed, swapped, dropped."""
    import random

    rng = random.Random(seed)
    old = seed_text()
    sentences = [s for _, s in split_sentences(old)]
    changed = list(sentences)
    for _ in range(3):
        at = rng.randrange(len(changed))
        words = changed[at].split(" ")
        words[rng.randrange(len(words))] = "edited"
        changed[at] = " ".join(words)
    a, b = rng.sample(range(len(changed)), 2)
    changed[a], changed[b] = changed[b], changed[a]
    del changed[rng.randrange(len(changed))]
    return old, " ".join(changed)


@pytest.mark.parametrize("seed", range(20))
def test_alignment_of_an_edited_story_reconstructs(seed: int) -> None:
    old, new = edited_story(seed)
    result = diff_texts(old, new)
    assert (old_side(result.ops), new_side(result.ops)) == (old, new)
    for sentence in result.sentences:
        if sentence.ops:
            assert (old_side(sentence.ops), new_side(sentence.ops)) == (sentence.old, sentence.new)
    assert result.stats.sentences_removed >= 1


# --- stats and versions -------------------------------------------------------------------


def test_stats_of_empty_and_new_texts() -> None:
    assert diff_texts("", "").stats.similarity == 1.0
    assert diff_texts("", "").ops == ()
    stats = diff_texts("", "Two words.").stats
    assert (stats.words_added, stats.sentences_added, stats.similarity) == (2, 1, 0.0)
    assert stats.chars_changed == len("Two words.")


def test_stats_count_words_not_punctuation() -> None:
    stats = diff_texts("He left, quietly.", "He left quietly!").stats
    assert (stats.words_added, stats.words_removed) == (0, 0)
    assert stats.similarity == 1.0
    assert stats.chars_changed == len(",") + len(".") + len("!")


def version(**fields: object) -> Version:
    base: dict[str, object] = {
        "article_id": 1,
        "number": 1,
        "content_hash": "x",
        "text": "Body text here.",
        "fetched_at": datetime(2026, 1, 1, tzinfo=UTC),
        "url": "https://example.com/a",
    }
    base.update(fields)
    return Version(**base)  # type: ignore[arg-type]


def test_diff_versions_lists_only_changed_fields() -> None:
    old = version(
        title="Old headline", byline="A. Writer", published=datetime(2026, 1, 1, tzinfo=UTC)
    )
    new = version(
        number=2,
        title="New headline",
        byline="A. Writer",
        published=datetime(2026, 1, 2, tzinfo=UTC),
        canonical_url="https://example.com/b",
        text="Body text there.",
    )
    result = diff_versions(old, new)
    assert [(f.field, f.old, f.new) for f in result.fields] == [
        ("headline", "Old headline", "New headline"),
        ("published", "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"),
        ("canonical_url", None, "https://example.com/b"),
    ]
    assert result.body.stats.words_added == 1
    assert not result.empty


def test_diff_versions_of_equal_versions_is_empty() -> None:
    result = diff_versions(version(title="Same"), version(number=2, title="Same"))
    assert result.fields == ()
    assert result.empty


def test_a_date_read_back_in_another_offset_is_not_a_field_change() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from monitor.diff import diff_versions
    from monitor.models import Version

    local = datetime(2021, 3, 3, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    old = Version(1, 1, "a", "Text.", local, "u", published=local.astimezone(UTC))
    new = Version(1, 2, "b", "Text.", local, "u", published=local)
    assert diff_versions(old, new).fields == ()
    later = Version(1, 3, "c", "Text.", local, "u", published=local + timedelta(days=1))
    [field] = diff_versions(new, later).fields
    assert (field.field, field.old, field.new) == (
        "published",
        "2021-03-03T00:30:00+01:00",
        "2021-03-04T00:30:00+01:00",
    )
