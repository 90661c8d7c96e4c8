"""Pure scheduling decisions: when a feed or an article is next due. No I/O; ``now`` is given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from monitor.config import CheckStep

# A feed that keeps failing is retried less often, but never less than this often.
MAX_FEED_BACKOFF = timedelta(hours=6)
# Cron rarely fires exactly on time: treat a feed as due this much early, so a feed checked at
# 12:00:03 is not skipped by the 12:15:00 run (capped at a tenth of the feed's interval).
DUE_SLACK = timedelta(seconds=60)


def next_article_check(
    first_seen: datetime, now: datetime, schedule: Sequence[CheckStep]
) -> datetime | None:
    """When to re-check an article first seen at ``first_seen``; None once it is old enough.

    The step is picked by the article's age now, so checks thin out as it ages (every 15 min
    for 3 h, hourly to a day, every 6 h to a week, then never, by default).
    """
    age = now - first_seen
    for step in schedule:
        if age < step.until:
            return now + step.every
    return None


def next_feed_check(interval: timedelta, now: datetime, failures: int = 0) -> datetime:
    """When to check a feed again: after its interval, backing off exponentially on failures."""
    if failures <= 0:
        return now + interval
    factor: int = 2 ** min(failures - 1, 16)
    backoff = interval * factor
    return now + max(interval, min(backoff, MAX_FEED_BACKOFF))


def is_due(next_due: datetime | None, interval: timedelta, now: datetime) -> bool:
    """Whether a feed whose next check is ``next_due`` should be checked at ``now``."""
    if next_due is None:
        return True
    slack = min(DUE_SLACK, interval / 10)
    return next_due <= now + slack
