"""``httpcore.ConnectionPool`` over HTTP/2 against real servers, from threads: nginx with h2
over TLS (ALPN) and h2c with prior knowledge, nginx listeners that allow only
``FEW_STREAMS`` streams per connection, and nghttpd (trailers). The async twin is
``test_integration_http2_async.py``; threads cannot be cancelled, so where the async tests
cancel half of the requests in flight, these let them time out.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import ssl
import threading
import uuid
from typing import Any, Callable, Iterator, List, Tuple, TypeVar

import pytest

import httpcore
from tools.servers.nghttpd import SMALL_BODY as NGHTTPD_SMALL_BODY
from tools.servers.nghttpd import TRAILERS as NGHTTPD_TRAILERS
from tools.servers.nghttpd import NghttpdServer
from tools.servers.nginx import FEW_STREAMS, LARGE_SIZE_BYTES, SMALL_BODY, NginxServer

SAFETY_TIMEOUT_S = 15.0
TINY_TIMEOUT_S = 0.2
CHUNK_BYTES = 1024 * 1024
CONCURRENT_REQUESTS = 200
HALF = 10
GATED_CHUNKS = 4
GATED_CHUNK_BYTES = 256 * 1024
# Every request carries these timeouts, so that a stall fails the test instead of hanging it.
GUARD = {"timeout": {"read": SAFETY_TIMEOUT_S, "write": SAFETY_TIMEOUT_S, "pool": SAFETY_TIMEOUT_S}}

T = TypeVar("T")


@dataclasses.dataclass
class H2Target:
    """One HTTP/2 listener and how a pool reaches it."""

    tls: bool
    port: int
    ssl_context: ssl.SSLContext

    def url(self, path: str) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def pool(self, **options: Any) -> httpcore.ConnectionPool:
        # TLS: HTTP/2 chosen by ALPN (HTTP/1.1 offered too); cleartext: prior knowledge.
        return httpcore.ConnectionPool(
            ssl_context=self.ssl_context,
            http1=self.tls,
            http2=True,
            **options,
        )

    def connection_repr(self, state: str, count: int) -> str:
        scheme = "https" if self.tls else "http"
        info = f"'{scheme}://127.0.0.1:{self.port}', HTTP/2, {state}, Request Count: {count}"
        return f"<HTTPConnection [{info}]>"


@pytest.fixture(params=["h2", "h2c"])
def target(request: pytest.FixtureRequest, nginx: NginxServer, ssl_context: ssl.SSLContext) -> H2Target:
    tls = request.param == "h2"
    return H2Target(tls, nginx.ports.h2 if tls else nginx.ports.h2c, ssl_context)


@pytest.fixture(params=["h2", "h2c"])
def few_streams_target(
    request: pytest.FixtureRequest, nginx: NginxServer, ssl_context: ssl.SSLContext
) -> H2Target:
    tls = request.param == "h2"
    return H2Target(tls, nginx.ports.h2_few if tls else nginx.ports.h2c_few, ssl_context)


@pytest.fixture(params=["h2", "h2c"])
def nghttpd_target(request: pytest.FixtureRequest, nghttpd: NghttpdServer) -> H2Target:
    tls = request.param == "h2"
    port = nghttpd.h2_port if tls else nghttpd.h2c_port
    return H2Target(tls, port, nghttpd.client_ssl_context())


POOL_IDLE = "<ConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>"


def http2_internals(connection: Any) -> Any:
    """The HTTP/2 connection inside a pool's connection (its private state is checked)."""
    inner = connection._connection
    assert type(inner).__name__ == "HTTP2Connection"
    return inner


def in_threads(count: int, function: Callable[[int], T]) -> List[T]:
    """``function(0) .. function(count - 1)``, each in its own thread; results in order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as executor:
        futures = [executor.submit(function, index) for index in range(count)]
        return [future.result(timeout=SAFETY_TIMEOUT_S * 4) for future in futures]


def stream_digest(pool: httpcore.ConnectionPool, url: str) -> Tuple[int, str, int]:
    """GET ``url`` chunk by chunk: (size, sha256, number of chunks)."""
    digest = hashlib.sha256()
    size = chunks = 0
    with pool.stream("GET", url, extensions=GUARD) as response:
        assert response.status == 200
        assert response.extensions["http_version"] == b"HTTP/2"
        for chunk in response.iter_stream():
            digest.update(chunk)
            size += len(chunk)
            chunks += 1
    return size, digest.hexdigest(), chunks


def large_upload(seed: int = 0) -> Iterator[bytes]:
    for index in range(LARGE_SIZE_BYTES // CHUNK_BYTES):
        yield bytes([(index + seed) % 251]) * CHUNK_BYTES


def large_upload_bytes(seed: int = 0) -> bytes:
    return b"".join(large_upload(seed))


def gated_chunk(seed: int, index: int) -> bytes:
    return bytes([(seed * GATED_CHUNKS + index) % 251]) * GATED_CHUNK_BYTES


# --- multiplexing --------------------------------------------------------------------------


def test_200_concurrent_requests_share_one_connection(target: H2Target) -> None:
    # One connection at most: nginx allows 128 streams per connection, so with a free hand
    # the pool could rightly open a second one for threads arriving once the first is full.
    with target.pool(max_connections=1) as pool:

        def fetch(_: int) -> Tuple[int, bytes, bytes]:
            response = pool.request("GET", target.url("/small.txt"), extensions=GUARD)
            return response.status, response.content, response.extensions["http_version"]

        results = in_threads(CONCURRENT_REQUESTS, fetch)
        assert [repr(c) for c in pool.connections] == [
            target.connection_repr("IDLE", CONCURRENT_REQUESTS)
        ]
        assert repr(pool) == POOL_IDLE
    assert results == [(200, SMALL_BODY, b"HTTP/2")] * CONCURRENT_REQUESTS


def test_tls_connection_negotiated_h2_by_alpn(nginx: NginxServer, ssl_context: ssl.SSLContext) -> None:
    target = H2Target(True, nginx.ports.h2, ssl_context)
    with target.pool() as pool:
        with pool.stream("GET", target.url("/small.txt"), extensions=GUARD) as response:
            ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
            assert ssl_object.selected_alpn_protocol() == "h2"
            assert response.extensions["stream_id"] == 1
            assert response.read() == SMALL_BODY


# --- large bodies --------------------------------------------------------------------------


def test_10mb_download_is_streamed(nginx: NginxServer, target: H2Target) -> None:
    with target.pool() as pool:
        size, sha256, chunks = stream_digest(pool, target.url("/large.bin"))
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 1)]
    assert (size, sha256) == (LARGE_SIZE_BYTES, nginx.large_sha256)
    assert chunks > 1


def test_concurrent_10mb_downloads_on_one_connection(nginx: NginxServer, target: H2Target) -> None:
    with target.pool(max_connections=1) as pool:
        digests = in_threads(4, lambda _: stream_digest(pool, target.url("/large.bin")))
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 4)]
    assert [(size, sha256) for size, sha256, _ in digests] == [
        (LARGE_SIZE_BYTES, nginx.large_sha256)
    ] * 4


def test_10mb_upload_from_an_iterator_is_stored(target: H2Target) -> None:
    url = target.url(f"/uploads/{uuid.uuid4().hex}.bin")
    with target.pool() as pool:
        assert pool.request("PUT", url, content=large_upload(), extensions=GUARD).status == 201
        size, sha256, _ = stream_digest(pool, url)
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 2)]
    assert (size, sha256) == (LARGE_SIZE_BYTES, hashlib.sha256(large_upload_bytes()).hexdigest())


def test_concurrent_10mb_uploads_on_one_connection(target: H2Target) -> None:
    # httpx2#1133: concurrent uploads on one connection must not stall each other.
    urls = [target.url(f"/uploads/{uuid.uuid4().hex}.bin") for _ in range(3)]
    with target.pool(max_connections=1) as pool:

        def upload(seed: int) -> int:
            content: Any = large_upload_bytes(seed) if seed % 2 else large_upload(seed)
            return pool.request("PUT", urls[seed], content=content, extensions=GUARD).status

        statuses = in_threads(3, upload)
        stored = [stream_digest(pool, url) for url in urls]
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 6)]
    assert statuses == [201] * 3
    assert [(size, sha256) for size, sha256, _ in stored] == [
        (LARGE_SIZE_BYTES, hashlib.sha256(large_upload_bytes(seed)).hexdigest())
        for seed in range(3)
    ]


# --- requests that give up -----------------------------------------------------------------


def test_half_of_the_requests_in_flight_timing_out_leaves_the_connection_usable(
    target: H2Target,
) -> None:
    # Half the requests wait for a response that never comes (/silent) and time out while
    # the other half are part way through their upload (their bodies wait after the first
    # chunk); then the uploads finish, and the connection takes more requests.
    urls = [target.url(f"/uploads/{uuid.uuid4().hex}.bin") for _ in range(HALF)]
    lock = threading.Lock()
    started = [0]
    all_started = threading.Event()
    go_on = threading.Event()

    def gated_upload(seed: int) -> Iterator[bytes]:
        yield gated_chunk(seed, 0)
        with lock:
            started[0] += 1
            if started[0] == HALF:
                all_started.set()
        assert go_on.wait(SAFETY_TIMEOUT_S)
        for index in range(1, GATED_CHUNKS):
            yield gated_chunk(seed, index)

    with target.pool() as pool:
        assert pool.request("GET", target.url("/small.txt"), extensions=GUARD).status == 200
        (connection,) = pool.connections

        def survivor(seed: int) -> int:
            content = gated_upload(seed)
            return pool.request("PUT", urls[seed], content=content, extensions=GUARD).status

        def doomed(_: int) -> str:
            timeouts = {"timeout": {"read": TINY_TIMEOUT_S}}
            try:
                pool.request("GET", target.url("/silent"), extensions=timeouts)
            except httpcore.ReadTimeout as exc:
                return type(exc).__name__
            return "answered"

        with concurrent.futures.ThreadPoolExecutor(max_workers=HALF) as survivors:
            futures = [survivors.submit(survivor, seed) for seed in range(HALF)]
            assert all_started.wait(SAFETY_TIMEOUT_S)
            assert in_threads(HALF, doomed) == ["ReadTimeout"] * HALF
            go_on.set()
            statuses = [future.result(timeout=SAFETY_TIMEOUT_S) for future in futures]
        assert statuses == [201] * HALF
        assert pool.connections == [connection]
        assert repr(pool) == POOL_IDLE
        # httpcore#1022: the count of open streams is right after the requests that gave up.
        inner = http2_internals(connection)
        assert inner._h2_state.open_outbound_streams == 0
        assert inner._slots.in_use == 0

        for seed, url in enumerate(urls):
            response = pool.request("GET", url, extensions=GUARD)
            assert response.content == b"".join(
                gated_chunk(seed, index) for index in range(GATED_CHUNKS)
            )
        assert pool.connections == [connection]
        assert "HTTP/2, IDLE" in repr(connection)
        assert repr(pool) == POOL_IDLE


# --- a server that allows few streams ------------------------------------------------------


def test_a_full_connection_makes_the_pool_open_another(few_streams_target: H2Target) -> None:
    target = few_streams_target
    with target.pool() as pool:
        # Responses kept open keep their streams: the connection is full after FEW_STREAMS
        # of them, so the next one needs a new connection.
        responses = []
        for _ in range(FEW_STREAMS + 1):
            request = httpcore.Request(
                "GET",
                target.url("/small.txt"),
                headers=[(b"Host", f"127.0.0.1:{target.port}".encode())],
                extensions=GUARD,
            )
            responses.append(pool.handle_request(request))
        assert [repr(c) for c in pool.connections] == [
            target.connection_repr("ACTIVE", FEW_STREAMS),
            target.connection_repr("ACTIVE", 1),
        ]
        for response in responses:
            assert response.read() == SMALL_BODY
            response.close()
        assert [repr(c) for c in pool.connections] == [
            target.connection_repr("IDLE", FEW_STREAMS),
            target.connection_repr("IDLE", 1),
        ]


def test_requests_beyond_the_stream_limit_queue_on_one_connection(
    few_streams_target: H2Target,
) -> None:
    target = few_streams_target
    count = 10 * FEW_STREAMS
    with target.pool(max_connections=1) as pool:

        def fetch(_: int) -> Tuple[int, bytes]:
            response = pool.request("GET", target.url("/small.txt"), extensions=GUARD)
            return response.status, response.content

        results = in_threads(count, fetch)
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", count)]
    assert results == [(200, SMALL_BODY)] * count


def test_concurrent_requests_spread_within_the_connection_limit(
    few_streams_target: H2Target,
) -> None:
    target = few_streams_target
    count = 10 * FEW_STREAMS
    with target.pool(max_connections=3) as pool:

        def fetch(_: int) -> Tuple[int, bytes]:
            response = pool.request("GET", target.url("/small.txt"), extensions=GUARD)
            return response.status, response.content

        results = in_threads(count, fetch)
        connections = pool.connections
        assert 1 <= len(connections) <= 3
        assert all("HTTP/2, IDLE" in repr(c) for c in connections)
        assert repr(pool).endswith(f"Connections: 0 active, {len(connections)} idle]>")
    assert results == [(200, SMALL_BODY)] * count


# --- PING liveness check (beyond 1.0.9) ------------------------------------------------------


def test_ping_before_reuse_keeps_the_connection(target: H2Target) -> None:
    # Every reuse is preceded by a PING (any idle time is long enough); nginx answers, so
    # the one connection serves everything.
    with target.pool(http2_ping_after_idle=0.0, max_connections=1) as pool:
        for _ in range(5):
            response = pool.request("GET", target.url("/small.txt"), extensions=GUARD)
            assert response.content == SMALL_BODY
        statuses = in_threads(
            20,
            lambda _: pool.request("GET", target.url("/small.txt"), extensions=GUARD).status,
        )
        assert statuses == [200] * 20
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 25)]
        assert http2_internals(pool.connections[0])._ping_count >= 4


# --- nghttpd: trailers -----------------------------------------------------------------------


def test_trailers_are_in_the_response_extensions(nghttpd_target: H2Target) -> None:
    target = nghttpd_target
    with target.pool() as pool:
        with pool.stream("GET", target.url("/small.txt"), extensions=GUARD) as response:
            assert response.status == 200
            assert "trailing_headers" not in response.extensions
            assert response.read() == NGHTTPD_SMALL_BODY
            assert response.extensions["trailing_headers"] == NGHTTPD_TRAILERS
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 1)]


def test_trailers_after_an_echoed_upload(nghttpd_target: H2Target) -> None:
    target = nghttpd_target
    with target.pool() as pool:
        response = pool.request(
            "PUT", target.url("/echo"), content=large_upload_bytes(7), extensions=GUARD
        )
    assert response.status == 200
    assert response.content == large_upload_bytes(7)
    assert response.extensions["trailing_headers"] == NGHTTPD_TRAILERS


def test_200_concurrent_requests_to_nghttpd_share_one_connection(
    nghttpd_target: H2Target,
) -> None:
    target = nghttpd_target
    with target.pool(max_connections=1) as pool:

        def fetch(_: int) -> Tuple[bytes, Any]:
            response = pool.request("GET", target.url("/small.txt"), extensions=GUARD)
            return response.content, response.extensions["trailing_headers"]

        results = in_threads(CONCURRENT_REQUESTS, fetch)
        assert [repr(c) for c in pool.connections] == [
            target.connection_repr("IDLE", CONCURRENT_REQUESTS)
        ]
    assert results == [(NGHTTPD_SMALL_BODY, NGHTTPD_TRAILERS)] * CONCURRENT_REQUESTS
