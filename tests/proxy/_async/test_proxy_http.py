"""``AsyncHTTPProxy`` and its forwarding and tunnelling connections (API.md §7.2, §7.3,
§11.2) over a scripted backend: request lines, headers, CONNECT, ProxyError, TLS, reprs."""

from __future__ import annotations

import ssl
from typing import Any, Dict, List

import pytest
from hyperframe.frame import DataFrame, HeadersFrame, SettingsFrame

from httpcore._core._exceptions import ConnectError, ProxyError
from httpcore._core._models import Origin, Proxy
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from httpcore._proxy._async.http_proxy import (
    AsyncForwardHTTPConnection,
    AsyncHTTPProxy,
    AsyncTunnelHTTPConnection,
)
from httpcore._proxy._async.socks_proxy import AsyncSocks5Connection
from tests.proxy._async._scripted import ScriptedBackend

HELLO = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!"]
CONNECTED = [b"HTTP/1.1 200 Connection established\r\n\r\n"]
REFUSED = [b"HTTP/1.1 403 Permission Denied\r\nContent-Length: 0\r\n\r\n"]
PROXY = "http://localhost:8080/"


def head_lines(data: bytes) -> List[bytes]:
    return data.split(b"\r\n\r\n")[0].split(b"\r\n")


# Construction (§7.2).


def test_http_proxy_keeps_the_coerced_proxy_url() -> None:
    proxy = AsyncHTTPProxy(b"http://localhost:8080/")
    assert proxy._proxy_url.origin == Origin(b"http", b"localhost", 8080)
    assert repr(proxy) == (
        "<AsyncHTTPProxy [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>"
    )


def test_http_proxy_auth_prepends_a_basic_proxy_authorization_header() -> None:
    proxy = AsyncHTTPProxy(PROXY, proxy_auth=("username", "password"), proxy_headers={"X-A": "1"})
    assert proxy._proxy_headers == [
        (b"Proxy-Authorization", b"Basic dXNlcm5hbWU6cGFzc3dvcmQ="),
        (b"X-A", b"1"),
    ]


def test_proxy_ssl_context_with_an_http_proxy_url_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="proxy_ssl_context"):
        AsyncHTTPProxy(PROXY, proxy_ssl_context=ssl.create_default_context())


def test_http_proxy_creates_forwarding_for_http_and_tunnels_for_the_rest() -> None:
    proxy = AsyncHTTPProxy(PROXY)
    assert isinstance(proxy.create_connection(Origin(b"http", b"a", 80)), AsyncForwardHTTPConnection)
    for scheme in (b"https", b"ws", b"wss"):
        connection = proxy.create_connection(Origin(scheme, b"a", 443))
        assert isinstance(connection, AsyncTunnelHTTPConnection)


# Pool dispatch (§7.1).


def test_pool_with_a_proxy_creates_the_connection_for_each_scheme() -> None:
    pool = AsyncConnectionPool(proxy=Proxy(PROXY))
    assert isinstance(pool.create_connection(Origin(b"http", b"a", 80)), AsyncForwardHTTPConnection)
    assert isinstance(pool.create_connection(Origin(b"https", b"a", 443)), AsyncTunnelHTTPConnection)
    assert isinstance(pool.create_connection(Origin(b"ws", b"a", 80)), AsyncTunnelHTTPConnection)
    for url in ("socks5://localhost:1080", "socks5h://localhost:1080"):
        pool = AsyncConnectionPool(proxy=Proxy(url))
        connection = pool.create_connection(Origin(b"http", b"a", 80))
        assert isinstance(connection, AsyncSocks5Connection)


@pytest.mark.anyio
async def test_pool_with_a_proxy_sends_proxy_headers_and_auth() -> None:
    backend = ScriptedBackend(HELLO)
    proxy = Proxy(PROXY, auth=("username", "password"), headers={"X-Proxy": "yes"})
    async with AsyncConnectionPool(proxy=proxy, network_backend=backend) as pool:
        response = await pool.request("GET", "http://example.com/x")
        assert response.content == b"Hello, world!"
    lines = head_lines(backend.writes()[0])
    assert lines[0] == b"GET http://example.com/x HTTP/1.1"
    assert lines[1:3] == [b"Proxy-Authorization: Basic dXNlcm5hbWU6cGFzc3dvcmQ=", b"X-Proxy: yes"]


# Forwarding (§7.3).


@pytest.mark.anyio
async def test_forwarding_uses_an_absolute_form_target_and_the_proxy_origin() -> None:
    backend = ScriptedBackend(HELLO)
    async with AsyncHTTPProxy(PROXY, network_backend=backend) as proxy:
        response = await proxy.request("GET", "http://example.com:8000/path?q=1")
        assert response.status == 200
        assert [repr(c) for c in proxy.connections] == [
            "<AsyncForwardHTTPConnection ['http://localhost:8080', HTTP/1.1, IDLE, Request Count: 1]>"
        ]
    assert backend.events("connect_tcp")[0][:2] == ("localhost", 8080)
    assert head_lines(backend.writes()[0])[0] == b"GET http://example.com:8000/path?q=1 HTTP/1.1"


@pytest.mark.anyio
async def test_forwarding_drops_proxy_headers_the_request_also_sends() -> None:
    backend = ScriptedBackend(HELLO)
    headers = [("X-Shared", "proxy"), ("X-Only-Proxy", "1")]
    async with AsyncHTTPProxy(PROXY, proxy_headers=headers, network_backend=backend) as proxy:
        await proxy.request("GET", "http://example.com/", headers={"x-shared": "request"})
    lines = head_lines(backend.writes()[0])
    assert b"X-Only-Proxy: 1" in lines
    assert b"x-shared: request" in lines
    assert b"X-Shared: proxy" not in lines
    assert lines.index(b"X-Only-Proxy: 1") < lines.index(b"x-shared: request")


@pytest.mark.anyio
async def test_forwarding_opens_one_connection_per_remote_origin() -> None:
    backend = ScriptedBackend(HELLO + HELLO, HELLO)
    async with AsyncHTTPProxy(PROXY, network_backend=backend) as proxy:
        await proxy.request("GET", "http://a.example/")
        await proxy.request("GET", "http://b.example/")
        await proxy.request("GET", "http://a.example/again")
        assert len(proxy.connections) == 2
        first, second = proxy.connections
        assert first.can_handle_request(Origin(b"http", b"a.example", 80))
        assert not first.can_handle_request(Origin(b"http", b"localhost", 8080))
        assert second.can_handle_request(Origin(b"http", b"b.example", 80))


@pytest.mark.anyio
async def test_forwarding_passes_the_connect_options_to_the_proxy_connect() -> None:
    backend = ScriptedBackend(HELLO, failures=1)
    options = [(6, 1, 1)]
    async with AsyncHTTPProxy(
        PROXY,
        network_backend=backend,
        retries=1,
        local_address="127.0.0.1",
        socket_options=options,
    ) as proxy:
        await proxy.request("GET", "http://example.com/")
    connects = backend.events("connect_tcp")
    assert connects == [("localhost", 8080, None, "127.0.0.1", options)] * 2
    assert backend.events("sleep") == [0.0]


@pytest.mark.anyio
async def test_forwarding_reaches_the_proxy_over_uds() -> None:
    backend = ScriptedBackend(HELLO)
    async with AsyncHTTPProxy(PROXY, network_backend=backend, uds="/tmp/proxy.sock") as proxy:
        await proxy.request("GET", "http://example.com/")
    assert backend.events("connect_tcp") == []
    assert backend.events("connect_unix_socket") == [("/tmp/proxy.sock", None, None)]


@pytest.mark.anyio
async def test_forwarding_through_an_https_proxy_uses_the_proxy_ssl_context() -> None:
    backend = ScriptedBackend(HELLO)
    context = ssl.create_default_context()
    proxy_url = "https://proxy.example:8443/"
    async with AsyncHTTPProxy(
        proxy_url, proxy_ssl_context=context, network_backend=backend
    ) as proxy:
        await proxy.request("GET", "http://example.com/")
    assert backend.events("start_tls") == [(context, "proxy.example", None)]


# Tunnelling (§7.3).


@pytest.mark.anyio
async def test_tunnel_sends_connect_with_host_accept_and_proxy_headers() -> None:
    backend = ScriptedBackend(CONNECTED + HELLO)
    async with AsyncHTTPProxy(
        PROXY, proxy_auth=("username", "password"), network_backend=backend
    ) as proxy:
        response = await proxy.request("GET", "https://example.com/")
        assert response.content == b"Hello, world!"
    assert head_lines(backend.writes()[0]) == [
        b"CONNECT example.com:443 HTTP/1.1",
        b"Host: example.com:443",
        b"Accept: */*",
        b"Proxy-Authorization: Basic dXNlcm5hbWU6cGFzc3dvcmQ=",
    ]
    assert head_lines(backend.writes()[1])[0] == b"GET / HTTP/1.1"


@pytest.mark.anyio
async def test_tunnel_proxy_headers_replace_the_default_connect_headers() -> None:
    backend = ScriptedBackend(CONNECTED + HELLO)
    headers = [("accept", "text/plain"), ("X-A", "b")]
    async with AsyncHTTPProxy(PROXY, proxy_headers=headers, network_backend=backend) as proxy:
        await proxy.request("GET", "https://example.com/")
    assert head_lines(backend.writes()[0]) == [
        b"CONNECT example.com:443 HTTP/1.1",
        b"Host: example.com:443",
        b"accept: text/plain",
        b"X-A: b",
    ]


@pytest.mark.anyio
async def test_tunnel_refused_raises_proxy_error_and_leaves_the_pool_empty() -> None:
    backend = ScriptedBackend(REFUSED)
    async with AsyncHTTPProxy(PROXY, network_backend=backend) as proxy:
        with pytest.raises(ProxyError) as info:
            await proxy.request("GET", "https://example.com/")
        assert str(info.value) == "403 Permission Denied"
        assert proxy.connections == []
    assert ("close", None) in backend.log


@pytest.mark.anyio
async def test_tunnel_starts_tls_to_the_origin_ignoring_sni_hostname() -> None:
    backend = ScriptedBackend(CONNECTED + HELLO)
    context = ssl.create_default_context()
    extensions: Dict[str, Any] = {"sni_hostname": "other.example", "timeout": {"connect": 5}}
    async with AsyncHTTPProxy(PROXY, ssl_context=context, network_backend=backend) as proxy:
        await proxy.request("GET", "https://example.com/", extensions=extensions)
        assert [repr(c) for c in proxy.connections] == [
            "<AsyncTunnelHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>"
        ]
    assert backend.events("start_tls") == [(context, "example.com", 5)]


@pytest.mark.anyio
async def test_tunnel_starts_tls_even_for_ws_as_1_0_9_does() -> None:
    backend = ScriptedBackend(CONNECTED + [b"HTTP/1.1 101 Switching Protocols\r\n\r\n"])
    async with AsyncHTTPProxy(PROXY, network_backend=backend) as proxy:
        upgrade = [("Connection", "Upgrade"), ("Upgrade", "websocket")]
        async with proxy.stream("GET", "ws://example.com/", headers=upgrade) as response:
            assert response.status == 101
    assert [server_name for _, server_name, _ in backend.events("start_tls")] == ["example.com"]
    assert head_lines(backend.writes()[0])[0] == b"CONNECT example.com:80 HTTP/1.1"


@pytest.mark.anyio
async def test_tunnel_speaks_http2_when_alpn_selects_it() -> None:
    h2_reply = [
        SettingsFrame().serialize(),
        HeadersFrame(stream_id=1, data=b"\x88", flags=["END_HEADERS"]).serialize(),
        DataFrame(stream_id=1, data=b"Hello, world!", flags=["END_STREAM"]).serialize(),
    ]
    backend = ScriptedBackend(CONNECTED + h2_reply, h2=True)
    context = ssl.create_default_context()
    async with AsyncHTTPProxy(
        PROXY, ssl_context=context, http2=True, network_backend=backend
    ) as proxy:
        response = await proxy.request("GET", "https://example.com/")
        assert response.extensions["http_version"] == b"HTTP/2"
        assert response.content == b"Hello, world!"
        assert [repr(c) for c in proxy.connections] == [
            "<AsyncTunnelHTTPConnection ['https://example.com:443', HTTP/2, IDLE, Request Count: 1]>"
        ]


@pytest.mark.anyio
async def test_tunnel_through_an_https_proxy_is_tls_in_tls() -> None:
    backend = ScriptedBackend(CONNECTED + HELLO)
    proxy_context = ssl.create_default_context()
    context = ssl.create_default_context()
    async with AsyncHTTPProxy(
        "https://proxy.example:8443",
        ssl_context=context,
        proxy_ssl_context=proxy_context,
        network_backend=backend,
    ) as proxy:
        await proxy.request("GET", "https://example.com/")
    assert backend.events("start_tls") == [
        (proxy_context, "proxy.example", None),
        (context, "example.com", None),
    ]


@pytest.mark.anyio
async def test_tunnel_before_connect_delegates_to_the_proxy_connection() -> None:
    connection = AsyncTunnelHTTPConnection(
        Origin(b"http", b"localhost", 8080),
        Origin(b"https", b"example.com", 443),
        network_backend=ScriptedBackend(CONNECTED + HELLO),
    )
    assert repr(connection) == "<AsyncTunnelHTTPConnection [CONNECTING]>"
    assert not connection.is_available()
    assert connection.can_handle_request(Origin(b"https", b"example.com", 443))
    assert not connection.can_handle_request(Origin(b"http", b"localhost", 8080))


@pytest.mark.anyio
async def test_tunnel_connect_failure_leaves_the_pool_empty() -> None:
    backend = ScriptedBackend(failures=1)
    async with AsyncHTTPProxy(PROXY, network_backend=backend) as proxy:
        with pytest.raises(ConnectError):
            await proxy.request("GET", "https://example.com/")
        assert proxy.connections == []


@pytest.mark.anyio
async def test_tunnel_trace_events_include_proxy_start_tls() -> None:
    names: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        names.append(name)

    backend = ScriptedBackend(CONNECTED + HELLO)
    async with AsyncHTTPProxy(PROXY, network_backend=backend) as proxy:
        await proxy.request("GET", "https://example.com/", extensions={"trace": trace})
    assert names[:2] == ["connection.connect_tcp.started", "connection.connect_tcp.complete"]
    index = names.index("proxy.start_tls.started")
    assert names[index + 1] == "proxy.start_tls.complete"
    assert "http11.send_request_headers.started" in names[:index]
    assert names[index + 2] == "http11.send_request_headers.started"
