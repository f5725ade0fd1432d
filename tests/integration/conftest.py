"""Real peers for the integration tests: one nginx per session, and tiny raw servers.

- ``nginx``: the session's ``tools.servers.nginx.NginxServer`` (listeners and locations are
  listed in that module). A missing nginx is an error, never a skip.
- ``ssl_context``: a fresh client context trusting the nginx CA (pools set ALPN on the
  context they are given, so each test gets its own).
- ``silent_port``: a listening socket that never accepts: TCP connects succeed (the kernel
  queues them), nothing is ever read or answered. Writes fill the socket buffers and then
  block; reads and TLS handshakes wait forever.
- ``closed_port``: a port nothing listens on (connects are refused).
- ``raw_server``: starts ``tools.servers.raw.RawServer``s that answer every request with
  fixed bytes (garbage, or nothing at all) and then close; all are stopped at teardown.
- ``tinyproxy``, ``tinyproxy_auth``, ``https_proxy``, ``microsocks``, ``microsocks_auth``,
  ``socks4_server``: real proxies on loopback (see each fixture; credentials
  ``PROXY_USER``/``PROXY_PASSWORD``), stopped at teardown. A missing program is an error.
- ``nghttpd``: the session's ``tools.servers.nghttpd.NghttpdServer`` (nghttp2's HTTP/2
  server over TLS and cleartext, with trailers; see that module), stopped at teardown. A
  missing nghttpd (Debian: nghttp2-server) is an error, never a skip.

The repository root must be importable (``tools.servers``): it is the working directory
under ``python -m pytest``, and the runfiles root under Bazel.
"""

from __future__ import annotations

import socket
import ssl
from typing import Callable, Iterator, List

import pytest

from tools.servers.microsocks import MicrosocksServer
from tools.servers.nghttpd import NghttpdError, NghttpdServer
from tools.servers.nginx import NginxServer
from tools.servers.raw import RawServer
from tools.servers.socks4 import Socks4Server
from tools.servers.stunnel import StunnelFront
from tools.servers.tinyproxy import TinyproxyServer

# The credentials of the proxies started with authentication.
PROXY_USER = "alice"
PROXY_PASSWORD = "s3cret"


@pytest.fixture(scope="session")
def nginx() -> Iterator[NginxServer]:
    server = NginxServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ssl_context(nginx: NginxServer) -> ssl.SSLContext:
    return nginx.client_ssl_context()


@pytest.fixture
def silent_port() -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()


@pytest.fixture
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    servers: List[RawServer] = []

    def start(reply: bytes, drop_second: bool = False) -> RawServer:
        server = RawServer(reply, drop_second=drop_second)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


# --- nghttpd -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def nghttpd() -> Iterator[NghttpdServer]:
    try:
        server = NghttpdServer()
    except NghttpdError as exc:
        pytest.fail(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- proxies (tools.servers: tinyproxy, stunnel4, microsocks, socks4) ----------------------


@pytest.fixture(scope="session")
def tinyproxy() -> Iterator[TinyproxyServer]:
    """An HTTP proxy (forwarding and CONNECT) without authentication."""
    with TinyproxyServer() as server:
        yield server


@pytest.fixture(scope="session")
def tinyproxy_auth() -> Iterator[TinyproxyServer]:
    """An HTTP proxy that requires Basic ``PROXY_USER``/``PROXY_PASSWORD``."""
    with TinyproxyServer(auth=(PROXY_USER, PROXY_PASSWORD)) as server:
        yield server


@pytest.fixture(scope="session")
def https_proxy(tinyproxy: TinyproxyServer) -> Iterator[StunnelFront]:
    """An HTTPS proxy: stunnel4 terminating TLS in front of ``tinyproxy`` (its own CA:
    ``client_ssl_context()`` trusts it)."""
    with StunnelFront(tinyproxy.port) as front:
        yield front


@pytest.fixture(scope="session")
def microsocks() -> Iterator[MicrosocksServer]:
    """A SOCKS5 proxy without authentication."""
    with MicrosocksServer() as server:
        yield server


@pytest.fixture(scope="session")
def microsocks_auth() -> Iterator[MicrosocksServer]:
    """A SOCKS5 proxy that requires ``PROXY_USER``/``PROXY_PASSWORD``."""
    with MicrosocksServer(auth=(PROXY_USER, PROXY_PASSWORD)) as server:
        yield server


@pytest.fixture
def socks4_server() -> Iterator[Socks4Server]:
    """A SOCKS4/SOCKS4a proxy (Python, in threads) that records the requests it got."""
    with Socks4Server() as server:
        yield server
