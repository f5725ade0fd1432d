"""``TrioBackend``: network I/O with trio's streams.

trio is an optional extra: it is imported when the backend is constructed, and a missing
trio is a ``RuntimeError`` then, never at import of this module.
"""

from __future__ import annotations

import math
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
from ._socket_helpers import apply_socket_options

if TYPE_CHECKING:
    import trio

TRIO_MISSING_MESSAGE = "httpcore.TrioBackend needs the 'trio' package: pip install httpcore[trio]"


def _import_trio() -> None:
    try:
        import trio  # noqa: F401
    except (ImportError, NotImplementedError) as exc:  # pragma: no cover - environment
        raise RuntimeError(TRIO_MISSING_MESSAGE) from exc


def _limit(timeout: float | None) -> float:
    return math.inf if timeout is None else timeout


class TrioStream(AsyncNetworkStream):
    """A stream over a trio socket stream or a trio SSL stream."""

    def __init__(self, stream: trio.SocketStream | trio.SSLStream[Any]) -> None:
        self._stream = stream
        self._eof = False  # the peer ended the stream; reads answer b"" until closed

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import trio

        if self._eof:
            return b""
        try:
            if timeout is None:
                data = await self._stream.receive_some(max_bytes)
            else:
                with trio.fail_after(timeout):
                    data = await self._stream.receive_some(max_bytes)
        except trio.TooSlowError as exc:
            raise ReadTimeout(exc) from exc
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise ReadError(exc) from exc
        if not data:
            # trio's TLS stream fails reads after a clean end; keep answering b"" instead.
            self._eof = True
        return data if isinstance(data, bytes) else bytes(data)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        import trio

        try:
            if timeout is None:
                await self._stream.send_all(buffer)
                return
            with trio.fail_after(timeout):
                await self._stream.send_all(buffer)
        except trio.TooSlowError as exc:
            raise WriteTimeout(exc) from exc
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
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
        import trio

        tls_stream = trio.SSLStream(
            self._stream,
            ssl_context=ssl_context,
            server_hostname=server_hostname,
            https_compatible=True,
            server_side=False,
        )
        try:
            with trio.fail_after(_limit(timeout)):
                await tls_stream.do_handshake()
        except BaseException as exc:
            with trio.CancelScope(shield=True):
                await self._stream.aclose()
            if isinstance(exc, trio.TooSlowError):
                raise ConnectTimeout(exc) from exc
            if isinstance(exc, (trio.BrokenResourceError, trio.ClosedResourceError, OSError)):
                raise ConnectError(exc) from exc
            raise
        return TrioStream(tls_stream)

    def _socket(self) -> Any:
        import trio

        stream: Any = self._stream
        while isinstance(stream, trio.SSLStream):
            stream = stream.transport_stream
        return stream.socket if isinstance(stream, trio.SocketStream) else None

    def get_extra_info(self, info: str) -> Any:
        import trio

        if info == "ssl_object":
            # trio's SSLStream answers the ssl.SSLObject API (ALPN, version, cipher, ...).
            return self._stream if isinstance(self._stream, trio.SSLStream) else None
        sock = self._socket()
        if info == "socket":
            return sock
        if info == "is_readable":
            if isinstance(self._stream, trio.SSLStream) and self._stream.pending():
                return True
            if sock is None or sock.fileno() < 0:
                return True
            return bool(sock.is_readable())
        try:
            if info == "client_addr":
                return sock.getsockname() if sock is not None else None
            if info == "server_addr":
                return sock.getpeername() if sock is not None else None
        except OSError:
            return None
        return None


class TrioBackend(AsyncNetworkBackend):
    """Network I/O with trio; needs the ``trio`` package (``httpcore[trio]``)."""

    def __init__(self) -> None:
        _import_trio()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        import trio

        try:
            with trio.fail_after(_limit(timeout)):
                stream = await trio.open_tcp_stream(host, port, local_address=local_address)
        except trio.TooSlowError as exc:
            raise ConnectTimeout(exc) from exc
        except (trio.BrokenResourceError, OSError) as exc:
            raise ConnectError(exc) from exc
        return await _with_options(stream, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        if sys.platform == "win32":
            raise RuntimeError("UNIX domain sockets are not available on Windows.")
        import trio

        try:
            with trio.fail_after(_limit(timeout)):
                stream = await trio.open_unix_socket(path)
        except trio.TooSlowError as exc:
            raise ConnectTimeout(exc) from exc
        except (trio.BrokenResourceError, OSError) as exc:
            raise ConnectError(exc) from exc
        return await _with_options(stream, socket_options)

    async def sleep(self, seconds: float) -> None:
        import trio

        await trio.sleep(seconds)


async def _with_options(
    stream: trio.SocketStream, socket_options: Iterable[SOCKET_OPTION] | None
) -> TrioStream:
    """Apply the options to the connected socket; close the stream if one is refused.

    (trio's SocketStream turns TCP_NODELAY on by itself.)
    """
    import trio

    if socket_options is not None:
        try:
            apply_socket_options(stream.socket, socket_options)
        except BaseException as exc:
            with trio.CancelScope(shield=True):
                await stream.aclose()
            if isinstance(exc, OSError):
                raise ConnectError(exc) from exc
            raise
    return TrioStream(stream)
