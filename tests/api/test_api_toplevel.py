"""``httpcore.request()`` and ``httpcore.stream()`` (API.md §4), against a loopback server.

Each call uses a pool of its own with the real ``SyncBackend``; the server records the
requests it receives and counts connections, so the tests see what went over the wire.
"""

from __future__ import annotations

import socketserver
import threading
from typing import Iterator, List, Tuple

import pytest

import httpcore

BODY = b"Hello, world!"


class Handler(socketserver.StreamRequestHandler):
    """Reads request heads (and a Content-Length body); answers each with BODY."""

    server: Server

    def handle(self) -> None:
        self.server.connections += 1
        while True:
            lines: List[bytes] = []
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                lines.append(line.rstrip(b"\r\n"))
            headers = [tuple(line.split(b": ", 1)) for line in lines[1:]]
            length = 0
            for name, value in headers:
                if name.lower() == b"content-length":
                    length = int(value)
            body = self.rfile.read(length) if length else b""
            self.server.received.append((lines[0], body))
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
            )
            self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: List[Tuple[bytes, bytes]] = []
        self.connections = 0

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        assert isinstance(host, str)
        return f"http://{host}:{port}/"


@pytest.fixture
def server() -> Iterator[Server]:
    server = Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_request_returns_the_response_with_its_body_read(server: Server) -> None:
    response = httpcore.request("GET", server.url)
    assert response.status == 200
    assert response.content == BODY
    assert response.extensions["http_version"] == b"HTTP/1.1"
    assert server.received == [(b"GET / HTTP/1.1", b"")]


def test_request_sends_content_and_headers(server: Server) -> None:
    response = httpcore.request(
        "POST", server.url + "upload?x=1", headers={"X-Test": "yes"}, content=b"abc"
    )
    assert response.status == 200
    assert server.received == [(b"POST /upload?x=1 HTTP/1.1", b"abc")]


def test_each_request_uses_a_new_connection(server: Server) -> None:
    httpcore.request("GET", server.url)
    httpcore.request("GET", server.url)
    assert server.connections == 2


def test_stream_yields_the_unread_response(server: Server) -> None:
    with httpcore.stream("GET", server.url) as response:
        assert response.status == 200
        with pytest.raises(RuntimeError):
            response.content
        assert b"".join(response.iter_stream()) == BODY
    assert server.received == [(b"GET / HTTP/1.1", b"")]


def test_stream_closes_the_response_and_the_pool_on_exit(server: Server) -> None:
    with httpcore.stream("GET", server.url) as response:
        network_stream = response.extensions["network_stream"]
    # The pool closed its connection, so its socket is gone.
    with pytest.raises(httpcore.ReadError):
        network_stream.read(1)


def test_stream_closes_on_an_exception_in_the_block(server: Server) -> None:
    with pytest.raises(ZeroDivisionError):
        with httpcore.stream("GET", server.url) as response:
            network_stream = response.extensions["network_stream"]
            1 / 0
    with pytest.raises(httpcore.ReadError):
        network_stream.read(1)


def test_request_to_an_unsupported_scheme() -> None:
    with pytest.raises(httpcore.UnsupportedProtocol) as info:
        httpcore.request("GET", "invalid://example.com/")
    assert str(info.value) == "Request URL has an unsupported protocol 'invalid://'."


def test_request_to_a_closed_port_is_a_connect_error() -> None:
    server = Server()
    url = server.url
    server.server_close()
    with pytest.raises(httpcore.ConnectError):
        httpcore.request("GET", url)


def test_pools_are_exported() -> None:
    assert repr(httpcore.ConnectionPool) == "<class 'httpcore.ConnectionPool'>"
    assert repr(httpcore.AsyncConnectionPool) == "<class 'httpcore.AsyncConnectionPool'>"
    assert httpcore.request.__module__ == "httpcore"
    assert httpcore.stream.__module__ == "httpcore"
