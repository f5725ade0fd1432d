"""A tiny raw TCP server on loopback that answers every request with fixed bytes.

For peers nginx cannot play: a server that sends garbage instead of HTTP, or that closes the
connection without answering. One thread accepts connections one at a time; for each it
reads up to the end of a request head, sends ``reply`` (possibly empty) and closes.
``stop()`` wakes the thread through a socket pair and joins it (bounded).

With ``drop_second=True`` it plays a server that closed an idle keep-alive connection just
as the client reused it: ``reply`` (a complete keep-alive response) answers the first
request of each connection, and the second request is read and left unanswered, the
connection closed. ``connections`` counts the connections accepted.
"""

from __future__ import annotations

import select
import socket
import threading

SAFETY_TIMEOUT_S = 10.0


class RawServer:
    """Answers each request head with ``reply``, then closes; ``port`` is where it listens."""

    def __init__(self, reply: bytes, drop_second: bool = False) -> None:
        self._reply = reply
        self._drop_second = drop_second
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            readable, _, _ = select.select([self._listener, self._wake_reader], [], [])
            if self._wake_reader in readable:
                return
            connection, _ = self._listener.accept()
            self.connections += 1
            with connection:
                connection.settimeout(SAFETY_TIMEOUT_S)
                try:
                    if _read_head(connection):
                        connection.sendall(self._reply)
                        if self._drop_second:
                            _read_head(connection)
                except OSError:
                    pass

    def stop(self) -> None:
        self._wake_writer.send(b"x")
        self._thread.join(SAFETY_TIMEOUT_S)
        assert not self._thread.is_alive(), "raw server thread did not stop"
        for sock in (self._listener, self._wake_reader, self._wake_writer):
            sock.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _read_head(connection: socket.socket) -> bool:
    """Read up to the end of a request head; False if the client closed first."""
    received = b""
    while b"\r\n\r\n" not in received:
        data = connection.recv(65536)
        if not data:
            return False
        received += data
    return True
