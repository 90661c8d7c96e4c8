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
    """The relay; ``counts`` is the current round's."""

    def __init__(self, rtt: float, upstream_port: int) -> None:
        self.rtt = rtt
        self.upstream_port = upstream_port
        self.counts = Counts()
        # asyncio holds a connection's handler task weakly: a relay waiting on a slow side
        # would be collected mid-way ("Task was destroyed but it is pending!").
        self._relays: set[asyncio.Task[None]] = set()

    async def serve(self, hosts: int, port: int) -> list[asyncio.Server]:
        servers = []
        for n in range(1, hosts + 1):
            address = f"127.0.0.{n}"

            async def handle(
                reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str = address
            ) -> None:
                task = asyncio.current_task()
                assert task is not None
                self._relays.add(task)
                try:
                    await self._relay(host, reader, writer)
                finally:
                    self._relays.discard(task)

            servers.append(await asyncio.start_server(handle, address, port, backlog=1024))
        return servers

    async def _relay(
        self, host: str, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        accepted = loop.time()
        self.counts.connections += 1
        try:
            server_in, server_out = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_out.close()
            return
        # The handshake's round trip: nothing reaches the server before it is over.
        ready = accepted + self.rtt
        pending: list[str] = []  # hosts of requests sent on this connection, in order

        def request_heads(data: bytes, tail: bytes) -> int:
            return (tail + data).count(HEAD_END)

        async def upstream() -> None:
            queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
            deliver = asyncio.create_task(_deliver(queue, server_out))
            tail = b""
            try:
                while data := await client_in.read(65536):
                    for _ in range(request_heads(data, tail)):
                        self.counts.begin(host)
                        pending.append(host)
                    tail = (tail + data)[-3:]
                    queue.put_nowait((max(loop.time() + self.rtt / 2, ready), data))
            except OSError:
                pass
            queue.put_nowait((0.0, b""))
            await deliver

        async def downstream() -> None:
            ends = ResponseEnds()
            queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

            def delivered(data: bytes) -> None:
                for _ in range(ends.feed(data)):
                    if pending:
                        self.counts.end(pending.pop(0))

            deliver = asyncio.create_task(_deliver(queue, client_out, delivered))
            try:
                while data := await server_in.read(65536):
                    queue.put_nowait((loop.time() + self.rtt / 2, data))
            except OSError:
                pass
            queue.put_nowait((0.0, b""))
            await deliver

        await asyncio.gather(upstream(), downstream())
        while pending:  # answers cut short by a close end with it
            self.counts.end(pending.pop())


async def _deliver(
    queue: asyncio.Queue[tuple[float, bytes]],
    out: asyncio.StreamWriter,
    delivered: Callable[[bytes], None] | None = None,
) -> None:
    """Write each chunk at its time; an empty chunk closes the direction."""
    loop = asyncio.get_running_loop()
    while True:
        at, data = await queue.get()
        if not data:
            break
        wait = at - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            out.write(data)
            await out.drain()
        except OSError:
            break
        if delivered is not None:
            delivered(data)
    try:
        if out.can_write_eof():
            out.write_eof()
        else:
            out.close()
    except OSError:
        out.close()


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
