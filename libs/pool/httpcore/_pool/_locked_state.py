# cython: annotation_typing=False
"""``LockedState``: the pool's bookkeeping (``PoolState``) run under the pool's lock.

HOT MODULE: compiled by Cython 3 in pure-Python mode (listed in ``build_config.bzl``), with
``_locked_state.pxd`` making ``LockedState`` an extension type; the same file runs
interpreted. Shared by the async and the sync pool: nothing here awaits or does I/O. Every
request runs two operations through it (its arrival and its release), so it is written for
the compiler: one C-level dispatch per operation instead of a closure and Python calls.

Each operation takes the lock (a thread lock in the sync pool, a no-op in the async one),
changes the state, collects the signals of the requests it served, leaves the lock and only
then sets those signals (see ``PoolState.take_signals``: a waiting thread may hold a
signal's own lock). It returns the connections the caller must close, outside the lock.

Re-entry: a thread inside an operation can be re-entered by a finaliser that the garbage
collector runs there (a dropped response closed, httpcore#990). Waiting for the lock would
then deadlock that thread on itself, so a release arriving that way is queued
(``release_soon``) and done by the outer operation before it returns; any other re-entry is
a RuntimeError, since nothing may change the state half-way through an operation.
"""

from __future__ import annotations

from collections import deque
from threading import get_ident
from typing import TYPE_CHECKING, Callable, Deque, List, Optional, Set

from httpcore._pool._selection import PoolState, QueuedRequest

if TYPE_CHECKING:
    from typing import Protocol

    from httpcore._pool._selection import PooledConnection

    class StateLock(Protocol):
        """``threading.Lock`` in the sync pool, ``AsyncThreadLock`` (a no-op) in async."""

        def acquire(self) -> bool: ...
        def release(self) -> None: ...


Inspection = Callable[[], None]

# The operations, dispatched by number (a closure per call would cost an allocation and a
# Python call on every request).
_NOTHING = 0
_ADD = 1
_RETRY = 2
_RETRY_ON_NEW_CONNECTION = 3
_RELEASE = 4
_RESPONSE_STARTED = 5
_CLOSE_ALL = 6

REENTERED = "The connection pool was re-entered during a state change."


class LockedState:
    """``state`` behind ``lock``; each method returns the connections to close."""

    __slots__ = ("state", "_acquire", "_release", "_inside", "_deferred")

    def __init__(self, state: PoolState, lock: StateLock) -> None:
        self.state = state
        self._acquire = lock.acquire
        self._release = lock.release
        # Threads inside an operation, and releases queued by re-entrant calls.
        self._inside: Set[int] = set()
        self._deferred: Deque[QueuedRequest] = deque()

    def add(self, request: QueuedRequest) -> List[PooledConnection]:
        return self._run(_ADD, request, None)

    def retry(self, request: QueuedRequest) -> List[PooledConnection]:
        return self._run(_RETRY, request, None)

    def retry_on_new_connection(self, request: QueuedRequest) -> List[PooledConnection]:
        return self._run(_RETRY_ON_NEW_CONNECTION, request, None)

    def release(self, request: QueuedRequest) -> List[PooledConnection]:
        return self._run(_RELEASE, request, None)

    def response_started(self, request: QueuedRequest) -> List[PooledConnection]:
        return self._run(_RESPONSE_STARTED, request, None)

    def close_all(self) -> List[PooledConnection]:
        return self._run(_CLOSE_ALL, None, None)

    def inspect(self, inspection: Inspection) -> None:
        """Call ``inspection`` (which reads ``state``) under the lock, or directly when this
        thread is already inside an operation (a finaliser calling repr())."""
        if get_ident() in self._inside:
            inspection()
        else:
            self._run(_NOTHING, None, inspection)

    def release_soon(self, request: QueuedRequest) -> bool:
        """True when this thread is inside an operation: the release of ``request`` is then
        queued for that operation, and the caller must not call ``release``."""
        if get_ident() in self._inside:
            self._deferred.append(request)
            return True
        return False

    def _run(
        self, operation: int, request: Optional[QueuedRequest], inspection: Optional[Inspection]
    ) -> List[PooledConnection]:
        me = get_ident()
        inside = self._inside
        if me in inside:
            # Only a finaliser run by the garbage collector can get here; a release does
            # not (see ``release_soon``).
            raise RuntimeError(REENTERED)
        inside.add(me)
        state = self.state
        signals = None
        closing: List[PooledConnection]
        try:
            self._acquire()
            try:
                try:
                    if request is not None:
                        closing = self._apply(state, operation, request)
                    elif operation == _CLOSE_ALL:
                        closing = state.close_all()
                    else:
                        closing = []
                    if inspection is not None:
                        inspection()
                    deferred = self._deferred
                    while deferred:
                        closing.extend(state.release(deferred.popleft()))
                finally:
                    signals = state.take_signals()
            finally:
                self._release()
        finally:
            inside.discard(me)
            # Woken outside the lock: see ``PoolState.take_signals``.
            if signals:
                for signal in signals:
                    signal.set()
        if self._deferred:
            # Queued after the last check above, before this thread left.
            closing.extend(self._run(_NOTHING, None, None))
        return closing

    def _apply(
        self, state: PoolState, operation: int, request: QueuedRequest
    ) -> List[PooledConnection]:
        if operation == _ADD:
            return state.add(request)
        if operation == _RELEASE:
            return state.release(request)
        if operation == _RESPONSE_STARTED:
            return state.response_started(request)
        if operation == _RETRY:
            return state.retry(request)
        assert operation == _RETRY_ON_NEW_CONNECTION
        return state.retry_on_new_connection(request)


__all__ = ["LockedState"]
