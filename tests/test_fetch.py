"""Fetcher against a real HTTP server on loopback (and a mock transport where a real
connection would leave loopback).

One contract, three stacks: every test that takes the ``settings`` fixture runs on aiohttp,
httpx and the native stack. Tests that inject an httpx mock transport run on httpx only;
those named ``test_native_...`` check what is the native stack's own (its pool, its guard)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import ipaddress
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import certifi
import httpx
import pytest
from aiohttp.resolver import ThreadedResolver

from monitor.config import FetchSettings
from monitor.errors import (
    BlockedAddressError,
    DeadlineExceededError,
    FetchError,
    HTTPStatusError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from monitor.fetch import Fetcher, is_public_address, redact_url
from monitor.http_headers import parse_retry_after
from monitor.models import Validators
from monitor.transport import RawResponse, TransportError
from monitor.transport_aiohttp import _PublicOnlyResolver
from tests.webserver import Reply, Request, WebServer

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LAST_MODIFIED = "Wed, 01 May 2024 10:00:00 GMT"


@pytest.fixture(scope="module")
def shared_server() -> Iterator[WebServer]:
    server = WebServer().start()
    yield server
    server.stop()


@pytest.fixture
def web(shared_server: WebServer) -> WebServer:
    """conftest's ``web``, but one server per module: stopping a server waits for its
    0.5 s shutdown poll, which over this many tests would dominate the runtime."""
    shared_server.routes.clear()
    shared_server.requests.clear()
    return shared_server


MakeSettings = Callable[..., FetchSettings]


@pytest.fixture(params=["aiohttp", "httpx", "native"])
def settings(request: pytest.FixtureRequest) -> MakeSettings:
    """Makes loopback-friendly settings for one stack: short limits, no retries unless asked."""

    def make(**overrides: Any) -> FetchSettings:
        values: dict[str, Any] = {
            "client": request.param,
            "allow_private_addresses": True,
            "timeout": 2.0,
            "deadline": 3.0,
            "retries": 0,
            "backoff": 0.1,
        }
        return FetchSettings(**{**values, **overrides})

    return make


class SleepRecorder:
    """Stands in for asyncio.sleep: records each delay instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def fetcher(fetch_settings: FetchSettings, **kwargs: Any) -> Fetcher:
    kwargs.setdefault("clock", lambda: NOW)
    return Fetcher(fetch_settings, **kwargs)


def chunked(chunks: list[bytes]) -> Iterator[bytes]:
    """HTTP/1.1 chunked framing for a stream reply."""
    for chunk in chunks:
        yield b"%x\r\n%s\r\n" % (len(chunk), chunk)
    yield b"0\r\n\r\n"


def sequence(*replies: Reply) -> Any:
    """A route answering with ``replies`` in turn, then repeating the last."""
    remaining = list(replies)

    def route(request: Request) -> Reply:
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return route


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- plain GET, validators, conditional GET --------------------------------------------


async def test_get_returns_body_headers_and_validators(
    web: WebServer, settings: MakeSettings
) -> None:
    web.set(
        "/a",
        Reply("<p>hi</p>", etag='"v1"', last_modified=LAST_MODIFIED, headers={"X-Thing": "1"}),
    )
    async with fetcher(settings(user_agent="TestAgent/1")) as f:
        result = await f.get(web.url("/a"))

    assert result.status == 200
    assert result.body == b"<p>hi</p>"
    assert (result.etag, result.last_modified) == ('"v1"', LAST_MODIFIED)
    assert result.headers["x-thing"] == "1"
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert result.requested_url == result.final_url == web.url("/a")
    assert result.redirects == ()
    assert result.fetched_at == NOW
    [seen] = web.hits("/a")
    assert seen.headers["user-agent"] == "TestAgent/1"
    assert seen.headers["accept-encoding"] == "gzip, deflate"
    assert "text/html" in seen.headers["accept"]
    assert "if-none-match" not in seen.headers


async def test_accept_parameter_is_sent(web: WebServer, settings: MakeSettings) -> None:
    web.set("/feed", Reply("<rss/>"))
    async with fetcher(settings()) as f:
        await f.get(web.url("/feed"), accept="application/rss+xml")
    assert web.hits("/feed")[0].headers["accept"] == "application/rss+xml"


async def test_etag_makes_the_second_request_conditional(
    web: WebServer, settings: MakeSettings
) -> None:
    web.set("/a", Reply("body", etag='"v1"'))
    async with fetcher(settings()) as f:
        first = await f.get(web.url("/a"))
        second = await f.get(web.url("/a"), first.validators)

    assert second.status == 304
    assert second.not_modified
    assert second.body == b""
    assert second.etag == '"v1"'
    assert web.hits("/a")[1].headers["if-none-match"] == '"v1"'


async def test_last_modified_makes_the_second_request_conditional(
    web: WebServer, settings: MakeSettings
) -> None:
    web.set("/a", Reply("body", last_modified=LAST_MODIFIED))
    async with fetcher(settings()) as f:
        first = await f.get(web.url("/a"))
        second = await f.get(web.url("/a"), first.validators)

    assert first.status == 200
    assert second.status == 304
    assert second.last_modified == LAST_MODIFIED
    assert web.hits("/a")[1].headers["if-modified-since"] == LAST_MODIFIED


async def test_a_304_without_validators_keeps_the_ones_sent(
    web: WebServer, settings: MakeSettings
) -> None:
    web.set("/a", Reply(status=304))
    async with fetcher(settings()) as f:
        result = await f.get(web.url("/a"), Validators('"old"', LAST_MODIFIED))
    assert result.validators == Validators('"old"', LAST_MODIFIED)


# --- redirects ------------------------------------------------------------------------


async def test_redirect_chain_is_recorded(web: WebServer, settings: MakeSettings) -> None:
    web.set("/a", Reply(status=301, headers={"Location": web.url("/b")}))
    web.set("/b", Reply(status=302, headers={"Location": web.url("/c")}))
    web.set("/c", Reply("final", etag='"c"'))
    async with fetcher(settings()) as f:
        result = await f.get(web.url("/a"))

    assert result.redirects == (web.url("/a"), web.url("/b"))
    assert result.final_url == web.url("/c")
    assert result.requested_url == web.url("/a")
    assert result.body == b"final"
    assert result.etag == '"c"'


async def test_observer_is_told_of_every_get_exchange(
    web: WebServer, settings: MakeSettings
) -> None:
    """The daemon's metrics hook (monitor/metrics.py): each hop and each retry once, with
    its status; None when no answer came. POSTs are not fetches."""
    web.set("/a", Reply(status=301, headers={"Location": web.url("/b")}))
    web.set("/b", Reply("here"))
    web.set("/busy", Reply("busy", status=503))
    web.set("/hook", Reply("ok"))
    seen: list[tuple[int | None, float]] = []
    async with fetcher(
        settings(retries=1, backoff=0), observer=lambda s, t: seen.append((s, t))
    ) as f:
        await f.get(web.url("/a"))
        with pytest.raises(HTTPStatusError):
            await f.get(web.url("/busy"))
        with pytest.raises(FetchError):
            await f.get(f"http://127.0.0.1:{closed_port()}/")
        await f.post(web.url("/hook"), b"{}", {"Content-Type": "application/json"})
    assert [status for status, _ in seen] == [301, 200, 503, 503, None, None]
    assert all(seconds >= 0 for _, seconds in seen)


async def test_relative_redirect_is_resolved(web: WebServer, settings: MakeSettings) -> None:
    web.set("/dir/a", Reply(status=308, headers={"Location": "../b?x=1"}))
    web.set("/b", Reply("moved here"))
    async with fetcher(settings()) as f:
        result = await f.get(web.url("/dir/a"))
    assert result.final_url == web.url("/b?x=1")
    assert result.body == b"moved here"


async def test_too_many_redirects(web: WebServer, settings: MakeSettings) -> None:
    web.set("/loop", Reply(status=302, headers={"Location": "/loop"}))
    async with fetcher(settings(max_redirects=2)) as f:
        with pytest.raises(TooManyRedirectsError):
            await f.get(web.url("/loop"))
    assert len(web.hits("/loop")) == 3  # the original request plus two redirects


async def test_redirect_to_a_non_http_scheme_is_refused(
    web: WebServer, settings: MakeSettings
) -> None:
    web.set("/a", Reply(status=302, headers={"Location": "file:///etc/passwd"}))
    async with fetcher(settings()) as f:
        with pytest.raises(FetchError, match="scheme 'file'"):
            await f.get(web.url("/a"))


# --- address safety -------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_loopback_is_blocked_by_default(
    web: WebServer, host: str, settings: MakeSettings
) -> None:
    web.set("/", Reply("secret"))
    async with fetcher(settings(allow_private_addresses=False)) as f:
        with pytest.raises(BlockedAddressError):
            await f.get(f"http://{host}:{web.port}/")
    assert web.requests == []


async def test_a_hosts_addresses_are_looked_up_once_a_minute(
    web: WebServer, settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not once a request (issue 16); the answer still decides every request."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    looked_up: list[str] = []

    async def counted(host: str, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        return await real(host, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", counted)
    async with fetcher(settings(allow_private_addresses=False)) as f:
        for _ in range(3):
            with pytest.raises(BlockedAddressError):
                await f.get(f"http://localhost:{web.port}/")
    assert looked_up == ["localhost"]
    assert web.requests == []


class RecordingTransport(httpx.AsyncBaseTransport):
    """Answers from a table without any network; records what was asked."""

    def __init__(self, routes: dict[str, httpx.Response]) -> None:
        self.routes = routes
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        return self.routes[str(request.url)]


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/", "http://169.254.169.254/latest/", "http://[fd00::1]/"]
)
async def test_private_literal_is_rejected_before_connecting(url: str) -> None:
    transport = RecordingTransport({})
    async with fetcher(FetchSettings(retries=0), transport=transport) as f:
        with pytest.raises(BlockedAddressError):
            await f.get(url)
    assert transport.seen == []


async def test_redirect_to_a_private_address_is_blocked() -> None:
    # 93.184.216.34 is a public literal: it passes the policy without DNS, and the
    # mock transport means nothing leaves the process.
    public = "http://93.184.216.34/story"
    transport = RecordingTransport(
        {public: httpx.Response(302, headers={"Location": "http://10.0.0.1/admin"})}
    )
    async with fetcher(FetchSettings(retries=0), transport=transport) as f:
        with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.1"):
            await f.get(public)
    assert transport.seen == [public]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.1.1", False),
        ("172.16.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # carrier-grade NAT: not private, still not public
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.216.34", True),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


async def test_aiohttp_guard_connects_to_public_answers_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What aiohttp connects to is the guarded resolver's answer: the public part of it."""
    answers = [
        {
            "hostname": "news.test",
            "host": host,
            "port": 80,
            "family": family,
            "proto": 0,
            "flags": 0,
        }
        for host, family in (("10.0.0.7", socket.AF_INET), ("93.184.216.34", socket.AF_INET))
    ]

    async def dns(self: ThreadedResolver, host: str, port: int = 0, family: int = 0) -> Any:
        return list(answers)

    monkeypatch.setattr(ThreadedResolver, "resolve", dns)
    resolver = _PublicOnlyResolver()
    assert [a["host"] for a in await resolver.resolve("news.test", 80)] == ["93.184.216.34"]
    del answers[1]
    with pytest.raises(
        BlockedAddressError, match=r"'news.test' resolves to non-public 10\.0\.0\.7"
    ):
        await resolver.resolve("news.test", 80)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file",
        "file:///etc/passwd",
        "/relative",
        "http:///no-host",
        "http://[::1/",
        "http://example.com:99999/",
    ],
)
async def test_only_absolute_http_urls_are_fetched(url: str) -> None:
    transport = RecordingTransport({})
    async with fetcher(FetchSettings(allow_private_addresses=True), transport=transport) as f:
        with pytest.raises(FetchError):
            await f.get(url)
    assert transport.seen == []


# --- byte cap -------------------------------------------------------------------------


async def test_content_length_over_the_cap_is_refused_before_reading(
    web: WebServer, settings: MakeSettings
) -> None:
    # The header promises far more than is sent: only the early check can explain
    # a ResponseTooLargeError rather than a read error.
    web.set("/big", Reply(b"x" * 10, headers={"Content-Length": str(10**9)}))
    async with fetcher(settings(max_bytes=1000)) as f:
        with pytest.raises(ResponseTooLargeError, match="Content-Length"):
            await f.get(web.url("/big"))


async def test_body_exactly_at_the_cap_is_accepted(web: WebServer, settings: MakeSettings) -> None:
    web.set("/exact", Reply(b"x" * 1000))
    async with fetcher(settings(max_bytes=1000)) as f:
        result = await f.get(web.url("/exact"))
    assert len(result.body) == 1000


async def test_chunked_body_over_the_cap_is_refused(web: WebServer, settings: MakeSettings) -> None:
    web.set(
        "/stream",
        Reply(
            headers={"Transfer-Encoding": "chunked"},
            stream=chunked([b"y" * 400] * 5),  # 2000 bytes, no Content-Length
        ),
    )
    web.set("/small", Reply(headers={"Transfer-Encoding": "chunked"}, stream=chunked([b"z" * 300])))
    async with fetcher(settings(max_bytes=1000)) as f:
        assert (await f.get(web.url("/small"))).body == b"z" * 300
        with pytest.raises(ResponseTooLargeError):
            await f.get(web.url("/stream"))


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS)),  # raw deflate
    ],
)
async def test_compressed_body_is_decoded(
    web: WebServer, encoding: str, compress: Any, settings: MakeSettings
) -> None:
    text = b"<p>same words again</p>" * 200
    web.set("/z", Reply(compress(text), headers={"Content-Encoding": encoding}))
    async with fetcher(settings()) as f:
        result = await f.get(web.url("/z"))
    assert result.body == text


async def test_gzip_bomb_is_stopped_without_inflating_it(
    web: WebServer, settings: MakeSettings
) -> None:
    bomb = gzip.compress(b"\0" * 40_000_000, compresslevel=9)
    assert len(bomb) < 100_000  # small on the wire, so no Content-Length check catches it
    web.set("/bomb", Reply(bomb, headers={"Content-Encoding": "gzip"}))
    async with fetcher(settings(max_bytes=1_000_000)) as f:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError):
                await f.get(web.url("/bomb"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 10_000_000  # inflating it would need 40 MB


async def test_corrupt_gzip_is_a_fetch_error(web: WebServer, settings: MakeSettings) -> None:
    web.set("/bad", Reply(b"this is not gzip", headers={"Content-Encoding": "gzip"}))
    async with fetcher(settings()) as f:
        with pytest.raises(FetchError, match="corrupt gzip"):
            await f.get(web.url("/bad"))


# --- time limits ----------------------------------------------------------------------


async def test_slow_drip_is_cut_off_by_the_deadline(web: WebServer, settings: MakeSettings) -> None:
    def drip() -> Iterator[bytes]:
        for _ in range(100):  # 5 s in all, each byte well within the read timeout
            yield b"x"
            time.sleep(0.05)

    web.set("/drip", Reply(stream=drip()))
    async with fetcher(settings(timeout=1.0, deadline=0.5)) as f:
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            await f.get(web.url("/drip"))
        elapsed = time.monotonic() - started
    assert elapsed < 1.5


async def test_read_timeout_is_a_fetch_error_and_not_retried(
    web: WebServer, settings: MakeSettings
) -> None:
    web.set("/slow", Reply("late", delay=1.0))
    sleep = SleepRecorder()
    async with fetcher(settings(timeout=0.2, deadline=5.0, retries=2), sleep=sleep) as f:
        with pytest.raises(FetchError, match="timed out") as info:
            await f.get(web.url("/slow"))
    assert not isinstance(info.value, DeadlineExceededError)
    assert len(web.hits("/slow")) == 1
    assert sleep.delays == []


# --- retries --------------------------------------------------------------------------


async def test_5xx_is_retried_with_exponential_backoff(
    web: WebServer, settings: MakeSettings
) -> None:
    web.set("/a", sequence(Reply(status=503), Reply(status=502), Reply("ok")))
    sleep = SleepRecorder()
    async with fetcher(settings(retries=2, backoff=0.1), sleep=sleep) as f:
        result = await f.get(web.url("/a"))

    assert result.body == b"ok"
    assert len(web.hits("/a")) == 3
    first, second = sleep.delays
    assert 0.1 <= first <= 0.11
    assert 0.2 <= second <= 0.22


async def test_5xx_after_the_last_retry_is_an_http_status_error(
    web: WebServer, settings: MakeSettings
) -> None:
    web.set("/down", Reply(status=503))
    sleep = SleepRecorder()
    async with fetcher(settings(retries=2), sleep=sleep) as f:
        with pytest.raises(HTTPStatusError) as info:
            await f.get(web.url("/down"))
    assert info.value.status == 503
    assert len(web.hits("/down")) == 3
    assert len(sleep.delays) == 2


async def test_429_waits_for_retry_after_seconds(web: WebServer, settings: MakeSettings) -> None:
    web.set("/a", sequence(Reply(status=429, headers={"Retry-After": "7"}), Reply("ok")))
    sleep = SleepRecorder()
    async with fetcher(settings(retries=1), sleep=sleep) as f:
        result = await f.get(web.url("/a"))
    assert result.body == b"ok"
    assert sleep.delays == [7.0]


async def test_retry_after_http_date_is_honoured(web: WebServer, settings: MakeSettings) -> None:
    later = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    web.set("/a", sequence(Reply(status=503, headers={"Retry-After": later}), Reply("ok")))
    sleep = SleepRecorder()
    async with fetcher(settings(retries=1), sleep=sleep) as f:
        await f.get(web.url("/a"))
    assert sleep.delays == [30.0]


async def test_retry_after_beyond_the_limit_is_not_waited_for(
    web: WebServer, settings: MakeSettings
) -> None:
    web.set("/a", Reply(status=429, headers={"Retry-After": "3600"}))
    sleep = SleepRecorder()
    async with fetcher(settings(retries=2, max_retry_after=60), sleep=sleep) as f:
        with pytest.raises(HTTPStatusError) as info:
            await f.get(web.url("/a"))
    assert (info.value.status, info.value.retry_after) == (429, 3600.0)
    assert sleep.delays == []
    assert len(web.hits("/a")) == 1


@pytest.mark.parametrize("status", [404, 410, 403])
async def test_4xx_is_an_http_status_error_without_retry(
    web: WebServer, status: int, settings: MakeSettings
) -> None:
    web.set("/gone", Reply(status=status))
    sleep = SleepRecorder()
    async with fetcher(settings(retries=2), sleep=sleep) as f:
        with pytest.raises(HTTPStatusError) as info:
            await f.get(web.url("/gone"))
    assert info.value.status == status
    assert len(web.hits("/gone")) == 1
    assert sleep.delays == []


async def test_connection_refused_is_retried_then_a_fetch_error(settings: MakeSettings) -> None:
    sleep = SleepRecorder()
    async with fetcher(settings(retries=2, backoff=0.5), sleep=sleep) as f:
        with pytest.raises(FetchError, match="connection refused") as info:
            await f.get(f"http://127.0.0.1:{closed_port()}/")
    assert type(info.value) is FetchError
    assert info.value.__cause__ is not None  # the stack's own error, for the traceback
    assert len(sleep.delays) == 2
    assert 0.5 <= sleep.delays[0] <= 0.55


async def test_userinfo_never_appears_in_errors(web: WebServer, settings: MakeSettings) -> None:
    async with fetcher(settings()) as f:
        with pytest.raises(HTTPStatusError) as info:
            await f.get(f"http://reader:hunter2@127.0.0.1:{web.port}/missing")
    assert "hunter2" not in str(info.value)
    assert info.value.url == web.url("/missing")
    assert web.hits("/missing")[0].headers["authorization"].startswith("Basic ")


# --- broken answers: the same reason from every stack ----------------------------------


def reset_after(prefix: bytes) -> Reply:
    """Sends ``prefix``, then aborts the connection: SO_LINGER 0 makes close() send a RST."""

    def raw(connection: socket.socket) -> None:
        connection.sendall(prefix)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()

    return Reply(raw=raw)


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n"


@pytest.mark.parametrize(
    ("reply", "reason", "resent"),
    [
        (
            Reply(raw=lambda connection: None),  # closed without a byte
            "protocol error: Server disconnected without sending a response.",
            True,
        ),
        (
            reset_after(b"HTTP/1.1 200 OK\r\nContent-Type: tex"),
            "network error: connection reset by peer",
            True,
        ),
        (reset_after(HEAD + b"<p>" * 100), "network error: connection reset by peer", False),
    ],
    ids=["closed", "reset-in-head", "reset-in-body"],
)
async def test_a_broken_connection_reads_the_same_on_either_stack(
    web: WebServer, settings: MakeSettings, reply: Reply, reason: str, resent: bool
) -> None:
    web.set("/broken", reply)
    sleep = SleepRecorder()
    fetch_settings = settings(retries=2)
    async with fetcher(fetch_settings, sleep=sleep) as f:
        with pytest.raises(FetchError) as info:
            await f.get(web.url("/broken"))
    assert type(info.value) is FetchError
    assert info.value.reason == reason
    assert sleep.delays == []  # the request was sent: not a connect failure, no retry
    # aiohttp itself sends a GET again, once, when the connection broke before any
    # response (RFC 9112, 9.3.1: meant for a keep-alive connection the server had just
    # closed); httpx does not, nor does the native stack on a fresh connection.
    resends = 1 if resent and fetch_settings.client == "aiohttp" else 0
    assert len(web.hits("/broken")) == 1 + resends


async def test_a_body_cut_short_is_a_protocol_error(web: WebServer, settings: MakeSettings) -> None:
    web.set("/short", Reply(raw=lambda connection: connection.sendall(HEAD + b"<p>cut")))
    async with fetcher(settings()) as f:
        with pytest.raises(FetchError, match="protocol error: "):
            await f.get(web.url("/short"))


async def test_a_huge_response_head_is_a_protocol_error(
    web: WebServer, settings: MakeSettings
) -> None:
    web.set("/head", Reply("x", headers={"X-Padding": "a" * 200_000}))
    async with fetcher(settings()) as f:
        with pytest.raises(FetchError, match="protocol error: "):
            await f.get(web.url("/head"))


async def test_long_header_fields_are_read(web: WebServer, settings: MakeSettings) -> None:
    # About 21 kB: more than aiohttp's default limit of 8 kB a line, well within httpx's.
    policy = "default-src 'self'" + "; script-src https://cdn.example.org" * 600
    web.set("/csp", Reply("ok", headers={"Content-Security-Policy": policy}))
    async with fetcher(settings()) as f:
        result = await f.get(web.url("/csp"))
    assert result.headers["content-security-policy"] == policy


async def test_repeated_header_fields_are_joined(web: WebServer, settings: MakeSettings) -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nLink: <a>; rel=x\r\n"
        b"Link: <b>; rel=y\r\nConnection: close\r\n\r\nok"
    )
    web.set("/links", Reply(raw=lambda connection: connection.sendall(answer)))
    async with fetcher(settings()) as f:
        result = await f.get(web.url("/links"))
    assert result.headers["link"] == "<a>; rel=x, <b>; rel=y"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """An HTTPS server on loopback with a self-signed certificate: (its URL, the cert)."""
    if shutil.which("openssl") is None:
        pytest.skip("TLS tests: openssl not found to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(command, check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = WebServer().use_tls(context).start()
    server.set("/page", Reply("over TLS", etag='"t"'))
    yield server.url("/page"), str(cert)
    server.stop()


async def test_an_untrusted_certificate_is_refused_alike_on_every_stack(
    tls_server: tuple[str, str], settings: MakeSettings
) -> None:
    url, _ = tls_server
    async with fetcher(settings()) as f:
        with pytest.raises(FetchError) as info:
            await f.get(url)
    assert info.value.reason.startswith("cannot connect: [SSL: CERTIFICATE_VERIFY_FAILED]")
    assert "self-signed certificate" in info.value.reason


async def test_a_trusted_certificate_serves_and_revalidates_on_every_stack(
    tls_server: tuple[str, str], settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = tls_server
    monkeypatch.setattr(certifi, "where", lambda: cert)  # every stack's trust store
    async with fetcher(settings()) as f:
        first = await f.get(url)
        again = await f.get(url, Validators(etag=first.etag))
    assert first.status == 200 and first.body == b"over TLS"
    assert again.status == 304 and again.body == b""


async def test_cookies_a_site_sets_are_sent_back(web: WebServer, settings: MakeSettings) -> None:
    web.set("/login", Reply("hi", headers={"Set-Cookie": "session=abc; Path=/"}))
    web.set("/page", Reply("page"))
    async with fetcher(settings()) as f:
        await f.get(web.url("/login"))
        await f.get(web.url("/page"))
    assert web.hits("/page")[0].headers["cookie"] == "session=abc"


def test_a_fetcher_made_before_the_event_loop_runs_works_in_it(
    web: WebServer, settings: MakeSettings
) -> None:
    web.set("/a", Reply("ok"))
    made = fetcher(settings())

    async def use() -> bytes:
        async with made as f:
            return (await f.get(web.url("/a"))).body

    assert asyncio.run(use()) == b"ok"


class QuotingTransport:
    """A stack whose error message quotes the URL it was given, credentials and all."""

    async def send(
        self, url: str, headers: Mapping[str, str], private_ok: bool, body: bytes | None = None
    ) -> RawResponse:
        raise TransportError(f"cannot make sense of {url}")

    async def aclose(self) -> None:
        return None


async def test_userinfo_never_appears_in_stack_errors(settings: MakeSettings) -> None:
    refused = f"http://reader:hunter2@127.0.0.1:{closed_port()}/"
    async with fetcher(settings()) as f:
        with pytest.raises(FetchError, match="connection refused") as info:
            await f.get(refused)
    assert "hunter2" not in str(info.value)
    async with fetcher(settings(), transport=QuotingTransport()) as f:
        with pytest.raises(FetchError) as info:
            await f.get("http://reader:hunter2@93.184.216.34/a")
    assert "hunter2" not in str(info.value)
    assert str(info.value).startswith("http://93.184.216.34/a: cannot make sense of http://")


# --- concurrency ----------------------------------------------------------------------


class InFlight:
    """A route that holds each request briefly and records the most seen at once."""

    def __init__(self, hold: float = 0.15) -> None:
        self.hold = hold
        self.current = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            self.current += 1
            self.peak = max(self.peak, self.current)
        time.sleep(self.hold)
        with self._lock:
            self.current -= 1
        return Reply("ok")


async def test_per_host_concurrency_is_limited(web: WebServer, settings: MakeSettings) -> None:
    counter = InFlight()
    web.set("/slow", counter)
    async with fetcher(settings(per_host_concurrency=2, concurrency=8)) as f:
        await asyncio.gather(*(f.get(web.url(f"/slow?n={n}")) for n in range(6)))
    assert counter.peak == 2


async def test_global_concurrency_is_limited_across_hosts(
    web: WebServer, settings: MakeSettings
) -> None:
    counter = InFlight()
    web.set("/slow", counter)
    # Two host names for the same server: per-host slots would allow four at once.
    hosts = ("127.0.0.1", "localhost")
    urls = [f"http://{host}:{web.port}/slow?n={n}" for host in hosts for n in range(3)]
    async with fetcher(settings(per_host_concurrency=2, concurrency=3)) as f:
        await asyncio.gather(*(f.get(url) for url in urls))
    assert counter.peak == 3


# --- pure helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("Wed, 01 May 2024 12:01:30 GMT", 90.0),
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),  # in the past: retry now
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pw@example.com/a?b=1", "https://example.com/a?b=1"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://u@example.com:8443/", "https://example.com:8443/"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_connection_guard_catches_dns_rebinding(
    web: WebServer, settings: MakeSettings, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    """The policy's check said "public"; the connection would have reached loopback."""
    web.set("/secret", Reply("internal"))
    url = f"http://{host}:{web.port}/secret"

    async def resolver_lies(self: Fetcher, url: str, target: object) -> None:
        return None  # as if the host had resolved to a public address a moment ago

    monkeypatch.setattr(Fetcher, "_check_address", resolver_lies)
    async with fetcher(settings(allow_private_addresses=False)) as f:
        # A request that may reach private addresses leaves a pooled connection behind...
        assert (await f.get(url, allow_private=True)).body == b"internal"
        # ...that a request which may not must not reuse.
        with pytest.raises(BlockedAddressError, match=r"to non-public .*127\.0\.0\.1") as info:
            await f.get(url)
        assert info.value.url == url
        assert (await f.get(url, allow_private=True)).body == b"internal"
    assert len(web.hits("/secret")) == 2  # the blocked request never got as far as HTTP


# --- the native stack's own connection handling (transport_native.py) ---------------------


class ScriptedServer:
    """A raw HTTP/1.1 server on loopback: the n-th connection answers the requests on it
    from the n-th script in turn (bytes to send, or "close"/"reset" instead of an answer),
    then waits for the client to hang up. Counts connections, keeps request heads."""

    def __init__(self, *scripts: list[bytes | str]) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self.requests = 0
        self.heads: list[bytes] = []
        self._scripts = list(scripts)
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    def _accept(self) -> None:
        for script in self._scripts:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(connection, script), daemon=True).start()

    def _answer(self, connection: socket.socket, script: list[bytes | str]) -> None:
        with connection, contextlib.suppress(OSError):
            received = b""
            for action in script:
                while b"\r\n\r\n" not in received:
                    data = connection.recv(65536)
                    if not data:
                        return
                    received += data
                head, received = received.split(b"\r\n\r\n", 1)
                self.heads.append(head)
                self.requests += 1
                if action == "reset":
                    linger = struct.pack("ii", 1, 0)
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                if isinstance(action, str):
                    return
                connection.sendall(action)
            while connection.recv(65536):
                pass


@pytest.fixture
def scripted() -> Iterator[Callable[..., ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(*scripts: list[bytes | str]) -> ScriptedServer:
        servers.append(ScriptedServer(*scripts))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def native(**overrides: Any) -> FetchSettings:
    values: dict[str, Any] = {
        "client": "native",
        "allow_private_addresses": True,
        "timeout": 2.0,
        "deadline": 3.0,
        "retries": 0,
    }
    return FetchSettings(**{**values, **overrides})


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_native_reuses_one_connection_for_sequential_requests(
    scripted: Callable[..., ScriptedServer],
) -> None:
    not_modified = b'HTTP/1.1 304 Not Modified\r\nETag: "v"\r\n\r\n'
    server = scripted([OK, not_modified, OK])
    async with fetcher(native()) as f:
        assert (await f.get(server.url("/a"))).body == b"ok"
        assert (await f.get(server.url("/a"), Validators('"v"'))).status == 304
        assert (await f.get(server.url("/b"))).body == b"ok"
        assert f._transport._ssl is None  # type: ignore[attr-defined]  # made for https only
    assert (server.connections, server.requests) == (1, 3)


@pytest.mark.parametrize("hang_up", ["close", "reset"])
async def test_native_retries_a_pooled_connection_the_server_closed_once(
    scripted: Callable[..., ScriptedServer], hang_up: str
) -> None:
    """Closed before any byte of the answer (RFC 9112, 9.3.1): sent again on a fresh
    connection, by the stack itself (retries=0); a fresh one's failure is not retried."""
    server = scripted([OK, hang_up], [OK, hang_up], [hang_up], [OK])
    async with fetcher(native()) as f:
        assert (await f.get(server.url("/1"))).body == b"ok"
        assert (await f.get(server.url("/2"))).body == b"ok"
        assert (server.connections, server.requests) == (2, 3)
        # The second connection is dropped too, and so is its fresh replacement: that
        # failure is the answer (the fourth connection would have succeeded).
        with pytest.raises(FetchError):
            await f.get(server.url("/3"))
    assert (server.connections, server.requests) == (3, 5)


async def test_native_request_line_and_headers(
    scripted: Callable[..., ScriptedServer],
) -> None:
    server = scripted([OK, OK])
    async with fetcher(native(user_agent="Agent/2")) as f:
        await f.get(f"http://u%40x:p%3Ass@127.0.0.1:{server.port}/caf\u00e9 menu?q=a b#top")
        await f.get(f"http://127.0.0.1:{server.port}?only=query")
    first, second = (head.decode().split("\r\n") for head in server.heads)
    assert first[0] == "GET /caf%C3%A9%20menu?q=a%20b HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}" in first
    assert "User-Agent: Agent/2" in first
    assert "Authorization: Basic " + base64.b64encode(b"u@x:p:ss").decode() in first
    assert second[0] == "GET /?only=query HTTP/1.1"
    assert not any(line.startswith("Authorization") for line in second)


async def test_native_does_not_resend_a_post(scripted: Callable[..., ScriptedServer]) -> None:
    """The server may have acted on it before it hung up: the caller decides."""
    server = scripted([OK, "close"], [OK])
    async with fetcher(native()) as f:
        assert (await f.get(server.url("/a"))).body == b"ok"
        with pytest.raises(FetchError, match="Server disconnected"):
            await f.post(server.url("/hook"), b"{}", {"Content-Type": "application/json"})
    assert (server.connections, server.requests) == (1, 2)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n0\r\n\r\n",
    ],
    ids=["connection-close", "http-1.0", "length-and-chunked"],
)
async def test_native_does_not_reuse_a_connection_it_may_not(
    scripted: Callable[..., ScriptedServer], answer: bytes
) -> None:
    # The server keeps the first connection open: only the answer's head says "no more".
    server = scripted([answer], [OK])
    async with fetcher(native()) as f:
        assert (await f.get(server.url("/a"))).body == b"ok"
        assert (await f.get(server.url("/b"))).body == b"ok"
    assert (server.connections, server.requests) == (2, 2)


async def test_chunked_body_with_extensions_and_trailers(
    scripted: Callable[..., ScriptedServer], settings: MakeSettings
) -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
        b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 11\r\nX-More: yes\r\n\r\n"
    )
    server = scripted([answer, OK])
    async with fetcher(settings()) as f:
        result = await f.get(server.url("/a"))
        assert result.body == b"hello world"
        assert (await f.get(server.url("/b"))).body == b"ok"  # the framing held
    assert server.connections == 1


async def test_interim_responses_are_skipped(
    scripted: Callable[..., ScriptedServer], settings: MakeSettings
) -> None:
    answer = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + OK
    )
    server = scripted([answer])
    async with fetcher(settings()) as f:
        result = await f.get(server.url("/a"))
    assert (result.status, result.body) == (200, b"ok")
    assert "link" not in result.headers


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"HTTP/1.1 abc OK\r\n\r\n", "illegal status line"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "illegal chunk size"),
        (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "illegal header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello", "invalid Content-Length"),
    ],
)
async def test_native_malformed_answers_are_protocol_errors(
    scripted: Callable[..., ScriptedServer], answer: bytes, reason: str
) -> None:
    server = scripted([answer])
    async with fetcher(native()) as f:
        with pytest.raises(FetchError, match=f"protocol error: {reason}"):
            await f.get(server.url("/a"))


async def test_native_guard_refuses_a_name_that_resolves_to_loopback(
    scripted: Callable[..., ScriptedServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stack resolves names itself and connects to the checked address; here the
    policy's own check is skipped, as if DNS had answered differently a moment before."""
    server = scripted([OK])
    loop = asyncio.get_running_loop()

    async def dns(host: str, port: int, **kwargs: Any) -> Any:
        assert host == "news.test"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    async def resolver_lies(self: Fetcher, url: str, target: object) -> None:
        return None

    monkeypatch.setattr(loop, "getaddrinfo", dns)
    monkeypatch.setattr(Fetcher, "_check_address", resolver_lies)
    url = f"http://news.test:{server.port}/a"
    async with fetcher(native(allow_private_addresses=False)) as f:
        with pytest.raises(BlockedAddressError, match=r"'news.test' resolves to non-public"):
            await f.get(url)
        assert server.connections == 0
        assert (await f.get(url, allow_private=True)).body == b"ok"  # the other pool


async def test_native_guard_keeps_the_public_answers_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from monitor.transport_native import NativeTransport

    loop = asyncio.get_running_loop()
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 80)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)),
    ]

    async def dns(host: str, port: int, **kwargs: Any) -> Any:
        return list(answers)

    monkeypatch.setattr(loop, "getaddrinfo", dns)
    stack = NativeTransport(native())
    guarded = stack._policies.get(False)
    assert await guarded._addresses("news.test", 80) == [(socket.AF_INET, ("93.184.216.34", 80))]
    with pytest.raises(BlockedAddressError, match=r"non-public 10\.0\.0\.7"):
        await guarded._addresses("10.0.0.7", 80)  # a literal is checked as it is
    assert len(await stack._policies.get(True)._addresses("intranet.test", 80)) == 2
    await stack.aclose()


async def test_native_bounds_the_whole_response_head(
    scripted: Callable[..., ScriptedServer],
) -> None:
    many = b"".join(b"X-Field-%d: %s\r\n" % (n, b"v" * 1000) for n in range(300))  # 300 kB
    server = scripted([b"HTTP/1.1 200 OK\r\n" + many + b"Content-Length: 2\r\n\r\nok"])
    async with fetcher(native()) as f:
        with pytest.raises(FetchError, match="protocol error: response head over"):
            await f.get(server.url("/a"))
