"""The HTTP/1.1 response parser: a sans-I/O state machine, bytes in, events out.

HOT MODULE: compiled by Cython 3 in pure-Python mode (listed in ``build_config.bzl``), with
``_parser.pxd`` making its classes extension types; the same file also runs interpreted, and
both forms must behave identically.

One parser reads the response(s) to one request; ``start_next_cycle`` readies it for the
next request on a kept-alive connection, keeping any bytes already received.

States and transitions (``next_event`` returns at most one event per call)::

    HEAD ─1xx (not 101)─> HEAD                  returns ResponseHead (interim)
    HEAD ─101, or 2xx to CONNECT─> SWITCHED     returns ResponseHead, then PAUSED
    HEAD ─HEAD request / 204 / 304─> LENGTH 0   returns ResponseHead, EndOfMessage
    HEAD ─Content-Length─> LENGTH ─> DONE
    HEAD ─chunked─> CHUNK_SIZE ─> CHUNK_DATA ─> CHUNK_END ─> CHUNK_SIZE ...
                    CHUNK_SIZE ─size 0─> TRAILERS ─> DONE
    HEAD ─neither─> UNTIL_CLOSE ─EOF─> DONE     (RFC 9112 §6.3: read until close)
    any ─error─> ERROR                          (the same error is raised again)

Framing (RFC 9112 §6.3), decided on the final response head: no body for a HEAD request,
1xx, 204 and 304; then Transfer-Encoding: chunked; then Content-Length; else the body runs
until the server closes. A response with both Transfer-Encoding and Content-Length is read
as chunked, as h11 does, and its connection is not kept alive: RFC 9112 §6.3 says such a
message "ought to be handled as an error", and real servers that send both exist, so it is
read (compatibility with 1.0.9) but never trusted for reuse.

Bounds: at most ``max_incomplete_bytes`` (default 100 KiB) of a head, chunk-size line or trailer
section may be buffered while its end is missing, and a complete one may not be longer than
that plus its final byte: the same bound h11 applies with max_incomplete_event_size=100 KiB
when fed one byte at a time, but independent of how the input is split. Chunk sizes have
at most 20 hex digits (h11's bound; Python ints cannot overflow).

End of input (``feed_eof``): before the final head is complete -> RemoteProtocolError
"Server disconnected without sending a response." (what httpcore users see, whether or not
some bytes or interim responses came first); inside a Content-Length body -> "peer closed
connection without sending complete message body (received N bytes, expected M)"; inside a
chunked body -> "... (incomplete chunked read)", or "peer unexpectedly closed connection"
when a partial chunk-size line or trailer section is buffered (h11's wording for each).

Other rules: a 101 is accepted only when the request carried ``Upgrade`` (as in h11); a
status below 100 is rejected; a buffered head starting with SP or a control byte is rejected
before it is complete (it cannot start with "HTTP/").

Errors: every malformed input raises ``RemoteProtocolError`` from ``next_event``; nothing
else escapes (``feed`` never raises for input; it raises RuntimeError only when misused
after ``feed_eof``). Messages are h11's for the same input (users of httpcore saw those),
except for our own rejections: obs-fold (``_head``), both framings, NUL or CR in a chunk
extension.

Keep-alive (RFC 9112 §9.3): the connection can carry another request after this response
only if neither side sent ``Connection: close``, the response is HTTP/1.1 or later, its
body is not delimited by the close, and the protocol was not switched.

Cost: O(1) amortised per received byte: a head is found with at most two searches that
resume where the previous one stopped (``ReceiveBuffer``), body bytes are handed out in the
largest runs available, and a fed object that is all body comes back out without a copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from httpcore._core._exceptions import RemoteProtocolError
from httpcore._protocols._http11._events import (
    NEED_DATA,
    PAUSED,
    Data,
    EndOfMessage,
    Marker,
    ResponseHead,
)
from httpcore._protocols._http11._head import parse_head, parse_trailers
from httpcore._protocols._http11._receive_buffer import ReceiveBuffer

if TYPE_CHECKING:
    # Aliases Cython cannot resolve, so both forms accept the same argument types (and so
    # that the C types in _parser.pxd are the ones that apply).
    Buffer = Union[bytes, bytearray, memoryview]
    Bytes = bytes
    Int = int

Event = Union[ResponseHead, Data, EndOfMessage, Marker]

MAX_INCOMPLETE_BYTES = 100 * 1024
MAX_CHUNK_SIZE_DIGITS = 20

SERVER_DISCONNECTED = "Server disconnected without sending a response."
PEER_CLOSED = "peer unexpectedly closed connection"
INCOMPLETE_CHUNKED = (
    "peer closed connection without sending complete message body (incomplete chunked read)"
)
TOO_LONG = "Receive buffer too long"
LEADING_WHITESPACE = "illegal request line"  # h11's words (sic) for this response error

# Parser states.
HEAD = 0
LENGTH = 1
CHUNK_SIZE = 2
CHUNK_DATA = 3
CHUNK_END = 4
TRAILERS = 5
UNTIL_CLOSE = 6
DONE = 7
SWITCHED = 8
ERROR = 9

_HEX_DIGITS = b"0123456789abcdefABCDEF"


def _chunk_size(line: bytes) -> int:
    # RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF; chunk-size = 1*HEXDIG. Extensions are
    # ignored but may not contain NUL or CR (h11 accepts them; a bare CR is a classic
    # request-smuggling ingredient). Like h11, whitespace may follow the size only when
    # no extension follows (RFC 9112 allows BWS before ";", h11 does not).
    semicolon = line.find(b";")
    digits = line[:semicolon] if semicolon >= 0 else line.rstrip(b" \t")
    if (
        not 0 < len(digits) <= MAX_CHUNK_SIZE_DIGITS
        or digits.strip(_HEX_DIGITS)
        or b"\n" in line
    ):
        line += b"\r\n"
        raise RemoteProtocolError(f"illegal chunk header: {bytearray(line)!r}")
    if semicolon >= 0 and (b"\x00" in line or b"\r" in line):
        raise RemoteProtocolError(f"chunk extension with NUL or CR: {line!r}")
    return int(digits, 16)


class ResponseParser:
    """Parse the response to one HTTP/1.1 request, incrementally.

    ``request_method`` is the method sent (``b"HEAD"`` responses have no body, 2xx to
    ``b"CONNECT"`` switch protocols; methods are case-sensitive). ``request_close``: the
    request carried ``Connection: close``. ``request_upgrade``: the request carried an
    ``Upgrade`` header, so a 101 response is allowed (without one it is an error).
    ``max_incomplete_bytes``: the size bound of heads, chunk-size lines and trailer
    sections (see the module comment), h11's ``max_incomplete_event_size``.
    """

    __slots__ = (
        "_buffer",
        "_state",
        "_eof",
        "_error",
        "_method",
        "_request_close",
        "_request_upgrade",
        "_keep_alive",
        "_remaining",
        "_received",
        "_expected",
        "_footer",
        "_max_incomplete",
    )

    def __init__(
        self,
        request_method: Bytes,
        *,
        request_close: bool = False,
        request_upgrade: bool = False,
        max_incomplete_bytes: int = MAX_INCOMPLETE_BYTES,
    ) -> None:
        self._buffer = ReceiveBuffer()
        self._eof = False
        self._max_incomplete = max_incomplete_bytes
        self._reset(request_method, request_close, request_upgrade)

    def _reset(self, request_method: Bytes, request_close: bool, request_upgrade: bool) -> None:
        self._state = HEAD
        self._error = ""
        self._method = request_method
        self._request_close = bool(request_close)
        self._request_upgrade = bool(request_upgrade)
        self._keep_alive = False
        self._remaining = 0
        self._received = 0
        self._expected = 0
        self._footer = b"\r\n"

    # Input.

    def feed(self, data: Buffer) -> None:
        """Add bytes received from the server (any bytes-like object; empty is a no-op)."""
        if self._eof:
            raise RuntimeError("feed() called after feed_eof()")
        self._buffer.feed(data)

    def feed_eof(self) -> None:
        """Note that the server closed its side of the connection."""
        self._eof = True

    # State.

    @property
    def keep_alive(self) -> bool:
        """Whether the connection may carry another request once this response is
        complete (False until the final response head has been parsed)."""
        return self._keep_alive

    @property
    def complete(self) -> bool:
        """Whether the response, body included, has been returned in full
        (``EndOfMessage`` was returned)."""
        return self._state == DONE

    @property
    def switched_protocols(self) -> bool:
        """Whether the response switched protocols (101, or 2xx to CONNECT)."""
        return self._state == SWITCHED

    @property
    def eof_received(self) -> bool:
        return self._eof

    def trailing_data(self) -> bytes:
        """Consume and return the bytes received but not parsed: after a 101 or a 2xx
        response to CONNECT, the first bytes of the new protocol."""
        return self._buffer.take_all()

    def start_next_cycle(
        self,
        request_method: Bytes,
        *,
        request_close: bool = False,
        request_upgrade: bool = False,
    ) -> None:
        """Get ready for the response to the next request on this connection.

        Allowed only after a complete response that keeps the connection alive; bytes
        already received after it are kept and parsed as the next response.
        """
        if self._state != DONE or not self._keep_alive:
            raise RuntimeError("the connection cannot carry another request")
        self._reset(request_method, request_close, request_upgrade)

    # Output.

    def next_event(self) -> Event:
        """Return the next event, ``NEED_DATA`` (feed more, or the end of input), or
        ``PAUSED`` (nothing more for this request). Raises RemoteProtocolError."""
        state = self._state
        try:
            if state == LENGTH:
                return self._next_length_data()
            if state == HEAD:
                return self._next_head()
            if state == CHUNK_DATA or state == CHUNK_SIZE or state == CHUNK_END:
                return self._next_chunked()
            if state == UNTIL_CLOSE:
                return self._next_until_close()
            if state == TRAILERS:
                return self._next_trailers()
            if state == ERROR:
                raise RemoteProtocolError(self._error)
            return PAUSED
        except RemoteProtocolError as exc:
            if self._state != ERROR:
                self._state = ERROR
                self._error = str(exc)
            self._keep_alive = False
            raise

    # Head.

    def _next_head(self) -> Event:
        buffer = self._buffer
        size = len(buffer)
        section = buffer.maybe_take_section()
        if section is None:
            # A status line starts with "HTTP/": a buffered head that starts with a control
            # byte or SP can be rejected before it is complete (h11 does so too).
            if 0 <= buffer.first_byte() <= 32:
                raise RemoteProtocolError(LEADING_WHITESPACE)
            if size > self._max_incomplete:
                raise RemoteProtocolError(TOO_LONG)
            if self._eof:
                raise RemoteProtocolError(SERVER_DISCONNECTED)
            return NEED_DATA
        if size - len(buffer) > self._max_incomplete + 1:
            raise RemoteProtocolError(TOO_LONG)
        head, fields = parse_head(section)
        status = head.status_code
        if status < 100:
            raise RemoteProtocolError(
                f"InformationalResponse status_code should be in range [100, 200), not {status}"
            )
        if status < 200:
            if status == 101:
                if not self._request_upgrade:
                    raise RemoteProtocolError(
                        "Received server _SWITCH_UPGRADE event without a pending proposal"
                    )
                self._state = SWITCHED
            return head
        if status < 300 and self._method == b"CONNECT":
            self._state = SWITCHED
            return head
        # Both Transfer-Encoding and Content-Length: chunked wins (RFC 9112 §6.3 rule 3, as
        # h11 does), but the framing is suspect (smuggling), so the connection is not reused.
        both_framings = fields.chunked and fields.content_length >= 0
        self._keep_alive = not (
            self._request_close or fields.close or head.http_version < b"1.1" or both_framings
        )
        if status == 204 or status == 304 or self._method == b"HEAD":
            self._start_length_body(0)
        elif fields.chunked:
            self._state = CHUNK_SIZE
        elif fields.content_length >= 0:
            self._start_length_body(fields.content_length)
        else:
            self._state = UNTIL_CLOSE
            self._keep_alive = False
        return head

    # Content-Length body (RFC 9112 §6.3 rule 6), and "no body" as a length of 0.

    def _start_length_body(self, length: Int) -> None:
        self._state = LENGTH
        self._remaining = length
        self._expected = length
        self._received = 0

    def _next_length_data(self) -> Event:
        remaining = self._remaining
        if remaining == 0:
            self._state = DONE
            return EndOfMessage([])
        data = self._buffer.take(remaining)
        if data:
            self._remaining = remaining - len(data)
            self._received += len(data)
            return Data(data)
        if self._eof:
            raise RemoteProtocolError(
                "peer closed connection without sending complete message body "
                f"(received {self._received} bytes, expected {self._expected})"
            )
        return NEED_DATA

    # Chunked body (RFC 9112 §7.1).

    def _next_chunked(self) -> Event:
        buffer = self._buffer
        while True:
            state = self._state
            if state == CHUNK_DATA:
                data = buffer.take(self._remaining)
                if not data:
                    break
                self._remaining -= len(data)
                if self._remaining == 0:
                    self._state = CHUNK_END
                    self._footer = b"\r\n"
                return Data(data)
            if state == CHUNK_END:
                # The CRLF after chunk data, checked as far as it has arrived (like h11,
                # which reports the bytes it got and the part still expected).
                expected = self._footer
                got = buffer.take(len(expected))
                if got != expected:
                    if not expected.startswith(got):
                        raise RemoteProtocolError(
                            f"malformed chunk footer: {bytearray(got)!r} (expected {expected!r})"
                        )
                    self._footer = expected[len(got) :]
                    break
                self._state = CHUNK_SIZE
            else:
                line = buffer.maybe_take_line()
                if line is None:
                    size = len(buffer)
                    if size > self._max_incomplete:
                        raise RemoteProtocolError(TOO_LONG)
                    if self._eof:
                        raise RemoteProtocolError(PEER_CLOSED if size else INCOMPLETE_CHUNKED)
                    return NEED_DATA
                if len(line) + 1 > self._max_incomplete:
                    raise RemoteProtocolError(TOO_LONG)
                chunk_size = _chunk_size(line)
                if chunk_size == 0:
                    self._state = TRAILERS
                    return self._next_trailers()
                self._remaining = chunk_size
                self._state = CHUNK_DATA
        if self._eof:
            raise RemoteProtocolError(INCOMPLETE_CHUNKED)
        return NEED_DATA

    def _next_trailers(self) -> Event:
        buffer = self._buffer
        size = len(buffer)
        section = buffer.maybe_take_section()
        if section is None:
            if size > self._max_incomplete:
                raise RemoteProtocolError(TOO_LONG)
            if self._eof:
                raise RemoteProtocolError(PEER_CLOSED if size else INCOMPLETE_CHUNKED)
            return NEED_DATA
        if size - len(buffer) > self._max_incomplete + 1:
            raise RemoteProtocolError(TOO_LONG)
        fields = parse_trailers(section)
        self._state = DONE
        return EndOfMessage(fields.headers)

    # Body delimited by the end of the connection (RFC 9112 §6.3 rule 8).

    def _next_until_close(self) -> Event:
        data = self._buffer.take_all()
        if data:
            return Data(data)
        if self._eof:
            self._state = DONE
            return EndOfMessage([])
        return NEED_DATA
