"""The proxy launchers themselves, checked with the standard library only (no httpcore).

tinyproxy (HTTP forwarding and CONNECT, Basic auth), stunnel in front of tinyproxy (an
HTTPS proxy), microsocks (SOCKS5, username/password) and the Python SOCKS4/4a server each
carry a real request to a tiny origin on 127.0.0.1. If these fail, the proxy tests'
failures say nothing about httpcore.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import socket
import ssl
import struct
import sys
import threading
import time
from typing import Iterator, Optional, Tuple

import pytest

from tools.servers._process import ServerError
from tools.servers.microsocks import MicrosocksServer
from tools.servers.socks4 import (
    GRANTED,
    REJECTED,
    USER_ID_MISMATCH,
    Socks4Request,
    Socks4Server,
)
from tools.servers.stunnel import StunnelFront
from tools.servers.tinyproxy import TinyproxyError, TinyproxyServer

SAFETY_TIMEOUT_S = 10.0
ORIGIN_BODY = b"hello from the origin\n"


class _OriginHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        # The body names the path, so a test sees that its own request arrived.
        body = ORIGIN_BODY + self.path.encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[int]:
    """A plain HTTP/1.1 origin on 127.0.0.1; yields its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OriginHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(SAFETY_TIMEOUT_S)
        assert not thread.is_alive()


def _expected(path: str) -> bytes:
    return ORIGIN_BODY + path.encode() + b"\n"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _read_http_response(sock: socket.socket) -> Tuple[int, bytes]:
    """Status and body of one response with Content-Length (or until EOF)."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.read()


# --- tinyproxy ----------------------------------------------------------------------------


def test_tinyproxy_forwards_absolute_form_request(origin: int) -> None:
    with TinyproxyServer() as proxy:
        assert proxy.url == f"http://127.0.0.1:{proxy.port}"
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=SAFETY_TIMEOUT_S)
        try:
            connection.request("GET", f"http://127.0.0.1:{origin}/forwarded")
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == _expected("/forwarded")
        finally:
            connection.close()
        assert f"GET http://127.0.0.1:{origin}/forwarded HTTP/1.1" in proxy.log_text()


def test_tinyproxy_tunnels_connect_to_any_port(origin: int) -> None:
    with TinyproxyServer() as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=SAFETY_TIMEOUT_S)
        connection.set_tunnel("127.0.0.1", origin)
        try:
            connection.request("GET", "/tunnelled")
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == _expected("/tunnelled")
        finally:
            connection.close()
        # http.client sends its CONNECT as HTTP/1.0 before Python 3.12, as HTTP/1.1 since.
        version = "HTTP/1.1" if sys.version_info >= (3, 12) else "HTTP/1.0"
        assert f"CONNECT 127.0.0.1:{origin} {version}" in proxy.log_text()


def test_tinyproxy_basic_auth(origin: int) -> None:
    with TinyproxyServer(auth=("alice", "s3cret")) as proxy:
        url = f"http://127.0.0.1:{origin}/auth"
        # No credentials: 407. Wrong credentials: tinyproxy 1.11.1 answers 401 with
        # WWW-Authenticate (not 407 with Proxy-Authenticate); either way, no forwarding.
        for headers, statuses in (
            ({}, (407,)),
            ({"Proxy-Authorization": _basic("alice", "wrong")}, (401, 407)),
        ):
            connection = http.client.HTTPConnection(
                "127.0.0.1", proxy.port, timeout=SAFETY_TIMEOUT_S
            )
            try:
                connection.request("GET", url, headers=headers)
                response = connection.getresponse()
                assert ORIGIN_BODY not in response.read()
                assert response.status in statuses
            finally:
                connection.close()
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=SAFETY_TIMEOUT_S)
        try:
            connection.request("GET", url, headers={"Proxy-Authorization": _basic("alice", "s3cret")})
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == _expected("/auth")
        finally:
            connection.close()
        # CONNECT needs the credentials too.
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=SAFETY_TIMEOUT_S)
        connection.set_tunnel("127.0.0.1", origin)
        try:
            with pytest.raises(OSError, match="407"):
                connection.request("GET", "/")
        finally:
            connection.close()


def test_tinyproxy_stop_ends_process_and_is_idempotent() -> None:
    proxy = TinyproxyServer().start()
    process = proxy.process
    port = proxy.port
    assert process is not None and process.poll() is None
    proxy.stop()
    assert process.poll() is not None
    assert proxy.process is None
    with pytest.raises(TinyproxyError):
        proxy.port
    proxy.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=SAFETY_TIMEOUT_S).close()


def test_missing_executable_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYPROXY", "/nonexistent/tinyproxy")
    with pytest.raises(ServerError, match="TINYPROXY"):
        TinyproxyServer()


# --- stunnel in front of tinyproxy: an HTTPS proxy ----------------------------------------


def test_stunnel_https_proxy(origin: int) -> None:
    with TinyproxyServer() as proxy, StunnelFront(proxy.port) as front:
        assert front.url == f"https://127.0.0.1:{front.port}"
        context = front.client_ssl_context()
        # Forwarding: an absolute-form request over TLS to the proxy.
        connection = http.client.HTTPSConnection(
            "127.0.0.1", front.port, timeout=SAFETY_TIMEOUT_S, context=context
        )
        try:
            connection.request("GET", f"http://127.0.0.1:{origin}/over-tls")
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == _expected("/over-tls")
            sock = connection.sock
            assert isinstance(sock, ssl.SSLSocket)
            assert sock.getpeercert() is not None
        finally:
            connection.close()
        # CONNECT over TLS, then plain HTTP inside the tunnel.
        raw = socket.create_connection(("127.0.0.1", front.port), timeout=SAFETY_TIMEOUT_S)
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(
                f"CONNECT 127.0.0.1:{origin} HTTP/1.1\r\nHost: 127.0.0.1:{origin}\r\n\r\n".encode()
            )
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = tls.recv(1)
                assert chunk, head
                head += chunk
            assert head.split(b" ")[1] == b"200"
            tls.sendall(b"GET /in-tunnel HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            status, body = _read_http_response(tls)
            assert (status, body) == (200, _expected("/in-tunnel"))
        log = proxy.log_text()
        assert f"GET http://127.0.0.1:{origin}/over-tls HTTP/1.1" in log
        assert f"CONNECT 127.0.0.1:{origin} HTTP/1.1" in log


def test_stunnel_certificate_is_not_trusted_by_default() -> None:
    with TinyproxyServer() as proxy, StunnelFront(proxy.port) as front:
        context = ssl.create_default_context()
        raw = socket.create_connection(("127.0.0.1", front.port), timeout=SAFETY_TIMEOUT_S)
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname="127.0.0.1")
        raw.close()
        process = front.process
    assert process is not None and process.poll() is not None


# --- microsocks (SOCKS5) ------------------------------------------------------------------


def _socks5_connect(
    port: int, target_port: int, auth: Optional[Tuple[str, str]]
) -> Tuple[socket.socket, int]:
    """A SOCKS5 handshake to 127.0.0.1:target_port; the socket and the reply code.

    Raises ``ConnectionError`` naming the step when the proxy refuses the method or the
    credentials.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=SAFETY_TIMEOUT_S)
    try:
        method = 0x02 if auth is not None else 0x00
        sock.sendall(bytes([5, 1, method]))
        chosen = _recv_exact(sock, 2)
        if chosen != bytes([5, method]):
            raise ConnectionError(f"method refused: {chosen!r}")
        if auth is not None:
            user, password = (part.encode() for part in auth)
            sock.sendall(bytes([1, len(user)]) + user + bytes([len(password)]) + password)
            status = _recv_exact(sock, 2)
            if status[1] != 0:
                raise ConnectionError(f"credentials refused: {status!r}")
        sock.sendall(bytes([5, 1, 0, 1]) + socket.inet_aton("127.0.0.1") + struct.pack("!H", target_port))
        reply = _recv_exact(sock, 10)  # IPv4 bound address
        return sock, reply[1]
    except BaseException:
        sock.close()
        raise


def _recv_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    return data


def _get_over(sock: socket.socket, path: str) -> Tuple[int, bytes]:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return _read_http_response(sock)


def test_microsocks_connects(origin: int) -> None:
    with MicrosocksServer() as proxy:
        assert proxy.url == f"socks5://127.0.0.1:{proxy.port}"
        sock, code = _socks5_connect(proxy.port, origin, None)
        with sock:
            assert code == 0
            assert _get_over(sock, "/socks5") == (200, _expected("/socks5"))
        process = proxy.process
    assert process is not None and process.poll() is not None


def test_microsocks_auth(origin: int) -> None:
    with MicrosocksServer(auth=("bob", "pw")) as proxy:
        with pytest.raises(ConnectionError, match="method refused"):
            _socks5_connect(proxy.port, origin, None)
        with pytest.raises(ConnectionError):
            _socks5_connect(proxy.port, origin, ("bob", "wrong"))
        sock, code = _socks5_connect(proxy.port, origin, ("bob", "pw"))
        with sock:
            assert code == 0
            assert _get_over(sock, "/socks5-auth") == (200, _expected("/socks5-auth"))


# --- the Python SOCKS4/4a server ----------------------------------------------------------


def _socks4_request(
    port: int, target_port: int, *, host: Optional[str] = None, user_id: bytes = b"", command: int = 1
) -> Tuple[socket.socket, bytes]:
    """A SOCKS4 (or, with ``host``, SOCKS4a) request; the socket and the 8-byte reply."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=SAFETY_TIMEOUT_S)
    ip = socket.inet_aton("0.0.0.1" if host is not None else "127.0.0.1")
    request = struct.pack("!BBH", 4, command, target_port) + ip + user_id + b"\x00"
    if host is not None:
        request += host.encode() + b"\x00"
    sock.sendall(request)
    try:
        return sock, _recv_exact(sock, 8)
    except BaseException:
        sock.close()
        raise


def test_socks4_connect_and_4a(origin: int) -> None:
    with Socks4Server() as proxy:
        assert proxy.url == f"socks4://127.0.0.1:{proxy.port}"
        sock, reply = _socks4_request(proxy.port, origin, user_id=b"someone")
        with sock:
            assert reply[:2] == bytes([0, GRANTED])
            assert _get_over(sock, "/socks4") == (200, _expected("/socks4"))
        sock, reply = _socks4_request(proxy.port, origin, host="localhost")
        with sock:
            assert reply[:2] == bytes([0, GRANTED])
            assert _get_over(sock, "/socks4a") == (200, _expected("/socks4a"))
        assert proxy.requests == [
            Socks4Request(4, 1, "127.0.0.1", origin, b"someone", False),
            Socks4Request(4, 1, "localhost", origin, b"", True),
        ]
        threads = proxy.threads()
    assert threads and not any(thread.is_alive() for thread in threads)


def test_socks4_user_id_bind_and_refuse(origin: int) -> None:
    with Socks4Server(user_id=b"carol") as proxy:
        sock, reply = _socks4_request(proxy.port, origin, user_id=b"mallory")
        sock.close()
        assert reply[:2] == bytes([0, USER_ID_MISMATCH])
        sock, reply = _socks4_request(proxy.port, origin, user_id=b"carol", command=2)
        sock.close()
        assert reply[:2] == bytes([0, REJECTED])
        sock, reply = _socks4_request(proxy.port, origin, user_id=b"carol")
        with sock:
            assert reply[:2] == bytes([0, GRANTED])
            assert _get_over(sock, "/carol") == (200, _expected("/carol"))
    with Socks4Server(refuse=True) as proxy:
        sock, reply = _socks4_request(proxy.port, origin)
        sock.close()
        assert reply[:2] == bytes([0, REJECTED])
        assert [request.port for request in proxy.requests] == [origin]


def _closed_by_peer(sock: socket.socket) -> bool:
    """True once the peer closed: an end of stream, or a reset (closing with unread data)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_socks4_stop_closes_open_relays(origin: int) -> None:
    proxy = Socks4Server().start()
    port = proxy.port
    # A granted connection left open, and one that never finishes its request.
    granted, reply = _socks4_request(port, origin)
    assert reply[1] == GRANTED
    idle = socket.create_connection(("127.0.0.1", port), timeout=SAFETY_TIMEOUT_S)
    idle.sendall(b"\x04\x01")
    # Bounded wait until the idle connection has its thread too (accept loop + 2).
    deadline = time.monotonic() + SAFETY_TIMEOUT_S
    while len(proxy.threads()) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(proxy.threads()) == 3
    try:
        proxy.stop()
        assert not any(thread.is_alive() for thread in proxy.threads())
        assert _closed_by_peer(granted)  # the relay was closed
        assert _closed_by_peer(idle)
    finally:
        granted.close()
        idle.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=SAFETY_TIMEOUT_S).close()
