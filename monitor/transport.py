"""The seam under ``Fetcher``: send one request, hand back its status, headers and raw body.

A ``Transport`` does no more than that: no redirects, no decoding, no retries, no limits.
``Fetcher`` (fetch.py) does all of those once, whichever stack is underneath:

- ``transport_native.NativeTransport``, the default: our own lean HTTP/1.1 client on
  asyncio Protocols, for the least CPU per request (fetch.py has the figures);
- ``transport_aiohttp.AiohttpTransport``, the alternative;
- ``transport_httpx.HttpxTransport``, the slowest (and the one that takes httpx mock
  transports in tests).

A stack's own exceptions never leave it: each is translated into a ``TransportError``
carrying a short human reason (the same reason for the same failure on every stack),
raised ``from`` the original. The address guard is the other thing a stack must provide:
``send(..., private_ok=False, ...)`` must not connect to a non-public address, whatever the
resolver answers by the time the connection is made, and raises ``BlockedAddressError``.
Each stack keeps its connections in ``Pools``, one pool per address policy; none picks
up proxies or .netrc credentials from the environment: what is fetched, and how, is
decided by the config alone.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Generic, Protocol, TypeVar

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Every stack keeps connections alive between requests (a new one costs a round trip, two
# with TLS) and sizes its pools by [fetch] concurrency and per_host_concurrency.
KEEPALIVE = 15.0  # seconds an idle connection is kept for the next request to its host
# Seconds a host's resolved addresses are reused. getaddrinfo does not tell a record's
# TTL; a minute is shorter than most news sites' and spares a lookup per request.
DNS_TTL = 60.0
PoolT = TypeVar("PoolT")


class RawResponse(Protocol):
    """A response whose body has not been read yet."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]:
        """Lower-cased names; repeated fields joined with ", " (as RFC 9110 allows)."""
        ...

    def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body as sent (still Content-Encoded); TransportError if the read fails."""
        ...

    async def aclose(self) -> None:
        """Give the connection back (or close it if the body was not read to its end)."""
        ...


class Transport(Protocol):
    """One HTTP stack: GET (or POST to) a URL, follow nothing, decode nothing."""

    async def send(
        self, url: str, headers: Mapping[str, str], private_ok: bool, body: bytes | None = None
    ) -> RawResponse:
        """Send a GET, or a POST of ``body`` when there is one; return once the response
        head has arrived.

        ``private_ok`` false: the connection must reach a public address only
        (``BlockedAddressError`` otherwise). Failures raise ``TransportError``.
        """
        ...

    async def aclose(self) -> None:
        """Close every pooled connection."""
        ...


class TransportError(Exception):
    """A stack's failure as a short human reason; ``__cause__`` is the stack's own error.

    ``connect_failed``: nothing was sent (refused, unresolvable, connect timeout), so a
    retry is safe and may well succeed.
    """

    def __init__(self, reason: str, *, connect_failed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.connect_failed = connect_failed


class Pools(Generic[PoolT]):
    """A stack's connection pools (clients, sessions), one per address policy, opened on
    first use: a connection opened for a request allowed on the intranet is never reused
    for one that is not."""

    def __init__(self, open_pool: Callable[[bool], PoolT]) -> None:
        self._open = open_pool
        self._pools: dict[bool, PoolT] = {}
        self._closed = False

    def get(self, private_ok: bool) -> PoolT:
        """The pool for requests with this policy, opened now if need be."""
        pool = self._pools.get(private_ok)
        if pool is None:
            if self._closed:
                raise RuntimeError("the fetcher is closed")
            pool = self._pools[private_ok] = self._open(private_ok)
        return pool

    def close_all(self) -> dict[bool, PoolT]:
        """Every pool opened so far, for the stack to close; none is opened after this."""
        self._closed = True
        pools, self._pools = self._pools, {}
        return pools


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


def parse_address(text: str) -> Address | None:
    """``text`` as an IP address (a scope id such as ``%eth0`` dropped); None if it is not one."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def is_public_text(text: str) -> bool:
    """Whether ``text`` is an IP address that ``is_public_address`` allows (a resolver's
    answer, checked before connecting to it)."""
    address = parse_address(text)
    return address is not None and is_public_address(address)


def network_detail(exc: BaseException) -> str:
    """The first message along ``exc``'s causes; a TCP reset always reads the same.

    httpx's ReadError for a reset has an empty message, aiohttp's says "[Errno 104] ...":
    both become "connection reset by peer".
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionResetError) or (
            isinstance(cause, OSError) and cause.errno == errno.ECONNRESET
        ):
            return "connection reset by peer"
        if str(cause):
            return str(cause)
        cause = cause.__cause__ or cause.__context__
    return type(exc).__name__


def connect_reason(exc: BaseException) -> str:
    """Why a connection could not be made, the same words on every stack."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "cannot resolve host"
        cause = cause.__cause__ or cause.__context__
    return f"cannot connect: {exc}"
