"""The mutable bookkeeping of one check pass, which becomes its ``CheckReport``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from monitor.models import Change, CheckReport, FeedReport, FeedState


@dataclass
class Ledger:
    """What one pass found and where it failed; shared by the rooms that do its work."""

    now: datetime
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # article-level, each naming its URL
    warnings: list[str] = field(default_factory=list)
    checked: set[int] = field(default_factory=set)  # article ids this pass has looked at
    articles_checked: int = 0
    store_errors: list[str] = field(default_factory=list)
    # Every feed's stored state, read in one query when the pass checks several feeds.
    feed_states: dict[str, FeedState] | None = None

    def report(self, feeds: Sequence[FeedReport]) -> CheckReport:
        return CheckReport(
            feeds=tuple(feeds),
            changes=tuple(self.changes),
            articles_checked=self.articles_checked,
            errors=tuple(self.errors),
            warnings=tuple(self.warnings),
            store_errors=tuple(self.store_errors),
        )
