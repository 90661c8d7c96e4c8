"""The types that cross module boundaries (monitor/models.py): frozen, and their few rules."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from monitor import models
from monitor.models import (
    Change,
    ChangeKind,
    CheckReport,
    DiffStats,
    FeedReport,
    FeedStatus,
    FetchResult,
    FieldChange,
    Op,
    Page,
    RelayReport,
    Significance,
    TextDiff,
    Validators,
    Version,
    VersionDiff,
)

T0 = datetime(2025, 2, 4, 9, 0, tzinfo=UTC)
# Mutable on purpose: a relay pass adds up the reports of its deliveries.
MUTABLE = {"RelayReport"}


def dataclasses_of_the_module() -> list[type]:
    return [
        value
        for value in vars(models).values()
        if isinstance(value, type)
        and dataclasses.is_dataclass(value)
        and value.__module__ == models.__name__
    ]


@pytest.mark.parametrize("cls", dataclasses_of_the_module(), ids=lambda cls: cls.__name__)
def test_types_crossing_modules_are_frozen(cls):
    assert cls.__dataclass_params__.frozen is (cls.__name__ not in MUTABLE)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "etag", "last_modified", "not_modified"),
    [(200, '"a"', None, False), (304, None, "Tue, 04 Feb 2025 09:00:00 GMT", True)],
)
def test_fetch_result_validators(status, etag, last_modified, not_modified):
    result = FetchResult(
        "https://a.example/", "https://a.example/", status, {}, b"", T0, (), etag, last_modified
    )
    assert result.not_modified is not_modified
    assert result.validators == Validators(etag, last_modified)


def test_page_text_is_its_paragraphs_with_blank_lines_between():
    assert Page("T", ("One.", "Two.")).text == "One.\n\nTwo."
    assert Page(None, ()).text == ""


def test_version_size_is_its_text_length():
    assert Version(1, 1, "h", "héllo", T0, "https://a.example/").size == 5


@pytest.mark.parametrize(
    ("fields", "ops", "empty"),
    [
        ((), ((Op.EQUAL, "same"),), True),
        ((), (), True),
        ((), ((Op.EQUAL, "a "), (Op.INSERT, "b")), False),
        ((FieldChange("headline", "A", "B"),), ((Op.EQUAL, "same"),), False),
    ],
)
def test_version_diff_is_empty_without_fields_or_edits(fields, ops, empty):
    assert VersionDiff(fields, TextDiff(ops, (), DiffStats())).empty is empty


def test_significance_ranks_in_declared_order():
    ladder = [Significance.COSMETIC, Significance.MINOR, Significance.MAJOR, Significance.REWRITE]
    assert [level.rank for level in ladder] == [0, 1, 2, 3]


def test_check_report_counts_kinds_and_feed_errors():
    def change(kind: ChangeKind) -> Change:
        return Change(kind, 1, "world", "https://a.example/", T0)

    report = CheckReport(
        feeds=(
            FeedReport("world", FeedStatus.OK, 200),
            FeedReport("wire", FeedStatus.ERROR, 500, error="HTTP 500"),
            FeedReport("local", FeedStatus.SKIPPED),
        ),
        changes=(change(ChangeKind.NEW), change(ChangeKind.NEW), change(ChangeKind.MOVED)),
        articles_checked=3,
    )
    assert [report.count(kind) for kind in ChangeKind] == [2, 0, 0, 0, 0, 1]
    assert report.feed_errors == 1


def test_relay_reports_add_up():
    total = RelayReport(delivered=1, errors=["a"])
    total.add(RelayReport(delivered=2, retried=1, dead=1, errors=["b"]))
    assert total == RelayReport(delivered=3, retried=1, dead=1, errors=["a", "b"])


def test_article_but_is_replace_at_a_lower_cost():
    article = models.Article(7, "feed", "https://a.example/x", "https://a.example/x", T0, T0)
    changes = {"last_checked": T0, "etag": '"v2"', "versions": 3}
    quick = article.but(**changes)
    assert quick == dataclasses.replace(article, **changes)
    assert type(quick) is models.Article and article.etag is None  # the original is as it was
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.etag = None  # type: ignore[misc]
    with pytest.raises(TypeError, match="no field 'etga'"):
        article.but(etga="typo")
