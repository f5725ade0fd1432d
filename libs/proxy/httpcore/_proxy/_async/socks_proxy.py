"""SOCKS proxies: ``AsyncSOCKSProxy``, ``AsyncSocks5Connection`` (API.md §7.4) and, beyond
1.0.9 (httpcore#51), ``AsyncSocks4Connection`` for ``socks4://`` and ``socks4a://`` URLs.

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

* the handshake reads and writes use the ``connect`` timeout (1.0.9: no timeout), and
  fail as connecting does: ``ConnectTimeout``, ``ConnectError`` (1.0.9: the read or
  write error of the stream);
* TLS is started for ``wss`` as well as ``https`` (1.0.9: https only);
* ``retries`` retries the connect to the proxy on ConnectError/ConnectTimeout (delays as
  ``AsyncHTTPConnection``, traced ``socks.retry``); ``local_address``, ``uds`` and
  ``socket_options`` (keyword-only extras of ``AsyncSOCKSProxy``, and the pool's own
  values for ``ConnectionPool(proxy=Proxy("socks5://..."))``) apply to that connect. The
  ``connect_tcp`` trace info lists ``local_address``/``socket_options`` only when set.
* a proxy that closes the connection mid-handshake, or answers with bytes that are not
  SOCKS5, is a ``ProxyError`` (1.0.9: a socksio exception);
* each reply is read to its full length, however the proxy splits it across TCP segments,
  and never beyond (1.0.9 takes whatever one read returns as the whole reply).

SOCKS4 (``socks4://``) connects to IPv4 addresses only: a host name is a ``ProxyError``
that points to ``socks4a://``, where the proxy resolves names (SOCKS4a). SOCKS4 has user
ids, not passwords: the username of ``proxy_auth`` is sent as the user id, and a
non-empty password is a ValueError rather than silently dropped. ``URL.origin`` knows no
default port for these schemes (as in 1.0.9); the proxy's port defaults to 1080 here.
The steps and their traces are those of SOCKS5, the handshake traced
``socks.setup_socks4_connection``.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from typing import Any, Callable, Dict, Iterable, Optional, Tuple, Union

from httpcore._backends._auto import AutoBackend
from httpcore._backends._base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream
from httpcore._core import _deadline as deadline
from httpcore._core._exceptions import (
    ConnectError,
    ConnectionNotAvailable,
    ConnectTimeout,
    ProxyError,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
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

SOCKS4_SCHEMES = (b"socks4", b"socks4a")
SOCKS_DEFAULT_PORT = 1080

SOCKS4_GRANTED = 0x5A
SOCKS4_REPLY_REASONS = {
    0x5B: "Request rejected or failed",
    0x5C: "Request rejected because the SOCKS server cannot reach identd on the client",
    0x5D: "Request rejected because identd reports a different user id",
}


def require_socksio() -> None:
    """RuntimeError unless socksio can be imported."""
    try:
        import socksio  # noqa: F401
    except ImportError:
        raise RuntimeError(SOCKSIO_MISSING) from None


def socks_proxy_origin(url: URL) -> Origin:
    """The origin of a SOCKS proxy URL (``socks4``/``socks4a`` included, port 1080 by default)."""
    if url.scheme in SOCKS4_SCHEMES:
        return Origin(url.scheme, url.host, url.port or SOCKS_DEFAULT_PORT)
    return url.origin


async def _read_reply(
    stream: AsyncNetworkStream,
    length: Callable[[bytes], int],
    timeout: float | None,
    version: str,
) -> bytes:
    """One reply of the proxy: ``length(prefix)`` is its length as far as ``prefix`` tells.

    Asks for no more than the reply's length: what follows belongs to the tunnel.
    """
    reply = b""
    needed = length(reply)
    while len(reply) < needed:  # Each round reads at least one byte; needed is at most 262.
        data = await stream.read(
            max_bytes=needed - len(reply), timeout=deadline.bound(timeout, ReadTimeout)
        )
        if not data:
            raise ProxyError(
                f"The proxy server closed the connection during the {version} handshake."
            )
        reply += data
        needed = length(reply)
    return reply


def _two_bytes(prefix: bytes) -> int:
    return 2


def _socks5_command_reply_length(prefix: bytes) -> int:
    # VER REP RSV ATYP BND.ADDR BND.PORT (RFC 1928 §6); a failure needs no more than REP.
    if len(prefix) < 2 or prefix[1] != 0:
        return 2
    if len(prefix) < 5:
        return 5
    address_type = prefix[3]
    if address_type == 1:
        return 4 + 4 + 2
    if address_type == 4:
        return 4 + 16 + 2
    if address_type == 3:
        return 4 + 1 + prefix[4] + 2
    return len(prefix)  # Not SOCKS5: socksio rejects it.


def _eight_bytes(prefix: bytes) -> int:
    return 8


async def _exchange(
    stream: AsyncNetworkStream,
    data: bytes,
    length: Callable[[bytes], int],
    timeout: float | None,
) -> bytes:
    await stream.write(data, timeout=deadline.bound(timeout, WriteTimeout))
    return await _read_reply(stream, length, timeout, "SOCKS5")


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
        reply = await _exchange(stream, connection.data_to_send(), _two_bytes, timeout)
        if len(reply) == 2 and reply[0] != 5:
            # socksio looks at the version only when the method is not the one offered.
            raise ValueError(f"the method selection reply has version {reply[0]}, not 5")
        if len(reply) == 2 and reply[1:2] != method.value:
            asked = AUTH_METHOD_NAMES[method.value[0]]
            got = AUTH_METHOD_NAMES.get(reply[1], "UNKNOWN")
            raise ProxyError(f"Requested {asked} from proxy server, but got {got}.")
        connection.receive_data(reply)

        if auth is not None:
            username, password = auth
            connection.send(socks5.SOCKS5UsernamePasswordRequest(username, password))
            reply = await _exchange(stream, connection.data_to_send(), _two_bytes, timeout)
            answer = connection.receive_data(reply)
            assert isinstance(answer, socks5.SOCKS5UsernamePasswordReply)
            if not answer.success:
                raise ProxyError("Invalid username/password")

        connection.send(
            socks5.SOCKS5CommandRequest.from_address(
                socks5.SOCKS5Command.CONNECT, (host.decode("ascii"), port)
            )
        )
        request_data = connection.data_to_send()
        reply = await _exchange(stream, request_data, _socks5_command_reply_length, timeout)
        if len(reply) >= 2 and reply[0] == 5 and reply[1] != 0:
            reason = REPLY_REASONS[reply[1]] if reply[1] < len(REPLY_REASONS) else "UNKOWN"
            raise ProxyError(f"Proxy Server could not connect: {reason}.")
        connection.receive_data(reply)
    except (SOCKSError, ValueError) as exc:
        raise ProxyError(f"Invalid SOCKS5 reply from the proxy server: {exc}") from exc


def _ipv4_address(host: str) -> Optional[str]:
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        return None


async def socks4_handshake(
    stream: AsyncNetworkStream,
    host: bytes,
    port: int,
    user_id: bytes,
    resolve_by_proxy: bool,
    timeout: float | None,
) -> None:
    """Negotiate a SOCKS4 (or, with ``resolve_by_proxy``, SOCKS4a) tunnel to ``(host, port)``.

    ProxyError when the proxy refuses, or when plain SOCKS4 is asked for a host name. The
    wire format is small enough to write here (socksio insists on a non-empty user id):
    VN=4 CD=1 DSTPORT DSTIP USERID NUL, and for SOCKS4a DSTIP=0.0.0.1 then the name and
    NUL; the reply is VN CD and six ignored bytes.
    """
    name = host.decode("ascii")
    address = _ipv4_address(name)
    if address is not None:
        request = b"\x04\x01" + port.to_bytes(2, "big") + ipaddress.IPv4Address(address).packed
        request += user_id + b"\x00"
    elif ":" in name:
        raise ProxyError(f"A SOCKS4 proxy cannot connect to the IPv6 address {name}.")
    elif not resolve_by_proxy:
        raise ProxyError(
            f"A SOCKS4 proxy takes IPv4 addresses only, not the host name {name!r}: "
            "use a socks4a:// proxy URL to have the proxy resolve it."
        )
    else:
        request = b"\x04\x01" + port.to_bytes(2, "big") + b"\x00\x00\x00\x01"
        request += user_id + b"\x00" + host + b"\x00"
    await stream.write(request, timeout=deadline.bound(timeout, WriteTimeout))
    reply = await _read_reply(stream, _eight_bytes, timeout, "SOCKS4")
    # VN is 0 by the protocol; some servers put 4 there, which costs nothing to accept.
    if reply[0] not in (0, 4) or not 0x5A <= reply[1] <= 0x5F:
        raise ProxyError(f"Invalid SOCKS4 reply from the proxy server: {reply!r}")
    if reply[1] != SOCKS4_GRANTED:
        reason = SOCKS4_REPLY_REASONS.get(reply[1], "UNKNOWN")
        raise ProxyError(f"Proxy Server could not connect: {reason}.")


def socks4_user_id(proxy_auth: Optional[Tuple[bytes, bytes]]) -> bytes:
    """The SOCKS4 user id of ``proxy_auth``: its username; SOCKS4 has no passwords."""
    if proxy_auth is None:
        return b""
    username, password = proxy_auth
    if b"\x00" in username:
        raise ValueError("A SOCKS4 user id cannot contain NUL bytes.")
    if password:
        raise ValueError(
            "SOCKS4 proxies take a user id but no password: give proxy credentials with "
            "an empty password, or use a SOCKS5 proxy."
        )
    return username


class AsyncSOCKSProxy(AsyncConnectionPool):
    """A pool whose connections go through a SOCKS proxy (API.md §7.4).

    ``proxy_url``: the proxy (``socks5://`` or ``socks5h://``; also ``socks4://`` and
    ``socks4a://``), kept as ``_proxy_url``.
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
        """A SOCKS5 connection (SOCKS4 for socks4 proxy URLs), whatever the origin's scheme."""
        scheme = self._proxy_url.scheme
        connection_class = (
            AsyncSocks4Connection if scheme in SOCKS4_SCHEMES else AsyncSocks5Connection
        )
        return connection_class(
            proxy_origin=socks_proxy_origin(self._proxy_url),
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
        self._check_auth(proxy_auth)
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
        if connection is not None:
            if not connection.is_available():
                raise ConnectionNotAvailable()
            return await connection.handle_async_request(request)
        # Used on its own, this connection is where the request's total deadline starts.
        with deadline.scope(request.extensions):
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
                        "timeout": deadline.bound(timeout, ConnectTimeout),
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
                        "timeout": deadline.bound(timeout, ConnectTimeout),
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
                if not deadline.leaves_time_for(delay):
                    raise  # The total deadline would pass before the next attempt.
                async with Trace("retry", logger, request, kwargs):
                    await self._network_backend.sleep(delay)

    async def _connect(self, request: Request) -> AsyncConnectionInterface:
        timeout = request.extensions.get("timeout", {}).get("connect", None)
        remote = self._remote_origin
        stream = await self._connect_proxy(request, timeout)
        try:
            try:
                await self._setup_tunnel(stream, request, timeout)
            except (ReadTimeout, WriteTimeout) as exc:
                # The handshake is part of connecting, under the connect timeout.
                raise ConnectTimeout(*exc.args) from exc
            except (ReadError, WriteError) as exc:
                raise ConnectError(*exc.args) from exc
            kwargs: Dict[str, Any]
            if remote.scheme == b"https" or remote.scheme == b"wss":
                kwargs = {
                    "ssl_context": alpn_ssl_context(self._ssl_context, self._http2),
                    "server_hostname": request.extensions.get("sni_hostname")
                    or remote.host.decode("ascii"),
                    "timeout": deadline.bound(timeout, ConnectTimeout),
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

    def _check_auth(self, proxy_auth: Optional[Tuple[bytes, bytes]]) -> None:
        """Reject credentials this proxy kind cannot use (SOCKS5 takes any pair)."""

    async def _setup_tunnel(
        self, stream: AsyncNetworkStream, request: Request, timeout: float | None
    ) -> None:
        remote = self._remote_origin
        kwargs: Dict[str, Any] = {
            "stream": stream,
            "host": remote.host.decode("ascii"),
            "port": remote.port,
            "auth": self._proxy_auth,
        }
        async with Trace("setup_socks5_connection", logger, request, kwargs) as trace:
            await socks5_handshake(stream, remote.host, remote.port, self._proxy_auth, timeout)
            trace.return_value = stream

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


class AsyncSocks4Connection(AsyncSocks5Connection):
    """A connection to one origin through a SOCKS4 proxy, or SOCKS4a when the proxy
    origin's scheme is ``socks4a`` (see the module header). Raises ValueError for
    ``proxy_auth`` with a password.
    """

    def _check_auth(self, proxy_auth: Optional[Tuple[bytes, bytes]]) -> None:
        self._user_id = socks4_user_id(proxy_auth)

    async def _setup_tunnel(
        self, stream: AsyncNetworkStream, request: Request, timeout: float | None
    ) -> None:
        remote = self._remote_origin
        resolve_by_proxy = self._proxy_origin.scheme == b"socks4a"
        kwargs: Dict[str, Any] = {
            "stream": stream,
            "host": remote.host.decode("ascii"),
            "port": remote.port,
            "user_id": self._user_id,
        }
        async with Trace("setup_socks4_connection", logger, request, kwargs) as trace:
            await socks4_handshake(
                stream, remote.host, remote.port, self._user_id, resolve_by_proxy, timeout
            )
            trace.return_value = stream


__all__ = [
    "AsyncSOCKSProxy",
    "AsyncSocks4Connection",
    "AsyncSocks5Connection",
    "SOCKS4_SCHEMES",
    "require_socksio",
    "socks4_handshake",
    "socks5_handshake",
    "socks_proxy_origin",
]
