"""``httpcore.AsyncConnectionPool`` against a real nginx (HTTP and HTTPS) and raw peers.

Every test runs on each async library with each backend that works there: the default
(auto: the native asyncio backend under asyncio, trio's under trio), ``AnyIOBackend`` on
asyncio and on trio, and ``TrioBackend`` on trio. Timeouts are provoked by peers that never
answer, so only exception types are asserted, never durations.
"""

from __future__ import annotations

import hashlib
import ssl
import uuid
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Tuple

import anyio
import pytest

import httpcore
from tools.servers.nginx import LARGE_SIZE_BYTES, SMALL_BODY, NginxServer
from tools.servers.raw import RawServer

SAFETY_TIMEOUT_S = 10.0
TINY_TIMEOUT_S = 0.05
IDLE_CLOSE_POLL_S = 0.01
CHUNK_BYTES = 1024 * 1024
UNREADABLE_UPLOAD_CHUNKS = 512

StartRawServer = Callable[..., RawServer]

LIBRARY_AND_BACKEND = [
    ("asyncio", "auto"),
    ("asyncio", "anyio"),
    ("trio", "auto"),
    ("trio", "anyio"),
    ("trio", "trio"),
]


@pytest.fixture(
    params=LIBRARY_AND_BACKEND, ids=[f"{lib}-{backend}" for lib, backend in LIBRARY_AND_BACKEND]
)
def library_and_backend(request: pytest.FixtureRequest) -> Tuple[str, str]:
    library, backend = request.param
    return str(library), str(backend)


@pytest.fixture
def anyio_backend(library_and_backend: Tuple[str, str]) -> str:
    """Overrides tests/conftest.py: the library comes with the backend combination."""
    return library_and_backend[0]


@pytest.fixture
def network_backend(
    library_and_backend: Tuple[str, str],
) -> Optional[httpcore.AsyncNetworkBackend]:
    backend = library_and_backend[1]
    if backend == "auto":
        return None
    if backend == "anyio":
        return httpcore.AnyIOBackend()
    return httpcore.TrioBackend()


@pytest.fixture(params=[False, True], ids=["http", "https"])
def tls(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def make_pool(
    backend: Optional[httpcore.AsyncNetworkBackend],
    ssl_context: Optional[ssl.SSLContext] = None,
    **options: Any,
) -> httpcore.AsyncConnectionPool:
    return httpcore.AsyncConnectionPool(
        ssl_context=ssl_context, network_backend=backend, **options
    )


def connection_repr(tls: bool, port: int, state: str, count: int) -> str:
    scheme = "https" if tls else "http"
    info = f"'{scheme}://127.0.0.1:{port}', HTTP/1.1, {state}, Request Count: {count}"
    return f"<AsyncHTTPConnection [{info}]>"


def header(response: httpcore.Response, name: bytes) -> List[bytes]:
    return [value for key, value in response.headers if key.lower() == name.lower()]


async def stream_digest(pool: httpcore.AsyncConnectionPool, url: str) -> Tuple[int, str, int, int]:
    """GET ``url`` chunk by chunk: (size, sha256, number of chunks, largest chunk)."""
    digest = hashlib.sha256()
    size = chunks = largest = 0
    async with pool.stream("GET", url) as response:
        assert response.status == 200
        async for chunk in response.aiter_stream():
            digest.update(chunk)
            size += len(chunk)
            chunks += 1
            largest = max(largest, len(chunk))
    return size, digest.hexdigest(), chunks, largest


async def large_upload() -> AsyncIterator[bytes]:
    for index in range(LARGE_SIZE_BYTES // CHUNK_BYTES):
        yield bytes([index % 251]) * CHUNK_BYTES


def large_upload_sha256() -> str:
    digest = hashlib.sha256()
    for index in range(LARGE_SIZE_BYTES // CHUNK_BYTES):
        digest.update(bytes([index % 251]) * CHUNK_BYTES)
    return digest.hexdigest()


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


class NeverReadUpload:
    """An async iterator of many chunks. Not an async generator: the upload is abandoned
    part way, and an unfinished async generator would be finalised by the garbage collector
    (which trio reports as an ignored exception)."""

    def __init__(self) -> None:
        self._left = UNREADABLE_UPLOAD_CHUNKS

    def __aiter__(self) -> NeverReadUpload:
        return self

    async def __anext__(self) -> bytes:
        if self._left == 0:
            raise StopAsyncIteration
        self._left -= 1
        return b"x" * CHUNK_BYTES


# --- plain requests ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_get_small_file(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    tls: bool,
) -> None:
    async with make_pool(network_backend, ssl_context) as pool:
        response = await pool.request("GET", nginx.url("/small.txt", tls=tls))
    assert response.status == 200
    assert response.content == SMALL_BODY
    assert response.extensions["http_version"] == b"HTTP/1.1"
    assert response.extensions["reason_phrase"] == b"OK"
    assert (b"Content-Length", str(len(SMALL_BODY)).encode()) in response.headers


@pytest.mark.anyio
async def test_tls_session_is_verified_tls13(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> None:
    async with make_pool(network_backend, ssl_context) as pool:
        async with pool.stream("GET", nginx.url("/small.txt", tls=True)) as response:
            ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
            assert ssl_object.version() == "TLSv1.3"
            assert ssl_object.selected_alpn_protocol() == "http/1.1"
            await response.aread()


@pytest.mark.anyio
async def test_https_with_the_default_context_rejects_an_unknown_ca(
    nginx: NginxServer, network_backend: Optional[httpcore.AsyncNetworkBackend]
) -> None:
    async with make_pool(network_backend) as pool:
        with pytest.raises(httpcore.ConnectError):
            await pool.request("GET", nginx.url("/small.txt", tls=True))


@pytest.mark.anyio
async def test_keep_alive_reuses_one_connection(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    tls: bool,
) -> None:
    url = nginx.url("/small.txt", tls=tls)
    port = nginx.ports.https if tls else nginx.ports.http
    async with make_pool(network_backend, ssl_context) as pool:
        assert (await pool.request("GET", url)).content == SMALL_BODY
        assert (await pool.request("GET", url)).content == SMALL_BODY
        assert [repr(c) for c in pool.connections] == [connection_repr(tls, port, "IDLE", 2)]
        assert repr(pool) == (
            "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>"
        )


@pytest.mark.anyio
async def test_chunked_response_body(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    tls: bool,
) -> None:
    async with make_pool(network_backend, ssl_context) as pool:
        response = await pool.request("GET", nginx.url("/chunked/small.txt", tls=tls))
        again = await pool.request("GET", nginx.url("/chunked/small.txt", tls=tls))
        assert len(pool.connections) == 1
    assert header(response, b"Transfer-Encoding") == [b"chunked"]
    assert response.content == again.content == SMALL_BODY


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path", ["/large.bin", "/chunked/large.bin"], ids=["content-length", "chunked"]
)
async def test_large_body_streamed_chunk_by_chunk(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    tls: bool,
    path: str,
) -> None:
    async with make_pool(network_backend, ssl_context) as pool:
        size, sha256, chunks, largest = await stream_digest(pool, nginx.url(path, tls=tls))
        assert [c.is_idle() for c in pool.connections] == [True]
    assert (size, sha256) == (LARGE_SIZE_BYTES, nginx.large_sha256)
    assert chunks > 1
    assert largest < LARGE_SIZE_BYTES


@pytest.mark.anyio
async def test_head_has_no_body_and_keeps_the_connection(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> None:
    async with make_pool(network_backend, ssl_context) as pool:
        response = await pool.request("HEAD", nginx.url("/large.bin"))
        assert header(response, b"Content-Length") == [str(LARGE_SIZE_BYTES).encode()]
        assert response.content == b""
        assert (await pool.request("GET", nginx.url("/small.txt"))).content == SMALL_BODY
        assert [repr(c) for c in pool.connections] == [
            connection_repr(False, nginx.ports.http, "IDLE", 2)
        ]


@pytest.mark.anyio
async def test_unread_streamed_response_closes_its_connection(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    tls: bool,
) -> None:
    async with make_pool(network_backend, ssl_context) as pool:
        async with pool.stream("GET", nginx.url("/large.bin", tls=tls)) as response:
            assert response.status == 200
        assert pool.connections == []
        assert (await pool.request("GET", nginx.url("/small.txt", tls=tls))).content == SMALL_BODY


# --- uploads -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_post_bytes(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    tls: bool,
) -> None:
    async with make_pool(network_backend, ssl_context) as pool:
        response = await pool.request(
            "POST", nginx.url("/method", tls=tls), content=b"x" * 100_000
        )
    assert (response.status, response.content) == (200, b"POST\n")


@pytest.mark.anyio
async def test_put_from_an_async_iterator_is_stored(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    tls: bool,
) -> None:
    url = nginx.url(f"/uploads/{uuid.uuid4().hex}.bin", tls=tls)
    async with make_pool(network_backend, ssl_context) as pool:
        assert (await pool.request("PUT", url, content=large_upload())).status == 201
        size, sha256, _, _ = await stream_digest(pool, url)
        assert len(pool.connections) == 1
    assert (size, sha256) == (LARGE_SIZE_BYTES, large_upload_sha256())


@pytest.mark.anyio
async def test_put_bytes_then_replace(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> None:
    url = nginx.url(f"/uploads/{uuid.uuid4().hex}.txt")
    async with make_pool(network_backend, ssl_context) as pool:
        assert (await pool.request("PUT", url, content=b"first")).status == 201
        assert (await pool.request("PUT", url, content=chunks_of(b"sec", b"ond"))).status == 204
        assert (await pool.request("GET", url)).content == b"second"


# --- connection life cycle -------------------------------------------------------------


@pytest.mark.anyio
async def test_connection_close_response_drops_the_connection(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    tls: bool,
) -> None:
    port = nginx.ports.close_https if tls else nginx.ports.close_http
    url = nginx.url("/small.txt", port=port, tls=tls)
    async with make_pool(network_backend, ssl_context) as pool:
        response = await pool.request("GET", url)
        assert header(response, b"Connection") == [b"close"]
        assert pool.connections == []
        assert (await pool.request("GET", url)).content == SMALL_BODY
        assert pool.connections == []


@pytest.mark.anyio
async def test_idle_connection_closed_by_the_server_is_replaced(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    tls: bool,
) -> None:
    port = nginx.ports.idle_close_https if tls else nginx.ports.idle_close_http
    url = nginx.url("/small.txt", port=port, tls=tls)
    async with make_pool(network_backend, ssl_context) as pool:
        first = await pool.request("GET", url)
        assert [c.is_idle() for c in pool.connections] == [True]
        # Wait (bounded) until nginx's keepalive_timeout has closed the idle socket. The
        # stream is owned by the event loop, so its readability is polled, not awaited.
        stream = first.extensions["network_stream"]
        with anyio.fail_after(SAFETY_TIMEOUT_S):
            while not stream.get_extra_info("is_readable"):
                await anyio.sleep(IDLE_CLOSE_POLL_S)
        assert (await pool.request("GET", url)).content == SMALL_BODY
        assert [repr(c) for c in pool.connections] == [connection_repr(tls, port, "IDLE", 1)]


@pytest.mark.anyio
async def test_concurrent_requests_through_ten_connections(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    tls: bool,
) -> None:
    paths = ["/small.txt", "/chunked/small.txt", "/method"] * 20
    results: Dict[int, Tuple[int, bytes]] = {}

    async with make_pool(network_backend, ssl_context, max_connections=10) as pool:

        async def fetch(index: int, path: str) -> None:
            response = await pool.request("GET", nginx.url(path, tls=tls))
            results[index] = (response.status, response.content)

        with anyio.fail_after(SAFETY_TIMEOUT_S * 3):
            async with anyio.create_task_group() as tasks:
                for index, path in enumerate(paths):
                    tasks.start_soon(fetch, index, path)
        assert 1 <= len(pool.connections) <= 10
        assert all(c.is_idle() for c in pool.connections)

    expected = {"/small.txt": SMALL_BODY, "/chunked/small.txt": SMALL_BODY, "/method": b"GET\n"}
    assert [results[index] for index in range(len(paths))] == [
        (200, expected[path]) for path in paths
    ]


@pytest.mark.anyio
async def test_cancelled_request_leaves_the_pool_usable(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> None:
    async with make_pool(network_backend, ssl_context) as pool:
        with anyio.move_on_after(TINY_TIMEOUT_S) as scope:
            await pool.request("GET", nginx.url("/silent"))
        assert scope.cancelled_caught
        assert pool.connections == []
        assert (
            repr(pool)
            == "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>"
        )
        assert (await pool.request("GET", nginx.url("/small.txt"))).content == SMALL_BODY


# --- timeouts and errors -----------------------------------------------------------------


@pytest.mark.anyio
async def test_read_timeout_waiting_for_the_response(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    tls: bool,
) -> None:
    async with make_pool(network_backend, ssl_context) as pool:
        with pytest.raises(httpcore.ReadTimeout):
            await pool.request(
                "GET",
                nginx.url("/silent", tls=tls),
                extensions={"timeout": {"read": TINY_TIMEOUT_S}},
            )
        assert pool.connections == []
        assert (await pool.request("GET", nginx.url("/small.txt", tls=tls))).status == 200


@pytest.mark.anyio
async def test_read_timeout_in_the_middle_of_the_body(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> None:
    async with make_pool(network_backend, ssl_context) as pool:
        extensions = {"timeout": {"read": TINY_TIMEOUT_S}}
        async with pool.stream(
            "GET", nginx.url("/slow/large.bin"), extensions=extensions
        ) as response:
            assert response.status == 200
            with pytest.raises(httpcore.ReadTimeout):
                async for _ in response.aiter_stream():
                    pass
        assert pool.connections == []


@pytest.mark.anyio
async def test_write_timeout_when_the_server_never_reads(
    silent_port: int, network_backend: Optional[httpcore.AsyncNetworkBackend]
) -> None:
    async with make_pool(network_backend) as pool:
        with pytest.raises(httpcore.WriteTimeout):
            await pool.request(
                "PUT",
                f"http://127.0.0.1:{silent_port}/",
                content=NeverReadUpload(),
                extensions={"timeout": {"write": TINY_TIMEOUT_S}},
            )
        assert pool.connections == []


@pytest.mark.anyio
async def test_connect_timeout_when_the_tls_handshake_never_completes(
    silent_port: int,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> None:
    async with make_pool(network_backend, ssl_context) as pool:
        with pytest.raises(httpcore.ConnectTimeout):
            await pool.request(
                "GET",
                f"https://127.0.0.1:{silent_port}/",
                extensions={"timeout": {"connect": TINY_TIMEOUT_S}},
            )
        assert pool.connections == []


@pytest.mark.anyio
async def test_connect_error_on_a_closed_port(
    closed_port: int, network_backend: Optional[httpcore.AsyncNetworkBackend]
) -> None:
    async with make_pool(network_backend) as pool:
        with pytest.raises(httpcore.ConnectError):
            await pool.request("GET", f"http://127.0.0.1:{closed_port}/")
        assert pool.connections == []


@pytest.mark.anyio
async def test_pool_timeout_while_the_only_connection_is_busy(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> None:
    async with make_pool(network_backend, ssl_context, max_connections=1) as pool:
        async with pool.stream("GET", nginx.url("/small.txt")) as held:
            with pytest.raises(httpcore.PoolTimeout):
                await pool.request(
                    "GET",
                    nginx.url("/small.txt"),
                    extensions={"timeout": {"pool": TINY_TIMEOUT_S}},
                )
            assert await held.aread() == SMALL_BODY
        assert (await pool.request("GET", nginx.url("/small.txt"))).content == SMALL_BODY


@pytest.mark.anyio
async def test_garbage_from_the_server_is_remote_protocol_error(
    raw_server: StartRawServer, network_backend: Optional[httpcore.AsyncNetworkBackend]
) -> None:
    server = raw_server(b"this is not HTTP\r\n\r\n")
    async with make_pool(network_backend) as pool:
        with pytest.raises(httpcore.RemoteProtocolError):
            await pool.request("GET", f"http://127.0.0.1:{server.port}/")
        assert pool.connections == []


@pytest.mark.anyio
async def test_server_closing_without_a_response_is_remote_protocol_error(
    raw_server: StartRawServer, network_backend: Optional[httpcore.AsyncNetworkBackend]
) -> None:
    server = raw_server(b"")
    async with make_pool(network_backend) as pool:
        with pytest.raises(
            httpcore.RemoteProtocolError, match="Server disconnected without sending a response."
        ):
            await pool.request("GET", f"http://127.0.0.1:{server.port}/")


# --- stale keep-alive connections (beyond 1.0.9: see httpcore._core._stale) ---------------

KEEP_ALIVE_HELLO = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHello"


async def after_one_request(
    server: RawServer, backend: Optional[httpcore.AsyncNetworkBackend]
) -> httpcore.AsyncConnectionPool:
    """A pool holding one idle connection the server will drop when it is next used."""
    pool = make_pool(backend)
    response = await pool.request("GET", f"http://127.0.0.1:{server.port}/")
    assert response.content == b"Hello"
    assert len(pool.connections) == 1
    return pool


async def body_once() -> AsyncIterator[bytes]:
    yield b"once"


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
async def test_idempotent_request_on_a_stale_connection_is_retried_on_a_new_one(
    raw_server: StartRawServer,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    method: str,
) -> None:
    server = raw_server(KEEP_ALIVE_HELLO, drop_second=True)
    async with await after_one_request(server, network_backend) as pool:
        url = f"http://127.0.0.1:{server.port}/"
        response = await pool.request(method, url, content=b"body")
        assert response.status == 200
        assert server.connections == 2
        assert [c.info() for c in pool.connections] == [
            f"'http://127.0.0.1:{server.port}', HTTP/1.1, IDLE, Request Count: 1"
        ]


@pytest.mark.anyio
async def test_stale_connection_retries_follow_the_method_the_extension_and_the_body(
    raw_server: StartRawServer, network_backend: Optional[httpcore.AsyncNetworkBackend]
) -> None:
    attempts: List[Tuple[str, Dict[str, Any], bool]] = [
        ("POST", {"content": b"body"}, False),
        ("POST", {"content": b"b", "extensions": {"retry_on_stale_connection": True}}, True),
        ("GET", {"extensions": {"retry_on_stale_connection": False}}, False),
        ("PUT", {"content": body_once(), "headers": {"Content-Length": "4"}}, False),
    ]
    for method, kwargs, retried in attempts:
        server = raw_server(KEEP_ALIVE_HELLO, drop_second=True)
        async with await after_one_request(server, network_backend) as pool:
            url = f"http://127.0.0.1:{server.port}/"
            if retried:
                assert (await pool.request(method, url, **kwargs)).status == 200
                assert server.connections == 2
            else:
                # A streamed body may reach the closed socket and draw a reset.
                with pytest.raises((httpcore.RemoteProtocolError, httpcore.ReadError)):
                    await pool.request(method, url, **kwargs)
                assert server.connections == 1
                assert pool.connections == []


@pytest.mark.anyio
async def test_a_new_connection_that_fails_is_not_retried(
    raw_server: StartRawServer, network_backend: Optional[httpcore.AsyncNetworkBackend]
) -> None:
    server = raw_server(b"")
    async with make_pool(network_backend) as pool:
        with pytest.raises(httpcore.RemoteProtocolError):
            await pool.request("GET", f"http://127.0.0.1:{server.port}/")
        assert server.connections == 1


# --- tracing -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_trace_of_one_https_request(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> None:
    events: List[str] = []

    async def record(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    async with make_pool(network_backend, ssl_context) as pool:
        await pool.request("GET", nginx.url("/small.txt", tls=True), extensions={"trace": record})
    assert events == [
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
