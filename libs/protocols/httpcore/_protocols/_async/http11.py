# cython: annotation_typing=False
"""``AsyncHTTP11Connection``: one HTTP/1.1 connection over one network stream (API.md §6.3).

Built on our own sans-I/O codec (``httpcore._protocols._http11``): ``RequestHead`` validates
and serialises the request head, ``body_writer`` frames the body, ``ResponseParser`` turns
the bytes read into events. This module only moves bytes between the codec and the stream.

State machine (``_state``; one request at a time)::

    NEW ──request──> ACTIVE ──response closed, exchange clean──> IDLE ──request──> ACTIVE
                       └──response closed otherwise──> CLOSED   (close() from any state)

"Clean" means: the request was sent in full, the response was read to its end, and both
allow keep-alive (no ``Connection: close``, HTTP/1.1, not read-until-close, no protocol
switch). Anything else (an unread body, an error, a cancellation, a 101) closes the
connection. The state check of a new request and the decision of the response-closed
logic never suspend, so they are atomic in async code; in the generated sync code a thread
lock makes them so. Only closing the network stream awaits, shielded from cancellation.

Errors: a ``WriteError`` while sending is swallowed so that an early response (a server
rejecting an upload) is still read; if the server then sent nothing, the parser reports
"Server disconnected without sending a response.". Invalid request heads raise
``LocalProtocolError`` before anything is written; invalid responses ``RemoteProtocolError``.
A read error or disconnect before any response byte on a connection that had served a
request before is marked as a stale connection's (``_core._stale``): the pool may retry.

Cost per request, untraced: one validation pass over the headers (none for a head sent
before: ``request_head`` remembers valid heads, ``parse_head`` recent response heads), no
``Origin`` built for a URL with an explicit port; the head and a fixed
(bytes) body of up to ``COALESCE_BODY_BYTES`` go out in one ``write``; one ``read`` when the
response arrives in one piece. Tracing (``Trace`` scopes) is entered only when the
``httpcore.http11`` logger is enabled for DEBUG or the request has a ``"trace"`` extension.
"""

from __future__ import annotations

import logging
import ssl
from time import monotonic
from types import TracebackType
from typing import Any, AsyncIterable, Optional, Type

from httpcore._backends._base import AsyncNetworkStream
from httpcore._core._bytestreams import BodyStream, ByteStream
from httpcore._core import _deadline as deadline
from httpcore._core._exceptions import (
    ConnectionNotAvailable,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    WriteError,
    WriteTimeout,
)
from httpcore._core._models import Origin, Request, Response
from httpcore._core._stale import mark_stale_connection_error
from httpcore._core._synchronization import AsyncShieldCancellation, AsyncThreadLock
from httpcore._core._trace import Trace
from httpcore._core._urls import require_origin
from httpcore._protocols._http11 import (
    NEED_DATA,
    BodyWriter,
    Data,
    RequestHead,
    ResponseHead,
    ResponseParser,
    body_writer,
    request_head,
)

from .connection_interface import AsyncConnectionInterface

logger = logging.getLogger("httpcore.http11")

# Connection states; ``_STATE_NAMES`` gives their names for ``info()`` and ``repr()``.
NEW = 0
ACTIVE = 1
IDLE = 2
CLOSED = 3
_STATE_NAMES = ("NEW", "ACTIVE", "IDLE", "CLOSED")

# A fixed body up to this size is sent in the same write as the head (one copy of it);
# a larger one is written on its own, uncopied.
COALESCE_BODY_BYTES = 64 * 1024

_HTTP_VERSIONS = {b"1.1": b"HTTP/1.1", b"1.0": b"HTTP/1.0"}


class AsyncHTTP11Connection(AsyncConnectionInterface):
    """An HTTP/1.1 connection to ``origin`` over an open network ``stream``.

    Serves one request at a time; a request arriving while another is in flight, or after
    the connection closed, raises ``ConnectionNotAvailable``. An idle connection expires
    ``keepalive_expiry`` seconds after its last response was closed (``None``: never), or
    as soon as its stream becomes readable (the server closed it).
    """

    READ_NUM_BYTES = 64 * 1024
    MAX_INCOMPLETE_EVENT_SIZE = 100 * 1024

    def __init__(
        self,
        origin: Origin,
        stream: AsyncNetworkStream,
        keepalive_expiry: float | None = None,
    ) -> None:
        self._origin = origin
        self._network_stream = stream
        self._keepalive_expiry = keepalive_expiry
        self._expire_at: Optional[float] = None
        self._state = NEW
        self._request_count = 0
        self._state_lock = AsyncThreadLock()
        self._parser: Optional[ResponseParser] = None
        # Whether the current request went out in full (a swallowed WriteError leaves it
        # False, and the connection is then not reused).
        self._request_sent = False
        # Whether any byte of the current response arrived (see ``_core._stale``).
        self._response_bytes = False
        # The total deadline of the request in progress (``_core._deadline``), or None.
        self._deadline: Optional[float] = None

    # Sending a request.

    async def handle_async_request(self, request: Request) -> Response:
        """Send ``request`` and return the response, its body still to be read.

        Raises RuntimeError for a request to another origin, ConnectionNotAvailable when
        busy or closed, LocalProtocolError for an invalid request, RemoteProtocolError for
        an invalid or missing response, and the network errors of the stream.
        """
        require_origin(request.url, self._origin)
        with self._state_lock:
            if self._state == NEW or self._state == IDLE:
                self._request_count += 1
                self._state = ACTIVE
                self._expire_at = None
                self._request_sent = False
                self._response_bytes = False
            else:
                raise ConnectionNotAvailable()

        extensions = request.extensions
        timeouts = extensions.get("timeout", {})
        write_timeout = timeouts.get("write", None)
        read_timeout = timeouts.get("read", None)
        deadline_token = deadline.enter(timeouts) if deadline.TOTAL in timeouts else None
        # The request's total deadline (or None), for every wait of this exchange; the
        # response stream keeps it for the body, read after this call returns.
        self._deadline = request_deadline = deadline.current()
        # The same decision ``Trace`` makes for each scope, taken once per request.
        traced = extensions.get("trace") is not None or logger.isEnabledFor(logging.DEBUG)
        try:
            if traced:
                head = await self._traced_exchange(request, write_timeout, read_timeout)
            else:
                try:
                    await self._send_request(request, write_timeout)
                except WriteError:
                    pass  # Read the response anyway: the server may have answered early.
                head = await self._receive_response_head(read_timeout)
        except BaseException as exc:
            with AsyncShieldCancellation():
                if traced:
                    async with Trace("response_closed", logger, request):
                        await self._response_closed()
                else:
                    await self._response_closed()
            if (
                not self._response_bytes
                and self._request_count > 1
                and isinstance(exc, (RemoteProtocolError, ReadError))
            ):
                # Reused, and gone before answering: perhaps closed while idle.
                mark_stale_connection_error(exc)
            raise
        finally:
            if deadline_token is not None:
                deadline.leave(deadline_token)

        http_version = _HTTP_VERSIONS.get(head.http_version)
        if http_version is None:
            http_version = b"HTTP/" + head.http_version
        parser = self._parser
        assert parser is not None
        network_stream = self._network_stream
        if parser.switched_protocols:
            network_stream = AsyncHTTP11UpgradeStream(network_stream, parser.trailing_data())
        # The parser's header list is new and handed over; a traced exchange reported it in
        # an event already, so the response gets its own copy.
        return Response._coerced(
            head.status_code,
            list(head.headers) if traced else head.headers,
            AsyncHTTP11ResponseStream(self, request, read_timeout, request_deadline, traced),
            {
                "http_version": http_version,
                "reason_phrase": head.reason,
                "network_stream": network_stream,
            },
        )

    async def _traced_exchange(
        self, request: Request, write_timeout: float | None, read_timeout: float | None
    ) -> ResponseHead:
        # The exchange of ``handle_async_request`` inside its trace scopes (API.md §11.2).
        kwargs = {"request": request}
        try:
            async with Trace("send_request_headers", logger, request, kwargs):
                head = self._start_exchange(request)
                await self._network_stream.write(
                    head.data, self._bound(write_timeout, WriteTimeout)
                )
            async with Trace("send_request_body", logger, request, kwargs):
                await self._send_body(request.stream, body_writer(head), write_timeout)
                self._request_sent = True
        except WriteError:
            pass  # As in handle_async_request.
        async with Trace("receive_response_headers", logger, request, kwargs) as trace:
            response_head = await self._receive_response_head(read_timeout)
            trace.return_value = (
                b"HTTP/" + response_head.http_version,
                response_head.status_code,
                response_head.reason,
                response_head.headers,
            )
        return response_head

    def _start_exchange(self, request: Request) -> RequestHead:
        # Validate the head (LocalProtocolError) and ready the parser for its response.
        head = request_head(request.method, request.url.target, request.headers)
        parser = self._parser
        if parser is None:
            # One byte more than h11's bound, so that a head whose lines fill 100 KiB is
            # still accepted when its final empty line arrives (as with h11).
            self._parser = ResponseParser(
                head.method,
                request_close=head.close,
                request_upgrade=head.upgrade,
                max_incomplete_bytes=self.MAX_INCOMPLETE_EVENT_SIZE + 1,
            )
        else:
            parser.start_next_cycle(
                head.method, request_close=head.close, request_upgrade=head.upgrade
            )
        return head

    def _bound(self, timeout: float | None, error: Type[Exception]) -> float | None:
        # ``timeout``, or less: what is left before the request's total deadline.
        request_deadline = self._deadline
        if request_deadline is None:
            return timeout
        return deadline.bound_by(timeout, request_deadline, error)

    async def _send_request(self, request: Request, timeout: float | None) -> None:
        head = self._start_exchange(request)
        network_stream = self._network_stream
        writer = body_writer(head)
        stream = request.stream
        # The whole body when it is held in memory (a ``ByteStream`` is one fixed chunk).
        body = stream._content if type(stream) is ByteStream else None
        if body is None:
            await network_stream.write(head.data, self._bound(timeout, WriteTimeout))
            await self._send_body(request.stream, writer, timeout)
        else:
            data = writer.write(body)
            end = writer.end()
            if not data and not end:
                await network_stream.write(head.data, self._bound(timeout, WriteTimeout))
            elif len(data) <= COALESCE_BODY_BYTES:
                await network_stream.write(
                    b"".join((head.data, data, end)),
                    timeout if self._deadline is None else self._bound(timeout, WriteTimeout),
                )
            else:
                await network_stream.write(head.data, self._bound(timeout, WriteTimeout))
                await network_stream.write(data, self._bound(timeout, WriteTimeout))
                if end:
                    await network_stream.write(end, self._bound(timeout, WriteTimeout))
        self._request_sent = True

    async def _send_body(
        self, stream: BodyStream, writer: BodyWriter, timeout: float | None
    ) -> None:
        if not isinstance(stream, AsyncIterable):
            raise TypeError(
                "The request body must be bytes or an "
                f"AsyncIterable of bytes, but got {type(stream).__name__}."
            )
        network_stream = self._network_stream
        try:
            async for chunk in stream:
                data = writer.write(chunk)
                if data:
                    await network_stream.write(data, self._bound(timeout, WriteTimeout))
        except BaseException:
            # Finish a body generator we stopped early, rather than leave it to the
            # garbage collector (which runs it outside any task).
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with AsyncShieldCancellation():
                    await aclose()
            raise
        end = writer.end()
        if end:
            await network_stream.write(end, self._bound(timeout, WriteTimeout))

    # Receiving the response.

    async def _receive_response_head(self, timeout: float | None) -> ResponseHead:
        # The final response head; interim 1xx responses other than 101 are skipped.
        parser = self._parser
        assert parser is not None
        network_stream = self._network_stream
        while True:
            event = parser.next_event()
            if event is NEED_DATA:
                # ``_receive_data``, inline: the usual response needs one read here.
                data = await network_stream.read(
                    self.READ_NUM_BYTES,
                    timeout if self._deadline is None else self._bound(timeout, ReadTimeout),
                )
                if data:
                    self._response_bytes = True
                    parser.feed(data)
                else:
                    parser.feed_eof()
            elif type(event) is ResponseHead:
                status = event.status_code
                if status >= 200 or status == 101:
                    return event

    async def _receive_data(self, parser: ResponseParser, timeout: float | None) -> None:
        data = await self._network_stream.read(self.READ_NUM_BYTES, timeout)
        if data:
            parser.feed(data)
        else:
            parser.feed_eof()

    async def _response_closed(self) -> None:
        # Reuse the connection after a clean exchange, else close it (see the module header).
        if not self._end_exchange():
            with AsyncShieldCancellation():
                await self._network_stream.aclose()

    def _end_exchange(self) -> bool:
        # True: the exchange ended cleanly and the connection is idle again. False: it is
        # marked closed, and its network stream is the caller's to close.
        with self._state_lock:
            parser = self._parser
            if (
                self._state == ACTIVE
                and self._request_sent
                and parser is not None
                and parser.complete
                and parser.keep_alive
            ):
                self._state = IDLE
                if self._keepalive_expiry is not None:
                    self._expire_at = monotonic() + self._keepalive_expiry
                return True
            self._state = CLOSED
            return False

    # The connection interface.

    async def aclose(self) -> None:
        """Close the connection and its network stream, whatever its state."""
        self._state = CLOSED
        await self._network_stream.aclose()

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self._origin

    def is_available(self) -> bool:
        # A new connection is not available: its first request is already on its way.
        return self._state == IDLE

    def has_expired(self) -> bool:
        expire_at = self._expire_at
        if expire_at is not None and monotonic() > expire_at:
            return True
        # An idle connection with something to read has been closed by the server (or it
        # sent bytes nobody asked for): either way it cannot be reused.
        return self._state == IDLE and bool(self._network_stream.get_extra_info("is_readable"))

    def is_idle(self) -> bool:
        return self._state == IDLE

    def is_closed(self) -> bool:
        return self._state == CLOSED

    def info(self) -> str:
        origin = str(self._origin)
        return (
            f"{origin!r}, HTTP/1.1, {_STATE_NAMES[self._state]}, "
            f"Request Count: {self._request_count}"
        )

    def __repr__(self) -> str:
        origin = str(self._origin)
        return (
            f"<{type(self).__name__} [{origin!r}, {_STATE_NAMES[self._state]}, "
            f"Request Count: {self._request_count}]>"
        )

    async def __aenter__(self) -> AsyncHTTP11Connection:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        await self.aclose()


class AsyncHTTP11ResponseStream:
    """The body of one response: iterate it for the chunks, close it to release the
    connection (idempotent). An error while iterating closes it, then propagates.
    Once the body has ended, or the stream was closed, iterating yields nothing."""

    __slots__ = (
        "_connection",
        "_request",
        "_timeout",
        "_deadline",
        "_traced",
        "_trace",
        "_done",
        "_closed",
    )

    def __init__(
        self,
        connection: AsyncHTTP11Connection,
        request: Request,
        timeout: float | None,
        request_deadline: float | None,
        traced: bool,
    ) -> None:
        self._connection = connection
        self._request = request
        self._timeout = timeout
        self._deadline = request_deadline
        self._traced = traced
        # The "receive_response_body" scope, open from the first chunk asked to the end.
        self._trace: Optional[Trace] = None
        # The body has ended, or failed: iterating again yields nothing.
        self._done = False
        self._closed = False

    def __aiter__(self) -> AsyncHTTP11ResponseStream:
        return self

    async def __anext__(self) -> bytes:
        if self._done or self._closed:
            raise StopAsyncIteration
        connection = self._connection
        parser = connection._parser
        assert parser is not None
        try:
            if self._traced and self._trace is None:
                trace = Trace(
                    "receive_response_body", logger, self._request, {"request": self._request}
                )
                await trace.__aenter__()
                self._trace = trace
            while True:
                event = parser.next_event()
                if type(event) is Data:
                    return event.data
                if event is not NEED_DATA:
                    break  # EndOfMessage, or PAUSED after it or after a protocol switch.
                timeout = self._timeout
                request_deadline = self._deadline
                if request_deadline is not None:
                    timeout = deadline.bound_by(timeout, request_deadline, ReadTimeout)
                await connection._receive_data(parser, timeout)
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
        raise StopAsyncIteration

    def close_at_once(self) -> bool:
        """Close without awaiting anything when the connection can be kept: True when the
        stream is closed and its connection idle again. False otherwise, with the connection
        marked closed, or traced (whose close reports to the trace callback): ``aclose()``
        must then run. The pool asks this first, so that a kept-alive response needs no
        cancellation shield (a few microseconds each when anyio is loaded)."""
        if self._closed:
            return True
        if self._traced or not self._connection._end_exchange():
            return False
        self._closed = True
        return True

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._traced:
            async with Trace("response_closed", logger, self._request):
                await self._connection._response_closed()
        else:
            await self._connection._response_closed()


class AsyncHTTP11UpgradeStream(AsyncNetworkStream):
    """The network stream after a protocol switch (101, or 2xx to CONNECT): first the
    bytes the parser had received beyond the response head, then the stream itself."""

    def __init__(self, stream: AsyncNetworkStream, leftover: bytes) -> None:
        self._stream = stream
        self._leftover = leftover

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        leftover = self._leftover
        if leftover:
            self._leftover = leftover[max_bytes:]
            return leftover[:max_bytes]
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        return await self._stream.start_tls(ssl_context, server_hostname, timeout)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


__all__ = [
    "AsyncHTTP11Connection",
    "AsyncHTTP11ResponseStream",
    "AsyncHTTP11UpgradeStream",
]
