"""TLS carried over any async stream, with ``ssl.SSLObject`` and two memory BIOs.

Used where the event loop cannot layer TLS on a transport that is already TLS (asyncio
before Python 3.11, for an HTTPS origin reached through an HTTPS proxy). ``incoming``
holds ciphertext read from the outer stream, ``outgoing`` the ciphertext OpenSSL wants
sent; each SSLObject operation is retried until OpenSSL stops asking for input, flushing
``outgoing`` after each attempt. Errors of the outer stream are re-labelled for the
operation in progress (a write failure during the handshake is a ``ConnectError``, during a
read a ``ReadError``), keeping the original exception as the argument and cause.
"""

from __future__ import annotations

import ssl
from typing import Any, Callable, NoReturn, Optional, Type, TypeVar

from httpcore._core._exceptions import (
    ConnectError,
    ConnectTimeout,
    NetworkError,
    ReadError,
    ReadTimeout,
    TimeoutException,
    WriteError,
    WriteTimeout,
)

from ._base import AsyncNetworkStream

_T = TypeVar("_T")

# How much ciphertext one read of the outer stream asks for.
OUTER_READ_BYTES = 65536


def _relabel(exc: Exception, new_type: Type[Exception]) -> NoReturn:
    """Raise ``new_type`` for ``exc``, carrying the root error when ``exc`` was itself mapped."""
    original = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
    raise new_type(original) from original


class AsyncTLSOverStream(AsyncNetworkStream):
    """A client TLS session whose records travel over ``outer``."""

    def __init__(
        self,
        outer: AsyncNetworkStream,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None,
    ) -> None:
        self._outer = outer
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._ssl_object = ssl_context.wrap_bio(
            self._incoming, self._outgoing, server_side=False, server_hostname=server_hostname
        )
        self._eof = False

    @classmethod
    async def connect(
        cls,
        outer: AsyncNetworkStream,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None,
        timeout: float | None,
    ) -> AsyncTLSOverStream:
        """Handshake over ``outer``; on failure ``outer`` is closed and the error mapped."""
        try:
            stream = cls(outer, ssl_context, server_hostname)
            await stream._drive(timeout, stream._ssl_object.do_handshake)
        except BaseException as exc:
            await outer.aclose()
            if isinstance(exc, TimeoutException):
                _relabel(exc, ConnectTimeout)
            if isinstance(exc, NetworkError):
                _relabel(exc, ConnectError)
            if isinstance(exc, OSError):  # ssl.SSLError and certificate failures
                raise ConnectError(exc) from exc
            raise
        return stream

    async def _drive(self, timeout: float | None, operation: Callable[..., _T], *args: Any) -> _T:
        """Run one SSLObject operation to completion, moving ciphertext through ``outer``."""
        while True:
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                pending = self._outgoing.read()
                if pending:
                    await self._outer.write(pending, timeout)
                if self._incoming.eof:
                    # OpenSSL wants more input after the peer's end of stream: never comes.
                    raise ssl.SSLEOFError(
                        ssl.SSL_ERROR_EOF, "EOF occurred in violation of protocol"
                    )
                data = await self._outer.read(OUTER_READ_BYTES, timeout)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            pending = self._outgoing.read()
            if pending:
                await self._outer.write(pending, timeout)
            return result

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._eof:
            return b""
        try:
            data: bytes = await self._drive(timeout, self._ssl_object.read, max_bytes)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            # The peer closed the inner session (with or without close_notify).
            self._eof = True
            return b""
        except (ReadError, ReadTimeout):
            raise
        except WriteTimeout as exc:
            _relabel(exc, ReadTimeout)
        except WriteError as exc:
            _relabel(exc, ReadError)
        except OSError as exc:
            raise ReadError(exc) from exc
        if not data:
            self._eof = True
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        view = memoryview(buffer)
        try:
            while view:
                written: int = await self._drive(timeout, self._ssl_object.write, view)
                view = view[written:]
        except (WriteError, WriteTimeout):
            raise
        except ReadTimeout as exc:
            _relabel(exc, WriteTimeout)
        except ReadError as exc:
            _relabel(exc, WriteError)
        except OSError as exc:
            raise WriteError(exc) from exc

    async def aclose(self) -> None:
        await self._outer.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        raise NotImplementedError("TLS nested more than two levels deep is not supported")

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._ssl_object
        if info == "is_readable":
            if self._ssl_object.pending() or self._incoming.pending:
                return True
        value: Optional[Any] = self._outer.get_extra_info(info)
        return value
