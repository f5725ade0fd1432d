"""``PoolState`` (``httpcore._pool._selection``): the pool's bookkeeping without I/O.

Drives the state directly with fake connections whose predicates count their calls, so
the tests also show what the bookkeeping does *not* do: scan or poll every connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Tuple, cast

import pytest

from httpcore._core._models import Origin
from httpcore._pool._selection import PoolState, QueuedRequest

if TYPE_CHECKING:
    from httpcore._pool._selection import PooledConnection


class Fake:
    """A connection: ``idle``/``closed``/``expired``/``multiplexing`` set by the test."""

    def __init__(self, origin: Origin, multiplexing: bool = False) -> None:
        self.origin = origin
        self.idle = False
        self.closed = False
        self.expired = False
        self.multiplexing = multiplexing
        self.calls = 0

    def is_available(self) -> bool:
        self.calls += 1
        return not self.closed and (self.idle or self.multiplexing)

    def has_expired(self) -> bool:
        self.calls += 1
        return self.expired

    def is_idle(self) -> bool:
        self.calls += 1
        return self.idle

    def is_closed(self) -> bool:
        self.calls += 1
        return self.closed


def fakes(connections: List[PooledConnection]) -> List[Fake]:
    # The state hands back the connections the harness made.
    return cast(List[Fake], connections)


def fake_of(request: QueuedRequest) -> Optional[Fake]:
    return cast(Optional[Fake], request.connection)


class Signal:
    def __init__(self) -> None:
        self.count = 0

    def set(self) -> None:
        self.count += 1


class Harness:
    def __init__(
        self,
        max_connections: int = 10,
        max_idle: int = 10,
        keepalive_expiry: Optional[float] = None,
        multiplexing: bool = False,
        fail: bool = False,
    ) -> None:
        self.created: List[Fake] = []
        self.multiplexing = multiplexing
        self.fail = fail
        self.state: PoolState = PoolState(
            self.create, Signal, max_connections, max_idle, keepalive_expiry
        )
        self.closed: List[Fake] = []

    def create(self, origin: Origin) -> Fake:
        if self.fail:
            raise ValueError("cannot connect")
        connection = Fake(origin, self.multiplexing)
        self.created.append(connection)
        return connection

    def add(self, host: bytes) -> QueuedRequest:
        request: QueuedRequest = QueuedRequest(Origin(b"http", host, 80))
        self.closed.extend(fakes(self.state.add(request)))
        self.wake()
        return request

    def wake(self) -> None:
        # What the pools do after leaving their lock.
        for signal in self.state.take_signals():
            signal.set()

    def finish(self, request: QueuedRequest, idle: bool = True) -> None:
        # The response is closed: the connection goes idle (or not), then the pool learns.
        connection = fake_of(request)
        if connection is not None and idle and not connection.multiplexing:
            connection.idle = True
        self.closed.extend(fakes(self.state.release(request)))
        self.wake()

    def start(self, request: QueuedRequest) -> Fake:
        # The request's task runs on its connection.
        connection = fake_of(request)
        assert connection is not None
        connection.idle = False
        return connection


def times_set(request: QueuedRequest) -> int:
    signal = request.signal
    assert isinstance(signal, Signal)
    return signal.count


def hosts(requests: List[QueuedRequest]) -> List[Optional[bytes]]:
    connections = [fake_of(r) for r in requests]
    return [None if c is None else c.origin.host for c in connections]


def test_a_new_connection_per_request_until_the_limit() -> None:
    h = Harness(max_connections=2)
    requests = [h.add(b"a"), h.add(b"a"), h.add(b"a")]
    assert hosts(requests) == [b"a", b"a", None]
    assert len(h.created) == 2
    assert h.state.request_counts() == (2, 1)


def test_a_released_connection_goes_to_the_oldest_waiter_only() -> None:
    h = Harness(max_connections=1)
    first = h.add(b"a")
    h.start(first)
    waiters = [h.add(b"a") for _ in range(3)]
    assert [w.signal is not None for w in waiters] == [True, True, True]
    h.finish(first)
    assert hosts(waiters) == [b"a", None, None]
    assert [times_set(w) for w in waiters] == [1, 0, 0]


def test_waiters_of_other_origins_are_served_in_arrival_order() -> None:
    h = Harness(max_connections=1)
    first = h.add(b"a")
    h.start(first)
    b_waiter = h.add(b"b")
    a_waiter = h.add(b"a")
    h.finish(first)
    # The oldest waiter wants b.com: a.com's idle connection is replaced for it.
    assert hosts([b_waiter, a_waiter]) == [b"b", None]
    assert h.closed == [h.created[0]]


def test_full_pool_replaces_the_first_created_idle_connection() -> None:
    h = Harness(max_connections=2)
    a, b = h.add(b"a"), h.add(b"b")
    h.start(a)
    h.start(b)
    h.finish(b)
    h.finish(a)
    c = h.add(b"c")
    assert c.connection is h.created[2]
    assert h.closed == [h.created[0]]


def test_an_assigned_connection_is_not_idle_for_eviction() -> None:
    h = Harness(max_connections=2, max_idle=1)
    a, b = h.add(b"a"), h.add(b"b")
    h.start(a)
    h.start(b)
    waiter = h.add(b"a")
    h.finish(a)  # a.com's connection goes to the waiter, which has not started yet
    assert waiter.connection is h.created[0]
    h.finish(b)  # over the cap of 1: the idle one closed is b.com's
    assert h.closed == [h.created[1]]


def test_a_multiplexing_connection_takes_more_once_seen_busy() -> None:
    h = Harness(max_connections=1, multiplexing=True)
    requests = [h.add(b"a") for _ in range(4)]
    assert len(h.created) == 1
    assert hosts(requests) == [b"a"] * 4


def test_an_unused_connection_that_is_not_idle_is_closed() -> None:
    h = Harness(max_connections=1)
    request = h.add(b"a")
    h.start(request)
    h.finish(request, idle=False)  # abandoned mid-connect or mid-exchange
    assert h.closed == [h.created[0]]
    assert h.state.connections() == []


def test_a_closed_connection_is_dropped_without_closing_it() -> None:
    h = Harness()
    request = h.add(b"a")
    h.start(request).closed = True
    h.finish(request, idle=False)
    assert h.closed == []
    assert h.state.connections() == []


def test_only_the_candidate_is_asked_whether_it_expired() -> None:
    h = Harness(max_connections=1000, max_idle=1000)
    for n in range(500):
        request = h.add(b"host%d" % n)
        h.start(request)
        h.finish(request)
    for connection in h.created:
        connection.calls = 0
    request = h.add(b"host7")
    assert request.connection is h.created[7]
    assert [n for n, c in enumerate(h.created) if c.calls] == [7]


def test_an_expired_candidate_is_closed_and_replaced() -> None:
    h = Harness()
    request = h.add(b"a")
    h.start(request)
    h.finish(request)
    h.created[0].expired = True
    again = h.add(b"a")
    assert again.connection is h.created[1]
    assert h.closed == [h.created[0]]


def test_keepalive_expiry_closes_idle_connections_that_agree() -> None:
    h = Harness(keepalive_expiry=0.0)
    first, second = h.add(b"a"), h.add(b"b")
    h.start(first)
    h.start(second)
    h.created[0].expired = True
    h.finish(first)
    h.finish(second)  # b.com's connection says it has not expired: kept
    assert h.closed == [h.created[0]]
    assert h.state.connections() == [h.created[1]]


def test_keepalive_cap_counts_every_connection() -> None:
    h = Harness(max_idle=1)
    a, b = h.add(b"a"), h.add(b"b")
    h.start(a)
    h.start(b)
    h.finish(b)  # one active (a.com) and one idle (b.com): over the cap of 1
    assert h.closed == [h.created[1]]


def test_create_connection_errors_go_to_their_request() -> None:
    h = Harness(fail=True)
    request = h.add(b"a")
    assert isinstance(request.error, ValueError)
    assert request.signal is None  # failed at once: it never had to wait
    h.state.release(request)
    assert h.state.request_counts() == (0, 0)


def test_retry_keeps_the_place_in_the_queue() -> None:
    # A connecting connection that may multiplex takes two requests, then turns out to
    # serve one at a time: the second is refused and waits again, ahead of later arrivals.
    h = Harness(max_connections=1, multiplexing=True)
    first, retried = h.add(b"a"), h.add(b"a")
    connection = h.start(first)
    connection.multiplexing = False
    h.closed.extend(fakes(h.state.retry(retried)))
    later = h.add(b"a")
    assert hosts([first, retried, later]) == [b"a", None, None]
    h.finish(first)
    assert hosts([retried, later]) == [b"a", None]
    assert retried.connection is connection
    assert h.closed == []


def test_close_all_closes_a_connection_in_use_when_released() -> None:
    h = Harness()
    request = h.add(b"a")
    h.start(request)
    assert h.state.close_all() == [h.created[0]]
    assert h.state.connections() == []
    h.finish(request)  # idle, but no longer in the pool: closed now
    assert h.closed == [h.created[0]]


@pytest.mark.parametrize("cycles", [5000])
def test_lazy_structures_stay_small(cycles: int) -> None:
    h = Harness(max_connections=4, keepalive_expiry=3600.0)
    for n in range(cycles):
        request = h.add(b"a" if n % 3 else b"b")
        h.start(request)
        h.finish(request)
    state = h.state
    sizes: Dict[str, int] = {
        "idle_by_creation": len(state._idle_by_creation),
        "idle_by_time": len(state._idle_by_time),
        "waiting": len(state._waiting),
    }
    for index in state._origins.values():
        sizes["candidates"] = max(sizes.get("candidates", 0), len(index.candidates))
        sizes["origin_waiting"] = max(sizes.get("origin_waiting", 0), len(index.waiting))
    assert max(sizes.values()) < 40, sizes
    assert len(h.created) == 2


def test_waiting_heaps_stay_small_with_cancelled_waiters() -> None:
    h = Harness(max_connections=1)
    first = h.add(b"a")
    h.start(first)
    keep: List[Tuple[int, QueuedRequest]] = []
    for n in range(3000):
        waiter = h.add(b"b")
        if n % 100 == 0:
            keep.append((n, waiter))
        else:
            h.state.release(waiter)  # cancelled or timed out while waiting
    assert len(h.state._waiting) < 100
    assert h.state.request_counts() == (1, len(keep))


def test_a_request_served_at_once_gets_no_signal() -> None:
    h = Harness()
    request = h.add(b"a")
    assert request.connection is h.created[0]
    assert request.signal is None


def test_signals_are_handed_to_the_caller_never_set_by_the_state() -> None:
    # The pool sets them after leaving its lock (see take_signals): the state must not.
    h = Harness(max_connections=1)
    first = h.add(b"a")
    waiter = h.add(b"a")
    first_connection = h.start(first)
    first_connection.idle = True
    h.closed.extend(fakes(h.state.release(first)))
    assert waiter.connection is first_connection
    assert times_set(waiter) == 0
    signals = h.state.take_signals()
    assert signals == [waiter.signal]
    assert h.state.take_signals() == []
