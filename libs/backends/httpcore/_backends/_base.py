"""The network backend interfaces: what the connection layer needs from a socket.

A backend opens streams (TCP or UNIX); a stream reads, writes, upgrades itself to TLS and
answers a few questions about itself (``get_extra_info``). Each interface exists twice,
blocking (``NetworkBackend``/``NetworkStream``) and async (``AsyncNetworkBackend``/
``AsyncNetworkStream``). The base classes are usable as partial implementations: test code
subclasses them and overrides only what it needs, so every method has a default (most raise
``NotImplementedError``; ``get_extra_info`` answers ``None``).

Contract for implementations:
- ``read(max_bytes)`` returns between 1 and ``max_bytes`` bytes, or ``b""`` at end of stream
  (the mock streams alone return whole scripted items, whatever ``max_bytes``).
- ``write(buffer)`` sends the whole buffer; an empty buffer is a no-op.
- failures surface as the ``httpcore`` exceptions (``ConnectError``/``ConnectTimeout`` for
  connecting and TLS handshakes, ``ReadError``/``ReadTimeout``, ``WriteError``/
  ``WriteTimeout``), built with the original exception as their only argument and chained
  to it.
- ``start_tls`` returns the stream to use from then on; if the handshake fails, the original
  stream is closed before the error propagates.
- ``timeout=None`` means no limit; a timeout bounds one operation, not a sequence of them.
"""

from __future__ import annotations

import ssl
import time
from typing import Any, Iterable, Tuple, Union

SOCKET_OPTION = Union[
    Tuple[int, int, int],
    Tuple[int, int, Union[bytes, bytearray]],
    Tuple[int, int, None, int],
]
"""The arguments of one ``socket.setsockopt(*option)`` call."""


class NetworkStream:
    """A blocking byte stream to one peer."""

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Return up to ``max_bytes`` bytes; ``b""`` means the peer closed the stream."""
        raise NotImplementedError()

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send all of ``buffer``."""
        raise NotImplementedError()

    def close(self) -> None:
        """Close the stream; further reads and writes fail."""
        raise NotImplementedError()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> NetworkStream:
        """Run a client TLS handshake over this stream and return the TLS stream."""
        raise NotImplementedError()

    def get_extra_info(self, info: str) -> Any:
        """One of ``ssl_object``, ``client_addr``, ``server_addr``, ``socket``, ``is_readable``."""
        return None


class NetworkBackend:
    """Opens blocking network streams."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        """Open a TCP connection to ``host:port``."""
        raise NotImplementedError()

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        """Open a connection to the UNIX domain socket at ``path``."""
        raise NotImplementedError()

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds`` (used between connection retries)."""
        time.sleep(seconds)


class AsyncNetworkStream:
    """An async byte stream to one peer."""

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Return up to ``max_bytes`` bytes; ``b""`` means the peer closed the stream."""
        raise NotImplementedError()

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send all of ``buffer``."""
        raise NotImplementedError()

    async def aclose(self) -> None:
        """Close the stream; further reads and writes fail."""
        raise NotImplementedError()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        """Run a client TLS handshake over this stream and return the TLS stream."""
        raise NotImplementedError()

    def get_extra_info(self, info: str) -> Any:
        """One of ``ssl_object``, ``client_addr``, ``server_addr``, ``socket``, ``is_readable``."""
        return None


class AsyncNetworkBackend:
    """Opens async network streams."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """Open a TCP connection to ``host:port``."""
        raise NotImplementedError()

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """Open a connection to the UNIX domain socket at ``path``."""
        raise NotImplementedError()

    async def sleep(self, seconds: float) -> None:
        """Wait for ``seconds`` (used between connection retries)."""
        raise NotImplementedError()


__all__ = [
    "SOCKET_OPTION",
    "NetworkStream",
    "NetworkBackend",
    "AsyncNetworkStream",
    "AsyncNetworkBackend",
]


def shared_by_threads(stream: Any) -> Any:
    """The stream to use from now on when one thread may read ``stream`` while another
    writes to it (HTTP/2 from threads): the sync backend's streams cannot allow that as
    they are and give a version that does; any other stream is returned unchanged (event
    loop streams allow it, and a custom stream is taken at its word).
    """
    make_shared = getattr(stream, "_shared_by_threads", None)
    return stream if make_shared is None else make_shared()
