"""``AsyncHTTP2Connection`` against a real HTTP/2 server on loopback (``tests/protocols/_h2_server.py``),
through the default network backend: multiplexing, limits, GOAWAY, resets, flow control.

The requests of each test run concurrently on one connection (tasks here, threads in the
generated sync twin). Requests that could stall carry a read timeout, so that a stall
fails the test instead of hanging it.
"""

from __future__ import annotations

import sys
from typing import Dict, Iterator, List

import pytest

from httpcore._backends._auto import AutoBackend
from httpcore._core._exceptions import ConnectionNotAvailable, RemoteProtocolError
from httpcore._core._models import Origin
from httpcore._protocols._async.http2 import AsyncHTTP2Connection
from tests.protocols._concurrency import AsyncTaskGroup
from tests.protocols._h2_server import (
    BODY_PATTERN,
    GOAWAY_ANSWERED,
    GOAWAY_COLLECT,
    HELLO,
    LOWER_LIMIT_TO,
    TRAILERS,
    H2Server,
)

GUARD = {"timeout": {"read": 30.0, "write": 30.0}}


@pytest.fixture
def server() -> Iterator[H2Server]:
    with H2Server() as running:
        yield running


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Threads switch far more often than usual, so that races between them show up."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


async def connect(server: H2Server) -> AsyncHTTP2Connection:
    stream = await AutoBackend().connect_tcp("127.0.0.1", server.port)
    return AsyncHTTP2Connection(Origin(b"http", b"127.0.0.1", server.port), stream)


def url(server: H2Server, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def assert_settled(conn: AsyncHTTP2Connection) -> None:
    """Nothing in flight: the slots, h2's count of open streams and our records agree."""
    assert conn._slots.in_use == 0
    assert conn._h2_state.open_outbound_streams == 0
    assert conn._streams == {}
    assert conn.is_idle()


@pytest.mark.anyio
async def test_200_concurrent_requests_share_one_connection(
    server: H2Server, frequent_thread_switches: None
) -> None:
    conn = await connect(server)
    bodies: List[bytes] = []

    async def fetch() -> None:
        response = await conn.request("GET", url(server, "/"), extensions=GUARD)
        bodies.append(response.content)

    async with conn:
        async with AsyncTaskGroup() as group:
            for _ in range(200):
                group.start(fetch)
        assert bodies == [HELLO] * 200
        assert server.stats.connections == 1
        assert server.stats.requests == 200
        assert server.stats.max_open_streams <= 100
        assert conn._max_streams == 100
        assert_settled(conn)
        assert repr(conn) == (
            f"<AsyncHTTP2Connection ['http://127.0.0.1:{server.port}', IDLE, Request Count: 200]>"
        )
    assert server.stats.errors == []


@pytest.mark.anyio
async def test_100_workers_share_one_connection(
    server: H2Server, frequent_thread_switches: None
) -> None:
    # httpx#3072: many threads on one sync HTTP/2 connection broke its protocol state.
    conn = await connect(server)
    results: List[bytes] = []

    async def work(index: int) -> None:
        for round in range(3):
            if (index + round) % 2:
                body = f"{index}-{round}".encode() * 100
                response = await conn.request(
                    "POST", url(server, "/echo"), content=body, extensions=GUARD
                )
                assert response.content == body
            else:
                response = await conn.request("GET", url(server, "/bytes/20000"), extensions=GUARD)
                assert len(response.content) == 20000
            results.append(response.content)

    async with conn:
        async with AsyncTaskGroup() as group:
            for index in range(100):
                group.start(work, index)
        assert len(results) == 300
        assert_settled(conn)
    assert server.stats.connections == 1
    assert server.stats.errors == []


@pytest.mark.anyio
async def test_server_lowering_its_stream_limit_mid_flight(server: H2Server) -> None:
    # httpx2#1216: shrinking the limit below the streams in flight deadlocked upstream.
    conn = await connect(server)
    statuses: List[int] = []

    async def fetch() -> None:
        response = await conn.request("GET", url(server, "/lower-limit"), extensions=GUARD)
        statuses.append(response.status)

    async with conn:
        async with AsyncTaskGroup() as group:
            for _ in range(60):
                group.start(fetch)
        assert statuses == [200] * 60
        assert conn._max_streams == LOWER_LIMIT_TO
        assert conn._slots.limit == LOWER_LIMIT_TO
        assert_settled(conn)
        # Still usable, within the new limit.
        response = await conn.request("GET", url(server, "/"), extensions=GUARD)
        assert response.status == 200
    assert server.stats.errors == []


@pytest.mark.anyio
async def test_goaway_mid_flight(server: H2Server) -> None:
    conn = await connect(server)
    outcomes: Dict[str, int] = {"ok": 0, "not available": 0, "remote protocol error": 0}

    async def fetch() -> None:
        try:
            response = await conn.request("GET", url(server, "/goaway"), extensions=GUARD)
        except ConnectionNotAvailable:
            outcomes["not available"] += 1
        except RemoteProtocolError:
            outcomes["remote protocol error"] += 1
        else:
            assert response.content == HELLO
            outcomes["ok"] += 1

    async with conn:
        async with AsyncTaskGroup() as group:
            for _ in range(GOAWAY_COLLECT):
                group.start(fetch)
        # Answered streams succeed; the one the server named as the last it processed
        # fails; the ones above it were not processed and may be retried elsewhere.
        assert outcomes == {
            "ok": GOAWAY_ANSWERED,
            "remote protocol error": 1,
            "not available": GOAWAY_COLLECT - GOAWAY_ANSWERED - 1,
        }
        assert conn.is_closed()
        assert not conn.is_available()
        # Refused requests are not counted.
        assert conn.info().endswith(f"Request Count: {GOAWAY_ANSWERED + 1}")
        with pytest.raises(ConnectionNotAvailable):
            await conn.request("GET", url(server, "/"))


@pytest.mark.anyio
async def test_stream_reset_fails_only_its_request(server: H2Server) -> None:
    conn = await connect(server)
    bodies: List[bytes] = []
    errors: List[str] = []

    async def fetch(path: str) -> None:
        try:
            response = await conn.request("GET", url(server, path), extensions=GUARD)
        except RemoteProtocolError as exc:
            errors.append(str(exc))
        else:
            bodies.append(response.content)

    async with conn:
        async with AsyncTaskGroup() as group:
            for index in range(20):
                group.start(fetch, "/reset" if index % 4 == 0 else "/")
        assert bodies == [HELLO] * 15
        assert len(errors) == 5
        assert all(error.startswith("<StreamReset stream_id:") for error in errors)
        assert conn.is_available()
        assert_settled(conn)


@pytest.mark.anyio
async def test_trailers(server: H2Server) -> None:
    conn = await connect(server)
    async with conn:
        response = await conn.request("GET", url(server, "/trailers"), extensions=GUARD)
    assert response.content == HELLO
    assert response.extensions["trailing_headers"] == TRAILERS


@pytest.mark.anyio
async def test_large_download(server: H2Server) -> None:
    size = 10 * 1024 * 1024
    conn = await connect(server)
    async with conn:
        response = await conn.request("GET", url(server, f"/bytes/{size}"), extensions=GUARD)
        assert_settled(conn)
    assert len(response.content) == size
    assert response.content[:32] == BODY_PATTERN * 2


@pytest.mark.anyio
async def test_large_upload(server: H2Server) -> None:
    body = bytes(range(256)) * (10 * 4096)  # 10 MiB
    conn = await connect(server)
    async with conn:
        response = await conn.request("POST", url(server, "/echo"), content=body, extensions=GUARD)
        assert_settled(conn)
    assert response.content == body


@pytest.mark.anyio
async def test_concurrent_uploads_do_not_stall(
    server: H2Server, frequent_thread_switches: None
) -> None:
    # httpx2#1133: the server gives send window to one upload at a time. A connection that
    # lets one waiting task read again before another task whose window opened has sent,
    # stalls: the server waits for that upload, nobody sends it.
    conn = await connect(server)
    answers: List[bytes] = []

    async def upload() -> None:
        response = await conn.request(
            "POST", url(server, "/upload-serial"), content=b"u" * 200_000, extensions=GUARD
        )
        answers.append(response.content)

    async with conn:
        async with AsyncTaskGroup() as group:
            for _ in range(8):
                group.start(upload)
        assert answers == [b"200000"] * 8
        assert_settled(conn)
    assert server.stats.errors == []


@pytest.mark.anyio
async def test_upload_through_a_window_the_server_shrank(server: H2Server) -> None:
    conn = await connect(server)
    async with conn:
        response = await conn.request(
            "POST", url(server, "/shrink-window"), content=b"s" * 100_000, extensions=GUARD
        )
        assert response.content == b"100000"
    assert server.stats.errors == []


@pytest.mark.anyio
async def test_ping_is_answered(server: H2Server) -> None:
    conn = await connect(server)
    async with conn:
        response = await conn.request("GET", url(server, "/ping"), extensions=GUARD)
    assert response.content == HELLO
    assert server.stats.ping_acks == 1


@pytest.mark.anyio
async def test_download_and_upload_at_once(server: H2Server) -> None:
    # The server writes the download while the client writes the upload; neither side's
    # socket buffers hold it all. The reader must keep reading (and acknowledging) while
    # the upload's write is blocked, or both sides wait for each other.
    size = 20 * 1024 * 1024
    conn = await connect(server)
    results: Dict[str, int] = {}

    async def download() -> None:
        response = await conn.request("GET", url(server, f"/bytes/{size}"), extensions=GUARD)
        results["download"] = len(response.content)

    async def upload() -> None:
        response = await conn.request(
            "POST", url(server, "/upload-serial"), content=b"u" * size, extensions=GUARD
        )
        results["upload"] = int(response.content)

    async with conn:
        async with AsyncTaskGroup() as group:
            group.start(download)
            group.start(upload)
        assert results == {"download": size, "upload": size}
        assert_settled(conn)
    assert server.stats.errors == []
