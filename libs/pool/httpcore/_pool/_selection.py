"""Which connection serves which request: the pool's bookkeeping, without I/O (API.md §5.4).

HOT MODULE: compiled by Cython 3 in pure-Python mode (listed in ``build_config.bzl``), with
``_selection.pxd`` making its classes extension types; the same file runs interpreted.
Shared by the async and the sync pool: nothing here awaits, blocks or closes anything. Each
operation returns the connections the caller must close (outside its lock). A request that has to wait is given a ``signal`` (made by
``new_signal``, only then: most requests are served at once) and woken by ``signal.set()``,
which the caller also does outside its lock, for the signals ``take_signals()`` returns: a
thread signal has a lock of its own, which a thread waiting on it may hold when the garbage
collector runs a finaliser that releases a response into this pool; setting it under the
pool's lock could then deadlock both threads.

State:

* ``_entries``: every connection in the pool, by creation number (creation order).
* per origin (``_OriginIndex``): a min-heap of *candidates* (connections of that origin that
  may take another request, by creation number) and a min-heap of the requests of that
  origin still waiting (by arrival number).
* ``_waiting``: a min-heap of all waiting requests, by arrival number (first come, first
  served; a request sent back by ``ConnectionNotAvailable`` keeps its place).
* the *pool-idle* connections (connected, serving no request and assigned to none):
  a min-heap by creation number (the "first idle" that rule 3 and the keep-alive cap
  evict) and, when ``keepalive_expiry`` is set, a queue in the order they became idle
  (oldest first, so expiry is found at the front).

Heaps and queues are cleaned lazily: an item is stale when its object's flags or token no
longer match, and is dropped when it reaches the front; a structure whose stale items
outnumber its live ones is rebuilt. So every operation costs O(log n) amortised in the
numbers of connections and waiting requests, plus O(1) per request served or connection
closed; nothing scans the whole pool.

Assignment (after every arrival, release, retry): the oldest waiting request is served by
(1) a candidate of its origin that accepts it, else (2) a new connection while there are
fewer than ``max_connections``, else (3) replacing the first pool-idle connection; when
none applies it keeps waiting, and so does everyone behind it, except that a request may
still be served by rule 1 when a connection of its origin has just become able to take
more (an origin touched by this operation). Then housekeeping: pool-idle connections
whose keep-alive time has passed are closed if ``has_expired()`` agrees, and while the pool
holds more connections (*all* of them, active included, as upstream counts) than the
keep-alive cap, the first pool-idle one is closed.

Invariants:

* A connection assigned to a request has ``pending > 0`` and is never pool-idle, so it is
  never closed for expiry, the keep-alive cap or replacement (httpcore#1110).
* A connection with ``pending == 0`` that is neither idle nor closed can never be used
  again (nobody is connecting or reading on it): it is closed at once (httpcore#1093).
* A released connection is offered to the oldest waiting request, one at a time: a
  connection accepts a second request while it has one pending only once it was seen to
  accept requests while busy (``multiplexing``: HTTP/2, or a connect that may end in
  HTTP/2), so an HTTP/1.1 connection goes to exactly one waiter.
* Readability (``has_expired()`` may poll an idle socket) is asked only of the pool-idle
  connection about to be handed out, and of those whose keep-alive time has passed.

Where this differs from upstream's scan-everything housekeeping (same outcomes otherwise):
a connection is found through the origin it was created for (``can_handle_request`` is not
asked); a released connection goes to a waiting request before the keep-alive cap is
applied, and the cap is applied right after assignment in the same operation (upstream
applies it before, so an idle connection over the cap goes one event earlier here); an
idle connection the server closed, or one expired by ``has_expired()`` alone, is found when
it is about to be used, replaced or evicted, not on every event; ``close_all()`` serves
waiting requests at once.
"""

from __future__ import annotations

import heapq
from collections import deque
from time import monotonic
from typing import TYPE_CHECKING, Callable, Deque, Dict, List, Optional, Tuple

from httpcore._core._models import Origin

if TYPE_CHECKING:
    from typing import Protocol

    class PooledConnection(Protocol):
        """What the bookkeeping asks of a connection (a subset of the connection interface)."""

        def is_available(self) -> bool: ...
        def has_expired(self) -> bool: ...
        def is_idle(self) -> bool: ...
        def is_closed(self) -> bool: ...

    class Signal(Protocol):
        """Wakes a waiting request: ``AsyncEvent`` or ``Event``."""

        def set(self) -> None: ...

OriginKey = Tuple[bytes, bytes, int]

# A heap or queue is rebuilt when it holds more than this many items per live one (plus
# the slack below), which keeps the lazy deletion amortised O(1).
_STALE_FACTOR = 2
_STALE_SLACK = 16


class PoolEntry:
    """One connection in the pool, and what the pool knows about it."""

    __slots__ = (
        "connection",
        "index",
        "seq",
        "pending",
        "multiplexing",
        "in_pool",
        "candidate",
        "idle",
        "idle_token",
        "idle_since",
    )

    def __init__(self, connection: PooledConnection, index: _OriginIndex, seq: int) -> None:
        self.connection = connection
        self.index = index
        self.seq = seq
        # Requests assigned to it and not yet released.
        self.pending = 0
        # Seen taking requests while busy; until then one pending request is its limit.
        self.multiplexing = False
        self.in_pool = True
        # In its origin's candidate heap (at most one live item there).
        self.candidate = False
        # Pool-idle; ``idle_token`` tells this idle period's heap/queue items from older ones.
        self.idle = False
        self.idle_token = 0
        self.idle_since = 0.0


class QueuedRequest:
    """One request's place in the pool, from arrival until its response is closed."""

    __slots__ = ("origin", "key", "signal", "entry", "error", "seq", "waiting", "token", "index", "live")

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.key: OriginKey = (origin.scheme, origin.host, origin.port)
        # Made when the request has to wait; set (once) when it gets a connection or an
        # error. None: it was served without waiting.
        self.signal: Optional[Signal] = None
        self.entry: Optional[PoolEntry] = None
        # Raised by ``create_connection`` for this request.
        self.error: Optional[Exception] = None
        self.seq = -1
        self.waiting = False
        # Tells this wait's heap items from those of an earlier wait (before a retry).
        self.token = 0
        self.index: Optional[_OriginIndex] = None
        self.live = False

    @property
    def connection(self) -> Optional[PooledConnection]:
        entry = self.entry
        return None if entry is None else entry.connection


class _OriginIndex:
    __slots__ = ("key", "candidates", "waiting", "connections", "waiting_count")

    def __init__(self, key: OriginKey) -> None:
        self.key = key
        self.candidates: List[Tuple[int, PoolEntry]] = []
        self.waiting: List[Tuple[int, int, QueuedRequest]] = []
        self.connections = 0
        self.waiting_count = 0


class PoolState:
    """The bookkeeping of one pool; every method runs under the pool's lock (sync pool).

    ``create_connection(origin)`` makes a new connection (an exception it raises is given
    to the request that asked for it); ``new_signal()`` makes the signal of a request that
    has to wait. ``max_connections`` bounds the pool;
    ``max_idle_connections`` is the keep-alive cap (compared with all connections);
    ``keepalive_expiry`` is the pool's idle time limit in seconds, or None.
    """

    def __init__(
        self,
        create_connection: Callable[[Origin], PooledConnection],
        new_signal: Callable[[], Signal],
        max_connections: int,
        max_idle_connections: int,
        keepalive_expiry: Optional[float],
    ) -> None:
        self._create_connection = create_connection
        self._new_signal = new_signal
        self._max_connections = max_connections
        self._max_idle_connections = max_idle_connections
        self._keepalive_expiry = keepalive_expiry
        self._entries: Dict[int, PoolEntry] = {}
        self._origins: Dict[OriginKey, _OriginIndex] = {}
        self._requests: Dict[int, QueuedRequest] = {}
        self._waiting: List[Tuple[int, int, QueuedRequest]] = []
        self._waiting_count = 0
        self._idle_by_creation: List[Tuple[int, int, PoolEntry]] = []
        self._idle_by_time: Deque[Tuple[int, PoolEntry]] = deque()
        self._idle_count = 0
        self._next_seq = 0
        self._closing: List[PooledConnection] = []
        # Signals of requests served or failed, for the caller to set (``take_signals``).
        self._signals: List[Signal] = []

    # Inspection.

    @property
    def waiting_count(self) -> int:
        return self._waiting_count

    def connections(self) -> List[PooledConnection]:
        return [entry.connection for entry in self._entries.values()]

    def request_counts(self) -> Tuple[int, int]:
        """(requests with a connection, requests without one)."""
        active = 0
        for request in self._requests.values():
            if request.entry is not None:
                active += 1
        return active, len(self._requests) - active

    def take_signals(self) -> List[Signal]:
        """The signals of the requests served or failed since the last call, each once: the
        caller sets them after leaving its lock (see the module header)."""
        signals = self._signals
        if signals:
            self._signals = []
        return signals

    # Operations.

    def add(self, request: QueuedRequest) -> List[PooledConnection]:
        """A new request: queue it and serve what can be served."""
        request.seq = self._take_seq()
        request.live = True
        self._requests[request.seq] = request
        if not self._waiting_count:
            # Nobody is ahead of it: a connection of its origin that accepts it now is
            # its without passing through the queue (the usual case of a busy client).
            index = self._origins.get(request.key)
            if index is not None:
                entry = self._pick(index)
                if entry is not None:
                    request.index = index
                    self._take(request, entry)
                    return self._finish()
        self._push_waiting(request)
        self._assign(request.key, None)
        if request.waiting:
            request.signal = self._new_signal()
        return self._finish()

    def retry(self, request: QueuedRequest) -> List[PooledConnection]:
        """Its connection refused the request (ConnectionNotAvailable): wait again, same place."""
        entry = request.entry
        request.entry = None
        request.signal = None
        touched = None if entry is None else self._unassign(entry)
        self._push_waiting(request)
        self._assign(request.key, touched)
        if request.waiting:
            request.signal = self._new_signal()
        return self._finish()

    def retry_on_new_connection(self, request: QueuedRequest) -> List[PooledConnection]:
        """Its reused connection turned out closed by the server (``_core._stale``): wait
        again, and close the origin's idle connections first. They have waited about as
        long on the same server (after a restart, or an idle timeout, all of them are
        gone), so the retry opens a new connection instead of trying them one by one; a
        connection in use is left alone, it was just seen alive."""
        key = request.key
        for entry in list(self._entries.values()):
            if entry.idle and entry.index.key == key:
                self._evict(entry)
        return self.retry(request)

    def release(self, request: QueuedRequest) -> List[PooledConnection]:
        """The request is over (response closed, or failed): free its place and connection.

        Idempotent: a request already released is ignored.
        """
        if not request.live:
            return []
        request.live = False
        del self._requests[request.seq]
        if request.waiting:
            self._stop_waiting(request)
        entry = request.entry
        touched = None
        if entry is not None:
            request.entry = None
            touched = self._unassign(entry)
        self._assign(touched, None)
        return self._finish()

    def response_started(self, request: QueuedRequest) -> List[PooledConnection]:
        """Its connection returned a response: if it still takes requests, serve waiters."""
        entry = request.entry
        if entry is None or not entry.in_pool or not self._waiting_count:
            return []
        if self._takes_another(entry):
            self._push_candidate(entry)
            self._assign(entry.index.key, None)
        return self._finish()

    def close_all(self) -> List[PooledConnection]:
        """Remove every connection (returned, to be closed); requests keep their records."""
        closing = self.connections()
        for entry in self._entries.values():
            entry.in_pool = False
            entry.candidate = False
            entry.idle = False
        self._entries.clear()
        self._idle_by_creation.clear()
        self._idle_by_time.clear()
        self._idle_count = 0
        for key, index in list(self._origins.items()):
            index.candidates.clear()
            index.connections = 0
            if not index.waiting_count:
                del self._origins[key]
        # Requests still waiting get new connections now rather than at the next event.
        self._assign(None, None)
        closing.extend(self._finish())
        return closing

    # Requests.

    def _take_seq(self) -> int:
        seq = self._next_seq
        self._next_seq = seq + 1
        return seq

    def _index_for(self, key: OriginKey) -> _OriginIndex:
        index = self._origins.get(key)
        if index is None:
            index = _OriginIndex(key)
            self._origins[key] = index
        return index

    def _drop_index_if_unused(self, index: _OriginIndex) -> None:
        if not index.connections and not index.waiting_count:
            if self._origins.get(index.key) is index:
                del self._origins[index.key]

    def _push_waiting(self, request: QueuedRequest) -> None:
        index = self._index_for(request.key)
        request.index = index
        request.waiting = True
        request.token += 1
        item = (request.seq, request.token, request)
        heapq.heappush(self._waiting, item)
        heapq.heappush(index.waiting, item)
        self._waiting_count += 1
        index.waiting_count += 1

    def _stop_waiting(self, request: QueuedRequest) -> None:
        # Its heap items become stale; they are dropped when they reach the front.
        request.waiting = False
        self._waiting_count -= 1
        index = request.index
        if index is not None:
            index.waiting_count -= 1
            if index.waiting_count:
                _compact_waiting(index.waiting, index.waiting_count)
            else:
                index.waiting.clear()
                self._drop_index_if_unused(index)

    def _give(self, request: QueuedRequest, entry: PoolEntry) -> None:
        self._stop_waiting(request)
        self._take(request, entry)
        signal = request.signal
        if signal is not None:
            self._signals.append(signal)

    def _take(self, request: QueuedRequest, entry: PoolEntry) -> None:
        request.entry = entry
        entry.pending += 1
        if entry.idle:
            entry.idle = False
            self._idle_count -= 1

    def _fail(self, request: QueuedRequest, error: Exception) -> None:
        self._stop_waiting(request)
        request.error = error
        signal = request.signal
        if signal is not None:
            self._signals.append(signal)

    # Assignment.

    def _assign(self, touched: Optional[OriginKey], also: Optional[OriginKey]) -> None:
        # First come, first served, until the oldest waiting request cannot be served.
        waiting = self._waiting
        while self._waiting_count:
            seq, token, request = waiting[0]
            if request.waiting and request.token == token:
                if not self._serve(request):
                    break
            heapq.heappop(waiting)
        if not self._waiting_count:
            waiting.clear()
            return
        _compact_waiting(waiting, self._waiting_count)
        # Connections that just became able to take more serve their origin's waiters.
        if touched is not None:
            self._serve_origin(touched)
        if also is not None and also != touched:
            self._serve_origin(also)

    def _serve(self, request: QueuedRequest) -> bool:
        index = request.index
        assert index is not None
        entry = self._pick(index)
        if entry is None:
            if len(self._entries) < self._max_connections:
                entry = self._new_entry(request, index)
            elif self._idle_count:
                self._evict(self._first_idle())
                entry = self._new_entry(request, index)
            else:
                return False
            if entry is None:
                return True  # create_connection failed; the request got the error.
        self._give(request, entry)
        return True

    def _serve_origin(self, key: OriginKey) -> None:
        index = self._origins.get(key)
        if index is None:
            return
        waiting = index.waiting
        while index.waiting_count:
            seq, token, request = waiting[0]
            if request.waiting and request.token == token:
                entry = self._pick(index)
                if entry is None:
                    break
                self._give(request, entry)
            heapq.heappop(waiting)
        if not index.waiting_count:
            waiting.clear()
            self._drop_index_if_unused(index)
        else:
            _compact_waiting(waiting, index.waiting_count)

    def _new_entry(self, request: QueuedRequest, index: _OriginIndex) -> Optional[PoolEntry]:
        try:
            connection = self._create_connection(request.origin)
        except Exception as exc:
            self._fail(request, exc)
            return None
        seq = self._take_seq()
        entry = PoolEntry(connection, index, seq)
        self._entries[seq] = entry
        index.connections += 1
        # It may take more requests while connecting (HTTP/2 possible): looked at when asked.
        self._push_candidate(entry)
        return entry

    def _pick(self, index: _OriginIndex) -> Optional[PoolEntry]:
        # The first connection (in creation order) of this origin that accepts a request.
        candidates = index.candidates
        while candidates:
            entry = candidates[0][1]
            if entry.in_pool:
                if entry.pending:
                    if self._takes_another(entry):
                        return entry
                else:
                    # Pool-idle: check it now, once, rather than polling every idle socket
                    # on every event.
                    connection = entry.connection
                    if connection.is_closed():
                        heapq.heappop(candidates)
                        self._remove(entry)
                        continue
                    if connection.has_expired():
                        heapq.heappop(candidates)
                        self._evict(entry)
                        continue
                    if connection.is_available():
                        return entry
                entry.candidate = False
            heapq.heappop(candidates)
        return None

    def _takes_another(self, entry: PoolEntry) -> bool:
        # Whether a connection with requests pending accepts one more. Learns from what it
        # says while busy: available while not idle means it multiplexes.
        connection = entry.connection
        if not connection.is_available():
            if not connection.is_idle():
                entry.multiplexing = False
            return False
        if not connection.is_idle():
            entry.multiplexing = True
        return entry.multiplexing

    def _push_candidate(self, entry: PoolEntry) -> None:
        if entry.candidate:
            return
        entry.candidate = True
        candidates = entry.index.candidates
        heapq.heappush(candidates, (entry.seq, entry))
        if len(candidates) > _STALE_FACTOR * entry.index.connections + _STALE_SLACK:
            candidates[:] = [item for item in candidates if item[1].in_pool]
            heapq.heapify(candidates)

    # Releasing and removing connections.

    def _unassign(self, entry: PoolEntry) -> Optional[OriginKey]:
        # One request less on ``entry``; returns its origin if it may now take one more.
        entry.pending -= 1
        connection = entry.connection
        if not entry.in_pool:
            # Removed by close_all() while in use: close it once nobody uses it.
            if not entry.pending and not connection.is_closed():
                self._closing.append(connection)
            return None
        if connection.is_closed():
            self._remove(entry)
            return None
        if not entry.pending:
            if connection.is_idle():
                self._make_idle(entry)
                return entry.index.key
            # Nobody is using it and it is not reusable (a connect or an exchange that was
            # abandoned half-way): it would hold a slot for ever.
            self._evict(entry)
            return None
        if self._takes_another(entry):
            self._push_candidate(entry)
            return entry.index.key
        return None

    def _make_idle(self, entry: PoolEntry) -> None:
        entry.idle = True
        entry.idle_token += 1
        self._idle_count += 1
        item = (entry.seq, entry.idle_token, entry)
        heapq.heappush(self._idle_by_creation, item)
        if len(self._idle_by_creation) > _STALE_FACTOR * self._idle_count + _STALE_SLACK:
            self._idle_by_creation[:] = [
                i for i in self._idle_by_creation if i[2].idle and i[2].idle_token == i[1]
            ]
            heapq.heapify(self._idle_by_creation)
        if self._keepalive_expiry is not None:
            entry.idle_since = monotonic()
            by_time = self._idle_by_time
            by_time.append((entry.idle_token, entry))
            if len(by_time) > _STALE_FACTOR * self._idle_count + _STALE_SLACK:
                live = [i for i in by_time if i[1].idle and i[1].idle_token == i[0]]
                by_time.clear()
                by_time.extend(live)
        self._push_candidate(entry)

    def _first_idle(self) -> PoolEntry:
        # The pool-idle connection created first (callers check that one exists).
        heap = self._idle_by_creation
        while True:
            seq, token, entry = heapq.heappop(heap)
            if entry.idle and entry.idle_token == token:
                return entry

    def _remove(self, entry: PoolEntry) -> None:
        del self._entries[entry.seq]
        entry.in_pool = False
        entry.candidate = False
        if entry.idle:
            entry.idle = False
            self._idle_count -= 1
        index = entry.index
        index.connections -= 1
        self._drop_index_if_unused(index)

    def _evict(self, entry: PoolEntry) -> None:
        self._remove(entry)
        self._closing.append(entry.connection)

    # Housekeeping.

    def _finish(self) -> List[PooledConnection]:
        if self._idle_count:
            self._expire_idle()
            while len(self._entries) > self._max_idle_connections and self._idle_count:
                self._evict(self._first_idle())
        closing = self._closing
        if closing:
            self._closing = []
        return closing

    def _expire_idle(self) -> None:
        # Pool-idle connections past the keep-alive time are at the front of the queue;
        # ``has_expired()`` has the last word (and a connection that disagrees goes to the back).
        expiry = self._keepalive_expiry
        by_time = self._idle_by_time
        if expiry is None or not by_time:
            return
        now = monotonic()
        kept: List[Tuple[int, PoolEntry]] = []
        while by_time:
            token, entry = by_time[0]
            if entry.idle and entry.idle_token == token:
                if now - entry.idle_since < expiry:
                    break
                if entry.connection.has_expired():
                    self._evict(entry)
                else:
                    entry.idle_since = now
                    kept.append((token, entry))
            by_time.popleft()
        by_time.extend(kept)


def _compact_waiting(heap: List[Tuple[int, int, QueuedRequest]], live: int) -> None:
    if len(heap) > _STALE_FACTOR * live + _STALE_SLACK:
        heap[:] = [item for item in heap if item[2].waiting and item[2].token == item[1]]
        heapq.heapify(heap)


__all__ = ["OriginKey", "PoolEntry", "PoolState", "QueuedRequest"]
