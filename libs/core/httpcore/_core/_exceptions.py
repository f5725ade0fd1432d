"""The exception hierarchy of httpcore, and the helper that maps foreign errors onto it.

Every root class derives directly from ``Exception``: none of them is an ``OSError`` or a
built-in ``TimeoutError``, and ``TimeoutException`` and ``NetworkError`` are unrelated.
The classes carry no extra attributes; a mapped exception is built with the original
exception as its single argument, so ``str(mapped) == str(original)``.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Mapping, Type

ExceptionMapping = Mapping[Type[BaseException], Type[Exception]]


class ConnectionNotAvailable(Exception):
    """A connection cannot take this request now; pools catch it and try another."""


class ProxyError(Exception):
    """The proxy refused or failed the connection (CONNECT status, SOCKS reply, auth)."""


class UnsupportedProtocol(Exception):
    """The request URL has no scheme, or one this library does not speak."""


class ProtocolError(Exception):
    """The HTTP exchange broke the protocol."""


class RemoteProtocolError(ProtocolError):
    """The server sent something the protocol does not allow."""


class LocalProtocolError(ProtocolError):
    """The request would break the protocol, so it was not sent."""


class TimeoutException(Exception):
    """An operation did not finish within its timeout."""


class PoolTimeout(TimeoutException):
    """No connection became available in the pool within ``timeout["pool"]``."""


class ConnectTimeout(TimeoutException):
    """Connecting (TCP, Unix socket or TLS handshake) timed out."""


class ReadTimeout(TimeoutException):
    """Reading from the network timed out."""


class WriteTimeout(TimeoutException):
    """Writing to the network timed out."""


class NetworkError(Exception):
    """The network operation failed."""


class ConnectError(NetworkError):
    """Connecting (TCP, Unix socket or TLS handshake) failed."""


class ReadError(NetworkError):
    """Reading from the network failed."""


class WriteError(NetworkError):
    """Writing to the network failed."""


@contextlib.contextmanager
def map_exceptions(mapping: ExceptionMapping) -> Iterator[None]:
    """Re-raise exceptions matching a key of ``mapping`` as the mapped httpcore class.

    The first matching key wins, so list subclasses before their bases. The new
    exception takes the original as its only argument and is chained to it.
    """
    try:
        yield
    except Exception as exc:
        for from_exc, to_exc in mapping.items():
            if isinstance(exc, from_exc):
                raise to_exc(exc) from exc
        raise
