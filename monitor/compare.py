"""Compare two stored versions of an article: the diff, its verdict, ready to render."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from monitor.classify import classify
from monitor.diff import diff_versions
from monitor.errors import CompareError
from monitor.models import (
    Article,
    Classification,
    DiffDocument,
    Drift,
    FieldChange,
    Seed,
    SeedLink,
    Thresholds,
    Version,
)
from monitor.seeds import compute_drift, load_seeds
from monitor.store import ArchiveStore

if TYPE_CHECKING:  # a worker process that diffs never loads the config module and pydantic
    from monitor.config import Settings

Against = Literal["previous", "first", "seed"]


def pick_versions(
    versions: list[Version], start: int | None, end: int | None, against: Against
) -> tuple[Version, Version]:
    """The (old, new) pair named by --from/--to/--against; ``end`` defaults to the latest."""
    if not versions:
        raise CompareError("the article has no stored versions yet")
    by_number = {v.number: v for v in versions}
    new = by_number.get(end) if end is not None else versions[-1]
    if new is None:
        raise CompareError(f"no version {end} (versions: {_span(versions)})")
    if start is not None:
        old = by_number.get(start)
        if old is None:
            raise CompareError(f"no version {start} (versions: {_span(versions)})")
    elif against == "first":
        old = versions[0]
    elif against == "seed":
        raise CompareError("compare with a seed through compare_stored")
    else:
        earlier = [v for v in versions if v.number < new.number]
        old = earlier[-1] if earlier else new
    return old, new


def compare_versions(
    article: Article,
    old: Version,
    new: Version,
    settings: Settings,
    now: datetime,
    known: Classification | None = None,
) -> DiffDocument:
    """Diff and classify ``old`` -> ``new`` of ``article`` with its feed's rules;
    ``known``: the verdict stored with the change, shown as it was recorded (the web's
    feeds, issue 18) instead of classified again as of ``now``."""
    return compare_with_rules(
        article, old, new, settings.rules(article.feed).thresholds(), now, known
    )


def compare_with_rules(
    article: Article,
    old: Version,
    new: Version,
    rules: Thresholds,
    now: datetime,
    known: Classification | None = None,
) -> DiffDocument:
    """``compare_versions`` with the rules given (small enough to send to a worker)."""
    diff = diff_versions(old, new, rules.diff_timeout)
    return DiffDocument(
        diff=replace(diff, fields=shown_once(diff.fields)),
        classification=known or classify(old, new, diff, rules, now),
        title=new.title or article.title,
        url=article.current_url,
        old_label=version_label(old),
        new_label=version_label(new),
        feed=article.feed,
        article_id=article.id,
        old_version=old.number,
        new_version=new.number,
        old_time=old.fetched_at,
        new_time=new.fetched_at,
    )


def compare_stored(
    store: ArchiveStore,
    settings: Settings,
    article: Article,
    now: datetime,
    start: int | None = None,
    end: int | None = None,
    against: Against = "previous",
) -> DiffDocument:
    """Load the versions named by ``start``/``end``/``against`` and compare them."""
    versions = store.list_versions(article.id)
    if against == "seed" and start is None:
        _, new = pick_versions(versions, None, end, "first")
        seed = linked_seed(store, settings, article)
        baseline = seed_version(seed, article.id, new.fetched_at)
        document = compare_versions(article, baseline, new, settings, now)
        return replace(document, old_label=f"seed {seed.id}", old_version=None, old_time=None)
    old, new = pick_versions(versions, start, end, against)
    return compare_versions(article, old, new, settings, now)


def linked_seed(store: ArchiveStore, settings: Settings, article: Article) -> Seed:
    """The seed ``article`` is linked to, loaded from the seeds folder."""
    link = store.get_seed_link(article.id)
    if link is None:
        raise CompareError("this article is not linked to a seed (see `newsmonitor seeds`)")
    for seed in load_seeds(settings.seeds.dir, settings.ignore):
        if seed.id == link.seed_id:
            return seed
    raise CompareError(f"its seed {link.seed_id!r} is no longer in {settings.seeds.dir}")


def seed_version(seed: Seed, article_id: int, at: datetime) -> Version:
    """A seed dressed as version 0 of an article (as of ``at``), to diff against."""
    return Version(
        article_id=article_id,
        number=0,
        content_hash="",
        text=seed.text,
        fetched_at=at,
        url=seed.url or seed.path,
        title=seed.title,
    )


def shown_once(fields: tuple[FieldChange, ...]) -> tuple[FieldChange, ...]:
    """``fields`` without a feed-title change that repeats the headline's (issue 14): a
    feed-only article's headline is its entry's title, and many pages carry the feed's
    title too, so readers would see the same edit twice. Classification sees both."""
    headline = next((f for f in fields if f.field == "headline"), None)
    if headline is None:
        return fields
    return tuple(
        f
        for f in fields
        if not (f.field == "feed_title" and (f.old, f.new) == (headline.old, headline.new))
    )


def version_label(version: Version) -> str:
    return f"v{version.number}, {version.fetched_at:%Y-%m-%d %H:%M} UTC"


def _span(versions: list[Version]) -> str:
    return f"{versions[0].number}-{versions[-1].number}"


@dataclass(frozen=True)
class LinkedArticle:
    """An article linked to a seed: the link (with the latest drift) and the article."""

    link: SeedLink
    article: Article


@dataclass(frozen=True)
class DriftPoint:
    """One version of a linked article measured against its seed."""

    article: Article
    version: Version
    drift: Drift


def seeds_overview(
    store: ArchiveStore, settings: Settings
) -> list[tuple[Seed, list[LinkedArticle]]]:
    """Every seed in the folder with the articles linked to it."""
    overview = []
    for seed in load_seeds(settings.seeds.dir, settings.ignore):
        linked = []
        for link in store.list_seed_links(seed.id):
            article = store.get_article(link.article_id)
            if article is not None:
                linked.append(LinkedArticle(link, article))
        overview.append((seed, linked))
    return overview


def seed_timeline(
    store: ArchiveStore, settings: Settings, seed_id: str
) -> tuple[Seed, list[LinkedArticle], list[DriftPoint]]:
    """Every version of every article linked to ``seed_id``, against the seed, in time order."""
    for seed, linked in seeds_overview(store, settings):
        if seed.id != seed_id:
            continue
        points = []
        for item in linked:
            rules = settings.rules(item.article.feed)
            for version in store.list_versions(item.article.id):
                drift = compute_drift(seed, version.text, rules.diff_timeout)
                points.append(DriftPoint(item.article, version, drift))
        points.sort(key=lambda p: (p.version.fetched_at, p.article.id, p.version.number))
        return seed, linked, points
    raise CompareError(f"no seed {seed_id!r} in {settings.seeds.dir}")
