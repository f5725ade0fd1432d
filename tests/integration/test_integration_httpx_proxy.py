"""httpx 0.28.1 on top of this httpcore, through real proxies on loopback, with nginx as origin.

httpx builds ``httpcore.HTTPProxy`` / ``SOCKSProxy`` (and their async twins) from its
``proxy=`` argument with the keywords of API.md §14, and maps httpcore's exceptions to its
own by type. Covered:

- ``Client(proxy=<tinyproxy>)`` for http (forwarding) and https (CONNECT) origins; the pool
  httpx built (``HTTPProxy``, ``_proxy_url``); tinyproxy's log shows each request;
- credentials in the proxy URL against tinyproxy with Basic auth; none (407 response /
  ``httpx.ProxyError``) and wrong ones (401 / ``httpx.ProxyError``);
- an HTTPS proxy (``httpx.Proxy(url, ssl_context=...)`` for stunnel in front of tinyproxy):
  http origins, TLS inside TLS, HTTP/2 inside;
- ``proxy="socks5://..."`` and ``"socks5h://..."`` (microsocks) to http and https origins,
  with credentials in the URL, and wrong ones (``httpx.ProxyError``);
- ``mounts=`` routing http:// through the HTTP proxy and https:// through SOCKS5;
- failures mapped by httpx: a closed proxy port (``httpx.ConnectError``), a proxy that never
  answers (``httpx.ReadTimeout``);
- ``AsyncClient`` through the HTTP proxy, the HTTPS proxy and SOCKS5, on asyncio and trio.

The ``httpcore`` imported here (and by httpx) is this repository's (see tests/conftest.py).
"""

from __future__ import annotations

import ssl
import uuid
from typing import Any

import httpx
import pytest

import httpcore
from tools.servers.microsocks import MicrosocksServer
from tools.servers.nginx import SMALL_BODY, NginxServer
from tools.servers.stunnel import StunnelFront
from tools.servers.tinyproxy import TinyproxyServer

SAFETY_TIMEOUT_S = 10.0
TINY_TIMEOUT_S = 0.2
TIMEOUT = httpx.Timeout(SAFETY_TIMEOUT_S)


@pytest.fixture(params=[False, True], ids=["http", "https"])
def tls(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def pool_of(transport: Any) -> Any:
    """The httpcore pool inside an httpx ``HTTPTransport`` / ``AsyncHTTPTransport``."""
    return transport._pool


def proxy_pool(client: Any, url: str = "http://127.0.0.1/") -> Any:
    """The pool httpx uses for ``url``: with ``proxy=``, that of the ``all://`` mount (the
    client's own ``_transport`` is the one without a proxy)."""
    return pool_of(client._transport_for_url(httpx.URL(url)))


def unique_path() -> str:
    return f"/small.txt?probe={uuid.uuid4().hex}"


def url_with_credentials(url: str, user: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{password}@{rest}"


def assert_in_log(proxy: TinyproxyServer, line: str) -> None:
    log = proxy.log_text()
    assert line in log, log
    assert 'Established connection to host "127.0.0.1"' in log[log.index(line) :], log


def request_line(nginx: NginxServer, path: str, tls: bool) -> str:
    """What tinyproxy logs for a request to ``path`` (absolute form, or CONNECT for https)."""
    if tls:
        return f": CONNECT 127.0.0.1:{nginx.ports.https} HTTP/1.1"
    return f": GET {nginx.url(path)} HTTP/1.1"


# --- HTTP proxy --------------------------------------------------------------------------------


def test_http_proxy(
    tls: bool, nginx: NginxServer, tinyproxy: TinyproxyServer, ssl_context: ssl.SSLContext
) -> None:
    path = unique_path()
    with httpx.Client(proxy=tinyproxy.url, verify=ssl_context, timeout=TIMEOUT) as client:
        pool = proxy_pool(client)
        assert isinstance(pool, httpcore.HTTPProxy)
        assert pool._proxy_url == httpcore.URL(
            scheme=b"http", host=b"127.0.0.1", port=tinyproxy.port, target=b"/"
        )
        response = client.get(nginx.url(path, tls=tls))
        again = client.get(nginx.url(path, tls=tls))
    assert (response.status_code, response.content) == (200, SMALL_BODY)
    assert response.http_version == "HTTP/1.1"
    assert again.content == SMALL_BODY
    assert_in_log(tinyproxy, request_line(nginx, path, tls))


def test_http_proxy_credentials_in_the_url(
    tls: bool, nginx: NginxServer, tinyproxy_auth: TinyproxyServer, ssl_context: ssl.SSLContext
) -> None:
    assert tinyproxy_auth.auth is not None
    user, password = tinyproxy_auth.auth
    proxy = url_with_credentials(tinyproxy_auth.url, user, password)
    path = unique_path()
    with httpx.Client(proxy=proxy, verify=ssl_context, timeout=TIMEOUT) as client:
        assert proxy_pool(client)._proxy_headers[0][0] == b"Proxy-Authorization"
        response = client.get(nginx.url(path, tls=tls))
    assert (response.status_code, response.content) == (200, SMALL_BODY)
    assert_in_log(tinyproxy_auth, request_line(nginx, path, tls))


@pytest.mark.parametrize("wrong", [False, True], ids=["no-credentials", "wrong-credentials"])
def test_http_proxy_refusals(
    wrong: bool, nginx: NginxServer, tinyproxy_auth: TinyproxyServer, ssl_context: ssl.SSLContext
) -> None:
    assert tinyproxy_auth.auth is not None
    user, password = tinyproxy_auth.auth
    proxy = (
        url_with_credentials(tinyproxy_auth.url, user, password + "-wrong")
        if wrong
        else tinyproxy_auth.url
    )
    status, reason = (401, "Unauthorized") if wrong else (407, "Proxy Authentication Required")
    with httpx.Client(proxy=proxy, verify=ssl_context, timeout=TIMEOUT) as client:
        response = client.get(nginx.url("/small.txt"))
        assert (response.status_code, response.reason_phrase) == (status, reason)
        with pytest.raises(httpx.ProxyError) as info:
            client.get(nginx.url("/small.txt", tls=True))
        assert str(info.value) == f"{status} {reason}"
        assert proxy_pool(client).connections == []


# --- HTTPS proxy -------------------------------------------------------------------------------


@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_https_proxy(
    tls: bool,
    http2: bool,
    nginx: NginxServer,
    tinyproxy: TinyproxyServer,
    https_proxy: StunnelFront,
    ssl_context: ssl.SSLContext,
) -> None:
    proxy = httpx.Proxy(https_proxy.url, ssl_context=https_proxy.client_ssl_context())
    # HTTP/2 only applies inside a tunnel to nginx's h2 listener; forwarding is HTTP/1.1.
    port = (nginx.ports.h2 if http2 else nginx.ports.https) if tls else nginx.ports.http
    url = nginx.url("/small.txt", port=port, tls=tls)
    with httpx.Client(
        proxy=proxy, verify=ssl_context, http2=http2, timeout=TIMEOUT
    ) as client:
        pool = proxy_pool(client)
        assert isinstance(pool, httpcore.HTTPProxy)
        assert pool._proxy_ssl_context is proxy.ssl_context
        response = client.get(url)
    assert (response.status_code, response.content) == (200, SMALL_BODY)
    assert response.http_version == ("HTTP/2" if http2 and tls else "HTTP/1.1")


# --- SOCKS5 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_socks5_proxy(
    scheme: str,
    tls: bool,
    nginx: NginxServer,
    microsocks: MicrosocksServer,
    ssl_context: ssl.SSLContext,
) -> None:
    proxy = f"{scheme}://127.0.0.1:{microsocks.port}"
    with httpx.Client(proxy=proxy, verify=ssl_context, timeout=TIMEOUT) as client:
        pool = proxy_pool(client)
        assert isinstance(pool, httpcore.SOCKSProxy)
        assert pool._proxy_url == httpcore.URL(
            scheme=scheme.encode(), host=b"127.0.0.1", port=microsocks.port, target=b"/"
        )
        response = client.get(nginx.url("/small.txt", tls=tls))
        # The proxy resolves names.
        port = nginx.ports.https if tls else nginx.ports.http
        by_name = client.get(f"{'https' if tls else 'http'}://localhost:{port}/small.txt")
    assert (response.status_code, response.content) == (200, SMALL_BODY)
    assert (by_name.status_code, by_name.content) == (200, SMALL_BODY)


def test_socks5_credentials_in_the_url(
    tls: bool, nginx: NginxServer, microsocks_auth: MicrosocksServer, ssl_context: ssl.SSLContext
) -> None:
    assert microsocks_auth.auth is not None
    user, password = microsocks_auth.auth
    proxy = url_with_credentials(microsocks_auth.url, user, password)
    with httpx.Client(proxy=proxy, verify=ssl_context, timeout=TIMEOUT) as client:
        assert proxy_pool(client)._proxy_auth == (user.encode(), password.encode())
        response = client.get(nginx.url("/small.txt", tls=tls))
    assert (response.status_code, response.content) == (200, SMALL_BODY)


def test_socks5_wrong_credentials(nginx: NginxServer, microsocks_auth: MicrosocksServer) -> None:
    assert microsocks_auth.auth is not None
    proxy = url_with_credentials(microsocks_auth.url, microsocks_auth.auth[0], "nope")
    with httpx.Client(proxy=proxy, timeout=TIMEOUT) as client:
        with pytest.raises(httpx.ProxyError, match="^Invalid username/password$"):
            client.get(nginx.url("/small.txt"))
        assert proxy_pool(client).connections == []


# --- mounts and failures -----------------------------------------------------------------------


def test_mounts_route_by_scheme(
    nginx: NginxServer,
    tinyproxy: TinyproxyServer,
    microsocks: MicrosocksServer,
    ssl_context: ssl.SSLContext,
) -> None:
    mounts = {
        "http://": httpx.HTTPTransport(proxy=tinyproxy.url),
        "https://": httpx.HTTPTransport(proxy=microsocks.url, verify=ssl_context),
    }
    path = unique_path()
    before = tinyproxy.log_text().count(f"CONNECT 127.0.0.1:{nginx.ports.https} ")
    with httpx.Client(mounts=mounts, trust_env=False, timeout=TIMEOUT) as client:
        plain_url, secure_url = nginx.url(path), nginx.url("/small.txt", tls=True)
        assert isinstance(proxy_pool(client, plain_url), httpcore.HTTPProxy)
        assert isinstance(proxy_pool(client, secure_url), httpcore.SOCKSProxy)
        plain = client.get(plain_url)
        secure = client.get(secure_url)
    assert (plain.status_code, plain.content) == (200, SMALL_BODY)
    assert (secure.status_code, secure.content) == (200, SMALL_BODY)
    assert_in_log(tinyproxy, request_line(nginx, path, False))
    # The https request went through SOCKS5, not through tinyproxy.
    assert tinyproxy.log_text().count(f"CONNECT 127.0.0.1:{nginx.ports.https} ") == before


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_unreachable_proxy_is_connect_error(
    scheme: str, tls: bool, closed_port: int, nginx: NginxServer, ssl_context: ssl.SSLContext
) -> None:
    proxy = f"{scheme}://127.0.0.1:{closed_port}"
    with httpx.Client(proxy=proxy, verify=ssl_context, timeout=TIMEOUT) as client:
        with pytest.raises(httpx.ConnectError):
            client.get(nginx.url("/small.txt", tls=tls))
        assert proxy_pool(client).connections == []


def test_silent_http_proxy_is_read_timeout(
    tls: bool, silent_port: int, nginx: NginxServer, ssl_context: ssl.SSLContext
) -> None:
    timeout = httpx.Timeout(SAFETY_TIMEOUT_S, connect=TINY_TIMEOUT_S, read=TINY_TIMEOUT_S)
    proxy = f"http://127.0.0.1:{silent_port}"
    with httpx.Client(proxy=proxy, verify=ssl_context, timeout=timeout) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(nginx.url("/small.txt", tls=tls))
        assert proxy_pool(client).connections == []


# --- async -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_http_proxy(
    tls: bool, nginx: NginxServer, tinyproxy: TinyproxyServer, ssl_context: ssl.SSLContext
) -> None:
    path = unique_path()
    async with httpx.AsyncClient(
        proxy=tinyproxy.url, verify=ssl_context, timeout=TIMEOUT
    ) as client:
        assert isinstance(proxy_pool(client), httpcore.AsyncHTTPProxy)
        response = await client.get(nginx.url(path, tls=tls))
        again = await client.get(nginx.url(path, tls=tls))
    assert (response.status_code, response.content, again.content) == (200, SMALL_BODY, SMALL_BODY)
    assert_in_log(tinyproxy, request_line(nginx, path, tls))


@pytest.mark.anyio
async def test_async_https_proxy_tls_in_tls_http2(
    nginx: NginxServer, https_proxy: StunnelFront, ssl_context: ssl.SSLContext
) -> None:
    proxy = httpx.Proxy(https_proxy.url, ssl_context=https_proxy.client_ssl_context())
    url = nginx.url("/small.txt", port=nginx.ports.h2, tls=True)
    async with httpx.AsyncClient(
        proxy=proxy, verify=ssl_context, http2=True, timeout=TIMEOUT
    ) as client:
        response = await client.get(url)
    assert (response.status_code, response.content) == (200, SMALL_BODY)
    assert response.http_version == "HTTP/2"


@pytest.mark.anyio
@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_async_socks5_proxy(
    scheme: str,
    tls: bool,
    nginx: NginxServer,
    microsocks_auth: MicrosocksServer,
    ssl_context: ssl.SSLContext,
) -> None:
    assert microsocks_auth.auth is not None
    user, password = microsocks_auth.auth
    proxy = f"{scheme}://{user}:{password}@127.0.0.1:{microsocks_auth.port}"
    async with httpx.AsyncClient(proxy=proxy, verify=ssl_context, timeout=TIMEOUT) as client:
        assert isinstance(proxy_pool(client), httpcore.AsyncSOCKSProxy)
        response = await client.get(nginx.url("/small.txt", tls=tls))
    assert (response.status_code, response.content) == (200, SMALL_BODY)


@pytest.mark.anyio
async def test_async_proxy_refusal(
    nginx: NginxServer, tinyproxy_auth: TinyproxyServer, ssl_context: ssl.SSLContext
) -> None:
    async with httpx.AsyncClient(
        proxy=tinyproxy_auth.url, verify=ssl_context, timeout=TIMEOUT
    ) as client:
        with pytest.raises(httpx.ProxyError, match="^407 Proxy Authentication Required$"):
            await client.get(nginx.url("/small.txt", tls=True))
        assert proxy_pool(client).connections == []
