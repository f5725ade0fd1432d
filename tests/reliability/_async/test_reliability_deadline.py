"""The total deadline (``extensions={"timeout": {"total": ...}}``, ``_core._deadline``).

Run on a fake clock (``_clock``): every network operation costs one second, so a test
knows exactly which operation the deadline falls in, and the timeouts every layer passed
down can be compared with the ones the deadline leaves. Each test that expects a timeout
also runs the same request without ``"total"`` and sees it succeed, so the deadline is
what ended it. The in-memory servers are the fault sweeps' (``_faults``).
"""

from __future__ import annotations

from typing import Any, AsyncIterable, Dict, Iterator, List, Optional, Tuple, cast

import pytest

from httpcore._core import _deadline
from httpcore._core._exceptions import ConnectTimeout, PoolTimeout, ReadTimeout
from httpcore._core._models import Proxy
from httpcore._core._urls import URL
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from httpcore._protocols._async.connection import AsyncHTTPConnection

# Registers the proxy connections with the pool (importing httpcore does it for users).
from httpcore._proxy._async import pool_dispatch  # noqa: F401
from tests.reliability._async._clock import Clock, ClockBackend
from tests.reliability._async._faults import (
    HTTP2Responder,
    HTTP11Responder,
    PeerBackend,
    expected_body,
)
from tests.reliability._async._flows import SSL_CONTEXT

# A long path makes a long body (the servers echo it), read 4 bytes at a time.
PATH = "/" + "x" * 120
READ = 5.0


def timeouts(total: Optional[float] = None, **others: float) -> Dict[str, Any]:
    values: Dict[str, Any] = {"connect": READ, "read": READ, "write": READ, "pool": READ}
    values.update(others)
    if total is not None:
        values["total"] = total
    return {"timeout": values}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(_deadline, "monotonic", fake)
    yield fake


def http11_backend(clock: Clock, socks5: bool = False) -> ClockBackend:
    return ClockBackend(PeerBackend(lambda: HTTP11Responder(socks5=socks5)), clock)


def http2_backend(clock: Clock) -> ClockBackend:
    return ClockBackend(PeerBackend(HTTP2Responder, http2=True), clock)


def body(method: bytes = b"GET") -> bytes:
    return expected_body(method, PATH.encode(), 0)


def assert_bounded(backend: ClockBackend, name: str, start: float, total: float) -> None:
    """Every ``name`` operation got its own timeout, or what was left before the deadline
    if that was less."""
    recorded = backend.timeouts(name)
    assert recorded, f"no {name} operation"
    for began, timeout in recorded:
        left = start + total - began
        assert timeout == min(READ, left), (name, began, timeout, left)


async def count_reads(pool: AsyncConnectionPool, url: str) -> None:
    response = await pool.request("GET", url, extensions=timeouts())
    assert response.content == body()


@pytest.mark.anyio
async def test_every_wait_is_bounded_by_what_is_left(clock: Clock) -> None:
    url = f"http://example.com{PATH}"
    backend = http11_backend(clock)
    async with AsyncConnectionPool(network_backend=backend) as pool:
        await count_reads(pool, url)
    # Half a step more than the request takes: it succeeds, its last waits bounded.
    total = len(backend.operations) * backend.step + 0.5
    backend = http11_backend(clock)
    start = clock.now
    async with AsyncConnectionPool(network_backend=backend) as pool:
        response = await pool.request("GET", url, extensions=timeouts(total))
        assert response.content == body()
    assert_bounded(backend, "connect_tcp", start, total)
    assert_bounded(backend, "write", start, total)
    assert_bounded(backend, "read", start, total)
    reads = backend.timeouts("read")
    assert reads[0][1] == READ and reads[-1][1] == pytest.approx(1.5)


@pytest.mark.anyio
async def test_a_slow_head_ends_at_the_deadline(clock: Clock) -> None:
    url = f"http://example.com{PATH}"
    async with AsyncConnectionPool(network_backend=http11_backend(clock)) as pool:
        await count_reads(pool, url)  # Without "total": every read is quick enough.
    backend = http11_backend(clock)
    async with AsyncConnectionPool(network_backend=backend) as pool:
        with pytest.raises(ReadTimeout):
            await pool.request("GET", url, extensions=timeouts(total=6.5))
        # connect, write, then reads until the deadline: nothing after it.
        assert clock.now - backend.operations[0].started == pytest.approx(6.5)
        assert pool.connections == []
    assert all(stream.closed for stream in cast(PeerBackend, backend.inner).streams)


@pytest.mark.anyio
async def test_a_slow_body_ends_at_the_deadline_after_the_call_returned(clock: Clock) -> None:
    backend = http11_backend(clock)
    url = f"http://example.com{PATH}"
    async with AsyncConnectionPool(network_backend=backend) as pool:
        start = clock.now
        async with pool.stream("GET", url, extensions=timeouts(total=25.0)) as response:
            assert response.status == 200
            received = b""
            with pytest.raises(ReadTimeout):
                async for chunk in cast(AsyncIterable[bytes], response.stream):
                    received += chunk
            assert received and body().startswith(received) and received != body()
        assert clock.now - start == pytest.approx(25.0)
        assert pool.connections == []
        # The pool is fine: the next request (no deadline) gets a new connection.
        await count_reads(pool, url)


@pytest.mark.anyio
async def test_a_deadline_already_passed_takes_nothing(clock: Clock) -> None:
    backend = http11_backend(clock)
    async with AsyncConnectionPool(network_backend=backend) as pool:
        with pytest.raises(PoolTimeout, match="total timeout"):
            await pool.request("GET", "http://example.com/", extensions=timeouts(total=0))
        assert pool.connections == []
    assert backend.operations == []


@pytest.mark.anyio
async def test_the_pool_wait_is_bounded(clock: Clock) -> None:
    backend = http11_backend(clock)
    url = f"http://example.com{PATH}"
    async with AsyncConnectionPool(network_backend=backend, max_connections=1) as pool:
        async with pool.stream("GET", url, extensions=timeouts()):
            # The only connection is busy: the wait gets what is left, then PoolTimeout.
            with pytest.raises(PoolTimeout):
                await pool.request("GET", url, extensions=timeouts(total=0.05, pool=60.0))
        await count_reads(pool, url)


@pytest.mark.anyio
async def test_connect_and_tls_get_what_is_left(clock: Clock) -> None:
    backend = http11_backend(clock)
    start = clock.now
    async with AsyncConnectionPool(network_backend=backend, ssl_context=SSL_CONTEXT) as pool:
        with pytest.raises(ReadTimeout):
            await pool.request(
                "GET", f"https://example.com{PATH}", extensions=timeouts(total=3.5, connect=10.0)
            )
    # connect with 3.5 left (not 10), TLS with 2.5, the write with 1.5, a read with 0.5.
    assert [(op.name, op.started - start, op.timeout) for op in backend.operations] == [
        ("connect_tcp", 0.0, 3.5),
        ("start_tls", 1.0, 2.5),
        ("write", 2.0, 1.5),
        ("read", 3.0, 0.5),
    ]


@pytest.mark.anyio
async def test_tls_handshake_hits_the_deadline(clock: Clock) -> None:
    backend = http11_backend(clock)
    start = clock.now
    async with AsyncConnectionPool(network_backend=backend, ssl_context=SSL_CONTEXT) as pool:
        with pytest.raises(ConnectTimeout):
            await pool.request(
                "GET", f"https://example.com{PATH}", extensions=timeouts(total=1.5, connect=10.0)
            )
    assert backend.timeouts("connect_tcp") == [(start, 1.5)]
    [(tls_start, tls_timeout)] = backend.timeouts("start_tls")
    assert tls_start == start + 1.0 and tls_timeout == pytest.approx(0.5)


@pytest.mark.anyio
async def test_a_connection_used_on_its_own_starts_the_deadline(clock: Clock) -> None:
    backend = http11_backend(clock)
    url = f"http://example.com{PATH}"
    start = clock.now
    async with AsyncHTTPConnection(origin=URL(url).origin, network_backend=backend) as connection:
        with pytest.raises(ReadTimeout):
            await connection.request("GET", url, extensions=timeouts(total=8.0))
    # One deadline from the connect on, not a new one when HTTP/1.1 took over.
    assert clock.now - start == pytest.approx(8.0)


@pytest.mark.anyio
async def test_http2_read_ends_at_the_deadline_and_the_connection_lives_on(clock: Clock) -> None:
    backend = http2_backend(clock)
    url = f"https://example.com{PATH}"
    async with AsyncConnectionPool(
        network_backend=backend, ssl_context=SSL_CONTEXT, http2=True
    ) as pool:
        await count_reads(pool, url)
        start = clock.now
        with pytest.raises(ReadTimeout):
            async with pool.stream("GET", url, extensions=timeouts(total=3.0)) as response:
                async for _ in cast(AsyncIterable[bytes], response.stream):
                    pass
        # Every read began before the deadline and got no more than what was left; the
        # stream's reset, written after the timeout, is not part of the request.
        reads = [op for op in backend.operations if op.name == "read" and op.started >= start]
        assert reads and all(
            op.timeout is not None and op.started + op.timeout <= start + 3.0 for op in reads
        )
        # A timeout fails only its own request: the same connection serves the next one.
        assert len(pool.connections) == 1
        await count_reads(pool, url)
        assert len(cast(PeerBackend, backend.inner).streams) == 1


@pytest.mark.anyio
async def test_socks5_handshake_hits_the_deadline(clock: Clock) -> None:
    backend = http11_backend(clock, socks5=True)
    proxy = Proxy("socks5://proxy.example:1080")
    url = f"http://example.com{PATH}"
    async with AsyncConnectionPool(network_backend=backend, proxy=proxy) as pool:
        response = await pool.request("GET", url, extensions=timeouts())
        assert response.content == body()
    backend = http11_backend(clock, socks5=True)
    async with AsyncConnectionPool(network_backend=backend, proxy=proxy) as pool:
        with pytest.raises(ConnectTimeout):
            await pool.request("GET", url, extensions=timeouts(total=2.5))
    # connect, greeting write, and the reply read that the deadline cut short.
    assert [op.name for op in backend.operations] == ["connect_tcp", "write", "read"]


@pytest.mark.anyio
async def test_a_tunnel_is_bounded_by_one_deadline(clock: Clock) -> None:
    backend = http11_backend(clock)
    proxy = Proxy("http://proxy.example:3128")
    url = f"https://example.com{PATH}"
    async with AsyncConnectionPool(
        network_backend=backend, proxy=proxy, ssl_context=SSL_CONTEXT
    ) as pool:
        start = clock.now
        with pytest.raises(ReadTimeout):
            await pool.request("GET", url, extensions=timeouts(total=30.0))
        assert clock.now - start == pytest.approx(30.0)
    names = [op.name for op in backend.operations]
    # The CONNECT exchange and the TLS handshake inside it came before the deadline.
    assert names[:2] == ["connect_tcp", "write"] and "start_tls" in names
