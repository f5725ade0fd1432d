"""``AnyIOBackend``: network I/O through anyio's streams (runs under asyncio and trio).

anyio is an optional extra: it is imported when the backend is constructed, and a missing
anyio is a ``RuntimeError`` then, never at import of this module.
"""

from __future__ import annotations

import ssl
import sys
from typing import TYPE_CHECKING, Any, Iterable

from httpcore._core._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)

from ._base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream
from ._socket_helpers import apply_socket_options, enable_tcp_nodelay, is_socket_readable

if TYPE_CHECKING:
    import anyio
    import anyio.abc


def _import_anyio() -> None:
    try:
        import anyio  # noqa: F401
        import anyio.streams.tls  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "httpcore.AnyIOBackend needs the 'anyio' package: pip install httpcore[asyncio]"
        ) from exc


class AnyIOStream(AsyncNetworkStream):
    """A stream over an anyio byte stream (socket or TLS)."""

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream
        self._eof = False  # the peer ended the stream; reads answer b"" until closed

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import anyio

        if self._eof:
            return b""
        try:
            if timeout is None:
                return await self._stream.receive(max_bytes)
            with anyio.fail_after(timeout):
                return await self._stream.receive(max_bytes)
        except anyio.EndOfStream:
            # Later reads answer b"" again, whatever the stream would do after its end.
            self._eof = True
            return b""
        except TimeoutError as exc:
            raise ReadTimeout(exc) from exc
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise ReadError(exc) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        import anyio

        try:
            if timeout is None:
                await self._stream.send(buffer)
                return
            with anyio.fail_after(timeout):
                await self._stream.send(buffer)
        except TimeoutError as exc:
            raise WriteTimeout(exc) from exc
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise WriteError(exc) from exc

    async def aclose(self) -> None:
        self._eof = False  # reading a closed stream is an error, not an end
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        import anyio
        from anyio.streams.tls import TLSStream

        try:
            with anyio.fail_after(timeout):
                tls_stream = await TLSStream.wrap(
                    self._stream,
                    ssl_context=ssl_context,
                    hostname=server_hostname,
                    standard_compatible=False,
                    server_side=False,
                )
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await self._stream.aclose()
            if isinstance(exc, TimeoutError):
                raise ConnectTimeout(exc) from exc
            if isinstance(exc, (anyio.BrokenResourceError, anyio.EndOfStream, OSError)):
                raise ConnectError(exc) from exc
            raise
        return AnyIOStream(tls_stream)

    def get_extra_info(self, info: str) -> Any:
        from anyio.abc import SocketAttribute
        from anyio.streams.tls import TLSAttribute

        if info == "ssl_object":
            return self._stream.extra(TLSAttribute.ssl_object, None)
        if info == "client_addr":
            return self._stream.extra(SocketAttribute.local_address, None)
        if info == "server_addr":
            return self._stream.extra(SocketAttribute.remote_address, None)
        if info == "socket":
            return self._stream.extra(SocketAttribute.raw_socket, None)
        if info == "is_readable":
            ssl_object = self._stream.extra(TLSAttribute.ssl_object, None)
            if ssl_object is not None and ssl_object.pending():
                return True
            return is_socket_readable(self._stream.extra(SocketAttribute.raw_socket, None))
        return None


class AnyIOBackend(AsyncNetworkBackend):
    """Network I/O through anyio; needs the ``anyio`` package (``httpcore[asyncio]``)."""

    def __init__(self) -> None:
        _import_anyio()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        import anyio

        try:
            with anyio.fail_after(timeout):
                stream: anyio.abc.ByteStream = await anyio.connect_tcp(
                    host, port, local_host=local_address
                )
        except TimeoutError as exc:
            raise ConnectTimeout(exc) from exc
        except (anyio.BrokenResourceError, OSError) as exc:
            raise ConnectError(exc) from exc
        return await _with_options(stream, socket_options, tcp=True)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        if sys.platform == "win32":
            raise RuntimeError("UNIX domain sockets are not available on Windows.")
        import anyio

        try:
            with anyio.fail_after(timeout):
                stream: anyio.abc.ByteStream = await anyio.connect_unix(path)
        except TimeoutError as exc:
            raise ConnectTimeout(exc) from exc
        except (anyio.BrokenResourceError, OSError) as exc:
            raise ConnectError(exc) from exc
        return await _with_options(stream, socket_options, tcp=False)

    async def sleep(self, seconds: float) -> None:
        import anyio

        await anyio.sleep(seconds)


async def _with_options(
    stream: anyio.abc.ByteStream, socket_options: Iterable[SOCKET_OPTION] | None, tcp: bool
) -> AnyIOStream:
    """Apply the options (and TCP_NODELAY for TCP) to the connected socket.

    The stream is closed if the socket refuses an option.
    """
    import anyio
    from anyio.abc import SocketAttribute

    if socket_options is not None or tcp:
        try:
            sock = stream.extra(SocketAttribute.raw_socket)
            apply_socket_options(sock, socket_options or ())
            if tcp:
                enable_tcp_nodelay(sock)
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await stream.aclose()
            if isinstance(exc, OSError):
                raise ConnectError(exc) from exc
            raise
    return AnyIOStream(stream)
