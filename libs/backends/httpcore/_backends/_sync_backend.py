# cython: annotation_typing=False
"""The blocking backend: ``SyncBackend`` over plain ``socket``/``ssl`` sockets.

Streams:
- ``SyncStream`` wraps one socket (plain or ``ssl.SSLSocket``). Reads are one ``recv``; the
  socket timeout is changed only when the requested timeout differs from the current one,
  so a sequence of reads with the same timeout costs one ``recv`` each. A write under a
  timeout on a plain socket tries one ``write(2)`` before ``sendall`` (see ``write``).
- ``TLSInTLSStream`` is TLS running inside an already-TLS socket (an HTTPS origin reached
  through an HTTPS proxy). ``ssl.SSLSocket`` cannot be wrapped twice, so the inner session
  is an ``ssl.SSLObject`` driven over two memory BIOs: ``incoming`` holds ciphertext read
  from the outer socket, ``outgoing`` the ciphertext OpenSSL wants sent. Every operation
  runs until OpenSSL stops asking for input, flushing ``outgoing`` after each attempt.
  A third layer is not supported (its ``start_tls`` raises ``NotImplementedError``).
- Neither may be read by one thread while another writes: ``_shared_by_threads`` gives
  the stream that allows it (``_sync_duplex``), for HTTP/2 from threads.

Errors: ``socket.timeout`` maps to the operation's ``*Timeout``, any other ``OSError``
(``ssl.SSLError`` included) to its ``*Error``; the TLS handshake counts as connecting.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
import sys
from typing import Any, Callable, Iterable, List, Optional, TypeVar

from httpcore._core._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)

from ._base import SOCKET_OPTION, NetworkBackend, NetworkStream
from ._sync_duplex import DuplexStream, DuplexTLSInTLSStream
from ._socket_helpers import (
    apply_socket_options,
    enable_tcp_nodelay,
    is_socket_readable,
    readable_poller,
    socket_info,
)

_T = TypeVar("_T")

_POSIX = os.name == "posix"

# How much ciphertext one read of the outer socket asks for when driving the inner TLS.
TLS_IN_TLS_READ_BYTES = 65536


def _closed_error() -> OSError:
    return OSError(errno.EBADF, "The stream was closed.")


class SyncStream(NetworkStream):
    """A blocking stream over one socket, plain or TLS.

    Closing from another thread (a pool closed while its requests run) must neither leave
    a reader blocked until its timeout nor free the socket's descriptor under it: a new
    connection could get the same number, and the blocked call (OpenSSL retrying a read,
    say) would then read that connection's bytes. So ``close`` first shuts the socket down,
    which wakes a blocked ``recv``/``send`` at once, and the descriptor is released by
    whichever of ``close`` and the last running call finishes last (``_calls``: one item
    per call in progress; list appends and pops are atomic under the GIL). A call registers
    itself before it looks at ``_closing``, and ``close`` sets ``_closing`` before it looks
    at ``_calls``: so either the call sees the close and never touches the socket, or the
    close sees the call and leaves the descriptor to it.
    """

    __slots__ = ("_sock", "_timeout", "_calls", "_closing", "_poller", "_write_direct")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        # The timeout currently set on the socket, so that it is changed only when needed.
        self._timeout: Optional[float] = sock.gettimeout()
        self._calls: List[None] = []
        self._closing = False
        # For the "is_readable" probe, made at its first use (``readable_poller``).
        self._poller: Any = None
        # Writes under a timeout try one write(2) first (see ``write``): plain sockets on
        # POSIX, where the socket's descriptor takes write(2); TLS goes through OpenSSL.
        self._write_direct = _POSIX and not isinstance(sock, ssl.SSLSocket)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        sock = self._sock
        calls = self._calls
        calls.append(None)
        try:
            if self._closing:  # after the append: see the class comment
                raise _closed_error()
            if timeout != self._timeout:
                sock.settimeout(timeout)
                self._timeout = timeout
            return sock.recv(max_bytes)
        except socket.timeout as exc:
            raise ReadTimeout(exc) from exc
        except OSError as exc:
            raise ReadError(exc) from exc
        finally:
            calls.pop()
            if self._closing and not calls:
                sock.close()

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        sock = self._sock
        calls = self._calls
        calls.append(None)
        try:
            if self._closing:
                raise _closed_error()
            if timeout != self._timeout:
                sock.settimeout(timeout)
                self._timeout = timeout
            if timeout is not None and self._write_direct:
                # Under a timeout the descriptor is non-blocking and CPython polls before
                # every send; a request usually fits the socket's buffer, so one write(2)
                # sends it without that poll: one system call, and one release of the GIL
                # (each a thread switch when threads contend), fewer per request.
                try:
                    sent = os.write(sock.fileno(), buffer)
                except BlockingIOError:
                    sent = 0
                if sent == len(buffer):
                    return
                sock.sendall(memoryview(buffer)[sent:])
                return
            sock.sendall(buffer)
        except socket.timeout as exc:
            raise WriteTimeout(exc) from exc
        except OSError as exc:
            raise WriteError(exc) from exc
        finally:
            calls.pop()
            if self._closing and not calls:
                sock.close()

    def close(self) -> None:
        sock = self._sock
        self._closing = True
        if self._calls:
            # Another thread is inside a call: wake it; it releases the descriptor.
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass  # Not connected any more: nothing to wake.
            if self._calls:
                return
        sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> NetworkStream:
        sock = self._sock
        if isinstance(sock, ssl.SSLSocket):
            return TLSInTLSStream.connect(sock, ssl_context, server_hostname, timeout)
        try:
            sock.settimeout(timeout)
            self._timeout = timeout
            tls_sock = ssl_context.wrap_socket(sock, server_hostname=server_hostname)
        except socket.timeout as exc:
            sock.close()
            raise ConnectTimeout(exc) from exc
        except OSError as exc:
            sock.close()
            raise ConnectError(exc) from exc
        except BaseException:
            sock.close()
            raise
        return SyncStream(tls_sock)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # First: the pool asks it of an idle connection before every reuse.
            sock = self._sock
            poller = self._poller
            if poller is None and not self._closing:
                poller = self._poller = readable_poller(sock)
            return is_socket_readable(sock, poller)
        if info == "ssl_object":
            sock = self._sock
            # An SSLSocket offers the whole ssl.SSLObject API (ALPN, version, cipher, peer
            # certificate) and stays valid while the stream is open.
            return sock if isinstance(sock, ssl.SSLSocket) else None
        return socket_info(self._sock, info)

    def _shared_by_threads(self) -> NetworkStream:
        # See ``shared_by_threads`` in ``_base``; this stream must not be used afterwards.
        return DuplexStream(self._sock)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._sock!r}>"


class TLSInTLSStream(NetworkStream):
    """A TLS session carried inside the TLS socket ``sock`` (see the module comment)."""

    def __init__(
        self,
        sock: ssl.SSLSocket,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None,
    ) -> None:
        self._sock = sock
        self._timeout: Optional[float] = sock.gettimeout()
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._ssl_object = ssl_context.wrap_bio(
            self._incoming, self._outgoing, server_side=False, server_hostname=server_hostname
        )
        self._eof = False

    @classmethod
    def connect(
        cls,
        sock: ssl.SSLSocket,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None,
        timeout: float | None,
    ) -> TLSInTLSStream:
        """Handshake over ``sock``; on failure ``sock`` is closed and the error mapped."""
        try:
            stream = cls(sock, ssl_context, server_hostname)
            stream._drive(timeout, stream._ssl_object.do_handshake)
        except socket.timeout as exc:
            sock.close()
            raise ConnectTimeout(exc) from exc
        except OSError as exc:
            sock.close()
            raise ConnectError(exc) from exc
        except BaseException:
            sock.close()
            raise
        return stream

    def _drive(self, timeout: float | None, operation: Callable[..., _T], *args: Any) -> _T:
        """Run one SSLObject operation to completion, moving ciphertext through the socket.

        Each round either finishes (the result is returned after flushing what OpenSSL
        produced) or needs more ciphertext, which one ``recv`` supplies; the peer closing
        the outer stream ends the loop with an error from OpenSSL.
        """
        sock = self._sock
        if timeout != self._timeout:
            sock.settimeout(timeout)
            self._timeout = timeout
        while True:
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                pending = self._outgoing.read()
                if pending:
                    sock.sendall(pending)
                if self._incoming.eof:
                    # OpenSSL wants more input after the peer's end of stream: never comes.
                    raise ssl.SSLEOFError(
                        ssl.SSL_ERROR_EOF, "EOF occurred in violation of protocol"
                    )
                data = sock.recv(TLS_IN_TLS_READ_BYTES)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            pending = self._outgoing.read()
            if pending:
                sock.sendall(pending)
            return result

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._eof:
            return b""
        try:
            data: bytes = self._drive(timeout, self._ssl_object.read, max_bytes)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            # The peer closed the inner session (with or without close_notify).
            self._eof = True
            return b""
        except socket.timeout as exc:
            raise ReadTimeout(exc) from exc
        except OSError as exc:
            raise ReadError(exc) from exc
        if not data:
            self._eof = True
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        view = memoryview(buffer)
        try:
            while view:
                written: int = self._drive(timeout, self._ssl_object.write, view)
                view = view[written:]
        except socket.timeout as exc:
            raise WriteTimeout(exc) from exc
        except OSError as exc:
            raise WriteError(exc) from exc

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> NetworkStream:
        raise NotImplementedError("TLS nested more than two levels deep is not supported")

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._ssl_object
        if info == "is_readable":
            if self._ssl_object.pending() or self._incoming.pending:
                return True
            return is_socket_readable(self._sock)
        return socket_info(self._sock, info)

    def _shared_by_threads(self) -> NetworkStream:
        # See ``shared_by_threads`` in ``_base``; this stream must not be used afterwards.
        outer = DuplexStream(self._sock)
        return DuplexTLSInTLSStream(
            outer, self._ssl_object, self._incoming, self._outgoing, self._eof
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._sock!r}>"


class SyncBackend(NetworkBackend):
    """Blocking network I/O with the ``socket`` and ``ssl`` modules."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        """Connect to ``host:port`` trying each resolved address in turn.

        Options are set before connecting (so that ones affecting the handshake, such as
        buffer sizes, take effect); ``TCP_NODELAY`` is always on.
        """
        options = list(socket_options) if socket_options is not None else []
        source = (local_address, 0) if local_address is not None else None
        try:
            addresses = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except OSError as exc:
            raise ConnectError(exc) from exc
        last_error: Optional[OSError] = None
        for family, kind, proto, _, address in addresses:
            sock = socket.socket(family, kind, proto)
            try:
                apply_socket_options(sock, options)
                enable_tcp_nodelay(sock)
                sock.settimeout(timeout)
                if source is not None:
                    sock.bind(source)
                sock.connect(address)
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            except BaseException:
                sock.close()
                raise
            return SyncStream(sock)
        if last_error is None:  # getaddrinfo returned nothing: not expected, but be clear
            last_error = OSError(f"no addresses found for {host!r}")
        if isinstance(last_error, socket.timeout):
            raise ConnectTimeout(last_error) from last_error
        raise ConnectError(last_error) from last_error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        if sys.platform == "win32":
            raise RuntimeError("UNIX domain sockets are not available on Windows.")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            apply_socket_options(sock, socket_options or ())
            sock.settimeout(timeout)
            sock.connect(path)
        except socket.timeout as exc:
            sock.close()
            raise ConnectTimeout(exc) from exc
        except OSError as exc:
            sock.close()
            raise ConnectError(exc) from exc
        except BaseException:
            sock.close()
            raise
        return SyncStream(sock)
