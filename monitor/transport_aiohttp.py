"""The aiohttp stack under ``Fetcher``: the alternative to the native one (fetch.py).

Address guard, with aiohttp's public hooks only. Requests that may not reach private
addresses get a session, so a connection pool, of their own:

- its connector resolves host names through ``_PublicOnlyResolver``, whose answer is the
  very list aiohttp connects to, so a DNS server that answers differently after the
  policy's check (DNS rebinding) gains nothing; aiohttp's DNS cache holds that checked
  list (``transport.DNS_TTL``), so a connection goes to an address that was checked;
- IP literals never reach a resolver: ``send`` checks them on yarl's parse of the URL,
  the one aiohttp connects with;
- a connection opened for a request allowed on the intranet lives in the other pool and is
  never reused for one that is not. (Checking the peer of a reused connection per request
  is no substitute: aiohttp returns the connection to its pool as soon as a body-less
  response, a 304, has arrived, before the caller can look at it.)
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Mapping

import aiohttp
import certifi
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from monitor import transport
from monitor.config import FetchSettings
from monitor.errors import BlockedAddressError
from monitor.transport import Pools, TransportError

# aiohttp's default of 8190 bytes per header line fails sites that httpx (httpcore: 100 kB for
# the whole head) reads fine, such as long Content-Security-Policy or Set-Cookie headers.
MAX_HEADER_LINE = 64 * 1024


class AiohttpTransport:
    """``Transport`` on aiohttp. Sessions are made on first use: one needs a running loop,
    and a ``Fetcher`` may be built before there is one."""

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self._sessions = Pools(self._open)
        self._resolvers: list[AbstractResolver] = []
        self._cookies: aiohttp.CookieJar | None = None
        self._ssl: ssl.SSLContext | None = None

    async def send(
        self, url: str, headers: Mapping[str, str], private_ok: bool, body: bytes | None = None
    ) -> _Response:
        session = self._sessions.get(private_ok)
        try:
            target = URL(url)
        except ValueError as exc:
            raise TransportError(f"invalid URL: {exc}") from exc
        if not private_ok:
            _refuse_private_literal(target.raw_host)
        try:
            method = "GET" if body is None else "POST"
            response = await session.request(
                method, target, headers=headers, data=body, allow_redirects=False
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _translate(exc) from exc
        return _Response(response)

    async def aclose(self) -> None:
        sessions = self._sessions.close_all()
        resolvers, self._resolvers = self._resolvers, []
        for session in sessions.values():
            await session.close()
        for resolver in resolvers:  # passed in, so not closed by their connectors
            await resolver.close()

    def _open(self, private_ok: bool) -> aiohttp.ClientSession:
        settings = self._settings
        if self._cookies is None or self._ssl is None:
            # One jar for both sessions, so cookies behave as with a single httpx client;
            # unsafe=True keeps cookies of hosts given as IP addresses too, as httpx does.
            self._cookies = aiohttp.CookieJar(unsafe=True)
            # certifi's trust store, as httpx uses it: a certificate is good on both stacks
            # or on neither.
            self._ssl = ssl.create_default_context(cafile=certifi.where())
        resolver: AbstractResolver = ThreadedResolver() if private_ok else _PublicOnlyResolver()
        self._resolvers.append(resolver)
        connector = aiohttp.TCPConnector(
            limit=settings.concurrency,
            limit_per_host=settings.per_host_concurrency,
            resolver=resolver,
            use_dns_cache=True,
            ttl_dns_cache=int(transport.DNS_TTL),
            keepalive_timeout=transport.KEEPALIVE,
            ssl=self._ssl,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=self._cookies,
            headers={"User-Agent": settings.user_agent},
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=settings.timeout, sock_read=settings.timeout
            ),
            # _BodyDecoder decodes, so that the byte cap bounds the decoded size.
            auto_decompress=False,
            trust_env=False,  # the config alone decides (transport.py)
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
        )
        return session


class _Response:
    """``RawResponse`` over an aiohttp response whose body is still unread."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        headers: dict[str, str] = {}
        for name, value in response.headers.items():
            key = name.lower()
            # Joined like httpx does, so both stacks hand Fetcher the same mapping.
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self.headers: Mapping[str, str] = headers

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _translate(exc) from exc

    async def aclose(self) -> None:
        # Back to the pool if the body was read to its end, closed otherwise.
        self._response.release()


class _PublicOnlyResolver(AbstractResolver):
    """Answers with the host's public addresses only; BlockedAddressError if it has none."""

    def __init__(self) -> None:
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        public = [answer for answer in answers if transport.is_public_text(answer["host"])]
        if not public:
            blocked = ", ".join(sorted({answer["host"] for answer in answers}))
            raise BlockedAddressError(host, f"host {host!r} resolves to non-public {blocked}")
        return public

    async def close(self) -> None:
        await self._inner.close()


def _refuse_private_literal(host: str | None) -> None:
    """BlockedAddressError if ``host`` is a non-public IP literal (names: the resolver)."""
    address = transport.parse_address(host) if host else None
    if address is not None and not transport.is_public_address(address):
        raise BlockedAddressError(host or "", f"host {host!r} resolves to non-public {address}")


# What h11 says for the same event, so the reason does not depend on the stack.
_DISCONNECTED = "Server disconnected without sending a response."


def _translate(exc: BaseException) -> TransportError:
    """A ``TransportError`` with the reason the httpx stack gives for the same failure."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return TransportError("connect timed out", connect_failed=True)
    if isinstance(exc, TimeoutError):  # aiohttp's sock_read timeout
        return TransportError("timed out")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransportError(transport.connect_reason(exc.os_error), connect_failed=True)
    if isinstance(exc, aiohttp.InvalidURL):
        # str(exc) is the whole URL, userinfo included: only the description is used.
        detail = exc.description or (str(exc.__cause__) if exc.__cause__ else "malformed")
        return TransportError(f"invalid URL: {detail}")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return TransportError(f"protocol error: {_DISCONNECTED}")
    if isinstance(exc, aiohttp.ClientPayloadError):
        # aiohttp names a reset in this error's message only; the cause chain holds the
        # parser's complaint about the missing bytes (client_proto.connection_lost).
        if "ConnectionResetError" in str(exc):
            return TransportError("network error: connection reset by peer")
        return TransportError(f"protocol error: {_parser_message(exc)}")
    if isinstance(exc, aiohttp.ClientResponseError):  # the response head did not parse
        return TransportError(f"protocol error: {_one_line(exc.message)}")
    if isinstance(exc, aiohttp.ClientConnectionError):
        return TransportError(f"network error: {transport.network_detail(exc)}")
    return TransportError(f"{type(exc).__name__}: {transport.network_detail(exc)}")


def _parser_message(exc: BaseException) -> str:
    """The HTTP parser's own words along ``exc``'s causes, else ``exc``'s message."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, HttpProcessingError) and cause.message:
            return _one_line(cause.message)
        cause = cause.__cause__ or cause.__context__
    return _one_line(str(exc))


def _one_line(text: str) -> str:
    """aiohttp's parser messages span lines (a caret under the bad byte); reasons do not."""
    return " ".join(text.split())
