"""Details of API.md §6.4 and §15 (checklist rows 61-73 and 104) that the other HTTP/2
tests leave open, each pinned on ``AsyncHTTP2Connection`` over a scripted stream.

The server's frames are made by a server-side h2 connection that was shown the requests
beforehand; what the client wrote is split into frames (hyperframe) or fed to another
server-side h2 connection, so the tests look at frames, not at bytes.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any, Dict, List, Optional, Tuple

import h2
import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hpack
import pytest
from hyperframe.frame import (
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

from httpcore._backends._async.mock import AsyncMockStream
from httpcore._core._exceptions import (
    ConnectionNotAvailable,
    LocalProtocolError,
    ReadError,
    RemoteProtocolError,
    WriteError,
)
from httpcore._core._models import Origin, Request
from httpcore._protocols._async import http2
from httpcore._protocols._async.http2 import AsyncHTTP2Connection

ORIGIN = Origin(b"https", b"example.com", 443)
URL = "https://example.com/"
HELLO = b"Hello, world!"
CLIENT_MAGIC = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_HEADER_BYTES = 9


class ScriptedStream(AsyncMockStream):
    """A mock stream that keeps what the client wrote; it can fail writes (``write_error``,
    once set), fail reads once its script is used up (``read_error``), and say it is
    readable."""

    def __init__(self, buffer: List[bytes]) -> None:
        super().__init__(buffer)
        self.written: List[bytes] = []
        self.write_attempts = 0
        self.write_error: Optional[Exception] = None
        self.read_error: Optional[Exception] = None
        self.failed_reads = 0
        self.readable = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if not self._buffer and self.read_error is not None:
            self.failed_reads += 1
            raise self.read_error
        return await super().read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.write_attempts += 1
        if self.write_error is not None:
            raise self.write_error
        self.written.append(buffer)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return self.readable
        return super().get_extra_info(info)

    def frames(self) -> List[Frame]:
        """Every frame the client wrote, in order (after the connection preface magic)."""
        data = b"".join(self.written)
        assert data.startswith(CLIENT_MAGIC)
        view = memoryview(data)[len(CLIENT_MAGIC) :]
        result: List[Frame] = []
        while view:
            frame, length = Frame.parse_frame_header(view[:FRAME_HEADER_BYTES])
            frame.parse_body(view[FRAME_HEADER_BYTES : FRAME_HEADER_BYTES + length])
            result.append(frame)
            view = view[FRAME_HEADER_BYTES + length :]
        return result

    def requests_received(self) -> List[h2.events.Event]:
        """The requests (HEADERS) and bodies (DATA) a server makes of what was written."""
        server = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, validate_inbound_headers=False)
        )
        events = server.receive_data(b"".join(self.written))
        return [
            e for e in events if isinstance(e, (h2.events.RequestReceived, h2.events.DataReceived))
        ]


def script(requests: int = 1, window: int = 0) -> Tuple[h2.connection.H2Connection, bytes]:
    """A server-side h2 connection that has seen ``requests`` GET requests (streams 1, 3,
    ...) from a client that raised its receive windows by ``window``, and the server's
    preface: what it produces next is the script of a test."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    if window:
        client.increment_flow_control_window(window)
    for index in range(requests):
        stream_id = 2 * index + 1
        client.send_headers(
            stream_id,
            [(":method", "GET"), (":authority", "example.com"), (":scheme", "https"), (":path", "/")],
            end_stream=True,
        )
        if window:
            client.increment_flow_control_window(window, stream_id=stream_id)
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    server.initiate_connection()
    preface = server.data_to_send()
    server.receive_data(client.data_to_send())
    server.data_to_send()  # Its replies to the scratch client are not part of the script.
    return server, preface


def head(server: h2.connection.H2Connection, stream_id: int, status: int = 200) -> bytes:
    server.send_headers(stream_id, [(":status", str(status)), ("content-type", "text/plain")])
    return server.data_to_send()


def body(server: h2.connection.H2Connection, stream_id: int, data: bytes = HELLO) -> bytes:
    server.send_data(stream_id, data, end_stream=True)
    return server.data_to_send()


def goaway(last_stream_id: int, error_code: int = 0) -> bytes:
    return GoAwayFrame(stream_id=0, last_stream_id=last_stream_id, error_code=error_code).serialize()


def max_streams_frame(server: h2.connection.H2Connection, value: int) -> bytes:
    server.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: value})
    return server.data_to_send()


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# Row 62: the connection preface.


@pytest.mark.anyio
async def test_preface_is_our_settings_then_a_window_update_before_the_first_headers() -> None:
    server, preface = script()
    stream = ScriptedStream([preface, head(server, 1), body(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request("GET", URL)
    frames = stream.frames()
    settings, update, headers = frames[0], frames[1], frames[2]
    assert isinstance(settings, SettingsFrame) and "ACK" not in settings.flags
    codes = h2.settings.SettingCodes
    # Ours, plus h2's defaults for the rest; no ENABLE_CONNECT_PROTOCOL.
    assert settings.settings == {
        codes.HEADER_TABLE_SIZE: 4096,
        codes.ENABLE_PUSH: 0,
        codes.MAX_CONCURRENT_STREAMS: 100,
        codes.INITIAL_WINDOW_SIZE: 65535,
        codes.MAX_FRAME_SIZE: 16384,
        codes.MAX_HEADER_LIST_SIZE: 65536,
    }
    assert isinstance(update, WindowUpdateFrame)
    assert (update.stream_id, update.window_increment) == (0, 2**24)
    assert isinstance(headers, HeadersFrame) and headers.stream_id == 1
    stream_update = frames[3]
    assert isinstance(stream_update, WindowUpdateFrame)
    assert (stream_update.stream_id, stream_update.window_increment) == (1, 2**24)


@pytest.mark.anyio
async def test_failed_preface_closes_the_connection_and_raises() -> None:
    stream = ScriptedStream([])
    stream.write_error = WriteError("Broken pipe")
    conn = AsyncHTTP2Connection(ORIGIN, stream)
    with pytest.raises(WriteError) as info:
        await conn.request("GET", URL)
    assert info.value is stream.write_error
    assert conn.is_closed()
    assert stream._closed
    with pytest.raises(ConnectionNotAvailable):
        await conn.request("GET", URL)


# Rows 63 and 104: the stream slots, ``_max_streams`` and ``_h2_state``.


@pytest.mark.anyio
async def test_stream_slots_start_at_one_and_follow_the_remote_limit_capped_at_100() -> None:
    server, preface = script(requests=2)
    many = max_streams_frame(server, 1000)
    fewer = max_streams_frame(server, 50)
    stream = ScriptedStream(
        [preface, many, head(server, 1), body(server, 1), fewer, head(server, 3), body(server, 3)]
    )
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        assert isinstance(conn._h2_state, h2.connection.H2Connection)
        assert conn._max_streams == 1
        assert conn._slots.limit == 1
        await conn.request("GET", URL)
        assert conn._h2_state.remote_settings.max_concurrent_streams == 1000
        assert conn._h2_state.local_settings.max_concurrent_streams == 100
        assert (conn._max_streams, conn._slots.limit) == (100, 100)
        await conn.request("GET", URL)
        assert conn._h2_state.remote_settings.max_concurrent_streams == 50
        assert (conn._max_streams, conn._slots.limit) == (50, 50)
        assert conn._slots.in_use == 0


@pytest.mark.anyio
async def test_remote_limit_of_zero_leaves_the_slots_and_refuses_new_streams() -> None:
    # §6.4: a MAX_CONCURRENT_STREAMS of 0 is ignored for the limit. Deviation (see
    # ``_open_stream`` in http2.py): the next request is ConnectionNotAvailable, so that the pool
    # sends it elsewhere, instead of h2's refusal surfacing as LocalProtocolError.
    server, preface = script()
    first_head = head(server, 1)
    rest = body(server, 1) + max_streams_frame(server, 0)
    stream = ScriptedStream([preface, first_head, rest])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request("GET", URL)
        # The SETTINGS frame with 0 came with the end of the first response.
        with pytest.raises(ConnectionNotAvailable):
            await conn.request("GET", URL)
        assert conn._h2_state.remote_settings.max_concurrent_streams == 0
        assert (conn._max_streams, conn._slots.limit) == (100, 100)
        assert not conn.is_available()


# Row 64: the request's header fields.


@pytest.mark.anyio
async def test_pseudo_headers_come_from_the_first_host_the_scheme_and_the_target() -> None:
    origin = Origin(b"http", b"example.com", 8080)
    server, preface = script()
    stream = ScriptedStream([preface, head(server, 1), body(server, 1)])
    async with AsyncHTTP2Connection(origin, stream) as conn:
        request = Request(
            "DELETE",
            "http://example.com:8080/a/b?c=d",
            headers=[
                (b"Host", b"first.example"),
                (b"X-Mixed-Case", b"Value"),
                (b"HOST", b"second.example"),
                (b"Transfer-Encoding", b"chunked"),
            ],
            content=b"x",
        )
        response = await conn.handle_async_request(request)
        await response.aread()
        await response.aclose()
    (sent, data, *_) = stream.requests_received()
    assert isinstance(sent, h2.events.RequestReceived)
    assert sent.headers == [
        (b":method", b"DELETE"),
        (b":authority", b"first.example"),
        (b":scheme", b"http"),
        (b":path", b"/a/b?c=d"),
        (b"x-mixed-case", b"Value"),
    ]
    assert isinstance(data, h2.events.DataReceived) and data.data == b"x"


# Row 65: request bodies.


@pytest.mark.anyio
async def test_body_is_not_sent_without_content_length_or_transfer_encoding() -> None:
    server, preface = script()
    stream = ScriptedStream([preface, head(server, 1), body(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        request = Request("POST", URL, headers=[(b"Host", b"example.com")], content=b"unsent")
        response = await conn.handle_async_request(request)
        await response.aread()
        await response.aclose()
    events = stream.requests_received()
    assert [type(e) for e in events] == [h2.events.RequestReceived]
    assert events[0].stream_ended is not None  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_body_goes_in_frames_of_at_most_the_frame_size_then_an_empty_end_stream() -> None:
    server, preface = script()
    stream = ScriptedStream([preface, head(server, 1), body(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request("POST", URL, content=b"b" * 40_000)
    data = [f for f in stream.frames() if isinstance(f, DataFrame)]
    assert [len(f.data) for f in data] == [16384, 16384, 7232, 0]
    assert ["END_STREAM" in f.flags for f in data] == [False, False, False, True]
    assert {f.stream_id for f in data} == {1}


# Row 66: the response.


@pytest.mark.anyio
async def test_response_without_status_is_200_with_its_regular_headers() -> None:
    _, preface = script()
    block = hpack.Encoder().encode([(b"x-first", b"1"), (b"X-Second", b"2")])
    frames = (
        HeadersFrame(1, data=block, flags=["END_HEADERS"]).serialize()
        + DataFrame(1, data=HELLO, flags=["END_STREAM"]).serialize()
    )
    stream = ScriptedStream([preface, frames])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        response = await conn.request("GET", URL)
    assert response.status == 200
    # hpack lower-cases nothing itself: headers come as received, as bytes.
    assert response.headers == [(b"x-first", b"1"), (b"X-Second", b"2")]
    assert response.content == HELLO
    assert "reason_phrase" not in response.extensions


# Row 67: DATA acknowledged, events queued per stream.


@pytest.mark.anyio
async def test_received_data_is_acknowledged_as_it_is_read() -> None:
    size = 10 * 1024 * 1024
    server, preface = script(window=2**24)
    pieces = [preface, head(server, 1)]
    frame_size = 16384
    for offset in range(0, size, frame_size):
        server.send_data(1, b"d" * frame_size, end_stream=offset + frame_size >= size)
        pieces.append(server.data_to_send())
    stream = ScriptedStream(pieces)
    consumed = 0
    updates_midway: List[Tuple[int, int]] = []
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL) as response:
            async for chunk in response.aiter_stream():
                consumed += len(chunk)
                if consumed == 9 * 1024 * 1024:
                    updates_midway = [
                        (f.stream_id, f.window_increment)
                        for f in stream.frames()
                        if isinstance(f, WindowUpdateFrame)
                    ]
    assert consumed == size
    # The two increments of the preface, then (h2 batching acknowledgements up to half the
    # window) credit for the connection and the stream, before the body was read to its end.
    assert updates_midway[:2] == [(0, 2**24), (1, 2**24)]
    given_back = dict(updates_midway[2:])
    assert given_back[0] >= (65535 + 2**24) // 2
    assert given_back[1] >= (65535 + 2**24) // 2


@pytest.mark.anyio
async def test_events_of_interleaved_responses_are_queued_per_stream() -> None:
    server, preface = script(requests=2)
    first_head = head(server, 1)
    rest = head(server, 3)
    server.send_data(3, b"thr")
    server.send_data(1, b"on")
    server.send_data(3, b"ee", end_stream=True)
    server.send_data(1, b"e", end_stream=True)
    rest += server.data_to_send()
    stream = ScriptedStream([preface, first_head, rest])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL) as first:
            async with conn.stream("GET", URL) as second:
                # Everything has been read; stream 1's DATA waits in its own queue.
                assert stream._buffer == []
                assert await second.aread() == b"three"
            assert await first.aread() == b"one"
        assert conn.is_idle()


@pytest.mark.anyio
async def test_data_for_a_released_stream_is_ignored() -> None:
    server, preface = script(requests=2)
    first_head = head(server, 1)
    server.send_data(1, b"late data")
    late = server.data_to_send()
    stream = ScriptedStream([preface, first_head, late, head(server, 3), body(server, 3)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL):
            pass  # Released before its body arrives.
        response = await conn.request("GET", URL)
        assert response.content == HELLO
        assert conn.is_available()


# Row 68: a stream reset while the body is read.


@pytest.mark.anyio
async def test_stream_reset_during_the_body_fails_that_response() -> None:
    server, preface = script()
    first_head = head(server, 1)
    server.send_data(1, b"part")
    server.reset_stream(1, h2.errors.ErrorCodes.CANCEL)
    stream = ScriptedStream([preface, first_head, server.data_to_send()])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL) as response:
            with pytest.raises(RemoteProtocolError) as info:
                await response.aread()
        # h2 prints the code with str(): "8" from Python 3.11 on, "ErrorCodes.CANCEL" before
        # (str() of an IntEnum member changed in 3.11).
        code = h2.errors.ErrorCodes.CANCEL
        expected = f"<StreamReset stream_id:1, error_code:{code!s}, remote_reset:True>"
        assert str(info.value) == expected
        assert conn.is_idle()
        assert conn.is_available()


# Row 69: GOAWAY.


@pytest.mark.anyio
async def test_goaway_closes_the_connection_once_its_last_stream_is_released() -> None:
    server, preface = script(requests=2)
    stream = ScriptedStream([preface, head(server, 1), goaway(1), body(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL) as first:
            with pytest.raises(ConnectionNotAvailable):
                await conn.request("GET", URL)  # Stream 3, above last_stream_id.
            assert not conn.is_available()
            assert not conn.is_closed()
            assert conn.info() == "'https://example.com:443', HTTP/2, ACTIVE, Request Count: 1"
            # Deviation (module header): a graceful GOAWAY lets stream 1 finish.
            assert await first.aread() == HELLO
        assert conn.is_closed()
        assert conn.info() == "'https://example.com:443', HTTP/2, CLOSED, Request Count: 1"


# Row 70: remembered errors.


@pytest.mark.anyio
async def test_read_error_is_remembered_for_every_later_read() -> None:
    server, preface = script(requests=2)
    stream = ScriptedStream([preface, head(server, 1)])
    stream.read_error = ReadError("Connection reset by peer")
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL) as first:
            with pytest.raises(ReadError) as second:
                await conn.request("GET", URL)
            assert second.value.args == stream.read_error.args
            assert not conn.is_available()
            # The error is raised again without reading: to a new request, and to the
            # response still open. Each gets a copy (same type, message and cause): the
            # stored exception raised again would collect every request's frames in its
            # traceback and keep those requests alive with the connection.
            with pytest.raises(ReadError) as third:
                await conn.request("GET", URL)
            with pytest.raises(ReadError) as body_error:
                await first.aread()
            for again in (second.value, third.value, body_error.value):
                assert again is not stream.read_error
                assert again.args == stream.read_error.args
                assert again.__cause__ is stream.read_error.__cause__
            assert stream.failed_reads == 1
        assert conn.is_closed()


@pytest.mark.anyio
async def test_requests_failed_by_a_remembered_error_are_not_kept_alive() -> None:
    # The failed connection lives on (here: held by the test; in a pool, until its stale
    # bookkeeping is dropped): the requests it refused must not live on with it.
    server, preface = script(requests=2)
    stream = ScriptedStream([preface, head(server, 1)])
    stream.read_error = ReadError("Connection reset by peer")
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL):
            refs = []
            for _ in range(10):
                request = Request("GET", URL, headers=[(b"Host", b"example.com")])
                refs.append(weakref.ref(request))
                with pytest.raises(ReadError):
                    await conn.handle_async_request(request)
                del request
                # The script's error object went up the reader's frames: forget it, as a
                # backend does (each failure is a new exception there).
                stream.read_error = None
            gc.collect()
            assert [ref for ref in refs if ref() is not None] == []


class SocketLikeStream(ScriptedStream):
    """Fails writes the way a socket backend does: an OSError raised below ``write`` and
    re-raised as ``WriteError(exc) from exc``, so the cause's traceback reaches up through
    the connection's frames to the request being sent."""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self.write_error is None:
            await super().write(buffer, timeout)
            return
        try:
            raise BrokenPipeError(32, "Broken pipe")
        except OSError as exc:
            raise WriteError(exc) from exc


@pytest.mark.anyio
async def test_a_remembered_error_keeps_no_request_alive_through_its_cause() -> None:
    server, preface = script(requests=2)
    stream = SocketLikeStream([preface, head(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL):
            stream.write_error = WriteError("armed")
            request = Request("GET", URL, headers=[(b"Host", b"example.com")])
            ref = weakref.ref(request)
            with pytest.raises(WriteError) as info:
                await conn.handle_async_request(request)
            # The caller still sees the socket's error, with its traceback, as the cause.
            assert isinstance(info.value.__cause__, BrokenPipeError)
            assert info.value.__cause__.__traceback__ is not None
            assert info.value.args == (info.value.__cause__,)
            del request, info
            gc.collect()
            assert ref() is None
            # Later requests get the remembered error, cause included, without a traceback.
            with pytest.raises(WriteError) as again:
                await conn.request("GET", URL)
            assert isinstance(again.value.__cause__, BrokenPipeError)
            assert again.value.__cause__.__traceback__ is None
            assert again.value.args == (again.value.__cause__,)


@pytest.mark.anyio
async def test_server_disconnect_reaches_every_open_response() -> None:
    server, preface = script(requests=2)
    stream = ScriptedStream([preface, head(server, 1), head(server, 3)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL) as first:
            async with conn.stream("GET", URL) as second:
                with pytest.raises(RemoteProtocolError) as info:
                    await second.aread()
                assert str(info.value) == "Server disconnected"
                with pytest.raises(RemoteProtocolError) as again:
                    await first.aread()
                assert str(again.value) == "Server disconnected"
                assert not conn.is_available()
        assert conn.is_closed()


@pytest.mark.anyio
async def test_write_error_is_remembered_for_every_later_write() -> None:
    server, preface = script(requests=2)
    stream = ScriptedStream([preface, head(server, 1), body(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        async with conn.stream("GET", URL) as first:
            stream.write_error = WriteError("Broken pipe")
            attempts = stream.write_attempts
            with pytest.raises(WriteError) as second:
                await conn.request("GET", URL)
            assert second.value is stream.write_error
            assert not conn.is_available()
            with pytest.raises(WriteError) as third:
                await conn.request("GET", URL)
            # A copy of it (see test_read_error_is_remembered_for_every_later_read).
            assert third.value.args == stream.write_error.args
            # The response already under way can still be read.
            assert await first.aread() == HELLO
            assert stream.write_attempts == attempts + 1
        assert conn.is_closed()


# Row 71: release, close.


@pytest.mark.anyio
async def test_close_does_not_send_goaway() -> None:
    server, preface = script()
    stream = ScriptedStream([preface, head(server, 1), body(server, 1)])
    conn = AsyncHTTP2Connection(ORIGIN, stream)
    await conn.request("GET", URL)
    await conn.aclose()
    assert conn.is_closed()
    assert stream._closed
    assert not any(isinstance(f, GoAwayFrame) for f in stream.frames())


@pytest.mark.anyio
async def test_keepalive_deadline_starts_when_the_last_stream_is_released(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http2, "monotonic", clock)
    server, preface = script(requests=2)
    stream = ScriptedStream(
        [preface, head(server, 1), head(server, 3), body(server, 1), body(server, 3)]
    )
    async with AsyncHTTP2Connection(ORIGIN, stream, keepalive_expiry=5.0) as conn:
        async with conn.stream("GET", URL) as first:
            async with conn.stream("GET", URL) as second:
                await second.aread()
            clock.now = 150.0
            assert not conn.is_idle()
            assert not conn.has_expired()
            await first.aread()
        # Released at 150: the deadline is 155, not counted from the first release.
        assert conn.is_idle()
        clock.now = 155.0
        assert not conn.has_expired()
        clock.now = 155.5
        assert conn.has_expired()


@pytest.mark.anyio
async def test_exhausted_stream_ids_make_the_connection_unavailable() -> None:
    server, preface = script()
    stream = ScriptedStream([preface, head(server, 1), body(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        await conn.request("GET", URL)
        conn._h2_state.highest_outbound_stream_id = 2**31 - 1
        with pytest.raises(ConnectionNotAvailable):
            await conn.request("GET", URL)
        assert not conn.is_available()
        assert conn.is_closed()
        assert conn.info() == "'https://example.com:443', HTTP/2, CLOSED, Request Count: 1"


# Row 72: introspection.


@pytest.mark.anyio
async def test_has_expired_ignores_a_readable_stream() -> None:
    server, preface = script()
    stream = ScriptedStream([preface, head(server, 1), body(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream, keepalive_expiry=60.0) as conn:
        await conn.request("GET", URL)
        stream.readable = True  # What a server-side close would look like.
        assert not conn.has_expired()
        assert conn.is_available()


@pytest.mark.anyio
async def test_full_connection_is_unavailable_until_a_stream_is_released() -> None:
    # Deviation (README "Where it differs"): 1.0.9 stays available when full.
    server, preface = script()
    stream = ScriptedStream([preface, max_streams_frame(server, 1), head(server, 1), body(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        assert conn.is_available()
        async with conn.stream("GET", URL) as response:
            assert conn._max_streams == 1
            assert not conn.is_available()
            assert repr(conn) == "<AsyncHTTP2Connection ['https://example.com:443', ACTIVE, Request Count: 1]>"
            await response.aread()
        assert conn.is_available()
        assert repr(conn) == "<AsyncHTTP2Connection ['https://example.com:443', IDLE, Request Count: 1]>"


# Row 73: h2's errors mapped.


# h2 refuses :scheme and :path on a plain CONNECT request from h2 4.4 on (RFC 9113 §8.5);
# h2 4.3 (the newest for Python 3.9) sends it.
H2_REFUSES_CONNECT_WITH_PATH = tuple(map(int, h2.__version__.split(".")[:2])) >= (4, 4)


@pytest.mark.anyio
async def test_request_h2_refuses_is_local_protocol_error_with_the_h2_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, preface = script()
    if not H2_REFUSES_CONNECT_WITH_PATH:
        # The same refusal, from h2's send_headers, where this h2 does not make it itself.
        def refuse(*args: object, **kwargs: object) -> None:
            raise h2.exceptions.ProtocolError("Ordinary CONNECT MUST NOT include :scheme or :path")

        monkeypatch.setattr(h2.connection.H2Connection, "send_headers", refuse)
    stream = ScriptedStream([preface])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        with pytest.raises(LocalProtocolError) as info:
            await conn.request("CONNECT", URL)
        assert isinstance(info.value.args[0], h2.exceptions.ProtocolError)
        assert not isinstance(info.value, h2.exceptions.H2Error)
        # h2 may have started encoding the block: the connection takes no more streams.
        assert not conn.is_available()
        assert conn.is_closed()


@pytest.mark.anyio
async def test_server_protocol_error_after_goaway_is_reported_as_the_goaway() -> None:
    server, preface = script()
    bad = b"\x00\x00\x01\x00\x00\x00\x00\x00\x00x"  # DATA on stream 0.
    stream = ScriptedStream([preface, goaway(1) + bad])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        with pytest.raises(RemoteProtocolError) as info:
            await conn.request("GET", URL)
        assert "ConnectionTerminated" in str(info.value)
        assert isinstance(info.value.args[0], h2.events.ConnectionTerminated)
        assert not conn.is_available()


@pytest.mark.anyio
async def test_request_for_another_origin_is_refused_before_a_stream_opens() -> None:
    server, preface = script()
    stream = ScriptedStream([preface, head(server, 1) + body(server, 1)])
    async with AsyncHTTP2Connection(ORIGIN, stream) as conn:
        with pytest.raises(RuntimeError) as info:
            await conn.request("GET", "https://other.com/")
        assert str(info.value) == (
            "Attempted to send request to https://other.com:443 on connection to "
            "https://example.com:443"
        )
        response = await conn.request("GET", URL)  # stream 1: no ID was used up
        assert response.status == 200
