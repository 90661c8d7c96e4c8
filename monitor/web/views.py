"""The HTML pages: Changes, Article, Feeds, Seeds, Alerts, Search, and a version's raw
capture.

Each view reads through the same store methods and library functions as the CLI's
reading commands (compare.py for diffs and seeds, the store's Protocol methods), and
renders a template; none writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast, get_args

from aiohttp import web

from monitor.alerts.payload import change_path
from monitor.compare import Against, LinkedArticle, seed_timeline, seeds_overview
from monitor.errors import CompareError
from monitor.models import AlertStatus, Change, ChangeKind, Significance
from monitor.seeds import load_seeds
from monitor.web.charts import bar_chart, drift_chart
from monitor.web.site import (
    RAW_CSP,
    DiffMode,
    Req,
    Site,
    WebError,
    change_summary,
    filter_query,
    page_of_changes,
    search,
    search_offset,
    search_query,
    with_query,
)

# The tags classify.py and the pipeline give changes (README, "What changed").
TAGS = (
    "headline",
    "byline",
    "numbers",
    "quotes",
    "correction",
    "lede",
    "deletion",
    "reordered",
    "late",
    "flip-flop",
)
DAYS_SHOWN = 14  # the Feeds page's changes per day


@dataclass(frozen=True)
class Feed:
    """A feed of changes named in a page's <head> (autodiscovery) and on the page."""

    title: str
    atom: str
    json: str


def feeds_for(query: dict[str, str], title: str) -> list[Feed]:
    return [Feed(title, with_query("/changes.atom", query), with_query("/changes.json", query))]


def diff_link(change: Change) -> str | None:
    """The article page showing this change's diff, when it has one."""
    if change.version is None or change.previous_version is None:
        return None
    return change_path(change)


def changes_page(site: Site, req: Req) -> web.Response:
    where, found, following = page_of_changes(site, req.query)
    query = filter_query(where)
    figures = site.figures(found)
    rows = [
        {
            "change": change,
            "summary": change_summary(change),
            "figures": figures.get(change.id),
            "diff": diff_link(change),
            "article": f"/articles/{change.article_id}",
        }
        for change in found
    ]
    seeds = load_seeds(site.settings.seeds.dir, site.settings.ignore)
    title = "Changes" + (f" ({', '.join(f'{k}: {v}' for k, v in query.items())})" if query else "")
    return site.page(
        "changes.html",
        req,
        title=title,
        rows=rows,
        query=query,
        feed_names=[feed.name for feed in site.settings.feeds],
        seed_ids=[seed.id for seed in seeds],
        kinds=[str(kind) for kind in ChangeKind],
        significances=[str(level) for level in Significance],
        tags=TAGS,
        next_page=with_query("/", {**query, "after": following}) if following else None,
        first_page=with_query("/", query) if req.query.get("after") else None,
        alternates=feeds_for(query, title),
    )


def article_page(site: Site, req: Req) -> web.Response:
    article = site.article(req)
    versions = site.store.list_versions(article.id)
    events = site.store.list_changes(article_id=article.id)
    link = site.store.get_seed_link(article.id)
    mode = cast(DiffMode, _choice(req, "mode", get_args(DiffMode), "inline"))
    against = cast(Against, _choice(req, "against", get_args(Against), "previous"))
    old = _version_number(req, "from")
    new = _version_number(req, "to")
    diff = None
    error = None
    if len(versions) > 1 or (against == "seed" and link is not None and versions):
        try:
            document, html = site.diff_html(article, old, new, against, mode)
            diff = {"document": document, "html": html}
        except WebError as exc:
            error = str(exc)
    query = {"article": str(article.id)}
    selected = {"from": old, "to": new, "against": against, "mode": mode}
    switch = {k: str(v) for k, v in selected.items() if v is not None and k != "mode"}
    return site.page(
        "article.html",
        req,
        title=article.title or article.current_url,
        article=article,
        versions=list(reversed(versions)),
        events=list(reversed(events)),
        link=link,
        diff=diff,
        error=error,
        selected=selected,
        other_mode=with_query(
            f"/articles/{article.id}",
            {**switch, "mode": "side-by-side" if mode == "inline" else "inline"},
        )
        + "#diff",
        against_choices=[a for a in get_args(Against) if a != "seed" or link is not None],
        alternates=feeds_for(query, f"Changes of article {article.id}"),
    )


def _choice(req: Req, name: str, choices: tuple[str, ...], default: str) -> str:
    value = req.query.get(name) or default
    if value not in choices:
        raise WebError(400, f"{name}: one of {', '.join(choices)}")
    return value


def _version_number(req: Req, name: str) -> int | None:
    raw = req.query.get(name)
    if not raw:
        return None
    if not raw.isdigit():
        raise WebError(400, f"{name}: a version number")
    return int(raw)


def raw_capture(site: Site, req: Req) -> web.Response:
    """The response body a version was extracted from: as text (default), or as HTML in a
    sandbox (``?as=html``: an opaque origin, no scripts, nothing loaded)."""
    article = site.article(req)
    number = req.int_param("number")
    body = site.store.get_raw_body(article.id, number)
    if body is None:
        raise WebError(404, f"article {article.id} v{number}: no raw capture kept")
    as_html = req.query.get("as") == "html"
    charset = _charset(body.content_type)
    text = body.content.decode(charset, errors="replace")
    headers = {"Content-Security-Policy": RAW_CSP}
    if as_html:
        return web.Response(text=text, content_type="text/html", charset="utf-8", headers=headers)
    return web.Response(text=text, content_type="text/plain", charset="utf-8", headers=headers)


def _charset(content_type: str | None) -> str:
    """The charset a stored Content-Type names, when Python knows it; UTF-8 otherwise."""
    import codecs

    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            try:
                return codecs.lookup(value.strip("\"' ")).name
            except LookupError:
                break
    return "utf-8"


def feeds_page(site: Site, req: Req) -> web.Response:
    today = site.clock().date()
    first = today - timedelta(days=DAYS_SHOWN - 1)
    days = [first + timedelta(days=n) for n in range(DAYS_SHOWN)]
    per_day = site.store.changes_by_day(site.clock() - timedelta(days=DAYS_SHOWN))
    failing = site.store.article_failures_by_feed()
    rows = []
    for feed in site.settings.feeds:
        counts = [per_day.get((feed.name, day), 0) for day in days]
        rows.append(
            {
                "name": feed.name,
                "url": feed.url,
                "state": site.store.get_feed(feed.name),
                "failing": failing.get(feed.name, 0),
                "chart": bar_chart(counts, [_day(day) for day in days]),
                "total": sum(counts),
            }
        )
    return site.page(
        "feeds.html",
        req,
        title="Feeds",
        rows=rows,
        days=DAYS_SHOWN,
        alternates=feeds_for({}, "All changes"),
    )


def _day(day: date) -> str:
    return day.isoformat()


def seeds_page(site: Site, req: Req) -> web.Response:
    sections: list[dict[str, Any]] = []
    for seed, linked in seeds_overview(site.store, site.settings):
        chart = None
        if linked:
            try:
                _, _, points = seed_timeline(site.store, site.settings, seed.id)
            except CompareError:
                points = []
            chart = drift_chart(points, {item.article.id: _label(item) for item in linked})
        sections.append({"seed": seed, "linked": linked, "chart": chart})
    return site.page(
        "seeds.html",
        req,
        title="Seeds",
        sections=sections,
        alternates=feeds_for({}, "All changes"),
    )


def _label(item: LinkedArticle) -> str:
    return f"{item.article.id}: {item.article.title or item.article.current_url}"


def alerts_page(site: Site, req: Req) -> web.Response:
    status = req.query.get("status") or None
    statuses = [str(s) for s in AlertStatus]
    if status is not None and status not in statuses:
        raise WebError(400, f"status: one of {', '.join(statuses)}")
    rows = site.store.list_alerts(
        AlertStatus(status) if status else None, limit=site.settings.web.page_size
    )
    return site.page(
        "alerts.html",
        req,
        title="Alerts",
        rows=rows,
        counts={str(k): v for k, v in site.store.count_alerts().items()},
        statuses=statuses,
        state=status,
        alternates=feeds_for({}, "All changes"),
    )


def search_page(site: Site, req: Req) -> web.Response:
    """Every article whose text ever held a phrase, with where it appeared and went."""
    phrase, feed, since = search_query(req.query)
    size, offset = site.settings.web.page_size, search_offset(req.query)
    found, more = search(site, phrase, feed, since, size, offset) if phrase else ([], False)
    query = {k: v for k, v in req.query.items() if k in ("q", "feed", "since") and v}
    return site.page(
        "search.html",
        req,
        title=f"Search: {phrase}" if phrase else "Search",
        phrase=phrase,
        feed=feed or "",
        since=req.query.get("since", ""),
        feeds=[f.name for f in site.settings.feeds],
        found=found,
        offset=offset,
        next_page=with_query("/search", {**query, "offset": str(offset + size)}) if more else None,
        first_page=with_query("/search", query) if offset else None,
        alternates=feeds_for({}, "All changes"),
    )
