"""The sync API through real proxies on loopback, with the session nginx as the origin.

Every case runs twice where both apply: with ``ConnectionPool(proxy=Proxy(...))`` and with
the proxy classes ``HTTPProxy`` / ``SOCKSProxy`` (the ``kind`` fixture). Covered:

- HTTP proxy (tinyproxy), forwarding for http:// origins: the body, the absolute-form
  request line in tinyproxy's log followed by its ``Established connection`` line, one
  proxy connection per remote origin whose repr shows the proxy origin (API.md §7.3),
  request bodies (POST, a PUT upload read back);
- CONNECT tunnels for https:// origins: TLS to nginx inside the tunnel, ``info()`` showing
  the remote origin, keep-alive inside the tunnel, HTTP/2 through the tunnel, the trace
  events of a tunnel (CONNECT as ``http11.*``, then ``proxy.start_tls``);
- Basic auth (tinyproxy with credentials): good credentials forward and tunnel; none give
  a 407 response (forwarding) or ``ProxyError("407 ...")`` (CONNECT); wrong ones 401 /
  ``ProxyError("401 ...")``; each failure leaves no connection in the pool and the next
  good request (credentials in the request's own ``Proxy-Authorization``, which the
  forwarded request carries over the pool's) succeeds;
- HTTPS proxy (stunnel in front of tinyproxy): forwarding to http:// nginx and TLS inside
  TLS to https:// nginx, HTTP/1.1 and HTTP/2 inside (API.md checklist row 81);
- SOCKS5 (microsocks): socks5:// and socks5h:// to http and https origins, 127.0.0.1 and
  ``localhost`` (resolved by the proxy), TLS started for https, HTTP/2 inside, username/
  password, wrong credentials and a no-auth offer to a server that wants credentials,
  the ``socks.*`` trace events;
- SOCKS4 and SOCKS4a (the Python ``Socks4Server``): IPv4 origins over http and https, the
  user id, socks4a with ``localhost``, a host name over plain socks4 (ProxyError naming
  socks4a), a refusing server;
- failures that leave nothing held: a closed proxy port (ConnectError, also with
  ``retries=2``, whose retries show in the trace), a proxy that accepts and never answers
  (ReadTimeout for HTTP proxies; ConnectTimeout for SOCKS, whose handshake is part of
  connecting);
- 16 threads sharing one pool through the HTTP proxy and through SOCKS5.

No assertion is about durations; every request carries bounded timeouts.
"""

from __future__ import annotations

import base64
import concurrent.futures
import ssl
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import httpcore
from tools.servers.microsocks import MicrosocksServer
from tools.servers.nginx import SMALL_BODY, NginxServer
from tools.servers.socks4 import Socks4Request, Socks4Server
from tools.servers.stunnel import StunnelFront
from tools.servers.tinyproxy import TinyproxyServer

SAFETY_TIMEOUT_S = 10.0
TINY_TIMEOUT_S = 0.2
THREADS = 16
REQUESTS_PER_THREAD = 4

Auth = Tuple[str, str]
TraceLog = List[Tuple[str, Dict[str, Any]]]


def safe_extensions(**extra: Any) -> Dict[str, Any]:
    """Bounded timeouts for every phase, plus ``extra``."""
    timeouts = dict.fromkeys(("connect", "read", "write", "pool"), SAFETY_TIMEOUT_S)
    return {"timeout": timeouts, **extra}


def tiny_timeouts() -> Dict[str, Any]:
    return {
        "timeout": {
            "connect": TINY_TIMEOUT_S,
            "read": TINY_TIMEOUT_S,
            "write": SAFETY_TIMEOUT_S,
            "pool": SAFETY_TIMEOUT_S,
        }
    }


def get(pool: httpcore.ConnectionPool, url: str, **kwargs: Any) -> httpcore.Response:
    return pool.request("GET", url, extensions=safe_extensions(), **kwargs)


def tracer() -> Tuple[TraceLog, Callable[[str, Dict[str, Any]], None]]:
    events: TraceLog = []

    def trace(name: str, info: Dict[str, Any]) -> None:
        events.append((name, info))

    return events, trace


def names(events: TraceLog) -> List[str]:
    return [name for name, _ in events]


def is_subsequence(wanted: List[str], got: List[str]) -> bool:
    remaining = iter(got)
    return all(any(item == name for name in remaining) for item in wanted)


def unique_path() -> str:
    """/small.txt with a query nobody else sends (nginx ignores it; the proxy log shows it)."""
    return f"/small.txt?probe={uuid.uuid4().hex}"


def basic(auth: Auth) -> Tuple[bytes, bytes]:
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    return (b"Proxy-Authorization", f"Basic {token}".encode())


def conn_repr(cls: str, origin: str, version: str, state: str, count: int) -> str:
    return f"<{cls} ['{origin}', {version}, {state}, Request Count: {count}]>"


def reprs(pool: httpcore.ConnectionPool) -> List[str]:
    return [repr(connection) for connection in pool.connections]


@pytest.fixture(params=["pool", "class"])
def kind(request: pytest.FixtureRequest) -> str:
    """``pool``: ConnectionPool(proxy=Proxy(...)); ``class``: HTTPProxy / SOCKSProxy."""
    return str(request.param)


@pytest.fixture(params=[False, True], ids=["http", "https"])
def tls(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def http_proxy_pool(
    kind: str,
    proxy_url: str,
    *,
    auth: Optional[Auth] = None,
    ssl_context: Optional[ssl.SSLContext] = None,
    proxy_ssl_context: Optional[ssl.SSLContext] = None,
    http2: bool = False,
    retries: int = 0,
) -> httpcore.ConnectionPool:
    if kind == "pool":
        proxy = httpcore.Proxy(proxy_url, auth=auth, ssl_context=proxy_ssl_context)
        return httpcore.ConnectionPool(
            proxy=proxy, ssl_context=ssl_context, http2=http2, retries=retries
        )
    return httpcore.HTTPProxy(
        proxy_url,
        proxy_auth=auth,
        ssl_context=ssl_context,
        proxy_ssl_context=proxy_ssl_context,
        http2=http2,
        retries=retries,
    )


def socks_proxy_pool(
    kind: str,
    proxy_url: str,
    *,
    auth: Optional[Auth] = None,
    ssl_context: Optional[ssl.SSLContext] = None,
    http2: bool = False,
    retries: int = 0,
) -> httpcore.ConnectionPool:
    if kind == "pool":
        proxy = httpcore.Proxy(proxy_url, auth=auth)
        return httpcore.ConnectionPool(
            proxy=proxy, ssl_context=ssl_context, http2=http2, retries=retries
        )
    return httpcore.SOCKSProxy(
        proxy_url, proxy_auth=auth, ssl_context=ssl_context, http2=http2, retries=retries
    )


def assert_forwarded(proxy: TinyproxyServer, url: str) -> None:
    """tinyproxy logged the absolute-form request line, then connected to the origin."""
    log = proxy.log_text()
    line = f": GET {url} HTTP/1.1"
    assert line in log, log
    assert 'Established connection to host "127.0.0.1"' in log[log.index(line) :], log


def assert_tunnelled(proxy: TinyproxyServer, port: int) -> None:
    log = proxy.log_text()
    line = f": CONNECT 127.0.0.1:{port} HTTP/1.1"
    assert line in log, log
    assert 'Established connection to host "127.0.0.1"' in log[log.index(line) :], log


# --- 1. HTTP proxy, forwarding ------------------------------------------------------------


def test_forwarding_http_origin(
    kind: str, nginx: NginxServer, tinyproxy: TinyproxyServer
) -> None:
    url = nginx.url(unique_path())
    with http_proxy_pool(kind, tinyproxy.url) as pool:
        with pool.stream("GET", url, extensions=safe_extensions()) as response:
            # The forwarding connection's info() is the inner connection's: the proxy origin.
            assert reprs(pool) == [
                conn_repr(
                    "ForwardHTTPConnection",
                    tinyproxy.url,
                    "HTTP/1.1",
                    "ACTIVE",
                    1,
                )
            ]
            body = response.read()
    assert response.status == 200
    assert body == SMALL_BODY
    assert response.extensions["http_version"] == b"HTTP/1.1"
    assert_forwarded(tinyproxy, url)


def test_forwarding_one_connection_per_remote_origin(
    kind: str, nginx: NginxServer, tinyproxy: TinyproxyServer
) -> None:
    first = nginx.url(unique_path())
    second = nginx.url(unique_path(), port=nginx.ports.close_http)
    with http_proxy_pool(kind, tinyproxy.url) as pool:
        with pool.stream("GET", first, extensions=safe_extensions()) as one:
            with pool.stream("GET", second, extensions=safe_extensions()) as two:
                expected = conn_repr(
                    "ForwardHTTPConnection", tinyproxy.url, "HTTP/1.1", "ACTIVE", 1
                )
                assert reprs(pool) == [expected, expected]
                assert [c.info() for c in pool.connections] == [
                    f"'{tinyproxy.url}', HTTP/1.1, ACTIVE, Request Count: 1"
                ] * 2
                assert (one.read(), two.read()) == (SMALL_BODY, SMALL_BODY)
    assert_forwarded(tinyproxy, first)
    assert_forwarded(tinyproxy, second)


def test_forwarding_request_bodies(
    kind: str, nginx: NginxServer, tinyproxy: TinyproxyServer
) -> None:
    upload = nginx.url(f"/uploads/{uuid.uuid4().hex}.bin")
    payload = bytes(range(256)) * 512
    with http_proxy_pool(kind, tinyproxy.url) as pool:
        posted = pool.request(
            "POST", nginx.url("/method"), content=b"some body", extensions=safe_extensions()
        )
        put = pool.request(
            "PUT",
            upload,
            content=iter([payload[:1000], payload[1000:]]),
            extensions=safe_extensions(),
        )
        back = get(pool, upload)
    assert (posted.status, posted.content) == (200, b"POST\n")
    assert put.status == 201
    assert (back.status, back.content) == (200, payload)


# --- 2. HTTP proxy, CONNECT tunnels ----------------------------------------------------------


def test_tunnel_https_origin(
    kind: str, nginx: NginxServer, tinyproxy: TinyproxyServer, ssl_context: ssl.SSLContext
) -> None:
    url = nginx.url("/small.txt", tls=True)
    with http_proxy_pool(kind, tinyproxy.url, ssl_context=ssl_context) as pool:
        first = get(pool, url)
        second = get(pool, url)
        # Keep-alive inside the tunnel; info() shows the remote origin once tunnelled.
        assert reprs(pool) == [
            conn_repr("TunnelHTTPConnection", nginx.url("", tls=True), "HTTP/1.1", "IDLE", 2)
        ]
        ssl_object = first.extensions["network_stream"].get_extra_info("ssl_object")
        assert ssl_object is not None
        assert ssl_object.selected_alpn_protocol() == "http/1.1"
        assert ssl_object.getpeercert()["subjectAltName"]
    assert (first.status, first.content) == (200, SMALL_BODY)
    assert second.content == SMALL_BODY
    assert_tunnelled(tinyproxy, nginx.ports.https)


def test_tunnel_http2(
    kind: str, nginx: NginxServer, tinyproxy: TinyproxyServer, ssl_context: ssl.SSLContext
) -> None:
    url = nginx.url("/small.txt", port=nginx.ports.h2, tls=True)
    with http_proxy_pool(kind, tinyproxy.url, ssl_context=ssl_context, http2=True) as pool:
        responses = [get(pool, url) for _ in range(3)]
        assert reprs(pool) == [
            conn_repr(
                "TunnelHTTPConnection",
                nginx.url("", port=nginx.ports.h2, tls=True),
                "HTTP/2",
                "IDLE",
                3,
            )
        ]
    for response in responses:
        assert (response.status, response.content) == (200, SMALL_BODY)
        assert response.extensions["http_version"] == b"HTTP/2"
    assert_tunnelled(tinyproxy, nginx.ports.h2)


def test_forwarding_and_tunnel_in_one_pool(
    kind: str, nginx: NginxServer, tinyproxy: TinyproxyServer, ssl_context: ssl.SSLContext
) -> None:
    with http_proxy_pool(kind, tinyproxy.url, ssl_context=ssl_context) as pool:
        with pool.stream("GET", nginx.url("/small.txt"), extensions=safe_extensions()) as plain:
            with pool.stream(
                "GET", nginx.url("/small.txt", tls=True), extensions=safe_extensions()
            ) as secure:
                assert reprs(pool) == [
                    conn_repr("ForwardHTTPConnection", tinyproxy.url, "HTTP/1.1", "ACTIVE", 1),
                    conn_repr(
                        "TunnelHTTPConnection", nginx.url("", tls=True), "HTTP/1.1", "ACTIVE", 1
                    ),
                ]
                assert (plain.read(), secure.read()) == (SMALL_BODY, SMALL_BODY)


def test_tunnel_trace_events(
    nginx: NginxServer, tinyproxy: TinyproxyServer, ssl_context: ssl.SSLContext
) -> None:
    events, trace = tracer()
    with httpcore.HTTPProxy(tinyproxy.url, ssl_context=ssl_context) as pool:
        response = pool.request(
            "GET", nginx.url("/small.txt", tls=True), extensions=safe_extensions(trace=trace)
        )
    assert response.content == SMALL_BODY
    got = names(events)
    assert is_subsequence(
        [
            "connection.connect_tcp.started",
            "connection.connect_tcp.complete",
            "http11.send_request_headers.started",
            "http11.receive_response_headers.complete",
            "proxy.start_tls.started",
            "proxy.start_tls.complete",
            "http11.send_request_headers.started",
            "http11.receive_response_headers.complete",
            "http11.response_closed.complete",
        ],
        got,
    ), got
    sent = [
        info["request"].method
        for name, info in events
        if name == "http11.send_request_headers.started"
    ]
    assert sent == [b"CONNECT", b"GET"]
    connect_info = events[got.index("connection.connect_tcp.started")][1]
    assert (connect_info["host"], connect_info["port"]) == ("127.0.0.1", tinyproxy.port)
    tls_info = events[got.index("proxy.start_tls.started")][1]
    assert tls_info["server_hostname"] == "127.0.0.1"


# --- 3. Basic auth ---------------------------------------------------------------------------


def test_basic_auth_forwarding_and_tunnel(
    kind: str, nginx: NginxServer, tinyproxy_auth: TinyproxyServer, ssl_context: ssl.SSLContext
) -> None:
    assert tinyproxy_auth.auth is not None
    plain_url = nginx.url(unique_path())
    with http_proxy_pool(
        kind, tinyproxy_auth.url, auth=tinyproxy_auth.auth, ssl_context=ssl_context
    ) as pool:
        plain = get(pool, plain_url)
        secure = get(pool, nginx.url("/small.txt", tls=True))
    assert (plain.status, plain.content) == (200, SMALL_BODY)
    assert (secure.status, secure.content) == (200, SMALL_BODY)
    assert_forwarded(tinyproxy_auth, plain_url)
    assert_tunnelled(tinyproxy_auth, nginx.ports.https)


@pytest.mark.parametrize("wrong", [False, True], ids=["no-credentials", "wrong-credentials"])
def test_auth_failures_leave_no_connection(
    kind: str,
    wrong: bool,
    nginx: NginxServer,
    tinyproxy_auth: TinyproxyServer,
    ssl_context: ssl.SSLContext,
) -> None:
    assert tinyproxy_auth.auth is not None
    user, password = tinyproxy_auth.auth
    auth = (user, password + "-wrong") if wrong else None
    status, reason = (401, "Unauthorized") if wrong else (407, "Proxy Authentication Required")
    good_header = [basic(tinyproxy_auth.auth)]
    with http_proxy_pool(kind, tinyproxy_auth.url, auth=auth, ssl_context=ssl_context) as pool:
        # CONNECT: a refusal is a ProxyError "<status> <reason>", and the connection is gone.
        with pytest.raises(httpcore.ProxyError) as info:
            get(pool, nginx.url("/small.txt", tls=True))
        assert str(info.value) == f"{status} {reason}"
        assert pool.connections == []

        # Forwarding: the proxy's answer is the response (which closes the connection).
        refused = get(pool, nginx.url("/small.txt"))
        assert (refused.status, refused.extensions["reason_phrase"]) == (status, reason.encode())
        assert (b"Connection", b"close") in refused.headers
        assert pool.connections == []

        # The request's own Proxy-Authorization replaces the pool's, so this one gets through.
        assert get(pool, nginx.url("/small.txt"), headers=good_header).content == SMALL_BODY


# --- 4. HTTPS proxy (TLS to the proxy) --------------------------------------------------------


def test_https_proxy_forwarding(
    kind: str, nginx: NginxServer, tinyproxy: TinyproxyServer, https_proxy: StunnelFront
) -> None:
    url = nginx.url(unique_path())
    proxy_context = https_proxy.client_ssl_context()
    with http_proxy_pool(kind, https_proxy.url, proxy_ssl_context=proxy_context) as pool:
        with pool.stream("GET", url, extensions=safe_extensions()) as response:
            assert reprs(pool) == [
                conn_repr("ForwardHTTPConnection", https_proxy.url, "HTTP/1.1", "ACTIVE", 1)
            ]
            # The stream is TLS to the proxy (stunnel); the link to a proxy is never HTTP/2
            # (stunnel negotiates no ALPN at all: None).
            ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
            assert ssl_object is not None
            assert ssl_object.selected_alpn_protocol() in (None, "http/1.1")
            assert ssl_object.getpeercert()["subjectAltName"]
            body = response.read()
    assert (response.status, body) == (200, SMALL_BODY)
    assert_forwarded(tinyproxy, url)


def test_https_proxy_rejects_an_untrusted_proxy_certificate(
    kind: str, nginx: NginxServer, https_proxy: StunnelFront, ssl_context: ssl.SSLContext
) -> None:
    # nginx's CA does not sign stunnel's certificate: TLS to the proxy fails to verify.
    with http_proxy_pool(kind, https_proxy.url, proxy_ssl_context=ssl_context) as pool:
        with pytest.raises(httpcore.ConnectError):
            get(pool, nginx.url("/small.txt"))
        assert pool.connections == []


@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "http2"])
def test_https_proxy_tls_in_tls(
    kind: str,
    http2: bool,
    nginx: NginxServer,
    tinyproxy: TinyproxyServer,
    https_proxy: StunnelFront,
    ssl_context: ssl.SSLContext,
) -> None:
    port = nginx.ports.h2 if http2 else nginx.ports.https
    version = "HTTP/2" if http2 else "HTTP/1.1"
    url = nginx.url("/small.txt", port=port, tls=True)
    with http_proxy_pool(
        kind,
        https_proxy.url,
        ssl_context=ssl_context,
        proxy_ssl_context=https_proxy.client_ssl_context(),
        http2=http2,
    ) as pool:
        first = get(pool, url)
        second = get(pool, url)
        assert reprs(pool) == [
            conn_repr(
                "TunnelHTTPConnection", nginx.url("", port=port, tls=True), version, "IDLE", 2
            )
        ]
    for response in (first, second):
        assert (response.status, response.content) == (200, SMALL_BODY)
        assert response.extensions["http_version"] == version.encode()
    assert_tunnelled(tinyproxy, port)


# --- 5. SOCKS5 --------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_socks5(
    kind: str,
    scheme: str,
    host: str,
    tls: bool,
    nginx: NginxServer,
    microsocks: MicrosocksServer,
    ssl_context: ssl.SSLContext,
) -> None:
    port = nginx.ports.https if tls else nginx.ports.http
    origin = f"{'https' if tls else 'http'}://{host}:{port}"
    proxy_url = f"{scheme}://127.0.0.1:{microsocks.port}"
    with socks_proxy_pool(kind, proxy_url, ssl_context=ssl_context) as pool:
        first = get(pool, origin + "/small.txt")
        second = get(pool, origin + "/small.txt")
        assert reprs(pool) == [conn_repr("Socks5Connection", origin, "HTTP/1.1", "IDLE", 2)]
        ssl_object = first.extensions["network_stream"].get_extra_info("ssl_object")
        # TLS to the origin is started inside the SOCKS tunnel for https, never for http.
        assert (ssl_object is not None) == tls
        if tls:
            assert ssl_object.selected_alpn_protocol() == "http/1.1"
    assert (first.status, first.content, second.content) == (200, SMALL_BODY, SMALL_BODY)


def test_socks5_http2(
    kind: str, nginx: NginxServer, microsocks: MicrosocksServer, ssl_context: ssl.SSLContext
) -> None:
    url = nginx.url("/small.txt", port=nginx.ports.h2, tls=True)
    with socks_proxy_pool(kind, microsocks.url, ssl_context=ssl_context, http2=True) as pool:
        responses = [get(pool, url) for _ in range(2)]
        assert reprs(pool) == [
            conn_repr(
                "Socks5Connection",
                nginx.url("", port=nginx.ports.h2, tls=True),
                "HTTP/2",
                "IDLE",
                2,
            )
        ]
    for response in responses:
        assert (response.content, response.extensions["http_version"]) == (SMALL_BODY, b"HTTP/2")


def test_socks5_with_credentials(
    kind: str,
    tls: bool,
    nginx: NginxServer,
    microsocks_auth: MicrosocksServer,
    ssl_context: ssl.SSLContext,
) -> None:
    with socks_proxy_pool(
        kind, microsocks_auth.url, auth=microsocks_auth.auth, ssl_context=ssl_context
    ) as pool:
        response = get(pool, nginx.url("/small.txt", tls=tls))
    assert (response.status, response.content) == (200, SMALL_BODY)


def test_socks5_wrong_credentials(
    kind: str, nginx: NginxServer, microsocks_auth: MicrosocksServer
) -> None:
    assert microsocks_auth.auth is not None
    user, _ = microsocks_auth.auth
    with socks_proxy_pool(kind, microsocks_auth.url, auth=(user, "not-the-password")) as pool:
        with pytest.raises(httpcore.ProxyError) as info:
            get(pool, nginx.url("/small.txt"))
        assert str(info.value) == "Invalid username/password"
        assert pool.connections == []


def test_socks5_no_auth_offered_to_a_server_that_wants_credentials(
    kind: str, nginx: NginxServer, microsocks_auth: MicrosocksServer
) -> None:
    with socks_proxy_pool(kind, microsocks_auth.url) as pool:
        with pytest.raises(httpcore.ProxyError) as info:
            get(pool, nginx.url("/small.txt"))
        assert str(info.value) == (
            "Requested NO AUTHENTICATION REQUIRED from proxy server, "
            "but got NO ACCEPTABLE METHODS."
        )
        assert pool.connections == []


def test_socks5_origin_refused(
    kind: str, closed_port: int, microsocks: MicrosocksServer
) -> None:
    with socks_proxy_pool(kind, microsocks.url) as pool:
        with pytest.raises(httpcore.ProxyError) as info:
            get(pool, f"http://127.0.0.1:{closed_port}/")
        assert str(info.value).startswith("Proxy Server could not connect: ")
        assert pool.connections == []


def test_socks5_trace_events(
    nginx: NginxServer, microsocks: MicrosocksServer, ssl_context: ssl.SSLContext
) -> None:
    events, trace = tracer()
    with httpcore.SOCKSProxy(microsocks.url, ssl_context=ssl_context) as pool:
        response = pool.request(
            "GET", nginx.url("/small.txt", tls=True), extensions=safe_extensions(trace=trace)
        )
    assert response.content == SMALL_BODY
    got = names(events)
    assert got[:6] == [
        "socks.connect_tcp.started",
        "socks.connect_tcp.complete",
        "socks.setup_socks5_connection.started",
        "socks.setup_socks5_connection.complete",
        "socks.start_tls.started",
        "socks.start_tls.complete",
    ], got
    assert "http11.receive_response_headers.complete" in got
    setup = events[2][1]
    assert (setup["host"], setup["port"]) == ("127.0.0.1", nginx.ports.https)


# --- 6. SOCKS4 and SOCKS4a --------------------------------------------------------------------


def test_socks4_ip_origin(
    kind: str,
    tls: bool,
    nginx: NginxServer,
    socks4_server: Socks4Server,
    ssl_context: ssl.SSLContext,
) -> None:
    port = nginx.ports.https if tls else nginx.ports.http
    with socks_proxy_pool(kind, socks4_server.url, ssl_context=ssl_context) as pool:
        first = get(pool, nginx.url("/small.txt", tls=tls))
        second = get(pool, nginx.url("/small.txt", tls=tls))
        assert reprs(pool) == [
            conn_repr("Socks4Connection", nginx.url("", tls=tls), "HTTP/1.1", "IDLE", 2)
        ]
    assert (first.status, first.content, second.content) == (200, SMALL_BODY, SMALL_BODY)
    assert (first.extensions["network_stream"].get_extra_info("ssl_object") is not None) == tls
    assert socks4_server.requests == [Socks4Request(4, 1, "127.0.0.1", port, b"", False)]


def test_socks4_user_id(kind: str, nginx: NginxServer, socks4_server: Socks4Server) -> None:
    with socks_proxy_pool(kind, socks4_server.url, auth=("bob", "")) as pool:
        assert get(pool, nginx.url("/small.txt")).content == SMALL_BODY
    assert socks4_server.requests == [
        Socks4Request(4, 1, "127.0.0.1", nginx.ports.http, b"bob", False)
    ]


def test_socks4_password_is_a_value_error(
    kind: str, nginx: NginxServer, socks4_server: Socks4Server
) -> None:
    with socks_proxy_pool(kind, socks4_server.url, auth=("bob", "secret")) as pool:
        with pytest.raises(ValueError, match="password"):
            get(pool, nginx.url("/small.txt"))
        assert pool.connections == []
    assert socks4_server.requests == []


def test_socks4a_localhost(
    kind: str,
    tls: bool,
    nginx: NginxServer,
    socks4_server: Socks4Server,
    ssl_context: ssl.SSLContext,
) -> None:
    port = nginx.ports.https if tls else nginx.ports.http
    url = f"{'https' if tls else 'http'}://localhost:{port}/small.txt"
    proxy_url = f"socks4a://127.0.0.1:{socks4_server.port}"
    with socks_proxy_pool(kind, proxy_url, auth=("carol", ""), ssl_context=ssl_context) as pool:
        response = get(pool, url)
    assert (response.status, response.content) == (200, SMALL_BODY)
    assert socks4_server.requests == [Socks4Request(4, 1, "localhost", port, b"carol", True)]


def test_socks4_host_name_points_to_socks4a(
    kind: str, nginx: NginxServer, socks4_server: Socks4Server
) -> None:
    with socks_proxy_pool(kind, socks4_server.url) as pool:
        with pytest.raises(httpcore.ProxyError, match="socks4a://"):
            get(pool, f"http://localhost:{nginx.ports.http}/small.txt")
        assert pool.connections == []
    # The name never reached the proxy.
    assert socks4_server.requests == []


def test_socks4_refusing_server(kind: str, nginx: NginxServer) -> None:
    with Socks4Server(refuse=True) as server:
        with socks_proxy_pool(kind, server.url) as pool:
            with pytest.raises(httpcore.ProxyError) as info:
                get(pool, nginx.url("/small.txt"))
            assert str(info.value) == "Proxy Server could not connect: Request rejected or failed."
            assert pool.connections == []
        assert server.requests == [
            Socks4Request(4, 1, "127.0.0.1", nginx.ports.http, b"", False)
        ]


# --- 7. Failures -----------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks4"])
def test_unreachable_proxy(
    kind: str, scheme: str, tls: bool, closed_port: int, nginx: NginxServer
) -> None:
    proxy_url = f"{scheme}://127.0.0.1:{closed_port}"
    make = http_proxy_pool if scheme == "http" else socks_proxy_pool
    with make(kind, proxy_url) as pool:
        with pytest.raises(httpcore.ConnectError):
            get(pool, nginx.url("/small.txt", tls=tls))
        assert pool.connections == []


def test_silent_http_proxy_times_out(
    kind: str, tls: bool, silent_port: int, nginx: NginxServer
) -> None:
    # The connect succeeds (the kernel queues it); the request (absolute-form or CONNECT)
    # is written; its response never comes.
    with http_proxy_pool(kind, f"http://127.0.0.1:{silent_port}") as pool:
        with pytest.raises(httpcore.ReadTimeout):
            pool.request("GET", nginx.url("/small.txt", tls=tls), extensions=tiny_timeouts())
        assert pool.connections == []


@pytest.mark.parametrize("scheme", ["socks5", "socks4"])
def test_silent_socks_proxy_times_out(
    kind: str, scheme: str, silent_port: int, nginx: NginxServer
) -> None:
    # The handshake runs under the connect timeout and fails as connecting does (beyond
    # 1.0.9, which has no timeout there).
    with socks_proxy_pool(kind, f"{scheme}://127.0.0.1:{silent_port}") as pool:
        with pytest.raises(httpcore.ConnectTimeout):
            pool.request("GET", nginx.url("/small.txt"), extensions=tiny_timeouts())
        assert pool.connections == []


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_retries_against_a_closed_proxy_port(
    kind: str, scheme: str, tls: bool, closed_port: int, nginx: NginxServer
) -> None:
    events, trace = tracer()
    proxy_url = f"{scheme}://127.0.0.1:{closed_port}"
    make = http_proxy_pool if scheme == "http" else socks_proxy_pool
    with make(kind, proxy_url, retries=2) as pool:
        with pytest.raises(httpcore.ConnectError):
            pool.request(
                "GET", nginx.url("/small.txt", tls=tls), extensions=safe_extensions(trace=trace)
            )
        assert pool.connections == []
    prefix = "connection" if scheme == "http" else "socks"
    got = names(events)
    # Three connects, with a retry between each two: retries reach the proxy connect.
    assert got.count(f"{prefix}.connect_tcp.started") == 3, got
    assert got.count(f"{prefix}.connect_tcp.failed") == 3, got
    assert got.count(f"{prefix}.retry.started") == 2, got


# --- 8. Threads --------------------------------------------------------------------------------


def run_threads(pool: httpcore.ConnectionPool, urls: List[str]) -> List[Tuple[int, bytes]]:
    def work(index: int) -> List[Tuple[int, bytes]]:
        results = []
        for step in range(REQUESTS_PER_THREAD):
            response = get(pool, urls[(index + step) % len(urls)])
            results.append((response.status, response.content))
        return results

    with concurrent.futures.ThreadPoolExecutor(THREADS) as executor:
        futures = [executor.submit(work, index) for index in range(THREADS)]
        done, pending = concurrent.futures.wait(futures, timeout=SAFETY_TIMEOUT_S * 6)
        assert not pending
    return [item for future in futures for item in future.result()]


def test_threads_share_an_http_proxy_pool(
    kind: str, nginx: NginxServer, tinyproxy: TinyproxyServer, ssl_context: ssl.SSLContext
) -> None:
    urls = [nginx.url("/small.txt"), nginx.url("/small.txt", tls=True)]
    with http_proxy_pool(kind, tinyproxy.url, ssl_context=ssl_context) as pool:
        results = run_threads(pool, urls)
        assert len(pool.connections) <= 10
    assert results == [(200, SMALL_BODY)] * (THREADS * REQUESTS_PER_THREAD)


def test_threads_share_a_socks5_pool(
    kind: str, nginx: NginxServer, microsocks: MicrosocksServer, ssl_context: ssl.SSLContext
) -> None:
    urls = [nginx.url("/small.txt"), nginx.url("/small.txt", tls=True)]
    with socks_proxy_pool(kind, microsocks.url, ssl_context=ssl_context) as pool:
        results = run_threads(pool, urls)
        assert len(pool.connections) <= 10
    assert results == [(200, SMALL_BODY)] * (THREADS * REQUESTS_PER_THREAD)
