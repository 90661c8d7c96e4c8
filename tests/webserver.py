"""A real HTTP server on loopback for tests: routes you can change between requests.

Every request is recorded. A route is a ``Reply`` or a callable taking the ``Request``
and returning one. ``Reply.etag``/``last_modified`` make the server honour conditional
requests with a 304, as a well-behaved origin does.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class Reply:
    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0  # seconds before answering
    stream: Iterable[bytes] | None = None  # sent as-is after the headers, then close
    # Takes over the connection instead of a normal answer: writes whatever bytes it likes
    # (a broken status line, half the headers) and may reset the socket; then close.
    raw: Callable[[socket.socket], None] | None = None


Route = Reply | Callable[[Request], Reply]


class _QuietServer(ThreadingHTTPServer):
    request_queue_size = 128  # bursts of concurrent clients must not be refused

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up early (byte caps, deadlines) are expected here."""


class WebServer:
    """A threaded HTTP/1.1 server on loopback with a mutable route table; ``host``: another
    loopback address (127.0.0.2, ...) for tests that need several hosts."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.scheme = "http"
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

        self._httpd = _QuietServer((host, 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> WebServer:
        self._thread.start()
        return self

    def use_tls(self, context: ssl.SSLContext) -> WebServer:
        """Serve HTTPS with ``context`` (before ``start``)."""
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https"
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def set(self, path: str, route: Route) -> None:
        with self._lock:
            self.routes[path] = route

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(
            handler.command,
            handler.path,
            {k.lower(): v for k, v in handler.headers.items()},
            body,
        )
        with self._lock:
            self.requests.append(request)
            route = self.routes.get(handler.path.split("?")[0]) or self.routes.get(handler.path)
        if route is None:
            reply = Reply(b"not found", status=404, content_type="text/plain")
        elif callable(route):
            reply = route(request)
        else:
            reply = route
        if reply.delay:
            time.sleep(reply.delay)
        self._send(handler, request, reply)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, request: Request, reply: Reply) -> None:
        if reply.raw is not None:
            handler.close_connection = True
            with contextlib.suppress(OSError):
                reply.raw(handler.connection)
            return
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        status = reply.status
        not_modified = (reply.etag and request.headers.get("if-none-match") == reply.etag) or (
            reply.last_modified
            and not reply.etag
            and request.headers.get("if-modified-since") == reply.last_modified
        )
        if not_modified:
            status, body = 304, b""
        handler.send_response(status)
        handler.send_header("Content-Type", reply.content_type)
        if reply.etag:
            handler.send_header("ETag", reply.etag)
        if reply.last_modified:
            handler.send_header("Last-Modified", reply.last_modified)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if reply.stream is not None and not not_modified:
            handler.send_header("Connection", "close")
            handler.end_headers()
            try:
                for chunk in reply.stream:
                    handler.wfile.write(chunk)
                    handler.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            handler.close_connection = True
            return
        if "Content-Length" not in reply.headers:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if body and handler.command != "HEAD":
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                handler.wfile.write(body)
