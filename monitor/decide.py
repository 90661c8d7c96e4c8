"""Pure decisions on what a fetch means for an article: no store, no network, ``now`` given.

``decide`` compares a fetched candidate with the latest stored version (both normalized)
and says what to record: nothing new, a suspect fetch held back, or a new version — from
the page or, for a new article behind a wall, from its feed entry. ``classified`` turns a
new version's diff into a changed or reverted event; the lifecycle rules of a fetch
(removed by a redirect to the front page, moved) and the carrying forward of validators
live here too, so that the orchestration in ``pipeline`` only fetches, asks and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from monitor.config import FLIP_FLOP_TAG
from monitor.errors import HTTPStatusError
from monitor.models import (
    Article,
    ArticleStatus,
    Change,
    ChangeKind,
    DiffDocument,
    FeedEntry,
    FeedState,
    FetchResult,
    Listed,
    Page,
    TextSource,
    Validators,
    Version,
)
from monitor.normalize import hash_normalized, normalize_text, normalize_url
from monitor.quality import suspect_reason, swing_note, words_of
from monitor.schedule import next_feed_check

SEED_FEED_PREFIX = "seed:"
# Why a version's text is the feed entry's: the page failed, or it is never fetched.
PAGE_UNAVAILABLE = "page unavailable"
PAGES_NOT_FETCHED = "this feed's pages are not fetched"
SHARED_PAGE = "one of several posts on one page"
# What makes the next fetch a full one (no 304, no "same bytes" shortcut): it can confirm.
UNFETCHED: dict[str, Any] = dict.fromkeys(("etag", "last_modified", "body_hash"))


@dataclass(frozen=True)
class Unchanged:
    """Same content as the latest version: only the article's bookkeeping is written."""

    article: Article
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Held:
    """A suspect fetch, not stored until a later full fetch confirms it."""

    article: Article
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class NewVersion:
    """A version to store, with its `new` event; ``classified`` refines the event when
    there is a ``previous`` version to diff against."""

    article: Article
    version: Version
    change: Change
    previous: Version | None
    warnings: tuple[str, ...] = ()


Decision = Unchanged | Held | NewVersion


def decide(
    article: Article,
    latest: Version | None,
    candidate: Version,
    now: datetime,
    confirm_after: timedelta,
    from_feed: Callable[[], Version] | None = None,
    feed_note: str = PAGE_UNAVAILABLE,
    baseline: Version | None = None,
) -> Decision:
    """What fetching ``candidate`` means for ``article``, whose latest version is ``latest``.

    ``from_feed`` builds the feed entry's version (normalized), when there is an entry;
    ``feed_note`` says why a version's text comes from the feed entry. ``baseline`` is what
    the candidate is compared with when that is not ``latest`` (``feed_baseline``,
    ``page_baseline``): a feed entry with the entry as last seen, a page with the page.
    """
    against = baseline if baseline is not None else latest
    return _decide(article, latest, against, candidate, now, confirm_after, from_feed, feed_note)


def _decide(
    article: Article,
    latest: Version | None,
    against: Version | None,
    candidate: Version,
    now: datetime,
    confirm_after: timedelta,
    from_feed: Callable[[], Version] | None,
    feed_note: str,
) -> Decision:
    if against is not None and against.content_hash == candidate.content_hash:
        if article.suspect_hash is None:
            return Unchanged(article)
        # The page is back to its stored version: the suspect fetch was a swing.
        swings = article.swings + 1
        swung = replace(article, suspect_hash=None, suspect_since=None, swings=swings)
        return Unchanged(swung, (f"{article.current_url}: {swing_note(swings)}",))
    suspect = suspect_reason(against, candidate) if candidate.source == TextSource.PAGE else None
    seen_before = suspect is not None and article.suspect_hash == candidate.content_hash
    since = (article.suspect_since or now) if seen_before else now
    confirm_at = since + confirm_after
    # Seen again, and long enough after the first time: a challenge page lives seconds.
    confirmed = seen_before and now >= confirm_at
    warnings: tuple[str, ...] = ()
    if suspect is not None and not confirmed:
        if against is not None or from_feed is None:
            return _held(article, candidate, suspect, seen_before, since, confirm_at)
        # A new article behind a wall: its feed entry is the better first version.
        warnings = (f"{article.current_url}: {suspect}; using the feed entry's text",)
        candidate = from_feed()
    note = "confirmed after a suspect fetch" if confirmed else None
    note = note or source_note(candidate.source, against, feed_note)
    return _new_version(article, latest, against, candidate, now, note, warnings)


def _held(
    article: Article,
    candidate: Version,
    suspect: str,
    seen_before: bool,
    since: datetime,
    confirm_at: datetime,
) -> Held:
    """Held, not stored: a block page or a collapsed extraction is not an edit until a full
    fetch (no validators, so no 304) at least ``confirm_after`` later shows the same."""
    again = "seen again; " if seen_before else ""
    warning = (
        f"{article.current_url}: suspect fetch ({suspect}); {again}not stored "
        f"unless a fetch after {confirm_at:%Y-%m-%d %H:%M:%S} UTC confirms it"
    )
    # Come back when it can be confirmed, or sooner on the tracking schedule.
    come_back = article.next_check
    if come_back is None or come_back > confirm_at:
        come_back = confirm_at
    hash_ = candidate.content_hash
    held = replace(article, suspect_hash=hash_, suspect_since=since, next_check=come_back)
    return Held(replace(held, **UNFETCHED), (warning,))


def _new_version(
    article: Article,
    latest: Version | None,
    against: Version | None,
    candidate: Version,
    now: datetime,
    note: str | None,
    warnings: tuple[str, ...],
) -> NewVersion:
    number = latest.number + 1 if latest else 1
    # Stored with its word count, which the next fetch's quality gate compares with.
    version = replace(candidate, number=number, words=words_of(candidate))
    article = replace(
        article,
        suspect_hash=None,
        suspect_since=None,
        title=version.title or article.title,
        versions=number,
        feed_title=version.feed_title,
    )
    change = Change(
        kind=ChangeKind.NEW,
        article_id=article.id,
        feed=article.feed,
        url=article.current_url,
        detected_at=now,
        title=article.title,
        version=number,
        detail=note,
    )
    return NewVersion(article, version, change, against, warnings)


def carry_missing(version: Version, last: Version | None) -> Version:
    """A feed version whose entry lacks a field keeps its last known value: front-page feeds
    drop an entry's summary as it moves between slots, and absence is not deletion."""
    if version.source != TextSource.FEED or last is None:
        return version
    return replace(
        version,
        text=version.text if version.text.strip() else last.text,
        words=version.words if version.text.strip() else last.words,
        title=version.title or last.title,
        byline=version.byline or last.byline,
    )


def feed_baseline(article: Article, latest: Version) -> Version:
    """The feed entry as last seen, as a version to compare a changed entry with: its title
    and summary, or the latest version's where they were never seen."""
    return replace(
        latest,
        source=TextSource.FEED,
        title=article.feed_title or latest.title,
        text=article.feed_summary or latest.text,
        words=None if article.feed_summary else latest.words,
        feed_title=article.feed_title,
    )


def page_baseline(last_page: Version, latest: Version) -> Version:
    """The page as last fetched, to compare a page that is back with: a feed-entry version
    recorded meanwhile (the page failing) is not an edit of the page, and the feed title
    that version recorded is not news again."""
    return replace(last_page, feed_title=latest.feed_title)


def classified(
    change: Change,
    previous: Version,
    document: DiffDocument,
    earlier: Version | None,
    reverted_before: bool,
) -> Change:
    """``change`` as a CHANGED event against ``previous`` classified by ``document``, or a
    REVERTED one when ``earlier`` holds the very same content."""
    verdict = document.classification
    change = replace(
        change,
        kind=ChangeKind.CHANGED,
        previous_version=previous.number,
        significance=verdict.significance,
        tags=verdict.tags,
        stats=document.diff.body.stats,
    )
    if earlier is None:
        return change
    # The first revert is news; the second and later flips of an A/B test are not.
    tags = (*change.tags, FLIP_FLOP_TAG) if reverted_before else change.tags
    return replace(
        change,
        kind=ChangeKind.REVERTED,
        reverted_to=earlier.number,
        tags=tags,
        detail=f"identical to v{earlier.number}",
    )


def source_note(
    source: TextSource, latest: Version | None, feed_note: str = PAGE_UNAVAILABLE
) -> str | None:
    """Say where a version's text came from when it is not the plain page-to-page case."""
    if source == TextSource.FEED:
        return f"text from the feed entry ({feed_note})"
    if latest is not None and latest.source == TextSource.FEED:
        return "first capture of the page; the earlier version came from the feed entry"
    return None


def normalized(version: Version, ignore: Sequence[str]) -> Version:
    """``version`` with normalized fields and the content hash over them."""
    title = normalize_text(version.title or "") or None
    byline = normalize_text(version.byline or "") or None
    feed_title = normalize_text(version.feed_title or "") or None
    text = normalize_text(version.text, ignore)
    return replace(
        version,
        title=title,
        byline=byline,
        feed_title=feed_title,
        text=text,
        # Counted of the text as extracted: still its count if normalizing left it as it was.
        words=version.words if text is version.text else None,
        content_hash=hash_normalized(title, byline, text, feed_title),
    )


def version_from_entry(article: Article, entry: FeedEntry, now: datetime) -> Version:
    """The feed entry's own title and text as a version (the page is unavailable)."""
    page = Page(entry.title or None, (entry.summary,), entry.author, entry.published, entry.updated)
    url = entry.link or article.current_url
    return _version(article, page, url, TextSource.FEED, page.title, now)


def version_from_page(
    article: Article, page: Page, final_url: str, entry: FeedEntry | None, now: datetime
) -> Version:
    """An extracted page as a version; its title falls back on the entry's and the known one."""
    title = page.title or (entry.title if entry else None) or article.title
    return _version(article, page, final_url, TextSource.PAGE, title, now)


def _version(
    article: Article, page: Page, url: str, source: TextSource, title: str | None, now: datetime
) -> Version:
    return Version(
        article_id=article.id,
        number=0,
        content_hash="",
        text=page.text,
        words=page.words,
        fetched_at=now,
        url=url,
        source=source,
        title=title,
        byline=page.byline,
        published=page.published,
        modified=page.modified,
        canonical_url=page.canonical_url,
    )


def carried_validators(previous: Validators, result: FetchResult) -> Validators:
    """The validators to keep after ``result``: a 304 may omit those it did not change."""
    kept = result.validators
    if result.not_modified:
        return Validators(kept.etag or previous.etag, kept.last_modified or previous.last_modified)
    return kept


def redirected_home(url: str, final_url: str) -> bool:
    """Newsrooms often "delete" a story by redirecting it to the front page."""
    return urlsplit(final_url).path in ("", "/") and urlsplit(url).path not in ("", "/")


def moved(article: Article, new_url: str, why: str, now: datetime) -> list[Change]:
    """A `moved` event when ``new_url`` is another address than the article's own."""
    if normalize_url(new_url) in {normalize_url(article.current_url), article.canonical_url}:
        return []
    return [
        Change(
            kind=ChangeKind.MOVED,
            article_id=article.id,
            feed=article.feed,
            url=new_url,
            detected_at=now,
            title=article.title,
            version=article.versions or None,
            detail=f"{why}: {article.current_url} -> {new_url}",
        )
    ]


def entry_changed(entry: FeedEntry, article: Article | Listed) -> bool:
    """Whether the feed entry's title or summary differs from the article's as last seen (a
    summary that is missing now is not a change: absence is not deletion)."""
    if feed_title_changed(entry, article.feed_title):
        return True
    summary = normalize_text(entry.summary)
    return bool(summary) and article.feed_summary is not None and summary != article.feed_summary


def still_listed(entry: FeedEntry, article: Listed) -> bool:
    """Whether all ``entry`` brings its article, found by its URL, is that it is still in
    its feed: a feed pass then only marks it so, where any other entry is looked at in full
    (a known article's entry changes in few entries of a changed feed, issue 16). So it is
    when the article has a version, is not removed, keeps the entry's summary (or there is
    none), and the entry's title and summary are those last recorded."""
    return (
        article.versions > 0
        and article.status != ArticleStatus.REMOVED
        and (article.feed_summary is not None or not entry.summary.strip())
        and not entry_changed(entry, article)
    )


def feed_title_changed(entry: FeedEntry, known: str | None) -> bool:
    """Whether the entry's (normalized) title differs from the one last recorded."""
    return (normalize_text(entry.title or "") or None) != known


def provisional(feed: str, url: str, link: str, title: str | None, now: datetime) -> Article:
    """An article not stored yet (id 0): it is inserted when its first fetch is recorded."""
    return Article(
        id=0,
        feed=feed,
        url=url,
        current_url=link,
        first_seen=now,
        last_in_feed=now,
        title=title or None,
        next_check=now,
    )


@dataclass(frozen=True)
class Identified:
    """A feed's entries, each with the identity its article is tracked under."""

    entries: tuple[tuple[str, FeedEntry], ...]  # (identity, entry), in feed order
    collapsed: int  # entries dropped as repeats of an earlier entry (same link and GUID)
    shared: int  # entries that share a page with others (told apart by fragment or GUID)


def identify_entries(entries: Sequence[FeedEntry]) -> Identified:
    """Each entry with a link, under the identity of its article.

    The identity is the normalized link, unless entries of this document share a link (up
    to its fragment) but not their GUIDs: the feed keeps them apart, so do we (posts on one
    page addressed by fragment, a sponsor post beside the post it links to). Those are
    tracked under ``link#fragment`` or, with no fragment to tell them apart, under their
    GUID (``shared_identity``). Entries that repeat another's link and GUID are dropped,
    and counted: feeds repeat items more often than you'd think.
    """
    linked = [e for e in entries if e.link and e.link.startswith(("http://", "https://"))]
    guids_of: dict[str, set[str | None]] = {}
    for entry in linked:
        guids_of.setdefault(normalize_url(entry.link or ""), set()).add(entry.guid)
    seen: set[tuple[str, str | None]] = set()
    identified: list[tuple[str, FeedEntry]] = []
    shared = 0
    for entry in linked:
        base = normalize_url(entry.link or "")
        if (base, entry.guid) in seen:
            continue
        seen.add((base, entry.guid))
        identity = base
        if entry.guid is not None and len(guids_of[base]) > 1:
            identity = shared_identity(base, entry)
            shared += 1
        identified.append((identity, entry))
    return Identified(tuple(identified), len(linked) - len(identified), shared)


def shared_identity(base: str, entry: FeedEntry) -> str:
    """The identity of an entry whose link another article also uses: the link with its
    fragment when it has one, else with the entry's GUID as the fragment."""
    fragment = urlsplit(entry.link or "").fragment
    return f"{base}#{fragment}" if fragment else f"{base}#guid={quote(entry.guid or '', safe='')}"


def is_shared(identity: str) -> bool:
    """Whether an article's identity names one of several posts on one page: such an
    article is versioned from its feed entry, the page being no more its own than theirs."""
    return "#" in identity


def feed_fetched(
    state: FeedState,
    result: FetchResult,
    entries: int | None,
    interval: timedelta,
    now: datetime,
    incomplete: str | None = None,
) -> FeedState:
    """A feed's state after a successful fetch; ``incomplete``: why its validators are not
    kept (entries of this document could not be stored)."""
    kept = carried_validators(Validators(state.etag, state.last_modified), result)
    if incomplete is not None:
        kept = Validators()
    return replace(
        state,
        etag=kept.etag,
        last_modified=kept.last_modified,
        last_checked=now,
        last_success=now,
        last_status=result.status,
        last_error=incomplete,
        failures=0,
        # Entries left out are fetched again by the next run, not an interval later.
        next_due=now if incomplete else next_feed_check(interval, now),
        entries=entries,
    )


def feed_failed(state: FeedState, exc: Exception, interval: timedelta, now: datetime) -> FeedState:
    """A feed's state after a failed fetch or parse: backed off, and never sooner than the
    server's Retry-After (coming back sooner is impolite)."""
    status = exc.status if isinstance(exc, HTTPStatusError) else None
    failures = state.failures + 1
    next_due = next_feed_check(interval, now, failures)
    if isinstance(exc, HTTPStatusError) and exc.retry_after:
        next_due = max(next_due, now + timedelta(seconds=exc.retry_after))
    return replace(
        state,
        last_checked=now,
        last_status=status,
        last_error=str(exc),
        failures=failures,
        next_due=next_due,
    )
