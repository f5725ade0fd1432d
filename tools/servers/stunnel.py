"""A TLS front (stunnel4) on loopback: an HTTPS proxy when put before tinyproxy.

``StunnelFront(backend_port).start()`` writes a trustme certificate (for ``127.0.0.1`` and
``localhost``) and a configuration into a fresh temporary directory and runs
``stunnel4 <dir>/stunnel.conf`` in the foreground (``foreground = yes``, pid file in the
directory, no ``setuid``/``setgid``: it keeps the current user). It accepts TLS on
127.0.0.1 on a free port and forwards the decrypted bytes to ``127.0.0.1:backend_port``.
With tinyproxy as the backend this is an ``https://`` proxy: the client speaks TLS to the
proxy, then HTTP (absolute-form requests, or CONNECT and, inside, TLS to the origin).

``ca`` is the ``trustme.CA`` that signed the certificate; ``client_ssl_context()`` returns a
client context that trusts only it.
"""

from __future__ import annotations

import pathlib
import shutil
import ssl
import subprocess
import tempfile
from typing import Any, List, Optional

import trustme

from tools.servers._process import (
    ServerError,
    find_executable,
    read_text,
    start_on_free_port,
    stop_process,
)

_CANDIDATES = ("/usr/bin/stunnel4", "/usr/bin/stunnel", "/usr/local/bin/stunnel")
_HOSTNAMES = ("127.0.0.1", "localhost")

_CONFIG = """\
foreground = yes
pid = {directory}/stunnel.pid
output = {directory}/stunnel.log
debug = notice
# No syslog: everything goes to the output file of the directory.
syslog = no

[proxy]
accept = 127.0.0.1:{port}
connect = 127.0.0.1:{backend_port}
cert = {directory}/server.pem
key = {directory}/server.key
"""


class StunnelError(ServerError):
    """stunnel4 is missing, or did not start."""


def find_stunnel() -> str:
    """The stunnel executable: ``$STUNNEL``, else ``stunnel4``/``stunnel`` on PATH or usual places."""
    try:
        return find_executable("STUNNEL", "stunnel4", _CANDIDATES, "stunnel4")
    except ServerError as error:
        found = shutil.which("stunnel")
        if found:
            return found
        raise StunnelError(str(error)) from None


class StunnelFront:
    """One stunnel process: TLS on ``port``, plaintext to ``backend_port``."""

    def __init__(self, backend_port: int) -> None:
        self.executable = find_stunnel()
        self.backend_port = backend_port
        self.ca: Any = trustme.CA()
        self._server_cert: Any = self.ca.issue_cert(*_HOSTNAMES)
        self._directory: Optional[pathlib.Path] = None
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._port: Optional[int] = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise StunnelError("stunnel is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def process(self) -> Optional[subprocess.Popen[bytes]]:
        return self._process

    def client_ssl_context(self) -> ssl.SSLContext:
        """A new client context that trusts only this front's certificate authority."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.ca.configure_trust(context)
        return context

    def log_text(self) -> str:
        """stunnel's log so far (for failure messages)."""
        if self._directory is None:
            return ""
        # In the foreground stunnel also copies its log to stderr; the output file suffices.
        return read_text(self._directory / "stunnel.log")

    def start(self) -> StunnelFront:
        if self._process is not None:
            raise StunnelError("stunnel is already running")
        directory = self._directory = pathlib.Path(tempfile.mkdtemp(prefix="httpcore-stunnel-"))
        try:
            key, chain = directory / "server.key", directory / "server.pem"
            self._server_cert.private_key_pem.write_to_path(str(key))
            key.chmod(0o600)  # else stunnel warns about insecure permissions
            self._server_cert.cert_chain_pems[0].write_to_path(str(chain))
            with open(chain, "ab") as out:
                for pem in self._server_cert.cert_chain_pems[1:]:
                    out.write(pem.bytes())
            config = directory / "stunnel.conf"

            def command(port: int) -> List[str]:
                config.write_text(
                    _CONFIG.format(port=port, directory=directory, backend_port=self.backend_port)
                )
                return [self.executable, str(config)]

            try:
                self._process, self._port = start_on_free_port(
                    "stunnel", command, directory / "stderr.log", [directory / "stunnel.log"]
                )
            except ServerError as error:
                raise StunnelError(str(error)) from None
            return self
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop stunnel (bounded) and remove the directory. Idempotent."""
        process, self._process = self._process, None
        self._port = None
        try:
            if process is not None:
                stop_process(process)
        finally:
            if self._directory is not None:
                shutil.rmtree(self._directory, ignore_errors=True)
                self._directory = None

    def __enter__(self) -> StunnelFront:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
