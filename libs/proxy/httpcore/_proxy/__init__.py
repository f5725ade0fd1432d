"""httpcore._proxy: HTTP, HTTPS and SOCKS5 proxies (API.md §7).

Importing this package registers the proxy connections with the pool lib below it (see
``_async/pool_dispatch.py``): the pool never imports upward.
"""

from __future__ import annotations

from ._async import pool_dispatch as _async_pool_dispatch  # noqa: F401
from ._sync import pool_dispatch as _sync_pool_dispatch  # noqa: F401
