"""SOCKS5 proxies: ``AsyncSOCKSProxy`` and ``AsyncSocks5Connection`` (API.md §7.4).

A connection serves one remote origin. Its first request, under a connect lock:

1. connects to the proxy (TCP, or the Unix socket ``uds``), traced ``socks.connect_tcp``;
2. runs the SOCKS5 handshake (RFC 1928, RFC 1929; wire format by ``socksio``), traced
   ``socks.setup_socks5_connection``: one offered method ("no authentication", or
   "username/password" with credentials), the sub-negotiation, then CONNECT to the remote
   host name or address (names are always resolved by the proxy). Each refusal is a
   ``ProxyError`` naming the cause (the messages of API.md §7.4);
3. starts TLS to the origin for https and wss (server name: the ``sni_hostname``
   extension or the origin host), traced ``socks.start_tls``;
4. speaks HTTP/2 (ALPN "h2", or HTTP/2 as the only protocol allowed) or HTTP/1.1.

Any exception in 1-4 leaves the connection "CONNECTION FAILED" (closed, expired); the
stream is closed. Introspection before and after connecting follows ``AsyncHTTPConnection``.

``socksio`` is imported where it is used, never by ``import httpcore``; without it,
``AsyncSOCKSProxy`` and ``AsyncSocks5Connection`` raise RuntimeError when constructed.

Deliberate differences from 1.0.9 (DESIGN.md: accepted options are honoured everywhere):

* the handshake reads and writes use the ``connect`` timeout (1.0.9: no timeout);
* TLS is started for ``wss`` as well as ``https`` (1.0.9: https only);
* ``retries`` retries the connect to the proxy on ConnectError/ConnectTimeout (delays as
  ``AsyncHTTPConnection``, traced ``socks.retry``); ``local_address``, ``uds`` and
  ``socket_options`` (keyword-only extras of ``AsyncSOCKSProxy``, and the pool's own
  values for ``ConnectionPool(proxy=Proxy("socks5://..."))``) apply to that connect. The
  ``connect_tcp`` trace info lists ``local_address``/``socket_options`` only when set.
* a proxy that closes the connection mid-handshake, or answers with bytes that are not
  SOCKS5, is a ``ProxyError`` (1.0.9: a socksio exception).
"""

from __future__ import annotations

import logging
import ssl
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from httpcore._backends._auto import AutoBackend
from httpcore._backends._base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream
from httpcore._core._exceptions import (
    ConnectError,
    ConnectionNotAvailable,
    ConnectTimeout,
    ProxyError,
)
from httpcore._core._models import Origin, Request, Response
from httpcore._core._synchronization import AsyncLock, AsyncShieldCancellation
from httpcore._core._trace import Trace
from httpcore._core._types import ByteOrStr
from httpcore._core._urls import URL, enforce_url
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from httpcore._protocols._async.connection import retry_delays
from httpcore._protocols._async.connection_interface import AsyncConnectionInterface
from httpcore._protocols._async.protocol_choice import alpn_ssl_context, protocol_connection

from .http_proxy import proxy_credentials

logger = logging.getLogger("httpcore.socks")

SOCKSIO_MISSING = (
    "Using SOCKS proxies requires the socksio package, which is not installed. "
    "Install it with: pip install httpcore[socks]"
)

AUTH_METHOD_NAMES = {
    0x00: "NO AUTHENTICATION REQUIRED",
    0x01: "GSSAPI",
    0x02: "USERNAME/PASSWORD",
    0xFF: "NO ACCEPTABLE METHODS",
}

REPLY_REASONS = (
    "Succeeded",
    "General SOCKS server failure",
    "Connection not allowed by ruleset",
    "Network unreachable",
    "Host unreachable",
    "Connection refused",
    "TTL expired",
    "Command not supported",
    "Address type not supported",
)

READ_SIZE = 4096


def require_socksio() -> None:
    """RuntimeError unless socksio can be imported."""
    try:
        import socksio  # noqa: F401
    except ImportError:
        raise RuntimeError(SOCKSIO_MISSING) from None


async def _exchange(stream: AsyncNetworkStream, data: bytes, timeout: float | None) -> bytes:
    await stream.write(data, timeout=timeout)
    reply = await stream.read(max_bytes=READ_SIZE, timeout=timeout)
    if not reply:
        raise ProxyError("The proxy server closed the connection during the SOCKS5 handshake.")
    return reply


async def socks5_handshake(
    stream: AsyncNetworkStream,
    host: bytes,
    port: int,
    auth: Optional[Tuple[bytes, bytes]],
    timeout: float | None,
) -> None:
    """Negotiate a SOCKS5 tunnel to ``(host, port)`` on ``stream``; ProxyError on refusal."""
    from socksio import socks5
    from socksio.exceptions import SOCKSError

    try:
        connection = socks5.SOCKS5Connection()
        method = (
            socks5.SOCKS5AuthMethod.NO_AUTH_REQUIRED
            if auth is None
            else socks5.SOCKS5AuthMethod.USERNAME_PASSWORD
        )
        connection.send(socks5.SOCKS5AuthMethodsRequest([method]))
        reply = await _exchange(stream, connection.data_to_send(), timeout)
        if len(reply) == 2 and reply[0] == 5 and reply[1:2] != method.value:
            asked = AUTH_METHOD_NAMES[method.value[0]]
            got = AUTH_METHOD_NAMES.get(reply[1], "UNKNOWN")
            raise ProxyError(f"Requested {asked} from proxy server, but got {got}.")
        connection.receive_data(reply)

        if auth is not None:
            username, password = auth
            connection.send(socks5.SOCKS5UsernamePasswordRequest(username, password))
            reply = await _exchange(stream, connection.data_to_send(), timeout)
            answer = connection.receive_data(reply)
            assert isinstance(answer, socks5.SOCKS5UsernamePasswordReply)
            if not answer.success:
                raise ProxyError("Invalid username/password")

        connection.send(
            socks5.SOCKS5CommandRequest.from_address(
                socks5.SOCKS5Command.CONNECT, (host.decode("ascii"), port)
            )
        )
        reply = await _exchange(stream, connection.data_to_send(), timeout)
        if len(reply) >= 2 and reply[0] == 5 and reply[1] != 0:
            reason = REPLY_REASONS[reply[1]] if reply[1] < len(REPLY_REASONS) else "UNKOWN"
            raise ProxyError(f"Proxy Server could not connect: {reason}.")
        connection.receive_data(reply)
    except (SOCKSError, ValueError) as exc:
        raise ProxyError(f"Invalid SOCKS5 reply from the proxy server: {exc}") from exc


class AsyncSOCKSProxy(AsyncConnectionPool):
    """A pool whose connections go through a SOCKS5 proxy (API.md §7.4).

    ``proxy_url``: the proxy (``socks5://`` or ``socks5h://``), kept as ``_proxy_url``.
    ``proxy_auth``: username and password (kept as ``_proxy_auth``). The other parameters
    configure the pool as in ``AsyncConnectionPool``; ``retries`` and the keyword-only
    ``local_address``, ``uds``, ``socket_options`` apply to the connect to the proxy.
    Raises RuntimeError when socksio is not installed.
    """

    def __init__(
        self,
        proxy_url: Union[URL, bytes, str],
        proxy_auth: Tuple[ByteOrStr, ByteOrStr] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int | None = 10,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float | None = None,
        http1: bool = True,
        http2: bool = False,
        retries: int = 0,
        network_backend: AsyncNetworkBackend | None = None,
        *,
        local_address: str | None = None,
        uds: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> None:
        require_socksio()
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
        self._proxy_auth: Optional[Tuple[bytes, bytes]] = (
            None if proxy_auth is None else proxy_credentials(proxy_auth, "proxy_auth")
        )

    def create_connection(self, origin: Origin) -> AsyncConnectionInterface:
        """A SOCKS5 connection, whatever the origin's scheme."""
        return AsyncSocks5Connection(
            proxy_origin=self._proxy_url.origin,
            remote_origin=origin,
            proxy_auth=self._proxy_auth,
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


class AsyncSocks5Connection(AsyncConnectionInterface):
    """A connection to one origin through a SOCKS5 proxy (see the module header)."""

    def __init__(
        self,
        proxy_origin: Origin,
        remote_origin: Origin,
        proxy_auth: Optional[Tuple[bytes, bytes]] = None,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry: float | None = None,
        http1: bool = True,
        http2: bool = False,
        network_backend: AsyncNetworkBackend | None = None,
        *,
        retries: int = 0,
        local_address: str | None = None,
        uds: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> None:
        require_socksio()
        self._proxy_origin = proxy_origin
        self._remote_origin = remote_origin
        self._proxy_auth = proxy_auth
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._http1 = http1
        self._http2 = http2
        self._network_backend: AsyncNetworkBackend = (
            AutoBackend() if network_backend is None else network_backend
        )
        self._retries = retries
        self._local_address = local_address
        self._uds = uds
        self._socket_options = socket_options
        self._connect_lock = AsyncLock()
        self._connection: Optional[AsyncConnectionInterface] = None
        self._connect_failed = False

    async def handle_async_request(self, request: Request) -> Response:
        connection = self._connection
        if connection is None:
            try:
                async with self._connect_lock:
                    connection = self._connection
                    if connection is None:
                        connection = await self._connect(request)
                        self._connection = connection
            except BaseException:
                if self._connection is None:
                    self._connect_failed = True
                raise
        elif not connection.is_available():
            raise ConnectionNotAvailable()
        return await connection.handle_async_request(request)

    async def _connect_proxy(self, request: Request, timeout: float | None) -> AsyncNetworkStream:
        delays = retry_delays()
        retries_left = self._retries
        while True:
            kwargs: Dict[str, Any]
            try:
                if self._uds is None:
                    kwargs = {
                        "host": self._proxy_origin.host.decode("ascii"),
                        "port": self._proxy_origin.port,
                        "timeout": timeout,
                    }
                    if self._local_address is not None:
                        kwargs["local_address"] = self._local_address
                    if self._socket_options is not None:
                        kwargs["socket_options"] = self._socket_options
                    async with Trace("connect_tcp", logger, request, kwargs) as trace:
                        stream = await self._network_backend.connect_tcp(**kwargs)
                        trace.return_value = stream
                else:
                    kwargs = {
                        "path": self._uds,
                        "timeout": timeout,
                        "socket_options": self._socket_options,
                    }
                    async with Trace("connect_unix_socket", logger, request, kwargs) as trace:
                        stream = await self._network_backend.connect_unix_socket(**kwargs)
                        trace.return_value = stream
                return stream
            except (ConnectError, ConnectTimeout):
                if retries_left <= 0:
                    raise
                retries_left -= 1
                delay = next(delays)
                async with Trace("retry", logger, request, kwargs):
                    await self._network_backend.sleep(delay)

    async def _connect(self, request: Request) -> AsyncConnectionInterface:
        timeout = request.extensions.get("timeout", {}).get("connect", None)
        remote = self._remote_origin
        stream = await self._connect_proxy(request, timeout)
        try:
            kwargs: Dict[str, Any] = {
                "stream": stream,
                "host": remote.host.decode("ascii"),
                "port": remote.port,
                "auth": self._proxy_auth,
            }
            async with Trace("setup_socks5_connection", logger, request, kwargs) as trace:
                await socks5_handshake(stream, remote.host, remote.port, self._proxy_auth, timeout)
                trace.return_value = stream

            if remote.scheme == b"https" or remote.scheme == b"wss":
                kwargs = {
                    "ssl_context": alpn_ssl_context(self._ssl_context, self._http2),
                    "server_hostname": request.extensions.get("sni_hostname")
                    or remote.host.decode("ascii"),
                    "timeout": timeout,
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
        except BaseException:
            with AsyncShieldCancellation():
                await stream.aclose()
            raise

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self._remote_origin

    async def aclose(self) -> None:
        connection = self._connection
        if connection is not None:
            await connection.aclose()

    def is_available(self) -> bool:
        connection = self._connection
        if connection is None:
            return (
                self._http2
                and (self._remote_origin.scheme == b"https" or not self._http1)
                and not self._connect_failed
            )
        return connection.is_available()

    def has_expired(self) -> bool:
        connection = self._connection
        return self._connect_failed if connection is None else connection.has_expired()

    def is_idle(self) -> bool:
        connection = self._connection
        return self._connect_failed if connection is None else connection.is_idle()

    def is_closed(self) -> bool:
        connection = self._connection
        return self._connect_failed if connection is None else connection.is_closed()

    def info(self) -> str:
        connection = self._connection
        if connection is None:
            return "CONNECTION FAILED" if self._connect_failed else "CONNECTING"
        return connection.info()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.info()}]>"


__all__ = ["AsyncSOCKSProxy", "AsyncSocks5Connection", "require_socksio", "socks5_handshake"]
