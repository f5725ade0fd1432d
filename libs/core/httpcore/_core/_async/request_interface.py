# cython: annotation_typing=False
"""The ``request()`` and ``stream()`` helpers shared by pools and connections (API.md §3).

Both coerce the method, URL and headers, add the default headers (Host, and the body
framing header when there is content), build a ``Request`` and pass it to
``handle_async_request``, which subclasses implement. ``request()`` returns the response
with its body read and the response closed; ``stream()`` yields the unread response and
closes it when the block exits, however it exits.
"""

from __future__ import annotations

import contextlib
from typing import AsyncIterator, Union

from .._headers import build_request_headers, enforce_bytes
from .._models import URL, ByteOrStr, Extensions, HeaderTypes, Request, Response, enforce_url


class AsyncRequestInterface:
    """Base class providing ``request()`` and ``stream()`` on top of ``handle_async_request``."""

    def _build_request(
        self,
        method: ByteOrStr,
        url: Union[URL, bytes, str],
        headers: HeaderTypes,
        content: Union[bytes, AsyncIterator[bytes], None],
        extensions: Extensions | None,
    ) -> Request:
        method = enforce_bytes(method, "method")
        url = enforce_url(url, "url")
        request_headers = build_request_headers(headers, url, content)
        return Request._coerced(method, url, request_headers, content, extensions)

    async def request(
        self,
        method: ByteOrStr,
        url: Union[URL, bytes, str],
        *,
        headers: HeaderTypes = None,
        content: Union[bytes, AsyncIterator[bytes], None] = None,
        extensions: Extensions | None = None,
    ) -> Response:
        """Send a request and return the response with its body read and closed.

        Raises TypeError for arguments of the wrong type, ValueError for a URL string
        with an invalid port, and whatever ``handle_async_request`` or reading raises.
        """
        # ``_build_request``, inline (same checks, same order): this runs for every request.
        method = enforce_bytes(method, "method")
        url = enforce_url(url, "url")
        request = Request._coerced(
            method, url, build_request_headers(headers, url, content), content, extensions
        )
        response = await self.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: ByteOrStr,
        url: Union[URL, bytes, str],
        *,
        headers: HeaderTypes = None,
        content: Union[bytes, AsyncIterator[bytes], None] = None,
        extensions: Extensions | None = None,
    ) -> AsyncIterator[Response]:
        """Send a request and yield the unread response; it is closed when the block exits.

        Raises as ``request()`` does.
        """
        request = self._build_request(method, url, headers, content, extensions)
        response = await self.handle_async_request(request)
        try:
            yield response
        finally:
            await response.aclose()

    async def handle_async_request(self, request: Request) -> Response:
        """Send ``request`` and return its response; implemented by pools and connections."""
        raise NotImplementedError()
