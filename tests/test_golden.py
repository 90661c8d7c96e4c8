"""Golden files: version pairs from the seed story with their verdicts and renderings.

Each case asserts its significance and tags here, and compares the text, JSON and HTML
renderings with files under tests/golden/. After an intended change of output, regenerate
with ``NEWSMONITOR_UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.classify import classify
from monitor.compare import version_label
from monitor.config import ClassifyRules
from monitor.diff import diff_versions
from monitor.models import DiffDocument, Significance, Version
from monitor.newsroom import BUDGET
from monitor.normalize import normalize_text
from monitor.render.html import render_html
from monitor.render.jsonout import diff_to_json
from monitor.render.text import render_text

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("NEWSMONITOR_UPDATE_GOLDEN") == "1"
T0 = datetime(2025, 2, 4, 9, 0, tzinfo=UTC)
RULES = ClassifyRules().thresholds()
HEADLINE = "El Salvador offers to jail deportees from the US"


def seed_paragraphs() -> list[str]:
    lines = (ROOT / "seeds" / "000_c6811b779e006353.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("Watch NBS")]


def version(number: int, paragraphs: list[str], title: str = HEADLINE) -> Version:
    text = normalize_text("\n\n".join(paragraphs))
    return Version(
        article_id=1,
        number=number,
        content_hash=f"{number:064x}",
        text=text,
        fetched_at=T0 + timedelta(minutes=15 * number),
        url="https://news.example/el-salvador-prison-offer",
        title=title,
        byline="Staff reporter",
        published=T0 - timedelta(hours=1),
    )


def edit(paragraphs: list[str], index: int, old: str, new: str) -> list[str]:
    assert old in paragraphs[index], f"{old!r} not in paragraph {index}"
    changed = list(paragraphs)
    changed[index] = changed[index].replace(old, new, 1)
    return changed


def other_story() -> list[str]:
    """A different story of our own (from the demo newsroom), for the full rewrite."""
    return list(BUDGET.paragraphs)


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[list[str]], tuple[list[str], list[str], str]]  # -> old, new, new title
    significance: Significance
    tags: tuple[str, ...]


def _same_title(fn: Callable[[list[str]], list[str]]) -> Callable[..., tuple]:
    return lambda p: (p, fn(p), HEADLINE)


def _moved(p: list[str]) -> list[str]:
    return [*p[:3], *p[4:8], p[3], *p[8:]]


CASES = [
    Case(
        "headline_rewrite",
        lambda p: (p, p, "Bukele offers to house US convicts in his mega prison, for a fee"),
        Significance.MAJOR,
        ("headline",),
    ),
    Case(
        "number_changed",
        _same_title(lambda p: edit(p, 11, "30,000", "40,000")),
        Significance.MINOR,
        ("numbers",),
    ),
    Case(
        "quote_changed",
        _same_title(
            lambda p: edit(p, 1, "outsource part of its prison system", "outsource its prisons")
        ),
        Significance.MINOR,
        ("quotes",),
    ),
    Case(
        "correction_added",
        _same_title(
            lambda p: [
                *p,
                "Correction: An earlier version of this article misstated where Rubio spoke. "
                "It was in Costa Rica.",
            ]
        ),
        Significance.MAJOR,
        ("correction",),
    ),
    Case(
        "paragraph_inserted",
        _same_title(
            lambda p: [
                *p[:6],
                "Costa Rica's president said his country would study any request from "
                "Washington with care.",
                *p[6:],
            ]
        ),
        Significance.MINOR,
        (),
    ),
    Case(
        "paragraph_deleted",
        _same_title(lambda p: [*p[:8], *p[10:]]),
        Significance.MAJOR,
        ("quotes", "deletion"),
    ),
    Case("sentence_moved", _same_title(_moved), Significance.MINOR, ("reordered",)),
    Case(
        "whitespace_only",
        _same_title(lambda p: [*p[:4], p[4] + " " + p[5], *p[6:]]),
        Significance.COSMETIC,
        (),
    ),
    Case(
        "punctuation_only",
        _same_title(lambda p: edit(p, 5, "a constitution, we have", "a constitution; we have")),
        Significance.COSMETIC,
        (),
    ),
    Case(
        "one_letter_typo",
        lambda p: (edit(p, 3, "unprecedented", "unprecedentd"), p, HEADLINE),
        Significance.COSMETIC,
        (),
    ),
    Case(
        "full_rewrite",
        lambda p: (p, other_story(), HEADLINE),
        Significance.REWRITE,
        ("quotes", "lede", "deletion"),
    ),
    Case(
        "lede_edited",
        _same_title(lambda p: edit(p, 0, "has offered to", "has proposed to")),
        Significance.MINOR,
        ("lede",),
    ),
]


def document(case: Case) -> DiffDocument:
    old_paragraphs, new_paragraphs, new_title = case.make(seed_paragraphs())
    old = version(1, old_paragraphs)
    new = version(2, new_paragraphs, title=new_title)
    diff = diff_versions(old, new)
    verdict = classify(old, new, diff, RULES, now=new.fetched_at)
    return DiffDocument(
        diff=diff,
        classification=verdict,
        title=new.title,
        url=new.url,
        old_label=version_label(old),
        new_label=version_label(new),
        feed="world",
        article_id=1,
        old_version=1,
        new_version=2,
        old_time=old.fetched_at,
        new_time=new.fetched_at,
    )


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} did not exist; written now, review and commit it")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict_and_renderings_match_golden(case: Case) -> None:
    doc = document(case)
    assert doc.classification.significance == case.significance
    assert doc.classification.tags == case.tags
    check_golden(f"{case.name}.txt", render_text(doc))
    check_golden(
        f"{case.name}.json", json.dumps(diff_to_json(doc), indent=2, ensure_ascii=False) + "\n"
    )


@pytest.mark.parametrize("mode", ["inline", "side-by-side"])
def test_html_golden(mode: str) -> None:
    doc = document(CASES[1])  # a changed number: one edited sentence, with context
    check_golden(f"number_changed.{mode}.html", render_html(doc, mode=mode))  # type: ignore[arg-type]


def test_late_edit_is_tagged() -> None:
    paragraphs = seed_paragraphs()
    old = version(1, paragraphs)
    new = replace(version(2, edit(paragraphs, 11, "30,000", "40,000")))
    diff = diff_versions(old, new)
    late = classify(old, new, diff, RULES, now=T0 + timedelta(days=3))
    assert late.tags == ("numbers", "late")
    assert late.significance == Significance.MINOR
