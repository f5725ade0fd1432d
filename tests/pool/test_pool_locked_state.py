"""``LockedState`` (``httpcore._pool._locked_state``): pool operations under the pool's lock.

Driven directly, with a lock that records its use and connections that are always idle, to
show what the pools rely on: the lock is held exactly around each operation, a re-entrant
release is queued and done by the outer operation, and any other re-entry is refused
without leaving the lock held.
"""

from __future__ import annotations

from typing import List

import pytest

from httpcore._core._models import Origin
from httpcore._pool._locked_state import REENTERED, LockedState
from httpcore._pool._selection import PoolState, QueuedRequest

ORIGIN = Origin(b"http", b"example.org", 80)


class IdleConnection:
    def is_available(self) -> bool:
        return True

    def has_expired(self) -> bool:
        return False

    def is_idle(self) -> bool:
        return True

    def is_closed(self) -> bool:
        return False


class RecordingLock:
    def __init__(self) -> None:
        self.held = False
        self.log: List[str] = []

    def acquire(self) -> bool:
        assert not self.held
        self.held = True
        self.log.append("acquire")
        return True

    def release(self) -> None:
        assert self.held
        self.held = False
        self.log.append("release")


class Signal:
    def __init__(self) -> None:
        self.set_with_lock_held: List[bool] = []

    def set(self) -> None:
        self.set_with_lock_held.append(LOCK.held)


LOCK = RecordingLock()


def new_state(max_connections: int = 10) -> LockedState:
    LOCK.held = False
    LOCK.log.clear()
    state = PoolState(lambda origin: IdleConnection(), Signal, max_connections, 10, None)
    return LockedState(state, LOCK)


def counts(locked: LockedState) -> List[int]:
    found: List[int] = []
    locked.inspect(lambda: found.extend(locked.state.request_counts()))
    return found


def test_each_operation_holds_the_lock_once_around_the_change() -> None:
    locked = new_state()
    request = QueuedRequest(ORIGIN)
    assert locked.add(request) == []
    assert request.connection is not None
    assert locked.release(request) == []
    assert LOCK.log == ["acquire", "release", "acquire", "release"]
    assert counts(locked) == [0, 0]


def test_a_waiter_is_woken_after_the_lock_is_released() -> None:
    locked = new_state(max_connections=1)
    first, second = QueuedRequest(ORIGIN), QueuedRequest(ORIGIN)
    locked.add(first)
    locked.add(second)
    signal = second.signal
    assert isinstance(signal, Signal)
    locked.release(first)
    assert second.connection is not None
    assert signal.set_with_lock_held == [False]


def test_a_release_from_inside_an_operation_is_done_by_that_operation() -> None:
    # What a finaliser run by the garbage collector inside pool code does.
    locked = new_state()
    request = QueuedRequest(ORIGIN)
    locked.add(request)
    queued: List[bool] = []
    locked.inspect(lambda: queued.append(locked.release_soon(request)))
    assert queued == [True]
    assert counts(locked) == [0, 0]
    assert not LOCK.held


def test_outside_any_operation_a_release_is_not_queued() -> None:
    locked = new_state()
    request = QueuedRequest(ORIGIN)
    locked.add(request)
    assert locked.release_soon(request) is False
    assert counts(locked) == [1, 0]


def test_any_other_reentry_is_refused_and_leaves_nothing_held() -> None:
    locked = new_state()
    request = QueuedRequest(ORIGIN)

    def reenter() -> None:
        locked.add(request)

    with pytest.raises(RuntimeError) as caught:
        locked.inspect(reenter)
    assert str(caught.value) == REENTERED
    assert not LOCK.held
    assert counts(locked) == [0, 0]
    # The thread is no longer counted as inside: a later operation runs normally.
    assert locked.add(request) == []
    assert counts(locked) == [1, 0]


def test_close_all_returns_every_connection_and_keeps_the_requests() -> None:
    locked = new_state()
    requests = [QueuedRequest(ORIGIN), QueuedRequest(ORIGIN)]
    for request in requests:
        locked.add(request)
    closing = locked.close_all()
    assert closing == [requests[0].connection, requests[1].connection]
    assert counts(locked) == [2, 0]
    assert LOCK.log[-2:] == ["acquire", "release"]
