"""``AsyncHTTP2Connection`` (API.md §6.4, §5.6, §9, §11) driven by scripted streams.

The server's frames come from a server-side h2 connection that was shown the requests the
test is about to make; what the client writes is fed to a second server-side h2 connection,
so tests check the frames the client sent, not bytes.
"""

from __future__ import annotations

import logging
from typing import Any, AsyncIterator, Dict, List, Tuple

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import pytest
from hyperframe.frame import GoAwayFrame, PingFrame

from httpcore._backends._async.mock import AsyncMockStream
from httpcore._core._exceptions import (
    ConnectionNotAvailable,
    LocalProtocolError,
    ReadError,
    RemoteProtocolError,
)
from httpcore._core._models import Origin, Request
from httpcore._protocols._async import http2
from httpcore._protocols._async.http2 import AsyncHTTP2Connection
from tests.protocols._concurrency import AsyncTaskGroup
from tests.protocols._shields import CountingShield

ORIGIN = Origin(b"https", b"example.com", 443)
URL = "https://example.com/"
HELLO = b"Hello, world!"


class RecordingStream(AsyncMockStream):
    """A mock stream that keeps what the client wrote."""

    def __init__(self, buffer: List[bytes]) -> None:
        super().__init__(buffer)
        self.written: List[bytes] = []

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.written.append(buffer)

    def received_events(self) -> List[h2.events.Event]:
        """What a server makes of everything the client wrote."""
        server = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, validate_inbound_headers=False)
        )
        # Windows large enough for any body a test sends.
        server.local_settings = h2.settings.Settings(
            client=False, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 2**31 - 1}
        )
        server.increment_flow_control_window(2**31 - 1 - 65535)
        return server.receive_data(b"".join(self.written))


def scripted_server(requests: int = 1, with_body: bool = False) -> h2.connection.H2Connection:
    """A server-side h2 connection that has seen ``requests`` requests (streams 1, 3, ...),
    its own preface still to send: the frames it produces are the script of a test."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    for index in range(requests):
        client.send_headers(
            2 * index + 1,
            [(":method", "GET"), (":authority", "example.com"), (":scheme", "https"), (":path", "/")],
            end_stream=not with_body,
        )
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    server.initiate_connection()
    preface = server.data_to_send()
    server.receive_data(client.data_to_send())
    server.data_to_send()  # Replies to the scratch client: not part of the script.
    server._test_preface = preface  # type: ignore[attr-defined]
    return server


def preface(server: h2.connection.H2Connection) -> bytes:
    return server._test_preface  # type: ignore[attr-defined,no-any-return]


def response(
    server: h2.connection.H2Connection,
    stream_id: int,
    body: bytes = HELLO,
    status: int = 200,
) -> List[bytes]:
    """The frames of a whole response, as two reads: the head, then the body."""
    server.send_headers(stream_id, [(":status", str(status)), ("content-type", "plain/text")])
    head = server.data_to_send()
    server.send_data(stream_id, body, end_stream=True)
    return [head, server.data_to_send()]


def settings_frame(server: h2.connection.H2Connection, values: Dict[int, int]) -> bytes:
    server.update_settings(values)
    return server.data_to_send()


async def chunks(*items: bytes) -> AsyncIterator[bytes]:
    for item in items:
        yield item


# A fresh connection, and a successful exchange.


@pytest.mark.anyio
async def test_new_connection_is_idle_and_available() -> None:
    conn = AsyncHTTP2Connection(ORIGIN, AsyncMockStream([]))
    assert conn.is_idle()
    assert conn.is_available()
    assert not conn.is_closed()
    assert not conn.has_expired()
    assert conn.can_handle_request(ORIGIN)
    assert not conn.can_handle_request(Origin(b"http", b"example.com", 80))
    assert repr(conn) == "<AsyncHTTP2Connection ['https://example.com:443', IDLE, Request Count: 0]>"
    assert conn.info() == "'https://example.com:443', HTTP/2, IDLE, Request Count: 0"


@pytest.mark.anyio
async def test_get_request() -> None:
    server = scripted_server()
    stream = RecordingStream([preface(server), *response(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        result = await conn.request("GET", URL)
        assert result.status == 200
        assert result.headers == [(b"content-type", b"plain/text")]
        assert result.content == HELLO
        assert result.extensions == {
            "http_version": b"HTTP/2",
            "network_stream": stream,
            "stream_id": 1,
        }
        assert repr(conn) == "<AsyncHTTP2Connection ['https://example.com:443', IDLE, Request Count: 1]>"
        assert conn.is_available()
        assert conn._h2_state.open_outbound_streams == 0
    assert conn.is_closed()
    assert repr(conn) == "<AsyncHTTP2Connection ['https://example.com:443', CLOSED, Request Count: 1]>"


@pytest.mark.anyio
async def test_state_is_active_while_a_response_is_open() -> None:
    server = scripted_server()
    stream = RecordingStream([preface(server), *response(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL) as result:
            assert conn.info() == "'https://example.com:443', HTTP/2, ACTIVE, Request Count: 1"
            assert not conn.is_idle()
            await result.aread()
        assert conn.is_idle()


@pytest.mark.anyio
async def test_requests_go_out_on_odd_stream_ids_in_order() -> None:
    server = scripted_server(requests=2)
    stream = RecordingStream(
        [preface(server), *response(server, 1, b"one"), *response(server, 3, b"two")]
    )
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        first = await conn.request("GET", URL)
        second = await conn.request("GET", URL)
    assert (first.content, first.extensions["stream_id"]) == (b"one", 1)
    assert (second.content, second.extensions["stream_id"]) == (b"two", 3)


@pytest.mark.anyio
async def test_preface_settings_and_window_updates() -> None:
    server = scripted_server()
    stream = RecordingStream([preface(server), *response(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request("GET", URL)
    events = stream.received_events()
    settings = events[0]
    assert isinstance(settings, h2.events.RemoteSettingsChanged)
    codes = h2.settings.SettingCodes
    sent = {code: change.new_value for code, change in settings.changed_settings.items()}
    assert sent[codes.ENABLE_PUSH] == 0
    assert sent[codes.MAX_CONCURRENT_STREAMS] == 100
    assert sent[codes.MAX_HEADER_LIST_SIZE] == 65536
    assert codes.ENABLE_CONNECT_PROTOCOL not in sent
    updates = [(e.stream_id, e.delta) for e in events if isinstance(e, h2.events.WindowUpdated)]
    assert (0, 2**24) in updates
    assert (1, 2**24) in updates


@pytest.mark.anyio
async def test_request_header_fields() -> None:
    server = scripted_server()
    stream = RecordingStream([preface(server), *response(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request(
            "GET",
            URL,
            headers=[
                (b"Host", b"example.com"),
                (b"Accept", b"*/*"),
                (b"Connection", b"keep-alive"),
                (b"X-Custom", b"Value"),
            ],
        )
    (request,) = [e for e in stream.received_events() if isinstance(e, h2.events.RequestReceived)]
    assert request.headers == [
        (b":method", b"GET"),
        (b":authority", b"example.com"),
        (b":scheme", b"https"),
        (b":path", b"/"),
        (b"accept", b"*/*"),
        (b"x-custom", b"Value"),
    ]
    assert request.stream_ended is not None  # No body: END_STREAM on the HEADERS.


# Request bodies and flow control.


@pytest.mark.anyio
async def test_post_waits_for_window_updates() -> None:
    body = b"x" * 100_000
    server = scripted_server(with_body=True)
    server.increment_flow_control_window(50_000)
    server.increment_flow_control_window(50_000, stream_id=1)
    first_update = server.data_to_send()
    server.increment_flow_control_window(50_000)
    server.increment_flow_control_window(50_000, stream_id=1)
    second_update = server.data_to_send()
    stream = RecordingStream(
        [preface(server), first_update, second_update, *response(server, 1, b"done")]
    )
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        result = await conn.request("POST", URL, content=body)
    assert result.content == b"done"
    data = [e for e in stream.received_events() if isinstance(e, h2.events.DataReceived)]
    assert b"".join(e.data or b"" for e in data) == body
    assert data[-1].stream_ended is not None


@pytest.mark.anyio
async def test_streamed_request_body() -> None:
    server = scripted_server(with_body=True)
    stream = RecordingStream([preface(server), *response(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        result = await conn.request(
            "POST",
            URL,
            headers=[(b"Host", b"example.com"), (b"Transfer-Encoding", b"chunked")],
            content=chunks(b"abc", b"def"),
        )
    assert result.status == 200
    events = stream.received_events()
    (request,) = [e for e in events if isinstance(e, h2.events.RequestReceived)]
    assert all(name != b"transfer-encoding" for name, _ in request.headers)
    data = [e.data for e in events if isinstance(e, h2.events.DataReceived)]
    assert b"".join(d or b"" for d in data) == b"abcdef"


@pytest.mark.anyio
async def test_negative_send_window_after_settings_is_waited_out() -> None:
    # httpcore#1082: a SETTINGS frame lowering INITIAL_WINDOW_SIZE after the client used its
    # window makes the window negative; the client must wait, not send (or fail).
    body = b"y" * 100_000
    server = scripted_server(with_body=True)
    shrink = settings_frame(server, {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000})
    # Credit that leaves the stream window still negative: the client must keep waiting.
    server.increment_flow_control_window(40_000, stream_id=1)
    server.increment_flow_control_window(100_000)
    not_enough = server.data_to_send()
    # Enough for the rest of the body: 1000 - 65535 + 40000 + 60000 = 35465 > 34465.
    server.increment_flow_control_window(60_000, stream_id=1)
    enough = server.data_to_send()
    stream = RecordingStream(
        [preface(server), shrink, not_enough, enough, *response(server, 1, b"ok")]
    )
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        result = await conn.request("POST", URL, content=body)
    assert result.content == b"ok"
    data = [e for e in stream.received_events() if isinstance(e, h2.events.DataReceived)]
    assert b"".join(e.data or b"" for e in data) == body


# Responses.


@pytest.mark.anyio
async def test_trailers_are_in_the_response_extensions() -> None:
    # httpx#1149: 1.0.9 drops trailers; here they are kept for the caller.
    server = scripted_server()
    server.send_headers(1, [(":status", "200")])
    server.send_data(1, HELLO)
    server.send_headers(1, [("grpc-status", "0"), ("grpc-message", "ok")], end_stream=True)
    stream = RecordingStream([preface(server), server.data_to_send()])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL) as result:
            assert "trailing_headers" not in result.extensions
            body = await result.aread()
        assert body == HELLO
        assert result.extensions["trailing_headers"] == [
            (b"grpc-status", b"0"),
            (b"grpc-message", b"ok"),
        ]
        assert conn.is_idle()


@pytest.mark.anyio
async def test_interim_responses_are_skipped() -> None:
    server = scripted_server()
    server.send_headers(1, [(":status", "103"), ("link", "</style.css>")])
    interim = server.data_to_send()
    stream = RecordingStream([preface(server), interim, *response(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        result = await conn.request("GET", URL)
    assert result.status == 200
    assert result.content == HELLO


@pytest.mark.anyio
async def test_response_closed_before_its_end_resets_the_stream() -> None:
    server = scripted_server()
    server.send_headers(1, [(":status", "200")])
    server.send_data(1, b"part of it")
    stream = RecordingStream([preface(server), server.data_to_send()])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL) as result:
            assert result.status == 200
        assert conn.is_idle()
        assert conn._h2_state.open_outbound_streams == 0
    resets = [e for e in stream.received_events() if isinstance(e, h2.events.StreamReset)]
    assert [(e.stream_id, e.error_code) for e in resets] == [(1, h2.errors.ErrorCodes.CANCEL)]


@pytest.mark.anyio
async def test_releasing_a_stream_is_shielded_only_when_it_has_io_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A read-through response leaves nothing to send; one closed early sends a reset,
    # shielded. (A shield costs a few microseconds when anyio is loaded.)
    monkeypatch.setattr(http2, "AsyncShieldCancellation", CountingShield.counting())
    server = scripted_server(requests=2)
    first = response(server, 1)
    server.send_headers(3, [(":status", "200")])
    server.send_data(3, b"part of it")
    stream = RecordingStream([preface(server), *first, server.data_to_send()])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL) as result:
            assert await result.aread() == HELLO
            before_close = CountingShield.entered  # (writes are shielded too)
        assert CountingShield.entered == before_close
        async with conn.stream("GET", URL) as early:
            assert early.status == 200
            before_close = CountingShield.entered
        assert CountingShield.entered > before_close
        assert conn.is_idle()
    resets = [e for e in stream.received_events() if isinstance(e, h2.events.StreamReset)]
    assert [e.stream_id for e in resets] == [3]


@pytest.mark.anyio
async def test_response_without_body() -> None:
    server = scripted_server()
    server.send_headers(1, [(":status", "204")], end_stream=True)
    stream = RecordingStream([preface(server), server.data_to_send()])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        result = await conn.request("GET", URL)
        assert result.status == 204
        assert result.content == b""
        assert conn.is_idle()


@pytest.mark.anyio
async def test_early_response_stops_the_upload() -> None:
    # A server may answer before the body is in (a 413) and reset the stream with NO_ERROR:
    # the client stops sending and returns the response.
    server = scripted_server(with_body=True)
    server.send_headers(1, [(":status", "413")])
    server.send_data(1, b"too large", end_stream=True)
    server.reset_stream(1, h2.errors.ErrorCodes.NO_ERROR)
    stream = RecordingStream([preface(server), server.data_to_send()])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        result = await conn.request("POST", URL, content=b"z" * 1_000_000)
        assert result.status == 413
        assert result.content == b"too large"
        assert conn.is_idle()
        assert conn._h2_state.open_outbound_streams == 0
    data = [e for e in stream.received_events() if isinstance(e, h2.events.DataReceived)]
    assert sum(len(e.data or b"") for e in data) == 65535  # One window, no more.


# Errors.


@pytest.mark.anyio
async def test_stream_reset_fails_only_that_request() -> None:
    server = scripted_server(requests=2)
    server.reset_stream(1, h2.errors.ErrorCodes.INTERNAL_ERROR)
    reset = server.data_to_send()
    stream = RecordingStream([preface(server), reset, *response(server, 3)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        with pytest.raises(RemoteProtocolError) as info:
            await conn.request("GET", URL)
        # h2 prints the code with str(): "2" from Python 3.11 on, "ErrorCodes.INTERNAL_ERROR"
        # before (str() of an IntEnum member changed in 3.11).
        code = h2.errors.ErrorCodes.INTERNAL_ERROR
        expected = f"<StreamReset stream_id:1, error_code:{code!s}, remote_reset:True>"
        assert str(info.value) == expected
        result = await conn.request("GET", URL)
        assert result.content == HELLO
        assert result.extensions["stream_id"] == 3
        assert conn.info() == "'https://example.com:443', HTTP/2, IDLE, Request Count: 2"


def goaway(last_stream_id: int, error_code: int = 0) -> bytes:
    return GoAwayFrame(stream_id=0, last_stream_id=last_stream_id, error_code=error_code).serialize()


@pytest.mark.anyio
async def test_goaway_refuses_the_streams_the_server_did_not_process() -> None:
    server = scripted_server()
    stream = RecordingStream([preface(server), *response(server, 1), goaway(1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request("GET", URL)
        with pytest.raises(ConnectionNotAvailable):
            await conn.request("GET", URL)
        # The refused request does not count; the connection is done.
        assert not conn.is_available()
        assert repr(conn) == "<AsyncHTTP2Connection ['https://example.com:443', CLOSED, Request Count: 1]>"
        with pytest.raises(ConnectionNotAvailable):
            await conn.request("GET", URL)


@pytest.mark.anyio
async def test_goaway_with_last_stream_id_zero_fails_the_request_in_flight() -> None:
    server = scripted_server()
    head, body = response(server, 1)
    stream = RecordingStream([preface(server), head, goaway(0), body])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        with pytest.raises(RemoteProtocolError) as info:
            await conn.request("GET", URL)
        assert "ConnectionTerminated" in str(info.value)
        with pytest.raises(ConnectionNotAvailable):
            await conn.request("GET", URL)


@pytest.mark.anyio
async def test_graceful_goaway_lets_processed_streams_finish() -> None:
    # The GOAWAY arrives in the same read as the response head, and the body after it:
    # h2 alone would lose the head and refuse the body.
    server = scripted_server()
    head, body = response(server, 1)
    stream = RecordingStream([preface(server), head + goaway(1), body])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        result = await conn.request("GET", URL)
        assert result.content == HELLO
        assert conn.is_closed()
        with pytest.raises(ConnectionNotAvailable):
            await conn.request("GET", URL)


@pytest.mark.anyio
async def test_abortive_goaway_fails_processed_streams() -> None:
    server = scripted_server()
    head, body = response(server, 1)
    stream = RecordingStream([preface(server), head, goaway(1, error_code=2), body])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        with pytest.raises(RemoteProtocolError):
            await conn.request("GET", URL)
        assert conn.is_closed()


@pytest.mark.anyio
async def test_server_disconnect_is_remembered() -> None:
    server = scripted_server()
    stream = RecordingStream([preface(server)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        with pytest.raises(RemoteProtocolError) as info:
            await conn.request("GET", URL)
        assert str(info.value) == "Server disconnected"
        assert not conn.is_available()
        assert conn.is_closed()


class FailingReadStream(RecordingStream):
    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if not self._buffer:
            raise ReadError("Connection reset by peer")
        return await super().read(max_bytes, timeout)


@pytest.mark.anyio
async def test_read_error_while_a_request_waits() -> None:
    server = scripted_server()
    stream = FailingReadStream([preface(server)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        with pytest.raises(ReadError):
            await conn.request("GET", URL)
        assert not conn.is_available()
        with pytest.raises(ConnectionNotAvailable):
            await conn.request("GET", URL)


@pytest.mark.anyio
async def test_protocol_error_of_the_server_is_remote_protocol_error() -> None:
    server = scripted_server()
    # A DATA frame on stream 0 breaks the protocol.
    bad = b"\x00\x00\x01\x00\x00\x00\x00\x00\x00x"
    stream = RecordingStream([preface(server), bad])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        with pytest.raises(RemoteProtocolError):
            await conn.request("GET", URL)
        assert not conn.is_available()


@pytest.mark.anyio
async def test_missing_host_header_is_local_protocol_error() -> None:
    async with AsyncHTTP2Connection(ORIGIN, RecordingStream([])) as conn:
        with pytest.raises(LocalProtocolError):
            await conn.handle_async_request(Request("GET", URL))
        assert conn.info() == "'https://example.com:443', HTTP/2, IDLE, Request Count: 1"


@pytest.mark.anyio
async def test_pseudo_header_in_the_headers_is_local_protocol_error() -> None:
    server = scripted_server()
    stream = RecordingStream([preface(server), *response(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        with pytest.raises(LocalProtocolError):
            await conn.request("GET", URL, headers={":path": "/other"})
        assert conn.is_idle()
        assert conn.is_available()
        assert conn._h2_state.open_outbound_streams == 0
        result = await conn.request("GET", URL, headers={"TE": "gzip"})
        assert result.status == 200


@pytest.mark.anyio
async def test_closed_connection_refuses_requests() -> None:
    stream = RecordingStream([])
    conn = AsyncHTTP2Connection(ORIGIN, stream)
    await conn.aclose()
    assert conn.is_closed()
    assert not conn.is_available()
    assert stream._closed
    with pytest.raises(ConnectionNotAvailable):
        await conn.request("GET", URL)


# Settings, PING.


@pytest.mark.anyio
async def test_stream_limit_follows_remote_settings() -> None:
    server = scripted_server(requests=2)
    codes = h2.settings.SettingCodes
    many = settings_frame(server, {codes.MAX_CONCURRENT_STREAMS: 1000})
    fewer = settings_frame(server, {codes.MAX_CONCURRENT_STREAMS: 50})
    stream = RecordingStream(
        [preface(server), many, *response(server, 1), fewer, *response(server, 3)]
    )
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        assert conn._max_streams == 1
        await conn.request("GET", URL)
        assert conn._h2_state.remote_settings.max_concurrent_streams == 1000
        assert conn._h2_state.local_settings.max_concurrent_streams == 100
        assert conn._max_streams == 100
        await conn.request("GET", URL)
        assert conn._max_streams == 50


@pytest.mark.anyio
async def test_ping_is_answered() -> None:
    server = scripted_server()
    ping = PingFrame(stream_id=0, opaque_data=b"abcdefgh").serialize()
    stream = RecordingStream([preface(server), ping, *response(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request("GET", URL)
    acks = [e for e in stream.received_events() if isinstance(e, h2.events.PingAckReceived)]
    assert [e.ping_data for e in acks] == [b"abcdefgh"]


# Keep-alive.


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.anyio
async def test_keepalive_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http2, "monotonic", clock)
    server = scripted_server()
    stream = RecordingStream([preface(server), *response(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream, keepalive_expiry=5.0) as conn:
        await conn.request("GET", URL)
        clock.now = 105.0
        assert not conn.has_expired()
        clock.now = 105.5
        assert conn.has_expired()


# Tracing.


@pytest.mark.anyio
async def test_trace_events() -> None:
    server = scripted_server()
    stream = RecordingStream([preface(server), *response(server, 1)])
    called: List[Tuple[str, Dict[str, Any]]] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        called.append((name, dict(info)))

    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request("GET", URL, extensions={"trace": trace})
    assert [name for name, _ in called] == [
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
    info = dict(called)
    assert set(info["http2.send_request_headers.started"]) == {"request", "stream_id"}
    assert info["http2.send_request_headers.started"]["stream_id"] == 1
    assert info["http2.receive_response_headers.complete"]["return_value"] == (
        200,
        [(b"content-type", b"plain/text")],
    )
    settings = info["http2.receive_remote_settings.complete"]["return_value"]
    assert isinstance(settings, h2.events.RemoteSettingsChanged)
    assert info["http2.response_closed.started"] == {"stream_id": 1}


@pytest.mark.anyio
async def test_debug_logging(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore.http2")
    server = scripted_server()
    stream = RecordingStream([preface(server), *response(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request("GET", URL)
    messages = [r.getMessage() for r in caplog.records if r.name == "httpcore.http2"]
    assert messages[0] == "send_connection_init.started request=<Request [b'GET']>"
    assert "send_request_headers.started request=<Request [b'GET']> stream_id=1" in messages
    assert messages[-2:] == ["response_closed.started stream_id=1", "response_closed.complete"]


@pytest.mark.anyio
async def test_second_request_sends_no_second_preface() -> None:
    server = scripted_server(requests=2)
    stream = RecordingStream([preface(server), *response(server, 1), *response(server, 3)])
    called: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        called.append(name)

    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request("GET", URL)
        await conn.request("GET", URL, extensions={"trace": trace})
    assert called[0] == "http2.send_request_headers.started"
    settings = [e for e in stream.received_events() if isinstance(e, h2.events.RemoteSettingsChanged)]
    assert len(settings) == 1



# Liveness check of idle connections (beyond 1.0.9).


def ping_ack(number: int) -> bytes:
    return PingFrame(stream_id=0, opaque_data=number.to_bytes(8, "big"), flags=["ACK"]).serialize()


def pings_sent(stream: RecordingStream) -> List[bytes]:
    return [
        e.ping_data or b""
        for e in stream.received_events()
        if isinstance(e, h2.events.PingReceived)
    ]


@pytest.mark.anyio
async def test_idle_connection_is_pinged_before_reuse(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http2, "monotonic", clock)
    server = scripted_server(requests=2)
    stream = RecordingStream(
        [preface(server), *response(server, 1), ping_ack(1), *response(server, 3, b"again")]
    )
    async with AsyncHTTP2Connection(ORIGIN, stream, ping_after_idle=10.0) as conn:
        await conn.request("GET", URL)
        clock.now = 110.5
        result = await conn.request("GET", URL)
        assert result.content == b"again"
        assert conn.info() == "'https://example.com:443', HTTP/2, IDLE, Request Count: 2"
    assert pings_sent(stream) == [(1).to_bytes(8, "big")]


@pytest.mark.anyio
async def test_dead_idle_connection_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http2, "monotonic", clock)
    server = scripted_server()
    stream = RecordingStream([preface(server), *response(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream, ping_after_idle=10.0) as conn:
        await conn.request("GET", URL)
        clock.now = 200.0
        # The server is gone: the pool would retry the request on a new connection.
        with pytest.raises(ConnectionNotAvailable):
            await conn.request("GET", URL)
        assert conn.is_closed()
        assert conn.info() == "'https://example.com:443', HTTP/2, CLOSED, Request Count: 1"


@pytest.mark.anyio
async def test_recently_used_connection_is_not_pinged(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http2, "monotonic", clock)
    server = scripted_server(requests=2)
    stream = RecordingStream([preface(server), *response(server, 1), *response(server, 3)])
    async with AsyncHTTP2Connection(ORIGIN, stream, ping_after_idle=10.0) as conn:
        await conn.request("GET", URL)
        clock.now = 109.0
        await conn.request("GET", URL)
    assert pings_sent(stream) == []


@pytest.mark.anyio
async def test_no_liveness_check_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http2, "monotonic", clock)
    server = scripted_server(requests=2)
    stream = RecordingStream([preface(server), *response(server, 1), *response(server, 3)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request("GET", URL)
        clock.now = 10_000.0
        await conn.request("GET", URL)
    assert pings_sent(stream) == []


@pytest.mark.anyio
async def test_requests_arriving_during_the_liveness_check_wait_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http2, "monotonic", clock)
    server = scripted_server(requests=11)
    script = [preface(server), *response(server, 1), ping_ack(1)]
    for stream_id in range(3, 23, 2):
        script.extend(response(server, stream_id))
    stream = RecordingStream(script)
    statuses: List[int] = []

    async def fetch() -> None:
        statuses.append((await conn.request("GET", URL)).status)

    async with AsyncHTTP2Connection(ORIGIN, stream, ping_after_idle=10.0) as conn:
        await conn.request("GET", URL)
        clock.now = 120.0
        async with AsyncTaskGroup() as group:
            for _ in range(10):
                group.start(fetch)
        assert statuses == [200] * 10
        assert conn.info() == "'https://example.com:443', HTTP/2, IDLE, Request Count: 11"
    assert pings_sent(stream) == [(1).to_bytes(8, "big")]
