"""``AsyncHTTP2Connection``: many concurrent requests over one HTTP/2 connection, on h2
(API.md §6.4).

h2 is imported when the first connection is created (``import httpcore`` does not import
it); without h2 that raises RuntimeError. Every h2 error is mapped: h2 refusing what we send
is a ``LocalProtocolError``, h2 refusing what the server sent a ``RemoteProtocolError``.

Serialisation (a writer's turn is never waited for while holding the state lock):

* the writer's turn (``_writing``, waiters served first come, first served): one writer at a
  time. Bytes h2 produced go into ``_outbox`` (under the state lock) and leave it, all at
  once and in order, only during a writer's turn, so they reach the network in the order h2
  produced them (HPACK state, stream IDs in increasing order). A stream ID is allocated and
  its HEADERS queued during a turn. A writer writes whatever others queued meanwhile before
  its turn ends, so a task with only acknowledgements to send (the reader, a body being
  read, a stream being released) never waits for a turn: when another task is writing, it
  leaves its bytes to that writer. The reader therefore never stops reading because of a
  write blocked by a server that is itself waiting for us to read.
* ``_state_lock`` (a no-op in async code, a thread lock in the sync twin): guards h2's state
  and ours. Nothing awaits while holding it.

Reading (one reader at a time): a task that needs something from the network (its
response, the next piece of body, send window) and finds nothing queued becomes the reader
if nobody is, else sleeps on its stream's ``wakeup`` event. The reader reads, feeds h2,
queues each stream's events on its record (``H2Stream``), wakes the streams concerned
(and every sender on a WINDOW_UPDATE or a SETTINGS change), flushes what h2 has to send
(ACKs, PING replies), and keeps reading until its own condition holds; then it hands the
role to the longest sleeper. A sleeper that leaves (timeout, cancellation) hands it on if
nobody reads. Invariant: whenever some task waits, one task reads or one sleeper has been
woken to take over. A read timeout fails only the request that timed out; a read error or
EOF fails the connection (remembered and raised to every later reader).

Streams and slots: a request holds a slot of ``_slots`` (a semaphore whose limit is the
server's MAX_CONCURRENT_STREAMS, capped at our 100, starting at 1 until the server's
SETTINGS arrive; lowered or raised in place, never by blocking) from before its stream is
opened until its response is closed. Releasing a stream resets it (RST_STREAM CANCEL) when
h2 still counts it as open, and gives the flow-control credit of unread DATA back, so h2's
count of open streams, the slots and the server's view stay equal, also after
cancellations. When the server lowered its limit below the streams in flight, a request
that already holds a slot but would exceed the limit gives it back and waits again.

Flow control: receive windows are raised by 2^24 for the connection and each stream;
received DATA is acknowledged as the caller consumes it. Sending waits while the window is
zero or negative (a SETTINGS change can make it negative), woken by WINDOW_UPDATE, and sends
at most ``SEND_BATCH_BYTES`` per write so concurrent uploads interleave. A server that
ended or reset the stream stops the upload.

GOAWAY: no new streams after it. Streams above ``last_stream_id`` were not processed and
raise ``ConnectionNotAvailable`` (the pool retries them elsewhere). With NO_ERROR and a
non-zero ``last_stream_id`` the other streams go on to their end (graceful shutdown);
otherwise, once their queued events are consumed, they raise ``RemoteProtocolError`` with
the GOAWAY. The connection closes when its last stream is released.

Trailers: a response's trailing header fields are added to its extensions as
``"trailing_headers"`` (a list of ``(name, value)`` byte pairs, names lower-case) when they
arrive, so they are there once the body has been read to its end. The key is absent when
the server sent none.

Liveness (beyond 1.0.9, off unless ``ping_after_idle`` is given): the first request on a
connection that has been idle for more than ``ping_after_idle`` seconds first sends a PING
and waits (at most ``PING_TIMEOUT_S``, or its read timeout if shorter) for the answer;
requests arriving meanwhile wait for the outcome. No answer (a silently dead connection, a
closed socket) closes the connection and raises ``ConnectionNotAvailable``, so the pool
sends the request on a new connection instead.

States: ``IDLE`` (also when new), ``ACTIVE`` while requests are in flight, ``CLOSED``.
"""

from __future__ import annotations

import copy
import collections
import logging
from time import monotonic
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterable,
    Callable,
    Deque,
    Dict,
    List,
    Optional,
    Tuple,
    Type,
    TypeVar,
)

from httpcore._backends._base import AsyncNetworkStream, shared_by_threads
from httpcore._core._bytestreams import BodyStream, ByteStream
from httpcore._core import _deadline as deadline
from httpcore._core._exceptions import (
    ConnectionNotAvailable,
    LocalProtocolError,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TimeoutException,
    WriteTimeout,
)
from httpcore._core._models import Origin, Request, Response
from httpcore._core._synchronization import (
    AsyncEvent,
    AsyncSemaphore,
    AsyncShieldCancellation,
    AsyncThreadLock,
)
from httpcore._core._trace import Trace
from httpcore._core._urls import require_origin

from .._h2_support import (
    DATA,
    ENDED,
    INFORMATIONAL,
    LOCAL_MAX_CONCURRENT_STREAMS,
    PING_ACK,
    RESET,
    RESPONSE,
    SETTINGS,
    STREAM_KINDS,
    TERMINATED,
    TRAILERS,
    WINDOW,
    FrameScanner,
    GoAway,
    H2Stream,
    h2_names,
    request_fields,
)
from .connection_interface import AsyncConnectionInterface

if TYPE_CHECKING:
    import h2.events

logger = logging.getLogger("httpcore.http2")

# Connection states; ``_STATE_NAMES`` gives their names for ``info()`` and ``repr()``.
ACTIVE = 1
IDLE = 2
CLOSED = 3
_STATE_NAMES = ("", "ACTIVE", "IDLE", "CLOSED")

# How much each receive window (the connection's, and each stream's) is raised at the start.
WINDOW_INCREMENT_BYTES = 2**24
# The most request body queued in h2 for one write.
SEND_BATCH_BYTES = 1024 * 1024
# The response extension holding the trailers (see the module header).
TRAILING_HEADERS = "trailing_headers"
# How long the liveness check waits for the PING acknowledgement, at most.
PING_TIMEOUT_S = 5.0


def _fixed_body(stream: BodyStream) -> Optional[bytes]:
    # The whole body when it is held in memory (a ``ByteStream`` yields it as one chunk).
    if type(stream) is ByteStream:
        for chunk in stream:
            return chunk
    return None


class _NoTrace:
    """Stands in for a ``Trace`` scope when a request is not traced."""

    __slots__ = ()

    return_value: Any = None

    async def __aenter__(self) -> _NoTrace:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        pass

    def __setattr__(self, name: str, value: Any) -> None:
        pass


_NO_TRACE = _NoTrace()


def _status_code(value: bytes) -> int:
    """The ``:status`` of a response: exactly three digits (RFC 9113 §8.3.2), or the
    response is malformed (1.0.9 let ``int()`` raise a ValueError, or took " 200" and "20")."""
    if len(value) != 3 or not value.isdigit():
        raise RemoteProtocolError(f"Malformed response: invalid :status {value!r}.")
    return int(value)


# How far down a chain of causes _again copies (chains are one or two long in practice).
_CAUSES_COPIED = 4
_E = TypeVar("_E", bound=BaseException)


def _again(error: _E, depth: int = 0) -> _E:
    """A connection failure to remember, or to raise once more for another request: a
    copy with no traceback, whose cause (also in its arguments, as in ``ReadError(exc)``)
    is such a copy too. Keeping the exception a request raised, or raising it again, would
    keep every request it went through (its traceback's frames, and on Python 3.11+ their
    callers' frames) alive as long as the connection."""
    again = copy.copy(error)
    cause = error.__cause__
    if cause is not None and depth < _CAUSES_COPIED:
        try:
            clean: BaseException = _again(cause, depth + 1)
        except Exception:  # an exception type that cannot be copied: keep the original
            clean = cause
        again.__cause__ = clean
        again.args = tuple(clean if arg is cause else arg for arg in again.args)
    else:
        again.__cause__ = cause
    again.__suppress_context__ = error.__suppress_context__
    return again



class _WriterTurn:
    """``async with _WriterTurn(connection, timeout):`` holds the writer's turn."""

    __slots__ = ("_connection", "_timeout")

    def __init__(self, connection: AsyncHTTP2Connection, timeout: float | None) -> None:
        self._connection = connection
        self._timeout = timeout

    async def __aenter__(self) -> _WriterTurn:
        # A request past its total deadline starts no write. One already started is bounded
        # by the write timeout alone: cut short, it would break the connection for all.
        deadline.bound(None, WriteTimeout)
        await self._connection._begin_writer_turn()
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        await self._connection._end_writer_turn(self._timeout, exc_type is None)


class AsyncHTTP2Connection(AsyncConnectionInterface):
    """An HTTP/2 connection to ``origin`` over an open network ``stream``.

    Any number of requests may use it at once; at most the server's MAX_CONCURRENT_STREAMS
    (and 100) are in flight, the others wait. An idle connection expires
    ``keepalive_expiry`` seconds after its last response was closed (``None``: never).
    Raises RuntimeError when h2 is not installed.
    """

    READ_NUM_BYTES = 64 * 1024

    def __init__(
        self,
        origin: Origin,
        stream: AsyncNetworkStream,
        keepalive_expiry: float | None = None,
        *,
        ping_after_idle: float | None = None,
    ) -> None:
        names = h2_names()
        self._names = names
        self._event_kinds = names.event_kinds
        self._origin = origin
        # Requests read and write the stream at the same time, from threads in the sync twin.
        self._network_stream: AsyncNetworkStream = shared_by_threads(stream)
        self._keepalive_expiry = keepalive_expiry
        self._ping_after_idle = ping_after_idle
        # When the connection last became idle (for the liveness check).
        self._idle_since: Optional[float] = None
        # Set while a liveness check runs; requests arriving meanwhile wait for it.
        self._liveness_check: Optional[AsyncEvent] = None
        self._ping_count = 0
        self._ping_acks: List[bytes] = []
        self._h2_state = names.client_connection()
        self._state = IDLE
        self._request_count = 0
        self._expire_at: Optional[float] = None
        self._writing = False
        self._writer_queue: Deque[AsyncEvent] = collections.deque()
        self._state_lock = AsyncThreadLock()
        self._initialized = False
        # The stream limit: 1 until the server's first SETTINGS (API.md §6.4).
        self._max_streams = 1
        self._remote_settings_seen = False
        self._slots = AsyncSemaphore(1)
        # Requests between their start and their release (waiting for a slot included).
        self._requests_in_flight = 0
        self._streams: Dict[int, H2Stream] = {}
        # Streams whose task sleeps, oldest first.
        self._sleeping: Dict[int, H2Stream] = {}
        self._reading = False
        self._scanner = FrameScanner()
        # Bytes taken out of h2 and not written yet, in order (see the module header).
        self._outbox: List[bytes] = []
        self._read_exception: Optional[Exception] = None
        self._write_exception: Optional[Exception] = None
        self._goaway: Optional[h2.events.ConnectionTerminated] = None
        # Takes no new streams: stream IDs used up, a server that allows no streams, or
        # h2 refused our HEADERS after HPACK may have indexed some of them (its table would
        # no longer match the server's).
        self._retired = False

    # Sending a request.

    async def handle_async_request(self, request: Request) -> Response:
        """Send ``request`` on a new stream and return the response, its body still to read.

        Raises RuntimeError for a request to another origin; ConnectionNotAvailable when
        the connection is closed, going away, out of stream IDs, or the server did not
        process the stream (GOAWAY); LocalProtocolError for a request h2 refuses (or with
        no Host header); RemoteProtocolError for a stream reset, a GOAWAY, a protocol error
        of the server or a disconnect; and the network errors of the stream.
        """
        timeouts = request.extensions.get("timeout", {})
        if deadline.TOTAL in timeouts:
            # Used on its own, this connection is where the total deadline starts.
            deadline_token = deadline.enter(timeouts)
            try:
                return await self._handle_request(request)
            finally:
                deadline.leave(deadline_token)
        return await self._handle_request(request)

    async def _handle_request(self, request: Request) -> Response:
        require_origin(request.url, self._origin)
        with self._state_lock:
            if self._state == CLOSED or self._goaway is not None or self._retired:
                raise ConnectionNotAvailable()
            error = self._read_exception or self._write_exception
            if error is not None:
                raise _again(error)
            self._request_count += 1
            self._requests_in_flight += 1
            self._state = ACTIVE
            self._expire_at = None
            check_liveness = False
            liveness_check = self._liveness_check
            idle_since = self._idle_since
            if idle_since is not None:
                self._idle_since = None
                ping_after_idle = self._ping_after_idle
                if ping_after_idle is not None and monotonic() - idle_since > ping_after_idle:
                    check_liveness = True
                    liveness_check = self._liveness_check = AsyncEvent()

        timeouts = request.extensions.get("timeout", {})
        write_timeout = timeouts.get("write", None)
        read_timeout = timeouts.get("read", None)
        if liveness_check is not None:
            try:
                if check_liveness:
                    await self._check_liveness(request, read_timeout, write_timeout)
                else:
                    await liveness_check.wait()
            except BaseException:
                with AsyncShieldCancellation():
                    await self._release(None, False)
                with self._state_lock:
                    self._request_count -= 1
                raise
        traced = request.extensions.get("trace") is not None or logger.isEnabledFor(
            logging.DEBUG
        )
        stream: Optional[H2Stream] = None
        holds_slot = False
        try:
            if not self._initialized:
                await self._initialize(request, write_timeout, traced)
            while stream is None:
                await self._slots.acquire()
                holds_slot = True
                stream = await self._open_stream(request, write_timeout, traced)
                if stream is None:
                    holds_slot = False
                    self._slots.release()
            if traced:
                kwargs = {"request": request, "stream_id": stream.stream_id}
                async with Trace("send_request_body", logger, request, kwargs):
                    await self._send_request_body(request, stream, write_timeout, read_timeout)
                async with Trace("receive_response_headers", logger, request, kwargs) as trace:
                    status, headers = await self._receive_response_headers(
                        request, stream, read_timeout, write_timeout
                    )
                    trace.return_value = (status, headers)
            else:
                if not stream.request_sent:
                    await self._send_request_body(request, stream, write_timeout, read_timeout)
                status, headers = await self._receive_response_headers(
                    request, stream, read_timeout, write_timeout
                )
        except BaseException as exc:
            with AsyncShieldCancellation():
                if stream is not None and traced:
                    async with Trace(
                        "response_closed", logger, request, {"stream_id": stream.stream_id}
                    ):
                        await self._release(stream, holds_slot)
                else:
                    await self._release(stream, holds_slot)
            if isinstance(exc, ConnectionNotAvailable):
                with self._state_lock:
                    self._request_count -= 1
            raise

        extensions: Dict[str, Any] = {
            "http_version": b"HTTP/2",
            "network_stream": self._network_stream,
            "stream_id": stream.stream_id,
        }
        content = AsyncHTTP2ResponseStream(
            self, request, stream, extensions, read_timeout, write_timeout, traced
        )
        # Captured for the body, which is read after this call returns.
        content._deadline = deadline.current()
        return Response(status, headers=headers, content=content, extensions=extensions)

    async def _initialize(
        self, request: Request, timeout: float | None, traced: bool
    ) -> None:
        # The connection preface: SETTINGS and a connection WINDOW_UPDATE, sent once.
        async with _WriterTurn(self, timeout):
            if self._initialized:
                return
            if self._state == CLOSED:
                raise ConnectionNotAvailable()
            try:
                trace = (
                    Trace("send_connection_init", logger, request, {"request": request})
                    if traced
                    else _NO_TRACE
                )
                async with trace:
                    with self._state_lock:
                        h2_state = self._h2_state
                        h2_state.initiate_connection()
                        h2_state.increment_flow_control_window(WINDOW_INCREMENT_BYTES)
                        data = self._take_outgoing()
                    await self._write(data, timeout)
            except BaseException:
                with AsyncShieldCancellation():
                    await self.aclose()
                raise
            self._initialized = True

    async def _open_stream(
        self, request: Request, timeout: float | None, traced: bool
    ) -> Optional[H2Stream]:
        # Allocate a stream ID and send the request's HEADERS (and, untraced, as much of a
        # fixed body as fits); None when the server's limit leaves no room (see the
        # module header: the caller waits for a slot again).
        fields, has_body = request_fields(
            request.method, request.url.scheme, request.url.target, request.headers
        )
        body = _fixed_body(request.stream) if has_body and not traced else None
        names = self._names
        h2_state = self._h2_state
        async with _WriterTurn(self, timeout):
            with self._state_lock:
                self._raise_if_unavailable()
                remote_limit = h2_state.remote_settings.max_concurrent_streams
                # h2's count costs a pass over its streams: only when it may be too high
                # (every stream h2 counts holds a slot, ours not yet among them).
                if (
                    self._slots.in_use > remote_limit
                    and h2_state.open_outbound_streams >= remote_limit
                ):
                    if remote_limit == 0:
                        # The server takes no streams at all: retire the connection.
                        self._retired = True
                        raise ConnectionNotAvailable()
                    return None
                try:
                    stream_id = h2_state.get_next_available_stream_id()
                except names.NoAvailableStreamIDError:
                    self._retired = True
                    raise ConnectionNotAvailable() from None
                stream = H2Stream(stream_id)
                self._streams[stream_id] = stream
            trace = (
                Trace(
                    "send_request_headers",
                    logger,
                    request,
                    {"request": request, "stream_id": stream_id},
                )
                if traced
                else _NO_TRACE
            )
            try:
                await self._send_headers(stream, fields, has_body, body, trace, timeout)
            except BaseException:
                with self._state_lock:
                    self._discard_stream(stream)
                raise
        return stream

    async def _send_headers(
        self,
        stream: H2Stream,
        fields: List[Tuple[bytes, bytes]],
        has_body: bool,
        body: Optional[bytes],
        trace: Any,
        timeout: float | None,
    ) -> None:
        # HEADERS (and what fits of a fixed ``body``) for a new stream; writer's turn held.
        names = self._names
        h2_state = self._h2_state
        stream_id = stream.stream_id
        headers_queued = False
        async with trace:
            with self._state_lock:
                try:
                    h2_state.send_headers(stream_id, fields, end_stream=not has_body)
                    headers_queued = True
                    h2_state.increment_flow_control_window(
                        WINDOW_INCREMENT_BYTES, stream_id=stream_id
                    )
                    if not has_body:
                        stream.request_sent = True
                    elif body is not None:
                        sent = self._queue_data(stream, body, 0)
                        if sent == len(body):
                            h2_state.end_stream(stream_id)
                            stream.request_sent = True
                        else:
                            stream.body_offset = sent
                except names.H2Error as exc:
                    if not headers_queued:
                        # Refused before its HEADERS were queued: h2 must not count the
                        # stream, and its HPACK table may be ahead of the server's.
                        h2_state.streams.pop(stream_id, None)
                        self._retired = True
                    raise LocalProtocolError(exc) from exc
                data = self._take_outgoing()
            await self._write(data, timeout)

    async def _send_request_body(
        self,
        request: Request,
        stream: H2Stream,
        write_timeout: float | None,
        read_timeout: float | None,
    ) -> None:
        if stream.request_sent:
            return
        fixed = _fixed_body(request.stream)
        if fixed is not None:
            if await self._send_data(stream, fixed, stream.body_offset, write_timeout, read_timeout):
                await self._end_request(stream, write_timeout)
            return
        body = request.stream
        if not isinstance(body, AsyncIterable):
            raise TypeError(
                "The request body must be bytes or an "
                f"AsyncIterable of bytes, but got {type(body).__name__}."
            )
        try:
            async for chunk in body:
                if not await self._send_data(stream, chunk, 0, write_timeout, read_timeout):
                    break
        except BaseException:
            aclose = getattr(body, "aclose", None)
            if aclose is not None:
                with AsyncShieldCancellation():
                    await aclose()
            raise
        else:
            if stream.remote_reset or stream.remote_ended:
                aclose = getattr(body, "aclose", None)
                if aclose is not None:
                    await aclose()
                return
        await self._end_request(stream, write_timeout)

    async def _send_data(
        self,
        stream: H2Stream,
        data: bytes,
        offset: int,
        write_timeout: float | None,
        read_timeout: float | None,
    ) -> bool:
        # Send ``data[offset:]`` as flow control allows; False when the server ended or
        # reset the stream, so the rest of the body is not wanted.
        size = len(data)
        view = memoryview(data) if size > SEND_BATCH_BYTES else data
        while offset < size:
            async with _WriterTurn(self, write_timeout):
                with self._state_lock:
                    if stream.remote_reset or stream.remote_ended:
                        return False
                    try:
                        offset = self._queue_data(stream, view, offset)
                    except self._names.H2Error as exc:
                        raise LocalProtocolError(exc) from exc
                    out = self._take_outgoing()
                if out:
                    await self._write(out, write_timeout)
            if offset < size:
                await self._wait_for_window(stream, read_timeout)
        return not (stream.remote_reset or stream.remote_ended)

    def _queue_data(self, stream: H2Stream, data: Any, offset: int) -> int:
        # Queue DATA frames in h2 from ``offset`` while the send window allows (a window
        # made negative by SETTINGS allows nothing); returns the new offset. State lock held.
        h2_state = self._h2_state
        stream_id = stream.stream_id
        window = h2_state.local_flow_control_window(stream_id)
        end = min(len(data), offset + window, offset + SEND_BATCH_BYTES)
        frame_size = h2_state.max_outbound_frame_size
        while offset < end:
            chunk_end = min(offset + frame_size, end)
            h2_state.send_data(stream_id, data[offset:chunk_end])
            offset = chunk_end
        return offset

    async def _wait_for_window(self, stream: H2Stream, timeout: float | None) -> None:
        h2_state = self._h2_state
        names = self._names
        stream_id = stream.stream_id

        def ready() -> bool:
            if stream.remote_reset or stream.remote_ended:
                return True
            try:
                return h2_state.local_flow_control_window(stream_id) > 0
            except names.H2Error:
                return True

        stream.sending = True
        try:
            await self._wait_until(stream, ready, None, timeout, None)
        finally:
            stream.sending = False

    async def _end_request(self, stream: H2Stream, timeout: float | None) -> None:
        async with _WriterTurn(self, timeout):
            with self._state_lock:
                if stream.remote_reset:
                    return
                try:
                    self._h2_state.end_stream(stream.stream_id)
                except self._names.H2Error as exc:
                    raise LocalProtocolError(exc) from exc
                data = self._take_outgoing()
            await self._write(data, timeout)
        stream.request_sent = True

    async def _write(self, data: bytes, timeout: float | None) -> None:
        # During a writer's turn. A write error is remembered: every later write raises it.
        error = self._write_exception
        if error is not None:
            raise _again(error)
        if not data:
            return
        try:
            # Shielded: a write cut short would leave a partial frame on the connection.
            with AsyncShieldCancellation():
                await self._network_stream.write(data, timeout)
        except Exception as exc:
            self._write_exception = _again(exc)
            raise

    def _take_outgoing(self) -> bytes:
        # Everything to send, in order: the outbox, then what h2 has. State lock held.
        data = self._h2_state.data_to_send()
        outbox = self._outbox
        if outbox:
            outbox.append(data)
            data = b"".join(outbox)
            outbox.clear()
        return data

    def _queue_outgoing(self) -> bool:
        # Move what h2 has into the outbox; whether a flush is due. State lock held.
        data = self._h2_state.data_to_send()
        if data:
            self._outbox.append(data)
        return bool(self._outbox)

    async def _flush(self, timeout: float | None) -> None:
        # Write what is queued (acknowledgements, resets, window updates), unless a writer
        # is at work: it writes it before its turn ends.
        with self._state_lock:
            if self._writing:
                return
            self._writing = True
        await self._end_writer_turn(timeout, True)

    async def _begin_writer_turn(self) -> None:
        with self._state_lock:
            if not self._writing:
                self._writing = True
                return
            turn = AsyncEvent()
            self._writer_queue.append(turn)
        try:
            await turn.wait()
        except BaseException:
            with self._state_lock:
                if turn.is_set():
                    self._hand_over_writer_turn()  # Handed the turn, too late: pass it on.
                else:
                    self._writer_queue.remove(turn)
            raise

    async def _end_writer_turn(self, timeout: float | None, drain: bool) -> None:
        # Write what others queued during the turn (unless it failed), then pass it on.
        try:
            while drain:
                with self._state_lock:
                    data = self._take_outgoing()
                    if not data:
                        self._hand_over_writer_turn()
                        return
                await self._write(data, timeout)
        except BaseException:
            with self._state_lock:
                self._hand_over_writer_turn()
            raise
        with self._state_lock:
            self._hand_over_writer_turn()

    def _hand_over_writer_turn(self) -> None:
        # State lock held: the longest waiter's turn, or nobody's.
        queue = self._writer_queue
        if queue:
            queue.popleft().set()
        else:
            self._writing = False

    # Receiving.

    async def _receive_response_headers(
        self,
        request: Request,
        stream: H2Stream,
        read_timeout: float | None,
        write_timeout: float | None,
    ) -> Tuple[int, List[Tuple[bytes, bytes]]]:
        while True:
            event, kind = await self._next_event(stream, request, read_timeout, write_timeout)
            if kind == RESPONSE:
                break
            if kind == RESET:
                raise RemoteProtocolError(event)
            # Interim (1xx) responses are skipped; nothing else comes before the response.
        status = 200
        headers: List[Tuple[bytes, bytes]] = []
        for name, value in event.headers:
            if name[:1] == b":":
                if name == b":status":
                    status = _status_code(value)
            else:
                headers.append((name, value))
        return status, headers

    async def _next_event(
        self,
        stream: H2Stream,
        request: Request,
        read_timeout: float | None,
        write_timeout: float | None,
    ) -> Tuple[Any, int]:
        # The stream's next event and its kind, reading the network if need be.
        with self._state_lock:
            events = stream.events
            if events:
                event = events.popleft()
                return event, self._event_kinds[type(event)]

        def ready() -> bool:
            return bool(stream.events)

        await self._wait_until(stream, ready, request, read_timeout, write_timeout)
        with self._state_lock:
            event = stream.events.popleft()
            return event, self._event_kinds[type(event)]

    async def _wait_until(
        self,
        stream: H2Stream,
        ready: Callable[[], bool],
        request: Optional[Request],
        read_timeout: float | None,
        write_timeout: float | None,
    ) -> None:
        # Return once ``ready()`` (called with the state lock held) is true, reading the
        # network when nobody else does, else sleeping until woken (see the module header).
        while True:
            with self._state_lock:
                if ready():
                    if not self._reading:
                        self._wake_next_reader()
                    return
                error = self._stream_error(stream)
                if error is not None:
                    if not self._reading:
                        self._wake_next_reader()
                    raise error
                if self._reading:
                    wakeup = AsyncEvent()
                    stream.wakeup = wakeup
                    self._sleeping[stream.stream_id] = stream
                else:
                    self._reading = True
                    wakeup = None
            if wakeup is None:
                try:
                    while True:
                        try:
                            await self._read_incoming(request, read_timeout, write_timeout)
                        except Exception:
                            if self._read_exception is None:
                                raise  # This request's timeout, or a write error.
                            break  # The connection failed: queued events first, then that.
                        with self._state_lock:
                            if ready() or self._stream_error(stream) is not None:
                                break
                finally:
                    with self._state_lock:
                        self._reading = False
                        self._wake_next_reader()
            else:
                wait_timeout = read_timeout
                try:
                    wait_timeout = deadline.bound(read_timeout, ReadTimeout)
                    await wakeup.wait(wait_timeout)
                except BaseException as exc:
                    with self._state_lock:
                        stream.wakeup = None
                        self._sleeping.pop(stream.stream_id, None)
                        if not self._reading:
                            self._wake_next_reader()
                    if isinstance(exc, PoolTimeout):
                        if wait_timeout is not read_timeout:
                            raise ReadTimeout(deadline.EXPIRED) from None
                        raise ReadTimeout(
                            f"No data received on the HTTP/2 stream in {read_timeout} seconds"
                        ) from None
                    raise
                with self._state_lock:
                    stream.wakeup = None
                    self._sleeping.pop(stream.stream_id, None)

    def _wake_next_reader(self) -> None:
        # State lock held, nobody reading: wake the longest sleeper to take over.
        for stream in self._sleeping.values():
            wakeup = stream.wakeup
            if wakeup is not None:
                wakeup.set()
            return

    def _wake_all(self) -> None:
        for stream in self._sleeping.values():
            wakeup = stream.wakeup
            if wakeup is not None:
                wakeup.set()

    def _stream_error(self, stream: H2Stream) -> Optional[Exception]:
        # What a stream with nothing queued raises, if the connection cannot give it more.
        if stream.refused:
            return ConnectionNotAvailable()
        goaway = self._goaway
        if goaway is not None and (stream.aborted or self._read_exception is not None):
            return RemoteProtocolError(goaway)
        error = self._read_exception
        if error is not None:
            return _again(error)
        if self._state == CLOSED:
            return ReadError("Connection closed")
        return None

    async def _read_incoming(
        self,
        request: Optional[Request],
        read_timeout: float | None,
        write_timeout: float | None,
    ) -> None:
        # One network read, its events dispatched, then what h2 has to send flushed.
        try:
            data = await self._network_stream.read(
                self.READ_NUM_BYTES, deadline.bound(read_timeout, ReadTimeout)
            )
        except TimeoutException:
            raise  # Only this request gives up; the connection is fine.
        except Exception as exc:
            self._fail(exc)
            raise
        if not data:
            error = RemoteProtocolError("Server disconnected")
            self._fail(error)
            raise error
        settings: Optional[List[Any]] = None
        protocol_error: Optional[RemoteProtocolError] = None
        names = self._names
        with self._state_lock:
            try:
                for piece in self._scanner.feed(data):
                    if type(piece) is GoAway:
                        self._on_goaway(names.goaway_event(piece))
                    else:
                        events = self._h2_state.receive_data(piece)  # type: ignore[arg-type]
                        if events:
                            settings = self._dispatch(events, settings)
            except (names.H2Error, RemoteProtocolError) as exc:
                # RemoteProtocolError: a server preface not starting with SETTINGS (scanner).
                protocol_error = exc if isinstance(exc, RemoteProtocolError) else RemoteProtocolError(exc)
                if self._goaway is not None:
                    protocol_error = RemoteProtocolError(self._goaway)
                self._read_exception = _again(protocol_error)
                self._wake_all()
            flush = self._queue_outgoing()
        if settings is not None and request is not None:
            for event in settings:
                async with Trace("receive_remote_settings", logger, request) as trace:
                    trace.return_value = event
        try:
            if flush:
                await self._flush(write_timeout)
        except Exception:
            # Remembered by ``_write`` for the next writer. A reader goes on reading: the
            # server may still deliver responses (or end the connection, which the reads
            # then report).
            pass
        if protocol_error is not None:
            raise protocol_error

    def _fail(self, error: Exception) -> None:
        with self._state_lock:
            if self._read_exception is None:
                # A copy: the error itself is on its way up the reader's frames.
                self._read_exception = _again(error)
            self._wake_all()

    def _dispatch(self, events: List[Any], settings: Optional[List[Any]]) -> Optional[List[Any]]:
        # Hand each event to its stream, or act on it. State lock held.
        kinds = self._event_kinds
        streams = self._streams
        for event in events:
            kind = kinds.get(type(event), 0)
            if kind in STREAM_KINDS:
                stream = streams.get(event.stream_id)
                if stream is None:
                    if kind == DATA:
                        # A stream we let go: give back its connection window credit.
                        try:
                            self._h2_state.acknowledge_received_data(
                                event.flow_controlled_length, event.stream_id
                            )
                        except self._names.H2Error:
                            pass
                    continue
                stream.events.append(event)
                if kind == ENDED:
                    stream.remote_ended = True
                elif kind == RESET:
                    stream.remote_reset = True
                elif kind == RESPONSE:
                    stream.responded = True
                wakeup = stream.wakeup
                if wakeup is not None:
                    wakeup.set()
            elif kind == WINDOW:
                stream_id = event.stream_id
                for sleeper in self._sleeping.values():
                    if sleeper.sending and (stream_id == 0 or sleeper.stream_id == stream_id):
                        wakeup = sleeper.wakeup
                        if wakeup is not None:
                            wakeup.set()
            elif kind == SETTINGS:
                self._on_remote_settings(event)
                if settings is None:
                    settings = []
                settings.append(event)
            elif kind == TERMINATED:
                self._on_goaway(event)
            elif kind == PING_ACK:
                self._ping_acks.append(event.ping_data)
                checker = self._sleeping.get(0)
                if checker is not None and checker.wakeup is not None:
                    checker.wakeup.set()
        return settings

    def _on_remote_settings(self, event: Any) -> None:
        names = self._names
        changed = event.changed_settings
        if names.MAX_CONCURRENT_STREAMS in changed or not self._remote_settings_seen:
            self._remote_settings_seen = True
            limit = min(
                self._h2_state.remote_settings.max_concurrent_streams,
                LOCAL_MAX_CONCURRENT_STREAMS,
            )
            if limit > 0:
                self._max_streams = limit
                self._slots.set_limit(limit)
        if names.INITIAL_WINDOW_SIZE in changed:
            for sleeper in self._sleeping.values():
                if sleeper.sending and sleeper.wakeup is not None:
                    sleeper.wakeup.set()

    def _on_goaway(self, event: h2.events.ConnectionTerminated) -> None:
        # No new streams; refuse the unprocessed ones, abort the others unless graceful.
        self._goaway = event
        last_stream_id = event.last_stream_id or 0
        graceful = event.error_code == 0 and last_stream_id != 0
        for stream in self._streams.values():
            if last_stream_id != 0 and stream.stream_id > last_stream_id and not stream.responded:
                stream.refused = True
            elif not graceful:
                stream.aborted = True
        self._wake_all()

    def _raise_if_unavailable(self) -> None:
        # State lock held: no new stream on a closing, failed or exhausted connection.
        if self._state == CLOSED or self._goaway is not None or self._retired:
            raise ConnectionNotAvailable()
        error = self._read_exception or self._write_exception
        if error is not None:
            raise _again(error)

    async def _acknowledge(self, stream: H2Stream, size: int, timeout: float | None) -> None:
        # The caller consumed ``size`` flow-controlled bytes: let h2 give the window back.
        with self._state_lock:
            self._h2_state.acknowledge_received_data(size, stream.stream_id)
            flush = self._queue_outgoing()
        if flush:
            try:
                await self._flush(timeout)
            except Exception:
                # Remembered by ``_write``; the data is here all the same, and the reads
                # will tell whether more can come.
                pass

    async def _release(self, stream: Optional[H2Stream], holds_slot: bool) -> None:
        # A request is over (response closed, or failed): forget its stream, reset it if
        # h2 still counts it as open, return unread credit, free its slot.
        flush = False
        close = False
        with self._state_lock:
            if stream is not None:
                flush = self._discard_stream(stream)
            if holds_slot:
                self._slots.release()
            self._requests_in_flight -= 1
            if self._requests_in_flight == 0 and self._state != CLOSED:
                if (
                    self._goaway is not None
                    or self._retired
                    or self._read_exception is not None
                    or self._write_exception is not None
                ):
                    close = True
                elif self._state == ACTIVE:
                    self._state = IDLE
                    if self._keepalive_expiry is not None:
                        self._expire_at = monotonic() + self._keepalive_expiry
                    if self._ping_after_idle is not None:
                        self._idle_since = monotonic()
        if close:
            with AsyncShieldCancellation():
                await self.aclose()
        elif flush and self._initialized:
            # (Shielded only when there is I/O to do: a shield costs a few microseconds
            # when anyio is loaded, and most releases have none.)
            with AsyncShieldCancellation():
                try:
                    await self._flush(None)
                except Exception:
                    pass  # Remembered by _write; the request is over anyway.

    async def _check_liveness(
        self, request: Request, read_timeout: float | None, write_timeout: float | None
    ) -> None:
        # PING, and wait for its acknowledgement (module header). Any failure closes the
        # connection and becomes ConnectionNotAvailable.
        checker = H2Stream(0)
        self._ping_count += 1
        opaque = self._ping_count.to_bytes(8, "big")
        timeout = PING_TIMEOUT_S if read_timeout is None else min(read_timeout, PING_TIMEOUT_S)

        def ready() -> bool:
            return opaque in self._ping_acks

        try:
            async with _WriterTurn(self, write_timeout):
                with self._state_lock:
                    self._raise_if_unavailable()
                    self._h2_state.ping(opaque)
                    data = self._take_outgoing()
                await self._write(data, write_timeout)
            await self._wait_until(checker, ready, request, timeout, write_timeout)
        except Exception as exc:
            with AsyncShieldCancellation():
                await self.aclose()
            raise ConnectionNotAvailable() from exc
        finally:
            with self._state_lock:
                self._ping_acks.clear()
                liveness_check, self._liveness_check = self._liveness_check, None
            if liveness_check is not None:
                liveness_check.set()

    def _discard_stream(self, stream: H2Stream) -> bool:
        # State lock held: forget the stream, reset it if h2 still counts it as open, give
        # back the credit of DATA nobody read. Whether there is something to send.
        stream_id = stream.stream_id
        if self._streams.pop(stream_id, None) is None:
            return False
        self._sleeping.pop(stream_id, None)
        h2_state = self._h2_state
        h2_stream = h2_state.streams.get(stream_id)
        flush = False
        try:
            if h2_stream is not None and not h2_stream.closed:
                h2_state.reset_stream(stream_id, self._names.CANCEL)
                flush = True
            for event in stream.events:
                if self._event_kinds[type(event)] == DATA:
                    h2_state.acknowledge_received_data(event.flow_controlled_length, stream_id)
                    flush = True
        except self._names.H2Error:
            pass
        stream.events.clear()
        return flush

    # The connection interface.

    async def aclose(self) -> None:
        """Close the connection and its network stream, whatever its state."""
        with self._state_lock:
            if self._state == CLOSED:
                return
            if self._initialized:
                try:
                    self._h2_state.close_connection()
                except self._names.H2Error:
                    pass
            self._state = CLOSED
            self._wake_all()
        await self._network_stream.aclose()

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self._origin

    def is_available(self) -> bool:
        return (
            self._state != CLOSED
            and self._goaway is None
            and not self._retired
            and self._read_exception is None
            and self._write_exception is None
            and self._h2_state.state_machine.state != self._names.CLOSED
            and (
                not self._remote_settings_seen
                or self._requests_in_flight < self._max_streams
            )
        )

    def has_expired(self) -> bool:
        expire_at = self._expire_at
        return expire_at is not None and monotonic() > expire_at

    def is_idle(self) -> bool:
        return self._state == IDLE

    def is_closed(self) -> bool:
        return self._state == CLOSED

    def info(self) -> str:
        origin = str(self._origin)
        return (
            f"{origin!r}, HTTP/2, {_STATE_NAMES[self._state]}, "
            f"Request Count: {self._request_count}"
        )

    def __repr__(self) -> str:
        origin = str(self._origin)
        return (
            f"<{type(self).__name__} [{origin!r}, {_STATE_NAMES[self._state]}, "
            f"Request Count: {self._request_count}]>"
        )

    async def __aenter__(self) -> AsyncHTTP2Connection:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        await self.aclose()


class AsyncHTTP2ResponseStream:
    """The body of one HTTP/2 response: iterate it for the DATA payloads, close it to
    release the stream (idempotent). An error while iterating closes it, then propagates.
    Trailers, when the server sends them, go to the response extensions."""

    __slots__ = (
        "_connection",
        "_request",
        "_stream",
        "_extensions",
        "_read_timeout",
        "_write_timeout",
        "_deadline",
        "_traced",
        "_trace",
        "_done",
        "_closed",
    )

    def __init__(
        self,
        connection: AsyncHTTP2Connection,
        request: Request,
        stream: H2Stream,
        extensions: Dict[str, Any],
        read_timeout: float | None,
        write_timeout: float | None,
        traced: bool,
    ) -> None:
        self._connection = connection
        self._request = request
        self._stream = stream
        self._extensions = extensions
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        # The request's total deadline, if any, put back in force around each read.
        self._deadline: Optional[float] = None
        self._traced = traced
        self._trace: Optional[Trace] = None
        self._done = False
        self._closed = False

    def __aiter__(self) -> AsyncHTTP2ResponseStream:
        return self

    async def __anext__(self) -> bytes:
        if self._done or self._closed:
            raise StopAsyncIteration
        connection = self._connection
        stream = self._stream
        request_deadline = self._deadline
        deadline_token = None if request_deadline is None else deadline.reapply(request_deadline)
        try:
            if self._traced and self._trace is None:
                trace = Trace(
                    "receive_response_body",
                    logger,
                    self._request,
                    {"request": self._request, "stream_id": stream.stream_id},
                )
                await trace.__aenter__()
                self._trace = trace
            while True:
                event, kind = await connection._next_event(
                    stream, self._request, self._read_timeout, self._write_timeout
                )
                if kind == DATA:
                    size = event.flow_controlled_length
                    if size:
                        await connection._acknowledge(stream, size, self._write_timeout)
                    if event.data:
                        return bytes(event.data)
                elif kind == ENDED:
                    break
                elif kind == TRAILERS:
                    self._extensions[TRAILING_HEADERS] = list(event.headers)
                elif kind == RESET:
                    raise RemoteProtocolError(event)
                elif kind == INFORMATIONAL:
                    continue
            self._done = True
            finished, self._trace = self._trace, None
            if finished is not None:
                await finished.__aexit__(None, None, None)
        except BaseException as exc:
            self._done = True
            failed_trace, self._trace = self._trace, None
            with AsyncShieldCancellation():
                if failed_trace is not None:
                    await failed_trace.__aexit__(type(exc), exc, exc.__traceback__)
                await self.aclose()
            raise
        finally:
            if deadline_token is not None:
                deadline.leave(deadline_token)
        raise StopAsyncIteration

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        connection = self._connection
        if self._traced:
            async with Trace(
                "response_closed", logger, self._request, {"stream_id": self._stream.stream_id}
            ):
                await connection._release(self._stream, True)
        else:
            await connection._release(self._stream, True)


__all__ = ["AsyncHTTP2Connection", "AsyncHTTP2ResponseStream", "TRAILING_HEADERS"]
