"""The async API through real proxies on loopback, with the session nginx as the origin.

Every test runs on each async library with each backend that works there (asyncio with the
default and ``AnyIOBackend``; trio with the default, ``AnyIOBackend`` and ``TrioBackend``),
and, where both apply, with ``AsyncConnectionPool(proxy=Proxy(...))`` and with the proxy
classes ``AsyncHTTPProxy`` / ``AsyncSOCKSProxy`` (the ``kind`` fixture). Covered:

- HTTP proxy (tinyproxy): forwarding to http:// nginx (body, absolute-form request line in
  tinyproxy's log followed by ``Established connection``); CONNECT tunnels to https://
  nginx (TLS inside, and HTTP/2 inside on nginx's h2 listener);
- Basic auth (``Proxy(auth=...)`` / ``proxy_auth=``); without credentials forwarding gives
  a 407 response and CONNECT raises ``ProxyError("407 ...")``; the pool is empty
  afterwards and the next good request works;
- HTTPS proxy (stunnel in front of tinyproxy): forwarding to http:// nginx and TLS inside
  TLS to https:// nginx;
- SOCKS5 (microsocks): socks5 / socks5h to http and https nginx, with username/password,
  and a wrong password (``ProxyError("Invalid username/password")``);
- SOCKS4 / SOCKS4a (``Socks4Server``): socks4 to 127.0.0.1, socks4a with ``localhost``
  (recorded as 4a), the user id from ``auth=("bob", "")``;
- a proxy that accepts and never answers: ``ReadTimeout`` for CONNECT, ``ConnectTimeout``
  for SOCKS5 (its handshake runs under the connect timeout); cancelling a request in the
  middle of a CONNECT or SOCKS5 handshake leaves no connection and no held slot
  (``max_connections=1``): the next request through a good proxy in the same pool works;
- 20 concurrent requests in an anyio task group through the HTTP proxy tunnel and through
  SOCKS5.

No assertion is about durations; every wait is bounded.
"""

from __future__ import annotations

import ssl
import sys
import uuid
from typing import Any, Dict, List, Optional, Tuple

import anyio
import pytest

import httpcore
from tools.servers.microsocks import MicrosocksServer
from tools.servers.nginx import SMALL_BODY, NginxServer
from tools.servers.socks4 import Socks4Server
from tools.servers.stunnel import StunnelFront
from tools.servers.tinyproxy import TinyproxyServer

SAFETY_TIMEOUT_S = 10.0
TINY_TIMEOUT_S = 0.2
CONCURRENT_REQUESTS = 20

Auth = Tuple[str, str]

LIBRARY_AND_BACKEND = [
    ("asyncio", "auto"),
    ("asyncio", "anyio"),
    ("trio", "auto"),
    ("trio", "anyio"),
    ("trio", "trio"),
]


@pytest.fixture(
    params=LIBRARY_AND_BACKEND, ids=[f"{lib}-{backend}" for lib, backend in LIBRARY_AND_BACKEND]
)
def library_and_backend(request: pytest.FixtureRequest) -> Tuple[str, str]:
    library, backend = request.param
    return str(library), str(backend)


@pytest.fixture
def anyio_backend(library_and_backend: Tuple[str, str]) -> str:
    """Overrides tests/conftest.py: the library comes with the backend combination."""
    return library_and_backend[0]


@pytest.fixture
def network_backend(
    library_and_backend: Tuple[str, str],
) -> Optional[httpcore.AsyncNetworkBackend]:
    backend = library_and_backend[1]
    if backend == "auto":
        return None
    if backend == "anyio":
        return httpcore.AnyIOBackend()
    return httpcore.TrioBackend()


@pytest.fixture(params=["pool", "class"])
def kind(request: pytest.FixtureRequest) -> str:
    """``pool``: AsyncConnectionPool(proxy=Proxy(...)); ``class``: the proxy classes."""
    return str(request.param)


@pytest.fixture(params=[False, True], ids=["http", "https"])
def tls(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def safe_extensions() -> Dict[str, Any]:
    return {"timeout": dict.fromkeys(("connect", "read", "write", "pool"), SAFETY_TIMEOUT_S)}


def tiny_timeouts() -> Dict[str, Any]:
    return {
        "timeout": {
            "connect": TINY_TIMEOUT_S,
            "read": TINY_TIMEOUT_S,
            "write": SAFETY_TIMEOUT_S,
            "pool": SAFETY_TIMEOUT_S,
        }
    }


def unique_path() -> str:
    """/small.txt with a query nobody else sends (nginx ignores it; the proxy log shows it)."""
    return f"/small.txt?probe={uuid.uuid4().hex}"


def http_proxy_pool(
    kind: str,
    backend: Optional[httpcore.AsyncNetworkBackend],
    proxy_url: str,
    *,
    auth: Optional[Auth] = None,
    ssl_context: Optional[ssl.SSLContext] = None,
    proxy_ssl_context: Optional[ssl.SSLContext] = None,
    http2: bool = False,
    max_connections: Optional[int] = 10,
) -> httpcore.AsyncConnectionPool:
    if kind == "pool":
        proxy = httpcore.Proxy(proxy_url, auth=auth, ssl_context=proxy_ssl_context)
        return httpcore.AsyncConnectionPool(
            proxy=proxy,
            ssl_context=ssl_context,
            http2=http2,
            max_connections=max_connections,
            network_backend=backend,
        )
    return httpcore.AsyncHTTPProxy(
        proxy_url,
        proxy_auth=auth,
        ssl_context=ssl_context,
        proxy_ssl_context=proxy_ssl_context,
        http2=http2,
        max_connections=max_connections,
        network_backend=backend,
    )


def socks_proxy_pool(
    kind: str,
    backend: Optional[httpcore.AsyncNetworkBackend],
    proxy_url: str,
    *,
    auth: Optional[Auth] = None,
    ssl_context: Optional[ssl.SSLContext] = None,
    max_connections: Optional[int] = 10,
) -> httpcore.AsyncConnectionPool:
    if kind == "pool":
        return httpcore.AsyncConnectionPool(
            proxy=httpcore.Proxy(proxy_url, auth=auth),
            ssl_context=ssl_context,
            max_connections=max_connections,
            network_backend=backend,
        )
    return httpcore.AsyncSOCKSProxy(
        proxy_url,
        proxy_auth=auth,
        ssl_context=ssl_context,
        max_connections=max_connections,
        network_backend=backend,
    )


async def get(pool: httpcore.AsyncConnectionPool, url: str) -> httpcore.Response:
    with anyio.fail_after(SAFETY_TIMEOUT_S):
        return await pool.request("GET", url, extensions=safe_extensions())


def assert_forwarded(proxy: TinyproxyServer, url: str) -> None:
    log = proxy.log_text()
    line = f": GET {url} HTTP/1.1"
    assert line in log, log
    assert 'Established connection to host "127.0.0.1"' in log[log.index(line) :], log


def assert_tunnelled(proxy: TinyproxyServer, port: int) -> None:
    log = proxy.log_text()
    line = f": CONNECT 127.0.0.1:{port} HTTP/1.1"
    assert line in log, log
    assert 'Established connection to host "127.0.0.1"' in log[log.index(line) :], log


# --- 1. HTTP proxy: forwarding and CONNECT --------------------------------------------------


@pytest.mark.anyio
async def test_forwarding_http_origin(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    tinyproxy: TinyproxyServer,
) -> None:
    url = nginx.url(unique_path())
    async with http_proxy_pool(kind, network_backend, tinyproxy.url) as pool:
        response = await get(pool, url)
        assert response.status == 200
        assert response.content == SMALL_BODY
    assert_forwarded(tinyproxy, url)


@pytest.mark.anyio
async def test_connect_tunnel_https_origin(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    tinyproxy: TinyproxyServer,
) -> None:
    async with http_proxy_pool(
        kind, network_backend, tinyproxy.url, ssl_context=ssl_context
    ) as pool:
        first = await get(pool, nginx.url("/small.txt", tls=True))
        second = await get(pool, nginx.url("/small.txt", tls=True))
        assert (first.status, first.content) == (200, SMALL_BODY)
        assert (second.status, second.content) == (200, SMALL_BODY)
        assert first.extensions["http_version"] == b"HTTP/1.1"
        assert len(pool.connections) == 1  # keep-alive inside the tunnel
    assert_tunnelled(tinyproxy, nginx.ports.https)


@pytest.mark.anyio
async def test_connect_tunnel_http2(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    tinyproxy: TinyproxyServer,
) -> None:
    url = nginx.url("/small.txt", port=nginx.ports.h2, tls=True)
    async with http_proxy_pool(
        kind, network_backend, tinyproxy.url, ssl_context=ssl_context, http2=True
    ) as pool:
        response = await get(pool, url)
        assert (response.status, response.content) == (200, SMALL_BODY)
        assert response.extensions["http_version"] == b"HTTP/2"
    assert_tunnelled(tinyproxy, nginx.ports.h2)


# --- 2. Basic auth ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_auth_good_credentials(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    tinyproxy_auth: TinyproxyServer,
    tls: bool,
) -> None:
    assert tinyproxy_auth.auth is not None
    async with http_proxy_pool(
        kind, network_backend, tinyproxy_auth.url, auth=tinyproxy_auth.auth,
        ssl_context=ssl_context,
    ) as pool:
        response = await get(pool, nginx.url(unique_path(), tls=tls))
        assert (response.status, response.content) == (200, SMALL_BODY)


@pytest.mark.anyio
async def test_auth_missing_forwarding_gives_407(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    tinyproxy_auth: TinyproxyServer,
    tinyproxy: TinyproxyServer,
) -> None:
    async with http_proxy_pool(kind, network_backend, tinyproxy_auth.url) as pool:
        response = await get(pool, nginx.url(unique_path()))
        assert response.status == 407
    # A fresh pool through the proxy that needs no credentials works after that one.
    async with http_proxy_pool(kind, network_backend, tinyproxy.url) as pool:
        response = await get(pool, nginx.url(unique_path()))
        assert (response.status, response.content) == (200, SMALL_BODY)


@pytest.mark.anyio
async def test_auth_missing_connect_raises_proxy_error(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    tinyproxy_auth: TinyproxyServer,
) -> None:
    url = nginx.url("/small.txt", tls=True)
    async with http_proxy_pool(
        kind, network_backend, tinyproxy_auth.url, ssl_context=ssl_context
    ) as pool:
        with pytest.raises(httpcore.ProxyError) as info:
            await get(pool, url)
        assert str(info.value).startswith("407 "), str(info.value)
        assert pool.connections == []
    # A pool with the credentials tunnels through the same proxy.
    assert tinyproxy_auth.auth is not None
    async with http_proxy_pool(
        kind, network_backend, tinyproxy_auth.url, auth=tinyproxy_auth.auth,
        ssl_context=ssl_context,
    ) as pool:
        response = await get(pool, url)
        assert (response.status, response.content) == (200, SMALL_BODY)


# --- 3. HTTPS proxy ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_https_proxy(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    https_proxy: StunnelFront,
    tls: bool,
    library_and_backend: Tuple[str, str],
) -> None:
    """On asyncio's own backend, TLS inside TLS is ``loop.start_tls`` from Python 3.13 on and
    memory BIOs (``AsyncTLSOverStream``) before: the stream type shows which path ran."""
    async with http_proxy_pool(
        kind,
        network_backend,
        f"https://127.0.0.1:{https_proxy.port}",
        ssl_context=ssl_context,
        proxy_ssl_context=https_proxy.client_ssl_context(),
    ) as pool:
        for _ in range(2):
            response = await get(pool, nginx.url(unique_path(), tls=tls))
            assert (response.status, response.content) == (200, SMALL_BODY)
        assert len(pool.connections) == 1
        if tls and library_and_backend == ("asyncio", "auto"):
            stream_type = type(response.extensions["network_stream"]).__name__
            expected = "AsyncTLSOverStream" if sys.version_info < (3, 13) else "AsyncIOStream"
            assert stream_type == expected


# --- 4. SOCKS5 --------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_socks5(
    kind: str,
    scheme: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    microsocks: MicrosocksServer,
    tls: bool,
) -> None:
    proxy_url = f"{scheme}://127.0.0.1:{microsocks.port}"
    async with socks_proxy_pool(
        kind, network_backend, proxy_url, ssl_context=ssl_context
    ) as pool:
        response = await get(pool, nginx.url("/small.txt", tls=tls))
        assert (response.status, response.content) == (200, SMALL_BODY)


@pytest.mark.anyio
async def test_socks5_auth(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    microsocks_auth: MicrosocksServer,
    tls: bool,
) -> None:
    assert microsocks_auth.auth is not None
    async with socks_proxy_pool(
        kind, network_backend, microsocks_auth.url, auth=microsocks_auth.auth,
        ssl_context=ssl_context,
    ) as pool:
        response = await get(pool, nginx.url("/small.txt", tls=tls))
        assert (response.status, response.content) == (200, SMALL_BODY)


@pytest.mark.anyio
async def test_socks5_wrong_password(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    microsocks_auth: MicrosocksServer,
) -> None:
    assert microsocks_auth.auth is not None
    user = microsocks_auth.auth[0]
    async with socks_proxy_pool(
        kind, network_backend, microsocks_auth.url, auth=(user, "wrong")
    ) as pool:
        with pytest.raises(httpcore.ProxyError, match="Invalid username/password"):
            await get(pool, nginx.url("/small.txt"))
        assert pool.connections == []


# --- 5. SOCKS4 / SOCKS4a ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_socks4(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    socks4_server: Socks4Server,
    tls: bool,
) -> None:
    async with socks_proxy_pool(
        kind, network_backend, socks4_server.url, auth=("bob", ""), ssl_context=ssl_context
    ) as pool:
        response = await get(pool, nginx.url("/small.txt", tls=tls))
        assert (response.status, response.content) == (200, SMALL_BODY)
    [request] = socks4_server.requests
    port = nginx.ports.https if tls else nginx.ports.http
    assert (request.version, request.command, request.host, request.port) == (
        4, 1, "127.0.0.1", port,
    )
    assert request.user_id == b"bob"
    assert not request.is_4a


@pytest.mark.anyio
async def test_socks4a_host_name(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    socks4_server: Socks4Server,
) -> None:
    proxy_url = f"socks4a://127.0.0.1:{socks4_server.port}"
    async with socks_proxy_pool(kind, network_backend, proxy_url) as pool:
        response = await get(pool, f"http://localhost:{nginx.ports.http}/small.txt")
        assert (response.status, response.content) == (200, SMALL_BODY)
    [request] = socks4_server.requests
    assert request.is_4a
    assert (request.host, request.port) == ("localhost", nginx.ports.http)


# --- 6. Timeouts and cancellation -------------------------------------------------------------


@pytest.mark.anyio
async def test_silent_http_proxy_connect_read_timeout(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    silent_port: int,
) -> None:
    async with http_proxy_pool(
        kind, network_backend, f"http://127.0.0.1:{silent_port}", ssl_context=ssl_context
    ) as pool:
        with anyio.fail_after(SAFETY_TIMEOUT_S):
            with pytest.raises(httpcore.ReadTimeout):
                await pool.request(
                    "GET", nginx.url("/small.txt", tls=True), extensions=tiny_timeouts()
                )
        assert pool.connections == []


@pytest.mark.anyio
async def test_silent_socks5_proxy_connect_timeout(
    kind: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    silent_port: int,
) -> None:
    async with socks_proxy_pool(
        kind, network_backend, f"socks5://127.0.0.1:{silent_port}"
    ) as pool:
        with anyio.fail_after(SAFETY_TIMEOUT_S):
            with pytest.raises(httpcore.ConnectTimeout):
                await pool.request("GET", nginx.url("/small.txt"), extensions=tiny_timeouts())
        assert pool.connections == []


@pytest.mark.anyio
@pytest.mark.parametrize("scheme", ["http", "socks5"])
async def test_cancel_mid_handshake_frees_the_slot(
    scheme: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    silent_port: int,
    tinyproxy: TinyproxyServer,
    microsocks: MicrosocksServer,
) -> None:
    """One pool, ``max_connections=1``: the request to the silent proxy is cancelled in the
    middle of its CONNECT / SOCKS5 handshake; the request through the good proxy (the
    request's own proxy origin differs, so it needs the one slot) then succeeds."""
    silent = httpcore.AsyncConnectionPool(
        proxy=httpcore.Proxy(f"{scheme}://127.0.0.1:{silent_port}"),
        ssl_context=ssl_context,
        max_connections=1,
        network_backend=network_backend,
    )
    async with silent:
        with anyio.move_on_after(TINY_TIMEOUT_S) as scope:
            await silent.request(
                "GET", nginx.url("/small.txt", tls=True), extensions=safe_extensions()
            )
        assert scope.cancelled_caught
        assert silent.connections == []
        # The slot is free: a request to another origin (a different remote origin
        # needs a new connection) still goes through the silent proxy and times out, not
        # pool-times out.
        with anyio.fail_after(SAFETY_TIMEOUT_S):
            with pytest.raises((httpcore.ReadTimeout, httpcore.ConnectTimeout)):
                await silent.request("GET", nginx.url("/small.txt"), extensions=tiny_timeouts())
        assert silent.connections == []
    good_url = tinyproxy.url if scheme == "http" else microsocks.url
    good = httpcore.AsyncConnectionPool(
        proxy=httpcore.Proxy(good_url),
        ssl_context=ssl_context,
        max_connections=1,
        network_backend=network_backend,
    )
    async with good:
        with anyio.move_on_after(0) as scope:
            await good.request("GET", nginx.url("/small.txt", tls=True))
        assert scope.cancelled_caught
        assert good.connections == []
        response = await get(good, nginx.url("/small.txt", tls=True))
        assert (response.status, response.content) == (200, SMALL_BODY)
        assert len(good.connections) == 1


# --- 7. Concurrency ---------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("proxy_name", ["http-tunnel", "socks5"])
async def test_concurrent_requests(
    proxy_name: str,
    network_backend: Optional[httpcore.AsyncNetworkBackend],
    nginx: NginxServer,
    ssl_context: ssl.SSLContext,
    tinyproxy: TinyproxyServer,
    microsocks: MicrosocksServer,
) -> None:
    proxy_url = tinyproxy.url if proxy_name == "http-tunnel" else microsocks.url
    results: List[Tuple[int, bytes]] = []
    async with httpcore.AsyncConnectionPool(
        proxy=httpcore.Proxy(proxy_url),
        ssl_context=ssl_context,
        max_connections=5,
        network_backend=network_backend,
    ) as pool:

        async def one() -> None:
            response = await pool.request(
                "GET", nginx.url("/small.txt", tls=True), extensions=safe_extensions()
            )
            results.append((response.status, response.content))

        with anyio.fail_after(SAFETY_TIMEOUT_S * 3):
            async with anyio.create_task_group() as group:
                for _ in range(CONCURRENT_REQUESTS):
                    group.start_soon(one)
        assert 1 <= len(pool.connections) <= 5
    assert results == [(200, SMALL_BODY)] * CONCURRENT_REQUESTS
