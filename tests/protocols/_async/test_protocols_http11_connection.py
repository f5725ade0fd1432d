"""``AsyncHTTP11Connection`` (API.md §6.3, §5.6, §9, §11) driven by scripted streams."""

from __future__ import annotations

import logging
from typing import Any, AsyncIterator, Dict, List, Optional

import pytest

from httpcore._backends._async.mock import AsyncMockStream
from httpcore._core._exceptions import (
    ConnectionNotAvailable,
    LocalProtocolError,
    ReadError,
    RemoteProtocolError,
    WriteError,
)
from httpcore._core._models import Origin, Request
from httpcore._protocols._async import http11
from httpcore._protocols._async.http11 import AsyncHTTP11Connection, AsyncHTTP11UpgradeStream

ORIGIN = Origin(b"https", b"example.com", 443)
URL = "https://example.com/"
HOST = [(b"Host", b"example.com")]
HELLO = [
    b"HTTP/1.1 200 OK\r\n",
    b"Content-Type: plain/text\r\n",
    b"Content-Length: 13\r\n",
    b"\r\n",
    b"Hello, world!",
]


class RecordingStream(AsyncMockStream):
    """A mock stream that also records what was written and how reads were asked for."""

    def __init__(self, buffer: List[bytes], readable: bool = False) -> None:
        super().__init__(buffer)
        self.written: List[bytes] = []
        self.write_timeouts: List[Optional[float]] = []
        self.reads: List[tuple[int, Optional[float]]] = []
        self.readable = readable
        self.extra_info_asked: List[str] = []

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.reads.append((max_bytes, timeout))
        return await super().read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.written.append(buffer)
        self.write_timeouts.append(timeout)

    def get_extra_info(self, info: str) -> Any:
        self.extra_info_asked.append(info)
        if info == "is_readable":
            return self.readable
        return super().get_extra_info(info)


class FailingWriteStream(RecordingStream):
    """Every write fails, as when the server has stopped reading."""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        raise WriteError("Broken pipe")


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def chunks(*items: bytes) -> AsyncIterator[bytes]:
    for item in items:
        yield item


# A fresh connection, and a successful exchange.


@pytest.mark.anyio
async def test_new_connection_is_neither_available_nor_idle() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream([]))
    assert not conn.is_available()
    assert not conn.is_idle()
    assert not conn.is_closed()
    assert not conn.has_expired()
    assert repr(conn) == "<AsyncHTTP11Connection ['https://example.com:443', NEW, Request Count: 0]>"


@pytest.mark.anyio
async def test_request_returns_response_and_leaves_connection_idle() -> None:
    stream = AsyncMockStream(list(HELLO))
    async with AsyncHTTP11Connection(ORIGIN, stream) as conn:
        response = await conn.request("GET", URL)
        assert response.status == 200
        assert response.content == b"Hello, world!"
        assert response.headers == [(b"Content-Type", b"plain/text"), (b"Content-Length", b"13")]
        assert conn.is_idle()
        assert conn.is_available()
        assert not conn.is_closed()
        assert not conn.has_expired()
        assert conn.can_handle_request(ORIGIN)
        assert not conn.can_handle_request(Origin(b"http", b"example.com", 443))
        assert conn.info() == "'https://example.com:443', HTTP/1.1, IDLE, Request Count: 1"
        assert repr(conn) == (
            "<AsyncHTTP11Connection ['https://example.com:443', IDLE, Request Count: 1]>"
        )
    assert conn.is_closed()
    assert stream._closed


@pytest.mark.anyio
async def test_response_extensions() -> None:
    stream = AsyncMockStream([b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"])
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    response = await conn.request("GET", URL)
    assert response.extensions == {
        "http_version": b"HTTP/1.1",
        "reason_phrase": b"",
        "network_stream": stream,
    }


@pytest.mark.anyio
async def test_response_header_case_and_duplicates_are_kept() -> None:
    stream = AsyncMockStream(
        [b"HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nSET-COOKIE: c\r\nContent-Length: 0\r\n\r\n"]
    )
    response = await AsyncHTTP11Connection(ORIGIN, stream).request("GET", URL)
    assert response.headers == [
        (b"X-A", b"1"),
        (b"x-a", b"2"),
        (b"SET-COOKIE", b"c"),
        (b"Content-Length", b"0"),
    ]


@pytest.mark.anyio
async def test_keep_alive_connection_serves_requests_in_turn() -> None:
    stream = AsyncMockStream(HELLO + HELLO)
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    first = await conn.request("GET", URL)
    second = await conn.request("GET", URL)
    assert first.content == second.content == b"Hello, world!"
    assert repr(conn) == "<AsyncHTTP11Connection ['https://example.com:443', IDLE, Request Count: 2]>"


@pytest.mark.anyio
async def test_body_arriving_in_pieces_is_streamed_in_order() -> None:
    stream = AsyncMockStream(
        [b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", b"def", b"ghi"]
    )
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    async with conn.stream("GET", URL) as response:
        received = [chunk async for chunk in response.aiter_stream()]
    assert received == [b"abc", b"def", b"ghi"]
    assert conn.is_idle()


@pytest.mark.anyio
async def test_chunked_response_body() -> None:
    stream = AsyncMockStream(
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"3\r\nabc\r\n0\r\n\r\n"]
    )
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    response = await conn.request("GET", URL)
    assert response.content == b"abc"
    assert conn.is_idle()


@pytest.mark.anyio
async def test_reads_ask_for_64_kib_with_the_read_timeout() -> None:
    stream = RecordingStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    await conn.request("GET", URL, extensions={"timeout": {"read": 1.5, "write": 2.5}})
    assert conn.READ_NUM_BYTES == 64 * 1024
    assert conn.MAX_INCOMPLETE_EVENT_SIZE == 100 * 1024
    assert stream.reads and all(read == (65536, 1.5) for read in stream.reads)
    assert stream.write_timeouts and all(timeout == 2.5 for timeout in stream.write_timeouts)


# What is written.


@pytest.mark.anyio
async def test_head_and_small_body_go_out_in_one_write() -> None:
    stream = RecordingStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    await conn.request("POST", URL, headers={"X-Test": "1"}, content=b"abc")
    assert stream.written == [
        b"POST / HTTP/1.1\r\nHost: example.com\r\nX-Test: 1\r\nContent-Length: 3\r\n\r\nabc"
    ]


@pytest.mark.anyio
async def test_request_without_body_is_the_head_alone() -> None:
    stream = RecordingStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    await conn.request("GET", URL)
    assert stream.written == [b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"]


@pytest.mark.anyio
async def test_large_body_is_sent_whole_after_the_head() -> None:
    body = b"x" * (http11.COALESCE_BODY_BYTES + 1)
    stream = RecordingStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    await conn.request("PUT", URL, content=body)
    assert b"".join(stream.written) == (
        b"PUT / HTTP/1.1\r\nHost: example.com\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    assert stream.written[-1] == body
    assert conn.is_idle()


@pytest.mark.anyio
async def test_streamed_body_is_sent_chunked() -> None:
    stream = RecordingStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    await conn.request("POST", URL, content=chunks(b"Hello, ", b"", b"world!"))
    assert b"".join(stream.written) == (
        b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"7\r\nHello, \r\n6\r\nworld!\r\n0\r\n\r\n"
    )
    assert conn.is_idle()


@pytest.mark.anyio
async def test_streamed_body_with_content_length_is_sent_as_is() -> None:
    stream = RecordingStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    await conn.request(
        "POST", URL, headers={"Content-Length": "6"}, content=chunks(b"abc", b"def")
    )
    assert b"".join(stream.written).endswith(b"Content-Length: 6\r\n\r\nabcdef")


@pytest.mark.anyio
async def test_body_longer_than_its_content_length_is_a_local_protocol_error() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, RecordingStream(list(HELLO)))
    with pytest.raises(LocalProtocolError, match="^Too much data for declared Content-Length$"):
        await conn.request("POST", URL, headers={"Content-Length": "2"}, content=chunks(b"abc"))
    assert conn.is_closed()


@pytest.mark.anyio
async def test_body_shorter_than_its_content_length_is_a_local_protocol_error() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, RecordingStream(list(HELLO)))
    with pytest.raises(LocalProtocolError, match="^Too little data for declared Content-Length$"):
        await conn.request("POST", URL, headers={"Content-Length": "5"}, content=b"abc")
    assert conn.is_closed()


@pytest.mark.anyio
async def test_body_that_is_not_iterable_the_right_way_is_a_type_error() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, RecordingStream(list(HELLO)))
    request = Request(
        "POST",
        URL,
        headers=[(b"Host", b"example.com"), (b"Content-Length", b"1")],
        content=123,  # type: ignore[arg-type]
    )
    with pytest.raises(TypeError, match="must be bytes or an"):
        await conn.handle_async_request(request)
    assert conn.is_closed()


# Invalid requests.


@pytest.mark.anyio
async def test_illegal_header_value_is_a_local_protocol_error() -> None:
    stream = RecordingStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    with pytest.raises(LocalProtocolError) as info:
        await conn.request("GET", URL, headers={"Host": "\0"})
    assert str(info.value) == "Illegal header value b'\\x00'"
    assert stream.written == []
    assert conn.is_closed()
    assert not conn.is_idle()
    assert not conn.is_available()
    assert not conn.has_expired()
    assert repr(conn) == (
        "<AsyncHTTP11Connection ['https://example.com:443', CLOSED, Request Count: 1]>"
    )


@pytest.mark.anyio
async def test_missing_host_header_is_a_local_protocol_error() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, RecordingStream(list(HELLO)))
    with pytest.raises(LocalProtocolError, match="^Missing mandatory Host: header$"):
        await conn.handle_async_request(Request("GET", URL))


@pytest.mark.anyio
async def test_request_to_another_origin_is_a_runtime_error() -> None:
    stream = RecordingStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    with pytest.raises(RuntimeError) as info:
        await conn.request("GET", "https://other.com/")
    assert str(info.value) == (
        "Attempted to send request to https://other.com:443 on connection to https://example.com:443"
    )
    assert stream.written == []  # refused before anything was sent
    assert repr(conn) == "<AsyncHTTP11Connection ['https://example.com:443', NEW, Request Count: 0]>"
    response = await conn.request("GET", URL)  # and still usable
    assert (response.status, response.content) == (200, b"Hello, world!")


# Availability.


@pytest.mark.anyio
async def test_second_request_while_one_is_in_flight_is_not_available() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(list(HELLO)))
    async with conn.stream("GET", URL) as response:
        assert not conn.is_available()
        with pytest.raises(ConnectionNotAvailable):
            await conn.request("GET", URL)
        assert await response.aread() == b"Hello, world!"
    assert conn.is_idle()
    assert repr(conn) == "<AsyncHTTP11Connection ['https://example.com:443', IDLE, Request Count: 1]>"


@pytest.mark.anyio
async def test_closed_connection_is_not_available() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(list(HELLO)))
    await conn.aclose()
    assert conn.is_closed()
    with pytest.raises(ConnectionNotAvailable):
        await conn.request("GET", URL)


@pytest.mark.anyio
async def test_unread_response_closes_the_connection() -> None:
    stream = AsyncMockStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    async with conn.stream("GET", URL) as response:
        assert response.status == 200
        assert repr(conn) == (
            "<AsyncHTTP11Connection ['https://example.com:443', ACTIVE, Request Count: 1]>"
        )
    assert conn.is_closed()
    assert stream._closed


@pytest.mark.anyio
async def test_closing_the_response_twice_is_harmless() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(HELLO + HELLO))
    response = await conn.request("GET", URL)
    await response.aclose()
    assert conn.is_idle()
    await conn.request("GET", URL)
    await response.aclose()
    assert conn.is_idle()


async def response_body(
    conn: AsyncHTTP11Connection, extensions: Optional[Dict[str, Any]] = None
) -> http11.AsyncHTTP11ResponseStream:
    # The body stream of a GET on ``conn``, its head received.
    request = Request("GET", URL, headers=HOST, extensions=extensions)
    body = (await conn.handle_async_request(request)).stream
    assert isinstance(body, http11.AsyncHTTP11ResponseStream)
    return body


@pytest.mark.anyio
async def test_close_at_once_after_a_clean_exchange_makes_the_connection_idle() -> None:
    stream = AsyncMockStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    body = await response_body(conn)
    assert [chunk async for chunk in body] == [b"Hello, world!"]
    assert body.close_at_once() is True
    assert conn.is_idle()
    assert body.close_at_once() is True  # already closed: nothing more to do
    await body.aclose()
    assert conn.is_idle()
    assert not stream._closed


@pytest.mark.anyio
async def test_close_at_once_refuses_an_unread_body_and_leaves_the_closing_to_aclose() -> None:
    stream = AsyncMockStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    body = await response_body(conn)
    assert body.close_at_once() is False
    assert conn.is_closed()  # not reusable: marked closed at once
    assert not stream._closed
    await body.aclose()
    assert stream._closed


@pytest.mark.anyio
async def test_close_at_once_refuses_a_traced_response() -> None:
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(list(HELLO)))
    body = await response_body(conn, {"trace": trace})
    assert [chunk async for chunk in body] == [b"Hello, world!"]
    assert body.close_at_once() is False
    assert not conn.is_idle()  # untouched: the traced close reports, then releases
    await body.aclose()
    assert events[-2:] == ["http11.response_closed.started", "http11.response_closed.complete"]
    assert conn.is_idle()


@pytest.mark.anyio
async def test_connection_close_response_closes_the_connection() -> None:
    stream = AsyncMockStream(
        [b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"]
    )
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    response = await conn.request("GET", URL)
    assert response.content == b"ok"
    assert conn.is_closed()


@pytest.mark.anyio
async def test_response_with_both_framings_is_read_chunked_and_not_reused() -> None:
    stream = AsyncMockStream(
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"2\r\nok\r\n0\r\n\r\n",
        ]
    )
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    response = await conn.request("GET", URL)
    assert response.content == b"ok"
    assert conn.is_closed()


@pytest.mark.anyio
async def test_connection_close_request_closes_the_connection() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(list(HELLO)))
    await conn.request("GET", URL, headers={"Connection": "close"})
    assert conn.is_closed()


@pytest.mark.anyio
async def test_http_1_0_response_read_until_close() -> None:
    stream = AsyncMockStream([b"HTTP/1.0 200 OK\r\n\r\n", b"abc", b"def"])
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    response = await conn.request("GET", URL)
    assert response.content == b"abcdef"
    assert response.extensions["http_version"] == b"HTTP/1.0"
    assert conn.is_closed()


@pytest.mark.anyio
async def test_head_response_has_no_body_and_keeps_the_connection() -> None:
    stream = AsyncMockStream([b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n"] + HELLO)
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    assert (await conn.request("HEAD", URL)).content == b""
    assert (await conn.request("GET", URL)).content == b"Hello, world!"


@pytest.mark.anyio
async def test_interim_responses_are_skipped() -> None:
    stream = AsyncMockStream(
        [
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
        ]
        + HELLO
    )
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    response = await conn.request("GET", URL)
    assert response.status == 200
    assert response.content == b"Hello, world!"
    assert conn.is_idle()


# Remote errors.


@pytest.mark.anyio
async def test_garbage_response_is_a_remote_protocol_error() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream([b"Wait, this isn't valid HTTP!", b""]))
    with pytest.raises(RemoteProtocolError):
        await conn.request("GET", URL)
    assert conn.is_closed()
    assert repr(conn) == (
        "<AsyncHTTP11Connection ['https://example.com:443', CLOSED, Request Count: 1]>"
    )


@pytest.mark.anyio
async def test_truncated_body_is_a_remote_protocol_error() -> None:
    stream = AsyncMockStream([b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello, wor", b""])
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    with pytest.raises(RemoteProtocolError) as info:
        await conn.request("GET", URL)
    assert str(info.value) == (
        "peer closed connection without sending complete message body "
        "(received 10 bytes, expected 13)"
    )
    assert conn.is_closed()


@pytest.mark.anyio
async def test_server_closing_before_responding_is_a_remote_protocol_error() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream([]))
    with pytest.raises(RemoteProtocolError) as info:
        await conn.request("GET", URL)
    assert str(info.value) == "Server disconnected without sending a response."
    assert conn.is_closed()


@pytest.mark.anyio
async def test_read_error_closes_the_connection() -> None:
    stream = AsyncMockStream(list(HELLO))
    await stream.aclose()
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    with pytest.raises(ReadError):
        await conn.request("GET", URL)
    assert conn.is_closed()


@pytest.mark.anyio
async def test_head_filling_100_kib_is_accepted() -> None:
    cookie = b"Cookie: " + b"x" * (100 * 1024 - 72) + b"\r\n"
    parts = [
        b"HTTP/1.1 200 OK\r\n",
        b"Content-Type: plain/text\r\n",
        cookie,
        b"Content-Length: 0\r\n",
    ]
    assert sum(len(part) for part in parts) == 100 * 1024
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(parts + [b"\r\n"]))
    response = await conn.request("GET", URL)
    assert response.status == 200
    assert response.headers[1] == (b"Cookie", cookie[8:-2])
    assert conn.is_idle()


@pytest.mark.anyio
async def test_head_over_100_kib_is_a_remote_protocol_error() -> None:
    parts = [b"HTTP/1.1 200 OK\r\n", b"Cookie: " + b"x" * (100 * 1024) + b"\r\n", b"\r\n"]
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(parts))
    with pytest.raises(RemoteProtocolError):
        await conn.request("GET", URL)
    assert conn.is_closed()


@pytest.mark.anyio
async def test_error_while_reading_the_body_closes_the_connection() -> None:
    stream = AsyncMockStream([b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello", b""])
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    async with conn.stream("GET", URL) as response:
        with pytest.raises(RemoteProtocolError):
            await response.aread()
        assert conn.is_closed()
    assert conn.is_closed()


# Write errors: the response is read anyway.


@pytest.mark.anyio
async def test_write_error_still_reads_an_early_response() -> None:
    stream = FailingWriteStream(
        [b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"]
    )
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    response = await conn.request("POST", URL, content=b"x" * 1000)
    assert response.status == 413
    assert response.extensions["reason_phrase"] == b"Payload Too Large"
    # The request did not go out in full, so the connection cannot be reused.
    assert conn.is_closed()


@pytest.mark.anyio
async def test_write_error_without_response_is_server_disconnected() -> None:
    conn = AsyncHTTP11Connection(ORIGIN, FailingWriteStream([]))
    with pytest.raises(RemoteProtocolError, match="^Server disconnected without sending a response.$"):
        await conn.request("POST", URL, content=chunks(b"abc"))
    assert conn.is_closed()


# Expiry.


@pytest.mark.anyio
async def test_keepalive_expiry_starts_when_the_response_closes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(100.0)
    monkeypatch.setattr(http11, "monotonic", clock)
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(list(HELLO)), keepalive_expiry=5.0)
    await conn.request("GET", URL)
    clock.now = 105.0
    assert not conn.has_expired()  # Strictly after the deadline only.
    clock.now = 105.5
    assert conn.has_expired()


@pytest.mark.anyio
async def test_keepalive_expiry_zero_expires_as_soon_as_the_clock_moves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(7.0)
    monkeypatch.setattr(http11, "monotonic", clock)
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(list(HELLO)), keepalive_expiry=0.0)
    await conn.request("GET", URL)
    assert conn.is_idle()
    assert not conn.has_expired()
    clock.now = 7.000001
    assert conn.has_expired()


@pytest.mark.anyio
async def test_new_request_clears_the_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(0.0)
    monkeypatch.setattr(http11, "monotonic", clock)
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(HELLO + HELLO), keepalive_expiry=1.0)
    await conn.request("GET", URL)
    clock.now = 10.0
    async with conn.stream("GET", URL) as response:
        assert not conn.has_expired()
        await response.aread()
    assert not conn.has_expired()


@pytest.mark.anyio
async def test_no_keepalive_expiry_never_expires_by_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(0.0)
    monkeypatch.setattr(http11, "monotonic", clock)
    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(list(HELLO)))
    await conn.request("GET", URL)
    clock.now = 1e9
    assert not conn.has_expired()


@pytest.mark.anyio
async def test_idle_connection_with_readable_stream_has_expired() -> None:
    stream = RecordingStream(list(HELLO), readable=True)
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    assert not conn.has_expired()  # NEW: readability is not asked.
    assert "is_readable" not in stream.extra_info_asked
    await conn.request("GET", URL)
    assert conn.has_expired()
    stream.readable = False
    assert not conn.has_expired()


@pytest.mark.anyio
async def test_active_connection_does_not_ask_for_readability() -> None:
    stream = RecordingStream(list(HELLO), readable=True)
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    async with conn.stream("GET", URL) as response:
        assert not conn.has_expired()
        await response.aread()
    assert "is_readable" not in stream.extra_info_asked[:-1]


# Protocol switches.


@pytest.mark.anyio
async def test_upgrade_stream_serves_buffered_bytes_first() -> None:
    stream = AsyncMockStream(
        [
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: custom\r\n\r\nfoobar",
            b"baz",
        ]
    )
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    headers = [("Connection", "upgrade"), ("Upgrade", "custom")]
    async with conn.stream("GET", URL, headers=headers) as response:
        assert response.status == 101
        network_stream = response.extensions["network_stream"]
        assert isinstance(network_stream, AsyncHTTP11UpgradeStream)
        assert await network_stream.read(max_bytes=3) == b"foo"
        assert await network_stream.read(max_bytes=3) == b"bar"
        assert await network_stream.read(max_bytes=3) == b"baz"
        assert network_stream.get_extra_info("ssl_object") is not None
        await network_stream.write(b"anything")
        assert await response.aread() == b""
    assert conn.is_closed()
    assert stream._closed


@pytest.mark.anyio
async def test_upgrade_stream_delegates_close_and_tls() -> None:
    inner = AsyncMockStream([b"tail"])
    upgrade = AsyncHTTP11UpgradeStream(inner, b"")
    assert await upgrade.start_tls(ssl_context=None) is inner  # type: ignore[arg-type]
    assert await upgrade.read(2) == b"tail"
    await upgrade.aclose()
    assert inner._closed


@pytest.mark.anyio
async def test_2xx_reply_to_connect_gives_an_upgrade_stream() -> None:
    stream = AsyncMockStream([b"HTTP/1.1 200 Connection established\r\n\r\nearly"])
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    extensions = {"target": b"example.org:443"}
    async with conn.stream("CONNECT", URL, extensions=extensions) as response:
        network_stream = response.extensions["network_stream"]
        assert isinstance(network_stream, AsyncHTTP11UpgradeStream)
        assert await network_stream.read(100) == b"early"
    assert conn.is_closed()


@pytest.mark.anyio
async def test_101_without_upgrade_request_is_a_remote_protocol_error() -> None:
    stream = AsyncMockStream([b"HTTP/1.1 101 Switching Protocols\r\n\r\n"])
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    with pytest.raises(RemoteProtocolError):
        await conn.request("GET", URL)
    assert conn.is_closed()


# Tracing and logging (API.md §11).


@pytest.mark.anyio
async def test_trace_events_of_a_request() -> None:
    events: List[str] = []
    infos: List[Dict[str, Any]] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)
        infos.append(info)

    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(list(HELLO)))
    await conn.request("GET", URL, extensions={"trace": trace})
    assert events == [
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
    assert list(infos[0]) == ["request"]
    assert infos[5] == {
        "return_value": (
            b"HTTP/1.1",
            200,
            b"OK",
            [(b"Content-Type", b"plain/text"), (b"Content-Length", b"13")],
        )
    }
    assert infos[8] == {}
    assert conn.is_idle()


@pytest.mark.anyio
async def test_trace_events_of_an_invalid_response() -> None:
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream([b"Wait, this isn't valid HTTP!", b""]))
    with pytest.raises(RemoteProtocolError):
        await conn.request("GET", URL, extensions={"trace": trace})
    assert events[4:] == [
        "http11.receive_response_headers.started",
        "http11.receive_response_headers.failed",
        "http11.response_closed.started",
        "http11.response_closed.complete",
    ]


@pytest.mark.anyio
async def test_trace_events_of_a_failed_body() -> None:
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    stream = AsyncMockStream([b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello", b""])
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    with pytest.raises(RemoteProtocolError):
        await conn.request("GET", URL, extensions={"trace": trace})
    assert events[6:] == [
        "http11.receive_response_body.started",
        "http11.receive_response_body.failed",
        "http11.response_closed.started",
        "http11.response_closed.complete",
    ]
    assert conn.is_closed()


@pytest.mark.anyio
async def test_trace_events_of_a_write_error() -> None:
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    stream = FailingWriteStream([b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"])
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    await conn.request("POST", URL, content=b"abc", extensions={"trace": trace})
    assert events[:4] == [
        "http11.send_request_headers.started",
        "http11.send_request_headers.failed",
        "http11.receive_response_headers.started",
        "http11.receive_response_headers.complete",
    ]


@pytest.mark.anyio
async def test_upgrade_without_reading_has_no_body_events() -> None:
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    stream = AsyncMockStream(
        [b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: custom\r\n\r\n"]
    )
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    headers = [("Connection", "upgrade"), ("Upgrade", "custom")]
    async with conn.stream("GET", URL, headers=headers, extensions={"trace": trace}):
        pass
    assert events[-3:] == [
        "http11.receive_response_headers.complete",
        "http11.response_closed.started",
        "http11.response_closed.complete",
    ]
    assert not any("receive_response_body" in event for event in events)


@pytest.mark.anyio
async def test_debug_log_records_of_a_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore")
    origin = Origin(b"http", b"example.com", 80)
    conn = AsyncHTTP11Connection(origin, AsyncMockStream(list(HELLO)))
    await conn.request("GET", "http://example.com/")
    await conn.aclose()
    assert [record for record in caplog.record_tuples if record[0].startswith("httpcore")] == [
        ("httpcore.http11", logging.DEBUG, "send_request_headers.started request=<Request [b'GET']>"),
        ("httpcore.http11", logging.DEBUG, "send_request_headers.complete"),
        ("httpcore.http11", logging.DEBUG, "send_request_body.started request=<Request [b'GET']>"),
        ("httpcore.http11", logging.DEBUG, "send_request_body.complete"),
        (
            "httpcore.http11",
            logging.DEBUG,
            "receive_response_headers.started request=<Request [b'GET']>",
        ),
        (
            "httpcore.http11",
            logging.DEBUG,
            "receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', "
            "[(b'Content-Type', b'plain/text'), (b'Content-Length', b'13')])",
        ),
        ("httpcore.http11", logging.DEBUG, "receive_response_body.started request=<Request [b'GET']>"),
        ("httpcore.http11", logging.DEBUG, "receive_response_body.complete"),
        ("httpcore.http11", logging.DEBUG, "response_closed.started"),
        ("httpcore.http11", logging.DEBUG, "response_closed.complete"),
    ]


@pytest.mark.anyio
async def test_traced_request_writes_the_same_bytes() -> None:
    async def trace(name: str, info: Dict[str, Any]) -> None:
        pass

    stream = RecordingStream(list(HELLO))
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    await conn.request("POST", URL, content=b"abc", extensions={"trace": trace})
    assert b"".join(stream.written) == (
        b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc"
    )
    assert conn.is_idle()


@pytest.mark.anyio
async def test_body_stream_ends_once() -> None:
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    conn = AsyncHTTP11Connection(ORIGIN, AsyncMockStream(list(HELLO)))
    async with conn.stream("GET", URL, extensions={"trace": trace}) as response:
        body = response.stream
        assert [chunk async for chunk in body] == [b"Hello, world!"]  # type: ignore[union-attr]
        assert [chunk async for chunk in body] == []  # type: ignore[union-attr]
    assert events.count("http11.receive_response_body.started") == 1
    assert events.count("http11.receive_response_body.complete") == 1
    assert conn.is_idle()
