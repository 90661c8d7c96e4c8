"""Pure scheduling decisions (monitor/schedule.py): when an article or a feed is next due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import CheckStep
from monitor.schedule import MAX_FEED_BACKOFF, is_due, next_article_check, next_feed_check

NOW = datetime(2025, 2, 4, 12, 0, tzinfo=UTC)
MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
SCHEDULE = (
    CheckStep(until=3 * HOUR, every=15 * MIN),
    CheckStep(until=DAY, every=HOUR),
    CheckStep(until=7 * DAY, every=6 * HOUR),
)


@pytest.mark.parametrize(
    ("age", "every"),
    [
        (timedelta(0), 15 * MIN),  # just found
        (3 * HOUR - MIN, 15 * MIN),
        (3 * HOUR, HOUR),  # the step is picked by age: `until` is exclusive
        (23 * HOUR, HOUR),
        (DAY, 6 * HOUR),
        (7 * DAY - MIN, 6 * HOUR),
        (7 * DAY, None),  # old enough: never again
        (30 * DAY, None),
    ],
)
def test_next_article_check_thins_out_with_age(age, every):
    due = next_article_check(NOW - age, NOW, SCHEDULE)
    assert due == (None if every is None else NOW + every)


def test_next_article_check_with_no_schedule_is_never():
    assert next_article_check(NOW, NOW, ()) is None


@pytest.mark.parametrize(
    ("interval", "failures", "after"),
    [
        (15 * MIN, 0, 15 * MIN),
        (15 * MIN, -1, 15 * MIN),  # never sooner than the interval
        (15 * MIN, 1, 15 * MIN),  # the first failure: as usual
        (15 * MIN, 2, 30 * MIN),  # then doubling
        (15 * MIN, 3, HOUR),
        (15 * MIN, 5, 4 * HOUR),
        (15 * MIN, 6, MAX_FEED_BACKOFF),  # capped
        (15 * MIN, 1000, MAX_FEED_BACKOFF),  # no overflow however long it fails
        (DAY, 3, DAY),  # an interval longer than the cap is kept
        (timedelta(seconds=1), 3, timedelta(seconds=4)),
    ],
)
def test_next_feed_check_backs_off_exponentially_up_to_a_cap(interval, failures, after):
    assert next_feed_check(interval, NOW, failures) == NOW + after


@pytest.mark.parametrize(
    ("next_due", "interval", "due"),
    [
        (None, 15 * MIN, True),  # never checked
        (NOW - MIN, 15 * MIN, True),
        (NOW, 15 * MIN, True),
        (NOW + 59 * timedelta(seconds=1), 15 * MIN, True),  # within the minute's slack
        (NOW + MIN, 15 * MIN, True),
        (NOW + MIN + timedelta(seconds=1), 15 * MIN, False),
        (NOW + 6 * timedelta(seconds=1), MIN, True),  # slack is a tenth of a short interval
        (NOW + 7 * timedelta(seconds=1), MIN, False),
        (NOW + timedelta(milliseconds=1), timedelta(0), False),  # no interval, no slack
    ],
)
def test_is_due_allows_cron_a_little_slack(next_due, interval, due):
    assert is_due(next_due, interval, NOW) is due
