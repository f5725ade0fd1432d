"""Cancellation and concurrency on async connections (API.md §6.2.1, §6.3, §15).

Async only (the sync twins have neither), so this file is not under ``_async``. Every test
cancels deterministically: the stream or backend cancels the enclosing scope itself, then
waits, so the cancellation lands exactly there.
"""

from __future__ import annotations

from typing import Any, List, Optional

import anyio
import pytest

from httpcore._backends._async.mock import AsyncMockBackend, AsyncMockStream
from httpcore._backends._base import AsyncNetworkStream
from httpcore._core._models import Origin
from httpcore._protocols._async.connection import AsyncHTTPConnection
from httpcore._protocols._async.http11 import AsyncHTTP11Connection

ORIGIN = Origin(b"https", b"example.com", 443)
URL = "https://example.com/"
HELLO = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello, world!"]


class CancellingStream(AsyncMockStream):
    """Serves its buffer, then cancels ``scope`` and waits instead of returning EOF."""

    scope: Optional[anyio.CancelScope] = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if not self._buffer and self.scope is not None:
            self.scope.cancel()
            await anyio.sleep_forever()
        return await super().read(max_bytes, timeout)


class CancellingBackend(AsyncMockBackend):
    """Cancels ``scope`` while connecting."""

    scope: Optional[anyio.CancelScope] = None

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        assert self.scope is not None
        self.scope.cancel()
        await anyio.sleep_forever()
        raise AssertionError("not reached")


class SlowConnectBackend(AsyncMockBackend):
    """Counts connects, and lets other tasks run while connecting."""

    connects = 0

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        self.connects += 1
        await anyio.sleep(0)
        return await super().connect_tcp(*args, **kwargs)


@pytest.mark.anyio
async def test_cancelled_while_waiting_for_the_response_closes_the_connection() -> None:
    stream = CancellingStream([])
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    with anyio.CancelScope() as scope:
        stream.scope = scope
        await conn.request("GET", URL)
    assert scope.cancelled_caught
    assert conn.is_closed()
    assert stream._closed


@pytest.mark.anyio
async def test_cancelled_while_reading_the_body_closes_the_connection() -> None:
    stream = CancellingStream([b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello"])
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    with anyio.CancelScope() as scope:
        stream.scope = scope
        async with conn.stream("GET", URL) as response:
            await response.aread()
    assert scope.cancelled_caught
    assert conn.is_closed()
    assert stream._closed
    assert repr(conn) == "<AsyncHTTP11Connection ['https://example.com:443', CLOSED, Request Count: 1]>"


@pytest.mark.anyio
async def test_cancelled_connect_marks_the_connection_failed() -> None:
    backend = CancellingBackend(HELLO)
    conn = AsyncHTTPConnection(ORIGIN, network_backend=backend)
    with anyio.CancelScope() as scope:
        backend.scope = scope
        await conn.request("GET", URL)
    assert scope.cancelled_caught
    assert repr(conn) == "<AsyncHTTPConnection [CONNECTION FAILED]>"
    assert conn.is_closed()


@pytest.mark.anyio
async def test_concurrent_first_requests_share_one_connect() -> None:
    backend = SlowConnectBackend(HELLO + HELLO)
    conn = AsyncHTTPConnection(ORIGIN, network_backend=backend)
    statuses: List[int] = []

    async def fetch() -> None:
        statuses.append((await conn.request("GET", URL)).status)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(fetch)
        tasks.start_soon(fetch)
    assert backend.connects == 1
    assert statuses == [200, 200]
    assert conn.info() == "'https://example.com:443', HTTP/1.1, IDLE, Request Count: 2"
