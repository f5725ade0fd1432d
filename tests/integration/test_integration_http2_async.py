"""``httpcore.AsyncConnectionPool`` over HTTP/2 against real servers: nginx with h2 over TLS
(ALPN) and h2c with prior knowledge, nginx listeners that allow only ``FEW_STREAMS``
streams per connection, and nghttpd (trailers).

Every test runs on each async library with each backend that works there (the default
backend: native asyncio under asyncio, trio's under trio; ``AnyIOBackend`` on both;
``TrioBackend`` on trio), and on both nginx listeners where it applies. The sync twin of
this file is ``test_integration_http2_sync.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ssl
import uuid
from typing import Any, AsyncIterator, List, Optional, Tuple

import anyio
import pytest
from anyio import wait_all_tasks_blocked

import httpcore
from tools.servers.nghttpd import SMALL_BODY as NGHTTPD_SMALL_BODY
from tools.servers.nghttpd import TRAILERS as NGHTTPD_TRAILERS
from tools.servers.nghttpd import NghttpdServer
from tools.servers.nginx import FEW_STREAMS, LARGE_SIZE_BYTES, SMALL_BODY, NginxServer

SAFETY_TIMEOUT_S = 15.0
POLL_S = 0.01
CHUNK_BYTES = 1024 * 1024
CONCURRENT_REQUESTS = 200
HALF = 10
GATED_CHUNKS = 4
GATED_CHUNK_BYTES = 256 * 1024

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


@dataclasses.dataclass
class H2Target:
    """One HTTP/2 listener and how a pool reaches it."""

    tls: bool
    port: int
    ssl_context: ssl.SSLContext
    backend: Optional[httpcore.AsyncNetworkBackend]

    def url(self, path: str) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def pool(self, **options: Any) -> httpcore.AsyncConnectionPool:
        # TLS: HTTP/2 chosen by ALPN (HTTP/1.1 offered too); cleartext: prior knowledge.
        return httpcore.AsyncConnectionPool(
            ssl_context=self.ssl_context,
            network_backend=self.backend,
            http1=self.tls,
            http2=True,
            **options,
        )

    def connection_repr(self, state: str, count: int) -> str:
        scheme = "https" if self.tls else "http"
        info = f"'{scheme}://127.0.0.1:{self.port}', HTTP/2, {state}, Request Count: {count}"
        return f"<AsyncHTTPConnection [{info}]>"


@pytest.fixture(params=["h2", "h2c"])
def target(
    request: pytest.FixtureRequest,
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> H2Target:
    tls = request.param == "h2"
    port = nginx.ports.h2 if tls else nginx.ports.h2c
    return H2Target(tls, port, ssl_context, network_backend)


@pytest.fixture(params=["h2", "h2c"])
def few_streams_target(
    request: pytest.FixtureRequest,
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> H2Target:
    tls = request.param == "h2"
    port = nginx.ports.h2_few if tls else nginx.ports.h2c_few
    return H2Target(tls, port, ssl_context, network_backend)


@pytest.fixture(params=["h2", "h2c"])
def nghttpd_target(
    request: pytest.FixtureRequest,
    nghttpd: NghttpdServer,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> H2Target:
    tls = request.param == "h2"
    port = nghttpd.h2_port if tls else nghttpd.h2c_port
    return H2Target(tls, port, nghttpd.client_ssl_context(), network_backend)


POOL_IDLE = "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, 1 idle]>"


def http2_internals(connection: Any) -> Any:
    """The HTTP/2 connection inside a pool's connection (its private state is checked)."""
    inner = connection._connection
    assert type(inner).__name__ == "AsyncHTTP2Connection"
    return inner


async def stream_digest(pool: httpcore.AsyncConnectionPool, url: str) -> Tuple[int, str, int]:
    """GET ``url`` chunk by chunk: (size, sha256, number of chunks)."""
    digest = hashlib.sha256()
    size = chunks = 0
    async with pool.stream("GET", url) as response:
        assert response.status == 200
        assert response.extensions["http_version"] == b"HTTP/2"
        async for chunk in response.aiter_stream():
            digest.update(chunk)
            size += len(chunk)
            chunks += 1
    return size, digest.hexdigest(), chunks


async def large_upload(seed: int = 0) -> AsyncIterator[bytes]:
    for index in range(LARGE_SIZE_BYTES // CHUNK_BYTES):
        yield bytes([(index + seed) % 251]) * CHUNK_BYTES


def gated_chunk(seed: int, index: int) -> bytes:
    return bytes([(seed * GATED_CHUNKS + index) % 251]) * GATED_CHUNK_BYTES


def large_upload_bytes(seed: int = 0) -> bytes:
    return b"".join(
        bytes([(index + seed) % 251]) * CHUNK_BYTES
        for index in range(LARGE_SIZE_BYTES // CHUNK_BYTES)
    )


# --- multiplexing --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_200_concurrent_requests_share_one_connection(target: H2Target) -> None:
    results: List[Tuple[int, bytes, bytes]] = []

    async with target.pool() as pool:

        async def fetch() -> None:
            response = await pool.request("GET", target.url("/small.txt"))
            results.append(
                (response.status, response.content, response.extensions["http_version"])
            )

        with anyio.fail_after(SAFETY_TIMEOUT_S):
            async with anyio.create_task_group() as tasks:
                for _ in range(CONCURRENT_REQUESTS):
                    tasks.start_soon(fetch)
        assert [repr(c) for c in pool.connections] == [
            target.connection_repr("IDLE", CONCURRENT_REQUESTS)
        ]
        assert repr(pool) == POOL_IDLE
    assert results == [(200, SMALL_BODY, b"HTTP/2")] * CONCURRENT_REQUESTS


@pytest.mark.anyio
async def test_tls_connection_negotiated_h2_by_alpn(
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
) -> None:
    target = H2Target(True, nginx.ports.h2, ssl_context, network_backend)
    async with target.pool() as pool:
        async with pool.stream("GET", target.url("/small.txt")) as response:
            ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
            assert ssl_object.selected_alpn_protocol() == "h2"
            assert response.extensions["stream_id"] == 1
            assert await response.aread() == SMALL_BODY


# --- large bodies --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_10mb_download_is_streamed(nginx: NginxServer, target: H2Target) -> None:
    async with target.pool() as pool:
        with anyio.fail_after(SAFETY_TIMEOUT_S):
            size, sha256, chunks = await stream_digest(pool, target.url("/large.bin"))
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 1)]
    assert (size, sha256) == (LARGE_SIZE_BYTES, nginx.large_sha256)
    assert chunks > 1


@pytest.mark.anyio
async def test_concurrent_10mb_downloads_on_one_connection(
    nginx: NginxServer, target: H2Target
) -> None:
    digests: List[Tuple[int, str, int]] = []

    async with target.pool() as pool:

        async def download() -> None:
            digests.append(await stream_digest(pool, target.url("/large.bin")))

        with anyio.fail_after(SAFETY_TIMEOUT_S):
            async with anyio.create_task_group() as tasks:
                for _ in range(4):
                    tasks.start_soon(download)
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 4)]
    assert [(size, sha256) for size, sha256, _ in digests] == [
        (LARGE_SIZE_BYTES, nginx.large_sha256)
    ] * 4


@pytest.mark.anyio
async def test_10mb_upload_from_an_async_iterator_is_stored(target: H2Target) -> None:
    url = target.url(f"/uploads/{uuid.uuid4().hex}.bin")
    async with target.pool() as pool:
        with anyio.fail_after(SAFETY_TIMEOUT_S):
            response = await pool.request("PUT", url, content=large_upload())
            assert response.status == 201
            size, sha256, _ = await stream_digest(pool, url)
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 2)]
    assert (size, sha256) == (LARGE_SIZE_BYTES, hashlib.sha256(large_upload_bytes()).hexdigest())


@pytest.mark.anyio
async def test_concurrent_10mb_uploads_on_one_connection(target: H2Target) -> None:
    # httpx2#1133: concurrent uploads on one connection must not stall each other.
    urls = [target.url(f"/uploads/{uuid.uuid4().hex}.bin") for _ in range(3)]
    statuses: List[int] = []

    async with target.pool() as pool:

        async def upload(seed: int) -> None:
            content = large_upload_bytes(seed) if seed % 2 else large_upload(seed)
            statuses.append((await pool.request("PUT", urls[seed], content=content)).status)

        with anyio.fail_after(SAFETY_TIMEOUT_S):
            async with anyio.create_task_group() as tasks:
                for seed in range(3):
                    tasks.start_soon(upload, seed)
            stored = [await stream_digest(pool, url) for url in urls]
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 6)]
    assert statuses == [201] * 3
    assert [(size, sha256) for size, sha256, _ in stored] == [
        (LARGE_SIZE_BYTES, hashlib.sha256(large_upload_bytes(seed)).hexdigest())
        for seed in range(3)
    ]


# --- cancellation --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_cancelling_half_of_the_requests_in_flight_leaves_the_connection_usable(
    target: H2Target,
) -> None:
    # Half the requests wait for a response that never comes (/silent); the other half are
    # part way through their upload (their bodies wait after the first chunk). The first
    # half is cancelled; then the uploads finish, and the connection takes more requests.
    urls = [target.url(f"/uploads/{uuid.uuid4().hex}.bin") for _ in range(HALF)]
    statuses: List[int] = []
    started = 0
    all_started = anyio.Event()
    go_on = anyio.Event()

    async def gated_upload(seed: int) -> AsyncIterator[bytes]:
        nonlocal started
        yield gated_chunk(seed, 0)
        started += 1
        if started == HALF:
            all_started.set()
        await go_on.wait()
        for index in range(1, GATED_CHUNKS):
            yield gated_chunk(seed, index)

    async with target.pool() as pool:
        assert (await pool.request("GET", target.url("/small.txt"))).status == 200
        (connection,) = pool.connections

        async def doomed() -> None:
            await pool.request("GET", target.url("/silent"))

        async def survivor(seed: int) -> None:
            response = await pool.request("PUT", urls[seed], content=gated_upload(seed))
            statuses.append(response.status)

        with anyio.fail_after(SAFETY_TIMEOUT_S):
            async with anyio.create_task_group() as survivors:
                for seed in range(HALF):
                    survivors.start_soon(survivor, seed)
                async with anyio.create_task_group() as doomed_tasks:
                    for _ in range(HALF):
                        doomed_tasks.start_soon(doomed)
                    await all_started.wait()
                    active = f"Requests: {2 * HALF} active, 0 queued"
                    while active not in repr(pool):
                        await anyio.sleep(POLL_S)
                    await wait_all_tasks_blocked()
                    doomed_tasks.cancel_scope.cancel()
                go_on.set()
        assert statuses == [201] * HALF
        assert pool.connections == [connection]
        assert repr(pool) == POOL_IDLE
        # httpcore#1022: the count of open streams is right after the cancellations.
        inner = http2_internals(connection)
        assert inner._h2_state.open_outbound_streams == 0
        assert inner._slots.in_use == 0

        with anyio.fail_after(SAFETY_TIMEOUT_S):
            for seed, url in enumerate(urls):
                response = await pool.request("GET", url)
                assert response.content == b"".join(
                    gated_chunk(seed, index) for index in range(GATED_CHUNKS)
                )
        assert pool.connections == [connection]
        assert "HTTP/2, IDLE" in repr(connection)
        assert repr(pool) == POOL_IDLE


# --- a server that allows few streams ------------------------------------------------------


@pytest.mark.anyio
async def test_a_full_connection_makes_the_pool_open_another(
    few_streams_target: H2Target,
) -> None:
    target = few_streams_target
    async with target.pool() as pool:
        responses = []
        with anyio.fail_after(SAFETY_TIMEOUT_S):
            # Responses kept open keep their streams: the connection is full after
            # FEW_STREAMS of them, so the next one needs a new connection.
            for _ in range(FEW_STREAMS + 1):
                request = httpcore.Request(
                    "GET",
                    target.url("/small.txt"),
                    headers=[(b"Host", f"127.0.0.1:{target.port}".encode())],
                )
                responses.append(await pool.handle_async_request(request))
            assert [repr(c) for c in pool.connections] == [
                target.connection_repr("ACTIVE", FEW_STREAMS),
                target.connection_repr("ACTIVE", 1),
            ]
            for response in responses:
                assert await response.aread() == SMALL_BODY
                await response.aclose()
        assert [repr(c) for c in pool.connections] == [
            target.connection_repr("IDLE", FEW_STREAMS),
            target.connection_repr("IDLE", 1),
        ]


@pytest.mark.anyio
async def test_requests_beyond_the_stream_limit_queue_on_one_connection(
    few_streams_target: H2Target,
) -> None:
    target = few_streams_target
    count = 10 * FEW_STREAMS
    results: List[Tuple[int, bytes]] = []

    async with target.pool(max_connections=1) as pool:

        async def fetch() -> None:
            response = await pool.request("GET", target.url("/small.txt"))
            results.append((response.status, response.content))

        with anyio.fail_after(SAFETY_TIMEOUT_S):
            async with anyio.create_task_group() as tasks:
                for _ in range(count):
                    tasks.start_soon(fetch)
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", count)]
    assert results == [(200, SMALL_BODY)] * count


@pytest.mark.anyio
async def test_concurrent_requests_spread_within_the_connection_limit(
    few_streams_target: H2Target,
) -> None:
    target = few_streams_target
    count = 10 * FEW_STREAMS
    results: List[Tuple[int, bytes]] = []

    async with target.pool(max_connections=3) as pool:

        async def fetch() -> None:
            response = await pool.request("GET", target.url("/small.txt"))
            results.append((response.status, response.content))

        with anyio.fail_after(SAFETY_TIMEOUT_S):
            async with anyio.create_task_group() as tasks:
                for _ in range(count):
                    tasks.start_soon(fetch)
        connections = pool.connections
        assert 1 <= len(connections) <= 3
        assert all("HTTP/2, IDLE" in repr(c) for c in connections)
        assert repr(pool).endswith(f"Connections: 0 active, {len(connections)} idle]>")
    assert results == [(200, SMALL_BODY)] * count


# --- PING liveness check (beyond 1.0.9) ------------------------------------------------------


@pytest.mark.anyio
async def test_ping_before_reuse_keeps_the_connection(target: H2Target) -> None:
    # Every reuse is preceded by a PING (any idle time is long enough); nginx answers, so
    # the one connection serves everything.
    async with target.pool(http2_ping_after_idle=0.0) as pool:
        with anyio.fail_after(SAFETY_TIMEOUT_S):
            for _ in range(5):
                assert (await pool.request("GET", target.url("/small.txt"))).content == SMALL_BODY
            statuses: List[int] = []

            async def fetch() -> None:
                statuses.append((await pool.request("GET", target.url("/small.txt"))).status)

            async with anyio.create_task_group() as tasks:
                for _ in range(20):
                    tasks.start_soon(fetch)
        assert statuses == [200] * 20
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 25)]
        # The four sequential reuses were each checked (the PINGs were answered).
        assert http2_internals(pool.connections[0])._ping_count >= 4


# --- nghttpd: trailers -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_trailers_are_in_the_response_extensions(nghttpd_target: H2Target) -> None:
    target = nghttpd_target
    async with target.pool() as pool:
        with anyio.fail_after(SAFETY_TIMEOUT_S):
            async with pool.stream("GET", target.url("/small.txt")) as response:
                assert response.status == 200
                assert "trailing_headers" not in response.extensions
                assert await response.aread() == NGHTTPD_SMALL_BODY
                assert response.extensions["trailing_headers"] == NGHTTPD_TRAILERS
        assert [repr(c) for c in pool.connections] == [target.connection_repr("IDLE", 1)]


@pytest.mark.anyio
async def test_trailers_after_an_echoed_upload(nghttpd_target: H2Target) -> None:
    target = nghttpd_target
    async with target.pool() as pool:
        with anyio.fail_after(SAFETY_TIMEOUT_S):
            response = await pool.request(
                "PUT", target.url("/echo"), content=large_upload_bytes(7)
            )
    assert response.status == 200
    assert hashlib.sha256(response.content).hexdigest() == hashlib.sha256(
        large_upload_bytes(7)
    ).hexdigest()
    assert response.extensions["trailing_headers"] == NGHTTPD_TRAILERS


@pytest.mark.anyio
async def test_200_concurrent_requests_to_nghttpd_share_one_connection(
    nghttpd_target: H2Target,
) -> None:
    target = nghttpd_target
    trailers: List[Any] = []

    async with target.pool() as pool:

        async def fetch() -> None:
            response = await pool.request("GET", target.url("/small.txt"))
            assert response.content == NGHTTPD_SMALL_BODY
            trailers.append(response.extensions["trailing_headers"])

        with anyio.fail_after(SAFETY_TIMEOUT_S):
            async with anyio.create_task_group() as tasks:
                for _ in range(CONCURRENT_REQUESTS):
                    tasks.start_soon(fetch)
        assert [repr(c) for c in pool.connections] == [
            target.connection_repr("IDLE", CONCURRENT_REQUESTS)
        ]
    assert trailers == [NGHTTPD_TRAILERS] * CONCURRENT_REQUESTS
