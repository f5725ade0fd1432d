"""The nginx fixture itself, checked with the standard library only (no httpcore).

If these fail, the other integration tests' failures say nothing about httpcore.
"""

from __future__ import annotations

import hashlib
import http.client
import pathlib
import socket
import ssl
import uuid
from typing import Iterator, List, Tuple

import pytest

from tools.servers.nginx import LARGE_SIZE_BYTES, SMALL_BODY, NginxError, NginxServer
from tools.servers.raw import RawServer

SAFETY_TIMEOUT_S = 10.0


def get(
    connection: http.client.HTTPConnection, path: str
) -> Tuple[http.client.HTTPResponse, bytes]:
    connection.request("GET", path)
    response = connection.getresponse()
    return response, response.read()


_opened: List[http.client.HTTPConnection] = []


@pytest.fixture(autouse=True)
def _close_connections() -> Iterator[None]:
    """Close every stdlib connection a test opened through ``plain``/``secure``."""
    try:
        yield
    finally:
        while _opened:
            _opened.pop().close()


def plain(nginx: NginxServer, port: int) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=SAFETY_TIMEOUT_S)
    _opened.append(connection)
    return connection


def secure(nginx: NginxServer, port: int) -> http.client.HTTPSConnection:
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, timeout=SAFETY_TIMEOUT_S, context=nginx.client_ssl_context()
    )
    _opened.append(connection)
    return connection


def test_serves_the_small_file_with_a_content_length(nginx: NginxServer) -> None:
    response, body = get(plain(nginx, nginx.ports.http), "/small.txt")
    assert response.status == 200
    assert response.getheader("Content-Length") == str(len(SMALL_BODY))
    assert body == SMALL_BODY


def test_serves_the_small_file_over_tls_verified_by_the_trustme_ca(nginx: NginxServer) -> None:
    connection = secure(nginx, nginx.ports.https)
    response, body = get(connection, "/small.txt")
    assert (response.status, body) == (200, SMALL_BODY)
    assert connection.sock is not None


def test_tls_certificate_is_rejected_without_the_ca(nginx: NginxServer) -> None:
    connection = http.client.HTTPSConnection(
        "127.0.0.1",
        nginx.ports.https,
        timeout=SAFETY_TIMEOUT_S,
        context=ssl.create_default_context(),
    )
    _opened.append(connection)
    with pytest.raises(ssl.SSLCertVerificationError):
        connection.request("GET", "/small.txt")


def test_h2_listener_offers_http2_by_alpn(nginx: NginxServer) -> None:
    context = nginx.client_ssl_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", nginx.ports.h2), timeout=SAFETY_TIMEOUT_S) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.selected_alpn_protocol() == "h2"


def test_h2c_listener_speaks_http2_with_prior_knowledge(nginx: NginxServer) -> None:
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    empty_settings = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    with socket.create_connection(
        ("127.0.0.1", nginx.ports.h2c), timeout=SAFETY_TIMEOUT_S
    ) as sock:
        sock.sendall(preface + empty_settings)
        received = b""
        while len(received) < 9:
            data = sock.recv(65536)
            assert data, "nginx closed the connection"
            received += data
    # The server's first frame is its SETTINGS frame (type 0x4, stream 0).
    assert received[3] == 0x4
    assert received[5:9] == b"\x00\x00\x00\x00"


@pytest.mark.parametrize("path", ["/large.bin", "/chunked/large.bin"])
def test_serves_the_large_file_whole(nginx: NginxServer, path: str) -> None:
    response, body = get(plain(nginx, nginx.ports.http), path)
    assert len(body) == LARGE_SIZE_BYTES
    assert hashlib.sha256(body).hexdigest() == nginx.large_sha256


def test_chunked_location_drops_the_length(nginx: NginxServer) -> None:
    response, body = get(plain(nginx, nginx.ports.http), "/chunked/small.txt")
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Length") is None
    assert body == SMALL_BODY


def test_keep_alive_listener_keeps_the_connection(nginx: NginxServer) -> None:
    connection = plain(nginx, nginx.ports.http)
    get(connection, "/small.txt")
    first = connection.sock
    response, _ = get(connection, "/small.txt")
    assert response.getheader("Connection") == "keep-alive"
    assert connection.sock is first


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_close_listener_sends_connection_close(nginx: NginxServer, tls: bool) -> None:
    ports = nginx.ports
    connection = secure(nginx, ports.close_https) if tls else plain(nginx, ports.close_http)
    response, body = get(connection, "/small.txt")
    assert response.getheader("Connection") == "close"
    assert body == SMALL_BODY


def test_idle_close_listener_closes_an_idle_connection(nginx: NginxServer) -> None:
    with socket.create_connection(
        ("127.0.0.1", nginx.ports.idle_close_http), timeout=SAFETY_TIMEOUT_S
    ) as sock:
        sock.sendall(b"GET /status/204 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        assert b"Connection: keep-alive" in received
        # The next read waits for nginx's FIN (bounded by the socket timeout).
        assert sock.recv(65536) == b""


def upload_chunks() -> Iterator[bytes]:
    for index in range(8):
        yield bytes([index]) * 100_000


def test_uploads_are_stored_and_served_back(nginx: NginxServer) -> None:
    path = f"/uploads/{uuid.uuid4().hex}/file.bin"
    connection = plain(nginx, nginx.ports.http)
    connection.request("PUT", path, body=upload_chunks(), encode_chunked=True)
    response = connection.getresponse()
    response.read()
    assert response.status == 201
    _, body = get(connection, path)
    assert body == b"".join(upload_chunks())


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/redirect/301", 301),
        ("/redirect/302", 302),
        ("/redirect/307", 307),
        ("/redirect/308", 308),
    ],
)
def test_redirects_point_to_method(nginx: NginxServer, path: str, status: int) -> None:
    response, _ = get(plain(nginx, nginx.ports.http), path)
    assert response.status == status
    assert response.getheader("Location") == f"http://127.0.0.1:{nginx.ports.http}/method"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_method_location_echoes_the_method(nginx: NginxServer, method: str) -> None:
    connection = plain(nginx, nginx.ports.http)
    connection.request(method, "/method", body=b"ignored" if method != "GET" else None)
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, method.encode() + b"\n")


def test_header_location_echoes_x_probe(nginx: NginxServer) -> None:
    connection = plain(nginx, nginx.ports.http)
    connection.request("GET", "/header/x-probe", headers={"X-Probe": "value-1"})
    assert connection.getresponse().read() == b"value-1"


def test_slow_location_sends_headers_then_stalls(nginx: NginxServer) -> None:
    with socket.create_connection(
        ("127.0.0.1", nginx.ports.http), timeout=SAFETY_TIMEOUT_S
    ) as sock:
        sock.sendall(b"GET /slow/large.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        assert received.startswith(b"HTTP/1.1 200 OK\r\n")
        # A short read timeout expires long before the 10 MB body could arrive at 1 byte/s.
        sock.settimeout(0.2)
        with pytest.raises(socket.timeout):
            while True:
                assert sock.recv(65536) != b""


def test_silent_location_never_answers(nginx: NginxServer) -> None:
    with socket.create_connection(
        ("127.0.0.1", nginx.ports.http), timeout=SAFETY_TIMEOUT_S
    ) as sock:
        sock.sendall(b"GET /silent HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(0.2)
        with pytest.raises(socket.timeout):
            sock.recv(65536)


def test_raw_server_replies_then_closes() -> None:
    with RawServer(b"garbage\r\n\r\n") as server:
        with socket.create_connection(
            ("127.0.0.1", server.port), timeout=SAFETY_TIMEOUT_S
        ) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            chunks: List[bytes] = []
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
    assert b"".join(chunks) == b"garbage\r\n\r\n"


def test_a_second_server_stops_and_cleans_up() -> None:
    server = NginxServer()
    with server:
        prefix = server.prefix
        port = server.ports.http
        response, body = get(plain(server, port), "/small.txt")
        assert body == SMALL_BODY
    assert not prefix.exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=SAFETY_TIMEOUT_S).close()


def test_a_missing_nginx_is_an_error_not_a_skip(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setenv("NGINX", str(tmp_path / "no-such-nginx"))
    with pytest.raises(NginxError, match="not an executable file"):
        NginxServer()


def test_nginx_that_cannot_start_is_an_error_with_its_output(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    fake = tmp_path / "nginx"
    fake.write_text("#!/bin/sh\necho 'configuration rejected' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("NGINX", str(fake))
    server = NginxServer()
    with pytest.raises(NginxError, match="configuration rejected"):
        server.start()
    with pytest.raises(NginxError):
        server.prefix  # stopped and cleaned up
