"""Cancelling requests on an ``AsyncHTTP2Connection`` (API.md §6.4; httpcore#1022).

Async only (threads are not cancelled), so this file is not under ``_async``. Requests are
cancelled once the trace callback reports their HEADERS sent, never after a sleep.
"""

from __future__ import annotations

from typing import Any, AsyncIterable, Dict, Iterator, List

import anyio
import pytest

from httpcore._backends._auto import AutoBackend
from httpcore._core._models import Origin
from httpcore._protocols._async.http2 import AsyncHTTP2Connection
from tests.protocols._h2_server import HELLO, H2Server

GUARD = {"read": 30.0, "write": 30.0}


@pytest.fixture
def server() -> Iterator[H2Server]:
    with H2Server() as running:
        yield running


async def connect(server: H2Server) -> AsyncHTTP2Connection:
    stream = await AutoBackend().connect_tcp("127.0.0.1", server.port)
    return AsyncHTTP2Connection(Origin(b"http", b"127.0.0.1", server.port), stream)


class SentCounter:
    """A trace callback that sets ``all_sent`` once ``expected`` requests sent their HEADERS."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.sent = 0
        self.all_sent = anyio.Event()

    async def __call__(self, name: str, info: Dict[str, Any]) -> None:
        if name == "http2.send_request_headers.complete":
            self.sent += 1
            if self.sent == self.expected:
                self.all_sent.set()


def assert_settled(conn: AsyncHTTP2Connection) -> None:
    assert conn._slots.in_use == 0
    assert conn._h2_state.open_outbound_streams == 0
    assert conn._streams == {}
    assert conn.is_idle()
    assert conn.is_available()


async def hold_and_cancel(conn: AsyncHTTP2Connection, server: H2Server, count: int) -> None:
    """Start ``count`` requests the server never answers, then cancel them all."""
    counter = SentCounter(count)
    url = f"http://127.0.0.1:{server.port}/hold"
    extensions = {"trace": counter, "timeout": GUARD}

    async def held() -> None:
        await conn.request("GET", url, extensions=extensions)

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(held)
        with anyio.fail_after(30):
            await counter.all_sent.wait()
        group.cancel_scope.cancel()


@pytest.mark.anyio
async def test_cancelled_requests_free_their_streams(server: H2Server) -> None:
    # httpcore#1022: streams of cancelled requests stayed open in h2's count until the
    # connection refused every new stream ("Max outbound streams is 100, 100 open").
    conn = await connect(server)
    async with conn:
        for _ in range(3):
            await hold_and_cancel(conn, server, 100)
            assert_settled(conn)
        bodies: List[bytes] = []

        async def fetch() -> None:
            url = f"http://127.0.0.1:{server.port}/"
            bodies.append((await conn.request("GET", url, extensions={"timeout": GUARD})).content)

        async with anyio.create_task_group() as group:
            for _ in range(100):
                group.start_soon(fetch)
        assert bodies == [HELLO] * 100
        assert_settled(conn)
    # The server saw every cancelled stream reset.
    assert len(server.stats.client_resets) == 300
    assert server.stats.errors == []


@pytest.mark.anyio
async def test_cancelling_half_of_the_requests_leaves_the_connection_usable(
    server: H2Server,
) -> None:
    conn = await connect(server)
    bodies: List[bytes] = []
    answered = anyio.Event()
    url = f"http://127.0.0.1:{server.port}"

    counter = SentCounter(20)

    async def fetch(path: str, scope: anyio.CancelScope) -> None:
        with scope:
            extensions = {"timeout": GUARD, "trace": counter}
            response = await conn.request("GET", url + path, extensions=extensions)
            bodies.append(response.content)
            if len(bodies) == 10:
                answered.set()

    async with conn:
        scopes = [anyio.CancelScope() for _ in range(20)]
        async with anyio.create_task_group() as group:
            for index, scope in enumerate(scopes):
                group.start_soon(fetch, "/hold" if index % 2 else "/bytes/1000", scope)
            with anyio.fail_after(30):
                await answered.wait()
                await counter.all_sent.wait()
            for scope in scopes[1::2]:
                scope.cancel()
        assert len(bodies) == 10
        assert all(scope.cancelled_caught for scope in scopes[1::2])
        assert_settled(conn)
        response = await conn.request("GET", url + "/", extensions={"timeout": GUARD})
        assert response.content == HELLO
    assert len(server.stats.client_resets) == 10


@pytest.mark.anyio
async def test_cancelled_downloads_give_back_connection_window(server: H2Server) -> None:
    # Each cancelled download leaves DATA in flight; unless its credit is returned, the
    # connection window (16 MiB) runs out and later downloads stall.
    conn = await connect(server)
    size = 4 * 1024 * 1024
    url = f"http://127.0.0.1:{server.port}/bytes/{size}"
    async with conn:
        for _ in range(8):
            with anyio.CancelScope() as scope:
                async with conn.stream("GET", url, extensions={"timeout": GUARD}) as response:
                    body = response.stream
                    assert isinstance(body, AsyncIterable)
                    async for _chunk in body:
                        scope.cancel()
                        await anyio.sleep_forever()
            assert scope.cancelled_caught
        response = await conn.request("GET", url, extensions={"timeout": GUARD})
        assert len(response.content) == size
        assert_settled(conn)


@pytest.mark.anyio
async def test_request_waiting_for_a_stream_slot_can_be_cancelled(server: H2Server) -> None:
    conn = await connect(server)
    url = f"http://127.0.0.1:{server.port}"
    async with conn:
        # Fill every slot with held requests, then queue one more and cancel everything.
        counter = SentCounter(100)
        async with anyio.create_task_group() as group:

            async def held() -> None:
                await conn.request(
                    "GET", url + "/hold", extensions={"trace": counter, "timeout": GUARD}
                )

            for _ in range(101):
                group.start_soon(held)
            with anyio.fail_after(30):
                await counter.all_sent.wait()
            await anyio.wait_all_tasks_blocked()
            assert conn._slots.in_use == 100
            group.cancel_scope.cancel()
        assert_settled(conn)
        response = await conn.request("GET", url + "/", extensions={"timeout": GUARD})
        assert response.content == HELLO
