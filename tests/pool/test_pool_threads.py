"""``ConnectionPool`` shared by threads: limits hold, waiters are served in order, a response
closed by the garbage collector inside pool code does not deadlock (httpcore#990), and a
connection is never closed under a request (httpcore#1110).

Every thread is joined with a bound, so a deadlock fails the test instead of hanging it.
"""

from __future__ import annotations

import gc
import threading
from typing import Any, Callable, Iterator, List, Optional

import pytest

from httpcore._backends._sync.mock import MockBackend
from httpcore._core._exceptions import ConnectionNotAvailable, PoolTimeout
from httpcore._core._models import Origin, Request, Response
from httpcore._core._synchronization import Event
from httpcore._pool._sync import connection_pool
from httpcore._pool._sync.connection_pool import ConnectionPool
from httpcore._protocols._sync.connection_interface import ConnectionInterface

HELLO = [b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", b"Hello, world!"]
JOIN_TIMEOUT_S = 30.0


def run_threads(target: Callable[..., None], args: List[Any]) -> List[BaseException]:
    """Run ``target(arg)`` in a thread per argument; return the errors they raised."""
    errors: List[BaseException] = []

    def run(arg: Any) -> None:
        try:
            target(arg)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(arg,), daemon=True) for arg in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
        assert not thread.is_alive(), "a thread is stuck (deadlock?)"
    return errors


class Connection(ConnectionInterface):
    """A scripted connection, one request at a time; records misuse instead of failing."""

    def __init__(self, origin: Origin, hook: Optional[Callable[[], None]] = None) -> None:
        self.origin = origin
        self.state = "IDLE"
        self.requests = 0
        self.refused = 0
        self.closed_in_use = 0
        self.hook = hook
        self._lock = threading.Lock()

    def handle_request(self, request: Request) -> Response:
        with self._lock:
            if self.state != "IDLE":
                self.refused += 1
                raise ConnectionNotAvailable()
            self.state = "ACTIVE"
            self.requests += 1
        return Response(200, content=Body(self))

    def close(self) -> None:
        with self._lock:
            if self.state == "ACTIVE":
                self.closed_in_use += 1
            self.state = "CLOSED"

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self.origin

    def is_available(self) -> bool:
        if self.hook is not None:
            self.hook()
        return self.state == "IDLE"

    def has_expired(self) -> bool:
        return False

    def is_idle(self) -> bool:
        return self.state == "IDLE"

    def is_closed(self) -> bool:
        return self.state == "CLOSED"

    def info(self) -> str:
        return f"{str(self.origin)!r}, {self.state}"


class Body:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._chunks = [b"ok"]

    def __iter__(self) -> Iterator[bytes]:
        return iter(list(self._chunks))

    def close(self) -> None:
        connection = self._connection
        with connection._lock:
            if connection.state == "ACTIVE":
                connection.state = "IDLE"


class Pool(ConnectionPool):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.created: List[Connection] = []
        self.hook: Optional[Callable[[], None]] = None
        self._created_lock = threading.Lock()

    def create_connection(self, origin: Origin) -> ConnectionInterface:
        connection = Connection(origin, self.hook)
        with self._created_lock:
            self.created.append(connection)
        return connection


def test_many_threads_through_a_small_pool() -> None:
    backend = MockBackend(HELLO * 40)
    seen: List[int] = []
    with ConnectionPool(max_connections=3, network_backend=backend) as pool:

        def work(n: int) -> None:
            for _ in range(10):
                with pool.stream("GET", f"http://{'abc'[n % 3]}.com/") as response:
                    seen.append(len(pool.connections))
                    assert response.read() == b"Hello, world!"

        assert run_threads(work, list(range(12))) == []
        assert repr(pool).startswith("<ConnectionPool [Requests: 0 active, 0 queued |")
    assert len(seen) == 120
    assert max(seen) <= 3


def test_connections_are_never_closed_under_a_request() -> None:
    # A tiny keep-alive cap makes the pool close idle connections all the time, while
    # released connections are being handed to waiting threads (httpcore#1110).
    with Pool(max_connections=4, max_keepalive_connections=1) as pool:

        def work(n: int) -> None:
            for i in range(25):
                response = pool.request("GET", f"http://{'abc'[(n + i) % 3]}.com/")
                assert response.content == b"ok"

        assert run_threads(work, list(range(16))) == []
        assert sum(c.closed_in_use for c in pool.created) == 0
        assert sum(c.refused for c in pool.created) == 0
        assert len(pool.connections) <= 1
        assert repr(pool).startswith("<Pool [Requests: 0 active, 0 queued |")


class Watched(Pool):
    """A pool that counts the requests that reached their wait for a connection."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.waiting = 0
        self.queued = threading.Condition()

    def _wait_for_connection(self, queued_request: Any, timeout: Any) -> Any:
        with self.queued:
            self.waiting += 1
            self.queued.notify_all()
        return super()._wait_for_connection(queued_request, timeout)

    def wait_for_waiting(self, count: int) -> None:
        with self.queued:
            assert self.queued.wait_for(lambda: self.waiting == count, JOIN_TIMEOUT_S)


def test_waiting_threads_are_served_in_arrival_order() -> None:
    order: List[int] = []

    with Watched(max_connections=1) as pool:
        first = pool.handle_request(Request("GET", "http://a.com/"))
        threads = []
        for n in range(6):

            def work(n: int = n) -> None:
                with pool.stream("GET", f"http://{'ab'[n % 2]}.com/"):
                    order.append(n)

            thread = threading.Thread(target=work, daemon=True)
            thread.start()
            pool.wait_for_waiting(n + 2)
            threads.append(thread)
        first.close()
        for thread in threads:
            thread.join(JOIN_TIMEOUT_S)
            assert not thread.is_alive()
    assert order == list(range(6))


def test_pool_timeout_in_a_waiting_thread_leaves_the_pool_consistent() -> None:
    with Pool(max_connections=1) as pool:
        with pool.stream("GET", "http://a.com/"):

            def work(_: int) -> None:
                with pytest.raises(PoolTimeout):
                    pool.request("GET", "http://b.com/", extensions={"timeout": {"pool": 0.01}})

            assert run_threads(work, [0, 1, 2]) == []
            assert repr(pool) == (
                "<Pool [Requests: 1 active, 0 queued | Connections: 1 active, 0 idle]>"
            )
        assert pool.request("GET", "http://b.com/").content == b"ok"


def test_response_closed_by_the_garbage_collector_inside_the_pool_does_not_deadlock() -> None:
    # httpcore#990: a generator that closes a response when finalised sits in a reference
    # cycle; the collector runs (here: forced) while the pool holds its lock, and the
    # finaliser's close() re-enters the pool on the same thread.
    def scenario() -> None:
        with Pool(max_connections=2) as pool:
            response = pool.handle_request(Request("GET", "http://a.com/"))

            def closes_when_finalised(response: Response) -> Iterator[None]:
                try:
                    yield
                finally:
                    response.close()

            generator = closes_when_finalised(response)
            next(generator)
            cycle: List[Any] = [generator]
            cycle.append(cycle)
            del generator, cycle, response

            collected: List[bool] = []

            def collect_once() -> None:
                if not collected:
                    collected.append(True)
                    gc.collect()

            pool.created[0].hook = collect_once
            # Asks a.com's busy connection whether it is available: the collector runs
            # there, inside the pool's state change.
            second = pool.request("GET", "http://a.com/")
            assert collected == [True]
            assert second.content == b"ok"
            # The first response's release ran too (deferred to the end of the state
            # change it interrupted): nothing is left active.
            assert repr(pool) == (
                "<Pool [Requests: 0 active, 0 queued | Connections: 0 active, 2 idle]>"
            )

    errors: List[BaseException] = []

    def run() -> None:
        try:
            scenario()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(JOIN_TIMEOUT_S)
    assert not thread.is_alive(), "deadlock: the pool waited for its own lock"
    assert errors == []


def test_a_waiting_thread_is_woken_after_the_pool_lock_is_released(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A waiter's signal has a lock of its own, which the waiting thread holds inside
    # Event.wait. When the collector runs there and a finaliser releases a response into the
    # pool, that thread waits for the pool's lock; a thread setting the signal under the
    # pool's lock then waits for the signal's: both hung (seen in a thread soak on 3.10).
    # So signals are set only after the pool's lock is released.
    held_when_set: List[bool] = []
    pools: List[ConnectionPool] = []

    class RecordingEvent(Event):
        def set(self) -> None:
            held_when_set.append(pools[0]._state_lock.locked())
            super().set()

    monkeypatch.setattr(connection_pool, "Event", RecordingEvent)
    with Watched(max_connections=1) as pool:
        pools.append(pool)
        first = pool.handle_request(Request("GET", "http://a.com/"))
        contents: List[bytes] = []
        thread = threading.Thread(
            target=lambda: contents.append(pool.request("GET", "http://a.com/").content),
            daemon=True,
        )
        thread.start()
        pool.wait_for_waiting(2)  # the first request's (served at once), then the thread's
        assert "1 queued" in repr(pool)
        first.close()
        thread.join(JOIN_TIMEOUT_S)
        assert not thread.is_alive()
    assert contents == [b"ok"]
    assert held_when_set == [False]
