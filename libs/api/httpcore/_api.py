"""The top-level ``httpcore.request()`` and ``httpcore.stream()`` (API.md §4).

Each call uses a new ``ConnectionPool`` of its own (default settings, the sync backend)
and closes it before returning or when the ``stream()`` block exits: nothing is kept
between calls, so these suit one-off requests, not repeated ones.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Union

from ._core._models import URL, ByteOrStr, Extensions, HeaderTypes, Response
from ._pool._sync.connection_pool import ConnectionPool


def request(
    method: ByteOrStr,
    url: Union[URL, bytes, str],
    *,
    headers: HeaderTypes = None,
    content: Union[bytes, Iterator[bytes], None] = None,
    extensions: Extensions | None = None,
) -> Response:
    """Send one request on a throwaway pool and return the response, body read.

    Raises TypeError or ValueError for bad arguments, UnsupportedProtocol for a URL
    scheme other than http/https/ws/wss, and the network, timeout and protocol errors of
    the exchange.
    """
    with ConnectionPool() as pool:
        return pool.request(
            method=method,
            url=url,
            headers=headers,
            content=content,
            extensions=extensions,
        )


@contextlib.contextmanager
def stream(
    method: ByteOrStr,
    url: Union[URL, bytes, str],
    *,
    headers: HeaderTypes = None,
    content: Union[bytes, Iterator[bytes], None] = None,
    extensions: Extensions | None = None,
) -> Iterator[Response]:
    """Send one request on a throwaway pool; yield the unread response.

    On leaving the block the response is closed, then the pool. Raises as ``request()``.
    """
    with ConnectionPool() as pool:
        with pool.stream(
            method=method,
            url=url,
            headers=headers,
            content=content,
            extensions=extensions,
        ) as response:
            yield response


__all__ = ["request", "stream"]
