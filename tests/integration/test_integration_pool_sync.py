"""``httpcore.ConnectionPool`` against a real nginx (HTTP and HTTPS) and raw loopback peers.

Timeouts are provoked by peers that never answer (nginx proxying to a socket nobody
accepts on, a rate-limited body, a listening socket that is never read), so the tests
assert only exception types, never durations.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import select
import ssl
import uuid
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

import httpcore
from tools.servers.nginx import LARGE_SIZE_BYTES, SMALL_BODY, NginxServer
from tools.servers.raw import RawServer

SAFETY_TIMEOUT_S = 10.0
TINY_TIMEOUT_S = 0.05
CHUNK_BYTES = 1024 * 1024
# Far more than the loopback socket buffers hold, so a peer that never reads blocks the writer.
UNREADABLE_UPLOAD_CHUNKS = 512

StartRawServer = Callable[..., RawServer]


@pytest.fixture(params=[False, True], ids=["http", "https"])
def tls(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def scheme(tls: bool) -> str:
    return "https" if tls else "http"


def connection_repr(tls: bool, port: int, state: str, count: int) -> str:
    info = f"'{scheme(tls)}://127.0.0.1:{port}', HTTP/1.1, {state}, Request Count: {count}"
    return f"<HTTPConnection [{info}]>"


def stream_digest(pool: httpcore.ConnectionPool, url: str) -> Tuple[int, str, int, int]:
    """GET ``url`` chunk by chunk: (size, sha256, number of chunks, largest chunk)."""
    digest = hashlib.sha256()
    size = chunks = largest = 0
    with pool.stream("GET", url) as response:
        assert response.status == 200
        for chunk in response.iter_stream():
            digest.update(chunk)
            size += len(chunk)
            chunks += 1
            largest = max(largest, len(chunk))
    return size, digest.hexdigest(), chunks, largest


def large_upload() -> Iterator[bytes]:
    """``LARGE_SIZE_BYTES`` in 1 MiB chunks whose bytes differ from chunk to chunk."""
    for index in range(LARGE_SIZE_BYTES // CHUNK_BYTES):
        yield bytes([index % 251]) * CHUNK_BYTES


def large_upload_sha256() -> str:
    digest = hashlib.sha256()
    for chunk in large_upload():
        digest.update(chunk)
    return digest.hexdigest()


def never_read_upload() -> Iterator[bytes]:
    for _ in range(UNREADABLE_UPLOAD_CHUNKS):
        yield b"x" * CHUNK_BYTES


def header(response: httpcore.Response, name: bytes) -> List[bytes]:
    return [value for key, value in response.headers if key.lower() == name.lower()]


# --- plain requests ----------------------------------------------------------------------


def test_get_small_file(nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        response = pool.request("GET", nginx.url("/small.txt", tls=tls))
    assert response.status == 200
    assert response.content == SMALL_BODY
    assert response.extensions["http_version"] == b"HTTP/1.1"
    assert response.extensions["reason_phrase"] == b"OK"
    # Header names keep the case nginx sent.
    assert (b"Content-Length", str(len(SMALL_BODY)).encode()) in response.headers


def test_tls_session_is_verified_tls13(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        with pool.stream("GET", nginx.url("/small.txt", tls=True)) as response:
            ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
            assert ssl_object.version() == "TLSv1.3"
            assert ssl_object.selected_alpn_protocol() == "http/1.1"
            response.read()


def test_https_with_the_default_context_rejects_an_unknown_ca(nginx: NginxServer) -> None:
    with httpcore.ConnectionPool() as pool:
        with pytest.raises(httpcore.ConnectError):
            pool.request("GET", nginx.url("/small.txt", tls=True))


def test_keep_alive_reuses_one_connection(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    url = nginx.url("/small.txt", tls=tls)
    port = nginx.ports.https if tls else nginx.ports.http
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        assert pool.request("GET", url).content == SMALL_BODY
        assert pool.request("GET", url).content == SMALL_BODY
        assert [repr(c) for c in pool.connections] == [connection_repr(tls, port, "IDLE", 2)]
        assert (
            repr(pool)
            == "<ConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>"
        )


def test_pool_repr_while_a_response_is_open(
    nginx: NginxServer, ssl_context: ssl.SSLContext
) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        with pool.stream("GET", nginx.url("/small.txt")) as response:
            assert (
                repr(pool)
                == "<ConnectionPool [Requests: 1 active, 0 queued | Connections: 1 active, 0 idle]>"
            )
            assert [repr(c) for c in pool.connections] == [
                connection_repr(False, nginx.ports.http, "ACTIVE", 1)
            ]
            response.read()


def test_chunked_response_body(nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        response = pool.request("GET", nginx.url("/chunked/small.txt", tls=tls))
        again = pool.request("GET", nginx.url("/chunked/small.txt", tls=tls))
        assert len(pool.connections) == 1
    assert header(response, b"Transfer-Encoding") == [b"chunked"]
    assert header(response, b"Content-Length") == []
    assert response.content == again.content == SMALL_BODY


@pytest.mark.parametrize(
    "path", ["/large.bin", "/chunked/large.bin"], ids=["content-length", "chunked"]
)
def test_large_body_streamed_chunk_by_chunk(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool, path: str
) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        size, sha256, chunks, largest = stream_digest(pool, nginx.url(path, tls=tls))
        # Fully read: the connection went back to the pool.
        assert [c.is_idle() for c in pool.connections] == [True]
    assert (size, sha256) == (LARGE_SIZE_BYTES, nginx.large_sha256)
    assert chunks > 1
    assert largest < LARGE_SIZE_BYTES


def test_head_has_no_body_and_keeps_the_connection(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    port = nginx.ports.https if tls else nginx.ports.http
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        response = pool.request("HEAD", nginx.url("/large.bin", tls=tls))
        assert header(response, b"Content-Length") == [str(LARGE_SIZE_BYTES).encode()]
        assert response.content == b""
        assert pool.request("GET", nginx.url("/small.txt", tls=tls)).content == SMALL_BODY
        assert [repr(c) for c in pool.connections] == [connection_repr(tls, port, "IDLE", 2)]


@pytest.mark.parametrize("status", [204, 404, 500])
def test_status_codes_keep_the_connection(
    nginx: NginxServer, ssl_context: ssl.SSLContext, status: int
) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        assert pool.request("GET", nginx.url(f"/status/{status}")).status == status
        assert pool.request("GET", nginx.url("/small.txt")).status == 200
        assert len(pool.connections) == 1


def test_redirect_is_returned_not_followed(
    nginx: NginxServer, ssl_context: ssl.SSLContext
) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        response = pool.request("GET", nginx.url("/redirect/301"))
    assert response.status == 301
    assert header(response, b"Location") == [nginx.url("/method").encode()]


def test_request_headers_reach_the_server(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        response = pool.request(
            "GET", nginx.url("/header/x-probe"), headers={"X-Probe": "probe-42"}
        )
    assert response.content == b"probe-42"


def test_unread_streamed_response_closes_its_connection(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        with pool.stream("GET", nginx.url("/large.bin", tls=tls)) as response:
            assert response.status == 200
        assert pool.connections == []
        assert pool.request("GET", nginx.url("/small.txt", tls=tls)).content == SMALL_BODY


# --- uploads -----------------------------------------------------------------------------


def test_post_bytes(nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        response = pool.request("POST", nginx.url("/method", tls=tls), content=b"x" * 100_000)
    assert (response.status, response.content) == (200, b"POST\n")


def test_put_bytes_is_stored(nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool) -> None:
    url = nginx.url(f"/uploads/{uuid.uuid4().hex}.bin", tls=tls)
    body = bytes(range(256)) * 4096
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        assert pool.request("PUT", url, content=body).status == 201
        assert pool.request("GET", url).content == body
        assert len(pool.connections) == 1


def test_put_from_an_iterator_is_stored(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    url = nginx.url(f"/uploads/{uuid.uuid4().hex}.bin", tls=tls)
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        assert pool.request("PUT", url, content=large_upload()).status == 201
        size, sha256, _, _ = stream_digest(pool, url)
        assert len(pool.connections) == 1
    assert (size, sha256) == (LARGE_SIZE_BYTES, large_upload_sha256())


def test_put_replaces_an_upload(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    url = nginx.url(f"/uploads/{uuid.uuid4().hex}.txt")
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        assert pool.request("PUT", url, content=iter([b"first"])).status == 201
        assert pool.request("PUT", url, content=iter([b"sec", b"ond"])).status == 204
        assert pool.request("GET", url).content == b"second"


# --- connection life cycle -------------------------------------------------------------


def test_connection_close_response_drops_the_connection(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    port = nginx.ports.close_https if tls else nginx.ports.close_http
    url = nginx.url("/small.txt", port=port, tls=tls)
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        response = pool.request("GET", url)
        assert header(response, b"Connection") == [b"close"]
        assert pool.connections == []
        assert pool.request("GET", url).content == SMALL_BODY
        assert pool.connections == []


def test_idle_connection_closed_by_the_server_is_replaced(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    port = nginx.ports.idle_close_https if tls else nginx.ports.idle_close_http
    url = nginx.url("/small.txt", port=port, tls=tls)
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        first = pool.request("GET", url)
        assert header(first, b"Connection") == [b"keep-alive"]
        assert [c.is_idle() for c in pool.connections] == [True]
        # Wait (bounded) for nginx's keepalive_timeout to close the idle socket.
        sock = first.extensions["network_stream"].get_extra_info("socket")
        readable, _, _ = select.select([sock], [], [], SAFETY_TIMEOUT_S)
        assert readable, "nginx did not close the idle connection"
        assert pool.request("GET", url).content == SMALL_BODY
        assert [repr(c) for c in pool.connections] == [connection_repr(tls, port, "IDLE", 1)]


def test_pool_close_closes_idle_connections(
    nginx: NginxServer, ssl_context: ssl.SSLContext
) -> None:
    pool = httpcore.ConnectionPool(ssl_context=ssl_context)
    pool.request("GET", nginx.url("/small.txt"))
    connection = pool.connections[0]
    pool.close()
    assert pool.connections == []
    assert connection.is_closed()
    # The pool stays usable.
    assert pool.request("GET", nginx.url("/small.txt")).status == 200
    pool.close()


def test_concurrent_requests_through_ten_connections(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    paths = ["/small.txt", "/chunked/small.txt", "/method"] * 20

    with httpcore.ConnectionPool(ssl_context=ssl_context, max_connections=10) as pool:

        def fetch(path: str) -> Tuple[int, bytes]:
            response = pool.request("GET", nginx.url(path, tls=tls))
            return response.status, response.content

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(paths)) as executor:
            results = list(executor.map(fetch, paths))
        assert 1 <= len(pool.connections) <= 10
        assert all(c.is_idle() for c in pool.connections)
        assert sum(
            int(repr(c).split("Request Count: ")[1].rstrip("]>")) for c in pool.connections
        ) == len(paths)

    expected = {"/small.txt": SMALL_BODY, "/chunked/small.txt": SMALL_BODY, "/method": b"GET\n"}
    assert results == [(200, expected[path]) for path in paths]


# --- timeouts and errors -----------------------------------------------------------------


def test_read_timeout_waiting_for_the_response(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        with pytest.raises(httpcore.ReadTimeout):
            pool.request(
                "GET",
                nginx.url("/silent", tls=tls),
                extensions={"timeout": {"read": TINY_TIMEOUT_S}},
            )
        assert pool.connections == []
        assert pool.request("GET", nginx.url("/small.txt", tls=tls)).status == 200


def test_read_timeout_in_the_middle_of_the_body(
    nginx: NginxServer, ssl_context: ssl.SSLContext, tls: bool
) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        extensions = {"timeout": {"read": TINY_TIMEOUT_S}}
        with pool.stream(
            "GET", nginx.url("/slow/large.bin", tls=tls), extensions=extensions
        ) as response:
            assert response.status == 200
            with pytest.raises(httpcore.ReadTimeout):
                for _ in response.iter_stream():
                    pass
        assert pool.connections == []


def test_write_timeout_when_the_server_never_reads(silent_port: int) -> None:
    with httpcore.ConnectionPool() as pool:
        with pytest.raises(httpcore.WriteTimeout):
            pool.request(
                "PUT",
                f"http://127.0.0.1:{silent_port}/",
                content=never_read_upload(),
                extensions={"timeout": {"write": TINY_TIMEOUT_S}},
            )
        assert pool.connections == []


def test_connect_timeout_when_the_tls_handshake_never_completes(
    silent_port: int, ssl_context: ssl.SSLContext
) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        with pytest.raises(httpcore.ConnectTimeout):
            pool.request(
                "GET",
                f"https://127.0.0.1:{silent_port}/",
                extensions={"timeout": {"connect": TINY_TIMEOUT_S}},
            )
        assert pool.connections == []


def test_connect_error_on_a_closed_port(closed_port: int) -> None:
    with httpcore.ConnectionPool() as pool:
        with pytest.raises(httpcore.ConnectError):
            pool.request("GET", f"http://127.0.0.1:{closed_port}/")
        assert pool.connections == []


def test_retries_end_with_the_connect_error(closed_port: int) -> None:
    trace: List[str] = []

    def record(name: str, info: Dict[str, Any]) -> None:
        trace.append(name)

    with httpcore.ConnectionPool(retries=1) as pool:
        with pytest.raises(httpcore.ConnectError):
            pool.request("GET", f"http://127.0.0.1:{closed_port}/", extensions={"trace": record})
    assert trace.count("connection.connect_tcp.failed") == 2
    assert trace.count("connection.retry.started") == 1


def test_pool_timeout_while_the_only_connection_is_busy(
    nginx: NginxServer, ssl_context: ssl.SSLContext
) -> None:
    with httpcore.ConnectionPool(ssl_context=ssl_context, max_connections=1) as pool:
        with pool.stream("GET", nginx.url("/small.txt")) as held:
            with pytest.raises(httpcore.PoolTimeout):
                pool.request(
                    "GET",
                    nginx.url("/small.txt"),
                    extensions={"timeout": {"pool": TINY_TIMEOUT_S}},
                )
            assert held.read() == SMALL_BODY
        assert pool.request("GET", nginx.url("/small.txt")).content == SMALL_BODY


def test_garbage_from_the_server_is_remote_protocol_error(raw_server: StartRawServer) -> None:
    server = raw_server(b"this is not HTTP\r\n\r\n")
    with httpcore.ConnectionPool() as pool:
        with pytest.raises(httpcore.RemoteProtocolError):
            pool.request("GET", f"http://127.0.0.1:{server.port}/")
        assert pool.connections == []


def test_server_closing_without_a_response_is_remote_protocol_error(
    raw_server: StartRawServer,
) -> None:
    server = raw_server(b"")
    with httpcore.ConnectionPool() as pool:
        with pytest.raises(
            httpcore.RemoteProtocolError, match="Server disconnected without sending a response."
        ):
            pool.request("GET", f"http://127.0.0.1:{server.port}/")


def test_truncated_body_is_remote_protocol_error(raw_server: StartRawServer) -> None:
    server = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello")
    with httpcore.ConnectionPool() as pool:
        with pytest.raises(httpcore.RemoteProtocolError):
            pool.request("GET", f"http://127.0.0.1:{server.port}/")


# --- stale keep-alive connections (beyond 1.0.9: see httpcore._core._stale) ---------------

KEEP_ALIVE_HELLO = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHello"


def reuse_a_stale_connection(
    server: RawServer, method: str, **kwargs: Any
) -> Tuple[httpcore.ConnectionPool, Callable[[], httpcore.Response]]:
    """A pool holding one idle connection the server will drop when it is next used."""
    pool = httpcore.ConnectionPool()
    url = f"http://127.0.0.1:{server.port}/"
    assert pool.request("GET", url).content == b"Hello"
    assert len(pool.connections) == 1
    return pool, lambda: pool.request(method, url, **kwargs)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
def test_idempotent_request_on_a_stale_connection_is_retried_on_a_new_one(
    raw_server: StartRawServer, method: str
) -> None:
    server = raw_server(KEEP_ALIVE_HELLO, drop_second=True)
    pool, again = reuse_a_stale_connection(server, method, content=b"body")
    with pool:
        response = again()
        assert response.status == 200
        assert server.connections == 2
        assert [c.info() for c in pool.connections] == [
            f"'http://127.0.0.1:{server.port}', HTTP/1.1, IDLE, Request Count: 1"
        ]


def test_post_on_a_stale_connection_is_not_retried(raw_server: StartRawServer) -> None:
    server = raw_server(KEEP_ALIVE_HELLO, drop_second=True)
    pool, again = reuse_a_stale_connection(server, "POST", content=b"body")
    with pool:
        with pytest.raises(
            httpcore.RemoteProtocolError, match="Server disconnected without sending a response."
        ):
            again()
        assert server.connections == 1
        assert pool.connections == []


def test_the_extension_marks_a_post_as_safe_to_retry(raw_server: StartRawServer) -> None:
    server = raw_server(KEEP_ALIVE_HELLO, drop_second=True)
    extensions = {"retry_on_stale_connection": True}
    pool, again = reuse_a_stale_connection(server, "POST", content=b"b", extensions=extensions)
    with pool:
        assert again().status == 200
        assert server.connections == 2


def test_the_extension_turns_retries_off(raw_server: StartRawServer) -> None:
    server = raw_server(KEEP_ALIVE_HELLO, drop_second=True)
    extensions = {"retry_on_stale_connection": False}
    pool, again = reuse_a_stale_connection(server, "GET", extensions=extensions)
    with pool:
        with pytest.raises(httpcore.RemoteProtocolError):
            again()
        assert server.connections == 1


def test_a_body_from_an_iterator_is_not_sent_twice(raw_server: StartRawServer) -> None:
    server = raw_server(KEEP_ALIVE_HELLO, drop_second=True)
    pool, again = reuse_a_stale_connection(
        server, "PUT", content=iter([b"once"]), headers={"Content-Length": "4"}
    )
    with pool:
        # The body may reach the closed socket and draw a reset.
        with pytest.raises((httpcore.RemoteProtocolError, httpcore.ReadError)):
            again()
        assert server.connections == 1


def test_a_new_connection_that_fails_is_not_retried(raw_server: StartRawServer) -> None:
    server = raw_server(b"")
    with httpcore.ConnectionPool() as pool:
        with pytest.raises(httpcore.RemoteProtocolError):
            pool.request("GET", f"http://127.0.0.1:{server.port}/")
        assert server.connections == 1


# --- tracing and the top-level helpers ---------------------------------------------------


def test_trace_of_one_https_request(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    events: List[str] = []

    def record(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    with httpcore.ConnectionPool(ssl_context=ssl_context) as pool:
        pool.request("GET", nginx.url("/small.txt", tls=True), extensions={"trace": record})
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


def test_top_level_request(nginx: NginxServer) -> None:
    response = httpcore.request("GET", nginx.url("/small.txt"))
    assert (response.status, response.content) == (200, SMALL_BODY)


def test_top_level_stream(nginx: NginxServer) -> None:
    with httpcore.stream("GET", nginx.url("/chunked/small.txt")) as response:
        assert b"".join(response.iter_stream()) == SMALL_BODY
