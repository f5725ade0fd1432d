"""A network backend on a fake clock, to test the total deadline without waiting.

``ClockBackend`` wraps another backend (the in-memory servers of ``_faults``). Every
operation costs ``step`` seconds of the fake ``Clock``, which the tests install as the
deadline's clock, and is recorded with the timeout it was given. An operation whose
timeout is shorter than ``step`` uses up that timeout and raises the timeout error a real
backend would: so a request runs exactly as it would against a server that takes ``step``
seconds per operation, and no test depends on the machine's speed.

Reads hand out at most ``chunk`` bytes each, so that a response takes many reads.
"""

from __future__ import annotations

import dataclasses
import ssl
from typing import Any, Iterable, List, Optional, Tuple, Type

from httpcore._backends._base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream
from httpcore._core._exceptions import ConnectTimeout, ReadTimeout, WriteTimeout


@dataclasses.dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclasses.dataclass
class Operation:
    name: str
    # The fake time when it began, and the timeout it was given.
    started: float
    timeout: Optional[float]


class ClockBackend(AsyncNetworkBackend):
    def __init__(
        self, inner: AsyncNetworkBackend, clock: Clock, step: float = 1.0, chunk: int = 4
    ) -> None:
        self.inner = inner
        self.clock = clock
        self.step = step
        self.chunk = chunk
        self.operations: List[Operation] = []

    def spend(self, name: str, timeout: Optional[float], error: Type[Exception]) -> None:
        """Record an operation and advance the clock; raise ``error`` if it times out."""
        clock = self.clock
        self.operations.append(Operation(name, clock.now, timeout))
        if timeout is not None and timeout < self.step:
            clock.now += max(timeout, 0.0)
            raise error("timed out")
        clock.now += self.step

    def timeouts(self, name: str) -> List[Tuple[float, Optional[float]]]:
        """(start, timeout) of every ``name`` operation, in order."""
        return [(op.started, op.timeout) for op in self.operations if op.name == name]

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        self.spend("connect_tcp", timeout, ConnectTimeout)
        stream = await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return ClockStream(self, stream)

    async def sleep(self, seconds: float) -> None:
        self.clock.now += seconds


class ClockStream(AsyncNetworkStream):
    def __init__(self, backend: ClockBackend, inner: AsyncNetworkStream) -> None:
        self._backend = backend
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._backend.spend("read", timeout, ReadTimeout)
        return await self._inner.read(min(max_bytes, self._backend.chunk), timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._backend.spend("write", timeout, WriteTimeout)
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        self._backend.spend("start_tls", timeout, ConnectTimeout)
        inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return ClockStream(self._backend, inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)
