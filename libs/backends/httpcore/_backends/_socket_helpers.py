# cython: annotation_typing=False
"""Small socket helpers shared by the backends: applying options, probing readability."""

from __future__ import annotations

import select
import socket
import ssl
from typing import Any, Iterable, Optional

from ._base import SOCKET_OPTION

_HAS_POLL = hasattr(select, "poll")


def apply_socket_options(sock: Any, options: Iterable[SOCKET_OPTION]) -> None:
    """Call ``sock.setsockopt(*option)`` for each option, in order."""
    for option in options:
        sock.setsockopt(*option)


def enable_tcp_nodelay(sock: Any) -> None:
    """Turn Nagle's algorithm off: requests are written whole, so batching only adds delay."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def is_socket_readable(sock: Any, poller: Any = None) -> bool:
    """Tell, without reading or blocking, whether a read on ``sock`` would not block.

    True when data or end-of-stream (or an error) is waiting, when a TLS socket holds
    decrypted bytes, and when there is no usable socket at all (``None`` or a closed one,
    whose file descriptor is negative): a reader would then get an answer at once, and
    callers use this to spot idle connections the peer has dropped.

    ``poller``: a ``select.poll`` object with ``sock``'s descriptor registered for
    ``POLLIN`` (see ``readable_poller``), kept by a caller that asks often; none means one
    is made for this call.
    """
    if sock is None:
        return True
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    fd = _descriptor(sock)
    if fd is None:
        return True
    if poller is None:
        if not _HAS_POLL:
            readable, _, _ = select.select([fd], [], [], 0)
            return bool(readable)
        poller = _poller_for(fd)
    return bool(poller.poll(0))


def readable_poller(sock: Any) -> Any:
    """A ``poller`` for ``is_socket_readable(sock, poller)``, or None where there is no
    ``select.poll`` (or no open socket). Valid while ``sock`` keeps its descriptor: the pool
    asks an idle connection before every reuse, and a kept poller saves making and
    registering one each time (about half the cost of the check, system call included)."""
    fd = _descriptor(sock) if _HAS_POLL else None
    return None if fd is None else _poller_for(fd)


def _descriptor(sock: Any) -> Optional[int]:
    # The socket's file descriptor; None when it is closed (negative) or has none to give.
    try:
        fd = sock.fileno()
    except OSError:
        return None
    return fd if fd >= 0 else None


def _poller_for(fd: int) -> Any:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return poller


def socket_info(sock: socket.socket, info: str) -> Any:
    """The ``get_extra_info`` keys that come from the socket itself."""
    try:
        if info == "client_addr":
            return sock.getsockname()
        if info == "server_addr":
            return sock.getpeername()
    except OSError:
        return None
    if info == "socket":
        return sock
    if info == "is_readable":
        return is_socket_readable(sock)
    return None
