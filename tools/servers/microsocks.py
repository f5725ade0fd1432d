"""A real SOCKS5 proxy (microsocks) on loopback, for the proxy integration tests.

``MicrosocksServer.start()`` runs ``microsocks -i 127.0.0.1 -p PORT`` (in the foreground:
microsocks never daemonizes) on a free port, from a fresh temporary directory that holds
its output. ``auth=(user, password)`` adds ``-u USER -P PASSWORD``: microsocks then offers
only username/password authentication (RFC 1929) and rejects wrong credentials.
microsocks connects wherever the client asks; the tests only ask for 127.0.0.1 origins.
"""

from __future__ import annotations

import pathlib
from typing import List, Optional, Tuple

from tools.servers._process import ProcessServer, ServerError, find_executable

_CANDIDATES = ("/usr/bin/microsocks", "/usr/local/bin/microsocks")


class MicrosocksError(ServerError):
    """microsocks is missing, or did not start."""


def find_microsocks() -> str:
    """The microsocks executable: ``$MICROSOCKS``, else PATH, else the usual places."""
    return find_executable("MICROSOCKS", "microsocks", _CANDIDATES, "microsocks")


class MicrosocksServer(ProcessServer):
    """One microsocks process (see the module docstring)."""

    name = "microsocks"
    error = MicrosocksError
    scheme = "socks5"

    def __init__(self, *, auth: Optional[Tuple[str, str]] = None) -> None:
        super().__init__()
        self.executable = find_microsocks()
        self.auth = auth

    def output_text(self) -> str:
        """What microsocks printed so far (for failure messages)."""
        return self.read_file(self.output_name)

    def command(self, directory: pathlib.Path, port: int) -> List[str]:
        arguments = [self.executable, "-i", "127.0.0.1", "-p", str(port)]
        if self.auth is not None:
            arguments += ["-u", self.auth[0], "-P", self.auth[1]]
        return arguments
