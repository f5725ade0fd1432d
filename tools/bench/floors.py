"""``python -m tools.bench.floors``: what the benchmark's exchanges cost with no HTTP library.

The lower bound under the client figures of docs/benchmarks.md: the same exchanges with the
same nginx, written directly on the interpreter's sockets and asyncio, doing only what any
client must (send the request bytes, find the end of the head, read Content-Length bytes):

- S1-sync / S1-async: sequential GETs of the 2000-byte file on one keep-alive connection
  (a blocking socket; an asyncio ``BufferedProtocol``), client CPU µs per request;
- S3-sync / S3-async: the 10 MiB file read 64 KiB at a time (as httpcore reads) into a
  reused buffer (``recv_into``; an asyncio
  ``BufferedProtocol``), MB/s and client CPU per download;
- S5-sync / S5-async: 1 MB POSTs to the sink (``sendall``; the asyncio transport's
  ``write``), MB/s.

nginx and this process share the CPUs given (``--cpus``, default 0, as the benchmark).

    python -m tools.bench.floors [-n 20000] [--cpus 0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import sys
import time
import urllib.parse
from typing import Callable, List, Optional, Tuple

from tools.bench.scenarios import LARGE_PATH, SINK_PATH, SMALL_PATH, UPLOAD_BYTES
from tools.bench.server import BenchNginx

_CONTENT_LENGTH = re.compile(rb"content-length:[ \t]*(\d+)", re.IGNORECASE)
# The size of every read, as httpcore's READ_NUM_BYTES (API.md: network reads ask for 64 KiB).
_READ_SIZE = 64 * 1024


def _request(url: str, method: str = "GET", body_size: int = 0) -> bytes:
    parts = urllib.parse.urlsplit(url)
    head = f"{method} {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nAccept: */*\r\n"
    if body_size:
        head += f"Content-Length: {body_size}\r\n"
    return (head + "\r\n").encode("ascii")


def _body_length(head: bytes) -> int:
    found = _CONTENT_LENGTH.search(head)
    if found is None:
        raise RuntimeError("a response without Content-Length")
    return int(found.group(1))


def _connect(url: str) -> socket.socket:
    parts = urllib.parse.urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _exchange(sock: socket.socket, request: bytes, buffer: bytearray) -> int:
    """Send ``request``, read one whole response into ``buffer``; return the body size."""
    sock.sendall(request)
    view = memoryview(buffer)
    filled = 0
    while True:
        filled += sock.recv_into(view[filled:], _READ_SIZE)
        end = buffer.find(b"\r\n\r\n", 0, filled)
        if end >= 0:
            break
    body = _body_length(bytes(buffer[:end]))
    wanted = end + 4 + body
    while filled < wanted:
        # Big bodies: keep reading into the start of the buffer (only the count matters).
        got = sock.recv_into(view[: min(_READ_SIZE, wanted - filled)])
        if not got:
            raise RuntimeError("the server closed the connection")
        filled += got
    return body


def _timed(operation: Callable[[], int], count: int) -> Tuple[float, float, int]:
    """(CPU seconds, wall seconds, body bytes) of ``count`` operations."""
    cpu, wall = time.process_time(), time.perf_counter()
    total = 0
    for _ in range(count):
        total += operation()
    return time.process_time() - cpu, time.perf_counter() - wall, total


def sync_small(url: str, count: int) -> Tuple[float, float, int]:
    sock = _connect(url)
    request, buffer = _request(url), bytearray(_READ_SIZE)
    with sock:
        _timed(lambda: _exchange(sock, request, buffer), min(count, 500))
        return _timed(lambda: _exchange(sock, request, buffer), count)


def sync_large(url: str, count: int) -> Tuple[float, float, int]:
    sock = _connect(url)
    request, buffer = _request(url), bytearray(_READ_SIZE)
    with sock:
        _exchange(sock, request, buffer)
        return _timed(lambda: _exchange(sock, request, buffer), count)


def sync_upload(url: str, count: int) -> Tuple[float, float, int]:
    sock = _connect(url)
    request, buffer = _request(url, "POST", UPLOAD_BYTES), bytearray(_READ_SIZE)
    body = b"x" * UPLOAD_BYTES

    def one() -> int:
        sock.sendall(request)
        _exchange(sock, body, buffer)
        return UPLOAD_BYTES

    with sock:
        one()
        return _timed(one, count)


class _Client(asyncio.BufferedProtocol):
    """One keep-alive connection; ``exchange()`` sends a request and awaits its response."""

    def __init__(self) -> None:
        self.buffer = bytearray(_READ_SIZE)
        self.filled = 0
        self.wanted: Optional[int] = None
        self.done: Optional[asyncio.Future[int]] = None
        self.transport: Optional[asyncio.Transport] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        if self.wanted is not None:  # in the body: only the count matters, reuse the start
            return memoryview(self.buffer)[: _READ_SIZE]
        return memoryview(self.buffer)[self.filled :]

    def buffer_updated(self, nbytes: int) -> None:
        self.filled += nbytes
        if self.wanted is None:
            end = self.buffer.find(b"\r\n\r\n", 0, self.filled)
            if end < 0:
                return
            self.wanted = end + 4 + _body_length(bytes(self.buffer[:end]))
        if self.filled >= self.wanted and self.done is not None and not self.done.done():
            self.done.set_result(self.wanted)

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(exc or RuntimeError("the server closed the connection"))

    async def exchange(self, request: bytes, body: bytes = b"") -> int:
        assert self.transport is not None
        self.filled, self.wanted = 0, None
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        if body:
            self.transport.write(body)  # the transport buffers what the socket does not take
        return await self.done


async def _async_timed(
    url: str, count: int, warmup: int, body: bytes = b""
) -> Tuple[float, float, int]:
    parts = urllib.parse.urlsplit(url)
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_connection(_Client, parts.hostname or "127.0.0.1", parts.port or 80)
    transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = _request(url, "POST", len(body)) if body else _request(url)
    try:
        for _ in range(warmup):
            await client.exchange(request, body)
        cpu, wall, total = time.process_time(), time.perf_counter(), 0
        for _ in range(count):
            received = await client.exchange(request, body)
            total += len(body) if body else received
        return time.process_time() - cpu, time.perf_counter() - wall, total
    finally:
        transport.close()


def async_small(url: str, count: int) -> Tuple[float, float, int]:
    return asyncio.run(_async_timed(url, count, min(count, 500)))


def async_large(url: str, count: int) -> Tuple[float, float, int]:
    return asyncio.run(_async_timed(url, count, 1))


def async_upload(url: str, count: int) -> Tuple[float, float, int]:
    return asyncio.run(_async_timed(url, count, 1, b"x" * UPLOAD_BYTES))


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.floors", description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20000, help="small requests per measure")
    parser.add_argument("--cpus", default="0", help="CPU list for nginx and this process ('' = any)")
    args = parser.parse_args(argv)
    cpus = {int(cpu) for cpu in args.cpus.split(",") if cpu}
    if cpus:
        os.sched_setaffinity(0, cpus)
    with BenchNginx(cpus or None) as server:
        small, large, sink = server.url(SMALL_PATH), server.url(LARGE_PATH), server.url(SINK_PATH)
        large_count = max(3, args.n // 1000)
        rows = [
            ("S1-sync", sync_small(small, args.n), args.n, "request"),
            ("S1-async", async_small(small, args.n), args.n, "request"),
            ("S3-sync", sync_large(large, large_count), large_count, "download"),
            ("S3-async", async_large(large, large_count), large_count, "download"),
            ("S5-sync", sync_upload(sink, large_count), large_count, "upload"),
            ("S5-async", async_upload(sink, large_count), large_count, "upload"),
        ]
    print(f"Python {sys.version.split()[0]}, no HTTP library, nginx and client on CPUs {args.cpus or 'any'}\n")
    print("| Exchange | client CPU per operation | operations/s | MB/s |")
    print("|---|---:|---:|---:|")
    for name, (cpu, wall, total), count, unit in rows:
        rate = f"{total / wall / 1e6:,.0f}" if unit != "request" else "—"
        print(f"| {name} | {cpu / count * 1e6:,.1f} µs per {unit} | {count / wall:,.0f} | {rate} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
