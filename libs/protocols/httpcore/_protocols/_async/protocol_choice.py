"""Which HTTP protocol runs over a freshly opened stream, and what TLS offers (API.md §6.2).

Shared by every connection that opens its own stream to an origin: ``AsyncHTTPConnection``
and the proxy lib's tunnel and SOCKS5 connections, so that ALPN and the HTTP/1.1-or-HTTP/2
decision are made the same way everywhere.
"""

from __future__ import annotations

import ssl

from httpcore._backends._base import AsyncNetworkStream
from httpcore._core._models import Origin
from httpcore._core._ssl import alpn_protocols, shared_default_context

from .connection_interface import AsyncConnectionInterface
from .http11 import AsyncHTTP11Connection
from .http2 import AsyncHTTP2Connection


def alpn_ssl_context(ssl_context: ssl.SSLContext | None, http2: bool) -> ssl.SSLContext:
    """The context for TLS to an origin: ``ssl_context`` with ALPN offering "h2" only when
    HTTP/2 is enabled (a given context is changed in place, as 1.0.9 does), or, for
    ``None``, the process's shared default context with that offer (1.0.9 builds a new one
    per connection; see ``httpcore._core._ssl``)."""
    if ssl_context is None:
        return shared_default_context(http2)
    ssl_context.set_alpn_protocols(alpn_protocols(http2))
    return ssl_context


def protocol_connection(
    origin: Origin,
    stream: AsyncNetworkStream,
    *,
    http1: bool,
    http2: bool,
    keepalive_expiry: float | None,
    http2_ping_after_idle: float | None = None,
) -> AsyncConnectionInterface:
    """HTTP/2 when TLS negotiated "h2" by ALPN or when HTTP/2 is the only protocol allowed
    (prior knowledge); otherwise HTTP/1.1 (also when neither is enabled)."""
    ssl_object = stream.get_extra_info("ssl_object")
    alpn_h2 = ssl_object is not None and ssl_object.selected_alpn_protocol() == "h2"
    if alpn_h2 or (http2 and not http1):
        return AsyncHTTP2Connection(
            origin=origin,
            stream=stream,
            keepalive_expiry=keepalive_expiry,
            ping_after_idle=http2_ping_after_idle,
        )
    return AsyncHTTP11Connection(origin=origin, stream=stream, keepalive_expiry=keepalive_expiry)
