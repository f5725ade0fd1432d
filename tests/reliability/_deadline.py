"""A bound on one case of a sweep, so that a hang fails that case instead of the whole run.

In a task (asyncio or trio) it is ``anyio.fail_after``: the case is cancelled and
``TimeoutError`` raised once the deadline passes. In the sync twins, which run in threads,
it does nothing: a thread cannot be interrupted (the requests' own timeouts, ``GUARD``,
bound the waits they make). It never fires when nothing hangs: no case waits on the clock.
"""

from __future__ import annotations

import contextlib
from typing import Any, ContextManager

import anyio

from httpcore._core._synchronization import current_async_library

CASE_DEADLINE_S = 10.0


def case_deadline(seconds: float = CASE_DEADLINE_S) -> ContextManager[Any]:
    try:
        current_async_library()
    except RuntimeError:
        return contextlib.nullcontext()
    return anyio.fail_after(seconds)
