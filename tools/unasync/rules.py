"""The substitution table that turns hand-written async code into its sync twin.

One dict; the shape of each entry's key says how it applies (see `_translate.py`):

- ``"AsyncName": "Name"`` (the key is an identifier): renames the identifier wherever it is
  a whole word, in code and also inside string literals and comments (so a docstring or an
  expected ``repr`` in a test follows the rename). ``aclose`` does not match ``_aclose``
  or ``acloser``.
- ``"async def": "def"``, ``"await": ""`` (the key is a keyword, or several words): replaces
  that exact run of consecutive code tokens; never touches strings or comments. An empty
  replacement also removes the spaces after the run.
- ``"@pytest.mark.anyio": None``: drops every logical line whose code is exactly the key
  (whitespace ignored).

Every rule must be used by at least one `_async` file; ``python -m tools.unasync --check``
fails on a rule nothing uses, so the table stays an exact record of what the code needs.
Add a rule in the same change as the first async code that needs it.

Note for future rules: ``AsyncGenerator[T, None]`` has no one-word sync twin
(``Generator`` takes three parameters); annotate async generators as ``AsyncIterator[T]``.
"""

from __future__ import annotations

RULES: dict[str, str | None] = {
    # Keywords (code only).
    "async def": "def",
    "await": "",
    "async with": "with",
    "async for": "for",
    # The standard library's async names.
    "asynccontextmanager": "contextmanager",
    "AsyncIterator": "Iterator",
    "AsyncIterable": "Iterable",
    "StopAsyncIteration": "StopIteration",
    # Method names of the public API (API.md section 0.1).
    "handle_async_request": "handle_request",
    "aread": "read",
    "aiter_stream": "iter_stream",
    "aclose": "close",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    # Classes.
    "AsyncRequestInterface": "RequestInterface",
    "AsyncNetworkBackend": "NetworkBackend",
    "AsyncNetworkStream": "NetworkStream",
    "AsyncMockBackend": "MockBackend",
    "AsyncMockStream": "MockStream",
    "AsyncConnectionInterface": "ConnectionInterface",
    "AsyncLock": "Lock",
    "AsyncThreadLock": "ThreadLock",
    "AsyncShieldCancellation": "ShieldCancellation",
    "AutoBackend": "SyncBackend",
    "AsyncHTTPConnection": "HTTPConnection",
    "AsyncHTTP11Connection": "HTTP11Connection",
    "AsyncHTTP11ResponseStream": "HTTP11ResponseStream",
    "AsyncHTTP11UpgradeStream": "HTTP11UpgradeStream",
    "AsyncHTTP2Connection": "HTTP2Connection",
    "AsyncHTTP2ResponseStream": "HTTP2ResponseStream",
    "AsyncSemaphore": "Semaphore",
    "AsyncTaskGroup": "ThreadGroup",
    "AsyncEvent": "Event",
    "AsyncConnectionPool": "ConnectionPool",
    "AsyncPoolResponseStream": "PoolResponseStream",
    "AsyncHTTPProxy": "HTTPProxy",
    "AsyncSOCKSProxy": "SOCKSProxy",
    "AsyncForwardHTTPConnection": "ForwardHTTPConnection",
    "AsyncTunnelHTTPConnection": "TunnelHTTPConnection",
    "AsyncSocks5Connection": "Socks5Connection",
    "AsyncSocks4Connection": "Socks4Connection",
    # Module paths (`from .._async.mock import ...` becomes `from .._sync.mock import ...`).
    "_async": "_sync",
    "_auto": "_sync_backend",
    # Sync tests run once, without the anyio plugin.
    "@pytest.mark.anyio": None,
}
