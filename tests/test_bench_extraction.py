"""The extraction bench (bench/extraction.py) scores what it says it scores (issue 15).

Its table decides whether extraction work meets the issue's targets, so its scorers are
checked on small built inputs, and its loading on the real trafilatura_eval set read from
``../shared/corpora`` (skipped, with the reason, where the corpus is absent).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench.extraction import (
    OURS,
    EvalPage,
    MetaGold,
    Reader,
    Reading,
    author_matches,
    gold_names,
    html_text,
    load_eval,
    local_day,
    lost_page,
    main,
    meta_matches,
    parse_day,
    read_timed,
    snippets_right,
)
from monitor.errors import ExtractError

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
EVAL = CORPORA / "trafilatura_eval"
needs_eval = pytest.mark.skipif(
    not (EVAL / "evaldata.json").is_file(), reason=f"trafilatura_eval corpus not found at {EVAL}"
)


def _page(wanted: tuple[str, ...], unwanted: tuple[str, ...]) -> EvalPage:
    return EvalPage("http://127.0.0.1/a", b"", wanted, unwanted, None)


def test_snippets_are_matched_with_whitespace_collapsed_on_both_sides() -> None:
    page = _page(("council  approved\nthe plan", "not there"), ("Impressum", "Share"))
    text = "The council approved\n\nthe plan on Tuesday.\nImpressum"
    # Found: the first wanted; absent: "Share". "not there" is missed, "Impressum" leaked.
    assert snippets_right(page, text) == 2
    assert snippets_right(page, "") == 2  # nothing extracted: every unwanted is absent


def test_the_day_is_the_pages_own_when_the_offset_is_kept_else_the_utc_day() -> None:
    vienna = timezone(timedelta(hours=1))
    kept = datetime(2021, 3, 3, 0, 30, tzinfo=vienna)
    assert local_day(kept) == date(2021, 3, 3)
    assert local_day(kept.astimezone(UTC)) == date(2021, 3, 2)
    assert local_day(None) is None


def test_gold_days_with_slips_still_name_one_day() -> None:
    assert parse_day("2019-08-02") == date(2019, 8, 2)
    assert parse_day("2022-11-1") == date(2022, 11, 1)
    assert parse_day("2019-05.22") == date(2019, 5, 22)
    assert parse_day("2022-29-11") == date(2022, 11, 29)  # month and day swapped
    assert parse_day("") is None


def test_author_needs_every_gold_name_in_the_byline() -> None:
    assert author_matches("By  jane DOE, Staff Writer", ("Jane Doe",))
    assert author_matches("Ann Lee; Bo Chan", ("Bo Chan", "Ann Lee"))
    assert not author_matches("Ann Lee", ("Bo Chan", "Ann Lee"))
    assert not author_matches(None, ("Ann Lee",))


def test_a_gold_author_string_naming_two_people_is_two_names() -> None:
    assert gold_names("Ann Lee and Bo Chan") == ("Ann Lee", "Bo Chan")
    assert gold_names(["Ann Lee; Bo Chan", "Cy Dee"]) == ("Ann Lee", "Bo Chan", "Cy Dee")
    assert gold_names("Ernst  und Sohn") == ("Ernst", "Sohn")
    assert gold_names("Alexandra Andersen") == ("Alexandra Andersen",)  # "and" inside a word
    assert author_matches("Ann Lee, Bo Chan", gold_names("Ann Lee & Bo Chan"))
    assert not author_matches("Ann Lee", gold_names("Ann Lee and Bo Chan"))


def test_metadata_without_gold_is_not_scored() -> None:
    gold = MetaGold(title="Harbour  plan", authors=(), day=None)
    reading = Reading(title="Harbour plan\n", author="Name", published=date(2020, 1, 1))
    assert meta_matches(gold, reading) == (True, None, None)
    wrong = MetaGold(title="Harbour plan", authors=("Ann Lee",), day=date(2020, 1, 2))
    assert meta_matches(wrong, reading) == (True, False, False)


def test_readability_html_keeps_words_of_adjacent_blocks_apart() -> None:
    text = html_text(
        "<div><p>first para<b>graph</b> ends</p><p>Second</p><ul><li>x</li></ul></div>"
    )
    assert text.split() == ["first", "paragraph", "ends", "Second", "x"]
    assert html_text("  ") == ""


def _raising(exc: Exception) -> Reader:
    def read(html: bytes, url: str, content_type: str) -> Reading:
        raise exc

    return Reader("raiser", read)


def test_extract_error_is_a_refusal_and_anything_else_a_crash() -> None:
    refused = read_timed(_raising(ExtractError("no article text found")), b"", "u")
    assert refused.refused and not refused.crashed and refused.error == "no article text found"
    crashed = read_timed(_raising(ValueError("bad")), b"", "u")
    assert crashed.crashed and crashed.error == "ValueError: bad"


def test_a_page_is_lost_when_ours_refused_and_a_reference_found_text() -> None:
    article = Reading(text="The council approved the harbour plan on Tuesday evening. " * 2)
    refused = Reading(refused=True, error="no article")
    both = {OURS: refused, "readability-lxml": article, "trafilatura": refused}
    assert lost_page("u", both) == "u (found by readability-lxml)"
    assert lost_page("u", {OURS: refused, "r": Reading(text="6 years ago")}) is None
    assert lost_page("u", {OURS: article, "r": article}) is None


@needs_eval
def test_every_gold_of_the_real_eval_set_loads() -> None:
    records = json.loads((EVAL / "evaldata.json").read_text(encoding="utf-8"))
    dated = [record["date"] for record in records.values() if record.get("date")]
    # The gold has typos (2022-29-11): each must still parse, none be dropped.
    assert len(dated) == 728
    assert all(parse_day(value) is not None for value in dated)
    pages = load_eval(EVAL, limit=40)
    assert len(pages) == 40 and all(page.html.lstrip()[:1] == b"<" for page in pages)


@needs_eval
def test_main_prints_the_table_for_our_extractor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--set", "eval", "--only", "ours", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "3 trafilatura_eval pages, 0 benchmark pages" in out
    row = next(line for line in out.splitlines() if line.startswith(OURS))
    assert float(row.split()[1]) > 0.5  # snippet accuracy of three real pages


def test_main_names_a_missing_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--set", "eval", "--eval-corpus", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err
