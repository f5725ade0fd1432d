"""A real HTTP proxy (tinyproxy) on loopback, for the proxy integration tests.

``TinyproxyServer.start()`` writes a configuration into a fresh temporary directory and runs
``tinyproxy -d -c <dir>/tinyproxy.conf`` in the foreground, bound to 127.0.0.1 on a free
port. It forwards absolute-form requests (``GET http://127.0.0.1:PORT/ HTTP/1.1``) and
tunnels ``CONNECT``: with no ``ConnectPort`` line tinyproxy 1.11 allows CONNECT to every
port (checked: the tests' origins listen on random high ports). Only clients from
127.0.0.1 are served (``Allow``); the tests only ever ask it for 127.0.0.1 origins.

``auth=(user, password)`` adds ``BasicAuth``: a request without ``Proxy-Authorization``
gets 407 (with ``Proxy-Authenticate``); one with wrong credentials gets, from tinyproxy
1.11.1, 401 with ``WWW-Authenticate`` (its behaviour, not ours), for CONNECT too. ``log_text()`` returns tinyproxy's log (LogLevel Connect):
one ``Request (file descriptor N): GET http://... HTTP/1.1`` or
``Request (file descriptor N): CONNECT host:port HTTP/1.1`` line per request, which lets a
test assert that a request reached the proxy. The line is logged before the
authentication check, so it alone does not prove the request was forwarded; ``Established
connection to host "127.0.0.1"`` follows when it was. The readiness probe of ``start()``
leaves a ``Connect`` line and a ``read_request_line: Client ... closed socket`` error.

Runs as the current user, root included: with no ``User``/``Group`` lines tinyproxy 1.11
warns and keeps the current user (no privilege drop, so it can write its log and pid file
in the temporary directory).
"""

from __future__ import annotations

import pathlib
from typing import List, Optional, Tuple

from tools.servers._process import ProcessServer, ServerError, find_executable

_CANDIDATES = ("/usr/bin/tinyproxy", "/usr/sbin/tinyproxy", "/usr/local/bin/tinyproxy")

_CONFIG = """\
Port {port}
Listen 127.0.0.1
Timeout 60
LogFile "{directory}/tinyproxy.log"
# Connect: one line per client connection and per request line (GET ..., CONNECT ...).
LogLevel Connect
PidFile "{directory}/tinyproxy.pid"
MaxClients 100
# Only loopback clients; no ConnectPort lines, so CONNECT is allowed to any port.
Allow 127.0.0.1
# No Via header: the origin sees the request as the client sent it.
DisableViaHeader Yes
{auth}
"""


class TinyproxyError(ServerError):
    """tinyproxy is missing, or did not start."""


def find_tinyproxy() -> str:
    """The tinyproxy executable: ``$TINYPROXY``, else PATH, else the usual places."""
    return find_executable("TINYPROXY", "tinyproxy", _CANDIDATES, "tinyproxy")


class TinyproxyServer(ProcessServer):
    """One tinyproxy process (see the module docstring)."""

    name = "tinyproxy"
    error = TinyproxyError
    output_name = "stderr.log"
    log_names = ("tinyproxy.log",)

    def __init__(self, *, auth: Optional[Tuple[str, str]] = None) -> None:
        super().__init__()
        self.executable = find_tinyproxy()
        self.auth = auth

    def log_text(self) -> str:
        """tinyproxy's log so far ("" before start and after stop)."""
        return self.read_file("tinyproxy.log")

    def prepare(self, directory: pathlib.Path) -> None:
        if self.auth is not None:
            user, password = self.auth
            if any(c.isspace() for c in user + password) or not user or not password:
                raise TinyproxyError("tinyproxy BasicAuth needs a user and password without spaces")

    def command(self, directory: pathlib.Path, port: int) -> List[str]:
        auth = "" if self.auth is None else f"BasicAuth {self.auth[0]} {self.auth[1]}"
        config = directory / "tinyproxy.conf"
        config.write_text(_CONFIG.format(port=port, directory=directory, auth=auth))
        return [self.executable, "-d", "-c", str(config)]
