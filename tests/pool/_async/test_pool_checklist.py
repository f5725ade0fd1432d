"""Checklist rows of API.md §17 for the pool, end to end through the real connections and
recording mock backends: options reaching the backend, timeouts, the helpers on the wire,
the response wrapper, context management, reprs, traces and housekeeping of dead sockets."""

from __future__ import annotations

import logging
import ssl
from typing import Any, AsyncIterable, AsyncIterator, Dict, List, Optional, Tuple

import pytest

from httpcore._backends._async.mock import AsyncMockBackend, AsyncMockStream
from httpcore._backends._base import AsyncNetworkStream
from httpcore._core._exceptions import ConnectError, RemoteProtocolError
from httpcore._core._models import Origin, Request, Response
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from httpcore._protocols._async.connection_interface import AsyncConnectionInterface

HELLO = [
    b"HTTP/1.1 200 OK\r\n",
    b"Content-Type: plain/text\r\n",
    b"Content-Length: 13\r\n",
    b"\r\n",
    b"Hello, world!",
]
EMPTY = "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>"


class Stream(AsyncMockStream):
    """A mock stream recording writes, read timeouts and TLS upgrades."""

    def __init__(self, buffer: List[bytes], readable: bool = False) -> None:
        super().__init__(buffer)
        self.written: List[bytes] = []
        self.write_timeouts: List[Optional[float]] = []
        self.read_timeouts: List[Optional[float]] = []
        self.tls: List[Dict[str, Any]] = []
        self.readable = readable
        self.closed = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.read_timeouts.append(timeout)
        return await super().read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.written.append(buffer)
        self.write_timeouts.append(timeout)

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        self.tls.append(
            {"ssl_context": ssl_context, "server_hostname": server_hostname, "timeout": timeout}
        )
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return self.readable
        return super().get_extra_info(info)


class Backend(AsyncMockBackend):
    """A mock backend recording every connect call and sleep; connects may fail first."""

    def __init__(self, buffer: List[bytes], failures: int = 0) -> None:
        super().__init__(buffer)
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self.sleeps: List[float] = []
        self.streams: List[Stream] = []
        self.failures = failures

    def _open(self, kind: str, kwargs: Dict[str, Any]) -> Stream:
        self.calls.append((kind, kwargs))
        if self.failures:
            self.failures -= 1
            raise ConnectError("refused")
        stream = Stream(list(self._buffer))
        self.streams.append(stream)
        return stream

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        assert args == ()
        return self._open("tcp", kwargs)

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        assert args == ()
        return self._open("unix", kwargs)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


class RecordingContext(ssl.SSLContext):
    alpn: Optional[List[str]] = None

    def set_alpn_protocols(self, alpn_protocols: Any) -> None:
        self.alpn = list(alpn_protocols)
        super().set_alpn_protocols(alpn_protocols)


# Row 25 / 34: the default create_connection() hands the pool's options to each connection.


@pytest.mark.anyio
async def test_pool_options_reach_the_tcp_connect_with_retries() -> None:
    options = [(6, 1, 1)]
    backend = Backend(HELLO, failures=1)
    async with AsyncConnectionPool(
        local_address="0.0.0.0", socket_options=options, retries=1, network_backend=backend
    ) as pool:
        response = await pool.request("GET", "http://example.com:8080/")
        assert response.content == b"Hello, world!"
    expected = {
        "host": "example.com",
        "port": 8080,
        "local_address": "0.0.0.0",
        "timeout": None,
        "socket_options": options,
    }
    assert backend.calls == [("tcp", expected), ("tcp", expected)]
    assert backend.sleeps == [0.0]


@pytest.mark.anyio
async def test_pool_uds_is_used_for_every_connection() -> None:
    backend = Backend(HELLO)
    async with AsyncConnectionPool(uds="/tmp/checklist.sock", network_backend=backend) as pool:
        await pool.request("GET", "http://a.com/")
        await pool.request("GET", "https://b.com/")
    unix = {"path": "/tmp/checklist.sock", "timeout": None, "socket_options": None}
    assert backend.calls == [("unix", unix), ("unix", unix)]
    assert backend.streams[0].tls == []
    assert len(backend.streams[1].tls) == 1


@pytest.mark.anyio
async def test_pool_ssl_context_gets_alpn_and_the_sni_extension_leaves_host_alone() -> None:
    ssl_context = RecordingContext(ssl.PROTOCOL_TLS_CLIENT)
    backend = Backend(HELLO)
    async with AsyncConnectionPool(
        ssl_context=ssl_context, http2=True, network_backend=backend
    ) as pool:
        await pool.request(
            "GET", "https://example.com/", extensions={"sni_hostname": "sni.example.org"}
        )
    assert ssl_context.alpn == ["http/1.1", "h2"]
    assert backend.streams[0].tls == [
        {"ssl_context": ssl_context, "server_hostname": "sni.example.org", "timeout": None}
    ]
    assert b"".join(backend.streams[0].written).startswith(
        b"GET / HTTP/1.1\r\nHost: example.com\r\n"
    )


# Row 94: the timeout extension is applied per operation.


@pytest.mark.anyio
async def test_timeout_extension_reaches_connect_tls_reads_and_writes() -> None:
    backend = Backend(HELLO)
    timeout = {"connect": 1.0, "read": 2.0, "write": 3.0, "pool": 4.0}
    async with AsyncConnectionPool(network_backend=backend) as pool:
        await pool.request(
            "POST", "https://example.com/", content=b"abc", extensions={"timeout": timeout}
        )
    assert backend.calls[0][1]["timeout"] == 1.0
    stream = backend.streams[0]
    assert stream.tls[0]["timeout"] == 1.0
    assert stream.write_timeouts and set(stream.write_timeouts) == {3.0}
    assert stream.read_timeouts and set(stream.read_timeouts) == {2.0}


# Rows 21 / 22: the helpers' default headers, as sent on the wire.


@pytest.mark.anyio
async def test_request_helper_sends_host_with_port_and_content_length() -> None:
    backend = Backend(HELLO)
    async with AsyncConnectionPool(network_backend=backend) as pool:
        await pool.request("POST", "http://a.com:8080/path?q=1", content=b"abc")
    assert b"".join(backend.streams[0].written) == (
        b"POST /path?q=1 HTTP/1.1\r\nHost: a.com:8080\r\nContent-Length: 3\r\n\r\nabc"
    )


@pytest.mark.anyio
async def test_stream_helper_sends_given_host_and_chunked_iterator_content() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"de"

    backend = Backend(HELLO)
    async with AsyncConnectionPool(network_backend=backend) as pool:
        async with pool.stream(
            "POST", "http://a.com:80/", headers=[("host", "x")], content=body()
        ) as response:
            assert await response.aread() == b"Hello, world!"
    assert b"".join(backend.streams[0].written) == (
        b"POST / HTTP/1.1\r\nhost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )


@pytest.mark.anyio
async def test_request_helper_adds_no_body_header_without_content() -> None:
    backend = Backend(HELLO)
    async with AsyncConnectionPool(network_backend=backend) as pool:
        await pool.request("POST", "https://example.com:443/")
    assert b"".join(backend.streams[0].written) == (
        b"POST / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    )


# Row 33: the pool's response wraps the connection's one.


class OneResponseConnection(AsyncConnectionInterface):
    def __init__(self, origin: Origin, response: Response) -> None:
        self.origin = origin
        self.response = response
        self.state = "IDLE"

    async def handle_async_request(self, request: Request) -> Response:
        self.state = "ACTIVE"
        return self.response

    async def aclose(self) -> None:
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
        return self.state


class InnerBody:
    def __init__(self) -> None:
        self.closes = 0
        self.connection: Optional[OneResponseConnection] = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.chunks()

    async def chunks(self) -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    async def aclose(self) -> None:
        self.closes += 1
        if self.connection is not None:
            self.connection.state = "IDLE"


@pytest.mark.anyio
async def test_pool_response_is_a_new_response_sharing_the_extensions_dict() -> None:
    body = InnerBody()
    inner = Response(
        201, headers=[(b"X-Case", b"Kept")], content=body, extensions={"http_version": b"HTTP/1.1"}
    )

    class Pool(AsyncConnectionPool):
        def create_connection(self, origin: Origin) -> AsyncConnectionInterface:
            body.connection = OneResponseConnection(origin, inner)
            return body.connection

    async with Pool() as pool:
        response = await pool.handle_async_request(Request("GET", "http://a.com/"))
        assert response is not inner
        assert response.status == 201
        assert response.headers == [(b"X-Case", b"Kept")]
        assert response.headers is not inner.headers
        assert response.extensions is inner.extensions
        assert response.stream is not body
        assert isinstance(response.stream, AsyncIterable)
        assert hasattr(response.stream, "aclose")
        assert [chunk async for chunk in response.aiter_stream()] == [b"a", b"b"]
        assert repr(pool) == (
            "<Pool [Requests: 1 active, 0 queued | Connections: 1 active, 0 idle]>"
        )
        await response.aclose()
        await response.aclose()
        assert body.closes == 1
        assert repr(pool) == (
            "<Pool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>"
        )


# Row 33a: errors while iterating a pool response come out detached from their chain.


@pytest.mark.anyio
async def test_body_error_from_the_pool_has_no_cause_and_no_shown_context() -> None:
    truncated = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello"]
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(truncated)) as pool:
        async with pool.stream("GET", "http://example.com/") as response:
            with pytest.raises(RemoteProtocolError) as info:
                await response.aread()
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__
        assert repr(pool) == EMPTY


# Row 36: context management.


@pytest.mark.anyio
async def test_enter_returns_the_pool_and_exit_without_arguments_closes_it() -> None:
    backend = Backend(HELLO * 2)
    pool = AsyncConnectionPool(network_backend=backend)
    assert await pool.__aenter__() is pool
    await pool.request("GET", "http://example.com/")
    assert len(pool.connections) == 1
    await pool.__aexit__()
    assert pool.connections == []
    assert backend.streams[0].closed
    await pool.request("GET", "http://example.com/")
    assert len(pool.connections) == 1
    await pool.aclose()


# Row 37: reprs of the pool and of the connections it holds.


@pytest.mark.anyio
async def test_reprs_of_the_pool_and_its_connections() -> None:
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO * 2)) as pool:
        async with pool.stream("GET", "https://example.com/") as response:
            assert [repr(c) for c in pool.connections] == [
                "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, ACTIVE, "
                "Request Count: 1]>"
            ]
            assert repr(pool) == (
                "<AsyncConnectionPool [Requests: 1 active, 0 queued | "
                "Connections: 1 active, 0 idle]>"
            )
            await response.aread()
        await pool.request("GET", "https://example.com/")
        await pool.request("GET", "http://example.com/")
        assert [repr(c) for c in pool.connections] == [
            "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 2]>",
            "<AsyncHTTPConnection ['http://example.com:80', HTTP/1.1, IDLE, Request Count: 1]>",
        ]
        assert repr(pool) == (
            "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 2 idle]>"
        )


# Rows 48 / 100 / 101: the close event is logged but never traced; the upgrade sequence.


@pytest.mark.anyio
async def test_close_is_logged_but_never_given_to_the_trace_callback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore")
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    async with AsyncConnectionPool(network_backend=AsyncMockBackend(HELLO)) as pool:
        await pool.request("GET", "http://example.com/", extensions={"trace": trace})
    assert events[-2:] == ["http11.response_closed.started", "http11.response_closed.complete"]
    assert [name for name in events if name.startswith("connection.close")] == []
    assert caplog.record_tuples[-2:] == [
        ("httpcore.connection", logging.DEBUG, "close.started"),
        ("httpcore.connection", logging.DEBUG, "close.complete"),
    ]


@pytest.mark.anyio
async def test_trace_of_an_upgrade_read_through_the_network_stream() -> None:
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    upgrade = [
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: custom\r\n\r\n",
        b"raw bytes",
    ]
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(upgrade)) as pool:
        async with pool.stream(
            "GET",
            "http://example.com/",
            headers={"Connection": "upgrade", "Upgrade": "custom"},
            extensions={"trace": trace},
        ) as response:
            assert response.status == 101
            assert await response.extensions["network_stream"].read(1024) == b"raw bytes"
        assert repr(pool) == EMPTY
    assert events == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "http11.send_request_headers.started",
        "http11.send_request_headers.complete",
        "http11.send_request_body.started",
        "http11.send_request_body.complete",
        "http11.receive_response_headers.started",
        "http11.receive_response_headers.complete",
        "http11.response_closed.started",
        "http11.response_closed.complete",
    ]


# Rows 32 / 57: an idle connection whose socket turned readable (the server closed it) is
# dropped by the housekeeping of the next request, and a new connection serves it.


@pytest.mark.anyio
async def test_idle_connection_closed_by_the_server_is_replaced() -> None:
    backend = Backend(HELLO)
    async with AsyncConnectionPool(network_backend=backend) as pool:
        await pool.request("GET", "http://example.com/")
        first = pool.connections[0]
        backend.streams[0].readable = True
        assert first.has_expired()
        response = await pool.request("GET", "http://example.com/")
        assert response.content == b"Hello, world!"
        assert len(backend.calls) == 2
        assert backend.streams[0].closed
        assert pool.connections != [first]
        assert len(pool.connections) == 1


# Row 95: the target extension replaces the request target sent on the wire.


@pytest.mark.anyio
@pytest.mark.parametrize(
    "method, target", [("GET", b"/unescaped|path"), ("OPTIONS", b"*")]
)
async def test_target_extension_is_the_request_target_on_the_wire(
    method: str, target: bytes
) -> None:
    backend = Backend(HELLO)
    async with AsyncConnectionPool(network_backend=backend) as pool:
        response = await pool.request(
            method, "http://example.com/ignored", extensions={"target": target}
        )
        assert response.status == 200
    assert b"".join(backend.streams[0].written) == (
        method.encode() + b" " + target + b" HTTP/1.1\r\nHost: example.com\r\n\r\n"
    )
