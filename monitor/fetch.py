"""One shared HTTP client: conditional GET, limits, politeness and address safety.

``Fetcher.get`` is the only way Newsmonitor talks HTTP. It follows redirects itself so
that every hop passes the address policy, decodes gzip/deflate itself so that the byte
cap holds after decompression without ever inflating more than the cap, retries only
what is worth retrying (connect failures, 5xx, 429) and turns every httpx error into a
``FetchError`` naming the URL (with any userinfo stripped).

Timing has two layers: httpx's ``timeout`` bounds each connect/read/write, and the
wall-clock ``deadline`` bounds one whole exchange (address check, request, body), so a
server dripping a byte every second cannot hold a slot forever. Retry sleeps and
waiting for a concurrency slot are outside the deadline.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx

from monitor.config import FetchSettings
from monitor.errors import (
    BlockedAddressError,
    DeadlineExceededError,
    FetchError,
    HTTPStatusError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from monitor.models import FetchResult, Validators

log = logging.getLogger(__name__)

DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_ENCODING = "gzip, deflate"  # exactly what _BodyDecoder can bound; no br/zstd
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
JITTER = 0.1  # up to +10% of a backoff delay, so retries from many tasks spread out

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[object]]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def redact_url(url: str) -> str:
    """``url`` without userinfo, so credentials never reach logs or error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date); None if invalid."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" zone: RFC 5322 says UTC with unknown local zone
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def is_public_address(address: Address) -> bool:
    """Whether fetching from ``address`` is safe: globally routable, not internal."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:10.0.0.1 reaches 10.0.0.1 on dual-stack sockets.
        address = address.ipv4_mapped
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    ):
        return False
    # is_global also excludes shared (100.64/10) and documentation ranges.
    return address.is_global


@dataclass(frozen=True)
class _Reply:
    """One HTTP exchange, body already read and decoded (empty unless 2xx)."""

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


class Fetcher:
    """The shared HTTP client; use as ``async with Fetcher(settings) as fetcher``."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        if transport is None:
            transport = httpx.AsyncHTTPTransport(trust_env=False)
            _guard_connections(transport)
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,  # every hop must pass the address policy
            # No proxies or .netrc credentials picked up from the environment: what
            # is fetched, and how, is decided by the config alone.
            trust_env=False,
            headers={"User-Agent": settings.user_agent},
        )
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = {}

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
        await self._client.aclose()

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
        trusted = _origin(url) if trust_origin else None
        validators = validators or Validators()
        headers = {"Accept": accept or DEFAULT_ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified

        visited: list[str] = []
        current = url
        while True:
            hop_ok = private_ok or (trusted is not None and _origin(current) == trusted)
            reply = await self._get_with_retries(current, headers, hop_ok)
            location = reply.headers.get("location")
            if reply.status not in REDIRECT_STATUSES or not location:
                break
            if len(visited) >= self._settings.max_redirects:
                raise TooManyRedirectsError(
                    redact_url(url), f"more than {self._settings.max_redirects} redirects"
                )
            visited.append(current)
            current = urljoin(current, location.strip())
            log.debug("redirect %s -> %s", redact_url(visited[-1]), redact_url(current))

        if reply.status >= 300 and reply.status != 304:
            raise HTTPStatusError(
                redact_url(current), reply.status, self._retry_after(reply.headers)
            )
        etag = reply.headers.get("etag")
        last_modified = reply.headers.get("last-modified")
        if reply.status == 304:
            # A 304 may omit the validators; the ones we sent are still current.
            etag = etag or validators.etag
            last_modified = last_modified or validators.last_modified
        return FetchResult(
            requested_url=url,
            final_url=current,
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
    ) -> _Reply:
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

    async def _exchange(self, url: str, headers: Mapping[str, str], private_ok: bool) -> _Reply:
        """One request and its body, within the concurrency limits and the deadline."""
        target = _parse_url(url)
        host_slots = self._host_slots.setdefault(
            target.host, asyncio.Semaphore(self._settings.per_host_concurrency)
        )
        # Host slot first: a task queued for a busy host must not hold a global slot
        # that a request to an idle host could use.
        async with host_slots, self._slots:
            deadline = asyncio.timeout(self._settings.deadline)
            try:
                async with deadline:
                    if not private_ok:
                        await self._check_address(url, target)
                    # Read by the connection guard when a new connection is opened.
                    token = _PRIVATE_OK.set(private_ok)
                    try:
                        return await self._send(url, target, headers)
                    finally:
                        _PRIVATE_OK.reset(token)
            except TimeoutError as exc:
                if not deadline.expired():
                    raise
                raise DeadlineExceededError(
                    redact_url(url), f"no complete response within {self._settings.deadline}s"
                ) from exc

    async def _check_address(self, url: str, target: httpx.URL) -> None:
        """Raise BlockedAddressError unless every address of the host is public."""
        host = target.raw_host.decode("ascii")
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            port = target.port or (443 if target.scheme == "https" else 80)
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:  # socket.gaierror
                raise FetchError(redact_url(url), f"cannot resolve host {host!r}") from exc
            # Scope ids ("fe80::1%eth0") are not part of the address proper.
            addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        blocked = sorted({str(a) for a in addresses if not is_public_address(a)})
        if blocked:
            raise BlockedAddressError(
                redact_url(url), f"host {host!r} resolves to non-public {', '.join(blocked)}"
            )

    async def _send(self, url: str, target: httpx.URL, headers: Mapping[str, str]) -> _Reply:
        """Send the request and read a 2xx body under the byte cap."""
        safe_url = redact_url(url)
        try:
            request = self._client.build_request("GET", target, headers=headers)
            response = await self._client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _ConnectFailedError(_translate(safe_url, exc)) from exc
        except httpx.HTTPError as exc:
            raise _translate(safe_url, exc) from exc
        try:
            response_headers = {k.lower(): v for k, v in response.headers.items()}
            body = b""
            # Redirect, 304 and error bodies are never used; not reading them is cheaper.
            if 200 <= response.status_code < 300:
                body = await self._read_body(safe_url, response, response_headers)
        except httpx.HTTPError as exc:
            raise _translate(safe_url, exc) from exc
        finally:
            await response.aclose()
        return _Reply(response.status_code, response_headers, body)

    async def _read_body(
        self, url: str, response: httpx.Response, headers: Mapping[str, str]
    ) -> bytes:
        """Stream the body, decoding it ourselves so the cap bounds decoded bytes."""
        max_bytes = self._settings.max_bytes
        length = headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > max_bytes:
            raise ResponseTooLargeError(url, f"Content-Length {length} exceeds {max_bytes} bytes")
        encodings = [
            e.strip().lower()
            for e in headers.get("content-encoding", "").split(",")
            if e.strip().lower() not in ("", "identity")
        ]
        if len(encodings) > 1:
            raise FetchError(url, f"unsupported Content-Encoding {', '.join(encodings)!r}")
        decoder = _BodyDecoder(url, encodings[0] if encodings else "", max_bytes)
        chunks: list[bytes] = []
        raw_size = 0
        async for raw in response.aiter_raw():
            # Bytes after a gzip stream's end are ignored by the decoder; this keeps
            # an endless tail from being read until the deadline.
            raw_size += len(raw)
            if raw_size > max_bytes:
                raise ResponseTooLargeError(url, f"body exceeds {max_bytes} bytes")
            chunks.append(decoder.feed(raw))
        chunks.append(decoder.flush())
        return b"".join(chunks)

    def _backoff(self, attempt: int) -> float:
        base = self._settings.backoff * 2**attempt
        return base + base * JITTER * random.random()

    def _retry_after(self, headers: Mapping[str, str]) -> float | None:
        value = headers.get("retry-after")
        return None if value is None else parse_retry_after(value, self._clock())


class _ConnectFailedError(Exception):
    """Internal: a connect failure, worth a retry; carries the FetchError to raise."""

    def __init__(self, error: FetchError) -> None:
        super().__init__(str(error))
        self.error = error


def _worth_retrying(status: int) -> bool:
    """429 and 5xx are usually transient; other statuses will not change on a retry."""
    return status == 429 or 500 <= status < 600


def _parse_url(url: str) -> httpx.URL:
    """``url`` as an httpx.URL, if it is an absolute http(s) URL with a host."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(redact_url(url), f"invalid URL: {exc}") from exc
    if target.scheme not in ("http", "https"):
        raise FetchError(redact_url(url), f"scheme {target.scheme!r} is not http or https")
    if not target.host:
        raise FetchError(redact_url(url), "URL has no host")
    return target


def _translate(url: str, exc: httpx.HTTPError) -> FetchError:
    """A FetchError with a short, human reason for an httpx error."""
    if isinstance(exc, httpx.ConnectTimeout):
        reason = "connect timed out"
    elif isinstance(exc, httpx.TimeoutException):
        reason = "timed out"
    elif isinstance(exc, httpx.ConnectError):
        reason = _connect_reason(exc)
    elif isinstance(exc, httpx.RemoteProtocolError):
        reason = f"protocol error: {_detail(exc)}"
    elif isinstance(exc, httpx.NetworkError):
        reason = f"network error: {_detail(exc)}"
    else:
        reason = f"{type(exc).__name__}: {_detail(exc)}"
    return FetchError(url, reason)


def _detail(exc: BaseException) -> str:
    """The first message along ``exc``'s causes: httpx's ReadError for a reset is empty."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionResetError):
            return "connection reset by peer"
        if str(cause):
            return str(cause)
        cause = cause.__cause__ or cause.__context__
    return type(exc).__name__


def _connect_reason(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "cannot resolve host"
        cause = cause.__cause__ or cause.__context__
    return f"cannot connect: {exc}"


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, with the default port made explicit."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


# Whether the request being sent may reach a non-public address; set around each send.
_PRIVATE_OK: ContextVar[bool] = ContextVar("newsmonitor_private_ok", default=True)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Checks the address a new connection actually reached.

    The resolver was asked before connecting, but a hostile DNS server can answer
    differently the second time (DNS rebinding): the peer of the open socket is what counts.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        if _PRIVATE_OK.get():
            return stream
        peer = stream.get_extra_info("server_addr")
        try:
            address = ipaddress.ip_address(str(peer[0]).split("%")[0])
        except (TypeError, IndexError, ValueError):
            address = None
        if address is None or not is_public_address(address):
            await stream.aclose()
            raise BlockedAddressError(
                f"{host}:{port}", f"host {host!r} connected to non-public {address}"
            )
        return stream

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError(path, "unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _guard_connections(transport: httpx.AsyncHTTPTransport) -> None:
    """Put the connection guard under httpx's pool (httpx has no public hook for it)."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if pool is None or backend is None:
        raise RuntimeError("httpx's transport changed: the connection guard cannot be set")
    pool._network_backend = _GuardedBackend(backend)
