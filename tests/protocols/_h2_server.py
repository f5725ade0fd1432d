"""A small HTTP/2 server (h2, cleartext, prior knowledge) on loopback for the connection tests.

One thread accepts; one thread per connection reads with ``select`` and answers through an
h2 server connection. What a request gets depends on its path:

* ``/``: 200 with ``Hello, world!``; ``/bytes/<n>``: 200 with ``n`` bytes (``BODY_PATTERN``
  repeated); ``/echo``: 200 with the request body;
* ``/trailers``: 200, ``Hello, world!``, then trailers ``(b"x-checksum", b"abc123")`` and
  ``(b"x-status", b"0")``;
* ``/reset``: RST_STREAM (INTERNAL_ERROR) instead of a response;
* ``/hold``: no response ever (until the client resets the stream);
* ``/ping``: the server sends a PING and answers once the client acknowledged it;
* ``/lower-limit``: held until ``LOWER_LIMIT_AFTER`` of them are in flight; then the server
  lowers its MAX_CONCURRENT_STREAMS to ``LOWER_LIMIT_TO`` and answers them all (later ones
  are answered at once);
* ``/goaway``: held until ``GOAWAY_COLLECT`` of them are in flight; then the server answers
  the ``GOAWAY_ANSWERED`` lowest stream IDs, sends GOAWAY (NO_ERROR) naming the next one as
  the last processed, and closes the connection; this happens once per server: later
  ``/goaway`` requests are answered at once;
* ``/upload-serial``: flow control one stream at a time: connection credit is returned at
  once, stream credit only to the oldest unfinished ``/upload-serial`` stream; the answer
  (the number of bytes received) comes when the body ends;
* ``/shrink-window``: after the first DATA of this stream, the server lowers its
  INITIAL_WINDOW_SIZE to 1000 (making the client's send window negative), then returns
  credit as it reads; the answer is the number of bytes received.

Elsewhere the server returns flow-control credit as soon as DATA arrives. ``stats`` records
what tests check: the highest number of streams open at once, the streams the client reset,
PING acknowledgements, connections and requests.
"""

from __future__ import annotations

import dataclasses
import select
import socket
import threading
from types import TracebackType
from typing import Dict, List, Optional, Tuple, Type

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings

BODY_PATTERN = b"0123456789abcdef"
HELLO = b"Hello, world!"
TRAILERS = [(b"x-checksum", b"abc123"), (b"x-status", b"0")]
LOWER_LIMIT_AFTER = 20
LOWER_LIMIT_TO = 2
GOAWAY_COLLECT = 10
GOAWAY_ANSWERED = 3
SHRUNK_WINDOW_BYTES = 1000
_POLL_S = 0.05


@dataclasses.dataclass
class Stats:
    connections: int = 0
    requests: int = 0
    max_open_streams: int = 0
    client_resets: List[int] = dataclasses.field(default_factory=list)
    ping_acks: int = 0
    errors: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Stream:
    path: bytes = b""
    body: bytearray = dataclasses.field(default_factory=bytearray)
    # What remains to send: (data, then trailers or None), after the headers went out.
    outgoing: Optional[bytes] = None
    sent: int = 0
    trailers: Optional[List[Tuple[bytes, bytes]]] = None
    withheld_credit: int = 0


class _Connection:
    """Serves one client connection (see the module header)."""

    def __init__(self, server: H2Server, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, validate_inbound_headers=False)
        )
        self.streams: Dict[int, _Stream] = {}
        self.held_lower: List[int] = []
        self.lowered = False
        self.held_goaway: List[int] = []
        self.serial: List[int] = []
        self.awaiting_ping: List[int] = []
        self.closing = False
        # After a GOAWAY: the server has shut down its side and ignores what still comes,
        # reading it until the client closes (closing with unread bytes would reset the
        # connection and could destroy the GOAWAY before the client reads it).
        self.draining = False

    def run(self) -> None:
        try:
            self.h2.initiate_connection()
            self.flush()
            while not self.server.stopping.is_set() and not self.closing:
                readable, _, _ = select.select([self.sock], [], [], _POLL_S)
                if not readable:
                    continue
                data = self.sock.recv(65536)
                if not data:
                    break
                if self.draining:
                    continue
                for event in self.h2.receive_data(data):
                    self.handle(event)
                if not self.draining:
                    self.pump()
                    self.flush()
        except OSError:
            pass
        except Exception as exc:  # Recorded for the tests to see.
            with self.server.lock:
                self.server.stats.errors.append(repr(exc))
        finally:
            self.sock.close()

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def handle(self, event: h2.events.Event) -> None:
        stats = self.server.stats
        if isinstance(event, h2.events.RequestReceived):
            assert event.stream_id is not None and event.headers is not None
            path = dict((bytes(k), bytes(v)) for k, v in event.headers)[b":path"]
            self.streams[event.stream_id] = _Stream(path=path)
            with self.server.lock:
                stats.requests += 1
                stats.max_open_streams = max(stats.max_open_streams, self.h2.open_inbound_streams)
            if path == b"/upload-serial":
                self.serial.append(event.stream_id)
        elif isinstance(event, h2.events.DataReceived):
            assert event.stream_id is not None and event.data is not None
            stream = self.streams.get(event.stream_id)
            size = event.flow_controlled_length or 0
            if size:
                self.h2.increment_flow_control_window(size)
            if stream is None:
                return
            stream.body += event.data
            if stream.path == b"/shrink-window" and not self.lowered:
                self.lowered = True
                self.h2.update_settings(
                    {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: SHRUNK_WINDOW_BYTES}
                )
            if size and event.stream_ended is None:
                if stream.path == b"/upload-serial" and self.serial[0] != event.stream_id:
                    stream.withheld_credit += size
                else:
                    self.h2.increment_flow_control_window(size, stream_id=event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            assert event.stream_id is not None
            self.request_complete(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            assert event.stream_id is not None
            with self.server.lock:
                stats.client_resets.append(event.stream_id)
            self.forget(event.stream_id)
        elif isinstance(event, h2.events.PingAckReceived):
            with self.server.lock:
                stats.ping_acks += 1
            for stream_id in self.awaiting_ping:
                self.respond(stream_id, 200, HELLO)
            self.awaiting_ping.clear()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.closing = True

    def forget(self, stream_id: int) -> None:
        self.streams.pop(stream_id, None)
        if stream_id in self.serial:
            self.serial.remove(stream_id)
            self.grant_serial()

    def grant_serial(self) -> None:
        if self.serial:
            head = self.streams[self.serial[0]]
            if head.withheld_credit:
                self.h2.increment_flow_control_window(head.withheld_credit, stream_id=self.serial[0])
                head.withheld_credit = 0

    def request_complete(self, stream_id: int) -> None:
        stream = self.streams[stream_id]
        path = stream.path
        if path == b"/":
            self.respond(stream_id, 200, HELLO)
        elif path.startswith(b"/bytes/"):
            size = int(path[len(b"/bytes/") :])
            pattern = BODY_PATTERN * (size // len(BODY_PATTERN) + 1)
            self.respond(stream_id, 200, pattern[:size])
        elif path == b"/echo":
            self.respond(stream_id, 200, bytes(stream.body))
        elif path == b"/trailers":
            self.respond(stream_id, 200, HELLO, TRAILERS)
        elif path == b"/reset":
            self.h2.reset_stream(stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
            self.streams.pop(stream_id, None)
        elif path == b"/hold":
            pass
        elif path == b"/ping":
            self.awaiting_ping.append(stream_id)
            self.h2.ping(b"12345678")
        elif path == b"/lower-limit":
            if self.lowered:
                self.respond(stream_id, 200, HELLO)
            else:
                self.held_lower.append(stream_id)
                if len(self.held_lower) >= LOWER_LIMIT_AFTER:
                    self.lowered = True
                    self.h2.update_settings(
                        {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: LOWER_LIMIT_TO}
                    )
                    for held in self.held_lower:
                        self.respond(held, 200, HELLO)
                    self.held_lower.clear()
        elif path == b"/goaway":
            if self.server.goaway_sent.is_set():
                # Only the first connection goes away; requests retried elsewhere succeed.
                self.respond(stream_id, 200, HELLO)
                return
            self.held_goaway.append(stream_id)
            if len(self.held_goaway) >= GOAWAY_COLLECT:
                self.server.goaway_sent.set()
                ordered = sorted(self.held_goaway)
                for held in ordered[:GOAWAY_ANSWERED]:
                    self.respond(held, 200, HELLO)
                self.pump()
                self.h2.close_connection(last_stream_id=ordered[GOAWAY_ANSWERED])
                self.flush()
                self.sock.shutdown(socket.SHUT_WR)
                self.draining = True
        elif path in (b"/upload-serial", b"/shrink-window"):
            self.respond(stream_id, 200, str(len(stream.body)).encode())
            if path == b"/upload-serial":
                self.serial.remove(stream_id)
                self.grant_serial()
        else:
            self.respond(stream_id, 404, b"")

    def respond(
        self,
        stream_id: int,
        status: int,
        body: bytes,
        trailers: Optional[List[Tuple[bytes, bytes]]] = None,
    ) -> None:
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        headers = [(b":status", str(status).encode()), (b"content-length", str(len(body)).encode())]
        if trailers is not None:
            headers = headers[:1]
        self.h2.send_headers(stream_id, headers)
        stream.outgoing = body
        stream.trailers = trailers

    def pump(self) -> None:
        # Send what flow control allows of every pending response.
        for stream_id, stream in list(self.streams.items()):
            data = stream.outgoing
            if data is None:
                continue
            view = memoryview(data)
            offset = stream.sent
            while offset < len(data):
                window = min(
                    self.h2.local_flow_control_window(stream_id), self.h2.max_outbound_frame_size
                )
                if window <= 0:
                    break
                self.h2.send_data(stream_id, view[offset : offset + window])
                offset += window
            stream.sent = offset
            if offset >= len(data):
                if stream.trailers is not None:
                    self.h2.send_headers(stream_id, stream.trailers, end_stream=True)
                else:
                    self.h2.end_stream(stream_id)
                del self.streams[stream_id]


class H2Server:
    """The server (module header); ``with H2Server() as server:`` starts and stops it."""

    def __init__(self) -> None:
        self.stats = Stats()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.goaway_sent = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        self._threads: List[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            readable, _, _ = select.select([self._listener], [], [], _POLL_S)
            if not readable:
                continue
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self.lock:
                self.stats.connections += 1
            connection = _Connection(self, sock)
            thread = threading.Thread(target=connection.run, daemon=True)
            self._threads.append(thread)
            thread.start()

    def __enter__(self) -> H2Server:
        self._acceptor.start()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.stopping.set()
        self._acceptor.join()
        for thread in self._threads:
            thread.join()
        self._listener.close()
