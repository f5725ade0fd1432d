"""httpcore: a minimal, fast, low-level HTTP client (a compatible reimplementation of 1.0.9).

This is the only public module. Each layer of the library lives in its own lib directory
(see DESIGN.md); ``extend_path`` joins those parts into this one package, so the same names
import from a Bazel build (one sys.path entry per lib) and from an installed wheel.
"""

from __future__ import annotations

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from ._backends._anyio import AnyIOBackend  # noqa: E402
from ._backends._async.mock import AsyncMockBackend, AsyncMockStream  # noqa: E402
from ._backends._base import (  # noqa: E402
    SOCKET_OPTION,
    AsyncNetworkBackend,
    AsyncNetworkStream,
    NetworkBackend,
    NetworkStream,
)
from ._backends._sync_backend import SyncBackend  # noqa: E402
from ._backends._sync.mock import MockBackend, MockStream  # noqa: E402
from ._backends._trio import TrioBackend  # noqa: E402
from ._core._exceptions import (  # noqa: E402
    ConnectError,
    ConnectionNotAvailable,
    ConnectTimeout,
    LocalProtocolError,
    NetworkError,
    PoolTimeout,
    ProtocolError,
    ProxyError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TimeoutException,
    UnsupportedProtocol,
    WriteError,
    WriteTimeout,
)
from ._core._models import URL, Origin, Proxy, Request, Response  # noqa: E402
from ._core._ssl import default_ssl_context  # noqa: E402
from ._protocols._async.connection import AsyncHTTPConnection  # noqa: E402
from ._protocols._async.connection_interface import AsyncConnectionInterface  # noqa: E402
from ._protocols._async.http11 import AsyncHTTP11Connection  # noqa: E402
from ._protocols._async.http2 import AsyncHTTP2Connection  # noqa: E402
from ._protocols._sync.connection import HTTPConnection  # noqa: E402
from ._protocols._sync.connection_interface import ConnectionInterface  # noqa: E402
from ._protocols._sync.http11 import HTTP11Connection  # noqa: E402
from ._protocols._sync.http2 import HTTP2Connection  # noqa: E402
from ._api import request, stream  # noqa: E402
from ._pool._async.connection_pool import AsyncConnectionPool  # noqa: E402
from ._pool._sync.connection_pool import ConnectionPool  # noqa: E402
from ._proxy._async.http_proxy import AsyncHTTPProxy  # noqa: E402
from ._proxy._async.socks_proxy import AsyncSOCKSProxy  # noqa: E402
from ._proxy._sync.http_proxy import HTTPProxy  # noqa: E402
from ._proxy._sync.socks_proxy import SOCKSProxy  # noqa: E402
from ._version import __version__ as __version__  # noqa: E402

__all__ = [
    # top-level functions
    "request",
    "stream",
    # pools
    "AsyncConnectionPool",
    "ConnectionPool",
    # proxies
    "AsyncHTTPProxy",
    "AsyncSOCKSProxy",
    "HTTPProxy",
    "SOCKSProxy",
    # models
    "Origin",
    "URL",
    "Request",
    "Response",
    "Proxy",
    # connections
    "AsyncHTTPConnection",
    "AsyncHTTP11Connection",
    "HTTPConnection",
    "HTTP11Connection",
    "AsyncHTTP2Connection",
    "HTTP2Connection",
    "AsyncConnectionInterface",
    "ConnectionInterface",
    # network backends: implementations
    "SyncBackend",
    "AnyIOBackend",
    "TrioBackend",
    # network backends: mocks
    "AsyncMockBackend",
    "AsyncMockStream",
    "MockBackend",
    "MockStream",
    # network backends: interfaces
    "AsyncNetworkStream",
    "AsyncNetworkBackend",
    "NetworkStream",
    "NetworkBackend",
    # utilities
    "default_ssl_context",
    "SOCKET_OPTION",
    # exceptions
    "ConnectionNotAvailable",
    "ProxyError",
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "UnsupportedProtocol",
    "TimeoutException",
    "PoolTimeout",
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
    "NetworkError",
    "ConnectError",
    "ReadError",
    "WriteError",
]

# Public classes and functions report the package they are used from, not the private
# module that defines them (reprs, tracebacks). SOCKET_OPTION is a typing alias: assigning
# __module__ to it fails on newer Pythons, and it has no repr of its own to fix.
for _name in __all__:
    if _name != "SOCKET_OPTION":
        setattr(globals()[_name], "__module__", "httpcore")
del _name
