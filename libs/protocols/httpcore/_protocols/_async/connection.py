# cython: annotation_typing=False
"""``AsyncHTTPConnection``: connects on first use, then hands over to a protocol connection
(API.md §6.2).

Life cycle: created unconnected ("CONNECTING"); the first request opens the network stream
(TCP, or the Unix socket ``uds``; then TLS for https/wss) under a per-connection lock, so
that concurrent first requests share one connect, and picks the protocol: HTTP/2 when TLS
negotiated "h2" by ALPN or when HTTP/2 is the only protocol allowed (prior knowledge), else
HTTP/1.1. Everything after that is delegated to the protocol connection. If connecting
fails (or is cancelled), the connection is "CONNECTION FAILED" for good: closed, expired,
never available.

Retries: a ``ConnectError``/``ConnectTimeout`` from the TCP/Unix connect or the TLS
handshake starts the whole sequence again, up to ``retries`` times, after waiting
0, 0.5, 1, 2, 4, ... seconds (``backend.sleep``, traced as ``retry``). Other errors are not
retried.
"""

from __future__ import annotations

import logging
import ssl
from types import TracebackType
from typing import Any, Dict, Iterable, Iterator, Optional, Type

from httpcore._backends._auto import AutoBackend
from httpcore._backends._base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream
from httpcore._core import _deadline as deadline
from httpcore._core._exceptions import ConnectError, ConnectTimeout
from httpcore._core._models import Origin, Request, Response
from httpcore._core._synchronization import AsyncLock, AsyncShieldCancellation
from httpcore._core._trace import Trace
from httpcore._core._urls import require_origin

from .connection_interface import AsyncConnectionInterface
from .protocol_choice import alpn_ssl_context, protocol_connection

logger = logging.getLogger("httpcore.connection")

RETRY_BACKOFF_FACTOR_S = 0.5

def retry_delays() -> Iterator[float]:
    """The waits before each retry: 0, then 0.5 doubling (0.5, 1, 2, 4, ...) seconds."""
    yield 0.0
    delay = RETRY_BACKOFF_FACTOR_S
    while True:
        yield delay
        delay *= 2


class AsyncHTTPConnection(AsyncConnectionInterface):
    """A connection to ``origin`` that connects on its first request (see the module header).

    ``ssl_context``: for https/wss (``None``: the process's shared default context);
    its ALPN protocols are set here. ``keepalive_expiry``: passed to the protocol
    connection. ``http1``/``http2``: the protocols allowed. ``retries``: extra connect
    attempts. ``local_address``, ``socket_options``: passed to the backend's connect;
    ``uds``: connect to this Unix socket instead of TCP. ``network_backend``: ``None``
    means the default backend, ``AutoBackend()``.

    Beyond 1.0.9 (keyword-only): ``http2_ping_after_idle``: when the connection ends up
    HTTP/2, a request that finds it idle for more than this many seconds first checks it
    with a PING; a connection that does not answer is closed and the request goes
    elsewhere (``ConnectionNotAvailable``, which a pool retries on a new connection).
    ``None`` (the default): no check. No effect on HTTP/1.1.
    """

    def __init__(
        self,
        origin: Origin,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry: float | None = None,
        http1: bool = True,
        http2: bool = False,
        retries: int = 0,
        local_address: str | None = None,
        uds: str | None = None,
        network_backend: AsyncNetworkBackend | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
        *,
        http2_ping_after_idle: float | None = None,
    ) -> None:
        self._origin = origin
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._http1 = http1
        self._http2 = http2
        self._retries = retries
        self._local_address = local_address
        self._uds = uds
        self._network_backend: AsyncNetworkBackend = (
            AutoBackend() if network_backend is None else network_backend
        )
        self._socket_options = socket_options
        self._http2_ping_after_idle = http2_ping_after_idle
        self._connection: Optional[AsyncConnectionInterface] = None
        self._connect_failed = False
        self._request_lock = AsyncLock()

    async def handle_async_request(self, request: Request) -> Response:
        """Connect if not connected yet, then send ``request`` on the protocol connection.

        Raises RuntimeError for a request to another origin; connect errors
        (``ConnectError``, ``ConnectTimeout``, ...) mark the connection as failed; then
        whatever the protocol connection raises.
        """
        connection = self._connection
        if connection is not None:
            # It has this origin and checks the request's first, as below.
            return await connection.handle_async_request(request)
        require_origin(request.url, self._origin)
        # Used on its own, this connection is where the request's total deadline starts.
        with deadline.scope(request.extensions):
            try:
                async with self._request_lock:
                    connection = self._connection
                    if connection is None:
                        stream = await self._connect(request)
                        try:
                            connection = self._create_connection(stream)
                        except BaseException:
                            with AsyncShieldCancellation():
                                await stream.aclose()
                            raise
                        self._connection = connection
            except BaseException:
                if self._connection is None:
                    self._connect_failed = True
                raise
            return await connection.handle_async_request(request)

    async def _connect(self, request: Request) -> AsyncNetworkStream:
        timeouts = request.extensions.get("timeout", {})
        timeout = timeouts.get("connect", None)
        origin = self._origin
        delays = retry_delays()
        retries_left = self._retries
        while True:
            kwargs: Dict[str, Any]
            try:
                if self._uds is None:
                    kwargs = {
                        "host": origin.host.decode("ascii"),
                        "port": origin.port,
                        "local_address": self._local_address,
                        "timeout": deadline.bound(timeout, ConnectTimeout),
                        "socket_options": self._socket_options,
                    }
                    async with Trace("connect_tcp", logger, request, kwargs) as trace:
                        stream = await self._network_backend.connect_tcp(**kwargs)
                        trace.return_value = stream
                else:
                    kwargs = {
                        "path": self._uds,
                        "timeout": deadline.bound(timeout, ConnectTimeout),
                        "socket_options": self._socket_options,
                    }
                    async with Trace("connect_unix_socket", logger, request, kwargs) as trace:
                        stream = await self._network_backend.connect_unix_socket(**kwargs)
                        trace.return_value = stream

                if origin.scheme == b"https" or origin.scheme == b"wss":
                    sni_hostname = request.extensions.get("sni_hostname")
                    kwargs = {
                        "ssl_context": alpn_ssl_context(self._ssl_context, self._http2),
                        "server_hostname": sni_hostname or origin.host.decode("ascii"),
                        "timeout": deadline.bound(timeout, ConnectTimeout),
                    }
                    async with Trace("start_tls", logger, request, kwargs) as trace:
                        stream = await stream.start_tls(**kwargs)
                        trace.return_value = stream
                return stream
            except (ConnectError, ConnectTimeout):
                if retries_left <= 0:
                    raise
                retries_left -= 1
                delay = next(delays)
                if not deadline.leaves_time_for(delay):
                    raise  # The total deadline would pass before the next attempt.
                async with Trace("retry", logger, request, kwargs):
                    await self._network_backend.sleep(delay)

    def _create_connection(self, stream: AsyncNetworkStream) -> AsyncConnectionInterface:
        return protocol_connection(
            self._origin,
            stream,
            http1=self._http1,
            http2=self._http2,
            keepalive_expiry=self._keepalive_expiry,
            http2_ping_after_idle=self._http2_ping_after_idle,
        )

    async def aclose(self) -> None:
        """Close the protocol connection, if connected (traced as ``close``, log only)."""
        connection = self._connection
        if connection is not None:
            async with Trace("close", logger, None, {}):
                await connection.aclose()

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self._origin

    def is_available(self) -> bool:
        connection = self._connection
        if connection is None:
            # Before connecting, only a connection that may end up HTTP/2 takes more
            # requests (they share its connect; HTTP/1.1 would send them back).
            return (
                self._http2
                and (self._origin.scheme == b"https" or not self._http1)
                and not self._connect_failed
            )
        return connection.is_available()

    def has_expired(self) -> bool:
        connection = self._connection
        if connection is None:
            return self._connect_failed
        return connection.has_expired()

    def is_idle(self) -> bool:
        connection = self._connection
        if connection is None:
            return self._connect_failed
        return connection.is_idle()

    def is_closed(self) -> bool:
        connection = self._connection
        if connection is None:
            return self._connect_failed
        return connection.is_closed()

    def info(self) -> str:
        connection = self._connection
        if connection is None:
            return "CONNECTION FAILED" if self._connect_failed else "CONNECTING"
        return connection.info()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.info()}]>"

    async def __aenter__(self) -> AsyncHTTPConnection:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        await self.aclose()


__all__ = ["AsyncHTTPConnection", "retry_delays"]
