"""Compare two stored versions of an article: the diff, its verdict, ready to render."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from monitor.classify import classify
from monitor.config import Settings
from monitor.diff import diff_versions
from monitor.errors import MonitorError
from monitor.models import Article, DiffDocument, Version
from monitor.store import Store

Against = Literal["previous", "first", "seed"]


class CompareError(MonitorError):
    """The requested versions cannot be compared (missing version, no seed, ...)."""


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
        raise CompareError("this article is not linked to a seed")
    else:
        earlier = [v for v in versions if v.number < new.number]
        old = earlier[-1] if earlier else new
    return old, new


def compare_versions(
    article: Article, old: Version, new: Version, settings: Settings, now: datetime
) -> DiffDocument:
    """Diff and classify ``old`` -> ``new`` of ``article`` with its feed's rules."""
    rules = settings.rules(article.feed)
    diff = diff_versions(old, new, rules.diff_timeout)
    return DiffDocument(
        diff=diff,
        classification=classify(old, new, diff, rules, now),
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
    store: Store,
    settings: Settings,
    article: Article,
    now: datetime,
    start: int | None = None,
    end: int | None = None,
    against: Against = "previous",
) -> DiffDocument:
    """Load the versions named by ``start``/``end``/``against`` and compare them."""
    old, new = pick_versions(store.list_versions(article.id), start, end, against)
    return compare_versions(article, old, new, settings, now)


def version_label(version: Version) -> str:
    return f"v{version.number}, {version.fetched_at:%Y-%m-%d %H:%M} UTC"


def _span(versions: list[Version]) -> str:
    return f"{versions[0].number}-{versions[-1].number}"
