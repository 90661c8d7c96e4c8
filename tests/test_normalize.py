"""URL and text normalization, and what the content hash does and does not notice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.models import Page
from monitor.normalize import (
    compile_ignore,
    content_hash,
    hash_normalized,
    is_canonical,
    normalize_text,
    normalize_url,
    typography_fold,
)

# Pieces that make normalizing a text do something: every kind of whitespace and line
# break, invisible characters, a decomposed accent, a compatibility ligature.
_PIECES = ["a", "Zb", " ", "  ", "\n", "\n\n", "\n\n\n", "\t", "\r", "\r\n", "\x0b", "\x0c"]
_PIECES += ["\x1c", "\x85", "\xa0", "\u2007", "\u2028", "\u3000", "\u200b", "\xad", "\ufeff"]
_PIECES += ["e\u0301", "\u00e9", "\ufb01", ".", "\u201c"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("HTTPS://Example.COM/Path/Keeps/Case", "https://example.com/Path/Keeps/Case"),
        ("https://example.com", "https://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a?", "https://example.com/a"),
        (
            "https://example.com/a?utm_source=rss&utm_medium=feed&id=7&UTM_Campaign=x",
            "https://example.com/a?id=7",
        ),
        (
            "https://example.com/a?b=2&fbclid=IwAR0&a=1&gclid=xyz&c=3",
            "https://example.com/a?b=2&a=1&c=3",
        ),
        (
            "https://example.com/a?dclid=1&msclkid=2&mc_cid=3&mc_eid=4&igshid=5&_ga=6&yclid=7",
            "https://example.com/a",
        ),
        ("https://example.com/a?ref_src=twsrc&cmpid=rss&CMP=share_btn_tw", "https://example.com/a"),
        ("https://example.com/a?xtor=RSS-3208&page=2", "https://example.com/a?page=2"),
        ("https://example.com/a?q=a%20b&x=1+2&&utm_term=z", "https://example.com/a?q=a%20b&x=1+2"),
        ("https://example.com/a?ref=home", "https://example.com/a?ref=home"),
        ("https://user:pw@Example.com:8080/a", "https://user:pw@example.com:8080/a"),
        ("https://[2001:DB8::1]:443/a", "https://[2001:db8::1]/a"),
        ("https://Bücher.example/straße", "https://bücher.example/straße"),
        ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
        ("https://example.com./a", "https://example.com/a"),
        ("  https://example.com/a \n", "https://example.com/a"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "odd",
    [
        "",
        "   ",
        "not a url",
        "/relative/path",
        "mailto:desk@example.com",
        "ftp://example.com/f",
        "https://example.com:port/a",
        "https://[::1/a",
        "https://",
        "http:///path",
        "\x00\ud800",
    ],
)
def test_normalize_url_returns_odd_input_stripped(odd: str) -> None:
    assert normalize_url(f" {odd} ") == odd.strip()


def test_normalize_url_is_idempotent() -> None:
    url = "HTTP://Example.com:80?utm_source=a&b=1#x"
    once = normalize_url(url)
    assert once == "http://example.com/?b=1"
    assert normalize_url(once) == once


def test_normalize_text_nfc_and_whitespace() -> None:
    decomposed = "Cafe\u0301  au   lait\tcosts\u00a0\u00a03\u202f€.\r\nSame  paragraph."
    assert normalize_text(decomposed) == "Café au lait costs 3 €. Same paragraph."


def test_normalize_text_paragraphs() -> None:
    text = "\n\n  First para\nstill first.  \n\n\n\n \t \nSecond.\r\n\r\nThird.\n\n\n"
    assert normalize_text(text) == "First para still first.\n\nSecond.\n\nThird."


def test_normalize_text_removes_invisible_characters() -> None:
    text = "\ufeffzero\u200bwidth soft\u00adhyphen word\u2060joiner"
    assert normalize_text(text) == "zerowidth softhyphen wordjoiner"


def test_normalize_text_keeps_zero_width_joiners() -> None:
    persian = "می\u200cخواهم"  # ZWNJ changes how the word renders
    assert normalize_text(persian) == persian


def test_normalize_text_empty() -> None:
    assert normalize_text("") == ""
    assert normalize_text(" \n\n \u200b \n") == ""


SEED_STYLE = (
    "Prime Minister Ana Brnabić said on Monday that the government would present its plan.\n\n"
    "The opposition rejected the proposal.\n\n"
    "Watch NBS news on YouTube and follow us on Instagram and Twitter!"
)


def test_ignore_pattern_removes_trailing_boilerplate_line() -> None:
    expected = (
        "Prime Minister Ana Brnabić said on Monday that the government would present its plan."
        "\n\nThe opposition rejected the proposal."
    )
    assert normalize_text(SEED_STYLE, [r"^Watch NBS news on YouTube.*$"]) == expected


def test_ignore_pattern_inside_a_paragraph_leaves_clean_spacing() -> None:
    text = "The vote passed. (Advertisement) Turnout was high.\n\nRead more: other story"
    ignore = [r"\(Advertisement\)", r"^Read more:.*$"]
    assert normalize_text(text, ignore) == "The vote passed. Turnout was high."


def test_ignore_patterns_see_canonical_whitespace() -> None:
    text = "Body.\n\nWatch   NBS\u00a0news on\nYouTube now"
    assert normalize_text(text, [r"^Watch NBS news on YouTube.*$"]) == "Body."


def test_compile_ignore_is_cached() -> None:
    patterns = (r"^a$", r"b+")
    assert compile_ignore(patterns) is compile_ignore(patterns)


ARTICLE = (
    "The city council approved the budget on Tuesday.\n\n"
    "Bus fares will be frozen for two years.\n\n"
    "A final vote is expected next month."
)


def test_hash_is_sha256_hex() -> None:
    digest = content_hash("Title", "Jane Reporter", ARTICLE)
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_hash_stable_under_whitespace_and_invisible_noise() -> None:
    noisy = (
        "  The city council approved\u00a0the budget on Tuesday. \r\n\r\n\r\n"
        "Bus fares will be\n frozen for two\u200b years.\n\n  \n"
        "A final vote is expected next month.\n\n"
    )
    assert content_hash(" Title ", "Jane  Reporter", noisy) == content_hash(
        "Title", "Jane Reporter", ARTICLE
    )


def test_hash_changed_by_one_word_edit() -> None:
    edited = ARTICLE.replace("two years", "three years")
    assert content_hash("Title", None, edited) != content_hash("Title", None, ARTICLE)


def test_hash_changed_by_headline_or_byline_change() -> None:
    base = content_hash("Council approves budget", "Jane Reporter", ARTICLE)
    assert content_hash("Council rejects budget", "Jane Reporter", ARTICLE) != base
    assert content_hash("Council approves budget", "John Editor", ARTICLE) != base


def test_hash_changed_by_paragraph_split() -> None:
    split = ARTICLE.replace("Bus fares will be frozen", "Bus fares will be\n\nfrozen")
    assert content_hash(None, None, split) != content_hash(None, None, ARTICLE)


def test_hash_fields_do_not_bleed_into_each_other() -> None:
    assert content_hash("A", "B C", "D") != content_hash("A B", "C", "D")
    assert content_hash(None, None, "text") == content_hash("", "", "text")


def test_hash_unchanged_by_date_only_change() -> None:
    # Dates are not an input: a page whose only change is a bumped "modified" stamp keeps its
    # hash. The extractor puts dates in Page fields, never in the body text.
    base = Page(title="T", paragraphs=tuple(ARTICLE.split("\n\n")), byline="B")
    bumped = Page(
        title="T",
        paragraphs=base.paragraphs,
        byline="B",
        published=datetime(2024, 4, 30, tzinfo=UTC),
        modified=datetime(2024, 5, 1, tzinfo=UTC),
    )
    assert content_hash(bumped.title, bumped.byline, bumped.text) == content_hash(
        base.title, base.byline, base.text
    )


def test_hash_honours_ignore_patterns() -> None:
    with_boilerplate = ARTICLE + "\n\nWatch NBS news on YouTube!"
    ignore = [r"^Watch NBS news on YouTube.*$"]
    assert content_hash("T", None, with_boilerplate, ignore=ignore) == content_hash(
        "T", None, ARTICLE
    )
    assert content_hash("T", None, with_boilerplate) != content_hash("T", None, ARTICLE)


@pytest.mark.parametrize(
    ("title", "byline", "text", "feed_title"),
    [
        ("Budget\u00a0passes", " By  Ana ", "One.\r\n\r\nTwo\u200b words.", "Budget passes!"),
        (None, None, "", None),
        ("T", "", "  Para one.\n\n\n Para\ttwo. ", ""),
    ],
)
def test_hash_normalized_equals_content_hash_of_the_normalized_fields(
    title: str | None, byline: str | None, text: str, feed_title: str | None
) -> None:
    def norm(value: str | None) -> str:
        return normalize_text(value or "")

    assert hash_normalized(norm(title), norm(byline), norm(text), norm(feed_title)) == (
        content_hash(title, byline, text, feed_title=feed_title)
    )


# --- typography (issue 14: typography is not an edit) -------------------------------------


@pytest.mark.parametrize(
    ("plain", "typeset"),
    [
        ('He said "no way" today.', "He said “no way” today."),
        ('He said "no way" today.', "He said „no way“ today."),
        ('He said "no way" today.', "He said «no way» today."),
        ("It's 'fine'.", "It’s ‘fine’."),
        ("It's fine.", "It\u02bcs fine."),  # modifier letter apostrophe
        ("1990-1995", "1990–1995"),
        ("pages 10-12", "pages 10‐12"),  # U+2010 hyphen
        ("well-known", "well\u2011known"),  # non-breaking hyphen
        ("minus -5 degrees", "minus −5 degrees"),
        ("a - b", "a — b"),
        ("a - b", "a—b"),
        ("a - b", "a -- b"),
        ("Wait...", "Wait…"),
        ("5 km", "5\u00a0km"),
        ("5 km", "5\u2009km"),
        ("30 000", "30\u202f000"),
        ("5 km", "5\u2007km"),
        ("hyphenation", "hy\u00adphen\u00adation"),
        ("zerowidth", "zero\u200bwidth"),
        ("finance", "ﬁnance"),
        ("ABC 123", "ＡＢＣ １２３"),
        ("3 km2", "3 km²"),
        ('"quoted"', "「quoted」"),
    ],
)
def test_typography_fold_makes_typographic_variants_equal(plain: str, typeset: str) -> None:
    assert typography_fold(typeset) == typography_fold(plain)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("30,000", "40,000"),
        ("don't", "dont"),
        ("well-known", "well known"),
        ('"no way"', "no way"),
        ("Paris", "paris"),  # case is not typography
        ("one\n\ntwo", "one two"),  # nor is a paragraph break
        ("a - b", "a, b"),
    ],
)
def test_typography_fold_keeps_real_differences(one: str, other: str) -> None:
    assert typography_fold(one) != typography_fold(other)


def test_typography_fold_leaves_plain_text_alone() -> None:
    text = "The council met on Tuesday.\n\nIt approved 3.5 million, she said."
    assert typography_fold(text) == text


def test_hash_keeps_typography_so_stored_versions_keep_their_hashes() -> None:
    # The stored text is evidence and the hash of every stored version must survive an
    # upgrade (issue 14): typography is folded when versions are compared, never hashed away.
    typeset = "He said: “We’ll see…” Costs rose 5\u00a0%.\n\nNext paragraph – ﬁnal."
    digest = content_hash("“Don’t panic” — council", "Jo Smith", typeset, feed_title="‘wait’")
    assert digest == "e60482fc653ac7831a1499e139f3a039d001b6ae5ab6bcfcab32a42cbf25c37a"
    plain = 'He said: "We\'ll see..." Costs rose 5 %.\n\nNext paragraph - final.'
    assert content_hash(None, None, plain) != content_hash(None, None, typeset)


@given(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join))
def test_a_canonical_text_is_told_apart_and_comes_back_as_it_is(text: str) -> None:
    canonical = normalize_text(text)
    assert is_canonical(canonical)
    assert normalize_text(canonical) == canonical
    # Told canonical only when normalizing it changes nothing: the shortcut is exact.
    assert is_canonical(text) == (canonical == text)


@pytest.mark.parametrize(
    "text",
    ["", "One.", "One.\n\nTwo words.", "caf\u00e9 \u201cquoted\u201d"],
)
def test_canonical_texts(text: str) -> None:
    assert is_canonical(text) and normalize_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        " lead",
        "trail ",
        "two  spaces",
        "a\nb",
        "a \n\nb",
        "a\n\n b",
        "a\n\n\nb",
        "tab\there",
        "nbsp\xa0here",
        "zero\u200bwidth",
        "cafe\u0301",
        "line\u2028break",
    ],
)
def test_texts_that_are_not_canonical(text: str) -> None:
    assert not is_canonical(text) and normalize_text(text) != text
