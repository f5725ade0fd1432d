"""nghttp2's HTTP/2 server (``nghttpd``) on loopback, for the HTTP/2 integration tests.

``NghttpdServer.start()`` writes a document root and trustme certificates into a fresh
temporary directory and starts two ``nghttpd`` processes bound to 127.0.0.1: ``h2_port``
with TLS (ALPN ``h2``) and ``h2c_port`` cleartext (HTTP/2 with prior knowledge). Both add
``TRAILERS`` to every response that has a body (``--trailer``) and answer ``PUT``/``POST``
with the request body (``--echo-upload``). It returns once both accept TCP connections;
``stop()`` ends them (SIGTERM, a bounded wait, then SIGKILL) and removes the directory.

Files served: ``/small.txt`` (``SMALL_BODY``).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from typing import Any, List, Optional, Tuple

import trustme

TRAILERS = [(b"x-checksum", b"abc123"), (b"x-status", b"0")]
SMALL_BODY = b"Hello from nghttpd.\n"
READY_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
START_ATTEMPTS = 3
_POLL_INTERVAL_S = 0.02
_CANDIDATES = ("/usr/sbin/nghttpd", "/usr/bin/nghttpd", "/usr/local/bin/nghttpd")


class NghttpdError(RuntimeError):
    """nghttpd is missing, or did not start."""


def find_nghttpd() -> str:
    """The nghttpd executable: ``$NGHTTPD``, else ``nghttpd`` on PATH or in the usual places."""
    explicit = os.environ.get("NGHTTPD")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise NghttpdError(f"$NGHTTPD is {explicit!r}, which is not an executable file")
        return explicit
    found = shutil.which("nghttpd")
    if found:
        return found
    for candidate in _CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    raise NghttpdError(
        "nghttpd not found (looked at $NGHTTPD, PATH and "
        + ", ".join(_CANDIDATES)
        + "): the HTTP/2 integration tests need it; on Debian: apt-get install nghttp2-server"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


class NghttpdServer:
    """The two nghttpd processes of the module header."""

    def __init__(self) -> None:
        self.executable = find_nghttpd()
        self.ca: Any = trustme.CA()
        self._server_cert: Any = self.ca.issue_cert("127.0.0.1", "localhost")
        self._directory: Optional[pathlib.Path] = None
        self._processes: List[subprocess.Popen[bytes]] = []
        self._ports: Optional[Tuple[int, int]] = None

    @property
    def h2_port(self) -> int:
        if self._ports is None:
            raise NghttpdError("nghttpd is not running")
        return self._ports[0]

    @property
    def h2c_port(self) -> int:
        if self._ports is None:
            raise NghttpdError("nghttpd is not running")
        return self._ports[1]

    def url(self, path: str, *, tls: bool) -> str:
        if tls:
            return f"https://127.0.0.1:{self.h2_port}{path}"
        return f"http://127.0.0.1:{self.h2c_port}{path}"

    def client_ssl_context(self) -> ssl.SSLContext:
        """A new client context that trusts only this server's certificate authority."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.ca.configure_trust(context)
        return context

    def start(self) -> NghttpdServer:
        if self._processes:
            raise NghttpdError("nghttpd is already running")
        directory = self._directory = pathlib.Path(tempfile.mkdtemp(prefix="httpcore-nghttpd-"))
        try:
            docroot = directory / "docroot"
            docroot.mkdir()
            (docroot / "small.txt").write_bytes(SMALL_BODY)
            key, chain = directory / "server.key", directory / "server.pem"
            self._server_cert.private_key_pem.write_to_path(str(key))
            self._server_cert.cert_chain_pems[0].write_to_path(str(chain))
            with open(chain, "ab") as out:
                for pem in self._server_cert.cert_chain_pems[1:]:
                    out.write(pem.bytes())
            arguments = ["-a", "127.0.0.1", "-d", str(docroot), "--echo-upload"]
            for name, value in TRAILERS:
                arguments += ["--trailer", f"{name.decode()}: {value.decode()}"]
            h2_port = self._start_one(arguments, [str(key), str(chain)], directory / "h2.log")
            h2c_port = self._start_one([*arguments, "--no-tls"], [], directory / "h2c.log")
            self._ports = (h2_port, h2c_port)
            return self
        except BaseException:
            self.stop()
            raise

    def _start_one(self, arguments: List[str], tls_files: List[str], log: pathlib.Path) -> int:
        # On a free port; retried if another process took the port meanwhile.
        problem = ""
        for _ in range(START_ATTEMPTS):
            port = _free_port()
            with open(log, "wb") as output:
                process = subprocess.Popen(
                    [self.executable, *arguments, str(port), *tls_files],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                )
            self._processes.append(process)
            deadline = time.monotonic() + READY_TIMEOUT_S
            while process.poll() is None and time.monotonic() < deadline:
                if _accepts(port):
                    return port
                time.sleep(_POLL_INTERVAL_S)
            _stop(process)
            self._processes.remove(process)
            problem = f"exit status {process.returncode}:\n" + log.read_text(errors="replace")
        raise NghttpdError(f"nghttpd did not start: {problem}")

    def stop(self) -> None:
        """Stop both processes (bounded) and remove the directory. Idempotent."""
        processes, self._processes = self._processes, []
        self._ports = None
        try:
            for process in processes:
                _stop(process)
        finally:
            if self._directory is not None:
                shutil.rmtree(self._directory, ignore_errors=True)
                self._directory = None

    def __enter__(self) -> NghttpdServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
