"""What every view shares: the request as views see it, the site (settings, store,
templates, the diff cache), filters and cursors read from query strings.

Templates autoescape everything; the only markup passed through as ``Markup`` is the diff
renderer's (monitor/render/html.py escapes every piece of article text it writes).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from markupsafe import Markup

from monitor.clock import Clock, utc_now
from monitor.compare import Against, compare_stored, compare_versions
from monitor.config import Settings
from monitor.errors import CompareError
from monitor.models import (
    Article,
    Change,
    ChangeKind,
    Classification,
    DiffDocument,
    Significance,
)
from monitor.render.html import render_html, web_url
from monitor.store import ChangeCursor, ChangeFilter, WebStore

DiffMode = Literal["inline", "side-by-side"]
# Pages load nothing but our own stylesheet. The diff renderer writes inline style
# attributes (it is made for mail clients, monitor/render/html.py), hence style-src-attr;
# no <style> element and no script of any origin can run.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# A stored capture shown as HTML: a sandbox (an opaque origin, no scripts, no forms) that
# may load nothing, so not even an image request leaves for the page's own site.
RAW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
MAX_PHRASE = 200  # a search is a phrase, not a document
# A search's page costs what the pages before it cost (candidates are checked from the
# newest on): deep pages are for `search --all` or `export`, not for paging.
MAX_SEARCH_OFFSET = 10_000
FILTER_KEYS = ("feed", "seed", "kind", "significance", "tag", "since", "until", "article")
DIFF_CACHE_SIZE = 4096  # rendered diffs kept (a few KB each): a feed's 50 are rendered once
# Diffs of the newest changes rendered when the server starts, so that feed readers' first
# polls find them kept (fifty never-rendered diffs cost about 100 ms, bench/web.py).
WARM_CHANGES = 200
WARM_EVERY = 60.0  # seconds
# A figure as articles write them: 40,000 or 2.1 or 1 500 000 is one.
_FIGURE = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d{3})*(?:[.,]\d+)?")
WORKERS = 4


class WebError(Exception):
    """A request the site cannot answer: its HTTP status and a message for the reader."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Req:
    """A request as a view sees it: plain values, safe to hand to a thread."""

    path: str
    query: Mapping[str, str]
    params: Mapping[str, str]
    base: str  # scheme and host of the site (or [web] base_url), no trailing slash

    def int_param(self, name: str) -> int:
        return int(self.params[name])


class Site:
    """The settings, the store, the templates and the diffs already rendered."""

    def __init__(self, settings: Settings, store: WebStore, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("monitor.web", "templates"),
            autoescape=True,
            lstrip_blocks=True,
        )
        self.templates.filters["when"] = format_when
        self.templates.globals["outbound"] = outbound_url
        self._diffs: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._diffs_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="web")

    def base_url(self, from_request: str) -> str:
        return self.settings.web.base_url or from_request.rstrip("/")

    async def call(
        self, view: Callable[[Site, Req], web.StreamResponse], req: Req
    ) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, view, self, req)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    async def warm(self) -> None:
        """Render the diffs of the newest changes not rendered yet (in the site's threads,
        off the loop): when the server starts, and every ``WARM_EVERY`` as changes come."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._warm)

    def _warm(self) -> None:
        try:
            self.change_diffs(self.store.page_changes(ChangeFilter(), WARM_CHANGES))
        except Exception:  # only a head start: a failure here shows again on a request
            logging.getLogger(__name__).exception("rendering the newest diffs failed")

    def page(self, template: str, req: Req, status: int = 200, **context: Any) -> web.Response:
        """``template`` rendered as a whole HTML page."""
        context.setdefault("alternates", [])
        html = self.templates.get_template(template).render(req=req, **context)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def diff_html(
        self, article: Article, old: int | None, new: int | None, against: Against, mode: DiffMode
    ) -> tuple[DiffDocument, Markup]:
        """The diff of ``article`` between two versions, rendered (and kept: stored versions
        never change, so neither does their diff)."""
        document = self.compare(article, old, new, against)
        return document, self._rendered(document, mode)

    def _rendered(self, document: DiffDocument, mode: DiffMode) -> Markup:
        # With the verdict: the one stored with a change (feeds), or one made as of now.
        key: tuple[Any, ...] = (document.article_id, document.old_label, document.new_version)
        key += (mode, document.classification)
        with self._diffs_lock:
            cached = self._diffs.get(key)
            if cached is not None:
                self._diffs.move_to_end(key)
                return Markup(cached)
        # links=False: the page links the article itself, with rel="noopener noreferrer".
        html = render_html(document, mode, context=1, full_document=False, links=False)
        with self._diffs_lock:
            self._diffs[key] = html
            while len(self._diffs) > DIFF_CACHE_SIZE:
                self._diffs.popitem(last=False)
        return Markup(html)

    def change_diffs(self, changes: Sequence[Change]) -> dict[int, Markup]:
        """{change id: its inline word diff} for the changed and reverted ones, each
        rendered once and kept. A feed asks for fifty: what is not kept yet is read in two
        queries (the articles, then just the two versions each compares)."""
        shown: dict[int, Markup] = {}
        missing = []
        with self._diffs_lock:
            for change in changes:
                if not _has_diff(change):
                    continue
                cached = self._diffs.get(_change_key(change))
                if cached is None:
                    missing.append(change)
                else:
                    self._diffs.move_to_end(_change_key(change))
                    shown[change.id] = Markup(cached)
        if not missing:
            return shown
        articles = {a.id: a for a in self.store.get_articles([c.article_id for c in missing])}
        pairs = {change.id: _versions_compared(change) for change in missing}
        versions = self.store.get_versions([key for pair in pairs.values() for key in pair])
        now = self.clock()
        for change in missing:
            article = articles.get(change.article_id)
            old, new = (versions.get(key) for key in pairs[change.id])
            if article is None or old is None or new is None:
                continue
            known = (
                Classification(change.significance, change.tags) if change.significance else None
            )
            document = compare_versions(article, old, new, self.settings, now, known)
            shown[change.id] = html = self._rendered(document, "inline")
            with self._diffs_lock:
                self._diffs[_change_key(change)] = str(html)
        return shown

    def figures(self, changes: Sequence[Change]) -> dict[int, str]:
        """{change id: "30,000 → 40,000"} for the edits tagged ``numbers``, from the figures
        of the two versions (no diff: a page of fifty rows must stay cheap), kept."""
        tagged = [c for c in changes if _has_diff(c) and "numbers" in c.tags]
        with self._diffs_lock:
            missing = [c for c in tagged if _figures_key(c) not in self._diffs]
        if missing:
            pairs = {change.id: _versions_compared(change) for change in missing}
            versions = self.store.get_versions([key for pair in pairs.values() for key in pair])
            for change in missing:
                old, new = (versions.get(key) for key in pairs[change.id])
                if old is not None and new is not None:
                    line = figures_changed(old.text, new.text)
                    with self._diffs_lock:
                        self._diffs[_figures_key(change)] = line
        with self._diffs_lock:
            found = {c.id: self._diffs.get(_figures_key(c)) for c in tagged}
        return {key: value for key, value in found.items() if value}

    def compare(
        self, article: Article, old: int | None, new: int | None, against: Against
    ) -> DiffDocument:
        try:
            return compare_stored(
                self.store, self.settings, article, self.clock(), old, new, against
            )
        except CompareError as exc:
            raise WebError(404, f"article {article.id}: {exc}") from exc

    def article(self, req: Req) -> Article:
        found = self.store.get_article(req.int_param("id"))
        if found is None:
            raise WebError(404, f"no article {req.params['id']}")
        return found


def _has_diff(change: Change) -> bool:
    """Changed and reverted changes compare two stored versions; the others none."""
    return (
        change.kind in (ChangeKind.CHANGED, ChangeKind.REVERTED)
        and change.version is not None
        and change.previous_version is not None
    )


def _versions_compared(change: Change) -> tuple[tuple[int, int], tuple[int, int]]:
    """(article id, number) of the old and the new version a change with a diff compares."""
    return (change.article_id, change.previous_version or 0), (
        change.article_id,
        change.version or 0,
    )


def _figures_key(change: Change) -> tuple[Any, ...]:
    return (change.article_id, f"figures {change.id}", change.version, "")


def figures_changed(old: str, new: str, limit: int = 2) -> str:
    """The figures an edit replaced, "30,000 → 40,000; 12 → 15" (at most ``limit``): those
    only in the old text paired, in order, with those only in the new one."""
    old_figures, new_figures = _FIGURE.findall(old), _FIGURE.findall(new)
    removed = _only_in(old_figures, new_figures)
    added = _only_in(new_figures, old_figures)
    pairs = [f"{a} \u2192 {b}" for a, b in zip(removed, added, strict=False)]
    return "; ".join(pairs[:limit]) + (" …" if len(pairs) > limit else "")


def _only_in(figures: list[str], other: list[str]) -> list[str]:
    """The figures of ``figures`` that ``other`` lacks (counting repeats), in order."""
    left = Counter(figures) - Counter(other)
    found = []
    for figure in figures:
        if left[figure] > 0:
            left[figure] -= 1
            found.append(figure)
    return found


def _change_key(change: Change) -> tuple[Any, ...]:
    return (change.article_id, f"change {change.id}", change.version, "inline")


def parse_filter(query: Mapping[str, str]) -> ChangeFilter:
    """The filters of the Changes page and the feeds from a query string; WebError(400)
    naming the parameter when one is not understood."""
    values: dict[str, Any] = {}
    for key in FILTER_KEYS:
        raw = (query.get(key) or "").strip()
        if not raw:
            continue
        try:
            values.update(_filter_value(key, raw))
        except ValueError as exc:
            raise WebError(400, f"{key}: {exc}") from None
    return ChangeFilter(**values)


def _filter_value(key: str, raw: str) -> dict[str, Any]:
    if key == "feed":
        return {"feed": raw}
    if key == "seed":
        return {"seed_id": raw}
    if key == "article":
        return {"article_id": int(raw)}
    if key == "kind":
        return {"kind": ChangeKind(raw)}
    if key == "significance":
        return {"min_significance": Significance(raw)}
    if key == "tag":
        if not raw.replace("-", "").isalnum() or len(raw) > 40:
            raise ValueError(f"not a tag: {raw!r}")
        return {"tag": raw}
    day = date.fromisoformat(raw)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    # `until` names the last day shown, so the bound is the start of the day after.
    return {"since": start} if key == "since" else {"until": start + timedelta(days=1)}


def search_query(query: Mapping[str, str]) -> tuple[str, str | None, datetime | None]:
    """``q``, ``feed`` and ``since`` of a search (the Search page and ``/api/search``);
    WebError 400 naming the parameter that is wrong."""
    phrase = " ".join((query.get("q") or "").split())
    if len(phrase) > MAX_PHRASE:
        raise WebError(400, f"q: at most {MAX_PHRASE} characters")
    feed = (query.get("feed") or "").strip() or None
    since = None
    if raw := (query.get("since") or "").strip():
        try:
            since = _filter_value("since", raw)["since"]
        except ValueError as exc:
            raise WebError(400, f"since: {exc}") from None
    return phrase, feed, since


def search(
    site: Site,
    phrase: str,
    feed: str | None,
    since: datetime | None,
    limit: int,
    offset: int = 0,
) -> tuple[list[Any], bool]:
    """A page of the store's phrase search (newest first) and whether more follow; a
    phrase with no words is the caller's 400."""
    try:
        found = site.store.search_phrase(phrase, feed, since, limit + 1, offset)
    except ValueError as exc:
        raise WebError(400, f"q: {exc}") from None
    return found[:limit], len(found) > limit


def search_offset(query: Mapping[str, str]) -> int:
    """``offset``: the articles of a search's earlier pages, skipped (WebError 400)."""
    raw = (query.get("offset") or "0").strip()
    if not raw.isdigit() or int(raw) > MAX_SEARCH_OFFSET:
        raise WebError(400, f"offset: a number from 0 to {MAX_SEARCH_OFFSET}")
    return int(raw)


def filter_query(where: ChangeFilter) -> dict[str, str]:
    """The query parameters that give ``where`` back (``parse_filter``'s inverse)."""
    query = {
        "feed": where.feed,
        "seed": where.seed_id,
        "article": str(where.article_id) if where.article_id is not None else None,
        "kind": str(where.kind) if where.kind else None,
        "significance": str(where.min_significance) if where.min_significance else None,
        "tag": where.tag,
        "since": where.since.date().isoformat() if where.since else None,
        "until": (where.until - timedelta(days=1)).date().isoformat() if where.until else None,
    }
    return {key: value for key, value in query.items() if value}


def with_query(path: str, query: Mapping[str, str]) -> str:
    return f"{path}?{urlencode(sorted(query.items()))}" if query else path


def parse_cursor(raw: str | None) -> ChangeCursor | None:
    """``after=<microseconds since 1970>-<id>`` -> (detected_at, id)."""
    if not raw:
        return None
    try:
        micros, _, change_id = raw.partition("-")
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
        return moment, int(change_id)
    except (ValueError, OverflowError):
        raise WebError(400, "after: not a page cursor") from None


def cursor_of(change: Change) -> str:
    delta = change.detected_at - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}-{change.id}"


def page_of_changes(
    site: Site, query: Mapping[str, str], limit: int | None = None
) -> tuple[ChangeFilter, list[Change], str | None]:
    """A page of the changes the query asks for, and the cursor of the next (None: last)."""
    where = parse_filter(query)
    size = limit or site.settings.web.page_size
    found = site.store.page_changes(where, size + 1, parse_cursor(query.get("after")))
    following = cursor_of(found[size - 1]) if len(found) > size else None
    return where, found[:size], following


def format_when(moment: datetime | None) -> str:
    """``2026-12-04 21:21 UTC``; an empty string for None."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def outbound_url(url: str | None) -> str | None:
    """``url`` when it may be a link (plain http(s)); None otherwise (shown as text)."""
    return url if url and web_url(url) else None


def change_summary(change: Change) -> str:
    """One line: ``+12 −3 words``, the detail of a move or removal, or the version."""
    if change.stats is not None:
        line = f"+{change.stats.words_added} \u2212{change.stats.words_removed} words"
        if change.reverted_to is not None:
            line += f", back to v{change.reverted_to}"
        return line
    if change.detail:
        return change.detail
    return f"v{change.version}" if change.version else ""
