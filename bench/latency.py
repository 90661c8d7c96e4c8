"""A user-space network with latency for the scale bench: a delaying TCP proxy on many
loopback addresses, counting the HTTP requests in flight per address (issue 16).

Usage: ``python -m bench.latency --hosts 50 --port P --upstream-port N [--latency-ms 50]``.

Listens on 127.0.0.1 ... 127.0.0.<hosts>, all on port ``P``, and relays every connection
to the server on 127.0.0.1:``N`` (nginx). Each direction's bytes are delivered half the
round-trip time after they arrive, and a new connection's first bytes one round trip
later still (what TCP's handshake costs), so a request on a fresh connection takes two
round trips and one on a kept-alive connection one. tc netem would do this in the kernel;
it is not available here.

The proxy counts requests: one starts when a request head (a GET or HEAD: no body) has
arrived from the client, and ends when the last byte of its response has been delivered
to the client (the response's head and Content-Length tell where it ends). Commands on
stdin, one per line: ``reset`` starts a new round (counts to zero), ``stats`` prints the
round's figures as one JSON line: requests, new connections, in flight (time-weighted
mean between the round's first request and last response, and max), and per address the
max in flight and the requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

HEAD_END = b"\r\n\r\n"


@dataclass
class Counts:
    """One round's figures, all addresses together and per address."""

    started: float | None = None
    last: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0
    area: float = 0.0  # integral of requests in flight over time
    requests: int = 0
    connections: int = 0
    per_host: dict[str, int] = field(default_factory=dict)
    per_host_max: dict[str, int] = field(default_factory=dict)
    per_host_requests: dict[str, int] = field(default_factory=dict)

    def _advance(self) -> float:
        now = time.perf_counter()
        if self.started is None:
            self.started = now
        else:
            self.area += self.in_flight * (now - self.last)
        self.last = now
        return now

    def begin(self, host: str) -> None:
        self._advance()
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        now = self.per_host[host] = self.per_host.get(host, 0) + 1
        self.per_host_max[host] = max(self.per_host_max.get(host, 0), now)
        self.per_host_requests[host] = self.per_host_requests.get(host, 0) + 1

    def end(self, host: str) -> None:
        self._advance()
        self.in_flight = max(0, self.in_flight - 1)
        self.per_host[host] = max(0, self.per_host.get(host, 0) - 1)

    def report(self) -> dict[str, object]:
        span = self.last - self.started if self.started is not None else 0.0
        return {
            "requests": self.requests,
            "connections": self.connections,
            "span_s": round(span, 3),
            "mean_in_flight": round(self.area / span, 2) if span else 0.0,
            "max_in_flight": self.max_in_flight,
            "per_host_max": self.per_host_max,
            "per_host_requests": self.per_host_requests,
        }


class ResponseEnds:
    """Finds where each response ends in the bytes a server sends (head + Content-Length;
    no body for 304, 204, 1xx and HEAD). Unframed bodies end with the connection."""

    def __init__(self) -> None:
        self._head = b""
        self._body_left: int | None = None  # None: reading a head

    def feed(self, data: bytes) -> int:
        """How many responses ``data`` completes."""
        done = 0
        view = memoryview(data)
        while len(view):
            if self._body_left is None:
                self._head += bytes(view)
                end = self._head.find(HEAD_END)
                if end < 0:
                    return done
                head, rest = self._head[:end], self._head[end + 4 :]
                self._head = b""
                self._body_left = _body_length(head)
                view = memoryview(rest)
                if self._body_left == 0:
                    self._body_left = None
                    done += 1
                continue
            if self._body_left < 0:  # unframed: ends at close
                return done
            taken = min(self._body_left, len(view))
            self._body_left -= taken
            view = view[taken:]
            if self._body_left == 0:
                self._body_left = None
                done += 1
        return done


def _body_length(head: bytes) -> int:
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return -1
    if status in (204, 304) or 100 <= status < 200:
        return 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return -1


class LatencyProxy:
    """The relay; ``counts`` is the current round's.

    Protocols and timers, no streams or tasks per chunk: a chunk costs a callback when it
    arrives and a write when it is due (the proxy's CPU in a warm round: 0.32 s, against
    0.52 s with streams). What it adds to each round trip is the same either way: at 100
    flows a trivial client sees 53-54 ms for 50, of which about 0.6 ms per direction is
    asyncio's timers firing on the next millisecond, the rest the hops' wake-ups.
    """

    def __init__(self, rtt: float, upstream_port: int) -> None:
        self.rtt = rtt
        self.upstream_port = upstream_port
        self.counts = Counts()
        # asyncio holds tasks weakly: a pending upstream connect must not be collected.
        self._connects: set[asyncio.Task[None]] = set()

    async def serve(self, hosts: int, port: int) -> list[asyncio.Server]:
        loop = asyncio.get_running_loop()
        servers = []
        for n in range(1, hosts + 1):
            address = f"127.0.0.{n}"
            server = await loop.create_server(
                lambda host=address: _ClientSide(self, host),  # type: ignore[misc]
                address,
                port,
                backlog=1024,
            )
            servers.append(server)
        return servers


class _Direction:
    """One direction of a relayed connection: each chunk is written at its due time, in
    the order it arrived; an empty chunk ends the direction (EOF)."""

    def __init__(self, sent: Callable[[bytes], None] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.out: asyncio.Transport | None = None  # None until the far side is connected
        self._sent = sent
        self._queue: deque[tuple[float, bytes]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self.ended = False

    def push(self, data: bytes, at: float) -> None:
        if self.ended:
            return
        self.ended = not data
        self._queue.append((at, data))
        if self._timer is None:
            self._timer = self.loop.call_at(self._queue[0][0], self._flush)

    def _flush(self) -> None:
        self._timer = None
        out = self.out
        if out is None:  # still connecting to the server: try again in a millisecond
            self._timer = self.loop.call_at(self.loop.time() + 0.001, self._flush)
            return
        now = self.loop.time()
        first = True
        while self._queue and (first or self._queue[0][0] <= now):
            first = False  # the timer was set for the first chunk
            _, data = self._queue.popleft()
            if out.is_closing():
                self._queue.clear()
                return
            if not data:
                if out.can_write_eof():
                    out.write_eof()
                else:
                    out.close()
                return
            out.write(data)
            if self._sent is not None:
                self._sent(data)
        if self._queue:
            self._timer = self.loop.call_at(self._queue[0][0], self._flush)

    def abort(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()
        self.ended = True


class _ClientSide(asyncio.Protocol):
    """A client's connection to one of the proxy's addresses, relayed to the server."""

    def __init__(self, proxy: LatencyProxy, host: str) -> None:
        self.proxy = proxy
        self.host = host
        self.loop = asyncio.get_running_loop()
        self.pending: list[str] = []  # hosts of requests sent on this connection, in order
        self.tail = b""
        self.ends = ResponseEnds()
        self.up = _Direction()
        self.down = _Direction(self._delivered)
        self.ready = 0.0
        self.server: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.down.out = transport  # type: ignore[assignment]
        self.proxy.counts.connections += 1
        # The handshake's round trip: nothing reaches the server before it is over.
        self.ready = self.loop.time() + self.proxy.rtt
        task = self.loop.create_task(self._connect())
        self.proxy._connects.add(task)
        task.add_done_callback(self.proxy._connects.discard)

    async def _connect(self) -> None:
        try:
            server, _ = await self.loop.create_connection(
                lambda: _ServerSide(self), "127.0.0.1", self.proxy.upstream_port
            )
        except OSError:
            if self.down.out is not None:
                self.down.out.close()
            return
        self.server = server  # type: ignore[assignment]
        self.up.out = server  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        counts = self.proxy.counts
        for _ in range((self.tail + data).count(HEAD_END)):
            counts.begin(self.host)
            self.pending.append(self.host)
        self.tail = (self.tail + data)[-3:]
        self.up.push(data, max(self.loop.time() + self.proxy.rtt / 2, self.ready))

    def eof_received(self) -> bool:
        self.up.push(b"", max(self.loop.time() + self.proxy.rtt / 2, self.ready))
        return True  # half-closed: the answers may still come back

    def connection_lost(self, exc: Exception | None) -> None:
        self.down.abort()
        self.up.push(b"", max(self.loop.time() + self.proxy.rtt / 2, self.ready))
        while self.pending:  # answers cut short by a close end with it
            self.proxy.counts.end(self.pending.pop())

    def _delivered(self, data: bytes) -> None:
        for _ in range(self.ends.feed(data)):
            if self.pending:
                self.proxy.counts.end(self.pending.pop(0))

    def server_gone(self) -> None:
        self.down.push(b"", self.loop.time() + self.proxy.rtt / 2)


class _ServerSide(asyncio.Protocol):
    """The relay's connection to the server, for one client connection."""

    def __init__(self, client: _ClientSide) -> None:
        self.client = client

    def data_received(self, data: bytes) -> None:
        client = self.client
        client.down.push(data, client.loop.time() + client.proxy.rtt / 2)

    def eof_received(self) -> bool:
        self.client.server_gone()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.server_gone()


async def _main(args: argparse.Namespace) -> None:
    proxy = LatencyProxy(args.latency_ms / 1000, args.upstream_port)
    servers = await proxy.serve(args.hosts, args.port)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = line.decode().strip()
        if command == "reset":
            proxy.counts = Counts()
            print("ok", flush=True)
        elif command == "stats":
            print(json.dumps(proxy.counts.report()), flush=True)
    for server in servers:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=50.0, help="round-trip time")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
