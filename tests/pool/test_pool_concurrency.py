"""``AsyncConnectionPool`` with concurrent tasks: first come first served, one waiter per
released connection, no connection closed under a waiter (httpcore#1110), and no slot left
held by a request cancelled or timed out at any stage (httpcore#1093).

Async only (tasks and cancel scopes have no sync twin), so not under ``_async``. Tasks are
ordered with ``wait_all_tasks_blocked`` and events, and cancellations are made by the
network code itself at the stage under test, never by timers.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Callable, List, Optional

import anyio
import pytest
from anyio import wait_all_tasks_blocked

from httpcore._backends._async.mock import AsyncMockBackend, AsyncMockStream
from httpcore._backends._base import AsyncNetworkStream
from httpcore._core._exceptions import ConnectionNotAvailable, PoolTimeout
from httpcore._core._models import Origin, Request, Response
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from httpcore._protocols._async.connection_interface import AsyncConnectionInterface

HELLO = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello, world!"]
EMPTY_POOL = "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>"


def idle_pool(name: str, idle: int) -> str:
    return f"<{name} [Requests: 0 active, 0 queued | Connections: 0 active, {idle} idle]>"


class Connection(AsyncConnectionInterface):
    """A scripted connection. HTTP/1.1-like (one request at a time, ConnectionNotAvailable
    when busy) unless ``multiplexing``; ``connect`` runs on the first request."""

    def __init__(self, origin: Origin, multiplexing: bool = False) -> None:
        self.origin = origin
        self.multiplexing = multiplexing
        self.state = "NEW"
        self.active = 0
        self.requests = 0
        self.refused = 0
        self.closes = 0
        self.closed_while_assigned = False
        self.connect: Optional[Callable[[], Any]] = None

    async def handle_async_request(self, request: Request) -> Response:
        if self.state == "CLOSED" or (self.active and not self.multiplexing):
            self.refused += 1
            raise ConnectionNotAvailable()
        if self.state == "NEW" and self.connect is not None:
            self.state = "CONNECTING"
            await self.connect()
        self.state = "ACTIVE"
        self.active += 1
        self.requests += 1
        return Response(200, content=Body(self))

    async def aclose(self) -> None:
        self.closes += 1
        self.state = "CLOSED"

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self.origin

    def is_available(self) -> bool:
        if self.multiplexing:
            return self.state != "CLOSED"
        return self.state == "IDLE"

    def has_expired(self) -> bool:
        return False

    def is_idle(self) -> bool:
        return self.state == "IDLE"

    def is_closed(self) -> bool:
        return self.state == "CLOSED"

    def info(self) -> str:
        return f"{str(self.origin)!r}, {self.state}, Request Count: {self.requests}"


class Body:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._done = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        self._done = True
        return b"ok"

    async def aclose(self) -> None:
        connection = self._connection
        if connection.state == "ACTIVE":
            connection.active -= 1
            if not connection.active:
                connection.state = "IDLE"


class Pool(AsyncConnectionPool):
    def __init__(self, multiplexing: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiplexing = multiplexing
        self.created: List[Connection] = []

    def create_connection(self, origin: Origin) -> AsyncConnectionInterface:
        connection = Connection(origin, self.multiplexing)
        self.created.append(connection)
        return connection


# First come, first served.


@pytest.mark.anyio
async def test_waiting_requests_are_served_in_arrival_order_across_origins() -> None:
    order: List[int] = []
    async with Pool(max_connections=1) as pool:
        response = await pool.handle_async_request(Request("GET", "http://a.com/"))

        async def fetch(n: int) -> None:
            host = "a.com" if n % 2 else "b.com"
            async with pool.stream("GET", f"http://{host}/"):
                order.append(n)

        async with anyio.create_task_group() as tasks:
            for n in range(6):
                tasks.start_soon(fetch, n)
                await wait_all_tasks_blocked()
            await response.aclose()
        assert order == list(range(6))
        assert repr(pool) == idle_pool("Pool", 1)


@pytest.mark.anyio
async def test_a_released_connection_goes_to_exactly_one_waiter() -> None:
    async with Pool(max_connections=1) as pool:
        response = await pool.handle_async_request(Request("GET", "http://a.com/"))
        served: List[int] = []

        async def fetch(n: int) -> None:
            async with pool.stream("GET", "http://a.com/"):
                served.append(n)

        async with anyio.create_task_group() as tasks:
            for n in range(5):
                tasks.start_soon(fetch, n)
                await wait_all_tasks_blocked()
            await response.aclose()
        assert served == list(range(5))
        assert len(pool.created) == 1
        assert pool.created[0].requests == 6
        assert pool.created[0].refused == 0


@pytest.mark.anyio
async def test_max_connections_one_serialises_requests_to_different_origins() -> None:
    seen: List[List[str]] = []
    backend = AsyncMockBackend(HELLO)
    async with AsyncConnectionPool(max_connections=1, network_backend=backend) as pool:

        async def fetch(host: str) -> None:
            async with pool.stream("GET", f"http://{host}/") as response:
                seen.append([repr(c) for c in pool.connections])
                await response.aread()

        async with anyio.create_task_group() as tasks:
            for host in ["a.com", "b.com", "c.com", "d.com", "e.com"]:
                tasks.start_soon(fetch, host)
    assert sorted(seen) == [
        [f"<AsyncHTTPConnection ['http://{host}:80', HTTP/1.1, ACTIVE, Request Count: 1]>"]
        for host in ["a.com", "b.com", "c.com", "d.com", "e.com"]
    ]


@pytest.mark.anyio
async def test_same_origin_requests_share_a_keepalive_connection_one_at_a_time() -> None:
    backend = AsyncMockBackend(HELLO * 5)
    counts: List[str] = []
    async with AsyncConnectionPool(max_connections=1, network_backend=backend) as pool:

        async def fetch() -> None:
            async with pool.stream("GET", "http://a.com/") as response:
                counts.append(pool.connections[0].info())
                await response.aread()

        async with anyio.create_task_group() as tasks:
            for _ in range(5):
                tasks.start_soon(fetch)
    assert sorted(counts) == [
        f"'http://a.com:80', HTTP/1.1, ACTIVE, Request Count: {n}" for n in range(1, 6)
    ]


@pytest.mark.anyio
async def test_a_multiplexing_connection_takes_concurrent_requests() -> None:
    inside = anyio.Event()
    async with Pool(multiplexing=True, max_connections=1) as pool:
        entered: List[int] = []

        async def fetch(n: int) -> None:
            async with pool.stream("GET", "http://a.com/"):
                entered.append(n)
                if len(entered) == 5:
                    inside.set()
                await inside.wait()

        async with anyio.create_task_group() as tasks:
            for n in range(5):
                tasks.start_soon(fetch, n)
    assert sorted(entered) == list(range(5))
    assert len(pool.created) == 1
    assert pool.created[0].requests == 5


# httpcore#1110: a connection handed to a waiter is never closed by the pool.


@pytest.mark.anyio
async def test_a_connection_assigned_to_a_waiter_is_not_evicted_as_idle() -> None:
    async with Pool(max_connections=2, max_keepalive_connections=1) as pool:
        first = await pool.handle_async_request(Request("GET", "http://a.com/"))
        second = await pool.handle_async_request(Request("GET", "http://b.com/"))
        a_connection, b_connection = pool.created
        statuses: List[int] = []

        async def waiter() -> None:
            response = await pool.request("GET", "http://a.com/")
            statuses.append(response.status)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(waiter)
            await wait_all_tasks_blocked()
            # a.com's connection goes to the waiter, which has not run yet; then b.com's
            # connection becomes idle with the pool over its keep-alive cap of 1. The idle
            # one to close is b.com's, not the one the waiter is about to use.
            await first.aclose()
            await second.aclose()
            assert b_connection.closes == 1
            assert a_connection.closes == 0
        assert statuses == [200]
        assert a_connection.requests == 2
        assert pool.connections == [a_connection]


# httpcore#1093: cancellation or timeout at any stage leaves no slot held.


class CancellingStream(AsyncMockStream):
    """Cancels ``scope`` at the chosen stage: "write", "read_head", "read_body" or "close"."""

    def __init__(self, buffer: List[bytes], stage: str, scope: anyio.CancelScope) -> None:
        super().__init__(buffer)
        self.stage = stage
        self.scope = scope
        self.reads = 0

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self.stage == "write":
            await self._cancel()
        await super().write(buffer, timeout)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.reads += 1
        if self.stage == "read_head" or (self.stage == "read_body" and self.reads == 2):
            await self._cancel()
        return await super().read(max_bytes, timeout)

    async def aclose(self) -> None:
        if self.stage == "close":
            self.scope.cancel()
            await anyio.lowlevel.checkpoint()
        await super().aclose()

    async def _cancel(self) -> None:
        self.scope.cancel()
        await anyio.sleep_forever()


class CancellingBackend(AsyncMockBackend):
    def __init__(self, buffer: List[bytes], stage: str) -> None:
        super().__init__(buffer)
        self.stage = stage
        self.scope: Optional[anyio.CancelScope] = None

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        assert self.scope is not None
        if self.stage == "connect":
            self.scope.cancel()
            await anyio.sleep_forever()
        return CancellingStream(list(self._buffer), self.stage, self.scope)


@pytest.mark.anyio
@pytest.mark.parametrize("stage", ["connect", "write", "read_head", "read_body", "close"])
async def test_cancellation_at_any_stage_frees_the_slot(stage: str) -> None:
    body = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello, ", b"world!"]
    backend = CancellingBackend(body, stage)
    async with AsyncConnectionPool(max_connections=1, network_backend=backend) as pool:
        with anyio.CancelScope() as scope:
            backend.scope = scope
            async with pool.stream("GET", "http://a.com/") as response:
                if stage != "close":
                    await response.aread()
                # "close": leaving the block with the body unread closes the connection.
            await anyio.lowlevel.checkpoint()
        assert scope.cancelled_caught
        assert repr(pool) == EMPTY_POOL
        assert pool.connections == []
        # The only slot is free: another request goes through.
        backend.stage = "none"
        with anyio.fail_after(5):
            assert (await pool.request("GET", "http://a.com/")).status == 200


@pytest.mark.anyio
async def test_cancellation_while_waiting_for_a_connection_frees_the_place() -> None:
    async with Pool(max_connections=1) as pool:
        async with pool.stream("GET", "http://a.com/"):
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as tasks:

                    async def cancel_when_queued() -> None:
                        await wait_all_tasks_blocked()
                        assert "1 queued" in repr(pool)
                        scope.cancel()

                    tasks.start_soon(cancel_when_queued)
                    await pool.request("GET", "http://b.com/")
            assert scope.cancelled_caught
            assert repr(pool) == (
                "<Pool [Requests: 1 active, 0 queued | Connections: 1 active, 0 idle]>"
            )
        assert repr(pool) == idle_pool("Pool", 1)
        assert (await pool.request("GET", "http://b.com/")).status == 200


@pytest.mark.anyio
async def test_cancelling_a_waiter_just_given_a_connection_loses_nothing() -> None:
    async with Pool(max_connections=1) as pool:
        first = await pool.handle_async_request(Request("GET", "http://a.com/"))
        served: List[str] = []
        scopes: List[anyio.CancelScope] = []

        async def fetch(name: str) -> None:
            with anyio.CancelScope() as scope:
                scopes.append(scope)
                async with pool.stream("GET", "http://a.com/"):
                    served.append(name)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(fetch, "cancelled")
            await wait_all_tasks_blocked()
            tasks.start_soon(fetch, "next")
            await wait_all_tasks_blocked()
            # The connection goes to the first waiter, cancelled before it runs again
            # (it may still run to its next checkpoint); the next waiter is served too.
            await first.aclose()
            scopes[0].cancel()
        assert served[-1:] == ["next"]
        assert repr(pool) == idle_pool("Pool", 1)
        assert len(pool.created) == 1


@pytest.mark.anyio
async def test_pool_timeout_while_every_connection_is_busy() -> None:
    async with Pool(max_connections=1) as pool:
        async with pool.stream("GET", "http://a.com/"):
            with pytest.raises(PoolTimeout):
                await pool.request(
                    "GET", "http://b.com/", extensions={"timeout": {"pool": 0.001}}
                )
            assert repr(pool) == (
                "<Pool [Requests: 1 active, 0 queued | Connections: 1 active, 0 idle]>"
            )
        assert repr(pool) == idle_pool("Pool", 1)


@pytest.mark.anyio
async def test_abandoned_connect_that_never_fails_itself_is_closed_and_dropped() -> None:
    # A connection that stays "CONNECTING" after its connect was cancelled (it does not
    # mark itself failed) would hold its slot for ever (httpcore#1093).
    async with Pool(max_connections=1) as pool:
        with anyio.CancelScope() as scope:

            async def connect() -> None:
                scope.cancel()
                await anyio.sleep_forever()

            original = pool.create_connection

            def create(origin: Origin) -> AsyncConnectionInterface:
                connection = original(origin)
                assert isinstance(connection, Connection)
                connection.connect = connect
                return connection

            pool.create_connection = create  # type: ignore[method-assign]
            await pool.request("GET", "http://a.com/")
        assert scope.cancelled_caught
        stuck = pool.created[0]
        assert stuck.state == "CLOSED"
        assert stuck.closes == 1
        assert pool.connections == []
        pool.create_connection = original  # type: ignore[method-assign]
        assert (await pool.request("GET", "http://a.com/")).status == 200


# Native asyncio cancellation (Task.cancel(), which no shield holds off).


def test_native_asyncio_task_cancel_while_reading_frees_the_slot() -> None:
    async def main() -> None:
        started = asyncio.Event()

        class Stalling(AsyncMockStream):
            async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
                if not self._buffer:
                    started.set()
                    await asyncio.sleep(3600)
                return await super().read(max_bytes, timeout)

        class Backend(AsyncMockBackend):
            async def connect_tcp(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
                return Stalling([b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello"])

        pool = AsyncConnectionPool(max_connections=1, network_backend=Backend([]))
        task = asyncio.ensure_future(pool.request("GET", "http://a.com/"))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert repr(pool) == EMPTY_POOL
        await pool.aclose()

    asyncio.run(main())


def test_native_asyncio_task_cancel_while_waiting_frees_the_place() -> None:
    async def main() -> None:
        pool = Pool(max_connections=1)
        response = await pool.handle_async_request(Request("GET", "http://a.com/"))
        task = asyncio.ensure_future(pool.request("GET", "http://a.com/"))
        for _ in range(3):
            await asyncio.sleep(0)
        assert "1 queued" in repr(pool)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await response.aclose()
        assert repr(pool) == idle_pool("Pool", 1)

    asyncio.run(main())


def test_native_asyncio_cancel_of_a_waiter_just_given_a_connection_passes_it_on() -> None:
    async def main() -> None:
        pool = Pool(max_connections=1)
        first = await pool.handle_async_request(Request("GET", "http://a.com/"))
        served: List[str] = []

        async def fetch(name: str) -> None:
            async with pool.stream("GET", "http://a.com/"):
                served.append(name)

        cancelled = asyncio.ensure_future(fetch("cancelled"))
        following = asyncio.ensure_future(fetch("next"))
        for _ in range(3):
            await asyncio.sleep(0)
        assert "2 queued" in repr(pool)
        # Assigned to the first waiter, which is cancelled before it resumes.
        await first.aclose()
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await following
        assert served == ["next"]
        assert repr(pool) == idle_pool("Pool", 1)
        assert pool.created[0].requests == 2

    asyncio.run(main())


@pytest.mark.anyio
async def test_close_serves_a_waiting_request_with_a_new_connection() -> None:
    async with Pool(max_connections=1) as pool:
        first = await pool.handle_async_request(Request("GET", "http://a.com/"))
        statuses: List[int] = []

        async def fetch() -> None:
            statuses.append((await pool.request("GET", "http://b.com/")).status)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(fetch)
            await wait_all_tasks_blocked()
            await pool.aclose()
        assert statuses == [200]
        assert pool.created[0].closes == 1
        await first.aclose()
        assert pool.connections == [pool.created[1]]
        assert repr(pool) == idle_pool("Pool", 1)
