# cython: annotation_typing=False
"""``AsyncConnectionPool``: requests in, connections reused or opened (API.md §5).

The bookkeeping (which connection serves which request, what to close) is ``PoolState``
in ``_selection.py``, shared with the sync pool and free of I/O, run under the pool's lock
by ``LockedState`` (``_locked_state.py``); this module does the waiting, the sending and the
closing.

Rules kept here:

* Every change of pool state is synchronous: it never spans an ``await``, so in async code
  it needs no lock, and a cancellation can only land before or after it. Connections the
  state dropped are closed afterwards, outside the lock, shielded from cancellation.
* Whatever ends a request (its response closed, an error, a cancellation or a pool
  timeout at any stage) releases its place and its connection, so no slot leaks
  (httpcore#1093).
* In the sync pool the lock is a real thread lock, and a thread that re-enters the pool
  while holding it (a response closed by a finaliser the garbage collector runs inside
  pool code, httpcore#990) does not wait for itself: its release is queued and done by the
  outer call before that returns (``LockedState.release_soon``).
"""

from __future__ import annotations

import ssl
import sys
import weakref
from types import TracebackType
from typing import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    List,
    Optional,
    TYPE_CHECKING,
    Type,
    TypeVar,
    cast,
)

from httpcore._backends._auto import AutoBackend
from httpcore._backends._base import SOCKET_OPTION, AsyncNetworkBackend
from httpcore._core import _deadline as deadline
from httpcore._core._async.request_interface import AsyncRequestInterface
from httpcore._core._exceptions import ConnectionNotAvailable, PoolTimeout, UnsupportedProtocol
from httpcore._core._models import Origin, Proxy, Request, Response
from httpcore._core._stale import (
    MAX_STALE_RETRIES,
    is_stale_connection_error,
    may_retry_on_stale_connection,
)
from httpcore._core._synchronization import AsyncEvent, AsyncShieldCancellation, AsyncThreadLock
from httpcore._protocols._async.connection import AsyncHTTPConnection
from httpcore._protocols._async.connection_interface import AsyncConnectionInterface

from .._locked_state import LockedState
from .._selection import PoolState, QueuedRequest

if TYPE_CHECKING:
    # The state hands back this pool's own connections, made by its create_connection, typed
    # as what the bookkeeping asks of them: each is an AsyncConnectionInterface.
    from .._selection import PooledConnection

SUPPORTED_SCHEMES = (b"http", b"https", b"ws", b"wss")

# Proxy connections are built by the proxy lib (httpcore._proxy), a layer ABOVE this one, so
# this module never imports it (not even lazily): importing httpcore._proxy registers its
# factory here (the httpcore facade imports it, so every user of `httpcore` has it). A pool
# given proxy=... without it raises PROXY_LIB_MISSING.
ProxyConnectionFactory = Callable[
    ["AsyncConnectionPool", Proxy, Origin], AsyncConnectionInterface
]
proxy_connection_factories: List[ProxyConnectionFactory] = []

PROXY_LIB_MISSING = (
    "A pool given proxy=... needs the proxy connections of httpcore._proxy, which are not "
    "loaded; import httpcore (or httpcore._proxy) first."
)

_Pool = TypeVar("_Pool", bound="AsyncConnectionPool")



def _connection_factory(pool: AsyncConnectionPool) -> Callable[[Origin], AsyncConnectionInterface]:
    """``pool.create_connection``, looked up at each call (a subclass or a test may replace
    it), through a weak reference: the pool holds its state, which holds this function, and a
    strong reference back would make every pool a reference cycle, freed (with its TLS
    context, a few hundred KiB with the system's certificates loaded) only by the cyclic
    garbage collector rather than when the last reference goes."""
    pool_ref = weakref.ref(pool)

    def create_connection(origin: Origin) -> AsyncConnectionInterface:
        current = pool_ref()
        if current is None:  # not reachable: the pool is alive while a request uses its state
            raise RuntimeError("the connection pool is gone")
        return current.create_connection(origin)

    return create_connection

class AsyncConnectionPool(AsyncRequestInterface):
    """A pool of connections shared by concurrent requests (API.md §5.1).

    ``ssl_context``: for https/wss origins (``None``: a default context per connection).
    ``proxy``: route connections through this proxy (HTTP, HTTPS or SOCKS5; API.md §7.1).
    ``max_connections``: the most connections at once (``None``: no
    limit). ``max_keepalive_connections``: idle connections are closed while the pool holds
    more connections than this (``None``: no limit beyond ``max_connections``).
    ``keepalive_expiry``: seconds an idle connection is kept (``None``: no limit).
    ``http1``, ``http2``: the protocols allowed. ``retries``: extra connect attempts.
    ``local_address``, ``uds``, ``socket_options``: passed to each connection.
    ``network_backend``: ``None`` means the default backend.
    Nothing is validated and nothing is opened until the first request.

    Beyond 1.0.9 (keyword-only, after all of 1.0.9's parameters):
    ``http2_ping_after_idle``: seconds after which an idle HTTP/2 connection is checked
    with a PING before it serves a request; one that does not answer is closed and the
    request is sent on another connection. ``None`` (the default): no check, as 1.0.9.
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext | None = None,
        proxy: Proxy | None = None,
        max_connections: int | None = 10,
        max_keepalive_connections: int | None = None,
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
        self._ssl_context = ssl_context
        self._proxy = proxy
        self._max_connections = sys.maxsize if max_connections is None else max_connections
        self._max_keepalive_connections = min(
            self._max_connections,
            sys.maxsize if max_keepalive_connections is None else max_keepalive_connections,
        )
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
        self._state_lock = AsyncThreadLock()
        self._state = LockedState(
            PoolState(
                _connection_factory(self),
                AsyncEvent,
                self._max_connections,
                self._max_keepalive_connections,
                keepalive_expiry,
            ),
            self._state_lock,
        )

    def create_connection(self, origin: Origin) -> AsyncConnectionInterface:
        """The connection the pool opens for ``origin``; override to change it.

        With a proxy: the proxy connection of API.md §7.1, from the factory the proxy lib
        registered (RuntimeError when it is not loaded).
        """
        if self._proxy is not None:
            if not proxy_connection_factories:
                raise RuntimeError(PROXY_LIB_MISSING)
            return proxy_connection_factories[-1](self, self._proxy, origin)
        return AsyncHTTPConnection(
            origin=origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._keepalive_expiry,
            http1=self._http1,
            http2=self._http2,
            retries=self._retries,
            local_address=self._local_address,
            uds=self._uds,
            network_backend=self._network_backend,
            socket_options=self._socket_options,
            http2_ping_after_idle=self._http2_ping_after_idle,
        )

    @property
    def connections(self) -> List[AsyncConnectionInterface]:
        """A new list of the connections in the pool, in the order they were created."""
        state = self._state.state
        connections: List[PooledConnection] = []

        def inspect() -> None:
            connections.extend(state.connections())

        self._state.inspect(inspect)
        return cast(List[AsyncConnectionInterface], connections)

    # Sending requests.

    async def handle_async_request(self, request: Request) -> Response:
        """Send ``request`` on a pooled connection; the response releases it when closed.

        Raises UnsupportedProtocol for a URL without an http/https/ws/wss scheme,
        PoolTimeout when no connection is free within ``timeout["pool"]``, and whatever
        opening the connection or the exchange raises (with its chain cut, as upstream).
        """
        if request.url.scheme not in SUPPORTED_SCHEMES:
            scheme = request.url.scheme.decode("ascii", errors="backslashreplace")
            if scheme == "":
                raise UnsupportedProtocol(
                    "Request URL is missing an 'http://' or 'https://' protocol."
                )
            raise UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")

        timeouts = request.extensions.get("timeout", {})
        timeout = timeouts.get("pool", None)
        queued = QueuedRequest(request.url.origin)
        state = self._state
        stale_retries = MAX_STALE_RETRIES
        deadline_token = deadline.enter(timeouts) if deadline.TOTAL in timeouts else None
        request_deadline = deadline.current()
        try:
            await self._close_connections(state.add(queued))
            while True:
                connection = await self._wait_for_connection(
                    queued,
                    timeout
                    if request_deadline is None
                    else deadline.bound_by(timeout, request_deadline, PoolTimeout),
                )
                try:
                    response = await connection.handle_async_request(request)
                except ConnectionNotAvailable:
                    # Sent back (an HTTP/1.1 connection busy after all): wait again.
                    closing = state.retry(queued)
                    await self._close_connections(closing)
                    continue
                except Exception as exc:
                    # A keep-alive connection the server had closed: the request never
                    # reached it, so send it again on another (``_core._stale``).
                    if not (
                        stale_retries
                        and is_stale_connection_error(exc)
                        and may_retry_on_stale_connection(
                            request.method, request.headers, request.stream, request.extensions
                        )
                    ):
                        raise
                    stale_retries -= 1
                    closing = state.retry_on_new_connection(queued)
                    await self._close_connections(closing)
                    continue
                break
            if state.state.waiting_count:
                await self._close_connections(state.response_started(queued))
        except BaseException as exc:
            closing = state.release(queued)
            try:
                await self._close_connections(closing)
            except Exception:
                pass  # The request's own error is the one to report.
            raise exc from None
        finally:
            if deadline_token is not None:
                deadline.leave(deadline_token)

        # (Here and below, type: ignore rather than typing.cast, which is a Python call on
        # every request in the compiled sync twin.)
        stream = AsyncPoolResponseStream(response.stream, self, queued)  # type: ignore[arg-type]
        if type(connection) is AsyncHTTPConnection:
            # Built for this request by this library, and held by nobody else (a traced
            # exchange reported a copy of its headers): it takes the pool's stream as it is.
            response.stream = stream
            return response
        # Another connection's response (a subclass, a proxy, a user's own): copied, never
        # changed, and not validated again (the connection built it from checked parts).
        return Response._coerced(
            response.status, list(response.headers), stream, response.extensions
        )

    async def _wait_for_connection(
        self, queued: QueuedRequest, timeout: float | None
    ) -> AsyncConnectionInterface:
        signal = queued.signal
        try:
            if signal is not None:
                await cast(AsyncEvent, signal).wait(timeout)
        except PoolTimeout:
            # Served just as the wait ran out (threads): take it rather than drop it.
            if queued.entry is None and queued.error is None:
                raise
        error = queued.error
        if error is not None:
            raise error
        connection = queued.connection
        assert connection is not None
        return connection  # type: ignore[return-value]

    async def _release(self, queued: QueuedRequest) -> None:
        # The response was closed: free the request's place and connection.
        await self._close_connections(self._state.release(queued))

    async def _close_connections(self, closing: List[PooledConnection]) -> None:
        if not closing:
            return
        first_error: Optional[BaseException] = None
        with AsyncShieldCancellation():
            for connection in closing:
                try:
                    await cast(AsyncConnectionInterface, connection).aclose()
                except BaseException as exc:
                    if first_error is None:
                        first_error = exc
        if first_error is not None:
            raise first_error

    # Closing.

    async def aclose(self) -> None:
        """Close every connection and empty the pool; it stays usable.

        Requests in progress keep their places; a response being read from a closed
        connection fails on its next read.
        """
        await self._close_connections(self._state.close_all())

    async def __aenter__(self: _Pool) -> _Pool:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = self._state.state
        counts: List[int] = []
        connections: List[PooledConnection] = []

        def inspect() -> None:
            counts.extend(state.request_counts())
            connections.extend(state.connections())

        self._state.inspect(inspect)
        idle = 0
        for connection in connections:
            if connection.is_idle():
                idle += 1
        return (
            f"<{type(self).__name__} [Requests: {counts[0]} active, {counts[1]} queued | "
            f"Connections: {len(connections) - idle} active, {idle} idle]>"
        )


class AsyncPoolResponseStream:
    """The body of a response from the pool: the connection's stream, plus the release.

    Iterating yields the connection's chunks; an error while iterating closes the stream
    and propagates (chain cut, as upstream). Closing (idempotent) closes the connection's
    stream, then releases the request's place and connection in the pool, whatever the
    first step raised. No finaliser: a dropped, unclosed response keeps its connection
    until the pool is closed.
    """

    __slots__ = ("_stream", "_iterator", "_pool", "_queued", "_closed")

    def __init__(
        self,
        stream: AsyncIterable[bytes],
        pool: AsyncConnectionPool,
        queued: QueuedRequest,
    ) -> None:
        self._stream = stream
        self._iterator: Optional[AsyncIterator[bytes]] = None
        self._pool = pool
        self._queued = queued
        self._closed = False

    def __aiter__(self) -> AsyncPoolResponseStream:
        return self

    async def __anext__(self) -> bytes:
        iterator = self._iterator
        if iterator is None:
            iterator = self._iterator = self._stream.__aiter__()
        try:
            return await iterator.__anext__()
        except StopAsyncIteration:
            raise
        except BaseException as exc:
            with AsyncShieldCancellation():
                await self.aclose()
            raise exc from None

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        pool = self._pool
        if pool._state.release_soon(self._queued):
            # Closed by a finaliser inside the pool's own state change (sync pool): only
            # the bookkeeping may run now, and the outer call does it.
            await self._close_stream()
            return
        try:
            await self._close_stream()
        finally:
            await pool._release(self._queued)

    async def _close_stream(self) -> None:
        stream = self._stream
        # A connection's stream may offer ``close_at_once()`` (HTTP/1.1 does): a close that
        # awaits nothing needs no shield, which costs a few microseconds when anyio is loaded.
        close_at_once = getattr(stream, "close_at_once", None)
        if close_at_once is not None and close_at_once():
            return
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with AsyncShieldCancellation():
                await aclose()


__all__ = ["AsyncConnectionPool", "AsyncPoolResponseStream"]
