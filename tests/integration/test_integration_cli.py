"""``python -m httpcore`` (``httpcore._cli``) against the session nginx and tiny local peers.

Most tests call ``main()`` in-process with pytest capturing the standard streams as bytes;
the ``subprocess`` ones run the real ``python -m httpcore`` with the same ``sys.path``.
Timeouts are provoked by peers that never answer, so only exit codes and messages are
asserted, never durations; every wait is bounded.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from typing import Callable, Iterator, List, Optional

import pytest

from httpcore import _cli
from tools.servers.nginx import SMALL_BODY, NginxServer
from tools.servers.raw import RawServer

SAFETY_TIMEOUT_S = 10.0
SUBPROCESS_TIMEOUT_S = 60.0
TINY_TIMEOUT = "0.2"
TRACE_LINE = re.compile(r"\[ *\d+\.\d{4}s\] (\S+)")

HTTP11_EVENTS = [
    "connection.connect_tcp.started",
    "connection.connect_tcp.complete",
    "http11.send_request_headers.started",
    "http11.send_request_headers.complete",
    "http11.send_request_body.started",
    "http11.send_request_body.complete",
    "http11.receive_response_headers.started",
    "http11.receive_response_headers.complete",
    "http11.receive_response_body.started",
    "http11.receive_response_body.complete",
    "http11.response_closed.started",
    "http11.response_closed.complete",
]


@dataclasses.dataclass
class Result:
    code: int
    stdout: bytes
    stderr: str

    @property
    def stderr_lines(self) -> List[str]:
        return self.stderr.splitlines()

    def events(self) -> List[str]:
        return [m.group(1) for m in map(TRACE_LINE.match, self.stderr_lines) if m]


@pytest.fixture
def cli(capsysbinary: pytest.CaptureFixture[bytes]) -> Iterator[_Runner]:
    yield _Runner(capsysbinary)


class _Runner:
    """Runs ``main(argv)`` in this process and collects what it wrote."""

    def __init__(self, capture: pytest.CaptureFixture[bytes]) -> None:
        self._capture = capture

    def __call__(self, *argv: str) -> Result:
        self._capture.readouterr()  # drop anything written before
        code = _cli.main(list(argv))
        out, err = self._capture.readouterr()
        return Result(code, out, err.decode())


def subprocess_env() -> dict[str, str]:
    """The environment of a child interpreter that imports the httpcore this test sees."""
    paths = [os.path.abspath(p) for p in sys.path if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths))


def run_module(
    *argv: str, stdin: bytes = b"", cwd: Optional[pathlib.Path] = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "httpcore", *argv],
        input=stdin,
        capture_output=True,
        env=subprocess_env(),
        cwd=cwd,
        timeout=SUBPROCESS_TIMEOUT_S,
    )


def upload_name() -> str:
    return f"cli-{uuid.uuid4().hex}.bin"


class OneShotServer:
    """Accepts one connection on ``listener``, reads a request, answers, closes.

    The request is a head (up to a blank line), or ``request_bytes`` bytes when given (for
    binary protocols). ``received`` is what was read, for tests that check what was sent.
    """

    def __init__(
        self, listener: socket.socket, reply: bytes, request_bytes: Optional[int] = None
    ) -> None:
        self._listener = listener
        self._listener.settimeout(SAFETY_TIMEOUT_S)
        self._reply = reply
        self._request_bytes = request_bytes
        self.received = b""
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            connection, _ = self._listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(SAFETY_TIMEOUT_S)
            try:
                while not self._complete():
                    data = connection.recv(65536)
                    if not data:
                        return
                    self.received += data
                connection.sendall(self._reply)
            except OSError:
                pass

    def _complete(self) -> bool:
        if self._request_bytes is not None:
            return len(self.received) >= self._request_bytes
        return b"\r\n\r\n" in self.received

    def stop(self) -> None:
        self._listener.close()
        self._thread.join(SAFETY_TIMEOUT_S)
        assert not self._thread.is_alive(), "one-shot server thread did not stop"


@pytest.fixture
def short_tmp() -> Iterator[pathlib.Path]:
    # Unix socket paths are limited to ~107 bytes; pytest's tmp_path can be longer.
    short_root = "/tmp" if os.access("/tmp", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="hc-cli-", dir=short_root) as directory:
        yield pathlib.Path(directory)


# --- bodies and heads ------------------------------------------------------------------------


def test_get_writes_the_body_to_stdout(cli: _Runner, nginx: NginxServer) -> None:
    result = cli(nginx.url("/small.txt"))
    assert result.code == 0
    assert result.stdout == SMALL_BODY
    assert result.stderr == ""


def test_include_writes_the_status_line_and_headers_before_the_body(
    cli: _Runner, nginx: NginxServer
) -> None:
    result = cli("-i", nginx.url("/small.txt"))
    assert result.code == 0
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert b"Content-Length: 18" in lines[1:]
    assert body == SMALL_BODY


def test_output_dash_means_stdout(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("-o", "-", nginx.url("/ok"))
    assert result.code == 0
    assert result.stdout == b"ok\n"


def test_output_writes_a_large_body_to_a_file(
    cli: _Runner, nginx: NginxServer, tmp_path: pathlib.Path
) -> None:
    target = tmp_path / "large.bin"
    result = cli("-o", str(target), nginx.url("/large.bin"))
    assert result.code == 0
    assert result.stdout == b""
    assert hashlib.sha256(target.read_bytes()).hexdigest() == nginx.large_sha256


def test_chunked_body_is_written_whole(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("-i", nginx.url("/chunked/small.txt"))
    assert result.code == 0
    assert b"Transfer-Encoding: chunked" in result.stdout
    assert result.stdout.endswith(b"\r\n\r\n" + SMALL_BODY)


def test_header_option_sends_the_header(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("-H", "X-Probe:  spaced value ", nginx.url("/header/x-probe"))
    assert result.code == 0
    assert result.stdout == b"spaced value"


# --- request bodies and methods ------------------------------------------------------------


def test_data_makes_the_default_method_post(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("-d", "a=1", nginx.url("/method"))
    assert result.code == 0
    assert result.stdout == b"POST\n"


def test_request_option_sets_the_method(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("-X", "DELETE", nginx.url("/method"))
    assert result.code == 0
    assert result.stdout == b"DELETE\n"


def test_data_from_a_file_is_uploaded(
    cli: _Runner, nginx: NginxServer, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "body.bin"
    source.write_bytes(bytes(range(256)) * 64)
    name = upload_name()
    result = cli("-X", "PUT", "-d", f"@{source}", "-i", nginx.url(f"/uploads/{name}"))
    assert result.code == 0
    assert result.stdout.startswith(b"HTTP/1.1 201 Created\r\n")
    assert (nginx.uploads / name).read_bytes() == source.read_bytes()


def test_data_from_stdin_is_uploaded(
    cli: _Runner, nginx: NginxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = b"from stdin\x00\xff\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload)))
    name = upload_name()
    result = cli("-X", "PUT", "-d", "@-", nginx.url(f"/uploads/{name}"))
    assert result.code == 0
    assert (nginx.uploads / name).read_bytes() == payload


def test_missing_data_file_exits_26(
    cli: _Runner, nginx: NginxServer, tmp_path: pathlib.Path
) -> None:
    result = cli("-d", f"@{tmp_path / 'absent'}", nginx.url("/method"))
    assert result.code == _cli.EXIT_INPUT == 26
    assert len(result.stderr_lines) == 1
    assert result.stderr.startswith("httpcore: -d @")
    assert "No such file" in result.stderr


# --- HTTP/2 and TLS ---------------------------------------------------------------------------


def test_http2_over_tls_negotiates_h2(cli: _Runner, nginx: NginxServer) -> None:
    url = nginx.url("/small.txt", port=nginx.ports.h2, tls=True)
    result = cli("--http2", "--cacert", str(nginx.ca_pem_path()), "-i", "--trace", url)
    assert result.code == 0, result.stderr
    assert result.stdout.startswith(b"HTTP/2 200\r\n")
    assert result.stdout.endswith(b"\r\n\r\n" + SMALL_BODY)
    [tls_line] = [line for line in result.stderr_lines if "start_tls.complete" in line]
    assert " alpn=h2 " in tls_line
    assert re.search(r"version=TLSv1\.[23] ", tls_line)
    assert re.search(r"cipher=\S+", tls_line)
    assert "http2.send_request_headers.complete" in result.events()
    assert "http2.receive_response_body.complete" in result.events()


def test_http2_option_keeps_http11_when_the_server_offers_only_it(
    cli: _Runner, nginx: NginxServer
) -> None:
    url = nginx.url("/small.txt", tls=True)
    result = cli("--http2", "--cacert", str(nginx.ca_pem_path()), "-i", "--trace", url)
    assert result.code == 0, result.stderr
    assert result.stdout.startswith(b"HTTP/1.1 200 OK\r\n")
    assert " alpn=http/1.1 " in result.stderr


def test_http2_prior_knowledge_speaks_h2c(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("--http2-prior-knowledge", "-i", nginx.url("/ok", port=nginx.ports.h2c))
    assert result.code == 0, result.stderr
    assert result.stdout.startswith(b"HTTP/2 200\r\n")
    assert result.stdout.endswith(b"\r\n\r\nok\n")


def test_untrusted_certificate_exits_7_with_a_hint(cli: _Runner, nginx: NginxServer) -> None:
    result = cli(nginx.url("/small.txt", tls=True))
    assert result.code == _cli.EXIT_CONNECT == 7
    assert result.stdout == b""
    error, hint = result.stderr_lines
    assert error.startswith("httpcore: ConnectError: ")
    assert "CERTIFICATE_VERIFY_FAILED" in error
    assert hint.startswith("httpcore: hint: ")
    assert "--cacert" in hint and "-k" in hint


def test_insecure_skips_the_certificate_check(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("-k", nginx.url("/small.txt", tls=True))
    assert result.code == 0, result.stderr
    assert result.stdout == SMALL_BODY


def test_cacert_trusts_the_servers_ca(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("--cacert", str(nginx.ca_pem_path()), nginx.url("/small.txt", tls=True))
    assert result.code == 0, result.stderr
    assert result.stdout == SMALL_BODY


def test_unreadable_cacert_exits_26(
    cli: _Runner, nginx: NginxServer, tmp_path: pathlib.Path
) -> None:
    result = cli("--cacert", str(tmp_path / "absent.pem"), nginx.url("/small.txt", tls=True))
    assert result.code == _cli.EXIT_INPUT
    assert result.stderr.startswith("httpcore: --cacert ")


def test_tls_to_a_plain_port_hints_at_http(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("-k", f"https://127.0.0.1:{nginx.ports.http}/")
    assert result.code == _cli.EXIT_CONNECT
    error, hint = result.stderr_lines
    assert error.startswith("httpcore: ConnectError: ")
    assert "http://" in hint


# --- tracing --------------------------------------------------------------------------------


def test_trace_lists_the_http11_events_in_order(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("--trace", nginx.url("/small.txt"))
    assert result.code == 0
    assert result.stdout == SMALL_BODY
    assert result.events() == HTTP11_EVENTS


def test_trace_shows_the_request_sent_the_status_and_the_body_size(
    cli: _Runner, nginx: NginxServer
) -> None:
    result = cli("--trace", "-H", "X-Probe: traced", nginx.url("/header/x-probe"))
    assert result.code == 0
    lines = [line.strip() for line in result.stderr_lines]
    headers_sent = lines.index(next(l for l in lines if "send_request_headers.complete" in l))
    assert lines[headers_sent + 1] == "> GET /header/x-probe HTTP/1.1"
    assert f"> Host: 127.0.0.1:{nginx.ports.http}" in lines
    assert "> X-Probe: traced" in lines
    assert any(l.endswith("receive_response_headers.complete status=200") for l in lines)
    assert "< HTTP/1.1 200 OK" in lines
    assert any(l.endswith("receive_response_body.complete body=6 bytes") for l in lines)


def test_trace_of_an_https_request_adds_tls_events(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("--trace", "-k", nginx.url("/small.txt", tls=True))
    assert result.code == 0
    expected = HTTP11_EVENTS[:2] + [
        "connection.start_tls.started",
        "connection.start_tls.complete",
    ] + HTTP11_EVENTS[2:]
    assert result.events() == expected


def test_trace_shows_a_failed_connect(cli: _Runner, closed_port: int) -> None:
    result = cli("--trace", f"http://127.0.0.1:{closed_port}/")
    assert result.code == 7
    assert result.events() == ["connection.connect_tcp.started", "connection.connect_tcp.failed"]
    assert re.search(r"connect_tcp\.failed ConnectError: ", result.stderr)


# --- exit codes -----------------------------------------------------------------------------


def test_fail_exits_22_on_a_404_and_writes_nothing(
    cli: _Runner, nginx: NginxServer, tmp_path: pathlib.Path
) -> None:
    target = tmp_path / "never.txt"
    result = cli("--fail", "-o", str(target), nginx.url("/status/404"))
    assert result.code == _cli.EXIT_HTTP_ERROR == 22
    assert result.stdout == b""
    assert result.stderr_lines == ["httpcore: --fail: the server answered 404 Not Found"]
    assert not target.exists()


def test_without_fail_a_404_is_a_success(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("-i", nginx.url("/status/404"))
    assert result.code == 0
    assert result.stdout.startswith(b"HTTP/1.1 404 Not Found\r\n")


def test_fail_passes_a_success_status(cli: _Runner, nginx: NginxServer) -> None:
    result = cli("--fail", nginx.url("/ok"))
    assert result.code == 0
    assert result.stdout == b"ok\n"


def test_connection_refused_exits_7_with_a_one_line_error(
    cli: _Runner, closed_port: int
) -> None:
    result = cli(f"http://127.0.0.1:{closed_port}/")
    assert result.code == 7
    assert result.stdout == b""
    [line] = result.stderr_lines
    assert line.startswith("httpcore: ConnectError: ")
    assert "Traceback" not in result.stderr


def test_timeout_against_a_silent_peer_exits_28(cli: _Runner, silent_port: int) -> None:
    result = cli("--timeout", TINY_TIMEOUT, f"http://127.0.0.1:{silent_port}/")
    assert result.code == _cli.EXIT_TIMEOUT == 28
    error, hint = result.stderr_lines
    assert error == "httpcore: ReadTimeout: timed out"
    assert "--timeout 0.2 s" in hint


def test_timeout_on_a_stalled_body_exits_28_after_the_first_bytes(
    cli: _Runner, nginx: NginxServer
) -> None:
    # /slow/ sends 1 KiB at once, then 1 byte/s: the body starts, then the read times out.
    result = cli("--timeout", TINY_TIMEOUT, nginx.url("/slow/large.bin"))
    assert result.code == 28
    assert len(result.stdout) >= 1024
    assert result.stderr_lines[0] == "httpcore: ReadTimeout: timed out"


def test_unsupported_scheme_exits_1(cli: _Runner) -> None:
    result = cli("ftp://127.0.0.1/file")
    assert result.code == _cli.EXIT_FAILURE == 1
    assert result.stderr_lines[0] == (
        "httpcore: UnsupportedProtocol: Request URL has an unsupported protocol 'ftp://'."
    )


def test_url_without_scheme_exits_1_with_a_hint(cli: _Runner) -> None:
    result = cli("127.0.0.1/ok")
    assert result.code == 1
    error, hint = result.stderr_lines
    assert error.startswith("httpcore: UnsupportedProtocol: ")
    assert "http://" in hint


def test_remote_protocol_error_exits_8(
    cli: _Runner, raw_server: Callable[..., RawServer]
) -> None:
    server = raw_server(b"this is not HTTP\r\n\r\n")
    result = cli(f"http://127.0.0.1:{server.port}/")
    assert result.code == _cli.EXIT_PROTOCOL == 8
    [line] = result.stderr_lines
    assert line.startswith("httpcore: RemoteProtocolError: ")


def test_unwritable_output_exits_23(
    cli: _Runner, nginx: NginxServer, tmp_path: pathlib.Path
) -> None:
    result = cli("-o", str(tmp_path), nginx.url("/small.txt"))  # a directory
    assert result.code == _cli.EXIT_OUTPUT == 23
    assert result.stderr.startswith("httpcore: cannot write the body: ")


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-url"),
        pytest.param(["-H", "no colon here", "http://127.0.0.1/"], id="header-without-colon"),
        pytest.param(["-H", ": value", "http://127.0.0.1/"], id="header-without-name"),
        pytest.param(["-H", "X Y: value", "http://127.0.0.1/"], id="header-name-not-a-token"),
        pytest.param(["--timeout", "soon", "http://127.0.0.1/"], id="timeout-not-a-number"),
        pytest.param(["--timeout", "-1", "http://127.0.0.1/"], id="timeout-negative"),
        pytest.param(["-X", "GE T", "http://127.0.0.1/"], id="method-not-a-token"),
        pytest.param(["--http1", "--http2", "http://127.0.0.1/"], id="two-http-versions"),
        pytest.param(["--proxy", "ftp://127.0.0.1:21", "http://127.0.0.1/"], id="proxy-scheme"),
        pytest.param(["--proxy", "http://127.0.0.1:x/", "http://127.0.0.1/"], id="proxy-port"),
        pytest.param(["--proxy", "http://h\u00e9:1/", "http://127.0.0.1/"], id="proxy-not-ascii"),
        pytest.param(["--proxy", "socks5://:1080", "http://127.0.0.1/"], id="proxy-no-host"),
        pytest.param(["http://127.0.0.1:port/"], id="url-port"),
        pytest.param(["http://h\u00e9.example/"], id="url-not-ascii"),
        pytest.param(["--no-such-option", "http://127.0.0.1/"], id="unknown-option"),
    ],
)
def test_usage_errors_exit_2(cli: _Runner, argv: List[str]) -> None:
    result = cli(*argv)
    assert result.code == _cli.EXIT_USAGE == 2
    assert result.stdout == b""
    assert "error:" in result.stderr_lines[-1]


def test_help_lists_the_exit_codes(cli: _Runner) -> None:
    result = cli("--help")
    assert result.code == 0
    text = result.stdout.decode()
    assert "exit codes:" in text
    for code in (0, 1, 2, 5, 7, 8, 22, 23, 26, 28, 55, 56):
        assert re.search(rf"^ +{code} +\S", text, re.MULTILINE), code


# --- unix sockets and proxies ---------------------------------------------------------------


def test_uds_sends_the_request_over_a_unix_socket(cli: _Runner, short_tmp: pathlib.Path) -> None:
    path = str(short_tmp / "s.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    server = OneShotServer(listener, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nuds\n")
    try:
        result = cli("--uds", path, "http://example.invalid/via-uds")
    finally:
        server.stop()
    assert result.code == 0, result.stderr
    assert result.stdout == b"uds\n"
    assert server.received.startswith(b"GET /via-uds HTTP/1.1\r\n")
    assert b"\r\nHost: example.invalid\r\n" in server.received


def test_http_proxy_gets_the_absolute_url_and_the_credentials(cli: _Runner) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = OneShotServer(listener, b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nproxy\n")
    try:
        proxy = f"http://us%3Aer:p%40ss@127.0.0.1:{port}"
        result = cli("--proxy", proxy, "http://example.invalid/x")
    finally:
        server.stop()
    assert result.code == 0, result.stderr
    assert result.stdout == b"proxy\n"
    assert server.received.startswith(b"GET http://example.invalid/x HTTP/1.1\r\n")
    credentials = base64.b64encode(b"us:er:p@ss")
    assert b"\r\nProxy-Authorization: Basic " + credentials + b"\r\n" in server.received


def test_proxy_refusing_the_tunnel_exits_5(cli: _Runner) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = OneShotServer(listener, b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    try:
        result = cli("--proxy", f"http://127.0.0.1:{port}", "https://example.invalid/")
    finally:
        server.stop()
    assert result.code == _cli.EXIT_PROXY == 5
    assert server.received.startswith(b"CONNECT example.invalid:443 HTTP/1.1\r\n")
    assert result.stderr_lines == ["httpcore: ProxyError: 403 Forbidden"]


def test_socks5_method_mismatch_exits_5(cli: _Runner) -> None:
    # A SOCKS5 proxy that wants a username and password when none were offered: the
    # greeting is 3 bytes (version 5, one method, "no authentication").
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = OneShotServer(listener, b"\x05\x02", request_bytes=3)
    try:
        result = cli("--trace", "--proxy", f"socks5://127.0.0.1:{port}", "http://example.invalid/")
    finally:
        server.stop()
    assert result.code == _cli.EXIT_PROXY
    assert server.received == b"\x05\x01\x00"
    assert result.events() == [
        "socks.connect_tcp.started",
        "socks.connect_tcp.complete",
        "socks.setup_socks5_connection.started",
        "socks.setup_socks5_connection.failed",
    ]
    assert result.stderr_lines[-1] == (
        "httpcore: ProxyError: Requested NO AUTHENTICATION REQUIRED from proxy server,"
        " but got USERNAME/PASSWORD."
    )


# --- the real command -----------------------------------------------------------------------


def test_module_runs_as_a_command(nginx: NginxServer, tmp_path: pathlib.Path) -> None:
    completed = run_module("-i", nginx.url("/small.txt"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(b"HTTP/1.1 200 OK\r\n")
    assert completed.stdout.endswith(SMALL_BODY)
    assert completed.stderr == b""


def test_module_uploads_stdin(nginx: NginxServer, tmp_path: pathlib.Path) -> None:
    payload = os.urandom(100_000)
    name = upload_name()
    url = nginx.url(f"/uploads/{name}")
    completed = run_module("-X", "PUT", "-d", "@-", "--fail", url, stdin=payload, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert (nginx.uploads / name).read_bytes() == payload


def test_module_exit_code_and_error_line_on_refused_connect(
    closed_port: int, tmp_path: pathlib.Path
) -> None:
    completed = run_module(f"http://127.0.0.1:{closed_port}/", cwd=tmp_path)
    assert completed.returncode == 7
    [line] = completed.stderr.decode().splitlines()
    assert line.startswith("httpcore: ConnectError: ")


def test_module_stops_quietly_when_stdout_is_closed(
    nginx: NginxServer, tmp_path: pathlib.Path
) -> None:
    # Like ``python -m httpcore URL | head -c 10``: the reader goes away mid-body.
    # stderr goes to a file, so waiting for the exit is the only (bounded) wait.
    with open(tmp_path / "stderr.txt", "w+b") as stderr_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "httpcore", nginx.url("/large.bin")],
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            env=subprocess_env(),
            cwd=tmp_path,
        )
        try:
            assert process.stdout is not None
            assert len(process.stdout.read(10)) == 10
            process.stdout.close()
            code = process.wait(timeout=SUBPROCESS_TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=SUBPROCESS_TIMEOUT_S)
        stderr_file.seek(0)
        stderr = stderr_file.read()
    assert code == _cli.EXIT_OUTPUT
    assert stderr.decode().splitlines() == [
        "httpcore: cannot write the body: stdout: [Errno 32] Broken pipe"
    ]
