"""A small SOCKS4 / SOCKS4a proxy in Python, on loopback, for the proxy integration tests.

Debian packages no SOCKS4a server that is simple to run unprivileged, so this one is
written here (stdlib only, threads). It speaks the protocol of the SOCKS4 paper and the
SOCKS4a extension:

- request: ``VN=4, CD, DSTPORT (2 bytes), DSTIP (4 bytes), USERID, NUL``; when DSTIP is
  ``0.0.0.x`` with ``x != 0`` (SOCKS4a) a NUL-terminated host name follows;
- reply: 8 bytes ``0x00, status, DSTPORT, DSTIP``: ``0x5A`` granted, ``0x5B`` rejected
  (also for BIND, any command but CONNECT, a target that is not loopback, a failed
  connection, and every request when ``refuse=True``), ``0x5D`` the user id does not match
  the required ``user_id``;
- after ``0x5A`` it relays bytes both ways; an end of stream on one side is passed on as a
  half-close (``shutdown(SHUT_WR)``) to the other, and the connection ends when both
  directions have ended or on any error.

Only loopback targets are connected to (``127.0.0.0/8``, ``::1``): the tests only use
127.0.0.1 origins, and a test proxy must not reach anything else. Every request received
(well formed or not refused early) is recorded in ``requests`` as a ``Socks4Request``.

Every wait is bounded: the accept loop and the relays poll with short timeouts and watch a
stop flag, socket operations have timeouts, and ``stop()`` closes the listener and every
connection, then joins every thread (raising if one is still alive after the bound).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import selectors
import socket
import struct
import threading
from typing import Callable, List, Optional, Set, Tuple

GRANTED = 0x5A
REJECTED = 0x5B
USER_ID_MISMATCH = 0x5D
CONNECT = 1
BIND = 2
IO_TIMEOUT_S = 10.0
JOIN_TIMEOUT_S = 10.0
_POLL_S = 0.05
_MAX_FIELD_BYTES = 1024
_CHUNK = 65536


class Socks4Error(RuntimeError):
    """The server did not start or stop as expected."""


@dataclasses.dataclass(frozen=True)
class Socks4Request:
    """One request as received."""

    version: int
    command: int
    host: str  # the host name (SOCKS4a) or the dotted IPv4 address (SOCKS4)
    port: int
    user_id: bytes
    is_4a: bool


class _Closed(Exception):
    """The client closed (or timed out) before sending a whole request."""


def _is_loopback(host: str, port: int) -> Optional[Tuple[int, Tuple[str, int]]]:
    """The first loopback address ``host`` resolves to, else None (never anything else)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None
    for family, _, _, _, address in infos:
        if ipaddress.ip_address(str(address[0])).is_loopback:
            return family, (str(address[0]), int(address[1]))
    return None


class Socks4Server:
    """A threaded SOCKS4/4a server on 127.0.0.1 (see the module docstring)."""

    def __init__(self, *, user_id: Optional[bytes] = None, refuse: bool = False) -> None:
        self.user_id = user_id
        self.refuse = refuse
        self._listener: Optional[socket.socket] = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._requests: List[Socks4Request] = []
        self._sockets: Set[socket.socket] = set()
        self._threads: List[threading.Thread] = []
        self._port: Optional[int] = None

    # --- what clients need ------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise Socks4Error("the SOCKS4 server is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"socks4://127.0.0.1:{self.port}"

    @property
    def requests(self) -> List[Socks4Request]:
        """A copy of the requests received so far, in order."""
        with self._lock:
            return list(self._requests)

    def threads(self) -> List[threading.Thread]:
        """Every thread this server ever started (tests check none is alive after ``stop()``)."""
        with self._lock:
            return list(self._threads)

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> Socks4Server:
        if self._listener is not None:
            raise Socks4Error("the SOCKS4 server is already running")
        self._stopping.clear()
        # Port 0: the kernel picks a free port atomically, so no retry is needed here.
        listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        listener.settimeout(_POLL_S)  # the accept loop wakes up to check the stop flag
        self._listener = listener
        self._port = int(listener.getsockname()[1])
        self._spawn(self._accept_loop, name=f"socks4-accept-{self._port}")
        return self

    def stop(self) -> None:
        """Close the listener and every connection, join every thread (bounded). Idempotent."""
        self._stopping.set()
        listener, self._listener = self._listener, None
        self._port = None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            self._close(sock)
        alive = []
        for thread in threads:
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                alive.append(thread.name)
        with self._lock:
            # A thread spawned while stopping: started before its thread saw the flag.
            late = [t for t in self._threads if t not in threads]
        for thread in late:
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                alive.append(thread.name)
        if alive:
            raise Socks4Error(f"threads still running after stop(): {alive}")

    def __enter__(self) -> Socks4Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- internals --------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], *args: object, name: str) -> None:
        # daemon: a bug here must not hang the interpreter at exit; stop() still joins them.
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> bool:
        """Register a socket for ``stop()``; False (and closed) when already stopping."""
        with self._lock:
            if not self._stopping.is_set():
                self._sockets.add(sock)
                return True
        sock.close()
        return False

    def _close(self, sock: socket.socket) -> None:
        # shutdown first: it wakes a thread blocked in recv on this socket at once.
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
        with self._lock:
            self._sockets.discard(sock)

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return  # the listener was closed by stop()
            client.settimeout(IO_TIMEOUT_S)
            if not self._track(client):
                return
            self._spawn(self._handle, client, name=f"socks4-conn-{client.fileno()}")

    def _handle(self, client: socket.socket) -> None:
        target: Optional[socket.socket] = None
        try:
            try:
                request = self._read_request(client)
            except (_Closed, OSError):
                return
            if request is None:
                return  # not SOCKS version 4: no reply is meaningful, just close
            with self._lock:
                self._requests.append(request)
            status, target = self._decide(request)
            if status != GRANTED or target is None:
                client.sendall(self._reply(status, request.port, "0.0.0.0"))
                return
            bound_host, bound_port = target.getpeername()[:2]
            reply_ip = bound_host if ":" not in bound_host else "0.0.0.0"
            client.sendall(self._reply(GRANTED, int(bound_port), reply_ip))
            self._relay(client, target)
        except OSError:
            pass
        finally:
            self._close(client)
            if target is not None:
                self._close(target)

    @staticmethod
    def _reply(status: int, port: int, ip: str) -> bytes:
        return struct.pack("!BBH", 0, status, port) + socket.inet_aton(ip)

    def _read_exact(self, sock: socket.socket, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise _Closed()
            data += chunk
        return data

    def _read_field(self, sock: socket.socket) -> bytes:
        """A NUL-terminated field, byte by byte (the data after it belongs to the relay)."""
        data = b""
        while True:
            byte = self._read_exact(sock, 1)
            if byte == b"\x00":
                return data
            data += byte
            if len(data) > _MAX_FIELD_BYTES:
                raise _Closed()

    def _read_request(self, client: socket.socket) -> Optional[Socks4Request]:
        version, command, port = struct.unpack("!BBH", self._read_exact(client, 4))
        if version != 4:
            return None
        raw_ip = self._read_exact(client, 4)
        user_id = self._read_field(client)
        # SOCKS4a: 0.0.0.x with x != 0 means "the host name follows the user id".
        is_4a = raw_ip[:3] == b"\x00\x00\x00" and raw_ip[3] != 0
        if is_4a:
            host = self._read_field(client).decode("ascii", "replace")
        else:
            host = socket.inet_ntoa(raw_ip)
        return Socks4Request(version, command, host, port, user_id, is_4a)

    def _decide(self, request: Socks4Request) -> Tuple[int, Optional[socket.socket]]:
        if self.refuse or request.command != CONNECT:
            return REJECTED, None
        if self.user_id is not None and request.user_id != self.user_id:
            return USER_ID_MISMATCH, None
        resolved = _is_loopback(request.host, request.port)
        if resolved is None:
            return REJECTED, None
        family, address = resolved
        target = socket.socket(family, socket.SOCK_STREAM)
        if not self._track(target):
            return REJECTED, None
        target.settimeout(IO_TIMEOUT_S)
        try:
            target.connect(address)
        except OSError:
            self._close(target)
            return REJECTED, None
        return GRANTED, target

    def _relay(self, client: socket.socket, target: socket.socket) -> None:
        peers = {client: target, target: client}
        with selectors.DefaultSelector() as selector:
            try:
                for sock in peers:
                    selector.register(sock, selectors.EVENT_READ)
            except (ValueError, OSError):
                return  # stop() closed the sockets first (a closed one has descriptor -1)
            open_reads = 2
            while open_reads and not self._stopping.is_set():
                for key, _ in selector.select(_POLL_S):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(_CHUNK)
                    if data:
                        peers[source].sendall(data)
                        continue
                    # End of stream on one side: pass it on as a half-close.
                    selector.unregister(source)
                    open_reads -= 1
                    try:
                        peers[source].shutdown(socket.SHUT_WR)
                    except OSError:
                        return
