"""Links between articles and seed baselines, kept current as new versions arrive."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from monitor.config import Settings
from monitor.ledger import Ledger
from monitor.models import Article, Change, ChangeKind, Seed, SeedLink, Significance, Version
from monitor.seeds import SeedIndex, compute_drift
from monitor.store import CheckStore
from monitor.store.runner import StoreRunner


class SeedLinker:
    """Matches new versions against the seeds and measures their drift from them."""

    def __init__(
        self, settings: Settings, store: CheckStore, db: StoreRunner, seeds: Sequence[Seed]
    ) -> None:
        self.settings = settings
        self.store = store
        self.db = db
        self.use(seeds)

    def use(self, seeds: Sequence[Seed]) -> None:
        """Match new versions against ``seeds`` from now on."""
        self.seeds = {seed.id: seed for seed in seeds}
        self.index = SeedIndex(seeds) if seeds else None

    async def event(self, article: Article, kind: ChangeKind, run: Ledger, detail: str) -> Change:
        """A lifecycle event (removed, restored) carrying the article's seed link."""
        link = None
        if self.seeds and article.id:
            link = await self.db.read(self.store.get_seed_link, article.id)
        return Change(
            kind=kind,
            article_id=article.id,
            feed=article.feed,
            url=article.current_url,
            detected_at=run.now,
            title=article.title,
            version=article.versions or None,
            detail=detail,
            seed_id=link.seed_id if link else None,
            drift=link.drift if link else None,
        )

    async def link(
        self, article: Article, version: Version, change: Change, run: Ledger
    ) -> SeedLink | None:
        """The article's seed link with the drift of ``version``; None when unlinked.

        An unlinked article is matched against the seeds on every new version; a linked one
        keeps its seed until it changes a lot (a URL reused for another story must unlink).
        """
        if self.index is None:
            return None
        current = await self.db.read(self.store.get_seed_link, article.id) if article.id else None
        big_change = change.significance in (Significance.MAJOR, Significance.REWRITE)
        if current is None or big_change:
            found = self.index.match(version.text, article.url, article.canonical_url, article.feed)
            if found is None:
                if current is not None:
                    await self.db.write(self.store.remove_seed_link, article.id)
                    run.warnings.append(
                        f"{article.current_url}: no longer matches seed {current.seed_id}; unlinked"
                    )
                return None
            if current is None or current.seed_id != found.seed_id:
                current = SeedLink(article.id, found.seed_id, found.score, found.reasons, run.now)
        seed = self.seeds.get(current.seed_id)
        if seed is None:
            return None  # its seed file is gone: the link stays as it was
        rules = self.settings.rules(article.feed)
        drift = await asyncio.to_thread(compute_drift, seed, version.text, rules.diff_timeout)
        return replace(current, drift=drift, drift_version=version.number)
