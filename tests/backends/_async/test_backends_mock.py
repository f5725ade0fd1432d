"""The mock backend (API.md 8.6): scripted reads, dropped writes, a fake TLS answer."""

from __future__ import annotations

import ssl
from typing import Any, List

import pytest

from httpcore._backends._async.mock import AsyncMockBackend, AsyncMockStream
from httpcore._backends._base import AsyncNetworkBackend, AsyncNetworkStream
from httpcore._core._exceptions import ReadError

SCRIPT = [b"HTTP/1.1 200 OK\r\n", b"Content-Length: 0\r\n\r\n"]


def forbid_sleeping(*args: Any) -> None:
    raise AssertionError("the mock backend must not sleep")


@pytest.mark.anyio
async def test_connect_tcp_gives_a_mock_stream() -> None:
    backend = AsyncMockBackend(SCRIPT)
    stream = await backend.connect_tcp("example.com", 80)
    assert isinstance(backend, AsyncNetworkBackend)
    assert isinstance(stream, AsyncMockStream)
    assert isinstance(stream, AsyncNetworkStream)


@pytest.mark.anyio
async def test_backend_keeps_buffer_and_http2() -> None:
    buffer = list(SCRIPT)
    backend = AsyncMockBackend(buffer, http2=True)
    assert backend._buffer is buffer
    assert backend._http2 is True
    assert AsyncMockBackend(buffer)._http2 is False


@pytest.mark.anyio
async def test_every_connection_replays_the_whole_buffer() -> None:
    backend = AsyncMockBackend(SCRIPT)
    first = await backend.connect_tcp("example.com", 80, timeout=1.0, local_address="0.0.0.0")
    assert await first.read(1024) == SCRIPT[0]
    second = await backend.connect_tcp("example.com", 80)
    assert [await second.read(1024), await second.read(1024)] == SCRIPT
    assert await first.read(1024) == SCRIPT[1]
    assert backend._buffer == SCRIPT


@pytest.mark.anyio
async def test_connect_unix_socket_replays_the_buffer() -> None:
    backend = AsyncMockBackend(SCRIPT, http2=True)
    stream = await backend.connect_unix_socket("/var/run/socket", timeout=1.0, socket_options=[])
    assert isinstance(stream, AsyncMockStream)
    assert await stream.read(1024) == SCRIPT[0]
    assert stream.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"


@pytest.mark.anyio
async def test_read_returns_whole_items_ignoring_max_bytes() -> None:
    stream = AsyncMockStream([b"hello world", b"!"])
    assert await stream.read(1) == b"hello world"
    assert await stream.read(1) == b"!"


@pytest.mark.anyio
async def test_read_after_the_buffer_is_used_up_gives_empty_bytes() -> None:
    stream = AsyncMockStream([b"only"])
    assert await stream.read(10) == b"only"
    assert await stream.read(10) == b""
    assert await stream.read(10) == b""


@pytest.mark.anyio
async def test_read_after_close_is_read_error() -> None:
    stream = AsyncMockStream(list(SCRIPT))
    await stream.aclose()
    with pytest.raises(ReadError) as info:
        await stream.read(10)
    assert str(info.value) == "Connection closed"


@pytest.mark.anyio
async def test_writes_are_dropped() -> None:
    stream = AsyncMockStream([b"scripted"])
    await stream.write(b"written", timeout=1.0)
    assert await stream.read(100) == b"scripted"
    assert await stream.read(100) == b""


@pytest.mark.anyio
async def test_start_tls_returns_the_same_stream() -> None:
    stream = AsyncMockStream(list(SCRIPT))
    tls_stream = await stream.start_tls(
        ssl.create_default_context(), server_hostname="example.com", timeout=1.0
    )
    assert tls_stream is stream


@pytest.mark.anyio
async def test_alpn_is_http11_unless_http2() -> None:
    assert AsyncMockStream([]).get_extra_info("ssl_object").selected_alpn_protocol() == "http/1.1"
    assert (
        AsyncMockStream([], http2=True).get_extra_info("ssl_object").selected_alpn_protocol()
        == "h2"
    )


@pytest.mark.anyio
async def test_alpn_follows_http2_flag_set_later() -> None:
    class UpgradingStream(AsyncMockStream):
        async def start_tls(
            self,
            ssl_context: ssl.SSLContext,
            server_hostname: str | None = None,
            timeout: float | None = None,
        ) -> AsyncNetworkStream:
            self._http2 = True
            return self

    class UpgradingBackend(AsyncMockBackend):
        async def connect_tcp(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
            return UpgradingStream(list(self._buffer))

    stream = await UpgradingBackend([]).connect_tcp("example.com", 443)
    assert stream.get_extra_info("ssl_object").selected_alpn_protocol() == "http/1.1"
    stream = await stream.start_tls(ssl.create_default_context())
    assert stream.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"


@pytest.mark.anyio
async def test_other_extra_info_is_none() -> None:
    stream = AsyncMockStream(list(SCRIPT))
    keys: List[str] = ["client_addr", "server_addr", "socket", "is_readable", "anything"]
    assert [stream.get_extra_info(key) for key in keys] == [None] * len(keys)


@pytest.mark.anyio
async def test_repr() -> None:
    assert repr(AsyncMockStream([])) == "<httpcore.AsyncMockStream>"


@pytest.mark.anyio
async def test_sleep_returns_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", forbid_sleeping)
    await AsyncMockBackend([]).sleep(3600)
