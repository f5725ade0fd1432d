"""The sans-I/O side of the HTTP/2 connections: h2 loaded on first use, the mapping of a
request to HTTP/2 header fields, the per-stream record, and a scanner that takes GOAWAY
frames out of the inbound bytes before h2 sees them.

Why the scanner: h2 closes its connection state machine on a GOAWAY, after which it raises
on every further frame, and an exception from ``receive_data`` loses the events of the
frames that came before it in the same read. A server shutting down gracefully sends
GOAWAY and then completes the streams it has processed (RFC 9113 §6.8), so the client
must keep receiving them. The scanner splits the bytes at each GOAWAY frame: the bytes
around it go to h2 unchanged, the frame itself is decoded here and handled by the
connection. Cost: one step per frame header (a few integer reads), nothing for the payload;
the bytes are passed on uncopied unless a GOAWAY or a split frame header is found.
"""

from __future__ import annotations

import collections
import re
from typing import (
    TYPE_CHECKING,
    Any,
    Deque,
    Dict,
    List,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    Type,
    Union,
)

from httpcore._core._exceptions import LocalProtocolError, RemoteProtocolError

if TYPE_CHECKING:
    import h2.connection
    import h2.events

H2_MISSING = (
    "HTTP/2 support needs the 'h2' package: install it with 'pip install httpcore[http2]'."
)

# Our SETTINGS (API.md §6.4): no server push, at most 100 concurrent streams each way,
# response heads up to 64 KiB; h2's defaults for the rest.
LOCAL_MAX_CONCURRENT_STREAMS = 100
LOCAL_MAX_HEADER_LIST_SIZE_BYTES = 65536

# Kinds of h2 events, for one dict lookup per event instead of an isinstance chain.
OTHER = 0
RESPONSE = 1
INFORMATIONAL = 2
DATA = 3
TRAILERS = 4
ENDED = 5
RESET = 6
SETTINGS = 7
WINDOW = 8
TERMINATED = 9
PING_ACK = 10
# The kinds queued for the stream they name.
STREAM_KINDS = frozenset((RESPONSE, INFORMATIONAL, DATA, TRAILERS, ENDED, RESET))


class H2Names:
    """The parts of h2 the connections use, imported once, on first use."""

    def __init__(self) -> None:
        try:
            import h2.config
            import h2.connection
            import h2.errors
            import h2.events
            import h2.exceptions
            import h2.settings
        except ImportError as exc:
            raise RuntimeError(H2_MISSING) from exc
        self.H2Error = h2.exceptions.H2Error
        self.NoAvailableStreamIDError = h2.exceptions.NoAvailableStreamIDError
        self.ConnectionTerminated = h2.events.ConnectionTerminated
        self.ErrorCodes = h2.errors.ErrorCodes
        self.CANCEL = h2.errors.ErrorCodes.CANCEL
        self.MAX_CONCURRENT_STREAMS = h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS
        self.INITIAL_WINDOW_SIZE = h2.settings.SettingCodes.INITIAL_WINDOW_SIZE
        self.CLOSED = h2.connection.ConnectionState.CLOSED
        self._h2_config = h2.config
        self._h2_connection = h2.connection
        self._h2_settings = h2.settings
        self.event_kinds: Dict[Type[Any], int] = {
            h2.events.ResponseReceived: RESPONSE,
            h2.events.InformationalResponseReceived: INFORMATIONAL,
            h2.events.DataReceived: DATA,
            h2.events.TrailersReceived: TRAILERS,
            h2.events.StreamEnded: ENDED,
            h2.events.StreamReset: RESET,
            h2.events.RemoteSettingsChanged: SETTINGS,
            h2.events.WindowUpdated: WINDOW,
            h2.events.ConnectionTerminated: TERMINATED,
            h2.events.PingAckReceived: PING_ACK,
        }

    def client_connection(self) -> h2.connection.H2Connection:
        """A client-side h2 state machine with our local settings (not yet sent)."""
        config = self._h2_config.H2Configuration(
            client_side=True, validate_inbound_headers=False
        )
        state = self._h2_connection.H2Connection(config=config)
        codes = self._h2_settings.SettingCodes
        settings = self._h2_settings.Settings(
            client=True,
            initial_values={
                codes.ENABLE_PUSH: 0,
                codes.MAX_CONCURRENT_STREAMS: LOCAL_MAX_CONCURRENT_STREAMS,
                codes.MAX_HEADER_LIST_SIZE: LOCAL_MAX_HEADER_LIST_SIZE_BYTES,
            },
        )
        # Servers that predate RFC 8441 reject a setting they do not know of.
        del settings[codes.ENABLE_CONNECT_PROTOCOL]
        state.local_settings = settings
        return state

    def goaway_event(self, goaway: GoAway) -> h2.events.ConnectionTerminated:
        """The h2 event a GOAWAY frame taken out by the scanner stands for."""
        event = self.ConnectionTerminated()
        try:
            event.error_code = self.ErrorCodes(goaway.error_code)
        except ValueError:
            event.error_code = goaway.error_code
        event.last_stream_id = goaway.last_stream_id
        event.additional_data = goaway.additional_data
        return event


_names: Optional[H2Names] = None


def h2_names() -> H2Names:
    """The h2 names, importing h2 the first time; RuntimeError when h2 is missing."""
    global _names
    if _names is None:
        _names = H2Names()
    return _names


# Request header fields.

# Connection-specific fields have no meaning in HTTP/2 and make a request malformed
# (RFC 9113 §8.2.2); like Host (which becomes :authority) and Transfer-Encoding they are
# dropped, as is TE unless it is "trailers". What h2 would refuse is refused here, before
# h2 starts HPACK-encoding the block.
_DROPPED_NAMES = frozenset(
    (b"host", b"transfer-encoding", b"connection", b"keep-alive", b"proxy-connection", b"upgrade")
)
# RFC 9113 §8.2.1: a field name is a lower-case token (RFC 9110 §5.6.2); a field value
# holds no NUL, CR or LF and does not start or end with SP or HTAB (surrounding whitespace
# is removed here, as an HTTP/1.1 parser would).
_NAME_RE = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-z]+")
_FORBIDDEN_IN_VALUE_RE = re.compile(rb"[\x00\r\n]")
_WHITESPACE = b" \t"


def request_fields(
    method: bytes, scheme: bytes, target: bytes, headers: Sequence[Tuple[bytes, bytes]]
) -> Tuple[List[Tuple[bytes, bytes]], bool]:
    """The HTTP/2 header fields of a request, and whether it has a body.

    Pseudo-header fields first (``:authority`` from the first Host header), then the other
    fields with lower-cased names. The request has a body when it declares one with
    Content-Length or Transfer-Encoding. Raises LocalProtocolError without a Host header.
    """
    fields: List[Tuple[bytes, bytes]] = [
        (b":method", method),
        (b":authority", b""),
        (b":scheme", scheme),
        (b":path", target),
    ]
    authority: Optional[bytes] = None
    has_body = False
    if not target:
        raise LocalProtocolError("An HTTP/2 request needs a non-empty target (:path).")
    for name, value in headers:
        name = name.lower()
        if _NAME_RE.fullmatch(name) is None:
            if name[:1] == b":":
                raise LocalProtocolError(f"Pseudo-header field {name!r} in the request headers.")
            raise LocalProtocolError(f"Illegal header name {name!r}")
        if value:
            if _FORBIDDEN_IN_VALUE_RE.search(value) is not None:
                raise LocalProtocolError(f"Illegal header value {value!r}")
            if value[0] in _WHITESPACE or value[-1] in _WHITESPACE:
                value = value.strip(_WHITESPACE)
        if name == b"te":
            # Only "trailers" is allowed in HTTP/2 (RFC 9113 §8.2.2).
            if value.strip().lower() == b"trailers":
                fields.append((name, b"trailers"))
            continue
        if name in _DROPPED_NAMES:
            if name == b"host":
                if authority is None:
                    authority = value
            elif name == b"transfer-encoding":
                has_body = True
            continue
        if name == b"content-length":
            has_body = True
        fields.append((name, value))
    if authority is None:
        raise LocalProtocolError("Missing mandatory Host: header")
    fields[1] = (b":authority", authority)
    return fields, has_body


# Streams.


class Wakeup(Protocol):
    """What a stream record needs of the event its waiting task sleeps on."""

    def set(self) -> None: ...


class H2Stream:
    """One request's stream, as the connection tracks it (guarded by its state lock).

    ``events`` holds the h2 events received for the stream and not yet taken by its task.
    ``wakeup`` is set while its task sleeps waiting for events or send window; the task
    that reads the network sets it when there is something new. The flags record what the
    server did, for the send side (stop sending) and for errors (refused by GOAWAY, or cut
    off by an abortive one).
    """

    __slots__ = (
        "stream_id",
        "events",
        "wakeup",
        "sending",
        "responded",
        "remote_ended",
        "remote_reset",
        "refused",
        "aborted",
        "request_sent",
        "body_offset",
    )

    def __init__(self, stream_id: int) -> None:
        self.stream_id = stream_id
        self.events: Deque[Any] = collections.deque()
        self.wakeup: Optional[Wakeup] = None
        # Waiting for send window (rather than for events).
        self.sending = False
        self.responded = False
        self.remote_ended = False
        self.remote_reset = False
        self.refused = False
        self.aborted = False
        # The request has gone out in full (END_STREAM sent).
        self.request_sent = False
        # How much of a fixed body went out with the HEADERS.
        self.body_offset = 0


# GOAWAY frames.

_FRAME_HEADER_BYTES = 9
_GOAWAY_TYPE = 0x7
_SETTINGS_TYPE = 0x4
_ACK_FLAG = 0x1


class GoAway:
    """A decoded GOAWAY frame (RFC 9113 §6.8)."""

    __slots__ = ("last_stream_id", "error_code", "additional_data")

    def __init__(self, last_stream_id: int, error_code: int, additional_data: bytes) -> None:
        self.last_stream_id = last_stream_id
        self.error_code = error_code
        self.additional_data = additional_data


def _decode_goaway(frame: bytes) -> GoAway:
    payload = frame[_FRAME_HEADER_BYTES:]
    return GoAway(
        int.from_bytes(payload[0:4], "big") & 0x7FFFFFFF,
        int.from_bytes(payload[4:8], "big"),
        bytes(payload[8:]),
    )


class FrameScanner:
    """Splits inbound bytes into pieces for h2 and decoded GOAWAY frames (module header).

    Invariant between calls: ``_skip`` bytes of the current frame are still to come and
    were not seen yet, or (``_skip == 0``) ``_held`` starts a frame: an incomplete frame
    header, or an incomplete GOAWAY frame, kept back until the rest arrives. Malformed
    GOAWAY frames (on a stream, or shorter than 8 bytes) go to h2, which reports them.
    """

    __slots__ = ("_skip", "_held", "_preface_checked")

    def __init__(self) -> None:
        self._skip = 0
        self._held = b""
        # The server's connection preface is a SETTINGS frame (RFC 9113 §3.4): checked on
        # the first frame header, as h2 does not check it.
        self._preface_checked = False

    def feed(self, data: bytes) -> List[Union[bytes, GoAway]]:
        """The pieces of ``data``, in order: bytes for h2, and GOAWAY frames."""
        skip = self._skip
        size = len(data)
        if skip >= size:
            self._skip = skip - size
            return [data]
        if self._held:
            data = self._held + data
            size = len(data)
            self._held = b""
        pieces: List[Union[bytes, GoAway]] = []
        start = 0
        position = skip
        while True:
            if position + _FRAME_HEADER_BYTES > size:
                # An incomplete frame header (or none at all): hold it back.
                self._skip = 0
                if position < size:
                    self._held = data[position:]
                    if position > start:
                        pieces.append(data[start:position])
                elif start < size:
                    pieces.append(data if start == 0 else data[start:])
                return pieces
            length = (data[position] << 16) | (data[position + 1] << 8) | data[position + 2]
            end = position + _FRAME_HEADER_BYTES + length
            if not self._preface_checked:
                if data[position + 3] != _SETTINGS_TYPE or data[position + 4] & _ACK_FLAG:
                    raise RemoteProtocolError(
                        "The server's connection preface did not start with a SETTINGS frame."
                    )
                self._preface_checked = True
            if (
                data[position + 3] == _GOAWAY_TYPE
                and length >= 8
                and not any(data[position + 5 : position + 9])
            ):
                if end > size:
                    self._skip = 0
                    self._held = data[position:]
                    if position > start:
                        pieces.append(data[start:position])
                    return pieces
                if position > start:
                    pieces.append(data[start:position])
                pieces.append(_decode_goaway(data[position:end]))
                start = end
            if end >= size:
                self._skip = end - size
                if start < size:
                    pieces.append(data if start == 0 else data[start:])
                return pieces
            position = end


__all__ = [
    "DATA",
    "ENDED",
    "FrameScanner",
    "GoAway",
    "H2Names",
    "H2Stream",
    "H2_MISSING",
    "INFORMATIONAL",
    "LOCAL_MAX_CONCURRENT_STREAMS",
    "LOCAL_MAX_HEADER_LIST_SIZE_BYTES",
    "OTHER",
    "PING_ACK",
    "RESET",
    "RESPONSE",
    "SETTINGS",
    "STREAM_KINDS",
    "TERMINATED",
    "TRAILERS",
    "WINDOW",
    "h2_names",
    "request_fields",
]
