"""A tiny raw TCP server on loopback that answers every request with fixed bytes.

For peers nginx cannot play: a server that sends garbage instead of HTTP, or that closes the
connection without answering. One thread accepts connections one at a time; for each it
reads up to the end of a request head, sends ``reply`` (possibly empty) and closes.
``stop()`` wakes the thread through a socket pair and joins it (bounded).
"""

from __future__ import annotations

import select
import socket
import threading

SAFETY_TIMEOUT_S = 10.0


class RawServer:
    """Answers each request head with ``reply``, then closes; ``port`` is where it listens."""

    def __init__(self, reply: bytes) -> None:
        self._reply = reply
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
            with connection:
                connection.settimeout(SAFETY_TIMEOUT_S)
                received = b""
                try:
                    while b"\r\n\r\n" not in received:
                        data = connection.recv(65536)
                        if not data:
                            break
                        received += data
                    connection.sendall(self._reply)
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
