"""A real SOCKS5 proxy (microsocks) on loopback, for the proxy integration tests.

``MicrosocksServer.start()`` runs ``microsocks -i 127.0.0.1 -p PORT`` (in the foreground:
microsocks never daemonizes) on a free port, from a fresh temporary directory that holds
its output. ``auth=(user, password)`` adds ``-u USER -P PASSWORD``: microsocks then offers
only username/password authentication (RFC 1929) and rejects wrong credentials.
microsocks connects wherever the client asks; the tests only ask for 127.0.0.1 origins.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import tempfile
from typing import List, Optional, Tuple

from tools.servers._process import (
    ServerError,
    find_executable,
    read_text,
    start_on_free_port,
    stop_process,
)

_CANDIDATES = ("/usr/bin/microsocks", "/usr/local/bin/microsocks")


class MicrosocksError(ServerError):
    """microsocks is missing, or did not start."""


def find_microsocks() -> str:
    """The microsocks executable: ``$MICROSOCKS``, else PATH, else the usual places."""
    return find_executable("MICROSOCKS", "microsocks", _CANDIDATES, "microsocks")


class MicrosocksServer:
    """One microsocks process (see the module docstring)."""

    def __init__(self, *, auth: Optional[Tuple[str, str]] = None) -> None:
        self.executable = find_microsocks()
        self.auth = auth
        self._directory: Optional[pathlib.Path] = None
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._port: Optional[int] = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise MicrosocksError("microsocks is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    @property
    def process(self) -> Optional[subprocess.Popen[bytes]]:
        return self._process

    def output_text(self) -> str:
        """What microsocks printed so far (for failure messages)."""
        if self._directory is None:
            return ""
        return read_text(self._directory / "output.log")

    def start(self) -> MicrosocksServer:
        if self._process is not None:
            raise MicrosocksError("microsocks is already running")
        directory = self._directory = pathlib.Path(tempfile.mkdtemp(prefix="httpcore-microsocks-"))
        try:

            def command(port: int) -> List[str]:
                arguments = [self.executable, "-i", "127.0.0.1", "-p", str(port)]
                if self.auth is not None:
                    arguments += ["-u", self.auth[0], "-P", self.auth[1]]
                return arguments

            try:
                self._process, self._port = start_on_free_port(
                    "microsocks", command, directory / "output.log"
                )
            except ServerError as error:
                raise MicrosocksError(str(error)) from None
            return self
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop microsocks (bounded) and remove the directory. Idempotent."""
        process, self._process = self._process, None
        self._port = None
        try:
            if process is not None:
                stop_process(process)
        finally:
            if self._directory is not None:
                shutil.rmtree(self._directory, ignore_errors=True)
                self._directory = None

    def __enter__(self) -> MicrosocksServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
