# cython: annotation_typing=False
"""One overall time limit for a request: the ``"total"`` key of the ``timeout`` extension.

1.0.9's four timeouts each bound one wait (for a pooled connection, the connect, one write,
one read), so a server that sends one byte every few seconds holds a request forever
(USERS.md: httpx#1450, httpcore#936). Here ``extensions={"timeout": {"total": 10.0}}``
(alongside the other keys, which keep their meaning) ends the whole request — pool wait,
connect, TLS, proxy handshakes, writing the request and reading the response to its end —
10 seconds after it started. httpx passes a ``timeout`` extension given to a request through
as it is, so the key works from httpx too.

How it reaches every wait. The layer a request enters first (the pool, or a connection used
on its own) fixes the deadline, ``monotonic() + total``, in a context variable for as long as
it handles the request; the layers it calls see it there, so one deadline covers them all
and the request object is never changed. A response's body is read after that call has
returned, so the response streams capture the deadline and bound their reads by it (``bound_by``),
or put it back in force around each read (``reapply``). Every wait then passes ``bound(timeout, error)`` instead of its own
timeout: the smaller of the two, so the wait ends by the deadline and raises the timeout
exception of the step that was running (PoolTimeout, ConnectTimeout, WriteTimeout,
ReadTimeout); a deadline already passed raises ``error`` at once.

A request made inside another one's call (from a trace callback, say) keeps the earlier of
the two deadlines. With no ``"total"`` key nothing is set, and ``bound`` returns the
timeout it was given after one context variable lookup.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from time import monotonic
from typing import Any, Mapping, Optional, Type

TOTAL = "total"

_deadline: ContextVar[Optional[float]] = ContextVar("httpcore_request_deadline", default=None)


# The message of a timeout raised because the deadline had already passed.
EXPIRED = "The request's total timeout ran out."


def enter(timeouts: Mapping[str, Any]) -> Optional[Token[Optional[float]]]:
    """Fix the deadline of a request whose ``timeout`` extension is ``timeouts``.

    Returns the token to pass to ``leave`` when this call set the context variable, else
    None (no ``"total"`` key, or an earlier deadline is already in force).
    """
    total = timeouts.get(TOTAL)
    if total is None:
        return None
    if isinstance(total, bool) or not isinstance(total, (int, float)):
        raise TypeError(f"The 'total' timeout must be a number or None, not {type(total).__name__}.")
    deadline = monotonic() + total
    current = _deadline.get()
    if current is not None and current <= deadline:
        return None
    return _deadline.set(deadline)


def leave(token: Optional[Token[Optional[float]]]) -> None:
    if token is not None:
        _deadline.reset(token)


# The deadline in force (None: none), for a layer or a response stream to capture. The
# context variable's own method: a call of it costs next to nothing on the hot paths.
current = _deadline.get


def bound(timeout: Optional[float], error: Type[Exception]) -> Optional[float]:
    """``timeout``, shortened to what is left before the deadline in force (if any)."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    return bound_by(timeout, deadline, error)


def bound_by(timeout: Optional[float], deadline: float, error: Type[Exception]) -> Optional[float]:
    """``timeout``, shortened to what is left before ``deadline`` (a captured one)."""
    remaining = deadline - monotonic()
    if remaining <= 0:
        raise error(EXPIRED)
    if timeout is None or remaining < timeout:
        return remaining
    return timeout


def leaves_time_for(delay: float) -> bool:
    """Whether the deadline in force (if any) is still ahead after sleeping ``delay``."""
    deadline = _deadline.get()
    return deadline is None or monotonic() + delay < deadline


def reapply(deadline: Optional[float]) -> Optional[Token[Optional[float]]]:
    """Put a deadline a response stream captured back in force, around one body read;
    pass the token to ``leave`` after the read."""
    if deadline is None:
        return None
    return _deadline.set(deadline)


class scope:
    """``with scope(request.extensions):`` enters the deadline for the block and leaves it
    after; for the paths that open connections (the hot paths use ``enter``/``leave``)."""

    __slots__ = ("_timeouts", "_token")

    def __init__(self, extensions: Mapping[str, Any]) -> None:
        self._timeouts: Mapping[str, Any] = extensions.get("timeout", {})
        self._token: Optional[Token[Optional[float]]] = None

    def __enter__(self) -> None:
        self._token = enter(self._timeouts)

    def __exit__(self, *exc_info: object) -> None:
        leave(self._token)
