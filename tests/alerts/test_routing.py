"""Which changes reach which channel (alerts/routing.py)."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.alerts.routing import accepts
from monitor.config import WebhookConfig
from monitor.models import Change, ChangeKind, DiffStats, Significance
from tests.alerts.samples import NOW


def changed(significance: str | None = "major", **extra: Any) -> Change:
    fields: dict[str, Any] = {
        "kind": ChangeKind.CHANGED,
        "article_id": 1,
        "feed": "world",
        "url": "https://x/",
        "detected_at": NOW,
        "significance": Significance(significance) if significance else None,
        "stats": DiffStats(),
        **extra,
    }
    return Change(**fields)


@pytest.mark.parametrize(
    ("channel", "change", "seed", "default_min", "expected"),
    [
        ({}, changed("minor"), None, "minor", True),
        ({}, changed("cosmetic"), None, "minor", False),
        ({}, changed("cosmetic"), None, "cosmetic", True),
        ({"min_significance": "major"}, changed("minor"), None, "cosmetic", False),
        ({"min_significance": "major"}, changed("rewrite"), None, "rewrite", True),
        ({}, changed(kind=ChangeKind.NEW), None, "minor", False),  # not a default kind
        ({"kinds": ["new"]}, changed(None, kind=ChangeKind.NEW), None, "minor", True),
        ({"kinds": ["new"]}, changed("major"), None, "minor", False),
        ({}, changed(None, kind=ChangeKind.REMOVED), None, "rewrite", True),
        ({}, changed("minor", kind=ChangeKind.REVERTED), None, "minor", True),
        ({}, changed("cosmetic", kind=ChangeKind.REVERTED), None, "minor", False),
        (
            {},
            changed("major", kind=ChangeKind.REVERTED, tags=("headline", "flip-flop")),
            None,
            "minor",
            False,
        ),
        ({"feeds": ["world"]}, changed(), None, "minor", True),
        ({"feeds": ["local"]}, changed(), None, "minor", False),
        ({"seeds": ["s1"]}, changed(), None, "minor", False),
        ({"seeds": ["s1"]}, changed(), "s1", "minor", True),
        ({"seeds": ["s1"]}, changed(), "s2", "minor", False),
        ({"seeds": ["s1"]}, changed(seed_id="s1"), None, "minor", True),
    ],
)
def test_accepts(
    channel: dict[str, Any], change: Change, seed: str | None, default_min: str, expected: bool
) -> None:
    config = WebhookConfig.model_validate(
        {"name": "h", "type": "webhook", "url": "https://h.example/", "secret": "s", **channel}
    )
    assert accepts(config, change, seed, default_min) is expected
