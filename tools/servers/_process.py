"""Shared plumbing of the proxy launchers (tinyproxy, stunnel, microsocks).

Each launcher runs one foreground process bound to 127.0.0.1 on a free port, from a fresh
temporary directory. The steps they share live here so that the waits are bounded the same
way everywhere: find the executable (an env-var override, PATH, the Debian path, else an
error naming the apt package: a missing server must fail the tests, never skip them), start
with retries when another process grabbed the port first, wait until the port accepts TCP
connections, stop with SIGTERM, a bounded wait, then SIGKILL. ``ProcessServer`` is the
life cycle they share; each launcher gives its name, error type, files and command.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Callable, List, Optional, Sequence, Tuple, Type, TypeVar

READY_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
START_ATTEMPTS = 3
_POLL_INTERVAL_S = 0.02


class ServerError(RuntimeError):
    """A proxy server is missing, or did not start."""


def find_executable(env_var: str, name: str, candidates: Sequence[str], package: str) -> str:
    """``$env_var``, else ``name`` on PATH, else the first executable of ``candidates``."""
    explicit = os.environ.get(env_var)
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise ServerError(f"${env_var} is {explicit!r}, which is not an executable file")
        return explicit
    found = shutil.which(name)
    if found:
        return found
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise ServerError(
        f"{name} not found (looked at ${env_var}, PATH and "
        + ", ".join(candidates)
        + f"): the proxy integration tests need it; on Debian: apt-get install {package}"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, a bounded wait, then SIGKILL (and a bounded wait for the reaping)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


def start_on_free_port(
    name: str,
    command_for_port: Callable[[int], List[str]],
    output_path: pathlib.Path,
    extra_logs: Sequence[pathlib.Path] = (),
) -> Tuple[subprocess.Popen[bytes], int]:
    """Start ``command_for_port(port)`` until it listens; retried on a fresh port if it dies.

    A death is most likely a port taken between ``free_port()`` and the server's bind, so
    each attempt picks a new port. stdout and stderr go to ``output_path``.
    """
    problem = ""
    for _ in range(START_ATTEMPTS):
        port = free_port()
        with open(output_path, "wb") as output:
            process = subprocess.Popen(
                command_for_port(port),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while process.poll() is None and time.monotonic() < deadline:
            if accepts(port):
                return process, port
            time.sleep(_POLL_INTERVAL_S)
        stop_process(process)
        problem = f"exit status {process.returncode}:\n" + read_text(output_path)
        for log in extra_logs:
            problem += read_text(log)
    raise ServerError(f"{name} did not start: {problem}")


def read_text(path: Optional[pathlib.Path]) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


_Server = TypeVar("_Server", bound="ProcessServer")


class ProcessServer:
    """One foreground server process on a free port of 127.0.0.1, run from a fresh
    temporary directory that ``stop()`` removes.

    A launcher sets ``name`` (also the directory prefix), ``error`` (its ``ServerError``
    subclass), ``scheme`` (of ``url``), ``output_name`` (the file that gets stdout and
    stderr) and ``log_names`` (more files quoted when a start fails), and implements
    ``command``; ``prepare`` writes what the process needs before it starts.
    """

    name = ""
    error: Type[ServerError] = ServerError
    scheme = "http"
    output_name = "output.log"
    log_names: Sequence[str] = ()

    def __init__(self) -> None:
        self._directory: Optional[pathlib.Path] = None
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._port: Optional[int] = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise self.error(f"{self.name} is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def process(self) -> Optional[subprocess.Popen[bytes]]:
        """The running process, if any (tests check it is gone after ``stop()``)."""
        return self._process

    def read_file(self, name: str) -> str:
        """A file of the directory ("" before start and after stop)."""
        if self._directory is None:
            return ""
        return read_text(self._directory / name)

    def prepare(self, directory: pathlib.Path) -> None:
        """Write what the process needs into ``directory`` (before ``command``)."""

    def command(self, directory: pathlib.Path, port: int) -> List[str]:
        raise NotImplementedError()

    def start(self: _Server) -> _Server:
        if self._process is not None:
            raise self.error(f"{self.name} is already running")
        directory = pathlib.Path(tempfile.mkdtemp(prefix=f"httpcore-{self.name}-"))
        self._directory = directory
        try:
            self.prepare(directory)
            try:
                self._process, self._port = start_on_free_port(
                    self.name,
                    lambda port: self.command(directory, port),
                    directory / self.output_name,
                    [directory / name for name in self.log_names],
                )
            except ServerError as error:
                if isinstance(error, self.error):
                    raise
                raise self.error(str(error)) from None
            return self
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the process (bounded) and remove the directory. Idempotent."""
        process, self._process = self._process, None
        self._port = None
        try:
            if process is not None:
                stop_process(process)
        finally:
            if self._directory is not None:
                shutil.rmtree(self._directory, ignore_errors=True)
                self._directory = None

    def __enter__(self: _Server) -> _Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
