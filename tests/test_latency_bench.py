"""The latency bench's proxy (bench/latency.py) relays HTTP faithfully and counts the
requests in flight per address: its per-host maximum is what the bench checks the
per-host limit against (issue 16)."""

from __future__ import annotations

import asyncio
import socket
import threading

import aiohttp

from bench.latency import LatencyProxy, ResponseEnds
from tests.webserver import Reply, Request, WebServer


def test_response_ends_follow_heads_lengths_and_bodiless_statuses() -> None:
    ends = ResponseEnds()
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    not_modified = b'HTTP/1.1 304 Not Modified\r\nETag: "1"\r\n\r\n'
    stream = ok + not_modified + ok
    # Cut anywhere, the same three responses end, each where its last byte arrives.
    for cut in (1, 20, len(ok) - 1, len(ok) + 10, len(stream) - 1):
        ends = ResponseEnds()
        assert ends.feed(stream[:cut]) + ends.feed(stream[cut:]) == 3
    ends = ResponseEnds()
    assert ends.feed(ok[:-1]) == 0
    assert ends.feed(ok[-1:]) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_proxy_relays_and_counts_requests_in_flight_per_address() -> None:
    web = WebServer().start()
    both_arrived = threading.Barrier(2, timeout=10)  # a deadlock guard, not a timing

    def held(_request: Request) -> Reply:
        both_arrived.wait()
        return Reply("held")

    web.set("/page", Reply("a page", etag='"p"'))
    web.set("/held", held)

    async def main() -> dict[str, object]:
        proxy = LatencyProxy(0.0, web.port)
        port = _free_port()
        servers = await proxy.serve(2, port)
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(3):  # one after another, on one kept-alive connection
                    async with session.get(f"http://127.0.0.2:{port}/page") as response:
                        assert await response.text() == "a page"
                async with session.get(
                    f"http://127.0.0.2:{port}/page", headers={"If-None-Match": '"p"'}
                ) as response:
                    assert response.status == 304

                async def get_held() -> str:
                    async with session.get(f"http://127.0.0.1:{port}/held") as response:
                        return await response.text()

                # Two at once on the other address: both in flight until both arrived.
                assert await asyncio.gather(get_held(), get_held()) == ["held", "held"]
        finally:
            for server in servers:
                server.close()
        return proxy.counts.report()

    try:
        report = asyncio.run(main())
    finally:
        web.stop()
    assert report["requests"] == 6
    assert report["connections"] == 3
    assert report["per_host_requests"] == {"127.0.0.2": 4, "127.0.0.1": 2}
    assert report["per_host_max"] == {"127.0.0.2": 1, "127.0.0.1": 2}
    assert report["max_in_flight"] == 2
