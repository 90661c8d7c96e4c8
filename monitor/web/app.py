"""The aiohttp application: routes, access control and the headers every response carries.

Each request's work (store reads, diffs, templates) is one synchronous call run in a
thread (``Site.call``), so that a slow diff or a store lock never stalls the event loop:
with `run --web` that loop also fetches feeds and delivers alerts. Nothing here writes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from monitor.config import Settings
from monitor.errors import StoreError
from monitor.store import WebStore
from monitor.web import api, syndication, views
from monitor.web.auth import Credentials, Gate, is_loopback, require_access_for
from monitor.web.site import PAGE_CSP, WARM_EVERY, Req, Site, WebError

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Paths a feed-reader token opens (with ?token=): the feeds of changes, nothing else.
FEED_PATHS = frozenset({"/changes.atom", "/changes.json"})
STATIC_DIR = Path(str(resources.files("monitor.web").joinpath("static")))

_log = logging.getLogger(__name__)

View = Callable[[Site, Req], web.StreamResponse]

SITE_KEY = web.AppKey("site", Site)
GATE_KEY = web.AppKey("gate", Gate)


def create_app(settings: Settings, store: WebStore, host: str) -> web.Application:
    """The web application over ``store``; ``host`` is where it will listen, which decides
    whether requests need credentials (see ``auth.Gate``)."""
    require_access_for(host, settings.web, settings.source)
    gate = Gate(settings.web, open_to_all=is_loopback(host) and not settings.web.has_access_control)
    app = web.Application(middlewares=[_headers, _access])
    app[SITE_KEY] = Site(settings, store)
    app[GATE_KEY] = gate
    routes: list[tuple[str, View]] = [
        ("/", views.changes_page),
        ("/articles/{id:\\d+}", views.article_page),
        ("/articles/{id:\\d+}/versions/{number:\\d+}/raw", views.raw_capture),
        ("/feeds", views.feeds_page),
        ("/seeds", views.seeds_page),
        ("/alerts", views.alerts_page),
        ("/search", views.search_page),
        ("/changes.atom", syndication.atom_feed),
        ("/changes.json", syndication.json_feed),
        ("/api/changes", api.changes),
        ("/api/changes/{id:\\d+}", api.change),
        ("/api/articles", api.articles),
        ("/api/articles/{id:\\d+}", api.article),
        ("/api/articles/{id:\\d+}/diff", api.diff),
        ("/api/feeds", api.feeds),
        ("/api/seeds", api.seeds),
        ("/api/alerts", api.alerts),
        ("/api/search", api.search_results),
    ]
    for path, view in routes:
        app.router.add_get(path, partial(_handle, view))
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    app.cleanup_ctx.append(_keep_warm)
    return app


async def _keep_warm(app: web.Application) -> AsyncIterator[None]:
    """While serving, keep the newest changes' diffs rendered (see ``Site.warm``), so that
    a feed reader's poll finds them kept."""

    async def warm_forever() -> None:
        while True:
            await app[SITE_KEY].warm()
            await asyncio.sleep(WARM_EVERY)

    task = asyncio.create_task(warm_forever())
    yield
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


async def _handle(view: View, request: web.Request) -> web.StreamResponse:
    """Run ``view`` in a thread with what it needs of the request."""
    site = request.app[SITE_KEY]
    req = Req(
        path=request.path,
        query={key: request.query.getone(key) for key in request.query},
        params=dict(request.match_info),
        base=site.base_url(f"{request.scheme}://{request.host}"),
    )
    return await site.call(view, req)


@web.middleware
async def _access(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Let a request through only with what it needs: a feed token opens the feeds only."""
    gate = request.app[GATE_KEY]
    if gate.open or request.path.startswith("/static/"):
        return await handler(request)
    granted = gate.grant(
        Credentials(request.headers.get("Authorization"), request.query.get("token"))
    )
    if granted == "all" or (granted == "feeds" and request.path in FEED_PATHS):
        return await handler(request)
    # The same answer for a wrong token, a wrong password and none at all.
    return web.Response(
        status=401,
        text="401: sign in to read this archive\n",
        headers={"WWW-Authenticate": 'Basic realm="newsmonitor", charset="UTF-8"'},
    )


@web.middleware
async def _headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Security headers on every response (errors too); a view's own CSP (the sandbox of
    a raw capture) is kept."""
    try:
        response = await handler(request)
    except WebError as exc:
        response = web.Response(status=exc.status, text=f"{exc.status}: {exc}\n")
    except web.HTTPException as exc:
        response = web.Response(status=exc.status, text=f"{exc.status}: {exc.reason}\n")
    except StoreError as exc:
        _log.warning("%s %s: %s", request.method, request.path, exc)
        response = web.Response(status=503, text=f"503: the store could not be read: {exc}\n")
    except Exception:
        # A bug: logged with its traceback; the reader gets a plain page, with the headers.
        _log.exception("%s %s failed", request.method, request.path)
        response = web.Response(status=500, text="500: internal error (see the server log)\n")
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "public, max-age=3600"
    else:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


async def start_site(
    settings: Settings, store: WebStore, host: str | None = None, port: int | None = None
) -> tuple[web.AppRunner, str]:
    """Start serving on ``host``:``port`` (default: [web]); the runner and the address."""
    host = host or settings.web.host
    port = settings.web.port if port is None else port
    runner = web.AppRunner(create_app(settings, store, host), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = _bound_port(site)
    shown = f"[{host}]" if ":" in host else host
    return runner, f"http://{shown}:{bound}/"


def _bound_port(site: web.TCPSite) -> int:
    server: Any = site._server  # port 0 asks the OS for one: read back which
    sockets = server.sockets if server is not None else []
    return int(sockets[0].getsockname()[1]) if sockets else 0


async def serve_forever(
    settings: Settings,
    store: WebStore,
    host: str | None,
    port: int | None,
    started: Callable[[str], None],
) -> None:
    """What `newsmonitor serve` runs: serve until SIGINT or SIGTERM."""
    runner, address = await start_site(settings, store, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    started(address)
    try:
        await stop.wait()
    finally:
        await stop_site(runner)


async def stop_site(runner: web.AppRunner) -> None:
    """Stop serving, and wait for the requests in progress (each a bounded store read)."""
    site = runner.app[SITE_KEY]
    await runner.cleanup()
    await asyncio.get_running_loop().run_in_executor(None, site.close)
