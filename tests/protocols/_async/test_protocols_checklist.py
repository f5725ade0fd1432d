"""Checklist rows of API.md §17 for the connections (§6.2, §6.3): constructor signatures,
ALPN-driven protocol choice, interim responses before a 101, CONNECT replies, and the
exception chain of errors raised by a connection used directly."""

from __future__ import annotations

import inspect
import logging
import ssl
from typing import Any, Dict, List, Tuple

import hpack
import hyperframe.frame
import pytest

from httpcore._backends._async.mock import AsyncMockBackend, AsyncMockStream
from httpcore._backends._base import AsyncNetworkStream
from httpcore._core._exceptions import ConnectError
from httpcore._core._models import Origin
from httpcore._protocols._async.connection import AsyncHTTPConnection
from httpcore._protocols._async.http11 import AsyncHTTP11Connection, AsyncHTTP11UpgradeStream

ORIGIN = Origin(b"https", b"example.com", 443)
URL = "https://example.com/"
HELLO = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello, world!"]


def positional_parameters(cls: type) -> List[Tuple[str, Any]]:
    """(name, default) of the positional-or-keyword parameters of ``cls.__init__``."""
    parameters = inspect.signature(cls).parameters.values()
    return [
        (p.name, p.default)
        for p in parameters
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]


# Row 41: the HTTPConnection constructor.


def test_http_connection_positional_parameters_and_defaults() -> None:
    empty = inspect.Parameter.empty
    assert positional_parameters(AsyncHTTPConnection) == [
        ("origin", empty),
        ("ssl_context", None),
        ("keepalive_expiry", None),
        ("http1", True),
        ("http2", False),
        ("retries", 0),
        ("local_address", None),
        ("uds", None),
        ("network_backend", None),
        ("socket_options", None),
    ]


class UnixBackend(AsyncMockBackend):
    def __init__(self, buffer: List[bytes]) -> None:
        super().__init__(buffer)
        self.calls: List[Tuple[str, Dict[str, Any]]] = []

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        self.calls.append(("tcp", kwargs))
        return await super().connect_tcp("", 0)

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        self.calls.append(("unix", kwargs))
        return await super().connect_unix_socket("")


@pytest.mark.anyio
async def test_http_connection_takes_its_arguments_by_position() -> None:
    backend = UnixBackend(HELLO)
    options = [(6, 1, 1)]
    origin = Origin(b"http", b"example.com", 80)
    conn = AsyncHTTPConnection(
        origin, None, None, True, False, 0, None, "/tmp/pos.sock", backend, options
    )
    assert backend.calls == []  # connects lazily, on the first request
    response = await conn.request("GET", "http://example.com/")
    assert response.content == b"Hello, world!"
    assert backend.calls == [
        ("unix", {"path": "/tmp/pos.sock", "timeout": None, "socket_options": options})
    ]
    await conn.aclose()


# Rows 49 / 50: the HTTP/1.1 connection constructor and its sizes.


def test_http11_connection_constructor_and_sizes() -> None:
    empty = inspect.Parameter.empty
    assert positional_parameters(AsyncHTTP11Connection) == [
        ("origin", empty),
        ("stream", empty),
        ("keepalive_expiry", None),
    ]
    assert AsyncHTTP11Connection.READ_NUM_BYTES == 64 * 1024
    assert AsyncHTTP11Connection.MAX_INCOMPLETE_EVENT_SIZE == 100 * 1024


# Row 45: the negotiated ALPN decides, whatever the http2 flag.


def http2_response_frames(body: bytes) -> List[bytes]:
    headers = hyperframe.frame.HeadersFrame(1, data=hpack.Encoder().encode([(b":status", b"200")]))
    headers.flags.add("END_HEADERS")
    data = hyperframe.frame.DataFrame(1, data=body)
    data.flags.add("END_STREAM")
    return [hyperframe.frame.SettingsFrame(0).serialize(), headers.serialize(), data.serialize()]


@pytest.mark.anyio
async def test_alpn_h2_selects_http2_even_when_http2_is_off() -> None:
    backend = AsyncMockBackend(http2_response_frames(b"over h2"), http2=True)
    conn = AsyncHTTPConnection(ORIGIN, network_backend=backend)
    response = await conn.request("GET", URL)
    assert response.extensions["http_version"] == b"HTTP/2"
    assert response.content == b"over h2"
    assert conn.info() == "'https://example.com:443', HTTP/2, IDLE, Request Count: 1"
    await conn.aclose()


# Rows 53 / 58: interim responses are skipped up to a 101, which is final.


@pytest.mark.anyio
async def test_interim_response_before_101_is_skipped_and_101_is_final() -> None:
    stream = AsyncMockStream(
        [
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: custom\r\nConnection: upgrade\r\n\r\n",
            b"raw",
        ]
    )
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    headers = [("Host", "example.com"), ("Connection", "upgrade"), ("Upgrade", "custom")]
    async with conn.stream("GET", URL, headers=headers) as response:
        assert response.status == 101
        assert response.headers == [(b"Upgrade", b"custom"), (b"Connection", b"upgrade")]
        assert response.extensions["reason_phrase"] == b"Switching Protocols"
        network_stream = response.extensions["network_stream"]
        assert isinstance(network_stream, AsyncHTTP11UpgradeStream)
        assert await network_stream.read(100) == b"raw"
    assert conn.is_closed()


@pytest.mark.anyio
async def test_non_2xx_reply_to_connect_is_an_ordinary_response() -> None:
    stream = AsyncMockStream(
        [b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\n", b"deny"]
    )
    conn = AsyncHTTP11Connection(ORIGIN, stream)
    extensions = {"target": b"example.org:443"}
    async with conn.stream("CONNECT", URL, extensions=extensions) as response:
        assert response.status == 407
        assert response.extensions["network_stream"] is stream
        assert response.extensions["reason_phrase"] == b"Proxy Authentication Required"
        assert await response.aread() == b"deny"
    assert conn.is_idle()
    assert repr(conn) == (
        "<AsyncHTTP11Connection ['https://example.com:443', IDLE, Request Count: 1]>"
    )


# Row 97: a connection used directly keeps the backend's exception chain (only the pool
# re-raises "from None").


class RefusingBackend(AsyncMockBackend):
    async def connect_tcp(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        error = OSError("refused")
        try:
            raise error
        except OSError as exc:
            raise ConnectError(exc) from exc


@pytest.mark.anyio
async def test_connect_error_from_a_connection_keeps_its_cause() -> None:
    conn = AsyncHTTPConnection(ORIGIN, network_backend=RefusingBackend([]))
    with pytest.raises(ConnectError) as info:
        await conn.request("GET", URL)
    assert isinstance(info.value.__cause__, OSError)
    assert str(info.value) == "refused"
    assert repr(conn) == "<AsyncHTTPConnection [CONNECTION FAILED]>"


# Rows 98 / 101: the connection logger's records for a Unix socket, TLS and a retry.


class FlakyUnixBackend(AsyncMockBackend):
    """The first Unix-socket connect fails with ConnectError; sleeps do nothing."""

    def __init__(self, buffer: List[bytes]) -> None:
        super().__init__(buffer)
        self.failed = False

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> AsyncNetworkStream:
        if not self.failed:
            self.failed = True
            raise ConnectError("no socket yet")
        return await super().connect_unix_socket(path, timeout, socket_options)


@pytest.mark.anyio
async def test_debug_log_records_of_unix_socket_tls_and_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ssl_context = ssl.create_default_context()
    conn = AsyncHTTPConnection(
        ORIGIN,
        ssl_context=ssl_context,
        retries=1,
        uds="/tmp/log.sock",
        network_backend=FlakyUnixBackend(HELLO),
    )
    infos: List[Tuple[str, Dict[str, Any]]] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        if name.startswith("connection."):
            infos.append((name, info))

    caplog.set_level(logging.DEBUG, logger="httpcore.connection")
    await conn.request("GET", URL, extensions={"trace": trace})
    unix = "path='/tmp/log.sock' timeout=None socket_options=None"
    tls = f"ssl_context={ssl_context!r} server_hostname='example.com' timeout=None"
    assert [r for r in caplog.record_tuples if r[0] == "httpcore.connection"] == [
        ("httpcore.connection", logging.DEBUG, f"connect_unix_socket.started {unix}"),
        (
            "httpcore.connection",
            logging.DEBUG,
            "connect_unix_socket.failed exception=ConnectError('no socket yet')",
        ),
        ("httpcore.connection", logging.DEBUG, f"retry.started {unix}"),
        ("httpcore.connection", logging.DEBUG, "retry.complete"),
        ("httpcore.connection", logging.DEBUG, f"connect_unix_socket.started {unix}"),
        (
            "httpcore.connection",
            logging.DEBUG,
            "connect_unix_socket.complete return_value=<httpcore.AsyncMockStream>",
        ),
        ("httpcore.connection", logging.DEBUG, f"start_tls.started {tls}"),
        (
            "httpcore.connection",
            logging.DEBUG,
            "start_tls.complete return_value=<httpcore.AsyncMockStream>",
        ),
    ]
    names = [name for name, _ in infos]
    assert names == [
        "connection.connect_unix_socket.started",
        "connection.connect_unix_socket.failed",
        "connection.retry.started",
        "connection.retry.complete",
        "connection.connect_unix_socket.started",
        "connection.connect_unix_socket.complete",
        "connection.start_tls.started",
        "connection.start_tls.complete",
    ]
    assert list(infos[0][1]) == ["path", "timeout", "socket_options"]
    assert isinstance(infos[1][1]["exception"], ConnectError)
    assert infos[3][1] == {"return_value": None}
    assert isinstance(infos[5][1]["return_value"], AsyncMockStream)
    assert list(infos[6][1]) == ["ssl_context", "server_hostname", "timeout"]
    assert infos[6][1]["ssl_context"] is ssl_context
    await conn.aclose()
