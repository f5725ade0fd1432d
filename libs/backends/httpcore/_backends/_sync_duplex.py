"""Blocking streams that one thread may read while another writes (HTTP/2 from threads).

The sync HTTP/2 connection lets one request's thread read the socket while another's
writes to it. ``SyncStream`` cannot allow that, for two reasons:
- the timeout is a property of the socket: ``settimeout`` by the writer switches the file
  descriptor between blocking and non-blocking under a reader already past its own
  ``settimeout``, which then spins on EAGAIN, fails with ``BlockingIOError``, or times out
  at once;
- an ``ssl.SSLSocket`` is one OpenSSL ``SSL`` object, which must not be used by two
  threads at once: ``SSL_read`` and ``SSL_write`` share state (the "want read/write" flag
  ``SSL_get_error`` consults, among others), so a read overlapping a write can report a
  spurious end of stream that ``SSLSocket.recv`` turns into ``b""``, a "Server
  disconnected" out of nowhere.

So the streams here keep the socket non-blocking for good, hold a lock only around each
non-blocking OpenSSL call, and wait for readiness with ``poll`` outside the lock, with a
deadline per operation. A ``SyncStream`` is the faster choice wherever one thread at a
time uses the stream (HTTP/1.1), so these are made from one on request: ``shared_by_threads``
in ``_base``. At most one reader and one writer at a time; writes are serialised.
"""

from __future__ import annotations

import errno
import select
import socket
import ssl
import threading
import time
from typing import Any, Callable, Optional, TypeVar

from httpcore._core._exceptions import ReadError, ReadTimeout, WriteError, WriteTimeout

from ._base import NetworkStream
from ._socket_helpers import is_socket_readable, socket_info

_T = TypeVar("_T")

_HAS_POLL = hasattr(select, "poll")
_READABLE = select.POLLIN if _HAS_POLL else 1
_WRITABLE = select.POLLOUT if _HAS_POLL else 4
# How much ciphertext one read of the outer socket asks for when driving the inner TLS.
_TLS_IN_TLS_READ_BYTES = 65536


class _Expired(Exception):
    """An operation's deadline passed while it waited."""


def _deadline(timeout: float | None) -> Optional[float]:
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: Optional[float]) -> Optional[float]:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Expired()
    return left


def _wait(fd: int, events: int, deadline: Optional[float]) -> None:
    """Block until ``fd`` is ready for ``events`` (or in error), or the deadline passes.

    A poll object per wait: one cannot be polled by two threads at once, and the reader
    and the writer each wait here.
    """
    if fd < 0:
        raise OSError(errno.EBADF, "the socket is closed")
    left = _remaining(deadline)
    if _HAS_POLL:
        poller = select.poll()
        poller.register(fd, events)
        ready = bool(poller.poll(None if left is None else max(1, int(left * 1000 + 0.999))))
    else:  # pragma: no cover - Windows has no poll
        readers = [fd] if events == _READABLE else []
        writers = [fd] if events == _WRITABLE else []
        ready = any(select.select(readers, writers, [fd], left))
    if not ready:
        _remaining(deadline)  # Raises once the deadline has passed; else a spurious wakeup.


def _acquire(lock: Any, deadline: Optional[float]) -> None:
    left = _remaining(deadline)
    if not lock.acquire(timeout=-1 if left is None else left):
        raise _Expired()


class DuplexStream(NetworkStream):
    """``sock`` (plain or TLS, already connected) read and written from different threads.

    Owns the socket: the stream it was made from must not be used any more.
    """

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        # Around each OpenSSL call (a plain socket needs none, but one lock is simpler).
        self._call_lock = threading.Lock()
        # One writer at a time: OpenSSL expects a write it reported as blocked to be
        # retried with the same data before any other.
        self._write_lock = threading.Lock()

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        deadline = _deadline(timeout)
        sock = self._sock
        lock = self._call_lock
        try:
            while True:
                with lock:
                    try:
                        return sock.recv(max_bytes)
                    except (BlockingIOError, ssl.SSLWantReadError):
                        events = _READABLE
                    except ssl.SSLWantWriteError:
                        events = _WRITABLE
                _wait(sock.fileno(), events, deadline)
        except _Expired:
            raise ReadTimeout("The read operation timed out") from None
        except OSError as exc:
            raise ReadError(exc) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        deadline = _deadline(timeout)
        sock = self._sock
        lock = self._call_lock
        view = memoryview(buffer)
        try:
            _acquire(self._write_lock, deadline)
            try:
                while view:
                    with lock:
                        try:
                            view = view[sock.send(view) :]
                            continue
                        except (BlockingIOError, ssl.SSLWantWriteError):
                            events = _WRITABLE
                        except ssl.SSLWantReadError:
                            events = _READABLE
                    _wait(sock.fileno(), events, deadline)
            finally:
                self._write_lock.release()
        except _Expired:
            raise WriteTimeout("The write operation timed out") from None
        except OSError as exc:
            raise WriteError(exc) from exc

    def close(self) -> None:
        # Shut down first: a thread waiting in poll wakes up (closing alone would not).
        with self._call_lock:
            try:
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
            except OSError:
                pass  # Not connected any more: nothing to wake.
            self._sock.close()

    def get_extra_info(self, info: str) -> Any:
        sock = self._sock
        if info == "is_readable":
            with self._call_lock:
                return is_socket_readable(sock)
        if info == "ssl_object":
            return sock if isinstance(sock, ssl.SSLSocket) else None
        return socket_info(sock, info)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._sock!r}>"


class DuplexTLSInTLSStream(NetworkStream):
    """A TLS session over memory BIOs carried by a ``DuplexStream`` (see ``TLSInTLSStream``
    in ``_sync_backend``), read and written from different threads.

    Three locks, always taken in this order: ``_send_lock`` (taking ciphertext out of the
    outgoing BIO and writing it, so that records leave in the order OpenSSL made them),
    ``_pull_lock`` (one thread reads ciphertext from the outer stream), ``_state_lock``
    (the ``SSLObject`` and its BIOs, held only while no I/O is done).
    """

    def __init__(
        self,
        outer: DuplexStream,
        ssl_object: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        eof: bool,
    ) -> None:
        self._outer = outer
        self._ssl_object = ssl_object
        self._incoming = incoming
        self._outgoing = outgoing
        self._eof = eof
        self._send_lock = threading.Lock()
        self._pull_lock = threading.Lock()
        self._state_lock = threading.Lock()

    def _call(self, operation: Callable[..., _T], *args: Any) -> Optional[_T]:
        # One SSLObject call; None when it needs ciphertext from the peer first.
        with self._state_lock:
            try:
                return operation(*args)
            except ssl.SSLWantReadError:
                return None

    def _send_pending(self, deadline: Optional[float]) -> None:
        # Write what OpenSSL produced and nobody sent yet. Send lock held.
        with self._state_lock:
            ciphertext = self._outgoing.read()
        if ciphertext:
            self._outer.write(ciphertext, _remaining(deadline))

    def _pull(self, deadline: Optional[float]) -> None:
        # Feed the incoming BIO with one read of the outer stream.
        _acquire(self._pull_lock, deadline)
        try:
            if self._incoming.eof:
                # OpenSSL wants more input after the peer's end of stream: never comes.
                raise ssl.SSLEOFError(ssl.SSL_ERROR_EOF, "EOF occurred in violation of protocol")
            data = self._outer.read(_TLS_IN_TLS_READ_BYTES, _remaining(deadline))
            with self._state_lock:
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
        finally:
            self._pull_lock.release()

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._eof:
            return b""
        deadline = _deadline(timeout)
        try:
            while True:
                data = self._call(self._ssl_object.read, max_bytes)
                if self._outgoing.pending:  # An alert or a post-handshake answer.
                    _acquire(self._send_lock, deadline)
                    try:
                        self._send_pending(deadline)
                    finally:
                        self._send_lock.release()
                if data is not None:
                    break
                self._pull(deadline)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            # The peer closed the inner session (with or without close_notify).
            self._eof = True
            return b""
        except (_Expired, ReadTimeout, WriteTimeout):
            raise ReadTimeout("The read operation timed out") from None
        except ReadError:
            raise
        except (OSError, WriteError) as exc:
            raise ReadError(exc) from exc
        if not data:
            self._eof = True
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        deadline = _deadline(timeout)
        view = memoryview(buffer)
        try:
            _acquire(self._send_lock, deadline)
            try:
                while view:
                    written = self._call(self._ssl_object.write, view)
                    self._send_pending(deadline)
                    if written is None:
                        self._pull(deadline)  # A renegotiation: it needs the peer's answer.
                    else:
                        view = view[written:]
            finally:
                self._send_lock.release()
        except (_Expired, WriteTimeout, ReadTimeout):
            raise WriteTimeout("The write operation timed out") from None
        except WriteError:
            raise
        except (OSError, ReadError) as exc:
            raise WriteError(exc) from exc

    def close(self) -> None:
        self._outer.close()

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._ssl_object
        if info == "is_readable":
            with self._state_lock:
                if self._ssl_object.pending() or self._incoming.pending:
                    return True
            return self._outer.get_extra_info("is_readable")
        return self._outer.get_extra_info(info)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._outer._sock!r}>"
