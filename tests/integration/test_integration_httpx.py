"""httpx 0.28.1 on top of this httpcore, with its default transports, against nginx.

httpx builds its ``HTTPTransport``/``AsyncHTTPTransport`` on ``httpcore.ConnectionPool``/
``AsyncConnectionPool`` and maps httpcore's exceptions to its own by type, so these tests
check the compatibility contract of API.md section 14 end to end: methods, bodies,
streaming, redirects, timeouts and the exception mapping.
"""

from __future__ import annotations

import hashlib
import ssl
import uuid
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Tuple

import anyio
import httpx
import pytest

from tools.servers.nginx import LARGE_SIZE_BYTES, SMALL_BODY, NginxServer
from tools.servers.raw import RawServer

SAFETY_TIMEOUT_S = 10.0
TINY_TIMEOUT_S = 0.05
CHUNK_BYTES = 1024 * 1024
UNREADABLE_UPLOAD_CHUNKS = 512
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

StartRawServer = Callable[[bytes], RawServer]


@pytest.fixture(params=[False, True], ids=["http", "https"])
def tls(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def upload_chunks() -> Iterator[bytes]:
    for index in range(LARGE_SIZE_BYTES // CHUNK_BYTES):
        yield bytes([index % 251]) * CHUNK_BYTES


async def async_upload_chunks() -> AsyncIterator[bytes]:
    for chunk in upload_chunks():
        yield chunk


def upload_sha256() -> str:
    digest = hashlib.sha256()
    for chunk in upload_chunks():
        digest.update(chunk)
    return digest.hexdigest()


def never_read_upload() -> Iterator[bytes]:
    for _ in range(UNREADABLE_UPLOAD_CHUNKS):
        yield b"x" * CHUNK_BYTES


# --- sync client -------------------------------------------------------------------------


def test_get(nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool) -> None:
    with httpx.Client(verify=ssl_context) as client:
        response = client.get(nginx.url("/small.txt", tls=tls))
    assert response.status_code == 200
    assert response.content == SMALL_BODY
    assert response.http_version == "HTTP/1.1"
    assert response.reason_phrase == "OK"
    assert response.headers["content-type"] == "text/plain"
    # httpx keeps the raw header case httpcore reports.
    assert (b"Content-Length", str(len(SMALL_BODY)).encode()) in response.headers.raw


@pytest.mark.parametrize("method", METHODS)
def test_methods(nginx: NginxServer, ssl_context: ssl.SSLContext, method: str) -> None:
    with httpx.Client(verify=ssl_context) as client:
        content = None if method == "GET" else b"some body"
        response = client.request(method, nginx.url("/method", tls=True), content=content)
    assert (response.status_code, response.text) == (200, method + "\n")


def test_head(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    with httpx.Client(verify=ssl_context) as client:
        response = client.head(nginx.url("/large.bin"))
        assert response.headers["content-length"] == str(LARGE_SIZE_BYTES)
        assert response.content == b""
        assert client.get(nginx.url("/small.txt")).content == SMALL_BODY


def test_keep_alive_reuses_the_network_stream(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    with httpx.Client(verify=ssl_context) as client:
        first = client.get(nginx.url("/small.txt", tls=tls))
        second = client.get(nginx.url("/chunked/small.txt", tls=tls))
    assert first.extensions["network_stream"] is second.extensions["network_stream"]
    assert second.headers["transfer-encoding"] == "chunked"
    assert second.content == SMALL_BODY


def test_post_form_and_json(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    with httpx.Client(verify=ssl_context) as client:
        assert client.post(nginx.url("/method"), data={"a": "1"}).text == "POST\n"
        assert client.post(nginx.url("/method"), json={"a": [1, 2]}).text == "POST\n"


@pytest.mark.parametrize(
    "path", ["/large.bin", "/chunked/large.bin"], ids=["content-length", "chunked"]
)
def test_streaming_download(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool, path: str
) -> None:
    digest = hashlib.sha256()
    size = 0
    with httpx.Client(verify=ssl_context) as client:
        with client.stream("GET", nginx.url(path, tls=tls)) as response:
            for chunk in response.iter_bytes():
                digest.update(chunk)
                size += len(chunk)
    assert (size, digest.hexdigest()) == (LARGE_SIZE_BYTES, nginx.large_sha256)


def test_upload_from_a_generator(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    url = nginx.url(f"/uploads/{uuid.uuid4().hex}.bin", tls=tls)
    with httpx.Client(verify=ssl_context) as client:
        assert client.put(url, content=upload_chunks()).status_code == 201
        response = client.get(url)
    assert len(response.content) == LARGE_SIZE_BYTES
    assert hashlib.sha256(response.content).hexdigest() == upload_sha256()


@pytest.mark.parametrize(
    ("method", "path", "final_method"),
    [
        ("GET", "/redirect/301", "GET"),
        ("GET", "/redirect/302", "GET"),
        ("POST", "/redirect/303", "GET"),
        ("POST", "/redirect/307", "POST"),
        ("POST", "/redirect/308", "POST"),
        ("GET", "/redirect/chain", "GET"),
    ],
)
def test_follow_redirects(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    tls: bool,
    method: str,
    path: str,
    final_method: str,
) -> None:
    with httpx.Client(verify=ssl_context, follow_redirects=True) as client:
        content = b"payload" if method == "POST" else None
        response = client.request(method, nginx.url(path, tls=tls), content=content)
    assert response.status_code == 200
    assert response.text == final_method + "\n"
    assert str(response.url) == nginx.url("/method", tls=tls)
    assert [r.status_code for r in response.history] == (
        [302, 301] if path == "/redirect/chain" else [int(path.rsplit("/", 1)[1])]
    )


def test_redirect_not_followed_by_default(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    with httpx.Client(verify=ssl_context) as client:
        response = client.get(nginx.url("/redirect/302"))
    assert response.status_code == 302
    assert response.next_request is not None
    assert str(response.next_request.url) == nginx.url("/method")


def test_trace_extension_passes_through(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    events: List[str] = []

    def record(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    with httpx.Client(verify=ssl_context) as client:
        client.get(nginx.url("/small.txt", tls=True), extensions={"trace": record})
    assert events[:4] == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "connection.start_tls.started",
        "connection.start_tls.complete",
    ]
    assert events[-1] == "http11.response_closed.complete"


def test_top_level_get(nginx: NginxServer) -> None:
    assert httpx.get(nginx.url("/small.txt")).content == SMALL_BODY


# --- sync: exceptions as httpx maps them --------------------------------------------------


def test_connect_error_on_a_closed_port(closed_port: int) -> None:
    with httpx.Client() as client:
        with pytest.raises(httpx.ConnectError):
            client.get(f"http://127.0.0.1:{closed_port}/")


def test_unknown_ca_is_connect_error(nginx: NginxServer) -> None:
    with httpx.Client() as client:
        with pytest.raises(httpx.ConnectError):
            client.get(nginx.url("/small.txt", tls=True))


def test_read_timeout(nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool) -> None:
    with httpx.Client(
        verify=ssl_context, timeout=httpx.Timeout(SAFETY_TIMEOUT_S, read=TINY_TIMEOUT_S)
    ) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(nginx.url("/silent", tls=tls))
        with client.stream("GET", nginx.url("/slow/large.bin", tls=tls)) as response:
            with pytest.raises(httpx.ReadTimeout):
                for _ in response.iter_bytes():
                    pass
        assert client.get(nginx.url("/small.txt", tls=tls)).content == SMALL_BODY


def test_write_timeout(silent_port: int) -> None:
    with httpx.Client(timeout=httpx.Timeout(SAFETY_TIMEOUT_S, write=TINY_TIMEOUT_S)) as client:
        with pytest.raises(httpx.WriteTimeout):
            client.put(f"http://127.0.0.1:{silent_port}/", content=never_read_upload())


def test_connect_timeout(silent_port: int, ssl_context: ssl.SSLContext) -> None:
    timeout = httpx.Timeout(SAFETY_TIMEOUT_S, connect=TINY_TIMEOUT_S)
    with httpx.Client(verify=ssl_context, timeout=timeout) as client:
        with pytest.raises(httpx.ConnectTimeout):
            client.get(f"https://127.0.0.1:{silent_port}/")


def test_pool_timeout(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    timeout = httpx.Timeout(SAFETY_TIMEOUT_S, pool=TINY_TIMEOUT_S)
    limits = httpx.Limits(max_connections=1)
    with httpx.Client(verify=ssl_context, timeout=timeout, limits=limits) as client:
        with client.stream("GET", nginx.url("/small.txt")) as held:
            with pytest.raises(httpx.PoolTimeout):
                client.get(nginx.url("/small.txt"))
            assert held.read() == SMALL_BODY
        assert client.get(nginx.url("/small.txt")).content == SMALL_BODY


def test_garbage_is_remote_protocol_error(raw_server: StartRawServer) -> None:
    server = raw_server(b"this is not HTTP\r\n\r\n")
    with httpx.Client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"http://127.0.0.1:{server.port}/")


def test_disconnect_is_remote_protocol_error(raw_server: StartRawServer) -> None:
    server = raw_server(b"")
    with httpx.Client() as client:
        with pytest.raises(
            httpx.RemoteProtocolError, match="Server disconnected without sending a response."
        ):
            client.get(f"http://127.0.0.1:{server.port}/")


def test_invalid_header_value_is_local_protocol_error(nginx: NginxServer) -> None:
    with httpx.Client() as client:
        with pytest.raises(httpx.LocalProtocolError):
            client.get(nginx.url("/small.txt"), headers={"X-Bad": "a\x00b"})


# --- async client ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_get(nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool) -> None:
    async with httpx.AsyncClient(verify=ssl_context) as client:
        response = await client.get(nginx.url("/small.txt", tls=tls))
        again = await client.get(nginx.url("/small.txt", tls=tls))
    assert (response.status_code, response.content) == (200, SMALL_BODY)
    assert response.http_version == "HTTP/1.1"
    assert response.extensions["network_stream"] is again.extensions["network_stream"]


@pytest.mark.anyio
@pytest.mark.parametrize("method", METHODS)
async def test_async_methods(nginx: NginxServer, ssl_context: ssl.SSLContext, method: str) -> None:
    async with httpx.AsyncClient(verify=ssl_context) as client:
        content = None if method == "GET" else b"some body"
        response = await client.request(method, nginx.url("/method", tls=True), content=content)
    assert (response.status_code, response.text) == (200, method + "\n")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path", ["/large.bin", "/chunked/large.bin"], ids=["content-length", "chunked"]
)
async def test_async_streaming_download(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool, path: str
) -> None:
    digest = hashlib.sha256()
    size = 0
    async with httpx.AsyncClient(verify=ssl_context) as client:
        async with client.stream("GET", nginx.url(path, tls=tls)) as response:
            async for chunk in response.aiter_bytes():
                digest.update(chunk)
                size += len(chunk)
    assert (size, digest.hexdigest()) == (LARGE_SIZE_BYTES, nginx.large_sha256)


@pytest.mark.anyio
async def test_async_upload_from_an_async_generator(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    url = nginx.url(f"/uploads/{uuid.uuid4().hex}.bin", tls=tls)
    async with httpx.AsyncClient(verify=ssl_context) as client:
        assert (await client.put(url, content=async_upload_chunks())).status_code == 201
        response = await client.get(url)
    assert hashlib.sha256(response.content).hexdigest() == upload_sha256()


@pytest.mark.anyio
async def test_async_follow_redirects(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    async with httpx.AsyncClient(verify=ssl_context, follow_redirects=True) as client:
        response = await client.post(nginx.url("/redirect/307", tls=True), content=b"payload")
    assert (response.status_code, response.text) == (200, "POST\n")
    assert [r.status_code for r in response.history] == [307]


@pytest.mark.anyio
async def test_async_concurrent_requests(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    results: Dict[int, Tuple[int, bytes]] = {}
    limits = httpx.Limits(max_connections=10)
    async with httpx.AsyncClient(verify=ssl_context, limits=limits) as client:

        async def fetch(index: int) -> None:
            response = await client.get(nginx.url("/chunked/small.txt", tls=tls))
            results[index] = (response.status_code, response.content)

        with anyio.fail_after(SAFETY_TIMEOUT_S * 3):
            async with anyio.create_task_group() as tasks:
                for index in range(60):
                    tasks.start_soon(fetch, index)
    assert sorted(results.items()) == [(index, (200, SMALL_BODY)) for index in range(60)]


@pytest.mark.anyio
async def test_async_exception_mapping(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    closed_port: int,
    silent_port: int,
    raw_server: StartRawServer,
) -> None:
    garbage = raw_server(b"this is not HTTP\r\n\r\n")
    timeout = httpx.Timeout(SAFETY_TIMEOUT_S, read=TINY_TIMEOUT_S, connect=TINY_TIMEOUT_S)
    async with httpx.AsyncClient(verify=ssl_context, timeout=timeout) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{closed_port}/")
        with pytest.raises(httpx.ConnectTimeout):
            await client.get(f"https://127.0.0.1:{silent_port}/")
        with pytest.raises(httpx.ReadTimeout):
            await client.get(nginx.url("/silent"))
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(f"http://127.0.0.1:{garbage.port}/")
        assert (await client.get(nginx.url("/small.txt"))).content == SMALL_BODY


@pytest.mark.anyio
async def test_async_pool_timeout(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    timeout = httpx.Timeout(SAFETY_TIMEOUT_S, pool=TINY_TIMEOUT_S)
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(verify=ssl_context, timeout=timeout, limits=limits) as client:
        async with client.stream("GET", nginx.url("/small.txt")) as held:
            with pytest.raises(httpx.PoolTimeout):
                await client.get(nginx.url("/small.txt"))
            assert await held.aread() == SMALL_BODY


@pytest.mark.anyio
async def test_async_connection_close_responses(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    port = nginx.ports.close_https if tls else nginx.ports.close_http
    async with httpx.AsyncClient(verify=ssl_context) as client:
        for _ in range(2):
            response = await client.get(nginx.url("/small.txt", port=port, tls=tls))
            assert response.headers["connection"] == "close"
            assert response.content == SMALL_BODY
