"""HTTP proxies: ``AsyncHTTPProxy`` and its forwarding and tunnelling connections (API.md §7.2,
§7.3).

Every proxied connection owns one inner ``AsyncHTTPConnection`` to the *proxy* origin,
HTTP/1.1 only (TLS with ``proxy_ssl_context`` when the proxy URL is https), and serves one
*remote* origin (``can_handle_request``), so the pool keeps one connection per remote origin.

* Forwarding (``http://`` origins): each request goes to the proxy with an absolute-form
  target; the proxy headers come first, minus any whose name the request also sends.
  Introspection delegates to the inner connection, so ``info()`` shows the proxy origin.
* Tunnelling (every other origin): the first request sends ``CONNECT host:port`` (with its
  own extensions: timeouts, trace); a non-2xx answer closes the connection and raises
  ``ProxyError("<status> <reason>")``. On 2xx the upgraded network stream is the tunnel:
  TLS to the origin (ALPN as a direct connection; the server name is the origin host; also
  for ``ws``, as 1.0.9 does: API.md §16 records it, and changing it is not ours to do), then HTTP/1.1 or HTTP/2 bound to the remote origin. Before the tunnel
  exists introspection delegates to the inner connection (busy: not available), after it
  to the tunnelled protocol connection. A failure while building the tunnel closes the
  connection, so the pool drops it.

Deliberate differences from 1.0.9 (DESIGN.md: accepted options are honoured everywhere):

* ``retries``, ``local_address``, ``uds`` and ``socket_options`` apply to the link to the
  proxy (the inner connection's connect: retries on ConnectError/ConnectTimeout, source
  address, the Unix socket the proxy listens on, socket options); 1.0.9 ignores them.
"""

from __future__ import annotations

import base64
import logging
import ssl
from typing import Iterable, List, Optional, Tuple, Union

from httpcore._backends._base import SOCKET_OPTION, AsyncNetworkBackend
from httpcore._core import _deadline as deadline
from httpcore._core._exceptions import ConnectTimeout, ProxyError
from httpcore._core._headers import enforce_bytes, enforce_headers
from httpcore._core._models import Origin, Request, Response
from httpcore._core._synchronization import AsyncLock, AsyncShieldCancellation
from httpcore._core._trace import Trace
from httpcore._core._types import ByteOrStr, HeadersAsMapping, HeadersAsSequence
from httpcore._core._urls import URL, enforce_url
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from httpcore._protocols._async.connection import AsyncHTTPConnection
from httpcore._protocols._async.connection_interface import AsyncConnectionInterface
from httpcore._protocols._async.protocol_choice import alpn_ssl_context, protocol_connection

logger = logging.getLogger("httpcore.proxy")

HeaderList = List[Tuple[bytes, bytes]]

PROXY_SSL_CONTEXT_WITH_HTTP = (
    "The proxy_ssl_context argument is for TLS to an https:// proxy, but the proxy URL "
    "scheme is http."
)


def merge_headers(defaults: Optional[HeaderList], overrides: Optional[HeaderList]) -> HeaderList:
    """``defaults`` without the names (any case) that ``overrides`` has, then ``overrides``."""
    defaults = defaults or []
    overrides = overrides or []
    names = {name.lower() for name, _ in overrides}
    return [item for item in defaults if item[0].lower() not in names] + overrides


def basic_proxy_authorization(username: bytes, password: bytes) -> Tuple[bytes, bytes]:
    """The ``Proxy-Authorization`` header for Basic credentials (RFC 7617)."""
    return (b"Proxy-Authorization", b"Basic " + base64.b64encode(username + b":" + password))


def proxy_credentials(auth: Tuple[ByteOrStr, ByteOrStr], label: str) -> Tuple[bytes, bytes]:
    """``auth`` as a bytes pair, each item ASCII-coerced with ``label`` in errors."""
    items = tuple(auth)
    if len(items) != 2:
        raise ValueError(f"{label} must be a (username, password) pair, but got {len(items)} items.")
    return enforce_bytes(items[0], label), enforce_bytes(items[1], label)


class AsyncHTTPProxy(AsyncConnectionPool):
    """A pool whose connections go through an HTTP or HTTPS proxy (API.md §7.2).

    ``proxy_url``: the proxy (``http://`` or ``https://``), kept as ``_proxy_url``.
    ``proxy_auth``: Basic credentials, sent as ``Proxy-Authorization`` (prepended to
    ``proxy_headers``). ``proxy_ssl_context``: TLS to an https proxy (RuntimeError with an
    http proxy URL). The other parameters configure the pool as in ``AsyncConnectionPool``;
    ``retries``, ``local_address``, ``uds`` and ``socket_options`` apply to the connect to
    the proxy.
    """

    def __init__(
        self,
        proxy_url: Union[URL, bytes, str],
        proxy_auth: Tuple[ByteOrStr, ByteOrStr] | None = None,
        proxy_headers: HeadersAsMapping | HeadersAsSequence | None = None,
        ssl_context: ssl.SSLContext | None = None,
        proxy_ssl_context: ssl.SSLContext | None = None,
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
    ) -> None:
        super().__init__(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
            http1=http1,
            http2=http2,
            network_backend=network_backend,
            retries=retries,
            local_address=local_address,
            uds=uds,
            socket_options=socket_options,
        )
        self._proxy_url = enforce_url(proxy_url, "proxy_url")
        if self._proxy_url.scheme == b"http" and proxy_ssl_context is not None:
            raise RuntimeError(PROXY_SSL_CONTEXT_WITH_HTTP)
        self._proxy_ssl_context = proxy_ssl_context
        self._proxy_headers = enforce_headers(proxy_headers, "proxy_headers")
        if proxy_auth is not None:
            username, password = proxy_credentials(proxy_auth, "proxy_auth")
            self._proxy_headers.insert(0, basic_proxy_authorization(username, password))

    def create_connection(self, origin: Origin) -> AsyncConnectionInterface:
        """A forwarding connection for an http origin, a tunnelling one for the others."""
        return create_http_proxy_connection(
            proxy_origin=self._proxy_url.origin,
            remote_origin=origin,
            proxy_headers=self._proxy_headers,
            proxy_ssl_context=self._proxy_ssl_context,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._keepalive_expiry,
            http1=self._http1,
            http2=self._http2,
            network_backend=self._network_backend,
            retries=self._retries,
            local_address=self._local_address,
            uds=self._uds,
            socket_options=self._socket_options,
        )


def create_http_proxy_connection(
    proxy_origin: Origin,
    remote_origin: Origin,
    proxy_headers: Optional[HeaderList],
    proxy_ssl_context: ssl.SSLContext | None,
    ssl_context: ssl.SSLContext | None,
    keepalive_expiry: float | None,
    http1: bool,
    http2: bool,
    network_backend: AsyncNetworkBackend | None,
    retries: int,
    local_address: str | None,
    uds: str | None,
    socket_options: Iterable[SOCKET_OPTION] | None,
) -> AsyncConnectionInterface:
    """The dispatch of API.md §7.1 for HTTP(S) proxies: forward http, tunnel the rest."""
    if remote_origin.scheme == b"http":
        return AsyncForwardHTTPConnection(
            proxy_origin=proxy_origin,
            remote_origin=remote_origin,
            proxy_headers=proxy_headers,
            keepalive_expiry=keepalive_expiry,
            network_backend=network_backend,
            socket_options=socket_options,
            proxy_ssl_context=proxy_ssl_context,
            retries=retries,
            local_address=local_address,
            uds=uds,
        )
    return AsyncTunnelHTTPConnection(
        proxy_origin=proxy_origin,
        remote_origin=remote_origin,
        ssl_context=ssl_context,
        proxy_ssl_context=proxy_ssl_context,
        proxy_headers=proxy_headers,
        keepalive_expiry=keepalive_expiry,
        http1=http1,
        http2=http2,
        network_backend=network_backend,
        socket_options=socket_options,
        retries=retries,
        local_address=local_address,
        uds=uds,
    )


class AsyncForwardHTTPConnection(AsyncConnectionInterface):
    """Sends requests for one http origin through the proxy (see the module header)."""

    def __init__(
        self,
        proxy_origin: Origin,
        remote_origin: Origin,
        proxy_headers: HeadersAsMapping | HeadersAsSequence | None = None,
        keepalive_expiry: float | None = None,
        network_backend: AsyncNetworkBackend | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
        proxy_ssl_context: ssl.SSLContext | None = None,
        *,
        retries: int = 0,
        local_address: str | None = None,
        uds: str | None = None,
    ) -> None:
        self._connection = AsyncHTTPConnection(
            origin=proxy_origin,
            ssl_context=proxy_ssl_context,
            keepalive_expiry=keepalive_expiry,
            retries=retries,
            local_address=local_address,
            uds=uds,
            network_backend=network_backend,
            socket_options=socket_options,
        )
        self._proxy_origin = proxy_origin
        self._remote_origin = remote_origin
        self._proxy_headers = enforce_headers(proxy_headers, "proxy_headers")

    async def handle_async_request(self, request: Request) -> Response:
        proxy = self._proxy_origin
        url = URL(scheme=proxy.scheme, host=proxy.host, port=proxy.port, target=bytes(request.url))
        proxy_request = Request(
            method=request.method,
            url=url,
            headers=merge_headers(self._proxy_headers, request.headers),
            content=request.stream,
            extensions=request.extensions,
        )
        return await self._connection.handle_async_request(proxy_request)

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self._remote_origin

    async def aclose(self) -> None:
        await self._connection.aclose()

    def info(self) -> str:
        return self._connection.info()

    def is_available(self) -> bool:
        return self._connection.is_available()

    def has_expired(self) -> bool:
        return self._connection.has_expired()

    def is_idle(self) -> bool:
        return self._connection.is_idle()

    def is_closed(self) -> bool:
        return self._connection.is_closed()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.info()}]>"


class AsyncTunnelHTTPConnection(AsyncConnectionInterface):
    """Tunnels requests for one origin through the proxy with CONNECT (see the module header)."""

    def __init__(
        self,
        proxy_origin: Origin,
        remote_origin: Origin,
        ssl_context: ssl.SSLContext | None = None,
        proxy_ssl_context: ssl.SSLContext | None = None,
        proxy_headers: HeadersAsMapping | HeadersAsSequence | None = None,
        keepalive_expiry: float | None = None,
        http1: bool = True,
        http2: bool = False,
        network_backend: AsyncNetworkBackend | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
        *,
        retries: int = 0,
        local_address: str | None = None,
        uds: str | None = None,
    ) -> None:
        self._proxy_connection = AsyncHTTPConnection(
            origin=proxy_origin,
            ssl_context=proxy_ssl_context,
            keepalive_expiry=keepalive_expiry,
            retries=retries,
            local_address=local_address,
            uds=uds,
            network_backend=network_backend,
            socket_options=socket_options,
        )
        self._proxy_origin = proxy_origin
        self._remote_origin = remote_origin
        self._ssl_context = ssl_context
        self._proxy_headers = enforce_headers(proxy_headers, "proxy_headers")
        self._keepalive_expiry = keepalive_expiry
        self._http1 = http1
        self._http2 = http2
        self._connect_lock = AsyncLock()
        self._connection: Optional[AsyncConnectionInterface] = None

    async def handle_async_request(self, request: Request) -> Response:
        connection = self._connection
        if connection is not None:
            return await connection.handle_async_request(request)
        # Used on its own, this connection is where the request's total deadline starts.
        with deadline.scope(request.extensions):
            async with self._connect_lock:
                connection = self._connection
                if connection is None:
                    try:
                        connection = await self._open_tunnel(request)
                    except BaseException:
                        with AsyncShieldCancellation():
                            await self._proxy_connection.aclose()
                        raise
                    self._connection = connection
            return await connection.handle_async_request(request)

    async def _open_tunnel(self, request: Request) -> AsyncConnectionInterface:
        proxy = self._proxy_origin
        remote = self._remote_origin
        authority = remote.host + b":" + str(remote.port).encode("ascii")
        connect_request = Request(
            method=b"CONNECT",
            url=URL(scheme=proxy.scheme, host=proxy.host, port=proxy.port, target=authority),
            headers=merge_headers([(b"Host", authority), (b"Accept", b"*/*")], self._proxy_headers),
            extensions=request.extensions,
        )
        response = await self._proxy_connection.handle_async_request(connect_request)
        if not 200 <= response.status < 300:
            reason = response.extensions.get("reason_phrase", b"").decode("ascii", errors="ignore")
            raise ProxyError(f"{response.status} {reason}")
        stream = response.extensions["network_stream"]
        if remote.scheme != b"http":  # every tunnelled origin, ws included (as 1.0.9)
            kwargs = {
                "ssl_context": alpn_ssl_context(self._ssl_context, self._http2),
                "server_hostname": remote.host.decode("ascii"),
                "timeout": deadline.bound(
                    request.extensions.get("timeout", {}).get("connect", None), ConnectTimeout
                ),
            }
            async with Trace("start_tls", logger, request, kwargs) as trace:
                stream = await stream.start_tls(**kwargs)
                trace.return_value = stream
        return protocol_connection(
            remote,
            stream,
            http1=self._http1,
            http2=self._http2,
            keepalive_expiry=self._keepalive_expiry,
        )

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self._remote_origin

    async def aclose(self) -> None:
        connection = self._connection
        if connection is None:
            await self._proxy_connection.aclose()
        else:
            await connection.aclose()

    def _current(self) -> AsyncConnectionInterface:
        connection = self._connection
        return self._proxy_connection if connection is None else connection

    def info(self) -> str:
        return self._current().info()

    def is_available(self) -> bool:
        return self._current().is_available()

    def has_expired(self) -> bool:
        return self._current().has_expired()

    def is_idle(self) -> bool:
        return self._current().is_idle()

    def is_closed(self) -> bool:
        return self._current().is_closed()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.info()}]>"


__all__ = [
    "AsyncForwardHTTPConnection",
    "AsyncHTTPProxy",
    "AsyncTunnelHTTPConnection",
    "create_http_proxy_connection",
    "merge_headers",
]
