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

from tools.servers.nghttpd import NghttpdError, NghttpdServer
from tools.servers.nginx import NginxServer
from tools.servers.raw import RawServer


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
