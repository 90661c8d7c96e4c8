"""A lean HTTP/1.1 stack under ``Fetcher`` on asyncio Protocols, the standard library only.

Why a third stack: most of a round is conditional GETs answered by a 304, where the
client's own CPU per request limits throughput; a Protocol that parses the response head
in ``data_received`` costs a fraction of aiohttp's machinery per request (fetch.py).

It does what ``Fetcher`` needs and nothing more: GET and POST, Content-Length, chunked and
close-delimited bodies, keep-alive pools, cookies (aiohttp's jar, so cookies behave as on
the default stack), TLS with certifi's trust store. No HTTP/2, no proxies, no pipelining.

Address guard: each pool resolves host names itself and connects to the checked address
(TLS still verifies ``server_hostname``), so what the resolver says later gains nothing;
with ``private_ok`` false only public addresses are kept (``BlockedAddressError`` if none
is left). IP literals are checked as they are. Requests that may reach private addresses
have a pool of their own (``transport.Pools``).
"""

from __future__ import annotations

import asyncio
import base64
import re
import socket
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

import certifi

from monitor import transport
from monitor.config import FetchSettings
from monitor.errors import BlockedAddressError
from monitor.transport import Pools, TransportError

if TYPE_CHECKING:
    from aiohttp import CookieJar

# As the aiohttp stack: 64 KiB a header line (long CSP and Set-Cookie lines exist), and a
# bound on the whole head so a server cannot make us buffer without end.
MAX_HEADER_LINE = 64 * 1024
MAX_HEAD = 256 * 1024
# Body bytes buffered before reading pauses until the caller takes them.
HIGH_WATER = 256 * 1024
# The words h11 uses (and the aiohttp stack copies), so reasons do not depend on the stack.
DISCONNECTED = "protocol error: Server disconnected without sending a response."
INCOMPLETE = "protocol error: peer closed connection without sending complete message body"
# Anything outside printable ASCII cannot go into a request line as it is.
_UNSAFE_TARGET = re.compile(r"[^\x21-\x7e]")
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)([^#]*)")  # origin, target
_PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")

Key = tuple[str, str, int]  # scheme, host, port
Endpoint = tuple[int, tuple[Any, ...]]  # address family, socket address

# Parser states of a connection.
_IDLE, _HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _UNTIL_CLOSE = range(8)
_DONE, _BROKEN = 8, 9


class NativeTransport:
    """``Transport`` on asyncio Protocols; connections are opened on first use."""

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self._policies = Pools(lambda private_ok: _Policy(self, private_ok))
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._busy = 0
        # Idle connections of both pools, oldest first: the one closed to stay within
        # [fetch] concurrency, or when KEEPALIVE has passed.
        self._idle: dict[_Connection, None] = {}
        self._sweep: asyncio.TimerHandle | None = None
        self._open: set[_Connection] = set()
        self._origins: dict[str, tuple[Key, str, str | None]] = {}
        self._cookies: CookieJar | None = None  # made on the first Set-Cookie
        self._ssl: ssl.SSLContext | None = None  # made on the first https URL (~30 ms)

    async def send(
        self, url: str, headers: Mapping[str, str], private_ok: bool, body: bytes | None = None
    ) -> _Response:
        policy = self._policies.get(private_ok)
        key, head = self._request_head(url, headers, body)
        await self._slots.acquire()
        self._busy += 1
        try:
            conn = policy.take(key)
            if conn is not None:
                try:
                    await conn.exchange(head, body)
                except _StaleConnectionError:
                    # The server closed a pooled connection while it was idle (RFC 9112,
                    # 9.3.1): nothing was processed, so a fresh one may try again, once.
                    conn = None
            if conn is None:
                conn = await policy.connect(key)
                await conn.exchange(head, body)
        except BaseException:
            self._release_slot()
            raise
        if conn.set_cookies:
            # aiohttp (and its eager SSL contexts) is loaded only once a site sets a cookie.
            from aiohttp import CookieJar
            from yarl import URL

            if self._cookies is None:
                # unsafe=True keeps cookies of hosts given as IP addresses too, as httpx does.
                self._cookies = CookieJar(unsafe=True)
            self._cookies.update_cookies_from_headers(conn.set_cookies, URL(url))
        return _Response(self, conn)

    async def aclose(self) -> None:
        self._policies.close_all()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        self._idle.clear()
        for conn in list(self._open):
            conn.abort()
        await asyncio.sleep(0)  # let connection_lost run before the loop may close

    def _request_head(
        self, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[Key, bytes]:
        """The pool key and the bytes of the request head."""
        match = _URL.match(url)
        if match is None:
            raise TransportError("invalid URL: not an absolute http(s) URL")
        prefix, target = match.groups()
        # A round asks few origins many times: each is parsed once (~3 us a request less).
        origin = self._origins.get(prefix)
        if origin is None:
            if len(self._origins) >= 1024:
                self._origins.clear()
            origin = self._origins[prefix] = _parse_origin(prefix, url)
        key, authority, authorization = origin
        if not target.startswith("/"):
            target = "/" + target  # "http://host?q" asks for "/?q"
        if _UNSAFE_TARGET.search(target):
            target = quote(target, safe=_PRINTABLE)  # spaces, non-ASCII: UTF-8 escapes
        lines = [
            f"{'GET' if body is None else 'POST'} {target} HTTP/1.1\r\n",
            f"Host: {authority}\r\n",
        ]
        names = {name.lower() for name in headers}
        if "user-agent" not in names:
            lines.append(f"User-Agent: {self._settings.user_agent}\r\n")
        lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
        if authorization and "authorization" not in names:
            lines.append(f"Authorization: {authorization}\r\n")
        if self._cookies is not None and len(self._cookies) and "cookie" not in names:
            from yarl import URL

            cookies = self._cookies.filter_cookies(URL(url))
            if cookies:
                pairs = "; ".join(f"{m.key}={m.coded_value}" for m in cookies.values())
                lines.append(f"Cookie: {pairs}\r\n")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}\r\n")
        text = "".join(lines)
        # One CR and one LF per line: a value carrying its own would inject headers.
        if text.count("\n") != len(lines) or text.count("\r") != len(lines):
            raise TransportError("invalid header value: line breaks are not allowed")
        return key, (text + "\r\n").encode("utf-8", "surrogateescape")

    def _release(self, conn: _Connection) -> None:
        """Pool ``conn`` if its response was read to the end and it may be reused."""
        if conn.reusable():
            conn.reset()
            conn.policy.put(conn)
            self._idle[conn] = None
            if self._sweep is None:
                loop = asyncio.get_running_loop()
                self._sweep = loop.call_later(transport.KEEPALIVE, self._close_expired)
        else:
            conn.abort()
        self._release_slot()
        self._trim()

    def _release_slot(self) -> None:
        self._busy -= 1
        self._slots.release()

    def _trim(self) -> None:
        """Close the oldest idle connections while more are open than [fetch] concurrency."""
        while self._idle and self._busy + len(self._idle) > self._settings.concurrency:
            self._forget_idle(next(iter(self._idle))).close()

    def _forget_idle(self, conn: _Connection) -> _Connection:
        self._idle.pop(conn, None)
        conn.policy.discard(conn)
        return conn

    def _close_expired(self) -> None:
        loop = asyncio.get_running_loop()
        self._sweep = None
        now = loop.time()
        for conn in list(self._idle):
            if now - conn.idle_since < transport.KEEPALIVE:
                self._sweep = loop.call_at(
                    conn.idle_since + transport.KEEPALIVE, self._close_expired
                )
                return
            self._forget_idle(conn).close()

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            # certifi's trust store, as the other stacks: a certificate is good on all.
            self._ssl = ssl.create_default_context(cafile=certifi.where())
        return self._ssl


class _Policy:
    """One address policy's pool: its idle connections by (scheme, host, port) and the
    addresses its host names resolved to."""

    def __init__(self, owner: NativeTransport, private_ok: bool) -> None:
        self._owner = owner
        self._private_ok = private_ok
        self._idle: dict[Key, list[_Connection]] = {}
        self._resolved: dict[tuple[str, int], tuple[float, list[Endpoint]]] = {}

    def take(self, key: Key) -> _Connection | None:
        """The most recently used idle connection to ``key`` still worth using, if any."""
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            self._owner._idle.pop(conn, None)
            if not conn.lost and conn.idle_since + transport.KEEPALIVE > conn.loop.time():
                conn.reused = True
                return conn
            conn.close()
        return None

    def put(self, conn: _Connection) -> None:
        conn.idle_since = conn.loop.time()
        self._idle.setdefault(conn.key, []).append(conn)

    def discard(self, conn: _Connection) -> None:
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    async def connect(self, key: Key) -> _Connection:
        """A new connection to one of the host's (checked) addresses."""
        scheme, host, port = key
        owner = self._owner
        addresses = await self._addresses(host, port)
        context = owner._tls() if scheme == "https" else None
        loop = asyncio.get_running_loop()
        error: OSError | None = None
        for family, address in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                async with asyncio.timeout(owner._settings.timeout):
                    sock.setblocking(False)
                    await loop.sock_connect(sock, address)
                    _, conn = await loop.create_connection(
                        lambda: _Connection(self, key, owner._settings.timeout),
                        sock=sock,
                        ssl=context,
                        server_hostname=host if context else None,
                    )
            except OSError as exc:  # TimeoutError included; next address, if any
                sock.close()
                error = exc
                continue
            except BaseException:
                sock.close()
                raise
            owner._trim()
            return conn
        if isinstance(error, TimeoutError):
            raise TransportError("connect timed out", connect_failed=True) from error
        assert error is not None  # addresses is never empty
        reason = transport.connect_reason(error)
        raise TransportError(reason, connect_failed=True) from error

    async def _addresses(self, host: str, port: int) -> list[Endpoint]:
        """(family, socket address) to try in turn; only public ones if the policy says so."""
        literal = transport.parse_address(host)
        if literal is not None:
            if not self._private_ok and not transport.is_public_address(literal):
                raise BlockedAddressError(host, f"host {host!r} resolves to non-public {literal}")
            family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
            return [(family, (host, port))]
        loop = asyncio.get_running_loop()
        cached = self._resolved.get((host, port))
        if cached is not None and cached[0] > loop.time():
            return cached[1]
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:  # socket.gaierror
            reason = transport.connect_reason(exc)
            raise TransportError(reason, connect_failed=True) from exc
        # The whole socket address: an IPv6 one's scope id says which link it is on.
        answers: list[Endpoint] = [(int(info[0]), info[4]) for info in infos]
        if not self._private_ok:
            public = [answer for answer in answers if transport.is_public_text(str(answer[1][0]))]
            if not public:
                blocked = ", ".join(sorted({str(answer[1][0]) for answer in answers}))
                raise BlockedAddressError(host, f"host {host!r} resolves to non-public {blocked}")
            answers = public
        self._resolved[host, port] = (loop.time() + transport.DNS_TTL, answers)
        return answers


def _parse_origin(prefix: str, url: str) -> tuple[Key, str, str | None]:
    """A URL's pool key, Host header and (from its userinfo) Authorization header."""
    try:
        parts = urlsplit(prefix)
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise TransportError(f"invalid URL: {exc}") from exc
    scheme = parts.scheme
    if scheme not in ("http", "https") or not host:
        raise TransportError(f"invalid URL: {scheme!r} scheme or no host")
    userinfo, _, authority = parts.netloc.rpartition("@")
    if not authority.isascii():
        from yarl import URL  # rare; yarl encodes names with IDNA 2008, as the others do

        host = URL(url).raw_host or host
        authority = f"[{host}]" if ":" in host else host
        if port is not None:
            authority += f":{port}"
    authorization = None
    if userinfo:
        user, _, password = userinfo.partition(":")
        token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
        authorization = f"Basic {token}"
    return (scheme, host, port or (443 if scheme == "https" else 80)), authority, authorization


class _StaleConnectionError(Exception):
    """A pooled connection was closed by the server before any byte of the response."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: writes a request, parses its response as bytes arrive.

    The head is parsed in ``data_received`` and the body framed there too, so that a
    response without a body (a 304) costs one callback and one wake-up of the caller.
    """

    def __init__(self, policy: _Policy, key: Key, timeout: float) -> None:
        self.policy = policy
        self.key = key
        self.loop = asyncio.get_running_loop()
        self._timeout = timeout
        self._transport: asyncio.Transport | None = None
        self._state = _IDLE
        self._buf = bytearray()
        self._waiter: asyncio.Future[None] | None = None
        self._error: tuple[str, BaseException | None] | None = None
        self._paused = False
        self._got_bytes = False
        self._received = 0  # body bytes of the current response, for error messages
        self._remaining = 0
        self._keep_alive = True
        self.reused = False
        self._may_resend = False
        self.lost = False
        self.idle_since = 0.0
        self.status = 0
        self.headers: dict[str, str] = {}
        self.set_cookies: list[str] = []
        self.chunks: list[bytes] = []
        self._buffered = 0

    # --- the caller's side -------------------------------------------------------------

    async def exchange(self, head: bytes, body: bytes | None) -> None:
        """Send a request and wait for its final response head."""
        # A GET is sent again, a POST the server may have acted on is not (RFC 9110, 9.2.2).
        self._may_resend = self.reused and body is None
        if self.lost or self._transport is None:
            if self._may_resend:
                raise _StaleConnectionError
            raise TransportError(DISCONNECTED)
        self._state = _HEAD
        try:
            self._transport.write(head if not body else head + body)
            while self._state == _HEAD:
                await self.wait()
        except BaseException:
            self.abort()  # cancelled (the deadline), or failed: never reused
            raise

    def take_body(self) -> list[bytes]:
        """The body bytes that arrived since last asked; reading resumes if it paused."""
        chunks, self.chunks, self._buffered = self.chunks, [], 0
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        return chunks

    @property
    def body_done(self) -> bool:
        return self._state == _DONE

    async def wait(self) -> None:
        """Until the parser makes progress; TransportError on failure or a quiet peer."""
        if self._error is None:
            waiter = self._waiter = self.loop.create_future()
            timer = self.loop.call_later(self._timeout, self._fail, "timed out", None)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        if self._error is not None:
            reason, cause = self._error
            if reason == "stale":
                raise _StaleConnectionError
            raise TransportError(reason) from cause

    def reusable(self) -> bool:
        return self._state == _DONE and self._keep_alive and not self.lost and not self._buf

    def reset(self) -> None:
        self._state = _IDLE
        self.chunks = []
        self.set_cookies = []
        self._got_bytes = False

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        self._state = _BROKEN
        if self._transport is not None:
            self._transport.abort()

    # --- asyncio's side ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self.policy._owner._open.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        owner = self.policy._owner
        owner._open.discard(self)
        state = self._state
        if state == _IDLE:
            owner._forget_idle(self)
        elif state == _UNTIL_CLOSE and exc is None:
            self._state = _DONE  # the end of a close-delimited body
            self._keep_alive = False
            self._wake()
        elif state not in (_DONE, _BROKEN):
            if state == _HEAD and self._may_resend and not self._got_bytes:
                self._fail("stale", exc)
            elif exc is not None:
                self._fail(f"network error: {transport.network_detail(exc)}", exc)
            elif state == _HEAD:
                self._fail(DISCONNECTED, None)
            elif state == _LENGTH:
                expected = self._received + self._remaining
                self._fail(f"{INCOMPLETE} (received {self._received} bytes, expected {expected})")
            else:
                self._fail(f"{INCOMPLETE} (incomplete chunked read)")

    def data_received(self, data: bytes) -> None:
        self._got_bytes = True
        state = self._state
        if state in (_LENGTH, _UNTIL_CLOSE) and not self._buf:
            self._body(data)  # the common case of a body: no copy into the buffer
            return  # bytes past a Content-Length body are left in _buf: never reused
        if state in (_IDLE, _DONE):
            # Bytes nobody asked for: this connection's framing can no longer be trusted.
            self._keep_alive = False
            if state == _IDLE and self._transport is not None:
                self._transport.close()  # out of the pool (connection_lost)
            return
        self._buf += data
        self._advance()

    # --- parsing ----------------------------------------------------------------------

    def _advance(self) -> None:
        buf = self._buf
        while buf and self._state not in (_DONE, _BROKEN):
            state = self._state
            if state == _HEAD:
                if not self._parse_head():
                    return
            elif state in (_LENGTH, _UNTIL_CLOSE, _CHUNK_DATA):
                data = bytes(buf if state == _UNTIL_CLOSE else buf[: self._remaining])
                del buf[: len(data)]
                self._body(data)
            elif state == _CHUNK_END:
                if buf[:2] == b"\r\n" or buf[:1] == b"\n":
                    del buf[: 2 if buf[0] == 13 else 1]
                    self._state = _CHUNK_SIZE
                elif buf != b"\r":
                    return self._fail("protocol error: chunk data not followed by CRLF")
                else:
                    return
            else:  # _CHUNK_SIZE, _TRAILER: one line at a time
                end = buf.find(b"\n")
                if end < 0:
                    if len(buf) > MAX_HEADER_LINE:
                        self._fail("protocol error: chunk line too long")
                    return
                line = bytes(buf[:end]).rstrip(b"\r")
                del buf[: end + 1]
                if state == _TRAILER:  # fields read and dropped, as the other stacks do
                    if not line:
                        self._finish()
                    self._remaining += len(line)
                    if self._remaining > MAX_HEAD:
                        return self._fail(f"protocol error: trailer over {MAX_HEAD} bytes")
                    continue
                size = line.split(b";", 1)[0].strip(b" \t")
                if not _HEX.fullmatch(size):
                    return self._fail(f"protocol error: illegal chunk size {line[:40]!r}")
                self._remaining = int(size, 16)
                self._state = _CHUNK_DATA if self._remaining else _TRAILER

    def _parse_head(self) -> bool:
        """Parse a complete head at the buffer's start; False if more bytes are needed."""
        buf = self._buf
        end = buf.find(b"\r\n\r\n")
        bare = buf.find(b"\n\n", 0, end if end >= 0 else len(buf))  # lenient: bare LFs
        if bare >= 0:
            end, skip = bare, 2
        elif end >= 0:
            skip = 4
        else:
            if len(buf) - buf.rfind(b"\n") > MAX_HEADER_LINE:
                self._fail(f"protocol error: header line over {MAX_HEADER_LINE} bytes")
            elif len(buf) > MAX_HEAD:
                self._fail(f"protocol error: response head over {MAX_HEAD} bytes")
            return False
        if end > MAX_HEAD:
            self._fail(f"protocol error: response head over {MAX_HEAD} bytes")
            return False
        text = buf[:end].decode("utf-8", "surrogateescape")  # as aiohttp decodes them
        del buf[: end + skip]
        lines = text.split("\r\n") if skip == 4 else [x.rstrip("\r") for x in text.split("\n")]
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if (
            not version.startswith("HTTP/1.")
            or not (code.isascii() and code.isdigit())
            or rest[3:4] not in ("", " ")
        ):
            self._fail(f"protocol error: illegal status line: {lines[0][:100]!r}")
            return False
        headers: dict[str, str] = {}
        name = ""
        for line in lines[1:]:
            if len(text) > MAX_HEADER_LINE and len(line) > MAX_HEADER_LINE:
                self._fail(f"protocol error: header line over {MAX_HEADER_LINE} bytes")
                return False
            if line[:1] in (" ", "\t") and name:  # obsolete line folding
                headers[name] += " " + line.strip(" \t")
                continue
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip(" \t"):
                self._fail(f"protocol error: illegal header line: {line[:100]!r}")
                return False
            name = name.lower()
            value = value.strip(" \t")
            if name == "set-cookie":
                self.set_cookies.append(value)
            # Joined as the other stacks hand them to Fetcher (RFC 9110, 5.3).
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        status = int(code)
        if 100 <= status < 200:
            if status == 101:
                self._fail("protocol error: unexpected 101 Switching Protocols")
                return False
            self.set_cookies = []
            return True  # interim (100 Continue, 103 Early Hints): the real head follows
        self.status, self.headers = status, headers
        self._keep_alive = (
            version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
        )
        self._received = 0
        encoding = headers.get("transfer-encoding")
        length = headers.get("content-length")
        if status in (204, 304):
            self._finish()
        elif encoding is not None:
            if length is not None:
                self._keep_alive = False  # RFC 9112, 6.3: a request smuggler's signature
            if encoding.lower().rstrip(" \t").endswith("chunked"):
                self._state = _CHUNK_SIZE
            else:
                self._state, self._keep_alive = _UNTIL_CLOSE, False
        elif length is not None:
            values = {value.strip() for value in length.split(",")}
            value = values.pop()
            if values or not (value.isascii() and value.isdigit()):
                self._fail(f"protocol error: invalid Content-Length {length[:40]!r}")
                return False
            self._remaining = int(value)
            self._state = _LENGTH
            if not self._remaining:
                self._finish()
        else:
            self._state, self._keep_alive = _UNTIL_CLOSE, False
        self._wake()
        return True

    def _body(self, data: bytes) -> None:
        state = self._state
        if state != _UNTIL_CLOSE and len(data) >= self._remaining:
            extra = data[self._remaining :]
            data = data[: self._remaining]
            if extra:
                self._buf += extra
            self._remaining = 0
        elif state != _UNTIL_CLOSE:
            self._remaining -= len(data)
        self._received += len(data)
        if data:
            self.chunks.append(data)
            self._buffered += len(data)
        if state != _UNTIL_CLOSE and not self._remaining:
            if state == _LENGTH:
                self._finish()
            else:
                self._state = _CHUNK_END
        if self._buffered > HIGH_WATER and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    def _finish(self) -> None:
        self._state = _DONE
        self._wake()

    def _fail(self, reason: str, cause: BaseException | None = None) -> None:
        if self._error is None:
            self._error = (reason, cause)
        self.abort()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class _Response:
    """``RawResponse`` over a connection whose response head has arrived."""

    def __init__(self, owner: NativeTransport, conn: _Connection) -> None:
        self._owner = owner
        self._conn: _Connection | None = conn
        self.status = conn.status
        self.headers: Mapping[str, str] = conn.headers

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None:
            return
        while True:
            for chunk in conn.take_body():
                yield chunk
            if conn.body_done:
                return
            await conn.wait()

    async def aclose(self) -> None:
        # Back to the pool if the body was read to its end, closed otherwise.
        conn, self._conn = self._conn, None
        if conn is not None:
            self._owner._release(conn)
