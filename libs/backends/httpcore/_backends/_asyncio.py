"""The native asyncio backend: streams on asyncio transports and a buffered protocol.

Receiving. ``_StreamProtocol`` is an ``asyncio.BufferedProtocol``: the transport reads
straight into a receive buffer shared by every stream of the event loop (the transport
always calls ``get_buffer`` and ``buffer_updated`` back to back, so one buffer per loop is
enough), and ``buffer_updated`` copies the bytes out into a queue of ``bytes`` chunks. A
read returns the first chunk (or all of them joined, when they fit in ``max_bytes``), so a
chunk is copied once on its way in and not at all on its way out. Past
``READ_PAUSE_BYTES`` of unread data the transport stops reading until the queue drains.

Waiting. A read or a write that must wait parks one future on the protocol, which the
protocol completes with ``True`` on progress (data, end of stream, connection lost, writing
resumed); when a timeout is given, the protocol's timer completes it with ``False`` once
its deadline has come. The protocol has one timer for all its waits, re-armed only when a
wait's deadline is earlier than the one it is armed for: when it fires it expires the
parked waits whose deadline has come and re-arms itself for the earliest other one. So a
run of short waits with the same timeout (one per response, say) costs a deadline store
each, not a timer each. The timer is cancelled when the connection is lost (a wait after
that arms it again).
Protocol state only moves forward: ``eof`` (the peer finished sending; the transport then
closes itself) and ``lost`` (``connection_lost``, with ``error`` when the connection
failed). Queued data is still returned after either; then reads give ``b""`` after a clean
end and ``ReadError`` after a failure, every time.

Cancellation. Waiting is the only suspension point; a cancelled read or write leaves the
queue, the protocol and the transport as they were (a write's bytes were already handed to
the transport), so the stream stays usable, and ``CancelledError`` propagates.

Closing. ``aclose`` closes the raw (TCP or UNIX) transport and returns once asyncio has
released the socket. It never waits for the peer: bytes still queued for a peer that does
not read are dropped, and TLS sends close_notify without waiting for the reply.

TLS. ``start_tls`` is ``loop.start_tls`` with a fresh protocol; the new stream keeps the
raw transport, and the old stream then acts as closed (as a socket that ``ssl`` wrapped).
TLS inside TLS uses ``loop.start_tls`` too from Python 3.13 on; before, it runs through
``AsyncTLSOverStream`` (memory BIOs over this stream): see ``NATIVE_TLS_IN_TLS``.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import ssl
import sys
import weakref
from typing import Any, Awaitable, Deque, Iterable, List, NoReturn, Optional, TypeVar

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
from ._tls_over_stream import AsyncTLSOverStream

_T = TypeVar("_T")

# Size of the per-loop receive buffer: the most one transport read delivers.
RECEIVE_BUFFER_BYTES = 65536
# Unread bytes above which the transport stops reading, and below which it starts again.
READ_PAUSE_BYTES = 4 * RECEIVE_BUFFER_BYTES
READ_RESUME_BYTES = RECEIVE_BUFFER_BYTES
# asyncio aborts TLS handshakes after its own default (60 s); the caller's timeout rules
# here, so asyncio's limit is set far beyond any useful timeout.
_UNLIMITED_HANDSHAKE_S = 365.0 * 24 * 3600
# asyncio can layer TLS on a TLS transport from Python 3.11 on, but on 3.11 and 3.12 a
# failed inner handshake trips over a bug in asyncio's SSL protocol (a TypeError raised
# while aborting the outer layer, which leaves the handshake hanging or failing with a
# TypeError); 3.13 handles it. Before 3.13 TLS-in-TLS uses memory BIOs instead.
NATIVE_TLS_IN_TLS = sys.version_info >= (3, 13)

_receive_buffers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, memoryview] = (
    weakref.WeakKeyDictionary()
)


def _receive_buffer(loop: asyncio.AbstractEventLoop) -> memoryview:
    view = _receive_buffers.get(loop)
    if view is None:
        view = memoryview(bytearray(RECEIVE_BUFFER_BYTES))
        _receive_buffers[loop] = view
    return view


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


def _wake(waiter: Optional[asyncio.Future[bool]]) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(True)


def _timed_out() -> TimeoutError:
    return TimeoutError("timed out")


def _timeout_cause(exc: BaseException) -> BaseException:
    """The error a timeout is reported with: asyncio's own timeouts carry no message."""
    return exc if str(exc) else _timed_out()


def _closed_error() -> ConnectionError:
    return ConnectionError("the connection is closed")


if sys.version_info >= (3, 11):

    async def _with_timeout(awaitable: Awaitable[_T], timeout: float) -> _T:
        async with asyncio.timeout(timeout):
            return await awaitable

else:  # pragma: no cover - exercised on Python < 3.11 only

    async def _with_timeout(awaitable: Awaitable[_T], timeout: float) -> _T:
        return await asyncio.wait_for(awaitable, timeout)


class _StreamProtocol(asyncio.BufferedProtocol):
    """Receives into the loop's buffer, queues chunks, and wakes the waiting task."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.receive_view = _receive_buffer(loop)
        self.transport: Optional[asyncio.BaseTransport] = None
        self.chunks: Deque[bytes] = collections.deque()
        self.buffered = 0
        self.eof = False
        self.lost = False
        self.error: Optional[BaseException] = None
        self.read_paused = False
        self.write_paused = False
        self.read_waiter: Optional[asyncio.Future[bool]] = None
        self.write_waiter: Optional[asyncio.Future[bool]] = None
        self.lost_waiters: List[asyncio.Future[bool]] = []
        # The deadlines (loop time) of the parked waits, None without a timeout; and the
        # one timer, with the deadline it is armed for (see "Waiting" above).
        self.read_deadline: Optional[float] = None
        self.write_deadline: Optional[float] = None
        self.timer: Optional[asyncio.TimerHandle] = None
        self.timer_when = 0.0

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.receive_view

    def buffer_updated(self, nbytes: int) -> None:
        self.chunks.append(bytes(self.receive_view[:nbytes]))
        self.buffered += nbytes
        if self.buffered > READ_PAUSE_BYTES and not self.read_paused:
            transport = self.transport
            if isinstance(transport, asyncio.ReadTransport):
                self.read_paused = True
                transport.pause_reading()
        _wake(self.read_waiter)

    def eof_received(self) -> bool:
        self.eof = True
        _wake(self.read_waiter)
        _wake(self.write_waiter)
        return False  # the transport closes itself

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.lost = True
        # Kept as the cause of every later ReadError/WriteError, so without its traceback:
        # a send that failed inside a request's write has that request in its frames.
        self.error = exc.with_traceback(None) if exc is not None else None
        timer, self.timer = self.timer, None
        if timer is not None:
            timer.cancel()
        _wake(self.read_waiter)
        _wake(self.write_waiter)
        for waiter in self.lost_waiters:
            _wake(waiter)
        self.lost_waiters.clear()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        _wake(self.write_waiter)

    # used by the stream

    def take(self, max_bytes: int) -> bytes:
        """Remove and return up to ``max_bytes`` queued bytes (there is at least one chunk)."""
        chunks = self.chunks
        if self.buffered <= max_bytes and len(chunks) > 1:
            data = b"".join(chunks)
            chunks.clear()
        else:
            data = chunks.popleft()
            if len(data) > max_bytes:
                chunks.appendleft(data[max_bytes:])
                data = data[:max_bytes]
        self.buffered -= len(data)
        if self.read_paused and self.buffered <= READ_RESUME_BYTES:
            self.read_paused = False
            transport = self.transport
            if isinstance(transport, asyncio.ReadTransport) and not transport.is_closing():
                transport.resume_reading()
        return data

    async def wait(self, timeout: float | None, for_write: bool) -> bool:
        """Park until the protocol makes progress; ``False`` if ``timeout`` passed first."""
        loop = self.loop
        waiter: asyncio.Future[bool] = loop.create_future()
        deadline = None if timeout is None else loop.time() + timeout
        if for_write:
            if self.write_waiter is not None:
                raise RuntimeError("another task is already writing to this stream")
            self.write_waiter = waiter
            self.write_deadline = deadline
        else:
            if self.read_waiter is not None:
                raise RuntimeError("another task is already reading from this stream")
            self.read_waiter = waiter
            self.read_deadline = deadline
        if deadline is not None:
            timer = self.timer
            if timer is None or deadline < self.timer_when:
                if timer is not None:
                    timer.cancel()
                self.timer = loop.call_at(deadline, self._timer_fired)
                self.timer_when = deadline
        try:
            return await waiter
        finally:
            if for_write:
                self.write_waiter = None
                self.write_deadline = None
            else:
                self.read_waiter = None
                self.read_deadline = None

    def _timer_fired(self) -> None:
        # asyncio ran the timer: its deadline has come. Expire the waits that were due by
        # then; re-arm for the earliest deadline still ahead, if any.
        self.timer = None
        now = self.timer_when
        following: Optional[float] = None
        deadline = self.read_deadline
        if deadline is not None and self.read_waiter is not None:
            if deadline <= now:
                _expire(self.read_waiter)
            else:
                following = deadline
        deadline = self.write_deadline
        if deadline is not None and self.write_waiter is not None:
            if deadline <= now:
                _expire(self.write_waiter)
            elif following is None or deadline < following:
                following = deadline
        if following is not None:
            self.timer = self.loop.call_at(following, self._timer_fired)
            self.timer_when = following


class AsyncIOStream(AsyncNetworkStream):
    """A stream over an asyncio transport (TCP, UNIX or TLS)."""

    def __init__(
        self,
        transport: asyncio.Transport,
        protocol: _StreamProtocol,
        raw_transport: asyncio.Transport,
        sock: socket.socket,
    ) -> None:
        self._transport = transport
        self._protocol = protocol
        # The TCP/UNIX transport at the bottom (the same object for plain streams).
        self._raw_transport = raw_transport
        self._sock = sock
        self._closed = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.chunks:
            await self._wait_readable(timeout)
            if not protocol.chunks:
                return b""
        return protocol.take(max_bytes)

    async def _wait_readable(self, timeout: float | None) -> None:
        """Return once data is queued or the peer ended the stream; raise on failure."""
        protocol = self._protocol
        while not protocol.chunks:
            if self._closed:
                error: BaseException = _closed_error()
                raise ReadError(error) from error
            if protocol.error is not None:
                raise ReadError(protocol.error) from protocol.error
            if protocol.eof or protocol.lost:
                return
            if not await protocol.wait(timeout, for_write=False):
                error = _timed_out()
                raise ReadTimeout(error) from error

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if self._closed or protocol.eof or protocol.lost:
            self._raise_write_error()
        transport = self._transport
        try:
            transport.write(buffer)
        except (OSError, RuntimeError) as exc:
            raise WriteError(exc) from exc
        # A failed send closes the transport at once and reports the error a moment later.
        if protocol.write_paused or transport.is_closing():
            await self._wait_writable(timeout)

    async def _wait_writable(self, timeout: float | None) -> None:
        protocol = self._protocol
        transport = self._transport
        while not protocol.lost and (protocol.write_paused or transport.is_closing()):
            if self._closed or protocol.eof:
                break
            if not await protocol.wait(timeout, for_write=True):
                error = _timed_out()
                raise WriteTimeout(error) from error
        if self._closed or protocol.eof or protocol.lost:
            self._raise_write_error()

    def _raise_write_error(self) -> NoReturn:
        error = self._protocol.error
        if error is None or self._closed:
            error = _closed_error()
        raise WriteError(error) from error

    async def aclose(self) -> None:
        if self._closed:
            return
        protocol = self._protocol
        attached = self._protocol_attached()
        self._close()
        # The socket is released by a callback of the loop; wait for it, so that the
        # stream is really closed on return (asyncio calls connection_lost without fail
        # to the protocol attached to the transport).
        if not protocol.lost and attached:
            waiter: asyncio.Future[bool] = protocol.loop.create_future()
            protocol.lost_waiters.append(waiter)
            await waiter

    def _protocol_attached(self) -> bool:
        # Whether our protocol still receives this transport's callbacks. A TLS transport
        # that asyncio already closed (the peer sent close_notify and FIN) has dropped its
        # SSL protocol, and get_protocol() raises AttributeError (CPython 3.11 sslproto).
        try:
            return self._transport.get_protocol() is self._protocol
        except AttributeError:
            return False

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        protocol = self._protocol
        protocol.chunks.clear()
        protocol.buffered = 0
        _wake(protocol.read_waiter)
        _wake(protocol.write_waiter)
        # For TLS, close() queues close_notify; closing the raw transport right after sends
        # it and shuts the socket without waiting for the peer's reply. Bytes still queued
        # for a peer that does not read are dropped rather than waited for.
        raw = self._raw_transport
        if raw is not self._transport and not self._transport.is_closing():
            self._transport.close()
        if raw.get_write_buffer_size():
            raw.abort()
        else:
            raw.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        if self._closed:
            error = _closed_error()
            raise ConnectError(error) from error
        already_tls = self._transport.get_extra_info("ssl_object") is not None
        if already_tls and not NATIVE_TLS_IN_TLS:
            return await AsyncTLSOverStream.connect(self, ssl_context, server_hostname, timeout)
        loop = self._protocol.loop
        protocol = _StreamProtocol(loop)
        handshake = loop.start_tls(
            self._transport,
            protocol,
            ssl_context,
            server_side=False,
            server_hostname=server_hostname,
            ssl_handshake_timeout=_UNLIMITED_HANDSHAKE_S,
        )
        try:
            if timeout is None:
                tls_transport = await handshake
            else:
                tls_transport = await _with_timeout(handshake, timeout)
            if tls_transport is None:  # the connection went away as the handshake ended
                raise _closed_error()
        except asyncio.TimeoutError as exc:
            self._close()
            cause = _timeout_cause(exc)
            raise ConnectTimeout(cause) from cause
        except OSError as exc:  # ssl.SSLError, certificate failures, resets
            self._close()
            raise ConnectError(exc) from exc
        except BaseException:
            self._close()
            raise
        assert isinstance(tls_transport, asyncio.Transport)
        # This stream's transport now carries the TLS layer: from here on this object acts
        # as closed (reads and writes fail, aclose does nothing), like a socket that
        # ssl.wrap_socket detached. The returned stream owns the connection.
        self._closed = True
        return AsyncIOStream(tls_transport, protocol, self._raw_transport, self._sock)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._raw_transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._raw_transport.get_extra_info("peername")
        if info == "socket":
            return self._sock
        if info == "is_readable":
            protocol = self._protocol
            if protocol.chunks or protocol.eof or protocol.lost or self._closed:
                return True
            return is_socket_readable(self._sock)
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._sock!r}>"


async def _open_stream(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> AsyncIOStream:
    """Hand a connected socket to the loop as a transport with a ``_StreamProtocol``."""
    if sock.family == getattr(socket, "AF_UNIX", None):
        transport, protocol = await loop.create_unix_connection(
            lambda: _StreamProtocol(loop), sock=sock
        )
    else:
        transport, protocol = await loop.create_connection(lambda: _StreamProtocol(loop), sock=sock)
    return AsyncIOStream(transport, protocol, transport, sock)


async def _resolve(loop: asyncio.AbstractEventLoop, host: str, port: int) -> List[Any]:
    """getaddrinfo; numeric hosts are resolved in place, names on the loop's executor."""
    try:
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    except socket.gaierror:
        return await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)


async def _connect_tcp(
    host: str, port: int, local_address: str | None, options: List[SOCKET_OPTION]
) -> AsyncIOStream:
    loop = asyncio.get_running_loop()
    last_error: Optional[OSError] = None
    for family, kind, proto, _, address in await _resolve(loop, host, port):
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            apply_socket_options(sock, options)
            enable_tcp_nodelay(sock)
            if local_address is not None:
                sock.bind((local_address, 0))
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        except BaseException:
            sock.close()
            raise
        return await _open_stream(loop, sock)
    if last_error is None:
        last_error = OSError(f"no addresses found for {host!r}")
    raise last_error


async def _connect_unix(path: str, options: Iterable[SOCKET_OPTION]) -> AsyncIOStream:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        apply_socket_options(sock, options)
        await loop.sock_connect(sock, path)
    except BaseException:
        sock.close()
        raise
    return await _open_stream(loop, sock)


async def _connecting(attempt: Awaitable[AsyncIOStream], timeout: float | None) -> AsyncIOStream:
    """Await a connection attempt under ``timeout``, mapping its errors."""
    try:
        if timeout is None:
            return await attempt
        return await _with_timeout(attempt, timeout)
    except asyncio.TimeoutError as exc:
        cause = _timeout_cause(exc)
        raise ConnectTimeout(cause) from cause
    except OSError as exc:
        raise ConnectError(exc) from exc


class AsyncIOBackend(AsyncNetworkBackend):
    """Network I/O straight on asyncio (no anyio), used by default under asyncio."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """Connect to ``host:port``, trying each resolved address in turn.

        The socket is made here so that options are set before connecting; ``TCP_NODELAY``
        is always on. ``timeout`` bounds resolution and connecting together.
        """
        options = list(socket_options) if socket_options is not None else []
        return await _connecting(_connect_tcp(host, port, local_address, options), timeout)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        if sys.platform == "win32":
            raise RuntimeError("UNIX domain sockets are not available on Windows.")
        options = list(socket_options) if socket_options is not None else []
        return await _connecting(_connect_unix(path, options), timeout)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
