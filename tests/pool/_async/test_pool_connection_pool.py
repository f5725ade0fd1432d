"""``AsyncConnectionPool`` one request at a time (API.md §5, §11.3): reuse, housekeeping,
errors, reprs, traces and logs, through the mock backend and small scripted connections."""

from __future__ import annotations

import gc
import logging
import ssl
import sys
import weakref
from typing import Any, AsyncIterator, Dict, List

import pytest

from httpcore._backends._async.mock import AsyncMockBackend
from httpcore._backends._base import SOCKET_OPTION, AsyncNetworkStream
from httpcore._core._exceptions import (
    ConnectError,
    ConnectionNotAvailable,
    PoolTimeout,
    ReadError,
    RemoteProtocolError,
    UnsupportedProtocol,
)
from httpcore._core._models import Origin, Proxy, Request, Response
from httpcore._pool._async import connection_pool as connection_pool_module
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from httpcore._protocols._async.connection import AsyncHTTPConnection
from httpcore._protocols._async.connection_interface import AsyncConnectionInterface
from tests.protocols._shields import CountingShield

HELLO = [
    b"HTTP/1.1 200 OK\r\n",
    b"Content-Type: plain/text\r\n",
    b"Content-Length: 13\r\n",
    b"\r\n",
    b"Hello, world!",
]
CLOSING = [b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"]


class FailingBackend(AsyncMockBackend):
    """Every TCP connect fails with a ConnectError chained to an OSError."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> AsyncNetworkStream:
        try:
            raise OSError("refused")
        except OSError as exc:
            raise ConnectError(exc) from exc


class ScriptedConnection(AsyncConnectionInterface):
    """A connection without a network: one request at a time, answers ``b"ok"``.

    ``refuse`` makes the next requests raise ConnectionNotAvailable.
    """

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.state = "IDLE"
        self.requests = 0
        self.refuse = 0
        self.closes = 0

    async def handle_async_request(self, request: Request) -> Response:
        if self.refuse:
            self.refuse -= 1
            raise ConnectionNotAvailable()
        assert self.state == "IDLE", "a second request on a busy connection"
        self.state = "ACTIVE"
        self.requests += 1
        return Response(200, content=ScriptedBody(self))

    async def aclose(self) -> None:
        self.closes += 1
        self.state = "CLOSED"

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self.origin

    def is_available(self) -> bool:
        return self.state == "IDLE"

    def has_expired(self) -> bool:
        return False

    def is_idle(self) -> bool:
        return self.state == "IDLE"

    def is_closed(self) -> bool:
        return self.state == "CLOSED"

    def info(self) -> str:
        return f"{str(self.origin)!r}, {self.state}"


class ScriptedBody:
    def __init__(self, connection: ScriptedConnection) -> None:
        self._connection = connection
        self._chunks = [b"ok"]

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if not self._chunks:
            raise StopAsyncIteration
        return self._chunks.pop()

    async def aclose(self) -> None:
        if self._connection.state == "ACTIVE":
            self._connection.state = "IDLE"


class ScriptedPool(AsyncConnectionPool):
    """A pool of scripted connections; ``created`` lists them in creation order."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.created: List[ScriptedConnection] = []

    def create_connection(self, origin: Origin) -> AsyncConnectionInterface:
        connection = ScriptedConnection(origin)
        self.created.append(connection)
        return connection


# Construction.


def test_constructor_arguments_are_positional_in_order_and_need_no_event_loop() -> None:
    proxy = Proxy("http://localhost:8080")
    backend = AsyncMockBackend([])
    options: List[SOCKET_OPTION] = []
    pool = AsyncConnectionPool(
        None, proxy, 5, 2, 1.5, False, True, 3, "0.0.0.0", "/tmp/sock", backend, options
    )
    assert pool._proxy is proxy
    assert pool._max_connections == 5
    assert pool._max_keepalive_connections == 2
    assert pool._keepalive_expiry == 1.5
    assert (pool._http1, pool._http2, pool._retries) == (False, True, 3)
    assert (pool._local_address, pool._uds) == ("0.0.0.0", "/tmp/sock")
    assert pool._network_backend is backend
    assert pool._socket_options is options
    assert repr(pool) == (
        "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>"
    )


def test_unlimited_limits_and_the_effective_keepalive_cap() -> None:
    pool = AsyncConnectionPool(max_connections=None, max_keepalive_connections=None)
    assert pool._max_connections == sys.maxsize
    assert pool._max_keepalive_connections == sys.maxsize
    assert AsyncConnectionPool(max_connections=3)._max_keepalive_connections == 3
    assert AsyncConnectionPool(max_keepalive_connections=20)._max_keepalive_connections == 10


# Reuse and reprs.


@pytest.mark.anyio
async def test_idle_connection_is_reused_for_its_origin() -> None:
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO * 2)) as pool:
        response = await pool.request("GET", "https://example.com/")
        assert response.status == 200
        assert response.content == b"Hello, world!"
        assert [repr(c) for c in pool.connections] == [
            "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>"
        ]
        await pool.request("GET", "https://example.com/")
        assert [repr(c) for c in pool.connections] == [
            "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 2]>"
        ]


@pytest.mark.anyio
async def test_each_origin_gets_its_own_connection_in_creation_order() -> None:
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO)) as pool:
        await pool.request("GET", "https://example.com/")
        await pool.request("GET", "http://example.com/")
        assert [repr(c) for c in pool.connections] == [
            "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>",
            "<AsyncHTTPConnection ['http://example.com:80', HTTP/1.1, IDLE, Request Count: 1]>",
        ]
        assert repr(pool) == (
            "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 2 idle]>"
        )


@pytest.mark.anyio
async def test_a_streamed_response_keeps_its_request_active_until_closed() -> None:
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO)) as pool:
        async with pool.stream("GET", "https://example.com/") as response:
            await response.aread()
            assert repr(pool) == (
                "<AsyncConnectionPool [Requests: 1 active, 0 queued | "
                "Connections: 1 active, 0 idle]>"
            )
            assert [repr(c) for c in pool.connections] == [
                "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, ACTIVE, "
                "Request Count: 1]>"
            ]
        assert repr(pool) == (
            "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>"
        )


@pytest.mark.anyio
async def test_connections_is_a_new_list_each_time() -> None:
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO)) as pool:
        await pool.request("GET", "https://example.com/")
        first = pool.connections
        first.clear()
        assert len(pool.connections) == 1
        assert pool.connections is not pool.connections


@pytest.mark.anyio
async def test_response_has_the_connection_status_headers_and_extensions() -> None:
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO)) as pool:
        async with pool.stream("GET", "https://example.com/") as response:
            assert response.status == 200
            assert response.headers == [
                (b"Content-Type", b"plain/text"),
                (b"Content-Length", b"13"),
            ]
            assert response.extensions["http_version"] == b"HTTP/1.1"
            assert response.extensions["reason_phrase"] == b"OK"
            chunks = [chunk async for chunk in response.aiter_stream()]
        assert chunks == [b"Hello, world!"]


@pytest.mark.anyio
async def test_unread_response_closes_its_connection_and_leaves_the_pool() -> None:
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO)) as pool:
        async with pool.stream("GET", "https://example.com/"):
            pass
        assert pool.connections == []


@pytest.mark.anyio
async def test_a_kept_alive_response_is_closed_without_a_shield(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The HTTP/1.1 stream closes at once (close_at_once): nothing to hold cancellation off
    # from, and a shield costs a few microseconds when anyio is loaded.
    shield = CountingShield.counting()
    monkeypatch.setattr(connection_pool_module, "AsyncShieldCancellation", shield)
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO + HELLO)) as pool:
        response = await pool.request("GET", "https://example.com/")
        assert response.content == b"Hello, world!"
        assert CountingShield.entered == 0
        assert [connection.is_idle() for connection in pool.connections] == [True]
        async with pool.stream("GET", "https://example.com/"):
            pass  # unread: the connection is closed, under the shield
        assert CountingShield.entered == 1
        assert pool.connections == []


@pytest.mark.anyio
async def test_another_connections_response_is_copied_and_left_unchanged() -> None:
    # Only this library's own HTTPConnection hands over its response to be reused.
    class KeptResponseConnection(ScriptedConnection):
        async def handle_async_request(self, request: Request) -> Response:
            response = await super().handle_async_request(request)
            self.kept = response
            self.kept_stream = response.stream
            return response

    class KeptResponsePool(ScriptedPool):
        def create_connection(self, origin: Origin) -> AsyncConnectionInterface:
            connection = KeptResponseConnection(origin)
            self.created.append(connection)
            return connection

    async with KeptResponsePool() as pool:
        response = await pool.handle_async_request(Request("GET", "http://a.com/"))
        [connection] = pool.created
        assert isinstance(connection, KeptResponseConnection)
        assert response is not connection.kept
        assert connection.kept.stream is connection.kept_stream
        assert response.headers == connection.kept.headers
        assert response.headers is not connection.kept.headers
        await response.aclose()


@pytest.mark.anyio
async def test_an_http_connections_response_gets_the_pools_stream() -> None:
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO)) as pool:
        request = Request("GET", "https://example.com/", headers=[(b"Host", b"example.com")])
        response = await pool.handle_async_request(request)
        assert type(response.stream) is connection_pool_module.AsyncPoolResponseStream
        assert response.headers == [(b"Content-Type", b"plain/text"), (b"Content-Length", b"13")]
        assert await response.aread() == b"Hello, world!"
        await response.aclose()
        assert [connection.is_idle() for connection in pool.connections] == [True]


@pytest.mark.anyio
async def test_closing_the_response_twice_releases_once() -> None:
    async with ScriptedPool() as pool:
        response = await pool.handle_async_request(Request("GET", "http://a.com/"))
        await response.aclose()
        await response.aclose()
        assert repr(pool) == (
            "<ScriptedPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>"
        )


# Housekeeping.


@pytest.mark.anyio
async def test_connection_close_response_removes_the_connection() -> None:
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(CLOSING)) as pool:
        response = await pool.request("GET", "https://example.com/")
        assert response.content == b"ok"
        assert pool.connections == []


@pytest.mark.anyio
async def test_a_closed_pool_is_freed_with_its_tls_context_without_the_garbage_collector() -> None:
    # No reference cycle through the pool: it goes, with its TLS context (the system's
    # certificates loaded: hundreds of KiB), as soon as the last reference does.
    context = ssl.create_default_context()
    context_ref = weakref.ref(context)
    gc.disable()
    try:
        pool = AsyncConnectionPool(ssl_context=context, network_backend=AsyncMockBackend(HELLO))
        async with pool:
            response = await pool.request("GET", "https://example.com/")
        assert response.status == 200
        pool_ref = weakref.ref(pool)
        del pool, response, context
        assert pool_ref() is None
        assert context_ref() is None
    finally:
        gc.enable()


@pytest.mark.anyio
async def test_keepalive_expiry_zero_drops_the_connection_after_the_response() -> None:
    backend = AsyncMockBackend(HELLO)
    async with AsyncConnectionPool(network_backend=backend, keepalive_expiry=0.0) as pool:
        await pool.request("GET", "https://example.com/")
        assert pool.connections == []


@pytest.mark.anyio
async def test_max_keepalive_zero_closes_every_idle_connection() -> None:
    backend = AsyncMockBackend(HELLO)
    async with AsyncConnectionPool(network_backend=backend, max_keepalive_connections=0) as pool:
        await pool.request("GET", "https://example.com/")
        assert pool.connections == []


@pytest.mark.anyio
async def test_max_keepalive_counts_active_connections_too() -> None:
    # One active connection (a.com) and one idle (b.com) with a cap of 1: the idle one goes.
    async with ScriptedPool(max_keepalive_connections=1) as pool:
        await pool.request("GET", "http://b.com/")
        async with pool.stream("GET", "http://a.com/"):
            assert [c.origin.host for c in pool.created if not c.is_closed()] == [b"a.com"]
            assert [repr(c) for c in pool.connections] == [repr(pool.created[1])]
        assert pool.created[0].closes == 1
        assert pool.connections == [pool.created[1]]


@pytest.mark.anyio
async def test_max_keepalive_closes_a_released_connection_over_the_cap() -> None:
    async with ScriptedPool(max_keepalive_connections=2) as pool:
        async with pool.stream("GET", "http://a.com/"):
            async with pool.stream("GET", "http://b.com/"):
                async with pool.stream("GET", "http://c.com/"):
                    pass
                # Three connections, c idle: over the cap.
                assert pool.created[2].is_closed()
        assert pool.connections == pool.created[:2]


@pytest.mark.anyio
async def test_max_keepalive_closes_the_first_created_idle_connection() -> None:
    async with ScriptedPool(max_keepalive_connections=2) as pool:
        await pool.request("GET", "http://a.com/")
        await pool.request("GET", "http://b.com/")
        await pool.request("GET", "http://c.com/")
        assert pool.connections == pool.created[1:]
        assert pool.created[0].closes == 1


@pytest.mark.anyio
async def test_idle_connection_is_replaced_when_the_pool_is_full() -> None:
    async with ScriptedPool(max_connections=1) as pool:
        await pool.request("GET", "http://a.com/")
        await pool.request("GET", "http://b.com/")
        assert [c.origin.host for c in pool.created] == [b"a.com", b"b.com"]
        assert pool.created[0].closes == 1
        assert pool.connections == [pool.created[1]]


@pytest.mark.anyio
async def test_expired_idle_connection_is_not_reused() -> None:
    class Expiring(ScriptedPool):
        def create_connection(self, origin: Origin) -> AsyncConnectionInterface:
            connection = super().create_connection(origin)
            assert isinstance(connection, ScriptedConnection)
            connection.has_expired = lambda: connection.requests > 0  # type: ignore[method-assign]
            return connection

    async with Expiring() as pool:
        await pool.request("GET", "http://a.com/")
        await pool.request("GET", "http://a.com/")
        assert len(pool.created) == 2
        assert pool.created[0].closes == 1


@pytest.mark.anyio
async def test_closed_idle_connection_is_dropped_without_closing_it_again() -> None:
    async with ScriptedPool() as pool:
        await pool.request("GET", "http://a.com/")
        pool.created[0].state = "CLOSED"
        await pool.request("GET", "http://a.com/")
        assert pool.created[0].closes == 0
        assert pool.connections == [pool.created[1]]


@pytest.mark.anyio
async def test_connection_not_available_sends_the_request_back_to_the_queue() -> None:
    async with ScriptedPool() as pool:
        await pool.request("GET", "http://a.com/")
        pool.created[0].refuse = 1
        response = await pool.request("GET", "http://a.com/")
        assert response.content == b"ok"
        assert pool.created[0].requests == 2
        assert repr(pool) == (
            "<ScriptedPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>"
        )


# close().


@pytest.mark.anyio
async def test_close_empties_the_pool_and_it_stays_usable() -> None:
    pool = AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO))
    await pool.request("GET", "https://example.com/")
    connection = pool.connections[0]
    await pool.aclose()
    assert pool.connections == []
    assert connection.is_closed()
    await pool.request("GET", "https://example.com/")
    assert len(pool.connections) == 1
    await pool.aclose()


@pytest.mark.anyio
async def test_close_fails_a_response_being_read() -> None:
    body = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello, ", b"world!"]
    pool = AsyncConnectionPool(network_backend=AsyncMockBackend(body))
    async with pool.stream("GET", "https://example.com/") as response:
        await pool.aclose()
        with pytest.raises(ReadError):
            await response.aread()
    assert repr(pool) == (
        "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>"
    )


# Errors.


@pytest.mark.anyio
async def test_url_without_a_scheme_is_unsupported() -> None:
    async with AsyncConnectionPool() as pool:
        with pytest.raises(UnsupportedProtocol) as info:
            await pool.request("GET", "/just/a/path")
    assert str(info.value) == "Request URL is missing an 'http://' or 'https://' protocol."


@pytest.mark.anyio
async def test_url_with_an_unknown_scheme_is_unsupported() -> None:
    async with AsyncConnectionPool() as pool:
        with pytest.raises(UnsupportedProtocol) as info:
            await pool.request("GET", "ftp://www.example.com/")
    assert str(info.value) == "Request URL has an unsupported protocol 'ftp://'."


@pytest.mark.anyio
async def test_connect_error_is_raised_without_its_cause_and_leaves_the_pool_empty() -> None:
    async with AsyncConnectionPool(network_backend=FailingBackend([])) as pool:
        with pytest.raises(ConnectError) as info:
            await pool.request("GET", "https://example.com/")
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__
        assert pool.connections == []
        assert repr(pool) == (
            "<AsyncConnectionPool [Requests: 0 active, 0 queued | "
            "Connections: 0 active, 0 idle]>"
        )


@pytest.mark.anyio
async def test_error_while_reading_the_body_closes_and_releases() -> None:
    truncated = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello"]
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(truncated)) as pool:
        with pytest.raises(RemoteProtocolError) as info:
            await pool.request("GET", "https://example.com/")
        assert info.value.__cause__ is None
        assert pool.connections == []
        assert repr(pool) == (
            "<AsyncConnectionPool [Requests: 0 active, 0 queued | "
            "Connections: 0 active, 0 idle]>"
        )


@pytest.mark.anyio
async def test_a_body_of_the_wrong_type_is_a_type_error_that_names_no_connection_class() -> None:
    # Through the pool the caller never chose a connection class: the message names none.
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO)) as pool:
        with pytest.raises(TypeError) as info:
            await pool.request("POST", "https://example.com/", content=123)  # type: ignore[arg-type]
        assert str(info.value) == (
            "The request body must be bytes or an AsyncIterable of bytes, but got int."
        )
        assert pool.connections == []


class CountingBackend(AsyncMockBackend):
    """Every connection answers one request with ``buffer``, then reads EOF: reused, it
    behaves as a keep-alive connection the server has closed."""

    def __init__(self, buffer: List[bytes]) -> None:
        super().__init__(buffer)
        self.opened = 0

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        self.opened += 1
        return await super().connect_tcp(*args, **kwargs)


@pytest.mark.anyio
async def test_a_stale_connection_retries_on_a_new_one_not_on_its_idle_siblings() -> None:
    # Four idle connections, all closed by the server: the first one tried fails as stale,
    # and the retry opens a fifth rather than trying the other three (with at most three
    # retries, trying them one by one would end in an error).
    backend = CountingBackend(HELLO)
    url = "https://example.com/"
    async with AsyncConnectionPool(network_backend=backend) as pool:
        request = Request("GET", url, headers=[(b"Host", b"example.com")])
        responses = [await pool.handle_async_request(request) for _ in range(4)]
        for response in responses:
            await response.aread()
            await response.aclose()
        assert [c.info() for c in pool.connections] == [
            "'https://example.com:443', HTTP/1.1, IDLE, Request Count: 1"
        ] * 4
        response = await pool.request("GET", url)
        assert response.content == b"Hello, world!"
        assert backend.opened == 5
        assert [c.info() for c in pool.connections] == [
            "'https://example.com:443', HTTP/1.1, IDLE, Request Count: 1"
        ]


@pytest.mark.anyio
async def test_invalid_response_leaves_the_pool_empty() -> None:
    async with AsyncConnectionPool(network_backend=AsyncMockBackend([b"wut\r\n\r\n"])) as pool:
        with pytest.raises(RemoteProtocolError):
            await pool.request("GET", "https://example.com/")
        assert pool.connections == []


@pytest.mark.anyio
async def test_create_connection_error_reaches_the_request() -> None:
    class Broken(AsyncConnectionPool):
        def create_connection(self, origin: Origin) -> AsyncConnectionInterface:
            raise ValueError("no connection for you")

    async with Broken() as pool:
        with pytest.raises(ValueError, match="no connection for you"):
            await pool.request("GET", "https://example.com/")
        assert repr(pool) == (
            "<Broken [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>"
        )


@pytest.mark.anyio
async def test_a_pool_with_a_proxy_needs_the_proxy_lib_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connection_pool_module, "proxy_connection_factories", [])
    async with AsyncConnectionPool(proxy=Proxy("http://localhost:8080")) as pool:
        with pytest.raises(RuntimeError, match="needs the proxy connections"):
            await pool.request("GET", "https://example.com/")


@pytest.mark.anyio
async def test_a_pool_with_a_proxy_opens_the_registered_factorys_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = Proxy("http://localhost:8080")
    calls: List[Any] = []

    def factory(
        pool: AsyncConnectionPool, given: Proxy, origin: Origin
    ) -> AsyncConnectionInterface:
        calls.append((pool, given, origin))
        return AsyncHTTPConnection(origin=origin, network_backend=AsyncMockBackend(HELLO))

    monkeypatch.setattr(connection_pool_module, "proxy_connection_factories", [factory])
    async with AsyncConnectionPool(proxy=proxy) as pool:
        response = await pool.request("GET", "https://example.com/")
        assert response.content == b"Hello, world!"
        assert calls == [(pool, proxy, Origin(b"https", b"example.com", 443))]


# Pool timeouts.


@pytest.mark.anyio
async def test_pool_timeout_zero_does_not_fire_when_a_connection_is_free() -> None:
    extensions = {"timeout": {"pool": 0}}
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO * 2)) as pool:
        await pool.request("GET", "https://example.com/", extensions=extensions)
        response = await pool.request("GET", "https://example.com/", extensions=extensions)
        assert response.status == 200


@pytest.mark.anyio
async def test_pool_timeout_when_every_connection_is_busy() -> None:
    extensions = {"timeout": {"pool": 0}}
    async with ScriptedPool(max_connections=1) as pool:
        async with pool.stream("GET", "http://a.com/"):
            with pytest.raises(PoolTimeout):
                await pool.request("GET", "http://b.com/", extensions=extensions)
            assert repr(pool) == (
                "<ScriptedPool [Requests: 1 active, 0 queued | Connections: 1 active, 0 idle]>"
            )
        response = await pool.request("GET", "http://b.com/", extensions=extensions)
        assert response.content == b"ok"


# Tracing and logging (API.md §11.3).


@pytest.mark.anyio
async def test_trace_events_of_an_https_request() -> None:
    called: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        called.append(name)

    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO)) as pool:
        await pool.request("GET", "https://example.com/", extensions={"trace": trace})
    assert called == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "connection.start_tls.started",
        "connection.start_tls.complete",
        "http11.send_request_headers.started",
        "http11.send_request_headers.complete",
        "http11.send_request_body.started",
        "http11.send_request_body.complete",
        "http11.receive_response_headers.started",
        "http11.receive_response_headers.complete",
        "http11.receive_response_body.started",
        "http11.receive_response_body.complete",
        "http11.response_closed.started",
        "http11.response_closed.complete",
    ]


@pytest.mark.anyio
async def test_trace_events_of_an_invalid_response() -> None:
    called: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        called.append(name)

    backend = AsyncMockBackend([b"Wait, this isn't valid HTTP!", b""])
    async with AsyncConnectionPool(network_backend=backend) as pool:
        with pytest.raises(RemoteProtocolError):
            await pool.request("GET", "https://example.com/", extensions={"trace": trace})
    assert called == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "connection.start_tls.started",
        "connection.start_tls.complete",
        "http11.send_request_headers.started",
        "http11.send_request_headers.complete",
        "http11.send_request_body.started",
        "http11.send_request_body.complete",
        "http11.receive_response_headers.started",
        "http11.receive_response_headers.failed",
        "http11.response_closed.started",
        "http11.response_closed.complete",
    ]


@pytest.mark.anyio
async def test_upgrade_stream_is_usable_inside_the_block_then_leaves_the_pool() -> None:
    backend = AsyncMockBackend(
        [b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: custom\r\n\r\nfoobar", b"baz"]
    )
    async with AsyncConnectionPool(network_backend=backend) as pool:
        headers = [(b"Connection", b"upgrade"), (b"Upgrade", b"custom")]
        async with pool.stream("GET", "https://example.com/", headers=headers) as response:
            assert response.status == 101
            network_stream = response.extensions["network_stream"]
            assert await network_stream.read(max_bytes=3) == b"foo"
            assert await network_stream.read(max_bytes=3) == b"bar"
            assert await network_stream.read(max_bytes=3) == b"baz"
        assert pool.connections == []


@pytest.mark.anyio
async def test_trace_events_of_a_connect_failure() -> None:
    called: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        called.append(name)

    async with AsyncConnectionPool(network_backend=FailingBackend([])) as pool:
        with pytest.raises(ConnectError):
            await pool.request("GET", "https://example.com/", extensions={"trace": trace})
    assert called == ["connection.connect_tcp.started", "connection.connect_tcp.failed"]


@pytest.mark.anyio
async def test_debug_log_records_of_a_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO)) as pool:
        await pool.request("GET", "http://example.com/")
    request = "request=<Request [b'GET']>"
    assert caplog.record_tuples == [
        (
            "httpcore.connection",
            logging.DEBUG,
            "connect_tcp.started host='example.com' port=80 local_address=None "
            "timeout=None socket_options=None",
        ),
        (
            "httpcore.connection",
            logging.DEBUG,
            "connect_tcp.complete return_value=<httpcore.AsyncMockStream>",
        ),
        ("httpcore.http11", logging.DEBUG, f"send_request_headers.started {request}"),
        ("httpcore.http11", logging.DEBUG, "send_request_headers.complete"),
        ("httpcore.http11", logging.DEBUG, f"send_request_body.started {request}"),
        ("httpcore.http11", logging.DEBUG, "send_request_body.complete"),
        ("httpcore.http11", logging.DEBUG, f"receive_response_headers.started {request}"),
        (
            "httpcore.http11",
            logging.DEBUG,
            "receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', "
            "[(b'Content-Type', b'plain/text'), (b'Content-Length', b'13')])",
        ),
        ("httpcore.http11", logging.DEBUG, f"receive_response_body.started {request}"),
        ("httpcore.http11", logging.DEBUG, "receive_response_body.complete"),
        ("httpcore.http11", logging.DEBUG, "response_closed.started"),
        ("httpcore.http11", logging.DEBUG, "response_closed.complete"),
        ("httpcore.connection", logging.DEBUG, "close.started"),
        ("httpcore.connection", logging.DEBUG, "close.complete"),
    ]


# The request helpers on a pool (API.md §3).


@pytest.mark.anyio
async def test_request_helper_closes_the_response_even_when_reading_fails() -> None:
    class BrokenBody(ScriptedBody):
        async def __anext__(self) -> bytes:
            raise ReadError("boom")

    class BrokenPool(ScriptedPool):
        def create_connection(self, origin: Origin) -> AsyncConnectionInterface:
            connection = super().create_connection(origin)
            assert isinstance(connection, ScriptedConnection)

            async def handle(request: Request) -> Response:
                connection.state = "ACTIVE"
                return Response(200, content=BrokenBody(connection))

            connection.handle_async_request = handle  # type: ignore[method-assign]
            return connection

    async with BrokenPool() as pool:
        with pytest.raises(ReadError):
            await pool.request("GET", "http://a.com/")
        assert repr(pool) == (
            "<BrokenPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>"
        )


@pytest.mark.anyio
async def test_requests_get_the_connection_first_created_among_idle_ones() -> None:
    async with ScriptedPool() as pool:
        async with pool.stream("GET", "http://a.com/"):
            async with pool.stream("GET", "http://a.com/"):
                pass
        await pool.request("GET", "http://a.com/")
        assert [c.requests for c in pool.created] == [2, 1]
