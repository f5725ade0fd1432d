# cython: annotation_typing=False
"""Requests that failed on a stale keep-alive connection, and whether the pool may retry them.

A server may close an idle keep-alive connection at any moment, also just as the client
reuses it: the request then fails with "Server disconnected without sending a response."
(or a reset) although the server never saw it. 1.0.9 hands that error to the caller
(USERS.md: "stale keep-alive"). Here the connection marks such an error, and the pool
retries the request when that is safe:

- the connection had completed an exchange before (a new connection that fails says
  something about the server, not about staleness), and not one byte of a response came;
- the method is idempotent (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE), or
  the request has the extension ``"retry_on_stale_connection": True``; the extension set
  to False turns retries off for any method;
- the body can be sent again: none, or bytes held in memory (an iterator may be spent).

The error keeps its type and message; only an attribute marks it, so code that uses a
connection without a pool sees exactly what 1.0.9 would raise.
"""

from __future__ import annotations

from typing import Any

from ._bytestreams import ByteStream

# The request extension (beyond 1.0.9).
RETRY_ON_STALE_CONNECTION = "retry_on_stale_connection"
IDEMPOTENT_METHODS = frozenset((b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"))
# Retries per request: each discards the stale connection it failed on, and a connection
# opened for the retry cannot be stale, so more than a few means something else is wrong.
MAX_STALE_RETRIES = 3

_MARK = "_httpcore_stale_connection"


def mark_stale_connection_error(error: BaseException) -> None:
    """Note that ``error`` is a reused connection's failure before any response byte."""
    setattr(error, _MARK, True)


def is_stale_connection_error(error: BaseException) -> bool:
    return getattr(error, _MARK, False) is True


def may_retry_on_stale_connection(method: bytes, headers: Any, stream: Any, extensions: Any) -> bool:
    """Whether a request with these parts may be sent again after a stale connection."""
    wanted = extensions.get(RETRY_ON_STALE_CONNECTION)
    if wanted is not None:
        if not wanted:
            return False
    elif method not in IDEMPOTENT_METHODS:
        return False
    if type(stream) is ByteStream:
        return True
    # Another stream: only when the head says there is no body.
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"transfer-encoding":
            return False
        if lowered == b"content-length" and value.strip() != b"0":
            return False
    return True
