"""A loopback server of hostile and broken answers, for testing that nothing gets through.

``FaultServer`` mounts every fault in ``FAULTS`` at ``/fault/<name>`` on a ``WebServer``
(whose other routes stay free for healthy feeds and pages). The ``faults`` fixture starts
one and confines the pipeline's fetcher to loopback for the test: requests to 127.0.0.1
are sent, requests to ``PUBLIC_ALIAS`` (a global address, so the private-address policy
lets it through) are rewritten to the fault server, and any other destination is refused
in-process and recorded in ``FaultServer.refused`` without a socket ever being opened. A
test that expects the address policy to stop a redirect asserts that list stays empty.

The fixture runs each test on both HTTP stacks (aiohttp and httpx): ``LoopbackOnly`` sits
between ``Fetcher`` and the real stack, so everything below it is the production code.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from html import escape
from typing import Any
from urllib.parse import urlsplit

import pytest

from monitor import pipeline
from monitor.config import FetchSettings
from monitor.fetch import Fetcher, make_transport
from monitor.transport import RawResponse, Transport, TransportError
from tests.webserver import Reply, Route, WebServer

# Global (so allowed by the address policy), never contacted: ``LoopbackOnly`` sends
# requests for it to the fault server on 127.0.0.1.
PUBLIC_ALIAS = "11.22.33.44"

STORY_TITLE = "Harbour expansion approved"
STORY = (
    "The city council voted on Tuesday to expand the harbour, a plan that has divided "
    "residents for more than a decade.",
    "Supporters say the new quay will bring 1,200 jobs; opponents fear for the wetlands "
    "north of the old port.",
    "The mayor said construction could begin next spring if the regional government agrees.",
)
SECOND_STORY = (
    "Ferry services to the islands will run on a winter timetable from Monday, the operator "
    "said, citing falling passenger numbers.",
    "Two crossings a day will be cut until March.",
)
# Words whose encoding goes wrong visibly when a page or feed is decoded with the wrong charset.
ACCENTED = "Café owners in Málaga say the “harbour tax” is unfair to señoras and niños alike."


@dataclass(frozen=True)
class Fault:
    """One named misbehaviour, mounted at ``/fault/<name>``."""

    name: str
    what: str


FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        Fault("drip", "200, then the body one byte a second"),
        Fault("endless", "200 with a body that never ends"),
        Fault("gzip-bomb", "a 64 MB page gzipped into about 64 kB"),
        Fault("redirect-loop", "/fault/redirect-loop -> /fault/redirect-loop-2 -> back"),
        Fault("to-metadata", "redirect to the cloud metadata address 169.254.169.254"),
        Fault("to-loopback", "redirect to 127.0.0.1 (this server)"),
        Fault("to-private", "redirect to 10.0.0.1"),
        Fault("to-ipv6-loopback", "redirect to [::1]"),
        Fault("moved-page", 'a 200 HTML "Document moved" page (where a feed should be)'),
        Fault("pdf", "a PDF document"),
        Fault("png", "a PNG image"),
        Fault("empty", "200 with an empty body"),
        Fault("feed-invalid-utf8", "an RSS feed labelled UTF-8 with bytes that are not UTF-8"),
        Fault("feed-cp1252-as-utf8", "an RSS feed in windows-1252, labelled UTF-8"),
        Fault("feed-utf8-as-latin1", "an RSS feed in UTF-8, labelled ISO-8859-1 in the header"),
        Fault("page-invalid-utf8", "an article labelled UTF-8 with bytes that are not UTF-8"),
        Fault("page-cp1252-as-utf8", "an article in windows-1252, labelled UTF-8"),
        Fault("page-utf8-as-latin1", "an article in UTF-8, labelled ISO-8859-1"),
        Fault("entity-bomb", 'an RSS feed with a "billion laughs" entity expansion'),
        Fault("truncated-feed", "an RSS feed cut off in the middle of its second item"),
        Fault("rate-limited", "429 Too Many Requests with Retry-After: 120"),
        Fault("reset-headers", "half a status line and headers, then a TCP reset"),
        Fault("reset-body", "headers and part of the body, then a TCP reset"),
        Fault("challenge", 'a CDN bot check: "Just a moment...", "Checking your browser"'),
        Fault("access-denied", 'a CDN block page: "Access denied", with 200'),
        Fault("paywall", 'the lede, then "Subscribe to continue reading", with 200'),
    )
}


class FaultServer:
    """A ``WebServer`` with every fault of ``FAULTS`` mounted, plus a healthy story page."""

    def __init__(self, client: str = "native") -> None:
        self.web = WebServer()
        self.client = client  # the HTTP stack every fetcher of this server runs on
        self.refused: list[str] = []  # URLs LoopbackOnly refused to connect to
        self._routes = self._make_routes()
        for name, route in self._routes.items():
            self.web.set(f"/fault/{name}", route)
        self.web.set(
            "/fault/redirect-loop-2",
            Reply(status=302, headers={"Location": "/fault/redirect-loop"}),
        )
        self.web.set("/story", Reply(article_html(STORY_TITLE, STORY)))
        self.web.set("/story-2", Reply(article_html("Second story", SECOND_STORY)))

    def start(self) -> FaultServer:
        self.web.start()
        return self

    def stop(self) -> None:
        self.web.stop()

    def url(self, name: str) -> str:
        """The loopback URL of fault ``name``."""
        if name not in FAULTS:
            raise KeyError(f"no fault named {name!r}")
        return self.web.url(f"/fault/{name}")

    def public_url(self, path: str) -> str:
        """``path`` on this server as a public-looking URL (see ``PUBLIC_ALIAS``)."""
        return f"http://{PUBLIC_ALIAS}:{self.web.port}{path}"

    def hits(self, name: str) -> int:
        return len(self.web.hits(f"/fault/{name}"))

    def fetcher(self, settings: FetchSettings, **kwargs: Any) -> Fetcher:
        """A ``Fetcher`` whose connections can only reach this server (see the module doc)."""
        settings = settings.model_copy(update={"client": self.client})
        guard = LoopbackOnly(make_transport(settings), self.web.port, self.refused)
        return Fetcher(settings, transport=guard, **kwargs)

    def route(self, name: str) -> Route:
        """Fault ``name``'s route, to mount elsewhere (``web.set("/a/story", ...)``)."""
        return self._routes[name]

    def _make_routes(self) -> dict[str, Route]:
        port = self.web.port
        routes: dict[str, Route] = {
            "drip": _drip(b"<html><body><p>" + b"slow " * 100),
            "endless": _endless(),
            "gzip-bomb": _gzip_bomb(),
            "redirect-loop": Reply(status=302, headers={"Location": "/fault/redirect-loop-2"}),
            "to-metadata": _redirect("http://169.254.169.254/latest/meta-data/iam/"),
            "to-loopback": _redirect(f"http://127.0.0.1:{port}/story"),
            "to-private": _redirect("http://10.0.0.1/admin"),
            "to-ipv6-loopback": _redirect(f"http://[::1]:{port}/story"),
            "moved-page": Reply(MOVED_PAGE.format(target=f"http://127.0.0.1:{port}/feed.xml")),
            "pdf": Reply(PDF, content_type="application/pdf"),
            "png": Reply(png(), content_type="image/png"),
            "empty": Reply(b""),
            "feed-invalid-utf8": Reply(
                rss_document(ACCENTED, f"http://127.0.0.1:{port}/story").replace(
                    "Café".encode(), b"Caf\xff\xfe"
                ),
                content_type="application/rss+xml; charset=utf-8",
            ),
            "feed-cp1252-as-utf8": Reply(
                rss_document(ACCENTED, f"http://127.0.0.1:{port}/story", "windows-1252", "utf-8"),
                content_type="application/rss+xml; charset=utf-8",
            ),
            "feed-utf8-as-latin1": Reply(
                rss_document(ACCENTED, f"http://127.0.0.1:{port}/story"),
                content_type="application/rss+xml; charset=iso-8859-1",
            ),
            "page-invalid-utf8": Reply(
                article_html(STORY_TITLE, (ACCENTED, *STORY))
                .encode()
                .replace("Café".encode(), b"Caf\xff\xfe"),
            ),
            "page-cp1252-as-utf8": Reply(
                article_html(STORY_TITLE, (ACCENTED, *STORY)).encode("windows-1252"),
            ),
            "page-utf8-as-latin1": Reply(
                article_html(STORY_TITLE, (ACCENTED, *STORY)).encode(),
                content_type="text/html; charset=iso-8859-1",
            ),
            "entity-bomb": Reply(
                ENTITY_BOMB.replace("{link}", f"http://127.0.0.1:{port}/story"),
                content_type="application/rss+xml",
            ),
            "truncated-feed": Reply(
                _truncated_feed(f"http://127.0.0.1:{port}/story"),
                content_type="application/rss+xml",
            ),
            "rate-limited": Reply("slow down", status=429, headers={"Retry-After": "120"}),
            "reset-headers": Reply(raw=partial(_reset, b"HTTP/1.1 200 OK\r\nContent-Type: tex")),
            "reset-body": Reply(
                raw=partial(
                    _reset,
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n"
                    + article_html(STORY_TITLE, STORY).encode()[:400],
                )
            ),
            "challenge": Reply(CHALLENGE_PAGE),
            "access-denied": Reply(ACCESS_DENIED_PAGE.format(port=port)),
            "paywall": Reply(PAYWALL_PAGE),
        }
        assert routes.keys() == FAULTS.keys()
        return routes


class LoopbackOnly:
    """A ``Transport`` that sends to 127.0.0.1 only: ``PUBLIC_ALIAS`` goes to ``port``
    there, and anything else is refused without a socket (and recorded in ``refused``)."""

    def __init__(self, inner: Transport, port: int, refused: list[str]) -> None:
        self._inner = inner
        self._port = port
        self._refused = refused

    async def send(
        self, url: str, headers: Mapping[str, str], private_ok: bool, body: bytes | None = None
    ) -> RawResponse:
        parts = urlsplit(url)
        if parts.hostname == PUBLIC_ALIAS:
            url = parts._replace(netloc=f"127.0.0.1:{self._port}").geturl()
            headers = {**headers, "Host": parts.netloc}
            # The policy took the alias for the public host it stands in for; the stack's
            # own guard must not refuse the loopback address it really goes to.
            private_ok = True
        elif parts.hostname != "127.0.0.1":
            self._refused.append(url)
            raise TransportError(
                "cannot connect: the test's loopback guard refused", connect_failed=True
            )
        return await self._inner.send(url, headers, private_ok, body)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture(params=["native", "aiohttp", "httpx"])
def faults(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FaultServer]:
    """A started ``FaultServer``; the pipeline's fetcher can only reach loopback meanwhile,
    on the HTTP stack the test is run for."""
    server = FaultServer(request.param).start()
    monkeypatch.setattr(pipeline, "Fetcher", server.fetcher)
    yield server
    server.stop()


# --- documents -------------------------------------------------------------------------


def article_html(title: str, paragraphs: tuple[str, ...], charset: str = "utf-8") -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html><head><meta charset="{charset}"><title>{escape(title)}</title>'
        '<meta name="author" content="Ana Reporter"></head><body>'
        f"<article><h1>{escape(title)}</h1>{body}</article></body></html>"
    )


def rss_document(
    title: str, link: str, encoding: str = "utf-8", declared: str | None = None
) -> bytes:
    """A one-item RSS 2.0 feed encoded in ``encoding``, declaring ``declared`` (default: it)."""
    document = (
        f'<?xml version="1.0" encoding="{declared or encoding}"?>'
        '<rss version="2.0"><channel><title>Faulty</title><link>http://example.org/</link>'
        f"<description>d</description><item><title>{escape(title)}</title>"
        f"<link>{escape(link)}</link><guid>{escape(link)}</guid>"
        f"<description>{escape(title)}</description></item></channel></rss>"
    )
    return document.encode(encoding)


def _truncated_feed(link: str) -> bytes:
    whole = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Cut</title>'
        "<link>http://example.org/</link><description>d</description>"
        f"<item><title>{STORY_TITLE}</title><link>{link}</link><guid>{link}</guid>"
        f"<description>{STORY[0]}</description></item>"
        f"<item><title>Second story</title><link>{link}-2</link>"
        "<description>The second story is cut off in the mid"
    )
    return whole.encode()


def png(width: int = 1, height: int = 1) -> bytes:
    """A valid PNG of ``width`` x ``height`` black pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x00" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"3 0 obj\n<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 712 Td (Harbour report) Tj ET\n"
    b"endstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)

MOVED_PAGE = (
    "<html><head><title>Document Moved</title></head><body><h1>Object Moved</h1>"
    'This document may be found <a HREF="{target}">here</a></body></html>'
)

ENTITY_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
        for n in range(1, 10)
    )
    + ']>\n<rss version="2.0"><channel><title>Laughs</title><link>http://example.org/</link>'
    "<description>d</description><item><title>&lol9;</title>"
    "<link>{link}</link><description>&lol9;</description></item>"
    "</channel></rss>"
)

CHALLENGE_PAGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="5"></head><body>
<div class="main-wrapper"><div class="main-content">
<h1>Just a moment...</h1>
<p>Checking your browser before accessing the site. This process is automatic. Your
browser will redirect to your requested content shortly.</p>
<p>Please allow up to 5 seconds while we verify that you are a human and not a robot
visiting this page.</p>
<p>Enable JavaScript and cookies to continue. Performance and security by the CDN.</p>
</div></div><div class="footer">Ray ID: 7f3a9c0d1e2b3a4c</div></body></html>"""

ACCESS_DENIED_PAGE = """<html><head><title>Access Denied</title></head><body>
<h1>Access Denied</h1>
<p>You don't have permission to access "http://127.0.0.1:{port}/story" on this server.
Your request was blocked by our security service because it looked automated.</p>
<p>Reference #18.4f2c1002.1732795200.2a9b7c1 &mdash; contact the site owner if you
believe this is a mistake.</p></body></html>"""

PAYWALL_PAGE = f"""<!doctype html><html><head><title>{STORY_TITLE}</title></head><body>
<article><h1>{STORY_TITLE}</h1><p>{STORY[0]}</p>
<div class="paywall"><h2>Subscribe to continue reading</h2>
<p>Get unlimited access to award-winning journalism for just 1 euro a week.
Cancel anytime. Already a subscriber? Log in to keep reading this story.</p></div>
</article></body></html>"""


# --- streams and raw answers -------------------------------------------------------------


def _redirect(location: str) -> Reply:
    return Reply(status=302, headers={"Location": location})


def _drip(body: bytes) -> Callable[[Any], Reply]:
    """A route that sends ``body`` one byte a second (a fresh stream per request)."""

    def route(_request: Any) -> Reply:
        def stream() -> Iterator[bytes]:
            for index in range(len(body)):
                yield body[index : index + 1]
                time.sleep(1)

        return Reply(stream=stream(), content_type="text/html")

    return route  # type: ignore[return-value]


def _endless() -> Callable[[Any], Reply]:
    def route(_request: Any) -> Reply:
        def stream() -> Iterator[bytes]:
            chunk = b"<p>" + b"all work and no play " * 3000 + b"</p>\n"
            while True:  # until the client hangs up (BrokenPipeError ends the send)
                yield chunk

        return Reply(stream=stream(), content_type="text/html")

    return route  # type: ignore[return-value]


_BOMB_LOCK = threading.Lock()
_BOMB: list[bytes] = []


def _gzip_bomb() -> Reply:
    with _BOMB_LOCK:
        if not _BOMB:
            # Compressing 64 MB takes a moment; every test module shares the result.
            _BOMB.append(gzip.compress(b"<p>" + b" " * (64 << 20), compresslevel=9))
    return Reply(_BOMB[0], headers={"Content-Encoding": "gzip"})


def _reset(prefix: bytes, connection: socket.socket) -> None:
    """Send ``prefix``, then abort the connection: SO_LINGER 0 makes close() send a RST."""
    connection.sendall(prefix)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()
