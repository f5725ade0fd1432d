"""Mock network backend: streams that replay scripted bytes, for tests.

Every connection replays a copy of the whole script from its start; a read returns the next
whole item of the script (``max_bytes`` is ignored), then ``b""`` once it is used up.
Writes are accepted and dropped; TLS is a no-op that keeps the same stream, and the stream
reports an ALPN protocol (``"h2"`` when ``http2`` is set, else ``"http/1.1"``) even on plain
connections, so that ``http2=True`` drives HTTP/2 for ``http://`` URLs too.
"""

from __future__ import annotations

import ssl
from typing import Any, Iterable, List

from httpcore._core._exceptions import ReadError

from .._base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream


class MockSSLObject:
    """The one ``ssl.SSLObject`` method the connection layer asks a mock: the ALPN result."""

    def __init__(self, http2: bool) -> None:
        self._http2 = http2

    def selected_alpn_protocol(self) -> str:
        return "h2" if self._http2 else "http/1.1"


class AsyncMockStream(AsyncNetworkStream):
    """Replays ``buffer`` item by item; see the module comment."""

    def __init__(self, buffer: List[bytes], http2: bool = False) -> None:
        self._buffer = buffer
        self._http2 = http2
        self._closed = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._closed:
            raise ReadError("Connection closed")
        if not self._buffer:
            return b""
        return self._buffer.pop(0)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        pass

    async def aclose(self) -> None:
        self._closed = True

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        return self

    def get_extra_info(self, info: str) -> Any:
        return MockSSLObject(http2=self._http2) if info == "ssl_object" else None

    def __repr__(self) -> str:
        return "<httpcore.AsyncMockStream>"


class AsyncMockBackend(AsyncNetworkBackend):
    """Every connection gets a stream (``AsyncMockStream``) over a fresh copy of ``buffer``."""

    def __init__(self, buffer: List[bytes], http2: bool = False) -> None:
        self._buffer = buffer
        self._http2 = http2

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        return AsyncMockStream(list(self._buffer), http2=self._http2)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        return AsyncMockStream(list(self._buffer), http2=self._http2)

    async def sleep(self, seconds: float) -> None:
        pass
