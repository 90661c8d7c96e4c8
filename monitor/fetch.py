"""One shared HTTP client: conditional GET, limits, politeness and address safety.

``Fetcher`` is the only way Newsmonitor talks HTTP: ``get`` for what is fetched, ``post``
for what is sent (the webhook channel's alerts). ``get`` follows redirects itself so
that every hop passes the address policy, decodes gzip/deflate itself so that the byte
cap holds after decompression without ever inflating more than the cap, retries only
what is worth retrying (connect failures, 5xx, 429) and turns every failure into a
``FetchError`` naming the URL (with any userinfo stripped).

Under it, a ``Transport`` (transport.py) sends one request and streams the raw body; all the
rest above is written once, here. Three stacks implement it, chosen by ``[fetch] client``:

- native (transport_native.py), the default: our own HTTP/1.1 client on asyncio
  Protocols. Most of a round is conditional GETs answered by a 304, where the client's
  own CPU per request is what limits a round (issue 16). 5,000 conditional GETs (all 304)
  to nginx on loopback, two in flight, CPU per ``get``: 0.054 ms on native, 0.10-0.12 on
  aiohttp, 0.73-0.75 on httpx (the stack alone: 0.027 ms native, 0.07 aiohttp); and
  native spares each run aiohttp's import (0.15 s).
- aiohttp (transport_aiohttp.py): a widely used client, for a site the native stack
  does not get along with (HTTP/1.1 only, no proxies: neither of the others uses one).
- httpx (transport_httpx.py): the slowest, and what tests use to answer from a table
  (``Fetcher(settings, transport=<httpx transport>)``).

Timing has two layers: the stack's ``timeout`` bounds each connect and each read, and the
wall-clock ``deadline`` bounds one whole exchange (address check, request, body), so a
server dripping a byte every second cannot hold a slot forever. Retry sleeps and
waiting for a concurrency slot are outside the deadline.

Addresses are checked twice when private ones are not allowed: here, before connecting
(the host's every address must be public), and by the stack, on the address it actually
connects to, in a connection pool of its own (transport.py).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import random
import socket
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, NamedTuple, cast
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from monitor.clock import Clock, utc_now
from monitor.config import FetchSettings
from monitor.errors import (
    BlockedAddressError,
    DeadlineExceededError,
    FetchError,
    HTTPStatusError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from monitor.http_headers import parse_retry_after
from monitor.models import FetchResult, Validators
from monitor.transport import (
    DNS_TTL,
    Address,
    RawResponse,
    Transport,
    TransportError,
    is_public_address,
    parse_address,
)

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_ENCODING = "gzip, deflate"  # exactly what _BodyDecoder can bound; no br/zstd
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
JITTER = 0.1  # up to +10% of a backoff delay, so retries from many tasks spread out

Sleep = Callable[[float], Awaitable[object]]
# Told of every GET exchange: its status (None: no answer came) and its duration in seconds.
# The daemon's metrics (monitor/metrics.py) listen here; fetching knows nothing of them.
FetchObserver = Callable[[int | None, float], None]


def redact_url(url: str) -> str:
    """``url`` without userinfo, so credentials never reach logs or error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


@dataclass(frozen=True)
class HTTPReply:
    """One HTTP exchange, body already read and decoded (empty when the caller needs none:
    a GET's answer other than 2xx, a POST's 2xx)."""

    status: int
    headers: Mapping[str, str]  # lower-cased names
    body: bytes


class _BodyDecoder:
    """Content-Encoding decoder that never produces more than the remaining budget."""

    def __init__(self, url: str, encoding: str, max_bytes: int) -> None:
        self._url = url
        self._encoding = encoding
        self._max_bytes = max_bytes
        self._size = 0
        self._started = False
        self._zlib: zlib._Decompress | None
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        else:
            raise FetchError(url, f"unsupported Content-Encoding {encoding!r}")

    def feed(self, data: bytes) -> bytes:
        """Decode one raw chunk; ResponseTooLargeError once the output passes the cap."""
        if self._zlib is None:
            return self._count(data)
        if self._zlib.eof:  # trailing bytes after the compressed stream carry no content
            return b""
        try:
            # max_length bounds what one call may inflate: a 50 KB gzip bomb would
            # otherwise expand to 50 MB here before any check could run.
            out = self._zlib.decompress(data, self._max_bytes - self._size + 1)
        except zlib.error as exc:
            if self._encoding == "deflate" and not self._started:
                # Some servers send raw deflate without the zlib header RFC 9110 asks for.
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                self._encoding = "raw deflate"
                return self.feed(data)
            raise FetchError(self._url, f"corrupt {self._encoding} body: {exc}") from exc
        self._started = True
        return self._count(out)

    def flush(self) -> bytes:
        """Whatever the decompressor still holds once the raw stream has ended."""
        if self._zlib is None:
            return b""
        try:
            return self._count(self._zlib.flush())
        except zlib.error as exc:
            raise FetchError(self._url, f"corrupt {self._encoding} body: {exc}") from exc

    def _count(self, data: bytes) -> bytes:
        self._size += len(data)
        if self._size > self._max_bytes:
            raise ResponseTooLargeError(self._url, f"body exceeds {self._max_bytes} bytes")
        return data


def make_transport(settings: FetchSettings) -> Transport:
    """The HTTP stack that ``settings.client`` names."""
    if settings.client == "httpx":
        from monitor.transport_httpx import HttpxTransport  # httpx is loaded only if used

        return HttpxTransport(settings)
    if settings.client == "aiohttp":
        from monitor.transport_aiohttp import AiohttpTransport  # loaded only if used

        return AiohttpTransport(settings)
    from monitor.transport_native import NativeTransport

    return NativeTransport(settings)


class Fetcher:
    """The shared HTTP client; use as ``async with Fetcher(settings) as fetcher``.

    ``transport``: an ``httpx.AsyncBaseTransport`` (runs the httpx stack over it) or any
    ``Transport``; tests use it to keep every connection on loopback. ``observer``: told
    of each GET exchange (``FetchObserver``).
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        transport: httpx.AsyncBaseTransport | Transport | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        observer: FetchObserver | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self._observer = observer
        self._transport: Transport
        if hasattr(transport, "handle_async_request"):  # an httpx transport
            from monitor.transport_httpx import HttpxTransport

            self._transport = HttpxTransport(settings, cast("httpx.AsyncBaseTransport", transport))
        else:
            self._transport = transport if transport is not None else make_transport(settings)
        self._slots = asyncio.Semaphore(settings.concurrency)
        self.in_flight = 0  # requests sent and not yet answered
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        # (host, port) -> (loop time until which it holds, the host's addresses)
        self._resolved: dict[tuple[str, int], tuple[float, list[Address]]] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._transport.aclose()

    async def get(
        self,
        url: str,
        validators: Validators | None = None,
        accept: str | None = None,
        allow_private: bool | None = None,
        trust_origin: bool = False,
    ) -> FetchResult:
        """GET ``url`` (conditionally, with ``validators``), following redirects safely.

        ``allow_private`` overrides ``allow_private_addresses`` for this request.
        ``trust_origin``: ``url``'s own origin (scheme, host, port) may be private — a feed
        URL the user configured may be on an intranet — but redirects to any other origin
        follow the rule: the user vouched for that address, not for wherever it points.
        """
        private_ok = (
            self._settings.allow_private_addresses if allow_private is None else allow_private
        )
        validators = validators or Validators()
        headers = _get_headers(accept, validators)
        reply, final_url, visited = await self._follow(url, headers, private_ok, trust_origin)
        if reply.status >= 300 and reply.status != 304:
            raise HTTPStatusError(
                redact_url(final_url), reply.status, self._retry_after(reply.headers)
            )
        return self._result(url, final_url, reply, visited, validators)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HTTPReply:
        """POST ``body`` to ``url`` once; the answer, whatever its status.

        No redirect is followed and nothing is retried: the caller decides whether to try
        again. The address policy, limits and deadline are those of ``get``; the body of an
        answer that is not 2xx is read (under the byte cap) for the caller to quote.
        """
        sent = {k: v for k, v in headers.items() if k.lower() != "accept-encoding"}
        sent["Accept-Encoding"] = ACCEPT_ENCODING
        try:
            return await self._exchange(url, sent, self._settings.allow_private_addresses, body)
        except _ConnectFailedError as failure:
            raise failure.error from failure.__cause__

    async def _follow(
        self, url: str, headers: Mapping[str, str], private_ok: bool, trust_origin: bool
    ) -> tuple[HTTPReply, str, list[str]]:
        """GET ``url`` and every redirect it leads to: the last reply, its URL, the hops."""
        trusted = _origin(url) if trust_origin else None
        visited: list[str] = []
        current = url
        while True:
            hop_ok = private_ok or (trusted is not None and _origin(current) == trusted)
            reply = await self._get_with_retries(current, headers, hop_ok)
            location = reply.headers.get("location")
            if reply.status not in REDIRECT_STATUSES or not location:
                return reply, current, visited
            if len(visited) >= self._settings.max_redirects:
                raise TooManyRedirectsError(
                    redact_url(url), f"more than {self._settings.max_redirects} redirects"
                )
            visited.append(current)
            current = urljoin(current, location.strip())
            log.debug("redirect %s -> %s", redact_url(visited[-1]), redact_url(current))

    def _result(
        self,
        url: str,
        final_url: str,
        reply: HTTPReply,
        visited: list[str],
        validators: Validators,
    ) -> FetchResult:
        etag = reply.headers.get("etag")
        last_modified = reply.headers.get("last-modified")
        if reply.status == 304:
            # A 304 may omit the validators; the ones we sent are still current.
            etag = etag or validators.etag
            last_modified = last_modified or validators.last_modified
        return FetchResult(
            requested_url=url,
            final_url=final_url,
            status=reply.status,
            # The body is decoded: its transfer headers would mislead whoever reads it next.
            headers={
                k: v
                for k, v in reply.headers.items()
                if k not in ("content-encoding", "content-length")
            },
            body=reply.body if reply.status != 304 else b"",
            fetched_at=self._clock(),
            redirects=tuple(visited),
            etag=etag,
            last_modified=last_modified,
        )

    async def _get_with_retries(
        self, url: str, headers: Mapping[str, str], private_ok: bool
    ) -> HTTPReply:
        """One hop, retried on connect failures, 5xx and 429 with backoff."""
        retries = self._settings.retries
        for attempt in range(retries + 1):
            try:
                reply = await self._exchange(url, headers, private_ok)
            except _ConnectFailedError as failure:
                if attempt == retries:
                    raise failure.error from failure.__cause__
                delay = self._backoff(attempt)
                log.info("%s; retrying in %.1fs", failure.error, delay)
            else:
                if not _worth_retrying(reply.status) or attempt == retries:
                    return reply
                retry_after = self._retry_after(reply.headers)
                if retry_after is not None and retry_after > self._settings.max_retry_after:
                    raise HTTPStatusError(redact_url(url), reply.status, retry_after)
                delay = self._backoff(attempt) if retry_after is None else retry_after
                log.info("%s: HTTP %d; retrying in %.1fs", redact_url(url), reply.status, delay)
            await self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _exchange(
        self, url: str, headers: Mapping[str, str], private_ok: bool, body: bytes | None = None
    ) -> HTTPReply:
        """One request (a GET, or a POST of ``body``) and its answer's body, within the
        concurrency limits and the deadline."""
        target = _parse_url(url)
        host_slots = self._host_slots.get(target.host)
        if host_slots is None:
            host_slots = asyncio.Semaphore(self._settings.per_host_concurrency)
            self._host_slots[target.host] = host_slots
        # Host slot first: a task queued for a busy host must not hold a global slot
        # that a request to an idle host could use.
        async with host_slots, self._slots:
            self.in_flight += 1
            try:
                return await self._timed(url, target, headers, private_ok, body)
            finally:
                self.in_flight -= 1

    async def _timed(
        self,
        url: str,
        target: _Target,
        headers: Mapping[str, str],
        private_ok: bool,
        body: bytes | None,
    ) -> HTTPReply:
        """``_exchange`` once its slots are held: the request under the deadline, timed for
        the observer."""
        deadline = asyncio.timeout(self._settings.deadline)
        observer = self._observer if body is None else None
        started = time.perf_counter()
        try:
            async with deadline:
                if not private_ok:
                    await self._check_address(url, target)
                reply = await self._send(url, headers, private_ok, body)
        except TimeoutError as exc:
            if observer is not None:
                observer(None, time.perf_counter() - started)
            if not deadline.expired():
                raise
            raise DeadlineExceededError(
                redact_url(url), f"no complete response within {self._settings.deadline}s"
            ) from exc
        except Exception:
            if observer is not None:
                observer(None, time.perf_counter() - started)
            raise
        if observer is not None:
            observer(reply.status, time.perf_counter() - started)
        return reply

    async def _check_address(self, url: str, target: _Target) -> None:
        """Raise BlockedAddressError unless every address of the host is public.

        A host's answer is reused for ``DNS_TTL`` seconds, which spares a lookup per
        request (issue 16). That gives a DNS rebinding attack nothing: this check only
        names the problem early; the stacks check the very addresses they connect to
        (transport.py), whatever the resolver answers by then.
        """
        host = target.host
        address = parse_address(host)
        if address is not None:
            addresses = [address]
        else:
            loop = asyncio.get_running_loop()
            cached = self._resolved.get((host, target.port))
            if cached is not None and cached[0] > loop.time():
                addresses = cached[1]
            else:
                try:
                    infos = await loop.getaddrinfo(host, target.port, type=socket.SOCK_STREAM)
                except OSError as exc:  # socket.gaierror
                    raise FetchError(redact_url(url), f"cannot resolve host {host!r}") from exc
                addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
                self._resolved[host, target.port] = (loop.time() + DNS_TTL, addresses)
        blocked = sorted({str(a) for a in addresses if not is_public_address(a)})
        if blocked:
            raise BlockedAddressError(
                redact_url(url), f"host {host!r} resolves to non-public {', '.join(blocked)}"
            )

    async def _send(
        self, url: str, headers: Mapping[str, str], private_ok: bool, body: bytes | None
    ) -> HTTPReply:
        """Send the request and read the body its caller uses under the byte cap."""
        try:
            response = await self._transport.send(url, headers, private_ok, body)
        except TransportError as exc:
            error = FetchError(redact_url(url), _without_userinfo(exc.reason, url))
            if exc.connect_failed:
                raise _ConnectFailedError(error) from exc.__cause__
            raise error from exc.__cause__
        except BlockedAddressError as exc:  # from a stack's guard, which knows no URL
            raise BlockedAddressError(redact_url(url), exc.reason) from exc
        try:
            content = b""
            # A GET's redirect, 304 and error bodies are never used, and not reading them
            # is cheaper; of a POST's answer only an error's body says anything.
            if (200 <= response.status < 300) == (body is None):
                content = await self._read_body(url, response)
        except TransportError as exc:
            reason = _without_userinfo(exc.reason, url)
            raise FetchError(redact_url(url), reason) from exc.__cause__
        finally:
            await response.aclose()
        return HTTPReply(response.status, response.headers, content)

    async def _read_body(self, url: str, response: RawResponse) -> bytes:
        """Stream the body, decoding it ourselves so the cap bounds decoded bytes."""
        safe_url = redact_url(url)
        headers = response.headers
        max_bytes = self._settings.max_bytes
        length = headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > max_bytes:
            raise ResponseTooLargeError(
                safe_url, f"Content-Length {length} exceeds {max_bytes} bytes"
            )
        encodings = [
            e.strip().lower()
            for e in headers.get("content-encoding", "").split(",")
            if e.strip().lower() not in ("", "identity")
        ]
        if len(encodings) > 1:
            raise FetchError(safe_url, f"unsupported Content-Encoding {', '.join(encodings)!r}")
        decoder = _BodyDecoder(safe_url, encodings[0] if encodings else "", max_bytes)
        chunks: list[bytes] = []
        raw_size = 0
        async for raw in response.aiter_raw():
            # Bytes after a gzip stream's end are ignored by the decoder; this keeps
            # an endless tail from being read until the deadline.
            raw_size += len(raw)
            if raw_size > max_bytes:
                raise ResponseTooLargeError(safe_url, f"body exceeds {max_bytes} bytes")
            chunks.append(decoder.feed(raw))
        chunks.append(decoder.flush())
        return b"".join(chunks)

    def _backoff(self, attempt: int) -> float:
        base = self._settings.backoff * 2**attempt
        return base + base * JITTER * random.random()

    def _retry_after(self, headers: Mapping[str, str]) -> float | None:
        value = headers.get("retry-after")
        return None if value is None else parse_retry_after(value, self._clock())


# URLs whose parse is kept: a round asks for each article's host and target several times
# (scheduling, the host slot, the request), and urlsplit is most of a 304's bookkeeping.
URL_CACHE = 65_536


@functools.lru_cache(maxsize=URL_CACHE)
def host_key(url: str) -> str:
    """The host whose per-host slots a request to ``url`` takes (lower case; "" for a URL
    without one), for scheduling work host by host."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _get_headers(accept: str | None, validators: Validators) -> dict[str, str]:
    """A GET's own headers: what it accepts and, for a conditional GET, the validators."""
    headers = {"Accept": accept or DEFAULT_ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


class _ConnectFailedError(Exception):
    """Internal: a connect failure, worth a retry; carries the FetchError to raise."""

    def __init__(self, error: FetchError) -> None:
        super().__init__(str(error))
        self.error = error


def _worth_retrying(status: int) -> bool:
    """429 and 5xx are usually transient; other statuses will not change on a retry."""
    return status == 429 or 500 <= status < 600


class _Target(NamedTuple):
    """What the policy needs of a URL."""

    scheme: str
    host: str  # lower case, IDNA-encoded, IPv6 without brackets
    port: int


@functools.lru_cache(maxsize=URL_CACHE)
def _parse_url(url: str) -> _Target:
    """``url``'s scheme, host and port, if it is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(redact_url(url), f"invalid URL: {exc}") from exc
    scheme = parts.scheme
    if scheme not in ("http", "https"):
        raise FetchError(redact_url(url), f"scheme {scheme!r} is not http or https")
    host = parts.hostname
    if not host:
        raise FetchError(redact_url(url), "URL has no host")
    if not host.isascii():
        # Rare enough to afford httpx's parser: Python's own codec is IDNA 2003, which
        # maps some names differently from the IDNA 2008 that the stacks connect with.
        import httpx

        try:
            host = httpx.URL(url).raw_host.decode("ascii")
        except httpx.InvalidURL as exc:
            raise FetchError(redact_url(url), f"invalid URL: {exc}") from exc
    return _Target(scheme, host, port or (443 if scheme == "https" else 80))


def _without_userinfo(reason: str, url: str) -> str:
    """``reason`` with ``url``'s credentials masked, should a library have quoted them."""
    try:
        userinfo = urlsplit(url).netloc.rpartition("@")[0]
    except ValueError:
        return reason
    password = userinfo.partition(":")[2]
    for secret in (userinfo, password, unquote(password)):
        if secret:
            reason = reason.replace(secret, "***")
    return reason


def same_origin(first: str, second: str) -> bool:
    """Whether two URLs share scheme, host and port: a link on a page the user vouched for
    is trusted as the page is only when it stays on the page's origin."""
    return _origin(first) == _origin(second)


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, with the default port made explicit."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port
