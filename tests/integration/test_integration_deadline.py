"""The total deadline against a real slow-loris server over loopback, and through httpx.

The server answers at once with a head announcing a 100-byte body, then sends one byte
every 50 ms: each read gets data well within the read timeout, so only the request's
``"total"`` timeout can end it early (without it the request succeeds after 5 seconds,
and these tests fail). The fake-clock tests in tests/reliability check every layer's
arithmetic; these check that real backends honour it.
"""

from __future__ import annotations

import socket
import time
from typing import Any, Dict, Iterator

import httpx
import pytest

import httpcore
from tools.servers.loopback import LoopbackServer

BODY_BYTES = 100
TRICKLE_S = 0.05
EXTENSIONS: Dict[str, Any] = {
    "timeout": {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0, "total": 0.5}
}


def trickle(conn: socket.socket) -> None:
    received = b""
    while b"\r\n\r\n" not in received:
        data = conn.recv(65536)
        if not data:
            return
        received += data
    try:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BODY_BYTES)
        for _ in range(BODY_BYTES):
            time.sleep(TRICKLE_S)
            conn.sendall(b"x")
    except OSError:
        return  # The client gave up and closed: what the tests expect.


@pytest.fixture
def slow_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer(trickle)
    try:
        yield server
    finally:
        server.close()


def url(server: LoopbackServer) -> str:
    return f"http://127.0.0.1:{server.port}/"


def test_sync_request_ends_at_the_deadline(slow_server: LoopbackServer) -> None:
    with httpcore.ConnectionPool() as pool:
        with pytest.raises(httpcore.ReadTimeout):
            pool.request("GET", url(slow_server), extensions=EXTENSIONS)
        assert pool.connections == []


def test_sync_stream_ends_at_the_deadline(slow_server: LoopbackServer) -> None:
    with httpcore.ConnectionPool() as pool:
        with pool.stream("GET", url(slow_server), extensions=EXTENSIONS) as response:
            assert response.status == 200
            with pytest.raises(httpcore.ReadTimeout):
                response.read()
        assert pool.connections == []


@pytest.mark.anyio
async def test_async_request_ends_at_the_deadline(slow_server: LoopbackServer) -> None:
    async with httpcore.AsyncConnectionPool() as pool:
        with pytest.raises(httpcore.ReadTimeout):
            await pool.request("GET", url(slow_server), extensions=EXTENSIONS)
        assert pool.connections == []


def test_httpx_passes_the_total_timeout_through(slow_server: LoopbackServer) -> None:
    with httpx.Client() as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(url(slow_server), extensions=EXTENSIONS)


@pytest.mark.anyio
async def test_httpx_async_passes_the_total_timeout_through(slow_server: LoopbackServer) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(url(slow_server), extensions=EXTENSIONS)
