"""A network backend that injects one fault into another backend, and in-memory servers.

``FaultBackend`` wraps any ``AsyncNetworkBackend``. It numbers every operation made through
it, over all the streams it opened, from 1: ``connect_tcp``, ``connect_unix_socket``,
``start_tls``, ``read``, ``write`` and ``close``. At operation ``fault.at`` it injects
``fault.kind`` when that kind applies to the operation (``APPLICABLE``), and records what it
did in ``injected`` ("reset at operation 7 (read)"); every other operation passes through.
A sweep first runs a flow without a fault to learn its operations (``operations``), then
runs it again once per operation and kind. Concurrent flows need not repeat their order of
operations (trio shuffles its run queue, threads interleave), so a test judges a case by
the operation the fault went into (``injected_into``), not by the clean run's.

The faults, each as a real backend would show it (API.md §8.1: the httpcore exception,
built from the original error and chained to it):

* ``connect_error``: the connect fails (``ConnectError`` from ``ConnectionRefusedError``).
* ``tls_error``: the TLS handshake fails (``ConnectError`` from ``ssl.SSLError``); the
  stream below is closed first, as the contract of ``start_tls`` says.
* ``short_read``: a read returns the first byte of what arrived, the rest comes next read.
* ``split_read``: what one read would return arrives one byte per read.
* ``eof``: the peer closed early: the read returns ``b""``, and so does every later read.
* ``reset``: the peer reset the connection: ``ReadError``/``WriteError``, and every later
  read or write of that stream fails the same way. A failed write is not delivered.
* ``timeout``: ``ConnectTimeout`` (connect, TLS), ``ReadTimeout`` or ``WriteTimeout``; the
  stream stays usable, as a socket does after a timeout. A timed-out write is not delivered.
* ``stall``: the operation never completes: with a timeout, it fails exactly as the
  timeout would once it expired (no clock is used); without one it waits until cancelled
  (the sync twin would block for good, so sync tests only stall operations with timeouts).
  A close cannot stall (it runs shielded from cancellation), it only calls ``on_fault``.
* ``cancel``: ``on_fault`` is called (a test cancels the request there), then the
  operation gives the cancellation a few trips through the event loop to arrive (it does,
  unless the operation runs shielded from cancellation), and then completes normally.
  Async only.

``PeerBackend`` is a server in memory: each connection gets a ``Responder`` (sans-I/O:
bytes the client wrote in, segments to send out) and reads return those segments one at a
time, so a response takes several reads. ``HTTP11Responder`` answers HTTP/1.1 requests
(and CONNECT, and a SOCKS5 handshake first when asked), ``HTTP2Responder`` runs a real h2
server connection. Every response body names the request it answers (``expected_body``),
so a test can check that a request that survived a fault got its own response, whole.
"""

from __future__ import annotations

import collections
import dataclasses
import ssl
from typing import Any, Callable, Deque, Dict, FrozenSet, Iterable, List, Optional, Tuple, Type

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from httpcore._backends._async.mock import MockSSLObject
from httpcore._backends._base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream
from httpcore._core._exceptions import (
    ConnectError,
    ConnectTimeout,
    PoolTimeout,
    ProxyError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    WriteError,
    WriteTimeout,
)
from httpcore._core._synchronization import AsyncEvent, AsyncThreadLock

CONNECT_ERROR = "connect_error"
TLS_ERROR = "tls_error"
SHORT_READ = "short_read"
SPLIT_READ = "split_read"
EOF = "eof"
RESET = "reset"
TIMEOUT = "timeout"
STALL = "stall"
CANCEL = "cancel"

_CONNECTS = frozenset({"connect_tcp", "connect_unix_socket"})
# The operations each fault applies to.
APPLICABLE: Dict[str, FrozenSet[str]] = {
    CONNECT_ERROR: _CONNECTS,
    TLS_ERROR: frozenset({"start_tls"}),
    SHORT_READ: frozenset({"read"}),
    SPLIT_READ: frozenset({"read"}),
    EOF: frozenset({"read"}),
    RESET: frozenset({"read", "write"}),
    TIMEOUT: _CONNECTS | {"start_tls", "read", "write"},
    STALL: _CONNECTS | {"start_tls", "read", "write", "close"},
    CANCEL: _CONNECTS | {"start_tls", "read", "write", "close"},
}
# Faults a request must survive: the bytes all arrive, only cut differently.
BENIGN = frozenset({SHORT_READ, SPLIT_READ})


def documented_errors(kind: str, operation: str) -> Tuple[Type[Exception], ...]:
    """The exceptions API.md (§8.1, §10) allows a request to raise for this fault.

    A reset write may surface as a ``ReadError`` (HTTP/1.1 goes on to read the response
    after a failed write); a peer that closed early is a ``RemoteProtocolError``, or a
    ``ProxyError`` in a SOCKS handshake. Benign faults allow no error at all.
    """
    if kind in (CONNECT_ERROR, TLS_ERROR):
        return (ConnectError,)
    if kind in (TIMEOUT, STALL):
        if operation in _CONNECTS or operation == "start_tls":
            return (ConnectTimeout,)
        return (ReadTimeout,) if operation == "read" else (WriteTimeout,)
    if kind == RESET:
        return (ReadError, WriteError)
    if kind == EOF:
        return (RemoteProtocolError, ProxyError)
    return ()


@dataclasses.dataclass(frozen=True)
class Fault:
    """Inject ``kind`` at operation number ``at`` (counted from 1)."""

    kind: str
    at: int


def _timeout_error(operation: str) -> Exception:
    original = TimeoutError("timed out")
    if operation == "read":
        error: Exception = ReadTimeout(original)
    elif operation == "write":
        error = WriteTimeout(original)
    else:
        error = ConnectTimeout(original)
    error.__cause__ = original
    return error


def _chained(error: Exception, original: BaseException) -> Exception:
    error.__cause__ = original
    return error


class FaultBackend(AsyncNetworkBackend):
    """Passes every operation to ``inner``, except that it injects ``fault`` (see the
    module comment). ``on_fault`` is called when the fault is injected, before it acts."""

    CANCEL_PATIENCE = 5

    def __init__(
        self,
        inner: AsyncNetworkBackend,
        fault: Optional[Fault] = None,
        on_fault: Optional[Callable[[], Any]] = None,
    ) -> None:
        self.inner = inner
        self.fault = fault
        self.on_fault = on_fault
        self.operations: List[str] = []
        self.injected: Optional[str] = None
        # The operation the fault was injected into (None: not injected).
        self.injected_into: Optional[str] = None
        self._lock = AsyncThreadLock()

    def begin(self, operation: str) -> Optional[str]:
        """Count ``operation``; return the fault kind to inject into it, if any."""
        with self._lock:
            self.operations.append(operation)
            number = len(self.operations)
            fault = self.fault
            if fault is None or number != fault.at or operation not in APPLICABLE[fault.kind]:
                return None
            self.injected = f"{fault.kind} at operation {number} ({operation})"
            self.injected_into = operation
        if self.on_fault is not None:
            self.on_fault()
        return fault.kind

    async def stall(self, operation: str, kind: str, timeout: float | None) -> None:
        """``stall``: never return (raise the timeout error, or wait until cancelled).
        ``cancel``: give the cancellation ``on_fault`` asked for a few trips through the
        event loop to arrive, then go on: in a section shielded from cancellation it does
        not arrive, and waiting for it would hang where a real operation would complete."""
        if kind == CANCEL:
            for _ in range(self.CANCEL_PATIENCE):
                try:
                    await AsyncEvent().wait(0)
                except PoolTimeout:
                    pass
            return
        if timeout is not None:
            raise _timeout_error(operation)
        await AsyncEvent().wait(None)
        raise AssertionError("a stalled operation was woken up")  # pragma: no cover

    async def _connect_fault(self, operation: str, timeout: float | None) -> None:
        kind = self.begin(operation)
        if kind == CONNECT_ERROR:
            original = ConnectionRefusedError(111, "Connection refused")
            raise _chained(ConnectError(original), original)
        if kind == TIMEOUT:
            raise _timeout_error(operation)
        if kind == STALL or kind == CANCEL:
            await self.stall(operation, kind, timeout)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        await self._connect_fault("connect_tcp", timeout)
        stream = await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return FaultStream(self, stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        await self._connect_fault("connect_unix_socket", timeout)
        stream = await self.inner.connect_unix_socket(path, timeout, socket_options)
        return FaultStream(self, stream)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class FaultStream(AsyncNetworkStream):
    """One stream of a ``FaultBackend``: its operations go through ``backend.begin``."""

    def __init__(self, backend: FaultBackend, inner: AsyncNetworkStream) -> None:
        self._backend = backend
        self._inner = inner
        # The rest of a shortened read, handed out ``_pending_step`` bytes per read.
        self._pending = b""
        self._pending_step = 0
        self._eof = False
        self._reset = False

    def _reset_error(self, operation: str) -> Exception:
        original = ConnectionResetError(104, "Connection reset by peer")
        error = ReadError(original) if operation == "read" else WriteError(original)
        return _chained(error, original)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        backend = self._backend
        kind = backend.begin("read")
        if self._reset:
            raise self._reset_error("read")
        if kind == RESET:
            self._reset = True
            raise self._reset_error("read")
        if kind == TIMEOUT:
            raise _timeout_error("read")
        if kind == STALL or kind == CANCEL:
            await backend.stall("read", kind, timeout)
        if kind == EOF:
            self._eof = True
        if self._eof:
            return b""
        if self._pending:
            size = min(self._pending_step, max_bytes)
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        data = await self._inner.read(max_bytes, timeout)
        if (kind == SHORT_READ or kind == SPLIT_READ) and len(data) > 1:
            self._pending = data[1:]
            self._pending_step = 1 if kind == SPLIT_READ else len(self._pending)
            return data[:1]
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        backend = self._backend
        kind = backend.begin("write")
        if self._reset:
            raise self._reset_error("write")
        if kind == RESET:
            self._reset = True
            raise self._reset_error("write")
        if kind == TIMEOUT:
            raise _timeout_error("write")
        if kind == STALL or kind == CANCEL:
            await backend.stall("write", kind, timeout)
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        self._backend.begin("close")
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        backend = self._backend
        kind = backend.begin("start_tls")
        if kind == CANCEL:
            try:
                await backend.stall("start_tls", kind, timeout)
            except BaseException:
                # Cancelled during the handshake: closed as well, as the real backends do.
                await self._inner.aclose()
                raise
        elif kind is not None:
            # The handshake fails: the stream below is closed first (API.md §8.1).
            try:
                if kind == STALL:
                    await backend.stall("start_tls", kind, timeout)
                if kind == TIMEOUT:
                    raise _timeout_error("start_tls")
                original = ssl.SSLError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] (injected)")
                raise _chained(ConnectError(original), original)
            except BaseException:
                await self._inner.aclose()
                raise
        inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        if inner is self._inner:
            return self
        stream = FaultStream(backend, inner)
        stream._pending, stream._pending_step = self._pending, self._pending_step
        return stream

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and (self._eof or self._reset or self._pending):
            return True
        return self._inner.get_extra_info(info)


# The in-memory servers.


def expected_body(method: bytes, path: bytes, received: int) -> bytes:
    """The body every in-memory server answers a request with."""
    return b"%s %s received %d bytes" % (method, path, received)


class Responder:
    """The server side of one connection, sans-I/O (see the module comment)."""

    def __init__(self) -> None:
        # True once the server closed its side: reads return b"" after the last segment.
        self.finished = False

    def receive(self, data: bytes) -> List[bytes]:
        """Take bytes the client wrote; return the segments to send, in order."""
        raise NotImplementedError()

    def holding(self) -> bool:
        """Whether answers are held back (see ``release``)."""
        return False

    def release(self) -> List[bytes]:
        """Answer what is held back now: the client waits and nothing else arrived."""
        return []


SOCKS5_NO_AUTH = b"\x05\x00"
SOCKS5_CONNECTED = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"
CONNECT_ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"


class HTTP11Responder(Responder):
    """Answers every HTTP/1.1 request (``expected_body``; chunked, in three chunks, when the
    path ends with ``/chunked``) and CONNECT (200). With ``socks5``, the first two writes are
    the SOCKS5 greeting and connect request (no authentication), each answered in kind."""

    def __init__(self, socks5: bool = False) -> None:
        super().__init__()
        self._buffer = bytearray()
        self._socks5_messages = 2 if socks5 else 0

    def receive(self, data: bytes) -> List[bytes]:
        if self._socks5_messages:
            self._socks5_messages -= 1
            return [SOCKS5_NO_AUTH if self._socks5_messages else SOCKS5_CONNECTED]
        self._buffer += data
        segments: List[bytes] = []
        while True:
            request = self._take_request()
            if request is None:
                return segments
            method, path, received = request
            if method == b"CONNECT":
                segments.append(CONNECT_ESTABLISHED)
                continue
            body = expected_body(method, path, received)
            if path.endswith(b"/chunked"):
                segments.append(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                third = len(body) // 3
                for piece in (body[:third], body[third : 2 * third], body[2 * third :]):
                    segments.append(b"%x\r\n%s\r\n" % (len(piece), piece))
                segments.append(b"0\r\n\r\n")
            else:
                segments.append(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
                segments.append(body)

    def _take_request(self) -> Optional[Tuple[bytes, bytes, int]]:
        # One whole request from the buffer: (method, target, body length), or None.
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = bytes(buffer[:end]).split(b"\r\n")
        method, target, _ = lines[0].split(b" ", 2)
        length = 0
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        position = end + 4
        if chunked:
            length = 0
            while True:
                line_end = buffer.find(b"\r\n", position)
                if line_end < 0:
                    return None
                size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
                if len(buffer) < line_end + 2 + size + 2:
                    return None
                position = line_end + 2 + size + 2
                length += size
                if size == 0:
                    break
        elif len(buffer) < position + length:
            return None
        else:
            position += length
        del buffer[:position]
        return method, target, length


class HTTP2Responder(Responder):
    """A server-side h2 connection. It answers requests (HEADERS, then DATA with
    ``expected_body``, as two segments) in batches: once ``batch`` streams have ended or
    been reset since the last batch, every request among them is answered, so that that
    many are in flight at once; a client that waits for an answer while no other request
    arrives (see ``PeerStream.read``) gets the held ones answered at once, so a batch cut
    short by a fault never hangs. It announces ``max_streams`` as its
    MAX_CONCURRENT_STREAMS. A protocol error ends the connection."""

    def __init__(self, batch: int = 1, max_streams: int = 100) -> None:
        super().__init__()
        self._h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        self._h2.local_settings = h2.settings.Settings(
            client=False,
            initial_values={h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: max_streams},
        )
        self._started = False
        self._batch = batch
        self._settled = 0
        self._requests: Dict[int, List[Any]] = {}
        self._held: List[int] = []
        # The most requests answered together: how many were in flight at once.
        self.largest_batch = 0

    def receive(self, data: bytes) -> List[bytes]:
        connection = self._h2
        segments: List[bytes] = []
        if not self._started:
            self._started = True
            connection.initiate_connection()
        try:
            events = connection.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.finished = True
            return [connection.data_to_send()]
        segments.append(connection.data_to_send())
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                assert event.stream_id is not None and event.headers is not None
                fields = {bytes(name): bytes(value) for name, value in event.headers}
                self._requests[event.stream_id] = [fields[b":method"], fields[b":path"], 0]
            elif isinstance(event, h2.events.DataReceived):
                assert event.stream_id is not None
                if event.stream_id in self._requests:
                    self._requests[event.stream_id][2] += len(event.data or b"")
                size = event.flow_controlled_length or 0
                if size:
                    try:
                        connection.acknowledge_received_data(size, event.stream_id)
                    except h2.exceptions.StreamClosedError:
                        pass
            elif isinstance(event, h2.events.StreamReset):
                if self._requests.pop(event.stream_id or 0, None) is not None:
                    self._settled += 1
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id is not None:
                self._held.append(event.stream_id)
                self._settled += 1
            segments.append(connection.data_to_send())
        if self._settled >= self._batch:
            segments.extend(self.release())
        return [segment for segment in segments if segment]

    def holding(self) -> bool:
        return bool(self._held)

    def release(self) -> List[bytes]:
        connection = self._h2
        segments: List[bytes] = []
        self._settled = 0
        held, self._held = self._held, []
        self.largest_batch = max(self.largest_batch, len(held))
        if not self.finished:
            for stream_id in held:
                request = self._requests.pop(stream_id, None)
                if request is None:
                    continue
                body = expected_body(*request)
                try:
                    connection.send_headers(
                        stream_id, [(":status", "200"), ("content-length", str(len(body)))]
                    )
                    segments.append(connection.data_to_send())
                    connection.send_data(stream_id, body, end_stream=True)
                except h2.exceptions.StreamClosedError:
                    pass
                segments.append(connection.data_to_send())
        return [segment for segment in segments if segment]


class PeerStream(AsyncNetworkStream):
    """The client's end of one in-memory connection (see ``PeerBackend``)."""

    PATIENCE = 20

    def __init__(self, responder: Responder, http2: bool) -> None:
        self.responder = responder
        self.closed = False
        self._http2 = http2
        self._tls = False
        self._segments: Deque[bytes] = collections.deque()
        self._lock = AsyncThreadLock()
        self._readable = AsyncEvent()
        # Set when a read waited for its whole timeout: a stall the test did not inject.
        self.waited_out = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        # Before answering held requests, let the client's other tasks run a little: they
        # may be about to send the rest of a batch (each pass is one trip through the event
        # loop; in the sync twin, with threads, it does not wait at all).
        patience = self.PATIENCE
        while True:
            with self._lock:
                if self.closed:
                    raise ReadError("the stream is closed")
                segments = self._segments
                if segments:
                    segment = segments[0]
                    if len(segment) > max_bytes:
                        segments[0] = segment[max_bytes:]
                        return segment[:max_bytes]
                    segments.popleft()
                    return segment
                if self.responder.finished:
                    return b""
                holding = self.responder.holding()
                if holding and not patience:
                    self._segments.extend(self.responder.release())
                    continue
                if self._readable.is_set():
                    self._readable = AsyncEvent()
                readable = self._readable
            if holding:
                patience -= 1
                try:
                    await readable.wait(0)
                except PoolTimeout:
                    pass
                continue
            try:
                await readable.wait(timeout)
            except PoolTimeout:
                self.waited_out = True
                raise ReadTimeout("the in-memory server sent nothing") from None

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with self._lock:
            if self.closed:
                raise WriteError("the stream is closed")
            self._segments.extend(self.responder.receive(buffer))
            self._readable.set()

    async def aclose(self) -> None:
        with self._lock:
            self.closed = True
            self._readable.set()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        self._tls = True
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return MockSSLObject(http2=self._http2) if self._tls else None
        if info == "is_readable":
            with self._lock:
                return self.closed or bool(self._segments) or self.responder.finished
        return None


class PeerBackend(AsyncNetworkBackend):
    """Every connection is a new ``PeerStream`` over ``responder()``; TLS negotiates "h2"
    by ALPN when ``http2`` is set. Keeps every stream it opened, in ``streams``."""

    def __init__(self, responder: Callable[[], Responder], http2: bool = False) -> None:
        self._responder = responder
        self._http2 = http2
        self.streams: List[PeerStream] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        stream = PeerStream(self._responder(), self._http2)
        self.streams.append(stream)
        return stream

    async def sleep(self, seconds: float) -> None:
        pass

    def open_streams(self) -> List[PeerStream]:
        return [stream for stream in self.streams if not stream.closed]
