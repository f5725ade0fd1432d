"""Loopback servers in threads, for the backend tests: each connection runs a handler.

Every wait is bounded by ``SAFETY_TIMEOUT_S`` so that a broken test fails rather than
hangs; ``LoopbackServer.close`` stops the accepting thread and every handler thread.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
from typing import Any, Callable, List, Optional

SAFETY_TIMEOUT_S = 10.0

Handler = Callable[[socket.socket], None]

# How much a relay holds for one direction before it stops reading from that side.
_RELAY_BUFFER_BYTES = 1024 * 1024


class LoopbackServer:
    """Accepts connections in a thread and runs ``handler`` on each in a thread of its own.

    With ``tls`` the connection is TLS-wrapped (server side) before the handler sees it.
    ``handled`` is set whenever a handler has returned and its connection is closed.
    """

    def __init__(
        self,
        handler: Handler,
        tls: Optional[ssl.SSLContext] = None,
        unix_path: Optional[str] = None,
    ) -> None:
        self._handler = handler
        self._tls = tls
        if unix_path is not None:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(unix_path)
            listener.listen()
            self.address: Any = unix_path
        else:
            listener = socket.create_server(("127.0.0.1", 0))
            self.address = listener.getsockname()
        self._listener = listener
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._lock = threading.Lock()
        self._stopping = False
        self._connections: List[socket.socket] = []
        self._threads: List[threading.Thread] = []
        self._errors: List[BaseException] = []
        self.handled = threading.Event()
        self._accepting = threading.Thread(target=self._accept_loop)
        self._accepting.start()

    @property
    def port(self) -> int:
        return int(self.address[1])

    def _accept_loop(self) -> None:
        while True:
            readable, _, _ = select.select([self._listener, self._wake_reader], [], [])
            if self._wake_reader in readable:
                return
            conn, _ = self._listener.accept()
            thread = threading.Thread(target=self._serve, args=(conn,))
            self._threads.append(thread)
            thread.start()

    def _register(self, conn: socket.socket) -> bool:
        with self._lock:
            if self._stopping:
                return False
            self._connections.append(conn)
            return True

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self._tls is not None:
                conn = self._tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            if not self._register(conn):
                return
            conn.settimeout(SAFETY_TIMEOUT_S)
            if isinstance(conn, ssl.SSLSocket):
                conn.do_handshake()
            self._handler(conn)
        except OSError:
            pass  # the client went away (or the test ended): part of the scenarios here
        except BaseException as exc:
            self._errors.append(exc)
        finally:
            conn.close()
            self.handled.set()

    def close(self) -> None:
        self._wake_writer.send(b"x")
        self._accepting.join(SAFETY_TIMEOUT_S)
        with self._lock:
            self._stopping = True
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(SAFETY_TIMEOUT_S)
        self._listener.close()
        self._wake_reader.close()
        self._wake_writer.close()
        assert not self._accepting.is_alive()
        assert not any(thread.is_alive() for thread in self._threads)
        if self._errors:
            raise self._errors[0]

    def wait_handled(self) -> None:
        assert self.handled.wait(SAFETY_TIMEOUT_S)


def echo(conn: socket.socket) -> None:
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def drain(conn: socket.socket) -> None:
    """Read (and drop) until the client closes: a server that never answers."""
    while conn.recv(65536):
        pass


def send_then_close(data: bytes) -> Handler:
    def handler(conn: socket.socket) -> None:
        conn.sendall(data)

    return handler


def relay_to(address: Any) -> Handler:
    """Forward the (TLS-decrypted) bytes to ``address`` and back: a TLS-terminating relay.

    One thread, both sockets non-blocking, a buffer per direction: a relay that blocked
    writing one way while the other way filled up would deadlock a client that sends and
    receives at once (an ``SSLSocket`` must not be shared by two threads instead). Ends
    when the client closes, when the origin has closed and what it sent is passed on, or
    when nothing happens for ``SAFETY_TIMEOUT_S``.
    """

    def handler(conn: socket.socket) -> None:
        with socket.create_connection(address) as upstream:
            conn.setblocking(False)
            upstream.setblocking(False)
            owed = {conn: bytearray(), upstream: bytearray()}  # what each side is still owed
            peer = {conn: upstream, upstream: conn}
            upstream_open = True
            while upstream_open or owed[conn]:
                readers = [
                    side
                    for side in ((conn, upstream) if upstream_open else (conn,))
                    if len(owed[peer[side]]) < _RELAY_BUFFER_BYTES
                ]
                writers = [side for side in (conn, upstream) if owed[side]]
                if isinstance(conn, ssl.SSLSocket) and conn.pending() and conn in readers:
                    readable: List[Any] = [conn]  # decrypted bytes select cannot see
                    writable: List[Any] = []
                else:
                    readable, writable, _ = select.select(readers, writers, [], SAFETY_TIMEOUT_S)
                    if not readable and not writable:
                        return
                for source in readable:
                    try:
                        data = source.recv(65536)
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                        continue
                    if not data:
                        if source is conn:
                            return
                        upstream_open = False  # pass on what it sent, then stop
                    owed[peer[source]] += data
                for target in writable:
                    try:
                        sent = target.send(bytes(owed[target][:65536]))
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                        continue
                    del owed[target][:sent]

    return handler


# What the ``serve`` fixture of the backend tests gives: start a server, stopped at teardown.
StartServer = Callable[..., LoopbackServer]
