"""Beyond 1.0.9: SOCKS4 and SOCKS4a proxies (``socks4://``, ``socks4a://``; httpcore#51), and
SOCKS replies that arrive split across reads or followed by tunnel bytes, over a scripted
backend whose reads honour ``max_bytes`` as a socket does."""

from __future__ import annotations

import ssl
from typing import Any, Dict, List

import pytest

from httpcore._core._exceptions import (
    ConnectError,
    ConnectTimeout,
    ProxyError,
    ReadError,
    ReadTimeout,
)
from httpcore._core._models import Origin, Proxy
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from httpcore._proxy._async.socks_proxy import (
    AsyncSocks4Connection,
    AsyncSocks5Connection,
    AsyncSOCKSProxy,
)
from tests.proxy._async._scripted import ScriptedBackend

HELLO_BYTES = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!"
HELLO = [HELLO_BYTES]
GRANTED = b"\x00\x5a\x00\x00\x00\x00\x00\x00"
NO_AUTH = b"\x05\x00"
SOCKS5_CONNECTED = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"
SOCKS4 = "socks4://localhost:1080"
SOCKS4A = "socks4a://localhost:1080"


# SOCKS4 and SOCKS4a.


def test_socks4_proxy_urls_give_socks4_connections_on_port_1080_by_default() -> None:
    for url in ("socks4://localhost", "socks4a://localhost"):
        proxy = AsyncSOCKSProxy(url)
        connection = proxy.create_connection(Origin(b"http", b"a", 80))
        assert isinstance(connection, AsyncSocks4Connection)
        assert connection._proxy_origin == Origin(url.split(":")[0].encode(), b"localhost", 1080)
    pool = AsyncConnectionPool(proxy=Proxy("socks4a://localhost:1081"))
    connection = pool.create_connection(Origin(b"https", b"a", 443))
    assert isinstance(connection, AsyncSocks4Connection)
    assert connection._proxy_origin == Origin(b"socks4a", b"localhost", 1081)
    socks5 = AsyncConnectionPool(proxy=Proxy("socks5://localhost")).create_connection(
        Origin(b"http", b"a", 80)
    )
    assert type(socks5) is AsyncSocks5Connection


@pytest.mark.anyio
async def test_socks4_connects_to_an_ipv4_address() -> None:
    backend = ScriptedBackend([GRANTED] + HELLO)
    async with AsyncSOCKSProxy("socks4://localhost", network_backend=backend) as proxy:
        response = await proxy.request("GET", "http://127.0.0.1:8000/")
        assert response.content == b"Hello, world!"
        assert [repr(c) for c in proxy.connections] == [
            "<AsyncSocks4Connection ['http://127.0.0.1:8000', HTTP/1.1, IDLE, Request Count: 1]>"
        ]
    writes = backend.writes()
    assert writes[0] == b"\x04\x01\x1f\x40\x7f\x00\x00\x01\x00"
    assert writes[1].startswith(b"GET / HTTP/1.1\r\n")
    assert backend.events("connect_tcp") == [("localhost", 1080, None, None, None)]


@pytest.mark.anyio
async def test_socks4_sends_the_username_as_user_id() -> None:
    backend = ScriptedBackend([GRANTED] + HELLO)
    proxy = Proxy(SOCKS4, auth=("alice", ""))
    async with AsyncConnectionPool(proxy=proxy, network_backend=backend) as pool:
        await pool.request("GET", "http://10.1.2.3/")
    assert backend.writes()[0] == b"\x04\x01\x00\x50\x0a\x01\x02\x03alice\x00"


@pytest.mark.anyio
async def test_socks4a_lets_the_proxy_resolve_host_names() -> None:
    backend = ScriptedBackend([GRANTED] + HELLO, [GRANTED] + HELLO)
    async with AsyncSOCKSProxy(SOCKS4A, proxy_auth=("bob", ""), network_backend=backend) as proxy:
        await proxy.request("GET", "http://example.com/")
        await proxy.request("GET", "http://127.0.0.1/")
    writes = backend.writes()
    assert writes[0] == b"\x04\x01\x00\x50\x00\x00\x00\x01bob\x00example.com\x00"
    # An address needs no resolving: a plain SOCKS4 request.
    assert writes[2] == b"\x04\x01\x00\x50\x7f\x00\x00\x01bob\x00"


@pytest.mark.anyio
async def test_socks4_refuses_host_names_and_points_to_socks4a() -> None:
    backend = ScriptedBackend([GRANTED] + HELLO)
    async with AsyncSOCKSProxy(SOCKS4, network_backend=backend) as proxy:
        with pytest.raises(ProxyError) as info:
            await proxy.request("GET", "http://example.com/")
        assert "IPv4 addresses only" in str(info.value)
        assert "'example.com'" in str(info.value) and "socks4a://" in str(info.value)
        assert proxy.connections == []
    assert backend.writes() == []
    assert ("close", None) in backend.log


@pytest.mark.anyio
async def test_socks4_cannot_reach_ipv6_addresses() -> None:
    backend = ScriptedBackend([GRANTED] + HELLO)
    async with AsyncSOCKSProxy(SOCKS4A, network_backend=backend) as proxy:
        with pytest.raises(ProxyError, match="IPv6 address ::1"):
            await proxy.request("GET", "http://[::1]/")


def test_socks4_with_a_password_or_a_nul_in_the_user_id_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no password"):
        AsyncSOCKSProxy(SOCKS4, proxy_auth=("alice", "secret")).create_connection(
            Origin(b"http", b"a", 80)
        )
    with pytest.raises(ValueError, match="NUL"):
        AsyncSOCKSProxy(SOCKS4, proxy_auth=("al\x00ice", "")).create_connection(
            Origin(b"http", b"a", 80)
        )


@pytest.mark.anyio
async def test_pool_with_a_socks4_proxy_and_a_password_raises_and_holds_nothing() -> None:
    proxy = Proxy(SOCKS4, auth=("alice", "secret"))
    async with AsyncConnectionPool(proxy=proxy, network_backend=ScriptedBackend()) as pool:
        for _ in range(2):  # The first failure leaves nothing behind to block the second.
            with pytest.raises(ValueError, match="no password"):
                await pool.request("GET", "http://10.0.0.1/")
            assert pool.connections == []
            assert "0 active, 0 queued" in repr(pool)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "code, reason",
    [
        (0x5B, "Request rejected or failed"),
        (0x5C, "Request rejected because the SOCKS server cannot reach identd on the client"),
        (0x5D, "Request rejected because identd reports a different user id"),
        (0x5E, "UNKNOWN"),
    ],
)
async def test_socks4_refusal_names_the_reason(code: int, reason: str) -> None:
    backend = ScriptedBackend([bytes([0, code]) + b"\x00" * 6])
    async with AsyncSOCKSProxy(SOCKS4, network_backend=backend) as proxy:
        with pytest.raises(ProxyError) as info:
            await proxy.request("GET", "http://127.0.0.1/")
        assert str(info.value) == f"Proxy Server could not connect: {reason}."
        assert proxy.connections == []
    assert ("close", None) in backend.log


@pytest.mark.anyio
async def test_socks4_garbage_and_early_close_are_proxy_errors() -> None:
    backend = ScriptedBackend([SOCKS5_CONNECTED], [b"\x00\x5a\x00"])
    async with AsyncSOCKSProxy(SOCKS4, network_backend=backend) as proxy:
        with pytest.raises(ProxyError, match="Invalid SOCKS4 reply"):
            await proxy.request("GET", "http://127.0.0.1/")
        with pytest.raises(ProxyError, match="closed the connection during the SOCKS4 handshake"):
            await proxy.request("GET", "http://127.0.0.1/")


@pytest.mark.anyio
async def test_socks4a_https_starts_tls_with_the_connect_timeout() -> None:
    backend = ScriptedBackend([GRANTED] + HELLO)
    context = ssl.create_default_context()
    extensions: Dict[str, Any] = {"timeout": {"connect": 3}}
    async with AsyncSOCKSProxy(SOCKS4A, ssl_context=context, network_backend=backend) as proxy:
        await proxy.request("GET", "https://example.com/", extensions=extensions)
    assert backend.events("start_tls") == [(context, "example.com", 3)]
    assert backend.events("read_timeout")[0] == 3


@pytest.mark.anyio
async def test_socks4_trace_events() -> None:
    events: List[str] = []

    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)
        if name == "socks.setup_socks4_connection.started":
            assert (info["host"], info["port"], info["user_id"]) == ("127.0.0.1", 80, b"")

    backend = ScriptedBackend([GRANTED] + HELLO)
    async with AsyncSOCKSProxy(SOCKS4, network_backend=backend) as proxy:
        await proxy.request("GET", "http://127.0.0.1/", extensions={"trace": trace})
    assert events[:4] == [
        "socks.connect_tcp.started",
        "socks.connect_tcp.complete",
        "socks.setup_socks4_connection.started",
        "socks.setup_socks4_connection.complete",
    ]


# Replies split across reads, or followed by the tunnel's first bytes.


@pytest.mark.anyio
async def test_socks5_replies_split_across_reads() -> None:
    split = [b"\x05", b"\x00", b"\x05\x00", b"\x00\x03\x09", b"localhost", b"\x04", b"\x38"]
    backend = ScriptedBackend(split + HELLO)
    async with AsyncSOCKSProxy("socks5://localhost", network_backend=backend) as proxy:
        response = await proxy.request("GET", "http://example.com/")
        assert response.content == b"Hello, world!"


@pytest.mark.anyio
async def test_socks5_ipv6_bound_address_reply_is_read_whole() -> None:
    reply = b"\x05\x00\x00\x04" + b"\x00" * 15 + b"\x01" + b"\x04\x38"
    backend = ScriptedBackend([NO_AUTH, reply[:7], reply[7:]] + HELLO)
    async with AsyncSOCKSProxy("socks5://localhost", network_backend=backend) as proxy:
        response = await proxy.request("GET", "http://example.com/")
        assert response.status == 200


@pytest.mark.anyio
async def test_socks_replies_never_swallow_the_tunnel_bytes_behind_them() -> None:
    # A proxy may send its reply and the origin's first bytes in one segment.
    socks5 = ScriptedBackend([NO_AUTH + SOCKS5_CONNECTED + HELLO_BYTES])
    async with AsyncSOCKSProxy("socks5://localhost", network_backend=socks5) as proxy:
        assert (await proxy.request("GET", "http://example.com/")).content == b"Hello, world!"
    socks4 = ScriptedBackend([GRANTED + HELLO_BYTES])
    async with AsyncSOCKSProxy(SOCKS4, network_backend=socks4) as proxy:
        assert (await proxy.request("GET", "http://127.0.0.1/")).content == b"Hello, world!"


@pytest.mark.anyio
async def test_socks4_reply_split_across_reads() -> None:
    backend = ScriptedBackend([GRANTED[:1], GRANTED[1:5], GRANTED[5:]] + HELLO)
    async with AsyncSOCKSProxy(SOCKS4, network_backend=backend) as proxy:
        assert (await proxy.request("GET", "http://127.0.0.1/")).status == 200


# Handshake failures are connect failures.


@pytest.mark.anyio
async def test_socks_handshake_timeouts_and_errors_are_connect_errors() -> None:
    timed_out = ReadTimeout("The read operation timed out")
    reset = ReadError("Connection reset by peer")
    backend = ScriptedBackend([timed_out], [NO_AUTH, reset], [reset])
    async with AsyncSOCKSProxy("socks5://localhost", network_backend=backend) as proxy:
        with pytest.raises(ConnectTimeout, match="timed out"):
            await proxy.request("GET", "http://example.com/")
        with pytest.raises(ConnectError, match="reset"):
            await proxy.request("GET", "http://example.com/")
        assert proxy.connections == []
    async with AsyncSOCKSProxy(SOCKS4, network_backend=backend) as proxy:
        with pytest.raises(ConnectError, match="reset"):
            await proxy.request("GET", "http://127.0.0.1/")
