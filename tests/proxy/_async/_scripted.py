"""A scripted network backend for the proxy tests: every connection replays its own list of
reads, and everything the client does (connects, writes, TLS upgrades, closes) is
recorded in one shared log, in order."""

from __future__ import annotations

import ssl
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

from httpcore._backends._async.mock import MockSSLObject
from httpcore._backends._base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream
from httpcore._core._exceptions import ConnectError

Event = Tuple[str, Any]
# What one read of a scripted stream gives: bytes, or an exception to raise.
Script = Union[bytes, Exception]


class ScriptedStream(AsyncNetworkStream):
    """Replays ``reads``, one item per read, or part of it when the read asks for fewer
    bytes (the rest comes next, as from a socket); an exception item is raised instead; ``ssl_object`` exists only after
    ``start_tls`` and negotiates "h2" when ``h2`` is true and the context offers it."""

    def __init__(self, reads: List[Script], log: List[Event], h2: bool) -> None:
        self._reads = reads
        self._log = log
        self._h2 = h2
        self._tls: Optional[MockSSLObject] = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._log.append(("read_timeout", timeout))
        if not self._reads:
            return b""
        item = self._reads[0]
        if isinstance(item, Exception):
            self._reads.pop(0)
            raise item
        if len(item) > max_bytes:
            self._reads[0] = item[max_bytes:]
            return item[:max_bytes]
        self._reads.pop(0)
        return item

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._log.append(("write", buffer))

    async def aclose(self) -> None:
        self._log.append(("close", None))

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        self._log.append(("start_tls", (ssl_context, server_hostname, timeout)))
        self._tls = MockSSLObject(http2=self._h2)
        return self

    def get_extra_info(self, info: str) -> Any:
        return self._tls if info == "ssl_object" else None


class ScriptedBackend(AsyncNetworkBackend):
    """Connection ``i`` replays ``scripts[i]``; the first ``failures`` connects fail."""

    def __init__(self, *scripts: Sequence[Script], h2: bool = False, failures: int = 0) -> None:
        self._scripts = [list(script) for script in scripts]
        self._h2 = h2
        self._failures = failures
        self.log: List[Event] = []

    def writes(self) -> List[bytes]:
        return [value for kind, value in self.log if kind == "write"]

    def events(self, kind: str) -> List[Any]:
        return [value for name, value in self.log if name == kind]

    def _stream(self) -> AsyncNetworkStream:
        if self._failures:
            self._failures -= 1
            raise ConnectError("refused")
        return ScriptedStream(self._scripts.pop(0), self.log, self._h2)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        self.log.append(("connect_tcp", (host, port, timeout, local_address, socket_options)))
        return self._stream()

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        self.log.append(("connect_unix_socket", (path, timeout, socket_options)))
        return self._stream()

    async def sleep(self, seconds: float) -> None:
        self.log.append(("sleep", seconds))
