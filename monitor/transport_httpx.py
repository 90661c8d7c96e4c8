"""The httpx stack under ``Fetcher``: the slowest of the three, and the one that takes
an ``httpx.AsyncBaseTransport`` (tests answer from a table through it).

Requests that may not reach private addresses get a client of their own, whose every new
connection passes ``_GuardedBackend``; so a connection opened for an intranet feed is never
reused for a third-party link.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from http.cookiejar import CookieJar
from typing import Any

import httpcore
import httpx

from monitor.config import FetchSettings
from monitor.errors import BlockedAddressError
from monitor.transport import (
    KEEPALIVE,
    Pools,
    TransportError,
    connect_reason,
    is_public_address,
    network_detail,
    parse_address,
)


class HttpxTransport:
    """``Transport`` on httpx; ``transport`` replaces httpx's own (no guard is added then)."""

    def __init__(
        self, settings: FetchSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._settings = settings
        self._injected = transport
        self._clients = Pools(self._open)
        self._injected_client: httpx.AsyncClient | None = None
        # One jar for both clients, so cookies behave as with a single httpx client.
        self._cookies = CookieJar()

    async def send(
        self, url: str, headers: Mapping[str, str], private_ok: bool, body: bytes | None = None
    ) -> _Response:
        client = self._clients.get(private_ok)
        try:
            method = "GET" if body is None else "POST"
            request = client.build_request(method, url, headers=headers, content=body)
            response = await client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TransportError(_reason(exc), connect_failed=True) from exc
        except httpx.HTTPError as exc:
            raise TransportError(_reason(exc)) from exc
        except httpx.InvalidURL as exc:
            raise TransportError(f"invalid URL: {exc}") from exc
        return _Response(response)

    async def aclose(self) -> None:
        clients = self._clients.close_all()
        for client in set(clients.values()):  # one client twice, if injected
            await client.aclose()
        if not clients and self._injected is not None:
            await self._injected.aclose()  # it is ours to close, used or not

    def _open(self, private_ok: bool) -> httpx.AsyncClient:
        transport = self._injected
        if transport is None:
            settings = self._settings
            # httpx keeps 20 idle connections by default: a run over many hosts would
            # open most of its connections anew.
            limits = httpx.Limits(
                max_connections=settings.concurrency,
                max_keepalive_connections=settings.concurrency,
                keepalive_expiry=KEEPALIVE,
            )
            transport = httpx.AsyncHTTPTransport(trust_env=False, limits=limits)
            if not private_ok:
                _guard_connections(transport)
        elif self._injected_client is not None:
            # An injected transport is one object: one client, whatever the policy.
            return self._injected_client
        client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(self._settings.timeout),
            follow_redirects=False,  # Fetcher follows them, each hop through the policy
            trust_env=False,  # the config alone decides (transport.py)
            headers={"User-Agent": self._settings.user_agent},
            cookies=self._cookies,  # a CookieJar is shared as it is; a dict would be copied
        )
        if self._injected is not None:
            self._injected_client = client
        return client


class _Response:
    """``RawResponse`` over a streamed httpx response."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        # httpx's items() already joins repeated fields and lower-cases the names.
        self.headers: Mapping[str, str] = dict(response.headers.items())

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.HTTPError as exc:
            raise TransportError(_reason(exc)) from exc

    async def aclose(self) -> None:
        await self._response.aclose()


def _reason(exc: httpx.HTTPError) -> str:
    """A short, human reason for an httpx error."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timed out"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return connect_reason(exc)
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"protocol error: {network_detail(exc)}"
    if isinstance(exc, httpx.NetworkError):
        return f"network error: {network_detail(exc)}"
    return f"{type(exc).__name__}: {network_detail(exc)}"


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Refuses a new connection whose peer is not a public address.

    The policy resolved the host before connecting, but a hostile DNS server can answer
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
        peer = stream.get_extra_info("server_addr")
        try:
            address = parse_address(str(peer[0]))
        except (TypeError, IndexError):
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
