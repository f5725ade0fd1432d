"""The flows the reliability sweeps run, each over a fresh in-memory server, and the checks
that a pool lost nothing.

A flow makes a pool (``pool``) over a backend, and runs its requests (``run``), recording
for each an ``Outcome``: the body it got (checked against the body the server answers
that very request with) or the exception it raised. Requests carry generous timeouts
(``GUARD``) so that a request that hangs fails instead of blocking the run; the in-memory
server records such a wait (``PeerStream.waited_out``) so it is never mistaken for an
injected timeout.
"""

from __future__ import annotations

import dataclasses
import ssl
from typing import Any, AsyncIterable, AsyncIterator, Dict, List, Optional, Tuple, Type, cast

from httpcore._backends._base import AsyncNetworkBackend
from httpcore._core._exceptions import ConnectError, ConnectTimeout, ProxyError
from httpcore._core._models import Proxy
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from httpcore._protocols._async.http2 import AsyncHTTP2Connection

# Registers the proxy connections with the pool (importing httpcore does it for users).
from httpcore._proxy._async import pool_dispatch  # noqa: F401
from tests.protocols._concurrency import AsyncTaskGroup
from tests.reliability._async._faults import (
    EOF,
    RESET,
    TIMEOUT,
    FaultBackend,
    HTTP2Responder,
    HTTP11Responder,
    PeerBackend,
    Responder,
    documented_errors,
    expected_body,
)

GUARD: Dict[str, Any] = {"timeout": {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}}
UPLOAD = b"0123456789" * 100
# One context for every pool: building the default one per connection loads the CA file.
SSL_CONTEXT = ssl.create_default_context()


@dataclasses.dataclass
class Outcome:
    """What one request of a flow gave: ``body`` (and whether it is the expected one), or
    ``error``."""

    label: str
    expected: bytes
    body: Optional[bytes] = None
    error: Optional[Exception] = None

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.body == self.expected

    def describe(self) -> str:
        error = self.error
        if error is not None:
            kind = type(error)
            return f"{self.label}: {kind.__module__}.{kind.__name__}: {error}"
        return f"{self.label}: body {self.body!r}, expected {self.expected!r}"


async def upload_chunks() -> AsyncIterator[bytes]:
    for start in range(0, len(UPLOAD), 250):
        yield UPLOAD[start : start + 250]


async def ignore_trace(event_name: str, info: Dict[str, Any]) -> None:
    """A trace callback: requests that carry one take the traced code paths."""


def extensions(traced: bool) -> Dict[str, Any]:
    return {**GUARD, "trace": ignore_trace} if traced else GUARD


async def fetch(
    pool: AsyncConnectionPool,
    method: str,
    url: str,
    path: bytes,
    content: Any = None,
    sent: int = 0,
    traced: bool = False,
) -> Outcome:
    outcome = Outcome(f"{method} {url}", expected_body(method.encode(), path, sent))
    try:
        response = await pool.request(
            method, url, content=content, extensions=extensions(traced)
        )
    except Exception as exc:
        outcome.error = exc
    else:
        outcome.body = response.content
    return outcome


async def fetch_first_chunk(pool: AsyncConnectionPool, url: str, path: bytes) -> Outcome:
    """Stream a GET, read its first chunk, and close the response before the rest."""
    outcome = Outcome(f"GET {url} (first chunk)", expected_body(b"GET", path, 0))
    try:
        async with pool.stream("GET", url, extensions=GUARD) as response:
            # The pool's stream itself, not aiter_stream(): a generator left unfinished
            # would be finalised later, with a ResourceWarning.
            async for chunk in cast("AsyncIterable[bytes]", response.stream):
                outcome.body = chunk
                break
    except Exception as exc:
        outcome.error = exc
    else:
        # Succeeded: a first chunk that begins the body.
        if outcome.body and outcome.expected.startswith(outcome.body):
            outcome.expected = outcome.body
    return outcome


class Flow:
    """One representative use of a pool; see the module comment."""

    name = ""
    http2 = False
    # Whether requests carry a trace callback (the traced code paths).
    traced = False

    def responder(self) -> Responder:
        return HTTP11Responder()

    def server(self) -> PeerBackend:
        return PeerBackend(self.responder, http2=self.http2)

    def pool(self, backend: AsyncNetworkBackend) -> AsyncConnectionPool:
        return AsyncConnectionPool(ssl_context=SSL_CONTEXT, network_backend=backend)

    async def run(self, pool: AsyncConnectionPool) -> List[Outcome]:
        raise NotImplementedError()

    def documented_errors(
        self, kind: str, at: int, operation: str, operations: List[str]
    ) -> Tuple[Type[Exception], ...]:
        """What a request may raise for ``kind`` injected into ``operation``, number
        ``at``; ``operations``: those of a clean run."""
        return documented_errors(kind, operation)

    def most_failures(self, kind: str, operation: str) -> int:
        """How many of the flow's requests a fault of ``kind`` at ``operation`` may fail."""
        return 1000

    def __repr__(self) -> str:
        return self.name


class KeepAlive(Flow):
    """HTTP/1.1 over TLS: two sequential GETs, the second on the first one's connection."""

    name = "http11-keepalive"

    async def run(self, pool: AsyncConnectionPool) -> List[Outcome]:
        first = await fetch(pool, "GET", "https://example.com/one", b"/one")
        second = await fetch(pool, "GET", "https://example.com/two", b"/two")
        return [first, second]


class Chunked(Flow):
    """HTTP/1.1 in clear: a chunked response (head, three chunks and the last chunk)."""

    name = "http11-chunked"

    async def run(self, pool: AsyncConnectionPool) -> List[Outcome]:
        return [await fetch(pool, "GET", "http://example.com/chunked", b"/chunked")]


class ChunkedClosedEarly(Flow):
    """HTTP/1.1 in clear: a chunked response streamed, closed after its first chunk (the
    connection cannot be reused), then a second GET read whole."""

    name = "http11-chunked-closed-early"

    async def run(self, pool: AsyncConnectionPool) -> List[Outcome]:
        url = "http://example.com/chunked"
        first = await fetch_first_chunk(pool, url, b"/chunked")
        second = await fetch(pool, "GET", url, b"/chunked")
        return [first, second]


class UploadBytes(Flow):
    """HTTP/1.1 over TLS: a POST with a body in memory (Content-Length)."""

    name = "http11-upload-bytes"

    async def run(self, pool: AsyncConnectionPool) -> List[Outcome]:
        url = "https://example.com/upload"
        return [await fetch(pool, "POST", url, b"/upload", UPLOAD, len(UPLOAD))]


class UploadIterator(Flow):
    """HTTP/1.1 over TLS: a POST with a body from an iterator (chunked, four chunks)."""

    name = "http11-upload-iterator"

    async def run(self, pool: AsyncConnectionPool) -> List[Outcome]:
        url = "https://example.com/upload"
        return [await fetch(pool, "POST", url, b"/upload", upload_chunks(), len(UPLOAD))]


class Concurrent(Flow):
    """Requests sent at once (tasks, or threads in the sync twin): ``REQUESTS`` of them to
    ``BASE``, the last one a POST with a body, the others GETs."""

    BASE = "https://example.com"
    REQUESTS = 4

    async def one(self, pool: AsyncConnectionPool, index: int) -> Outcome:
        path = b"/%d" % index
        url = self.BASE + path.decode()
        traced = self.traced
        if index == self.REQUESTS - 1:
            return await fetch(pool, "POST", url, path, UPLOAD, len(UPLOAD), traced)
        return await fetch(pool, "GET", url, path, traced=traced)

    async def run(self, pool: AsyncConnectionPool) -> List[Outcome]:
        outcomes: List[Outcome] = []

        async def one(index: int) -> None:
            outcomes.append(await self.one(pool, index))

        async with AsyncTaskGroup() as group:
            for index in range(self.REQUESTS):
                group.start(one, index)
        return sorted(outcomes, key=lambda outcome: outcome.label)


class Multiplexed(Concurrent):
    """HTTP/2 over TLS (ALPN): three GETs and a POST at once, on one connection; the
    server answers none before all four have arrived, so they are all in flight at once."""

    name = "http2-multiplexed"
    http2 = True

    def responder(self) -> Responder:
        return HTTP2Responder(batch=self.REQUESTS)

    def pool(self, backend: AsyncNetworkBackend) -> AsyncConnectionPool:
        return AsyncConnectionPool(ssl_context=SSL_CONTEXT, network_backend=backend, http2=True)

    def most_failures(self, kind: str, operation: str) -> int:
        # "A read timeout fails only the request that timed out" (http2.py, Reading).
        return 1 if kind == TIMEOUT and operation == "read" else 1000


class Queued(Concurrent):
    """HTTP/1.1 in clear, one connection at most: three GETs and a POST at once, so three
    wait in the pool's queue and each takes the connection (or a new one) in turn."""

    name = "http11-queued"
    BASE = "http://example.com"

    def pool(self, backend: AsyncNetworkBackend) -> AsyncConnectionPool:
        return AsyncConnectionPool(
            ssl_context=SSL_CONTEXT, network_backend=backend, max_connections=1
        )

    def most_failures(self, kind: str, operation: str) -> int:
        # One request at a time on the connection: a fault fails the one using it.
        return 1


class MultiplexedLimited(Multiplexed):
    """``Multiplexed`` with a server that allows two streams at once: two requests wait
    for a stream slot while the first two are in flight."""

    name = "http2-multiplexed-limited"
    MAX_STREAMS = 2

    def responder(self) -> Responder:
        return HTTP2Responder(batch=self.MAX_STREAMS, max_streams=self.MAX_STREAMS)


class MultiplexedTraced(Multiplexed):
    """``Multiplexed`` with a trace callback on every request (h2's traced code paths)."""

    name = "http2-multiplexed-traced"
    traced = True


class Tunnel(Flow):
    """An HTTP proxy: a CONNECT tunnel, TLS through it, two GETs on the tunnel."""

    name = "proxy-connect-tunnel"

    def pool(self, backend: AsyncNetworkBackend) -> AsyncConnectionPool:
        proxy = Proxy("http://localhost:8080/")
        return AsyncConnectionPool(
            ssl_context=SSL_CONTEXT, proxy=proxy, network_backend=backend
        )

    async def run(self, pool: AsyncConnectionPool) -> List[Outcome]:
        first = await fetch(pool, "GET", "https://example.com/one", b"/one")
        second = await fetch(pool, "GET", "https://example.com/two", b"/two")
        return [first, second]


class Socks5(Flow):
    """A SOCKS5 proxy (no authentication): the handshake, TLS, then a GET."""

    name = "proxy-socks5"

    def responder(self) -> Responder:
        return HTTP11Responder(socks5=True)

    def pool(self, backend: AsyncNetworkBackend) -> AsyncConnectionPool:
        proxy = Proxy("socks5://localhost:1080/")
        return AsyncConnectionPool(
            ssl_context=SSL_CONTEXT, proxy=proxy, network_backend=backend
        )

    async def run(self, pool: AsyncConnectionPool) -> List[Outcome]:
        return [await fetch(pool, "GET", "https://example.com/one", b"/one")]

    def documented_errors(
        self, kind: str, at: int, operation: str, operations: List[str]
    ) -> Tuple[Type[Exception], ...]:
        # The handshake (the reads and writes before TLS) is part of connecting: its
        # failures are ConnectError/ConnectTimeout, a proxy that closes is a ProxyError
        # (the deliberate differences from 1.0.9 in httpcore/_proxy/_async/socks_proxy.py).
        # One request at a time: the clean run's order is this run's.
        if at < operations.index("start_tls") + 1 and operation in ("read", "write"):
            if kind == RESET:
                return (ConnectError,)
            if kind == TIMEOUT:
                return (ConnectTimeout,)
            if kind == EOF:
                return (ProxyError,)
        return documented_errors(kind, operation)


FLOWS: List[Flow] = [
    KeepAlive(),
    Chunked(),
    ChunkedClosedEarly(),
    UploadBytes(),
    UploadIterator(),
    Queued(),
    Multiplexed(),
    MultiplexedLimited(),
    MultiplexedTraced(),
    Tunnel(),
    Socks5(),
]


def _protocol_connection(connection: Any) -> Any:
    # The innermost connection a pool's connection delegates to.
    while getattr(connection, "_connection", None) is not None:
        connection = connection._connection
    return connection


def pool_problems(pool: AsyncConnectionPool, server: PeerBackend) -> List[str]:
    """What is wrong with a pool that has no request in progress (empty when nothing)."""
    problems: List[str] = []
    text = repr(pool)
    if "Requests: 0 active, 0 queued" not in text:
        problems.append(f"requests still held: {text}")
    live = 0
    for connection in pool.connections:
        if not (connection.is_idle() or connection.is_closed()):
            problems.append(f"connection neither idle nor closed: {connection!r}")
        if not connection.is_closed():
            live += 1
        inner = _protocol_connection(connection)
        if isinstance(inner, AsyncHTTP2Connection):
            drift = {
                "slots in use": inner._slots.in_use,
                "requests in flight": inner._requests_in_flight,
                "stream records": len(inner._streams),
            }
            if not inner.is_closed():
                drift["h2 open outbound streams"] = inner._h2_state.open_outbound_streams
            for what, count in drift.items():
                if count:
                    problems.append(f"HTTP/2 drift: {what} = {count} on {connection!r}")
    open_streams = len(server.open_streams())
    if open_streams > live:
        problems.append(
            f"{open_streams} network streams open for {live} live connections: {text}"
        )
    for stream in server.streams:
        if stream.waited_out:
            problems.append("a read waited for its whole timeout (a hang, not the fault)")
            break
    return problems


async def clean_operations(flow: Flow) -> List[str]:
    """The operations of a run of ``flow`` without a fault (which must succeed)."""
    server = flow.server()
    backend = FaultBackend(server)
    async with flow.pool(backend) as pool:
        outcomes = await flow.run(pool)
        problems = [o.describe() for o in outcomes if not o.succeeded]
        problems.extend(pool_problems(pool, server))
    if problems:
        raise AssertionError(f"the clean run of flow {flow.name} failed: {problems}")
    return backend.operations
