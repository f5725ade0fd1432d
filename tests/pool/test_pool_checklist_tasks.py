"""Checklist row 37 of API.md §17 with a queued request: the pool ``repr`` counts requests
waiting for a connection. Async only (it needs two tasks); tasks are ordered with
``wait_all_tasks_blocked`` and an event, never with sleeps."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from anyio import wait_all_tasks_blocked

from httpcore._backends._async.mock import AsyncMockBackend
from httpcore._backends._base import AsyncNetworkStream
from httpcore._pool._async.connection_pool import AsyncConnectionPool

HELLO = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello, world!"]


@pytest.mark.anyio
async def test_repr_counts_a_queued_request() -> None:
    release = anyio.Event()
    bodies: list[bytes] = []

    async with AsyncConnectionPool(
        max_connections=1, network_backend=AsyncMockBackend(HELLO * 2)
    ) as pool:

        async def first() -> None:
            async with pool.stream("GET", "http://example.com/") as response:
                bodies.append(await response.aread())
                await release.wait()

        async def second() -> None:
            response = await pool.request("GET", "http://example.com/")
            bodies.append(response.content)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(first)
            await wait_all_tasks_blocked()
            tasks.start_soon(second)
            await wait_all_tasks_blocked()
            assert repr(pool) == (
                "<AsyncConnectionPool [Requests: 1 active, 1 queued | "
                "Connections: 1 active, 0 idle]>"
            )
            release.set()
        assert bodies == [b"Hello, world!", b"Hello, world!"]
        assert repr(pool) == (
            "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>"
        )
        assert [repr(c) for c in pool.connections] == [
            "<AsyncHTTPConnection ['http://example.com:80', HTTP/1.1, IDLE, Request Count: 2]>"
        ]


class GatedBackend(AsyncMockBackend):
    """Connects wait for ``gate``; every connection replays the HTTP/1.1 buffer."""

    def __init__(self, buffer: list[bytes]) -> None:
        super().__init__(buffer)
        self.gate = anyio.Event()
        self.connects = 0

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> AsyncNetworkStream:
        self.connects += 1
        await self.gate.wait()
        return await super().connect_tcp(host, port, timeout, local_address, socket_options)


@pytest.mark.anyio
async def test_requests_piled_on_a_maybe_http2_connection_are_requeued_when_it_is_http11() -> None:
    # Rows 30 / 45 / 47: before connecting, an https connection with http2 enabled says it
    # is available, so both requests are assigned to it; it turns out HTTP/1.1 (ALPN), the
    # second request gets ConnectionNotAvailable and the pool serves it on a new connection.
    backend = GatedBackend(HELLO)
    release = anyio.Event()
    statuses: list[int] = []

    async with AsyncConnectionPool(http2=True, network_backend=backend) as pool:

        async def held() -> None:
            async with pool.stream("GET", "https://example.com/") as response:
                await response.aread()
                await release.wait()
                statuses.append(response.status)

        async def fetch() -> None:
            response = await pool.request("GET", "https://example.com/")
            statuses.append(response.status)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(held)
            await wait_all_tasks_blocked()
            tasks.start_soon(fetch)
            await wait_all_tasks_blocked()
            assert repr(pool) == (
                "<AsyncConnectionPool [Requests: 2 active, 0 queued | "
                "Connections: 1 active, 0 idle]>"
            )
            assert [repr(c) for c in pool.connections] == ["<AsyncHTTPConnection [CONNECTING]>"]
            backend.gate.set()
            await wait_all_tasks_blocked()
            assert statuses == [200]
            assert backend.connects == 2
            release.set()
        assert statuses == [200, 200]
        assert [repr(c) for c in pool.connections] == [
            "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>",
            "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>",
        ]
