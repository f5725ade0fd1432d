"""``AsyncConnectionPool`` over HTTP/2 (API.md §5.4, §5.6, §6.4, §11.3): multiplexing, the
stream limit, GOAWAY retries, reprs, traces and the PING liveness check.

The peer is an in-memory HTTP/2 server (``H2Site``, a network backend whose streams feed
what the client writes to a server-side h2 connection and return what it answers), so the
client's frames are really parsed and answered. Requests that could stall carry a read
timeout (``GUARD``): a stall fails the test instead of hanging it.
"""

from __future__ import annotations

import ssl
from typing import Any, Dict, Iterable, List, Tuple

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest
from hyperframe.frame import DataFrame, HeadersFrame, SettingsFrame

from httpcore._backends._async.mock import AsyncMockBackend, MockSSLObject
from httpcore._backends._base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream
from httpcore._core._exceptions import ReadError, ReadTimeout
from httpcore._core._models import Request
from httpcore._core._synchronization import AsyncEvent, AsyncThreadLock
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from httpcore._protocols._async import http2
from tests.protocols._concurrency import AsyncTaskGroup

URL = "https://example.com/"
GUARD = {"timeout": {"read": 30.0, "write": 30.0}}
SILENCE_S = 0.05


def connection_repr(state: str, count: int) -> str:
    return f"<AsyncHTTPConnection ['https://example.com:443', HTTP/2, {state}, Request Count: {count}]>"


def pool_repr(active: int, queued: int, busy: int, idle: int) -> str:
    return (
        f"<AsyncConnectionPool [Requests: {active} active, {queued} queued | "
        f"Connections: {busy} active, {idle} idle]>"
    )


class H2Site(AsyncNetworkBackend):
    """The server side of every connection the pool opens (one ``H2Peer`` each).

    ``max_streams``: the MAX_CONCURRENT_STREAMS each peer announces. ``hold_until``:
    responses are held until that many requests have arrived (over all connections), then
    all answered; with ``lower_limit_to``, every peer first lowers its
    MAX_CONCURRENT_STREAMS to that (a SETTINGS frame while the streams are in flight).
    ``goaway_first_after``: the first connection, once it has that many requests, answers
    the oldest, sends GOAWAY naming it as the last one processed and ends the connection.
    """

    def __init__(
        self,
        max_streams: int = 100,
        hold_until: int = 0,
        goaway_first_after: int = 0,
        lower_limit_to: int = 0,
    ) -> None:
        self.lock = AsyncThreadLock()
        self.max_streams = max_streams
        self.hold_until = hold_until
        self.lower_limit_to = lower_limit_to
        self.goaway_first_after = goaway_first_after
        self.peers: List[H2Peer] = []
        self.requests = 0
        self.held: List[Tuple[H2Peer, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        with self.lock:
            peer = H2Peer(self, goaway_after=self.goaway_first_after if not self.peers else 0)
            self.peers.append(peer)
            return peer

    async def sleep(self, seconds: float) -> None:
        pass

    def request_complete(self, peer: H2Peer, stream_id: int) -> None:
        # Lock held.
        self.requests += 1
        if self.requests < self.hold_until:
            self.held.append((peer, stream_id))
            return
        if self.lower_limit_to and self.requests == self.hold_until:
            codes = h2.settings.SettingCodes
            for each in self.peers:
                each.h2.update_settings({codes.MAX_CONCURRENT_STREAMS: self.lower_limit_to})
        for held_peer, held_id in self.held:
            held_peer.respond(held_id)
            held_peer.wake()
        self.held.clear()
        peer.respond(stream_id)


class H2Peer(AsyncNetworkStream):
    """One server connection in memory (see ``H2Site``)."""

    def __init__(self, site: H2Site, goaway_after: int) -> None:
        self.site = site
        self.goaway_after = goaway_after
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, validate_inbound_headers=False)
        )
        self.h2.local_settings = h2.settings.Settings(
            client=False,
            initial_values={h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: site.max_streams},
        )
        self.h2.initiate_connection()
        self.outgoing = bytearray(self.h2.data_to_send())
        self.readable = AsyncEvent()
        self.silent = False
        self.eof = False
        self.closed = False
        self.requests = 0
        self.max_open_streams = 0
        self.pings = 0
        self.goaway_held: List[int] = []

    def go_silent(self) -> None:
        """From now on the peer reads and answers nothing (a silently dead connection)."""
        with self.site.lock:
            self.silent = True

    def respond(self, stream_id: int) -> None:
        # Lock held.
        body = f"stream {stream_id}".encode()
        self.h2.send_headers(
            stream_id, [(":status", "200"), ("content-length", str(len(body)))]
        )
        self.h2.send_data(stream_id, body, end_stream=True)

    def wake(self) -> None:
        # Lock held: make what h2 produced readable.
        if not self.silent:
            self.outgoing += self.h2.data_to_send()
        self.readable.set()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        while True:
            with self.site.lock:
                if self.closed:
                    raise ReadError("closed")
                if self.outgoing and not self.silent:
                    data = bytes(self.outgoing)
                    self.outgoing.clear()
                    return data
                if self.eof:
                    return b""
                if self.readable.is_set():
                    self.readable = AsyncEvent()
                readable = self.readable
            try:
                await readable.wait(timeout)
            except Exception:
                raise ReadTimeout("nothing to read") from None

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with self.site.lock:
            if self.silent:
                for event in self.h2.receive_data(buffer):
                    if isinstance(event, h2.events.PingReceived):
                        self.pings += 1
                return
            for event in self.h2.receive_data(buffer):
                self.handle(event)
            self.wake()

    def handle(self, event: h2.events.Event) -> None:
        # Lock held.
        if isinstance(event, h2.events.RequestReceived):
            self.requests += 1
            self.max_open_streams = max(self.max_open_streams, self.h2.open_inbound_streams)
        elif isinstance(event, h2.events.DataReceived):
            size = event.flow_controlled_length or 0
            if size and event.stream_id is not None:
                self.h2.acknowledge_received_data(size, event.stream_id)
        elif isinstance(event, h2.events.PingReceived):
            self.pings += 1  # h2 queues the acknowledgement itself.
        elif isinstance(event, h2.events.StreamEnded):
            assert event.stream_id is not None
            if self.goaway_after:
                self.goaway_held.append(event.stream_id)
                if len(self.goaway_held) == self.goaway_after:
                    first = min(self.goaway_held)
                    self.respond(first)
                    self.h2.close_connection(last_stream_id=first)
                    self.eof = True
            else:
                self.site.request_complete(self, event.stream_id)

    async def aclose(self) -> None:
        with self.site.lock:
            self.closed = True
            self.readable.set()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        return self

    def get_extra_info(self, info: str) -> Any:
        return MockSSLObject(http2=True) if info == "ssl_object" else None


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# Through the mock backend.


@pytest.mark.anyio
async def test_http2_request_through_the_mock_backend() -> None:
    stream = [
        SettingsFrame().serialize(),
        HeadersFrame(
            stream_id=1,
            data=b"\x88",  # HPACK: ":status: 200" from the static table.
            flags=["END_HEADERS"],
        ).serialize(),
        DataFrame(stream_id=1, data=b"Hello, world!", flags=["END_STREAM"]).serialize(),
    ]
    async with AsyncConnectionPool(network_backend=AsyncMockBackend(stream, http2=True)) as pool:
        response = await pool.request("GET", URL)
        assert response.status == 200
        assert response.content == b"Hello, world!"
        assert response.extensions["http_version"] == b"HTTP/2"
        assert response.extensions["stream_id"] == 1
        assert [repr(c) for c in pool.connections] == [connection_repr("IDLE", 1)]


# Multiplexing.


@pytest.mark.anyio
async def test_concurrent_requests_share_one_connection() -> None:
    # Nothing is answered until all 20 requests are in: they must all be in flight at once.
    site = H2Site(hold_until=20)
    bodies: List[bytes] = []

    async def fetch() -> None:
        response = await pool.request("GET", URL, extensions=GUARD)
        bodies.append(response.content)

    async with AsyncConnectionPool(network_backend=site, http2=True) as pool:
        async with AsyncTaskGroup() as group:
            for _ in range(20):
                group.start(fetch)
        assert [repr(c) for c in pool.connections] == [connection_repr("IDLE", 20)]
        assert repr(pool) == pool_repr(0, 0, 0, 1)
    assert sorted(bodies) == sorted(f"stream {2 * i + 1}".encode() for i in range(20))
    assert len(site.peers) == 1
    assert site.peers[0].max_open_streams == 20


@pytest.mark.anyio
async def test_reprs_while_responses_are_open() -> None:
    site = H2Site()
    async with AsyncConnectionPool(network_backend=site, http2=True) as pool:
        assert repr(pool) == pool_repr(0, 0, 0, 0)
        async with pool.stream("GET", URL, extensions=GUARD) as first:
            assert [repr(c) for c in pool.connections] == [connection_repr("ACTIVE", 1)]
            assert repr(pool) == pool_repr(1, 0, 1, 0)
            async with pool.stream("GET", URL, extensions=GUARD) as second:
                assert [repr(c) for c in pool.connections] == [connection_repr("ACTIVE", 2)]
                assert repr(pool) == pool_repr(2, 0, 1, 0)
                assert await second.aread() == b"stream 3"
            assert await first.aread() == b"stream 1"
            assert repr(pool) == pool_repr(1, 0, 1, 0)
        assert [repr(c) for c in pool.connections] == [connection_repr("IDLE", 2)]
        assert repr(pool) == pool_repr(0, 0, 0, 1)
    assert [repr(c) for c in pool.connections] == []


# The server's stream limit.


@pytest.mark.anyio
async def test_a_full_connection_makes_the_pool_open_another() -> None:
    # MAX_CONCURRENT_STREAMS 2: responses held open keep their streams, so the third
    # request cannot go on the first connection.
    site = H2Site(max_streams=2)
    async with AsyncConnectionPool(network_backend=site, http2=True) as pool:
        request = Request("GET", URL, headers=[(b"Host", b"example.com")], extensions=GUARD)
        responses = [await pool.handle_async_request(request) for _ in range(4)]
        assert [repr(c) for c in pool.connections] == [
            connection_repr("ACTIVE", 2),
            connection_repr("ACTIVE", 2),
        ]
        assert repr(pool) == pool_repr(4, 0, 2, 0)
        bodies = []
        for response in responses:
            bodies.append(await response.aread())
            await response.aclose()
        assert bodies == [b"stream 1", b"stream 3", b"stream 1", b"stream 3"]
        assert [repr(c) for c in pool.connections] == [
            connection_repr("IDLE", 2),
            connection_repr("IDLE", 2),
        ]
    assert [peer.requests for peer in site.peers] == [2, 2]


@pytest.mark.anyio
async def test_requests_beyond_the_stream_limit_queue_on_a_single_connection() -> None:
    site = H2Site(max_streams=2)
    statuses: List[int] = []

    async def fetch() -> None:
        statuses.append((await pool.request("GET", URL, extensions=GUARD)).status)

    async with AsyncConnectionPool(network_backend=site, http2=True, max_connections=1) as pool:
        async with AsyncTaskGroup() as group:
            for _ in range(12):
                group.start(fetch)
        assert [repr(c) for c in pool.connections] == [connection_repr("IDLE", 12)]
        assert repr(pool) == pool_repr(0, 0, 0, 1)
    assert statuses == [200] * 12
    # h2 on the server side fails the write of a stream beyond its limit.
    assert [peer.requests for peer in site.peers] == [12]
    assert site.peers[0].max_open_streams <= 2


@pytest.mark.anyio
async def test_concurrent_requests_respect_the_stream_limit_over_connections() -> None:
    site = H2Site(max_streams=3)
    statuses: List[int] = []

    async def fetch() -> None:
        statuses.append((await pool.request("GET", URL, extensions=GUARD)).status)

    async with AsyncConnectionPool(network_backend=site, http2=True, max_connections=4) as pool:
        async with AsyncTaskGroup() as group:
            for _ in range(30):
                group.start(fetch)
        connections = pool.connections
        assert 1 <= len(connections) <= 4
        assert all(c.is_idle() for c in connections)
    assert statuses == [200] * 30
    assert all(peer.max_open_streams <= 3 for peer in site.peers)
    assert sum(peer.requests for peer in site.peers) == 30


@pytest.mark.anyio
async def test_stream_limit_lowered_mid_flight_is_honoured() -> None:
    # httpx2#1216: ten streams are in flight when the server lowers its limit to 2; the
    # requests still to send wait for streams to end (h2 on the server side would fail
    # the write of a stream beyond the acknowledged limit), and nothing deadlocks.
    site = H2Site(hold_until=10, lower_limit_to=2)
    statuses: List[int] = []

    async def fetch() -> None:
        statuses.append((await pool.request("GET", URL, extensions=GUARD)).status)

    async with AsyncConnectionPool(network_backend=site, http2=True, max_connections=1) as pool:
        async with AsyncTaskGroup() as group:
            for _ in range(30):
                group.start(fetch)
        assert [repr(c) for c in pool.connections] == [connection_repr("IDLE", 30)]
        inner: Any = pool.connections[0]._connection  # type: ignore[attr-defined]
        assert inner._max_streams == 2
        assert inner._h2_state.open_outbound_streams == 0
    assert statuses == [200] * 30
    assert [peer.requests for peer in site.peers] == [30]
    assert site.peers[0].max_open_streams >= 10


# GOAWAY.


@pytest.mark.anyio
async def test_requests_refused_by_goaway_are_retried_on_a_new_connection() -> None:
    # The first connection takes three requests, answers the first, and goes away naming
    # it as the last one processed: the two others go to a new connection unnoticed.
    site = H2Site(goaway_first_after=3)
    bodies: List[bytes] = []

    async def fetch() -> None:
        bodies.append((await pool.request("GET", URL, extensions=GUARD)).content)

    async with AsyncConnectionPool(network_backend=site, http2=True) as pool:
        async with AsyncTaskGroup() as group:
            for _ in range(3):
                group.start(fetch)
        assert [repr(c) for c in pool.connections] == [connection_repr("IDLE", 2)]
    assert sorted(bodies) == [b"stream 1", b"stream 1", b"stream 3"]
    assert [peer.requests for peer in site.peers] == [3, 2]
    assert site.peers[0].closed


@pytest.mark.anyio
async def test_goaway_after_a_response_sends_the_next_request_elsewhere() -> None:
    site = H2Site(goaway_first_after=1)
    async with AsyncConnectionPool(network_backend=site, http2=True) as pool:
        assert (await pool.request("GET", URL, extensions=GUARD)).content == b"stream 1"
        assert (await pool.request("GET", URL, extensions=GUARD)).content == b"stream 1"
        assert [repr(c) for c in pool.connections] == [connection_repr("IDLE", 1)]
    assert len(site.peers) == 2


# Tracing.


@pytest.mark.anyio
async def test_trace_of_an_http2_request_through_the_pool() -> None:
    called: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        called.append(name)

    async with AsyncConnectionPool(network_backend=H2Site(), http2=True) as pool:
        extensions: Dict[str, Any] = {"trace": trace, **GUARD}
        await pool.request("GET", URL, extensions=extensions)
        first = list(called)
        called.clear()
        await pool.request("GET", URL, extensions=extensions)
    assert first == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "connection.start_tls.started",
        "connection.start_tls.complete",
        "http2.send_connection_init.started",
        "http2.send_connection_init.complete",
        "http2.send_request_headers.started",
        "http2.send_request_headers.complete",
        "http2.send_request_body.started",
        "http2.send_request_body.complete",
        "http2.receive_response_headers.started",
        "http2.receive_remote_settings.started",
        "http2.receive_remote_settings.complete",
        "http2.receive_response_headers.complete",
        "http2.receive_response_body.started",
        "http2.receive_response_body.complete",
        "http2.response_closed.started",
        "http2.response_closed.complete",
    ]
    # A reused connection: no connect, no preface.
    assert called == [
        "http2.send_request_headers.started",
        "http2.send_request_headers.complete",
        "http2.send_request_body.started",
        "http2.send_request_body.complete",
        "http2.receive_response_headers.started",
        "http2.receive_response_headers.complete",
        "http2.receive_response_body.started",
        "http2.receive_response_body.complete",
        "http2.response_closed.started",
        "http2.response_closed.complete",
    ]


# PING liveness check (beyond 1.0.9: http2_ping_after_idle).


@pytest.mark.anyio
async def test_idle_connection_that_answers_the_ping_is_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http2, "monotonic", clock)
    site = H2Site()
    async with AsyncConnectionPool(
        network_backend=site, http2=True, http2_ping_after_idle=10.0
    ) as pool:
        await pool.request("GET", URL, extensions=GUARD)
        clock.now = 111.0
        assert (await pool.request("GET", URL, extensions=GUARD)).content == b"stream 3"
        assert [repr(c) for c in pool.connections] == [connection_repr("IDLE", 2)]
    assert [peer.pings for peer in site.peers] == [1]


@pytest.mark.anyio
async def test_silently_dead_connection_is_replaced_after_the_ping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http2, "monotonic", clock)
    monkeypatch.setattr(http2, "PING_TIMEOUT_S", SILENCE_S)
    site = H2Site()
    async with AsyncConnectionPool(
        network_backend=site, http2=True, http2_ping_after_idle=10.0
    ) as pool:
        await pool.request("GET", URL, extensions=GUARD)
        site.peers[0].go_silent()
        clock.now = 111.0
        response = await pool.request("GET", URL, extensions=GUARD)
        assert response.content == b"stream 1"  # The first stream of a new connection.
        assert [repr(c) for c in pool.connections] == [connection_repr("IDLE", 1)]
    dead, fresh = site.peers
    assert (dead.pings, dead.requests, dead.closed) == (1, 1, True)
    assert (fresh.pings, fresh.requests) == (0, 1)


@pytest.mark.anyio
async def test_no_ping_before_the_idle_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http2, "monotonic", clock)
    site = H2Site()
    async with AsyncConnectionPool(
        network_backend=site, http2=True, http2_ping_after_idle=10.0
    ) as pool:
        await pool.request("GET", URL, extensions=GUARD)
        clock.now = 109.0
        await pool.request("GET", URL, extensions=GUARD)
    assert [peer.pings for peer in site.peers] == [0]


@pytest.mark.anyio
async def test_no_ping_without_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http2, "monotonic", clock)
    site = H2Site()
    async with AsyncConnectionPool(network_backend=site, http2=True) as pool:
        await pool.request("GET", URL, extensions=GUARD)
        clock.now = 10_000.0
        await pool.request("GET", URL, extensions=GUARD)
    assert [peer.pings for peer in site.peers] == [0]


def test_ping_option_is_keyword_only_after_the_109_parameters() -> None:
    # Every 1.0.9 positional call still binds as before.
    pool = AsyncConnectionPool(None, None, 10, None, None, True, True, 0, None, None, None, None)
    assert pool._http2_ping_after_idle is None
    with pytest.raises(TypeError):
        AsyncConnectionPool(None, None, 10, None, None, True, True, 0, None, None, None, None, 5.0)  # type: ignore[call-arg]
    assert AsyncConnectionPool(http2_ping_after_idle=5.0)._http2_ping_after_idle == 5.0
