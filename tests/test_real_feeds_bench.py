"""The real-feeds bench (bench/real_feeds.py) perturbs what it says and counts honestly.

Its figures are only worth reading if round 2's documents differ from round 1's by the
perturbation alone (same GUIDs and links, the edit where the engine reads it, summaries
really gone) and if its counts are those of the corpus files; these tests check both on
the real files of ``../shared/corpora/real_feeds`` (issue 14).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.real_feeds import (
    DROP_EVERY,
    EDIT_SUFFIX,
    choose_edit,
    load_corpus,
    parse,
    perturb,
    run_all,
    separate,
    swap_typography,
    totals,
)

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
needs_corpus = pytest.mark.skipif(
    not (CORPORA / "real_feeds" / "INVENTORY.tsv").is_file(),
    reason=f"real_feeds corpus not found under {CORPORA}",
)
NBSP = "\u00a0"


def test_typography_swaps_both_ways_and_leaves_markup_alone() -> None:
    straight = 'He said "no" - it\'s over...'
    curly = f"He{NBSP}said “no” – it’s over…"
    assert swap_typography(straight) == curly
    assert swap_typography("“Yes” — it’s done…") == f'"Yes"{NBSP}- it\'s done...'
    # Attribute quotes inside escaped HTML stay straight: only the text is retyped.
    assert swap_typography('<a href="x">"a b"</a>') == f'<a href="x">“a{NBSP}b”</a>'


def test_a_hyphen_inside_a_word_is_not_a_dash() -> None:
    assert swap_typography("well-known") == "well-known"


@needs_corpus
def test_perturbation_of_every_real_feed_keeps_identities_and_reaches_the_engine() -> None:
    feeds, _, _ = load_corpus(CORPORA)
    assert len(feeds) > 100
    problems, edits, dropped = [], 0, 0
    for feed in feeds:
        # verify() has read the perturbed document back through the engine's parser: a
        # problem names a changed GUID or link, a summary left in, an edit not read.
        perturbed = perturb(feed.body, f"http://127.0.0.1/{feed.name}")
        if perturbed.problem:
            problems.append(f"{feed.name}: {perturbed.problem}")
        if perturbed.edit is not None:
            edits += 1
            assert perturbed.edit.text.endswith(EDIT_SUFFIX.strip()), feed.name
        dropped += perturbed.dropped
    assert problems == []
    assert edits > 100
    assert dropped > 300


@needs_corpus
def test_the_edited_entry_has_a_title_and_keeps_its_summary() -> None:
    feeds, _, _ = load_corpus(CORPORA, "scriptingNews")
    before = parse(feeds[0].body, feeds[0].name)
    perturbed = perturb(feeds[0].body, "http://127.0.0.1/scriptingNews.rss")
    assert perturbed.edit is not None and perturbed.edit.field == "title"
    chosen = choose_edit(before, "title")
    assert chosen is not None and chosen % DROP_EVERY != DROP_EVERY - 1
    assert before[chosen].title and perturbed.edit.text == before[chosen].title + EDIT_SUFFIX


@needs_corpus
def test_copies_in_the_corpus_run_in_separate_stores() -> None:
    feeds, _, _ = load_corpus(CORPORA, "rss-parser/input/")
    groups = separate(feeds)
    where = {feed.name: n for n, group in enumerate(groups) for feed in group}
    # xml2js-options.rss is a byte-for-byte copy of rss-1.rss.
    assert where["rss-parser/input/rss-1.rss"] != where["rss-parser/input/xml2js-options.rss"]
    for group in groups:
        links = [link for feed in group for link in feed.links]
        assert len(links) == len(set(links))


@needs_corpus
def test_bench_counts_the_guids_of_real_feeds_and_measures_both_rounds(tmp_path: Path) -> None:
    feeds, _, _ = load_corpus(CORPORA, "netnewswire-rsparser/")
    chosen = [f for f in feeds if f.name.endswith(("scriptingNews.rss", "DaringFireball.rss"))]
    run = run_all(chosen, tmp_path)
    figures = {r.name.rsplit("/", 1)[1]: r for r in run.results}
    # 50 entries, two of which repeat another's GUID; 47 entries, one a sponsor post with
    # the link of the post beside it but a GUID of its own.
    assert figures["scriptingNews.rss"].guids == 48
    assert figures["DaringFireball.rss"].guids == 47
    for result in run.results:
        assert result.perturbed.edit is not None
        assert result.perturbed.dropped > 0
        assert 0 < result.tracked <= result.guids
    lines = totals(run, verbose=False)
    assert lines[-3].startswith("  tracked = GUIDs in every feed: ")
    assert lines[-1].endswith((" MET", " NOT MET"))
