"""``AsyncSOCKSProxy`` and ``AsyncSocks5Connection`` (API.md §7.4, §11.2, §13) over a scripted
backend: the SOCKS5 bytes exchanged, the ProxyError messages, TLS, protocol choice, state."""

from __future__ import annotations

import ssl
import sys
from typing import Any, Dict, List

import pytest
from hyperframe.frame import DataFrame, HeadersFrame, SettingsFrame

from httpcore._core._exceptions import ConnectError, ConnectionNotAvailable, ProxyError
from httpcore._core._models import Origin, Proxy, Request
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from httpcore._proxy._async.socks_proxy import AsyncSocks5Connection, AsyncSOCKSProxy
from tests.proxy._async._scripted import ScriptedBackend

HELLO = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!"]
NO_AUTH = b"\x05\x00"
USER_PASS = b"\x05\x02"
AUTH_OK = b"\x01\x00"
CONNECTED = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"
PROXY = "socks5://localhost:1080"
AUTH = (b"username", b"password")


# Construction.


def test_socks_proxy_keeps_the_coerced_url_and_auth() -> None:
    proxy = AsyncSOCKSProxy(PROXY, proxy_auth=("username", "password"))
    assert proxy._proxy_url.origin == Origin(b"socks5", b"localhost", 1080)
    assert proxy._proxy_auth == AUTH
    assert repr(proxy) == (
        "<AsyncSOCKSProxy [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>"
    )


def test_socks_proxy_creates_a_socks5_connection_for_every_origin() -> None:
    proxy = AsyncSOCKSProxy(PROXY)
    for scheme in (b"http", b"https", b"ws", b"wss"):
        connection = proxy.create_connection(Origin(scheme, b"a", 80))
        assert isinstance(connection, AsyncSocks5Connection)


def test_socks_without_socksio_is_a_runtime_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "socksio", None)
    with pytest.raises(RuntimeError, match="socksio"):
        AsyncSOCKSProxy(PROXY)
    with pytest.raises(RuntimeError, match=r"httpcore\[socks\]"):
        AsyncConnectionPool(proxy=Proxy(PROXY)).create_connection(Origin(b"http", b"a", 80))


# The handshake bytes.


@pytest.mark.anyio
async def test_socks5_without_auth_offers_no_authentication_and_connects_by_name() -> None:
    backend = ScriptedBackend([NO_AUTH, CONNECTED] + HELLO)
    async with AsyncSOCKSProxy(PROXY, network_backend=backend) as proxy:
        response = await proxy.request("GET", "http://example.com/")
        assert response.content == b"Hello, world!"
        assert [repr(c) for c in proxy.connections] == [
            "<AsyncSocks5Connection ['http://example.com:80', HTTP/1.1, IDLE, Request Count: 1]>"
        ]
    writes = backend.writes()
    assert writes[:2] == [b"\x05\x01\x00", b"\x05\x01\x00\x03\x0bexample.com\x00\x50"]
    assert writes[2].startswith(b"GET / HTTP/1.1\r\n")
    assert backend.events("connect_tcp") == [("localhost", 1080, None, None, None)]


@pytest.mark.anyio
async def test_socks5_connects_to_an_ipv4_literal_by_address() -> None:
    backend = ScriptedBackend([NO_AUTH, CONNECTED] + HELLO)
    async with AsyncSOCKSProxy(PROXY, network_backend=backend) as proxy:
        await proxy.request("GET", "http://127.0.0.1:8000/")
    assert backend.writes()[1] == b"\x05\x01\x00\x01\x7f\x00\x00\x01\x1f\x40"


@pytest.mark.anyio
async def test_socks5_with_auth_sends_username_and_password() -> None:
    backend = ScriptedBackend([USER_PASS, AUTH_OK, CONNECTED] + HELLO)
    async with AsyncSOCKSProxy(PROXY, proxy_auth=AUTH, network_backend=backend) as proxy:
        await proxy.request("GET", "http://example.com/")
    assert backend.writes()[:2] == [b"\x05\x01\x02", b"\x01\x08username\x08password"]


@pytest.mark.anyio
async def test_pool_with_a_socks_proxy_uses_the_proxy_auth() -> None:
    backend = ScriptedBackend([USER_PASS, AUTH_OK, CONNECTED] + HELLO)
    proxy = Proxy("socks5h://localhost:1080", auth=("username", "password"))
    async with AsyncConnectionPool(proxy=proxy, network_backend=backend) as pool:
        response = await pool.request("GET", "http://example.com/")
        assert response.status == 200
    assert backend.writes()[1] == b"\x01\x08username\x08password"


# ProxyError messages.


@pytest.mark.anyio
async def test_socks5_method_mismatch_names_both_methods() -> None:
    backend = ScriptedBackend([USER_PASS])
    async with AsyncSOCKSProxy(PROXY, network_backend=backend) as proxy:
        with pytest.raises(ProxyError) as info:
            await proxy.request("GET", "http://example.com/")
        assert str(info.value) == (
            "Requested NO AUTHENTICATION REQUIRED from proxy server, but got USERNAME/PASSWORD."
        )
        assert proxy.connections == []


@pytest.mark.anyio
async def test_socks5_unknown_method_is_named_unknown() -> None:
    backend = ScriptedBackend([b"\x05\x07"])
    async with AsyncSOCKSProxy(PROXY, proxy_auth=AUTH, network_backend=backend) as proxy:
        with pytest.raises(ProxyError) as info:
            await proxy.request("GET", "http://example.com/")
    assert str(info.value) == "Requested USERNAME/PASSWORD from proxy server, but got UNKNOWN."


@pytest.mark.anyio
async def test_socks5_rejected_credentials_are_invalid_username_password() -> None:
    backend = ScriptedBackend([USER_PASS, b"\x01\x01"])
    async with AsyncSOCKSProxy(PROXY, proxy_auth=AUTH, network_backend=backend) as proxy:
        with pytest.raises(ProxyError) as info:
            await proxy.request("GET", "http://example.com/")
        assert str(info.value) == "Invalid username/password"
        assert proxy.connections == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "code, reason", [(b"\x05", "Connection refused"), (b"\x01", "General SOCKS server failure"),
                     (b"\x09", "UNKOWN")]
)
async def test_socks5_connect_failure_names_the_reason(code: bytes, reason: str) -> None:
    backend = ScriptedBackend([NO_AUTH, b"\x05" + code + b"\x00\x01\x00\x00\x00\x00\x00\x00"])
    async with AsyncSOCKSProxy(PROXY, network_backend=backend) as proxy:
        with pytest.raises(ProxyError) as info:
            await proxy.request("GET", "http://example.com/")
        assert str(info.value) == f"Proxy Server could not connect: {reason}."
        assert proxy.connections == []
    assert ("close", None) in backend.log


@pytest.mark.anyio
async def test_socks5_proxy_closing_mid_handshake_is_a_proxy_error() -> None:
    backend = ScriptedBackend([NO_AUTH])
    async with AsyncSOCKSProxy(PROXY, network_backend=backend) as proxy:
        with pytest.raises(ProxyError, match="closed the connection"):
            await proxy.request("GET", "http://example.com/")


@pytest.mark.anyio
async def test_socks5_garbage_reply_is_a_proxy_error() -> None:
    backend = ScriptedBackend([b"HTTP/1.1 400 Bad Request\r\n\r\n"])
    async with AsyncSOCKSProxy(PROXY, network_backend=backend) as proxy:
        with pytest.raises(ProxyError, match="Invalid SOCKS5 reply"):
            await proxy.request("GET", "http://example.com/")


# TLS, protocol choice, timeouts and options.


@pytest.mark.anyio
async def test_socks5_https_starts_tls_with_the_sni_hostname_extension() -> None:
    backend = ScriptedBackend([NO_AUTH, CONNECTED] + HELLO)
    context = ssl.create_default_context()
    extensions: Dict[str, Any] = {"sni_hostname": "other.example", "timeout": {"connect": 3}}
    async with AsyncSOCKSProxy(PROXY, ssl_context=context, network_backend=backend) as proxy:
        await proxy.request("GET", "https://example.com/", extensions=extensions)
    assert backend.events("start_tls") == [(context, "other.example", 3)]
    assert backend.events("connect_tcp") == [("localhost", 1080, 3, None, None)]
    # The handshake reads honour the connect timeout.
    assert backend.events("read_timeout")[:2] == [3, 3]


@pytest.mark.anyio
async def test_socks5_wss_starts_tls_and_ws_does_not() -> None:
    upgrade = [("Connection", "Upgrade"), ("Upgrade", "websocket")]
    switching = [b"HTTP/1.1 101 Switching Protocols\r\n\r\n"]
    backend = ScriptedBackend([NO_AUTH, CONNECTED] + switching, [NO_AUTH, CONNECTED] + switching)
    async with AsyncSOCKSProxy(PROXY, network_backend=backend) as proxy:
        async with proxy.stream("GET", "wss://example.com/", headers=upgrade) as response:
            assert response.status == 101
        assert len(backend.events("start_tls")) == 1
        async with proxy.stream("GET", "ws://example.com/", headers=upgrade) as response:
            assert response.status == 101
        assert len(backend.events("start_tls")) == 1


@pytest.mark.anyio
async def test_socks5_speaks_http2_when_alpn_selects_it() -> None:
    h2_reply = [
        SettingsFrame().serialize(),
        HeadersFrame(stream_id=1, data=b"\x88", flags=["END_HEADERS"]).serialize(),
        DataFrame(stream_id=1, data=b"Hello, world!", flags=["END_STREAM"]).serialize(),
    ]
    backend = ScriptedBackend([NO_AUTH, CONNECTED] + h2_reply, h2=True)
    context = ssl.create_default_context()
    async with AsyncSOCKSProxy(
        PROXY, ssl_context=context, http2=True, network_backend=backend
    ) as proxy:
        response = await proxy.request("GET", "https://example.com/")
        assert response.extensions["http_version"] == b"HTTP/2"
        assert [repr(c) for c in proxy.connections] == [
            "<AsyncSocks5Connection ['https://example.com:443', HTTP/2, IDLE, Request Count: 1]>"
        ]


@pytest.mark.anyio
async def test_socks5_honours_retries_local_address_and_socket_options() -> None:
    backend = ScriptedBackend([NO_AUTH, CONNECTED] + HELLO, failures=2)
    options = [(6, 1, 1)]
    async with AsyncSOCKSProxy(
        PROXY, retries=2, network_backend=backend, local_address="127.0.0.1",
        socket_options=options,
    ) as proxy:
        await proxy.request("GET", "http://example.com/")
    assert backend.events("connect_tcp") == [("localhost", 1080, None, "127.0.0.1", options)] * 3
    assert backend.events("sleep") == [0.0, 0.5]


@pytest.mark.anyio
async def test_socks5_reaches_the_proxy_over_uds() -> None:
    backend = ScriptedBackend([NO_AUTH, CONNECTED] + HELLO)
    async with AsyncSOCKSProxy(PROXY, network_backend=backend, uds="/tmp/socks.sock") as proxy:
        await proxy.request("GET", "http://example.com/")
    assert backend.events("connect_unix_socket") == [("/tmp/socks.sock", None, None)]


# Connection state.


@pytest.mark.anyio
async def test_socks5_connection_state_before_and_after_connecting() -> None:
    origin = Origin(b"https", b"example.com", 443)
    connection = AsyncSocks5Connection(
        Origin(b"socks5", b"localhost", 1080),
        origin,
        network_backend=ScriptedBackend([NO_AUTH, CONNECTED] + HELLO),
    )
    assert repr(connection) == "<AsyncSocks5Connection [CONNECTING]>"
    assert not connection.is_available()
    assert not connection.is_idle() and not connection.is_closed() and not connection.has_expired()
    assert connection.can_handle_request(origin)
    assert not connection.can_handle_request(Origin(b"http", b"example.com", 80))
    response = await connection.request("GET", "https://example.com/")
    assert response.status == 200
    assert connection.is_idle() and connection.is_available()
    await connection.aclose()
    assert connection.is_closed()


@pytest.mark.anyio
async def test_socks5_connect_failure_marks_the_connection_failed() -> None:
    connection = AsyncSocks5Connection(
        Origin(b"socks5", b"localhost", 1080),
        Origin(b"http", b"example.com", 80),
        network_backend=ScriptedBackend(failures=1),
    )
    with pytest.raises(ConnectError):
        await connection.request("GET", "http://example.com/")
    assert repr(connection) == "<AsyncSocks5Connection [CONNECTION FAILED]>"
    assert connection.is_closed() and connection.has_expired() and connection.is_idle()
    assert not connection.is_available()


@pytest.mark.anyio
async def test_socks5_busy_connection_refuses_another_request() -> None:
    connection = AsyncSocks5Connection(
        Origin(b"socks5", b"localhost", 1080),
        Origin(b"http", b"example.com", 80),
        network_backend=ScriptedBackend([NO_AUTH, CONNECTED] + HELLO),
    )
    async with connection.stream("GET", "http://example.com/"):
        with pytest.raises(ConnectionNotAvailable):
            await connection.handle_async_request(Request("GET", "http://example.com/"))


@pytest.mark.anyio
async def test_socks5_trace_events() -> None:
    names: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        names.append(name)

    backend = ScriptedBackend([NO_AUTH, CONNECTED] + HELLO)
    async with AsyncSOCKSProxy(PROXY, network_backend=backend) as proxy:
        await proxy.request("GET", "https://example.com/", extensions={"trace": trace})
    assert names[:6] == [
        "socks.connect_tcp.started",
        "socks.connect_tcp.complete",
        "socks.setup_socks5_connection.started",
        "socks.setup_socks5_connection.complete",
        "socks.start_tls.started",
        "socks.start_tls.complete",
    ]
    assert names[6] == "http11.send_request_headers.started"
