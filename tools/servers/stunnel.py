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
from typing import Any, List

import trustme

from tools.servers._process import ProcessServer, ServerError, find_executable

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


class StunnelFront(ProcessServer):
    """One stunnel process: TLS on ``port``, plaintext to ``backend_port``."""

    name = "stunnel"
    error = StunnelError
    scheme = "https"
    output_name = "stderr.log"
    log_names = ("stunnel.log",)

    def __init__(self, backend_port: int) -> None:
        super().__init__()
        self.executable = find_stunnel()
        self.backend_port = backend_port
        self.ca: Any = trustme.CA()
        self._server_cert: Any = self.ca.issue_cert(*_HOSTNAMES)

    def client_ssl_context(self) -> ssl.SSLContext:
        """A new client context that trusts only this front's certificate authority."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.ca.configure_trust(context)
        return context

    def log_text(self) -> str:
        """stunnel's log so far (for failure messages)."""
        # In the foreground stunnel also copies its log to stderr; the log file suffices.
        return self.read_file("stunnel.log")

    def prepare(self, directory: pathlib.Path) -> None:
        key, chain = directory / "server.key", directory / "server.pem"
        self._server_cert.private_key_pem.write_to_path(str(key))
        key.chmod(0o600)  # else stunnel warns about insecure permissions
        self._server_cert.cert_chain_pems[0].write_to_path(str(chain))
        with open(chain, "ab") as out:
            for pem in self._server_cert.cert_chain_pems[1:]:
                out.write(pem.bytes())

    def command(self, directory: pathlib.Path, port: int) -> List[str]:
        config = directory / "stunnel.conf"
        config.write_text(
            _CONFIG.format(port=port, directory=directory, backend_port=self.backend_port)
        )
        return [self.executable, str(config)]
