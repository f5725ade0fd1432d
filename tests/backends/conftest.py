"""Fixtures of the backend tests: loopback servers (``tools.servers.loopback``) stopped at
teardown, and trustme certificates for ``localhost``, ``outer.example`` and
``inner.example`` (the names the TLS-in-TLS tests use), with ALPN offering h2 and http/1.1.

The repository root must be importable (``tools.servers``): it is the working directory
under ``python -m pytest``, and the runfiles root under Bazel.
"""

from __future__ import annotations

import ssl
from typing import Any, Iterator, List, Optional

import pytest
import trustme

from tools.servers.loopback import Handler, LoopbackServer, StartServer


@pytest.fixture
def serve() -> Iterator[StartServer]:
    servers: List[LoopbackServer] = []

    def start(
        handler: Handler, tls: Optional[ssl.SSLContext] = None, unix_path: Optional[str] = None
    ) -> LoopbackServer:
        server = LoopbackServer(handler, tls=tls, unix_path=unix_path)
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.close()


@pytest.fixture(scope="module")
def ca() -> Any:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: Any) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "outer.example", "inner.example").configure_cert(context)
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


@pytest.fixture
def client_tls(ca: Any) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context
