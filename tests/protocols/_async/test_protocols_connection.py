"""``AsyncHTTPConnection`` (API.md §6.2, §5.6, §11): connect, TLS, retries, delegation."""

from __future__ import annotations

import itertools
import logging
import socketserver
import ssl
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple, Type

import hpack
import hyperframe.frame
import pytest

from httpcore._backends._async.mock import AsyncMockBackend, AsyncMockStream
from httpcore._backends._base import AsyncNetworkStream
from httpcore._core._exceptions import (
    ConnectError,
    ConnectTimeout,
    RemoteProtocolError,
)
from httpcore._core._models import Origin
from httpcore._protocols._async.connection import AsyncHTTPConnection, retry_delays
from httpcore._protocols._async.http11 import AsyncHTTP11Connection

ORIGIN = Origin(b"https", b"example.com", 443)
URL = "https://example.com/"
HELLO = [
    b"HTTP/1.1 200 OK\r\n",
    b"Content-Type: plain/text\r\n",
    b"Content-Length: 13\r\n",
    b"\r\n",
    b"Hello, world!",
]


class RecordingContext(ssl.SSLContext):
    """An SSL context that remembers the ALPN protocols it was given."""

    alpn: Optional[List[str]] = None

    def set_alpn_protocols(self, alpn_protocols: Any) -> None:
        self.alpn = list(alpn_protocols)
        super().set_alpn_protocols(alpn_protocols)


class TLSStream(AsyncMockStream):
    """A mock stream recording how ``start_tls`` was called; it may fail the handshake."""

    def __init__(self, buffer: List[bytes], http2: bool, tls_failures: List[Exception]) -> None:
        super().__init__(buffer, http2)
        self.tls_calls: List[Tuple[Tuple[Any, ...], Dict[str, Any]]] = []
        self.tls_failures = tls_failures

    async def start_tls(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        self.tls_calls.append((args, kwargs))
        if self.tls_failures:
            raise self.tls_failures.pop(0)
        return self


class RecordingBackend(AsyncMockBackend):
    """A mock backend recording connect calls and sleeps; connects may fail first."""

    def __init__(
        self,
        buffer: List[bytes],
        http2: bool = False,
        connect_failures: Optional[List[Exception]] = None,
        tls_failures: Optional[List[Exception]] = None,
    ) -> None:
        super().__init__(buffer, http2)
        self.calls: List[Tuple[str, Tuple[Any, ...], Dict[str, Any]]] = []
        self.sleeps: List[float] = []
        self.streams: List[TLSStream] = []
        self.connect_failures = [] if connect_failures is None else connect_failures
        self.tls_failures = [] if tls_failures is None else tls_failures

    def _open(self, kind: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> TLSStream:
        self.calls.append((kind, args, kwargs))
        if self.connect_failures:
            raise self.connect_failures.pop(0)
        stream = TLSStream(list(self._buffer), self._http2, self.tls_failures)
        self.streams.append(stream)
        return stream

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        return self._open("tcp", args, kwargs)

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> AsyncNetworkStream:
        return self._open("unix", args, kwargs)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def context() -> RecordingContext:
    return RecordingContext(ssl.PROTOCOL_TLS_CLIENT)


# Before and after connecting.


@pytest.mark.anyio
async def test_fresh_connection_is_connecting() -> None:
    conn = AsyncHTTPConnection(ORIGIN, network_backend=AsyncMockBackend(HELLO))
    assert not conn.is_idle()
    assert not conn.is_closed()
    assert not conn.is_available()
    assert not conn.has_expired()
    assert conn.can_handle_request(ORIGIN)
    assert not conn.can_handle_request(Origin(b"https", b"example.org", 443))
    assert conn.info() == "CONNECTING"
    assert repr(conn) == "<AsyncHTTPConnection [CONNECTING]>"


@pytest.mark.anyio
async def test_request_connects_then_delegates_to_http11() -> None:
    async with AsyncHTTPConnection(ORIGIN, network_backend=AsyncMockBackend(HELLO)) as conn:
        response = await conn.request("GET", URL)
        assert response.status == 200
        assert response.content == b"Hello, world!"
        assert isinstance(conn._connection, AsyncHTTP11Connection)
        assert conn.is_idle()
        assert not conn.is_closed()
        assert conn.is_available()
        assert not conn.has_expired()
        assert conn.info() == "'https://example.com:443', HTTP/1.1, IDLE, Request Count: 1"
        assert repr(conn) == (
            "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>"
        )
    assert conn.is_closed()
    assert repr(conn) == (
        "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, CLOSED, Request Count: 1]>"
    )


@pytest.mark.anyio
async def test_active_connection_repr() -> None:
    conn = AsyncHTTPConnection(ORIGIN, network_backend=AsyncMockBackend(HELLO))
    async with conn.stream("GET", URL):
        assert repr(conn) == (
            "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, ACTIVE, Request Count: 1]>"
        )
        assert not conn.is_available()


@pytest.mark.anyio
async def test_requests_reuse_the_connection() -> None:
    backend = RecordingBackend(HELLO + HELLO)
    conn = AsyncHTTPConnection(ORIGIN, network_backend=backend)
    await conn.request("GET", URL)
    await conn.request("GET", URL)
    assert len(backend.calls) == 1
    assert conn.info() == "'https://example.com:443', HTTP/1.1, IDLE, Request Count: 2"


@pytest.mark.anyio
async def test_keepalive_expiry_is_passed_to_the_protocol_connection() -> None:
    conn = AsyncHTTPConnection(
        ORIGIN, keepalive_expiry=0.0, network_backend=AsyncMockBackend(HELLO)
    )
    await conn.request("GET", URL)
    assert isinstance(conn._connection, AsyncHTTP11Connection)
    assert conn._connection._keepalive_expiry == 0.0


@pytest.mark.anyio
async def test_request_to_another_origin_is_a_runtime_error() -> None:
    backend = RecordingBackend(HELLO + HELLO)
    conn = AsyncHTTPConnection(ORIGIN, network_backend=backend)
    message = (
        "Attempted to send request to https://other.com:443 on connection to https://example.com:443"
    )
    with pytest.raises(RuntimeError) as info:
        await conn.request("GET", "https://other.com/")
    assert str(info.value) == message
    assert backend.calls == []  # refused before connecting
    assert repr(conn) == "<AsyncHTTPConnection [CONNECTING]>"
    response = await conn.request("GET", URL)  # and still usable
    assert response.status == 200
    # Once connected, the protocol connection refuses it the same way, before sending.
    with pytest.raises(RuntimeError) as info:
        await conn.request("GET", "https://other.com/")
    assert str(info.value) == message
    assert len(backend.calls) == 1
    assert repr(conn) == (
        "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>"
    )
    response = await conn.request("GET", URL)
    assert response.status == 200


@pytest.mark.anyio
async def test_protocol_errors_do_not_mark_the_connection_failed() -> None:
    conn = AsyncHTTPConnection(ORIGIN, network_backend=AsyncMockBackend([b"not HTTP\r\n\r\n"]))
    with pytest.raises(RemoteProtocolError):
        await conn.request("GET", URL)
    assert repr(conn) == (
        "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, CLOSED, Request Count: 1]>"
    )
    assert conn.is_closed()


# How the network stream is opened.


@pytest.mark.anyio
async def test_connect_tcp_gets_keyword_arguments() -> None:
    options = [(6, 1, 1)]
    backend = RecordingBackend(HELLO)
    conn = AsyncHTTPConnection(
        Origin(b"http", b"example.com", 8080),
        local_address="0.0.0.0",
        socket_options=options,
        network_backend=backend,
    )
    await conn.request("GET", "http://example.com:8080/", extensions={"timeout": {"connect": 3.0}})
    assert backend.calls == [
        (
            "tcp",
            (),
            {
                "host": "example.com",
                "port": 8080,
                "local_address": "0.0.0.0",
                "timeout": 3.0,
                "socket_options": options,
            },
        )
    ]
    assert backend.streams[0].tls_calls == []


@pytest.mark.anyio
async def test_uds_connects_to_the_unix_socket() -> None:
    backend = RecordingBackend(HELLO)
    conn = AsyncHTTPConnection(
        Origin(b"http", b"example.com", 80), uds="/tmp/server.sock", network_backend=backend
    )
    await conn.request("GET", "http://example.com/")
    assert backend.calls == [
        ("unix", (), {"path": "/tmp/server.sock", "timeout": None, "socket_options": None})
    ]


@pytest.mark.anyio
async def test_uds_with_https_still_uses_tls() -> None:
    backend = RecordingBackend(HELLO)
    conn = AsyncHTTPConnection(ORIGIN, uds="/tmp/server.sock", network_backend=backend)
    await conn.request("GET", URL)
    assert backend.calls[0][0] == "unix"
    assert len(backend.streams[0].tls_calls) == 1


@pytest.mark.anyio
async def test_https_starts_tls_with_http11_alpn() -> None:
    ssl_context = context()
    backend = RecordingBackend(HELLO)
    conn = AsyncHTTPConnection(ORIGIN, ssl_context=ssl_context, network_backend=backend)
    await conn.request("GET", URL, extensions={"timeout": {"connect": 2.0}})
    assert backend.streams[0].tls_calls == [
        ((), {"ssl_context": ssl_context, "server_hostname": "example.com", "timeout": 2.0})
    ]
    assert ssl_context.alpn == ["http/1.1"]


@pytest.mark.anyio
async def test_http2_enabled_offers_h2_by_alpn() -> None:
    ssl_context = context()
    conn = AsyncHTTPConnection(
        ORIGIN, ssl_context=ssl_context, http2=True, network_backend=RecordingBackend(HELLO)
    )
    await conn.request("GET", URL)
    assert ssl_context.alpn == ["http/1.1", "h2"]
    assert conn.info().startswith("'https://example.com:443', HTTP/1.1,")


@pytest.mark.anyio
async def test_sni_hostname_extension_sets_the_server_hostname() -> None:
    backend = RecordingBackend(HELLO)
    conn = AsyncHTTPConnection(ORIGIN, ssl_context=context(), network_backend=backend)
    await conn.request("GET", URL, extensions={"sni_hostname": "sni.example.org"})
    assert backend.streams[0].tls_calls[0][1]["server_hostname"] == "sni.example.org"


@pytest.mark.anyio
async def test_default_ssl_context_is_made_when_none_is_given() -> None:
    backend = RecordingBackend(HELLO)
    conn = AsyncHTTPConnection(ORIGIN, network_backend=backend)
    await conn.request("GET", URL)
    used = backend.streams[0].tls_calls[0][1]["ssl_context"]
    assert isinstance(used, ssl.SSLContext)
    assert used.verify_mode == ssl.CERT_REQUIRED
    assert used.check_hostname


@pytest.mark.anyio
async def test_connections_given_no_context_share_the_default_one_per_alpn_offer() -> None:
    # 1.0.9 builds a new default context (the system's certificates parsed again) per
    # connection; here one per process serves them all, for each ALPN offer.
    used = []
    for http2 in (False, False, True, True):
        backend = RecordingBackend(HELLO)
        conn = AsyncHTTPConnection(ORIGIN, http2=http2, network_backend=backend)
        await conn.request("GET", URL)
        await conn.aclose()
        used.append(backend.streams[0].tls_calls[0][1]["ssl_context"])
    assert used[0] is used[1] and used[2] is used[3]
    assert used[0] is not used[2]


@pytest.mark.anyio
@pytest.mark.parametrize("scheme, tls", [(b"http", False), (b"ws", False), (b"wss", True)])
async def test_tls_only_for_secure_schemes(scheme: bytes, tls: bool) -> None:
    backend = RecordingBackend(HELLO)
    origin = Origin(scheme, b"example.com", 80)
    conn = AsyncHTTPConnection(origin, ssl_context=context(), network_backend=backend)
    await conn.request("GET", f"{scheme.decode()}://example.com:80/")
    assert bool(backend.streams[0].tls_calls) is tls


# Retries.


def test_retry_delays_double_from_half_a_second() -> None:
    assert list(itertools.islice(retry_delays(), 6)) == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0]


@pytest.mark.anyio
async def test_connect_errors_are_retried_after_backoff() -> None:
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    backend = RecordingBackend(
        HELLO, connect_failures=[ConnectError("refused"), ConnectTimeout("slow")]
    )
    conn = AsyncHTTPConnection(
        Origin(b"http", b"example.com", 80), retries=3, network_backend=backend
    )
    response = await conn.request("GET", "http://example.com/", extensions={"trace": trace})
    assert response.status == 200
    assert backend.sleeps == [0.0, 0.5]
    assert len(backend.calls) == 3
    assert events[:8] == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.failed",
        "connection.retry.started",
        "connection.retry.complete",
        "connection.connect_tcp.started",
        "connection.connect_tcp.failed",
        "connection.retry.started",
        "connection.retry.complete",
    ]
    assert events[8:10] == ["connection.connect_tcp.started", "connection.connect_tcp.complete"]


@pytest.mark.anyio
async def test_last_connect_error_propagates_when_retries_run_out() -> None:
    failures: List[Exception] = [ConnectError(f"refused {n}") for n in range(5)]
    backend = RecordingBackend(HELLO, connect_failures=failures)
    conn = AsyncHTTPConnection(ORIGIN, retries=2, network_backend=backend)
    with pytest.raises(ConnectError, match="^refused 2$"):
        await conn.request("GET", URL)
    assert len(backend.calls) == 3
    assert backend.sleeps == [0.0, 0.5]
    assert repr(conn) == "<AsyncHTTPConnection [CONNECTION FAILED]>"
    assert conn.is_closed()
    assert conn.is_idle()
    assert conn.has_expired()
    assert not conn.is_available()


@pytest.mark.anyio
async def test_no_retries_by_default() -> None:
    backend = RecordingBackend(HELLO, connect_failures=[ConnectError("refused")])
    conn = AsyncHTTPConnection(ORIGIN, network_backend=backend)
    with pytest.raises(ConnectError):
        await conn.request("GET", URL)
    assert backend.sleeps == []
    assert len(backend.calls) == 1


@pytest.mark.anyio
async def test_tls_handshake_failures_are_retried() -> None:
    backend = RecordingBackend(HELLO, tls_failures=[ConnectTimeout("handshake")])
    conn = AsyncHTTPConnection(ORIGIN, ssl_context=context(), retries=1, network_backend=backend)
    response = await conn.request("GET", URL)
    assert response.status == 200
    assert len(backend.calls) == 2
    assert backend.sleeps == [0.0]


@pytest.mark.anyio
async def test_retry_is_traced_with_the_failed_step_arguments() -> None:
    infos: List[Tuple[str, Dict[str, Any]]] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        infos.append((name, info))

    ssl_context = context()
    backend = RecordingBackend(HELLO, tls_failures=[ConnectError("bad certificate")])
    conn = AsyncHTTPConnection(ORIGIN, ssl_context=ssl_context, retries=1, network_backend=backend)
    await conn.request("GET", URL, extensions={"trace": trace})
    retry = [info for name, info in infos if name == "connection.retry.started"]
    assert retry == [{"ssl_context": ssl_context, "server_hostname": "example.com", "timeout": None}]


@pytest.mark.anyio
@pytest.mark.parametrize("error_type", [ValueError, RemoteProtocolError])
async def test_other_errors_are_not_retried(error_type: Type[Exception]) -> None:
    # A new instance per run: one shared by the parametrized runs would carry the
    # traceback of the previous backend's run into the next.
    backend = RecordingBackend(HELLO, connect_failures=[error_type("not a connect error")])
    conn = AsyncHTTPConnection(ORIGIN, retries=3, network_backend=backend)
    with pytest.raises(error_type):
        await conn.request("GET", URL)
    assert backend.sleeps == []
    assert repr(conn) == "<AsyncHTTPConnection [CONNECTION FAILED]>"


@pytest.mark.anyio
async def test_failed_connect_is_traced() -> None:
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    backend = RecordingBackend(HELLO, connect_failures=[ConnectError("refused")])
    conn = AsyncHTTPConnection(ORIGIN, network_backend=backend)
    with pytest.raises(ConnectError):
        await conn.request("GET", URL, extensions={"trace": trace})
    assert events == ["connection.connect_tcp.started", "connection.connect_tcp.failed"]


@pytest.mark.anyio
async def test_connecting_again_after_a_failure() -> None:
    backend = RecordingBackend(HELLO, connect_failures=[ConnectError("refused")])
    conn = AsyncHTTPConnection(ORIGIN, network_backend=backend)
    with pytest.raises(ConnectError):
        await conn.request("GET", URL)
    assert repr(conn) == "<AsyncHTTPConnection [CONNECTION FAILED]>"
    response = await conn.request("GET", URL)
    assert response.status == 200
    assert conn.is_idle()


# Availability before connecting, and HTTP/2 (API.md §6.2.4).

AVAILABILITY = [
    # (scheme, http1, http2, available before connecting)
    (b"https", True, False, False),
    (b"https", True, True, True),
    (b"http", True, True, False),
    (b"http", False, True, True),
    (b"https", False, True, True),
    (b"http", False, False, False),
]


@pytest.mark.anyio
@pytest.mark.parametrize("scheme, http1, http2, available", AVAILABILITY)
async def test_availability_before_connecting(
    scheme: bytes, http1: bool, http2: bool, available: bool
) -> None:
    conn = AsyncHTTPConnection(
        Origin(scheme, b"example.com", 443),
        http1=http1,
        http2=http2,
        network_backend=AsyncMockBackend(HELLO),
    )
    assert conn.is_available() is available


H2_BODY = b"Hello over HTTP/2"


def http2_response_frames() -> List[bytes]:
    """A server's side of one HTTP/2 exchange on stream 1: SETTINGS, then the response."""
    headers = hyperframe.frame.HeadersFrame(1, data=hpack.Encoder().encode([(b":status", b"200")]))
    headers.flags.add("END_HEADERS")
    data = hyperframe.frame.DataFrame(1, data=H2_BODY)
    data.flags.add("END_STREAM")
    return [hyperframe.frame.SettingsFrame(0).serialize(), headers.serialize(), data.serialize()]


@pytest.mark.anyio
async def test_alpn_h2_selects_http2() -> None:
    backend = RecordingBackend(http2_response_frames(), http2=True)
    conn = AsyncHTTPConnection(ORIGIN, http2=True, network_backend=backend)
    response = await conn.request("GET", URL)
    assert response.extensions["http_version"] == b"HTTP/2"
    assert response.content == H2_BODY
    assert repr(conn) == (
        "<AsyncHTTPConnection ['https://example.com:443', HTTP/2, IDLE, Request Count: 1]>"
    )


@pytest.mark.anyio
async def test_prior_knowledge_http2_over_plain_tcp() -> None:
    backend = RecordingBackend(http2_response_frames())
    conn = AsyncHTTPConnection(
        Origin(b"http", b"example.com", 80), http1=False, http2=True, network_backend=backend
    )
    response = await conn.request("GET", "http://example.com/")
    assert response.extensions["http_version"] == b"HTTP/2"
    assert response.content == H2_BODY
    assert backend.calls[0][0] == "tcp"


@pytest.mark.anyio
async def test_neither_protocol_enabled_means_http11() -> None:
    conn = AsyncHTTPConnection(
        Origin(b"http", b"example.com", 80),
        http1=False,
        http2=False,
        network_backend=AsyncMockBackend(HELLO),
    )
    response = await conn.request("GET", "http://example.com/")
    assert response.extensions["http_version"] == b"HTTP/1.1"


# Closing, tracing and logging.


@pytest.mark.anyio
async def test_close_before_connecting_does_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore")
    conn = AsyncHTTPConnection(ORIGIN, network_backend=AsyncMockBackend(HELLO))
    await conn.aclose()
    assert caplog.record_tuples == []
    assert repr(conn) == "<AsyncHTTPConnection [CONNECTING]>"


@pytest.mark.anyio
async def test_trace_events_of_an_https_request() -> None:
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)

    conn = AsyncHTTPConnection(ORIGIN, network_backend=AsyncMockBackend(HELLO))
    await conn.request("GET", URL, extensions={"trace": trace})
    await conn.aclose()
    assert events == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "connection.start_tls.started",
        "connection.start_tls.complete",
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


@pytest.mark.anyio
async def test_debug_log_records_of_a_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore")
    origin = Origin(b"http", b"example.com", 80)
    async with AsyncHTTPConnection(origin, network_backend=AsyncMockBackend(HELLO)) as conn:
        await conn.request("GET", "http://example.com/")
    request = "request=<Request [b'GET']>"
    assert caplog.record_tuples == [
        (
            "httpcore.connection",
            logging.DEBUG,
            "connect_tcp.started host='example.com' port=80 local_address=None timeout=None "
            "socket_options=None",
        ),
        (
            "httpcore.connection",
            logging.DEBUG,
            "connect_tcp.complete return_value=<httpcore.AsyncMockStream>",
        ),
        ("httpcore.http11", logging.DEBUG, f"send_request_headers.started {request}"),
        ("httpcore.http11", logging.DEBUG, "send_request_headers.complete"),
        ("httpcore.http11", logging.DEBUG, f"send_request_body.started {request}"),
        ("httpcore.http11", logging.DEBUG, "send_request_body.complete"),
        ("httpcore.http11", logging.DEBUG, f"receive_response_headers.started {request}"),
        (
            "httpcore.http11",
            logging.DEBUG,
            "receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', "
            "[(b'Content-Type', b'plain/text'), (b'Content-Length', b'13')])",
        ),
        ("httpcore.http11", logging.DEBUG, f"receive_response_body.started {request}"),
        ("httpcore.http11", logging.DEBUG, "receive_response_body.complete"),
        ("httpcore.http11", logging.DEBUG, "response_closed.started"),
        ("httpcore.http11", logging.DEBUG, "response_closed.complete"),
        ("httpcore.connection", logging.DEBUG, "close.started"),
        ("httpcore.connection", logging.DEBUG, "close.complete"),
    ]


# A real server on loopback, through the default backend.


class _HelloHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        while True:
            if not self.rfile.readline():
                return
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")


@pytest.fixture
def loopback_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _HelloHandler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.anyio
async def test_default_backend_against_a_loopback_server(loopback_port: int) -> None:
    origin = Origin(b"http", b"127.0.0.1", loopback_port)
    url = f"http://127.0.0.1:{loopback_port}/"
    async with AsyncHTTPConnection(origin) as conn:
        first = await conn.request("GET", url)
        second = await conn.request("POST", url, content=b"data")
        assert first.content == second.content == b"hello"
        assert conn.info() == f"'http://127.0.0.1:{loopback_port}', HTTP/1.1, IDLE, Request Count: 2"
        assert not conn.has_expired()
    assert conn.is_closed()
