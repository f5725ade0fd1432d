"""The interface every connection implements, and the pool relies on (API.md §6.1).

A connection serves requests for one origin. The pool never looks inside one: it asks these
predicates during housekeeping and assignment, and hands requests to ``handle_async_request``.
Every method raises ``NotImplementedError`` until a subclass provides it.
"""

from __future__ import annotations

from httpcore._core._async.request_interface import AsyncRequestInterface
from httpcore._core._models import Origin


class AsyncConnectionInterface(AsyncRequestInterface):
    """A connection to one origin, as the pool sees it."""

    async def aclose(self) -> None:
        """Close the connection, whatever its state."""
        raise NotImplementedError()

    def info(self) -> str:
        """A one-line status for reprs, such as ``'http://a.com:80', HTTP/1.1, IDLE, ...``."""
        raise NotImplementedError()

    def can_handle_request(self, origin: Origin) -> bool:
        """Whether this connection serves ``origin``."""
        raise NotImplementedError()

    def is_available(self) -> bool:
        """Whether it can take another request now."""
        raise NotImplementedError()

    def has_expired(self) -> bool:
        """Whether the pool should drop it: keep-alive elapsed, or the peer closed it."""
        raise NotImplementedError()

    def is_idle(self) -> bool:
        """Whether it is connected and serving no request."""
        raise NotImplementedError()

    def is_closed(self) -> bool:
        """Whether it is closed, so the pool drops it without closing it again."""
        raise NotImplementedError()
