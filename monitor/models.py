"""Frozen dataclasses that cross module boundaries.

Nothing outside ``feeds.py`` sees a feedparser dict and nothing outside ``store/`` sees a
database row: every module speaks in these types. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any


class ChangeKind(StrEnum):
    """Lifecycle events of an article, each stored as a change."""

    NEW = "new"  # first version captured
    CHANGED = "changed"  # a new distinct version
    REVERTED = "reverted"  # a new version identical to an earlier one (revert, A/B flip)
    REMOVED = "removed"  # the page answered 404/410
    RESTORED = "restored"  # back after removal
    MOVED = "moved"  # redirect or canonical change to a new address


class ArticleStatus(StrEnum):
    """Whether an article's page is currently answering."""

    ACTIVE = "active"
    REMOVED = "removed"


class TextSource(StrEnum):
    """Where a version's text came from."""

    PAGE = "page"  # extracted from the article page
    FEED = "feed"  # the feed entry's own title and content (page unavailable)


@dataclass(frozen=True)
class Validators:
    """HTTP cache validators for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """One completed HTTP fetch: a 2xx with its body, or a 304 with none."""

    requested_url: str
    final_url: str
    status: int
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    fetched_at: datetime
    redirects: tuple[str, ...] = ()  # every URL visited before final_url, in order
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, reduced to what the monitor uses."""

    guid: str | None
    link: str | None
    title: str
    summary: str  # plain text of the entry's content (or summary); may be empty
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed document."""

    title: str | None
    version: str  # feedparser's format name: rss20, atom10, rss10, ...
    entries: tuple[FeedEntry, ...]
    bozo: bool = False
    warning: str | None = None  # why the feed is bozo, when it still had entries


@dataclass(frozen=True)
class Page:
    """Article text and metadata extracted from one HTML page."""

    title: str | None
    paragraphs: tuple[str, ...]
    byline: str | None = None
    published: datetime | None = None
    modified: datetime | None = None
    canonical_url: str | None = None
    # Of ``text``, when counted (by the worker that extracted it): derived, so not compared.
    words: int | None = field(default=None, compare=False, repr=False)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class FeedState:
    """What the store knows about one configured feed."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_checked: datetime | None = None
    last_success: datetime | None = None
    last_status: int | None = None  # HTTP status of the last check
    last_error: str | None = None
    failures: int = 0  # consecutive failed checks
    next_due: datetime | None = None
    entries: int | None = None  # entries in the last parsed document


@dataclass(frozen=True)
class Article:
    """A tracked article. ``url`` is its identity: the normalized entry link."""

    id: int
    feed: str
    url: str
    current_url: str  # where it is fetched now (differs from url after a move)
    first_seen: datetime
    last_in_feed: datetime
    guid: str | None = None
    canonical_url: str | None = None
    title: str | None = None
    status: ArticleStatus = ArticleStatus.ACTIVE
    last_checked: datetime | None = None
    last_seen: datetime | None = None  # last fetch that returned the article (200 or 304)
    next_check: datetime | None = None  # None: no longer re-checked
    etag: str | None = None
    last_modified: str | None = None
    last_error: str | None = None
    versions: int = 0  # number of stored versions
    suspect_hash: str | None = None  # content of a suspect fetch awaiting confirmation
    swings: int = 0  # suspect fetches that the next fetch contradicted
    feed_title: str | None = None  # the latest version's title in the feed (normalized)
    body_hash: str | None = None  # sha256 of the last response body that was extracted
    suspect_since: datetime | None = None  # when the held suspect content was first fetched
    # Bumped by the store with every recorded event: recording from an older revision means
    # another process got there first (a lost race, skipped).
    revision: int = 0
    # The feed entry's summary as last seen (normalized): an edit to it is evidence too,
    # recorded even when the page cannot be fetched.
    feed_summary: str | None = None

    def but(self, **changes: Any) -> Article:
        """``dataclasses.replace(self, **changes)`` without running ``__init__`` over every
        field: the same article at a fifth of the cost, for a round's per-article path."""
        unknown = changes.keys() - ARTICLE_FIELDS
        if unknown:
            raise TypeError(f"Article has no field {min(unknown)!r}")
        return Article.from_fields(self.__dict__, **changes)

    @classmethod
    def from_fields(cls, values: Mapping[str, Any], **changes: Any) -> Article:
        """The article of ``values`` (one for every field) but for ``changes``, taken as
        they are: made without ``__init__``, for the per-article paths (``but``, the
        store's rows, read by the thousand a round)."""
        new = object.__new__(cls)
        new.__dict__.update(values, **changes)
        return new


ARTICLE_FIELDS = frozenset(Article.__dataclass_fields__)


@dataclass(frozen=True)
class Listed:
    """What a feed pass must know of an article its entry names by URL, to tell whether the
    entry brings anything but "still in the feed": a few columns, not the whole row."""

    id: int
    versions: int
    status: ArticleStatus
    feed_title: str | None
    feed_summary: str | None


@dataclass(frozen=True)
class Version:
    """One distinct version of an article's content."""

    article_id: int
    number: int  # 1, 2, 3 ... per article
    content_hash: str  # sha256 of the normalized content
    text: str
    fetched_at: datetime
    url: str  # the URL the content was fetched from (after redirects)
    source: TextSource = TextSource.PAGE
    title: str | None = None
    byline: str | None = None
    published: datetime | None = None
    modified: datetime | None = None
    canonical_url: str | None = None
    feed_title: str | None = None  # the entry's title in the feed, tracked beside the page's
    # How many words (runs of letters and digits) ``text`` has, when counted already: by the
    # worker that extracted the page, and kept in the store (``quality.words_of``). Derived
    # from the text, so two versions are equal or not whether it is known or not.
    words: int | None = field(default=None, compare=False, repr=False)

    @property
    def size(self) -> int:
        return len(self.text)


class Op(IntEnum):
    """A diff operation, with diff-match-patch's numbering."""

    DELETE = -1
    EQUAL = 0
    INSERT = 1


DiffOp = tuple[Op, str]  # joined, EQUAL+DELETE texts give the old text, EQUAL+INSERT the new


class SentenceStatus(StrEnum):
    """How a sentence of the old text relates to the new one."""

    UNCHANGED = "unchanged"
    ADDED = "added"
    DELETED = "deleted"
    EDITED = "edited"  # matched to a similar sentence; ``ops`` is its word diff
    MOVED = "moved"  # found elsewhere in the text (possibly also edited: see ``ops``)


@dataclass(frozen=True)
class SentenceDiff:
    """One aligned sentence pair (or a lone added/deleted sentence)."""

    status: SentenceStatus
    old: str | None
    new: str | None
    old_index: int | None = None  # position among the old text's sentences
    new_index: int | None = None  # position among the new text's sentences
    paragraph: int | None = None  # paragraph index in the new text (old text for deletions)
    ops: tuple[DiffOp, ...] = ()  # word diff of old -> new, when both exist and differ
    similarity: float = 1.0  # 0..1, of old and new


@dataclass(frozen=True)
class DiffStats:
    """Counts that summarize a text diff."""

    words_added: int = 0
    words_removed: int = 0
    sentences_added: int = 0
    sentences_removed: int = 0
    sentences_edited: int = 0
    sentences_moved: int = 0
    similarity: float = 1.0  # 0..1: share of the words of both texts left unchanged
    chars_changed: int = 0  # characters inserted plus characters deleted


@dataclass(frozen=True)
class TextDiff:
    """A word-level diff of two texts, with the sentence alignment on top."""

    ops: tuple[DiffOp, ...]
    sentences: tuple[SentenceDiff, ...]
    stats: DiffStats
    timed_out: bool = False  # the time limit was hit: ops are a coarse delete+insert


@dataclass(frozen=True)
class FieldChange:
    """A metadata field that differs between two versions."""

    field: str  # headline, feed_title, byline, published, modified, canonical_url
    old: str | None
    new: str | None


@dataclass(frozen=True)
class VersionDiff:
    """Everything that differs between two versions: fields and body."""

    fields: tuple[FieldChange, ...]
    body: TextDiff

    @property
    def empty(self) -> bool:
        return not self.fields and all(op == Op.EQUAL for op, _ in self.body.ops)


class Significance(StrEnum):
    """How much a change matters to a reader; ordered from least to most."""

    COSMETIC = "cosmetic"  # whitespace, punctuation, case, a small typo fix
    MINOR = "minor"
    MAJOR = "major"
    REWRITE = "rewrite"

    @property
    def rank(self) -> int:
        return list(Significance).index(self)


@dataclass(frozen=True)
class Classification:
    """The verdict on a change: how much it matters and what kind of change it is."""

    significance: Significance
    tags: tuple[str, ...] = ()  # headline, byline, numbers, quotes, correction, lede, deletion


@dataclass(frozen=True)
class Seed:
    """A story's baseline text, from a document in the seeds folder."""

    id: str  # the file name without its extension, e.g. "000_c6811b779e006353"
    path: str
    text: str  # normalized body (front matter removed, ignore patterns applied)
    title: str | None = None
    url: str | None = None  # normalized; when set, articles at this address link by URL
    feeds: tuple[str, ...] = ()  # only articles of these feeds may link (empty: any feed)
    match: float | None = None  # this seed's own content-match threshold
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedMatch:
    """Why an article version is linked to a seed."""

    seed_id: str
    score: float  # the deciding measure, 0..1
    reasons: tuple[str, ...]  # human-readable, e.g. "containment of the seed 0.91 >= 0.50"


@dataclass(frozen=True)
class Drift:
    """How far a version of a linked article has moved from its seed."""

    seed_id: str
    similarity: float  # word similarity to the seed, 0..1
    sentences_added: int = 0  # in the article, not in the seed
    sentences_removed: int = 0  # in the seed, not in the article
    sentences_edited: int = 0
    numbers_added: tuple[str, ...] = ()  # figures in the article that the seed lacks
    numbers_removed: tuple[str, ...] = ()  # figures of the seed the article lacks
    quotes_added: tuple[str, ...] = ()
    quotes_removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedLink:
    """An article linked to a seed, with why and how far it has drifted."""

    article_id: int
    seed_id: str
    score: float
    reasons: tuple[str, ...]
    linked_at: datetime
    drift: Drift | None = None  # of the article's latest version
    drift_version: int | None = None  # the version ``drift`` describes


@dataclass(frozen=True)
class DiffDocument:
    """A diff ready to render: what was compared with what, the diff and its verdict."""

    diff: VersionDiff
    classification: Classification
    title: str | None  # the headline of the newer side
    url: str
    old_label: str  # e.g. "v1, 2026-11-28 12:00 UTC" or "seed 000_c6811b779e006353"
    new_label: str
    feed: str | None = None
    article_id: int | None = None
    old_version: int | None = None
    new_version: int | None = None
    old_time: datetime | None = None
    new_time: datetime | None = None


@dataclass(frozen=True)
class Change:
    """A lifecycle event of an article; ``id`` is 0 until the store assigns one."""

    kind: ChangeKind
    article_id: int
    feed: str
    url: str
    detected_at: datetime
    title: str | None = None
    version: int | None = None
    previous_version: int | None = None
    detail: str | None = None  # e.g. "moved to https://..." or "HTTP 410"
    significance: Significance | None = None  # for changed and reverted
    tags: tuple[str, ...] = ()
    stats: DiffStats | None = None
    reverted_to: int | None = None  # for reverted: the earlier identical version
    seed_id: str | None = None  # the seed the article is linked to, if any
    drift: Drift | None = None  # the new version against that seed
    id: int = 0


@dataclass(frozen=True)
class RawBody:
    """The raw response body kept with a stored version (stored compressed).

    ``packed``: ``content`` already compressed the way the store keeps it (``pack_raw``),
    when that was done elsewhere, e.g. by a worker process beside the extraction."""

    content: bytes
    content_type: str | None = None
    packed: bytes | None = field(default=None, repr=False, compare=False)
    # The exchange it came from, for WARC export (issue 19; kept from store revision 0008
    # on, None for older captures): the URL asked for, the HTTP status, the response
    # headers (names lower-cased, as fetched).
    request_url: str | None = None
    status: int | None = None
    headers: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class Revisit:
    """A run of 304 re-checks that confirmed version ``version`` of an article (issue 19):
    the first and the last of them (when, the URL that answered, its response headers with
    lower-cased names) and how many; the store keeps one such row per article and version,
    however often the page is re-checked. ``etag`` and ``last_modified``: the validators
    as the last 304 left them."""

    article_id: int
    version: int
    first_at: datetime
    first_url: str
    last_at: datetime
    last_url: str
    count: int = 1
    first_headers: tuple[tuple[str, str], ...] = ()
    last_headers: tuple[tuple[str, str], ...] = ()
    etag: str | None = None
    last_modified: str | None = None

    def then(self, later: Revisit) -> Revisit:
        """This run of 304s followed by ``later``'s (of the same article and version)."""
        return Revisit(
            self.article_id,
            self.version,
            self.first_at,
            self.first_url,
            later.last_at,
            later.last_url,
            self.count + later.count,
            self.first_headers,
            later.last_headers,
            later.etag,
            later.last_modified,
        )


@dataclass(frozen=True)
class Recording:
    """Everything one observation of an article records, in one transaction: the article
    row (id 0: a new article), its new version and raw body, its changes, its seed link."""

    article: Article
    changes: Sequence[Change]
    version: Version | None = None
    raw: RawBody | None = None  # only with ``version``
    link: SeedLink | None = None


class AlertStatus(StrEnum):
    """Where an alert is in the outbox."""

    QUEUED = "queued"  # waiting for its (next) delivery attempt
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up: a permanent failure, or too many attempts


@dataclass(frozen=True)
class Alert:
    """One outbox row: an event for one channel, delivered at least once."""

    id: int
    event_id: str  # stable across retries; receivers deduplicate on it
    channel: str
    event_type: str  # article.new, article.changed, article.removed, ...
    payload: Mapping[str, Any]  # the versioned event document (see alerts/payload.py)
    created_at: datetime
    status: AlertStatus = AlertStatus.QUEUED
    change_id: int | None = None
    attempts: int = 0
    next_attempt: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    digest: bool = False  # held for the channel's digest instead of sent on its own


@dataclass(frozen=True)
class AlertClaim:
    """A relay's claim on due alerts: who leases them, until when, and which ones."""

    owner: str
    lease_until: datetime
    limit: int = 100
    digest: bool = False  # the alerts held for a digest, instead of those sent on their own
    channel: str | None = None  # only this channel's alerts (None: every channel's)


@dataclass(frozen=True)
class HostClaim:
    """A node's claim on hosts with due articles (issue 17): who leases them, until when,
    how many nodes share the work (each claims about its share of the due hosts, at most
    ``limit``), and the hosts this pass has worked already (``skip``)."""

    owner: str
    now: datetime
    lease_until: datetime
    nodes: int = 1
    limit: int = 64
    skip: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Node:
    """A daemon working the store (issue 17): where it runs, since when, its last
    heartbeat and, as listed, the claims it holds ("host:<name>", "feed:<name>")."""

    id: str
    host: str
    pid: int
    version: str
    started: datetime
    heartbeat: datetime
    claims: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertAttempt:
    """The outcome of one delivery attempt of a claimed alert, recorded under its lease."""

    alert_id: int
    owner: str  # the relay that holds the lease
    status: AlertStatus  # delivered, queued again, or dead
    attempts: int  # attempts so far, this one included
    at: datetime
    next_attempt: datetime | None = None  # when queued again: when it is next due
    error: str | None = None


@dataclass(frozen=True)
class AlertMessage:
    """What a channel delivers: one event, or several gathered into a digest."""

    event_id: str  # the alert's event id, or the digest's own id
    event_type: str  # the event's type, or "digest"
    created_at: datetime
    events: tuple[Mapping[str, Any], ...]  # event payloads, oldest first


class FeedStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"
    SKIPPED = "skipped"  # not due yet


@dataclass(frozen=True)
class FeedReport:
    """The outcome of checking one feed."""

    name: str
    status: FeedStatus
    http_status: int | None = None
    entries: int | None = None
    error: str | None = None
    warning: str | None = None


@dataclass(frozen=True)
class CheckReport:
    """The outcome of one pass over feeds and due articles."""

    feeds: tuple[FeedReport, ...]
    changes: tuple[Change, ...]
    articles_checked: int
    errors: tuple[str, ...] = ()  # article-level errors, each naming its URL
    warnings: tuple[str, ...] = ()
    # Writes the store refused (locked, full, read-only): that work is redone next run.
    store_errors: tuple[str, ...] = ()

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for change in self.changes if change.kind == kind)

    @property
    def feed_errors(self) -> int:
        return sum(1 for feed in self.feeds if feed.status == FeedStatus.ERROR)


@dataclass
class RelayReport:
    """What one relay pass did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: RelayReport) -> None:
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead
        self.errors += other.errors


@dataclass(frozen=True)
class VersionStamp:
    """One stored version as a phrase search sees it: its number, when it was captured,
    and whether its text contains the phrase."""

    number: int
    fetched_at: datetime
    contains: bool


@dataclass(frozen=True)
class PhraseHistory:
    """An article whose text contained a phrase in some version (issue 19): every version,
    oldest first, marked with whether it had the phrase."""

    article: Article
    versions: tuple[VersionStamp, ...]

    @property
    def first_version(self) -> VersionStamp:
        """The version where the phrase first appeared."""
        return next(stamp for stamp in self.versions if stamp.contains)

    @property
    def spans(self) -> tuple[tuple[VersionStamp, VersionStamp | None], ...]:
        """Each run of versions with the phrase: (where it appeared, where it disappeared),
        the second None while it is still there."""
        runs: list[tuple[VersionStamp, VersionStamp | None]] = []
        start: VersionStamp | None = None
        for stamp in self.versions:
            if stamp.contains and start is None:
                start = stamp
            elif not stamp.contains and start is not None:
                runs.append((start, stamp))
                start = None
        if start is not None:
            runs.append((start, None))
        return tuple(runs)

    @property
    def removed_in(self) -> VersionStamp | None:
        """The version where the phrase disappeared for good; None while the latest has it."""
        return self.spans[-1][1]


@dataclass(frozen=True)
class Thresholds:
    """The numbers that turn a diff into a verdict: ``[classify]`` as validated by config's
    ``ClassifyRules``, as plain data. Diffs run in worker processes, and a pydantic model
    sent there made each one import the config module and pydantic (0.13 s a worker)."""

    typo_chars: int
    major_words: int
    major_ratio: float
    rewrite_similarity: float
    deletion_words: int
    late_after: timedelta
    diff_timeout: float
