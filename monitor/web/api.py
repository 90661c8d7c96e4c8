"""The JSON API (``/api/…``): the same documents as the CLI's ``--json``, from the same
serializers (monitor/serialize.py, render/jsonout.py), so a field is named once."""

from __future__ import annotations

import json
from typing import Any, cast, get_args

from aiohttp import web

from monitor.compare import Against, seeds_overview
from monitor.models import AlertStatus
from monitor.render.jsonout import diff_to_json
from monitor.serialize import (
    alert_to_json,
    article_to_json,
    change_to_json,
    feeds_to_json,
    history_to_json,
    phrase_history_to_json,
    seeds_to_json,
)
from monitor.web.site import (
    Req,
    Site,
    WebError,
    page_of_changes,
    search,
    search_offset,
    search_query,
)

MAX_LIMIT = 500


def _json(document: Any) -> web.Response:
    return web.Response(
        text=json.dumps(document, ensure_ascii=False, indent=1),
        content_type="application/json",
        charset="utf-8",
    )


def changes(site: Site, req: Req) -> web.Response:
    """``{"changes": [...], "next": cursor}``, newest first; the Changes page's filters;
    ``?after=<next>`` for the following page."""
    limit = _limit(req)
    _, found, following = page_of_changes(site, req.query, limit)
    return _json({"changes": [change_to_json(c) for c in found], "next": following})


def change(site: Site, req: Req) -> web.Response:
    found = site.store.get_change(req.int_param("id"))
    if found is None:
        raise WebError(404, f"no change {req.params['id']}")
    return _json(change_to_json(found))


def articles(site: Site, req: Req) -> web.Response:
    found = site.store.list_articles(feed=req.query.get("feed") or None)
    return _json([article_to_json(article) for article in found])


def article(site: Site, req: Req) -> web.Response:
    """The ``history --json`` document."""
    found = site.article(req)
    versions = site.store.list_versions(found.id)
    events = site.store.list_changes(article_id=found.id)
    return _json(history_to_json(found, versions, events))


def diff(site: Site, req: Req) -> web.Response:
    """The ``diff --format json`` document; ``?from=&to=&against=`` as in the CLI."""
    found = site.article(req)
    against = cast(Against, req.query.get("against") or "previous")
    if against not in get_args(Against):
        raise WebError(400, f"against: one of {', '.join(get_args(Against))}")
    numbers = []
    for name in ("from", "to"):
        raw = req.query.get(name)
        if raw and not raw.isdigit():
            raise WebError(400, f"{name}: a version number")
        numbers.append(int(raw) if raw else None)
    document = site.compare(found, numbers[0], numbers[1], against)
    return _json(diff_to_json(document))


def feeds(site: Site, req: Req) -> web.Response:
    """The ``feeds --json`` document."""
    states = [(f.name, f.url, site.store.get_feed(f.name)) for f in site.settings.feeds]
    return _json(feeds_to_json(states, site.store.article_failures_by_feed()))


def seeds(site: Site, req: Req) -> web.Response:
    """The ``seeds --json`` document."""
    return _json(seeds_to_json(seeds_overview(site.store, site.settings)))


def alerts(site: Site, req: Req) -> web.Response:
    """The ``alerts --json`` document; ``?status=`` and ``?limit=`` as in the CLI."""
    status = req.query.get("status") or None
    if status is not None and status not in [str(s) for s in AlertStatus]:
        raise WebError(400, f"status: one of {', '.join(str(s) for s in AlertStatus)}")
    found = site.store.list_alerts(AlertStatus(status) if status else None, limit=_limit(req))
    return _json([alert_to_json(alert) for alert in found])


def _limit(req: Req) -> int:
    raw = req.query.get("limit")
    if not raw:
        return 50
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise WebError(400, f"limit: a number from 1 to {MAX_LIMIT}")
    return int(raw)


def search_results(site: Site, req: Req) -> web.Response:
    """``search --json``'s document: the articles whose text ever held ``q``, newest
    first, ``limit`` of them (default 50) after ``offset``; ``more``: whether more do."""
    phrase, feed, since = search_query(req.query)
    if not phrase:
        raise WebError(400, "q: give a phrase to search for")
    limit, offset = _limit(req), search_offset(req.query)
    found, more = search(site, phrase, feed, since, limit, offset)
    document = {
        "phrase": phrase,
        "limit": limit,
        "offset": offset,
        "more": more,
        "articles": [phrase_history_to_json(h) for h in found],
    }
    return _json(document)
