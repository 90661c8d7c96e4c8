"""The pure decision on a fetch: table-driven, no store, no network, time passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.compare import compare_with_rules
from monitor.config import FLIP_FLOP_TAG, ClassifyRules
from monitor.decide import (
    PAGE_UNAVAILABLE,
    PAGES_NOT_FETCHED,
    SHARED_PAGE,
    Held,
    NewVersion,
    Unchanged,
    carried_validators,
    carry_missing,
    classified,
    decide,
    entry_changed,
    feed_baseline,
    feed_failed,
    feed_fetched,
    feed_title_changed,
    identify_entries,
    is_shared,
    moved,
    normalized,
    page_baseline,
    redirected_home,
    source_note,
    version_from_entry,
)
from monitor.errors import FetchError, HTTPStatusError
from monitor.models import (
    Article,
    ChangeKind,
    FeedEntry,
    FeedState,
    FetchResult,
    TextSource,
    Validators,
    Version,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CONFIRM = timedelta(minutes=15)
LONG = " ".join(f"word{i}" for i in range(200))
BLOCK = "Just a moment... Checking your browser before accessing the site."


def article(**changes: object) -> Article:
    base = Article(
        id=7,
        feed="news",
        url="https://example.org/a",
        current_url="https://example.org/a",
        first_seen=NOW - timedelta(days=1),
        last_in_feed=NOW,
        title="Old title",
        versions=1,
        next_check=NOW + timedelta(hours=1),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def version(text: str, number: int = 0, source: TextSource = TextSource.PAGE) -> Version:
    raw = Version(7, number, "", text, NOW, "https://example.org/a", source, title="Title")
    return normalized(raw, ())


def entry(title: str = "Feed title", summary: str = "Summary from the feed.") -> FeedEntry:
    return FeedEntry(guid=None, link="https://example.org/a", title=title, summary=summary)


LATEST = replace(version(LONG), number=1)
EDITED = version(LONG + " and one more sentence")


@pytest.mark.parametrize(
    ("name", "art", "latest", "candidate", "expected"),
    [
        ("same content", article(), LATEST, version(LONG), Unchanged),
        ("an edit", article(), LATEST, EDITED, NewVersion),
        ("first capture", article(versions=0), None, version(LONG), NewVersion),
        ("block page first seen", article(), LATEST, version(BLOCK), Held),
        ("collapse first seen", article(), LATEST, version("word0 word1 word2"), Held),
        (
            "block page seen again too soon",
            article(suspect_hash=version(BLOCK).content_hash, suspect_since=NOW - CONFIRM / 2),
            LATEST,
            version(BLOCK),
            Held,
        ),
        (
            "block page confirmed after the minimum time",
            article(suspect_hash=version(BLOCK).content_hash, suspect_since=NOW - CONFIRM),
            LATEST,
            version(BLOCK),
            NewVersion,
        ),
        (
            "another suspect page restarts the wait",
            article(suspect_hash="other", suspect_since=NOW - 2 * CONFIRM),
            LATEST,
            version(BLOCK),
            Held,
        ),
        (
            "a block page from the feed is not judged",
            article(),
            LATEST,
            version(BLOCK, 0, TextSource.FEED),
            NewVersion,
        ),
    ],
)
def test_decide_outcomes(
    name: str, art: Article, latest: Version | None, candidate: Version, expected: type
) -> None:
    decision = decide(art, latest, candidate, NOW, CONFIRM)
    assert isinstance(decision, expected), name


def test_unchanged_after_a_suspect_fetch_counts_a_swing() -> None:
    art = article(suspect_hash="x", suspect_since=NOW, swings=1)
    decision = decide(art, LATEST, version(LONG), NOW, CONFIRM)
    assert isinstance(decision, Unchanged)
    assert decision.article.swings == 2
    assert decision.article.suspect_hash is None and decision.article.suspect_since is None
    assert decision.warnings == (
        "https://example.org/a: extraction swings between fetches (2 times); check this page",
    )


def test_unchanged_leaves_the_article_alone() -> None:
    art = article()
    decision = decide(art, LATEST, version(LONG), NOW, CONFIRM)
    assert decision == Unchanged(art)


def test_held_forgets_validators_and_comes_back_when_it_can_confirm() -> None:
    art = article(
        etag='"e"', last_modified="Mon", body_hash="b", next_check=NOW + timedelta(days=1)
    )
    decision = decide(art, LATEST, version(BLOCK), NOW, CONFIRM)
    assert isinstance(decision, Held)
    held = decision.article
    assert (held.etag, held.last_modified, held.body_hash) == (None, None, None)
    assert held.suspect_hash == version(BLOCK).content_hash and held.suspect_since == NOW
    assert held.next_check == NOW + CONFIRM
    assert "suspect fetch (it looks like a block" in decision.warnings[0]
    assert "not stored unless a fetch after 2026-12-04 12:15:00 UTC" in decision.warnings[0]


def test_held_keeps_a_sooner_scheduled_check() -> None:
    art = article(next_check=NOW + timedelta(minutes=5))
    decision = decide(art, LATEST, version(BLOCK), NOW, CONFIRM)
    assert decision.article.next_check == NOW + timedelta(minutes=5)


def test_seen_again_keeps_the_first_time() -> None:
    first = NOW - timedelta(minutes=5)
    art = article(suspect_hash=version(BLOCK).content_hash, suspect_since=first)
    decision = decide(art, LATEST, version(BLOCK), NOW, CONFIRM)
    assert isinstance(decision, Held)
    assert decision.article.suspect_since == first
    assert "seen again; " in decision.warnings[0]


def test_new_version_numbers_and_titles() -> None:
    decision = decide(article(swings=1), LATEST, EDITED, NOW, CONFIRM)
    assert isinstance(decision, NewVersion)
    assert decision.version.number == 2 and decision.previous is LATEST
    assert decision.article.versions == 2 and decision.article.title == "Title"
    change = decision.change
    assert (change.kind, change.version, change.detected_at, change.detail) == (
        ChangeKind.NEW,
        2,
        NOW,
        None,
    )


def test_confirmed_suspect_says_so() -> None:
    art = article(suspect_hash=version(BLOCK).content_hash, suspect_since=NOW - CONFIRM)
    decision = decide(art, LATEST, version(BLOCK), NOW, CONFIRM)
    assert isinstance(decision, NewVersion)
    assert decision.change.detail == "confirmed after a suspect fetch"
    assert decision.article.suspect_hash is None


def test_new_article_behind_a_wall_takes_the_feed_text() -> None:
    art = article(versions=0)
    from_feed = version("The feed's own summary.", 0, TextSource.FEED)
    decision = decide(art, None, version(BLOCK), NOW, CONFIRM, lambda: from_feed)
    assert isinstance(decision, NewVersion)
    assert decision.version.source == TextSource.FEED and decision.version.number == 1
    assert decision.change.detail == "text from the feed entry (page unavailable)"
    assert decision.warnings == (
        "https://example.org/a: it looks like a block, challenge, paywall or error page; "
        "using the feed entry's text",
    )


def test_new_article_behind_a_wall_without_an_entry_is_held() -> None:
    assert isinstance(decide(article(versions=0), None, version(BLOCK), NOW, CONFIRM), Held)


@pytest.mark.parametrize(
    ("source", "latest_source", "note"),
    [
        (TextSource.FEED, None, "text from the feed entry (page unavailable)"),
        (
            TextSource.PAGE,
            TextSource.FEED,
            "first capture of the page; the earlier version came from the feed entry",
        ),
        (TextSource.PAGE, TextSource.PAGE, None),
        (TextSource.PAGE, None, None),
    ],
)
def test_source_note(
    source: TextSource, latest_source: TextSource | None, note: str | None
) -> None:
    latest = replace(LATEST, source=latest_source) if latest_source else None
    assert source_note(source, latest) == note


def _document(old: Version, new: Version):  # type: ignore[no-untyped-def]
    return compare_with_rules(article(), old, new, ClassifyRules().thresholds(), NOW)


def test_classified_changed_and_reverted() -> None:
    new = replace(EDITED, number=2)
    base = decide(article(), LATEST, EDITED, NOW, CONFIRM)
    assert isinstance(base, NewVersion)
    document = _document(LATEST, new)
    changed = classified(base.change, LATEST, document, None, False)
    assert changed.kind == ChangeKind.CHANGED and changed.previous_version == 1
    assert changed.significance == document.classification.significance
    assert changed.stats == document.diff.body.stats
    earlier = replace(new, number=1)
    reverted = classified(base.change, LATEST, document, earlier, False)
    assert (reverted.kind, reverted.reverted_to, reverted.detail) == (
        ChangeKind.REVERTED,
        1,
        "identical to v1",
    )
    assert FLIP_FLOP_TAG not in reverted.tags
    flipped = classified(base.change, LATEST, document, earlier, True)
    assert FLIP_FLOP_TAG in flipped.tags


def result(status: int = 200, etag: str | None = None, modified: str | None = None) -> FetchResult:
    return FetchResult("u", "u", status, {}, b"", NOW, etag=etag, last_modified=modified)


@pytest.mark.parametrize(
    ("previous", "fetched", "kept"),
    [
        (Validators('"a"', "Mon"), result(200, '"b"', None), Validators('"b"', None)),
        (Validators('"a"', "Mon"), result(200), Validators()),
        (Validators('"a"', "Mon"), result(304), Validators('"a"', "Mon")),
        (Validators('"a"', "Mon"), result(304, '"b"'), Validators('"b"', "Mon")),
    ],
)
def test_carried_validators(previous: Validators, fetched: FetchResult, kept: Validators) -> None:
    assert carried_validators(previous, fetched) == kept


@pytest.mark.parametrize(
    ("url", "final", "home"),
    [
        ("https://x.org/story", "https://x.org/", True),
        ("https://x.org/story", "https://x.org", True),
        ("https://x.org/", "https://x.org/", False),
        ("https://x.org/story", "https://x.org/other", False),
    ],
)
def test_redirected_home(url: str, final: str, home: bool) -> None:
    assert redirected_home(url, final) is home


def test_moved_only_to_another_address() -> None:
    art = article(canonical_url="https://example.org/canonical")
    assert moved(art, "https://example.org/a", "redirected", NOW) == []
    assert moved(art, "https://example.org/canonical", "redirected", NOW) == []
    [event] = moved(art, "https://example.org/b", "redirected", NOW)
    assert event.kind == ChangeKind.MOVED and event.version == 1
    assert event.detail == "redirected: https://example.org/a -> https://example.org/b"


def test_feed_state_after_a_fetch() -> None:
    state = FeedState(name="news", url="u", failures=3, etag='"a"')
    ok = feed_fetched(state, result(200, '"b"'), 10, timedelta(minutes=5), NOW)
    assert (ok.etag, ok.failures, ok.entries, ok.last_error) == ('"b"', 0, 10, None)
    assert ok.next_due == NOW + timedelta(minutes=5)
    partial = feed_fetched(state, result(200, '"b"'), 10, timedelta(minutes=5), NOW, "lost")
    assert (partial.etag, partial.last_modified, partial.next_due) == (None, None, NOW)
    assert partial.last_error == "lost"


def test_feed_state_after_a_failure_honours_retry_after() -> None:
    state = FeedState(name="news", url="u", failures=0)
    slow = HTTPStatusError("u", 429, retry_after=3600)
    failed = feed_failed(state, slow, timedelta(minutes=5), NOW)
    assert failed.failures == 1 and failed.last_status == 429
    assert failed.next_due == NOW + timedelta(hours=1)
    down = feed_failed(state, FetchError("u", "refused"), timedelta(minutes=5), NOW)
    assert down.last_status is None and down.last_error == "u: refused"
    assert NOW < down.next_due < NOW + timedelta(hours=1)


def test_entries_and_titles() -> None:
    entries = [
        FeedEntry(None, "https://x.org/a", "A", ""),
        FeedEntry(None, "https://x.org/a#", "A again", ""),
        FeedEntry(None, "mailto:x@x.org", "not a page", ""),
        FeedEntry(None, None, "no link", ""),
        FeedEntry(None, "https://x.org/b", "B", ""),
    ]
    identified = identify_entries(entries)
    assert [e.title for _, e in identified.entries] == ["A", "B"]
    assert identified.collapsed == 1 and identified.shared == 0
    assert not feed_title_changed(entry("  Feed   title "), "Feed title")
    assert feed_title_changed(entry("New title"), "Feed title")
    from_entry = version_from_entry(article(), entry(), NOW)
    assert (from_entry.source, from_entry.text, from_entry.title) == (
        TextSource.FEED,
        "Summary from the feed.",
        "Feed title",
    )


def test_posts_on_one_page_are_kept_apart_by_fragment() -> None:
    entries = [
        FeedEntry("g1", "http://scripting.com/2017/06/26.html#a080605", "", "one"),
        FeedEntry("g2", "http://scripting.com/2017/06/26.html#a030658", "", "two"),
        FeedEntry("g3", "http://scripting.com/2017/06/25.html", "", "alone"),
    ]
    identified = identify_entries(entries)
    assert [identity for identity, _ in identified.entries] == [
        "http://scripting.com/2017/06/26.html#a080605",
        "http://scripting.com/2017/06/26.html#a030658",
        "http://scripting.com/2017/06/25.html",
    ]
    assert (identified.collapsed, identified.shared) == (0, 2)
    assert is_shared(identified.entries[0][0]) and not is_shared(identified.entries[2][0])


def test_one_link_two_guids_are_two_articles() -> None:
    entries = [
        FeedEntry("tag:df,2026:/linked/1", "https://sponsor.example/", "Sponsor", "ad"),
        FeedEntry("tag:df,2026:/feeds/sponsors/1", "https://sponsor.example/", "Thanks", "x"),
    ]
    identities = [identity for identity, _ in identify_entries(entries).entries]
    assert identities == [
        "https://sponsor.example/#guid=tag%3Adf%2C2026%3A%2Flinked%2F1",
        "https://sponsor.example/#guid=tag%3Adf%2C2026%3A%2Ffeeds%2Fsponsors%2F1",
    ]


def test_entries_the_feed_does_not_tell_apart_are_collapsed_and_counted() -> None:
    entries = [
        FeedEntry(None, "https://x.org/page#one", "One", ""),
        FeedEntry(None, "https://x.org/page#two", "Two", ""),
        FeedEntry("same", "https://x.org/b", "B", ""),
        FeedEntry("same", "https://x.org/b", "B again", ""),
    ]
    identified = identify_entries(entries)
    assert [identity for identity, _ in identified.entries] == [
        "https://x.org/page",
        "https://x.org/b",
    ]
    assert identified.collapsed == 2


@pytest.mark.parametrize(
    ("why", "detail"),
    [
        (PAGE_UNAVAILABLE, "text from the feed entry (page unavailable)"),
        (PAGES_NOT_FETCHED, "text from the feed entry (this feed's pages are not fetched)"),
        (SHARED_PAGE, "text from the feed entry (one of several posts on one page)"),
    ],
)
def test_a_feed_version_says_why_its_text_is_the_feeds(why: str, detail: str) -> None:
    from_feed = version("The entry's summary.", 0, TextSource.FEED)
    decision = decide(article(versions=0), None, from_feed, NOW, CONFIRM, feed_note=why)
    assert isinstance(decision, NewVersion) and decision.change.detail == detail


def test_missing_feed_fields_carry_their_last_values() -> None:
    last = version("The summary as last seen.", 1, TextSource.FEED)
    bare = replace(version("", 0, TextSource.FEED), title=None, byline=None)
    carried = carry_missing(bare, replace(last, byline="Ana"))
    assert (carried.text, carried.title, carried.byline) == (last.text, last.title, "Ana")
    page = version("", 0, TextSource.PAGE)
    assert carry_missing(page, last) is page  # a page says what it says


def test_entry_changes_are_title_or_summary_but_not_absence() -> None:
    art = article(feed_title="Feed title", feed_summary="Summary from the feed.")
    assert not entry_changed(entry(), art)
    assert not entry_changed(entry(summary=""), art)
    assert entry_changed(entry(summary="An edited summary."), art)
    assert entry_changed(entry(title="A new title"), art)
    assert not entry_changed(entry(summary="Any."), article(feed_title="Feed title"))


def test_a_changed_entry_is_compared_with_the_entry_as_last_seen() -> None:
    art = article(feed_title="Feed title", feed_summary="Summary from the feed.")
    baseline = normalized(feed_baseline(art, LATEST), ())
    assert (baseline.source, baseline.text, baseline.number) == (
        TextSource.FEED,
        "Summary from the feed.",
        1,
    )
    new = normalized(
        replace(
            version_from_entry(art, entry(title="Feed title, edited"), NOW),
            feed_title="Feed title, edited",
        ),
        (),
    )
    decision = decide(art, LATEST, new, NOW, CONFIRM, baseline=baseline)
    assert isinstance(decision, NewVersion) and decision.previous == baseline
    assert decision.version.number == 2  # numbered after the latest version


def test_a_page_back_after_feed_versions_is_compared_with_the_page() -> None:
    feed_version = replace(version("from the feed", 2, TextSource.FEED), feed_title="New")
    baseline = normalized(page_baseline(LATEST, feed_version), ())
    same_page = normalized(replace(version(LONG), feed_title="New"), ())
    assert isinstance(
        decide(article(versions=2), feed_version, same_page, NOW, CONFIRM, baseline=baseline),
        Unchanged,
    )


def test_a_word_count_follows_its_text_through_normalizing_and_into_the_new_version() -> None:
    counted = replace(version(LONG), words=200)
    assert normalized(counted, ()).words == 200  # the text as it was: still its count
    # An ignore pattern changed the text: the count no longer holds.
    assert normalized(counted, (r"word1\b",)).words is None
    # A new version is stored with its count, taken from its text when not known.
    decision = decide(article(), LATEST, EDITED, NOW, CONFIRM)
    assert isinstance(decision, NewVersion)
    assert decision.version.words == len(EDITED.text.split()) == 204
