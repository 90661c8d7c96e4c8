"""Comparing stored versions (monitor/compare.py): which pair, labelled how, judged how."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from monitor.compare import compare_with_rules, pick_versions, seed_version, version_label
from monitor.config import ClassifyRules
from monitor.errors import CompareError
from monitor.models import Article, Seed, Significance, Version

T0 = datetime(2025, 2, 4, 9, 0, tzinfo=UTC)
URL = "https://news.example/harbour"


def version(number: int, text: str = "The council met.", title: str | None = None) -> Version:
    return Version(1, number, f"h{number}", text, T0 + timedelta(hours=number), URL, title=title)


VERSIONS = [version(1), version(2), version(3)]
ARTICLE = Article(1, "world", URL, URL + "?moved", T0, T0, title="Harbour plan")


@pytest.mark.parametrize(
    ("start", "end", "against", "pair"),
    [
        (None, None, "previous", (2, 3)),  # the latest against the one before
        (None, None, "first", (1, 3)),
        (None, 2, "previous", (1, 2)),
        (None, 1, "previous", (1, 1)),  # nothing earlier: itself
        (3, 1, "previous", (3, 1)),  # --from and --to as asked, even backwards
        (2, None, "first", (2, 3)),  # --from wins over --against
    ],
)
def test_pick_versions(start, end, against, pair):
    old, new = pick_versions(VERSIONS, start, end, against)
    assert (old.number, new.number) == pair


@pytest.mark.parametrize(
    ("versions", "start", "end", "against", "message"),
    [
        ([], None, None, "previous", "no stored versions"),
        (VERSIONS, None, 7, "previous", "no version 7 (versions: 1-3)"),
        (VERSIONS, 0, None, "previous", "no version 0 (versions: 1-3)"),
        (VERSIONS, None, None, "seed", "through compare_stored"),
    ],
)
def test_pick_versions_refuses_what_is_not_there(versions, start, end, against, message):
    with pytest.raises(CompareError, match=re.escape(message)):
        pick_versions(versions, start, end, against)


def test_version_label():
    assert version_label(version(2)) == "v2, 2025-02-04 11:00 UTC"


def test_a_seed_is_version_0_of_the_article():
    seed = Seed("000_abc", "seeds/000_abc.txt", "Seed text.", title="Seed title")
    baseline = seed_version(seed, 7, T0)
    assert (baseline.article_id, baseline.number, baseline.text) == (7, 0, "Seed text.")
    assert (baseline.url, baseline.title, baseline.fetched_at) == (seed.path, "Seed title", T0)


def test_compare_with_rules_labels_and_judges_the_pair():
    old, new = version(1), version(2, "The council met on Monday.", title="Harbour vote")
    document = compare_with_rules(
        ARTICLE, old, new, ClassifyRules().thresholds(), T0 + timedelta(hours=3)
    )
    assert (document.title, document.url, document.feed) == (
        "Harbour vote",
        URL + "?moved",
        "world",
    )
    assert (document.old_label, document.new_label) == (version_label(old), version_label(new))
    assert (document.old_version, document.new_version) == (1, 2)
    assert (document.old_time, document.new_time) == (old.fetched_at, new.fetched_at)
    assert document.classification.significance == Significance.MAJOR  # a headline appeared
    assert document.classification.tags == ("headline", "lede")


def test_thresholds_carry_every_rule_the_classifier_reads():
    """``ClassifyRules.thresholds()`` is what crosses into a worker: a rule added to the
    config but not to ``Thresholds`` would be silently dropped there."""
    from dataclasses import asdict, fields

    from monitor.models import Thresholds

    rules = ClassifyRules(typo_chars=5, major_words=9, late_after="2h", diff_timeout=0.5)
    read = set(ClassifyRules.model_fields) - {"alert_significance"}  # routing's, not ours
    assert {f.name for f in fields(Thresholds)} == read
    assert asdict(rules.thresholds()) == {name: getattr(rules, name) for name in read}


def test_a_diff_in_a_worker_loads_neither_the_config_nor_pydantic():
    """A worker unpickles the job and runs it: what that imports, every worker of every run
    pays (the config module and pydantic: 0.13 s)."""
    import pickle
    import subprocess
    import sys
    from pathlib import Path

    old, new = version(1), version(2, "The council met on Monday.")
    args = (ARTICLE, old, new, ClassifyRules().thresholds(), T0)
    here = compare_with_rules(*args).classification.significance
    job = pickle.dumps((compare_with_rules, args))
    script = (
        "import pickle, sys\n"
        "fn, args = pickle.loads(sys.stdin.buffer.read())\n"
        "document = fn(*args)\n"
        "print(document.classification.significance,"
        " sorted({'monitor.config', 'pydantic'} & set(sys.modules)))\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", script], input=job, capture_output=True, cwd=root, timeout=60
    )
    assert result.stdout.decode().split(maxsplit=1) == [here, "[]\n"], result.stderr.decode()
