"""The proxy connections of ``AsyncConnectionPool(proxy=Proxy(...))`` (API.md §7.1).

The pool lib sits below this one and must not import it, so the pool keeps a list of
factories and this module appends its own on import (``httpcore._proxy`` imports this
module, and the ``httpcore`` facade imports ``httpcore._proxy``).

Dispatch: a ``socks5``/``socks5h`` proxy URL gives a SOCKS5 connection for every origin
(``socks4``/``socks4a``, beyond 1.0.9: a SOCKS4 connection);
any other proxy URL gives a forwarding connection for ``http`` origins and a tunnelling
connection for the others. Unlike 1.0.9, the pool's ``retries``, ``local_address``,
``uds`` and ``socket_options`` are passed on and apply to the connect to the proxy.
"""

from __future__ import annotations

from httpcore._core._models import Origin, Proxy
from httpcore._pool._async.connection_pool import AsyncConnectionPool, proxy_connection_factories
from httpcore._protocols._async.connection_interface import AsyncConnectionInterface

from .http_proxy import create_http_proxy_connection
from .socks_proxy import (
    SOCKS4_SCHEMES,
    AsyncSocks4Connection,
    AsyncSocks5Connection,
    socks_proxy_origin,
)

SOCKS5_SCHEMES = (b"socks5", b"socks5h")


def create_proxy_connection(
    pool: AsyncConnectionPool, proxy: Proxy, origin: Origin
) -> AsyncConnectionInterface:
    """The connection ``pool`` opens for ``origin`` through ``proxy``."""
    scheme = proxy.url.scheme
    if scheme in SOCKS5_SCHEMES or scheme in SOCKS4_SCHEMES:
        connection_class = (
            AsyncSocks4Connection if scheme in SOCKS4_SCHEMES else AsyncSocks5Connection
        )
        return connection_class(
            proxy_origin=socks_proxy_origin(proxy.url),
            remote_origin=origin,
            proxy_auth=proxy.auth,
            ssl_context=pool._ssl_context,
            keepalive_expiry=pool._keepalive_expiry,
            http1=pool._http1,
            http2=pool._http2,
            network_backend=pool._network_backend,
            retries=pool._retries,
            local_address=pool._local_address,
            uds=pool._uds,
            socket_options=pool._socket_options,
        )
    return create_http_proxy_connection(
        proxy_origin=proxy.url.origin,
        remote_origin=origin,
        proxy_headers=proxy.headers,
        proxy_ssl_context=proxy.ssl_context,
        ssl_context=pool._ssl_context,
        keepalive_expiry=pool._keepalive_expiry,
        http1=pool._http1,
        http2=pool._http2,
        network_backend=pool._network_backend,
        retries=pool._retries,
        local_address=pool._local_address,
        uds=pool._uds,
        socket_options=pool._socket_options,
    )


if create_proxy_connection not in proxy_connection_factories:
    proxy_connection_factories.append(create_proxy_connection)

__all__ = ["create_proxy_connection"]
