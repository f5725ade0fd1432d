"""Locks, events, semaphores and cancellation shields for connections and pools.

Two families with the same shape, so the generated sync code can use the twin of every
async name: ``AsyncLock``/``Lock``, ``AsyncEvent``/``Event``,
``AsyncSemaphore``/``Semaphore``, ``AsyncShieldCancellation``/``ShieldCancellation`` and
``AsyncThreadLock``/``ThreadLock``.

Sync primitives are built on ``threading``. Async primitives are created outside any event
loop (pools are constructed in synchronous code), so each one finds out which library runs it
on first use, never in ``__init__``, and then uses that library's own primitives: asyncio's
under asyncio (anyio is not involved) and trio's under trio. Anything else is a RuntimeError.
trio, anyio and sniffio are imported only when needed.

Rules:

* ``Event.wait(timeout)`` raises ``PoolTimeout`` when the timeout expires first.
* Semaphores have a resizable limit (HTTP/2 follows the server's MAX_CONCURRENT_STREAMS):
  ``set_limit()`` never blocks. Growing it admits waiters at once; shrinking it below the
  number of holders only makes new acquirers wait until enough holders have released.
  Waiters are served first-in, first-out, and a released slot is handed straight to the
  longest waiter, so a newcomer never overtakes the queue. Invariant after every operation:
  ``in_use < limit`` implies nobody is waiting. Each operation is O(1), except that a
  cancelled waiter leaves the queue in O(waiters).
* ``AsyncShieldCancellation`` protects cleanup from cancellation: under trio with a shielded
  ``trio.CancelScope``; under asyncio with a shielded ``anyio.CancelScope`` when anyio is
  already imported (so anyio-level cancellation such as ``anyio.move_on_after`` is held off),
  otherwise it does nothing. Native asyncio has no shield: ``Task.cancel()`` is delivered at
  the next suspension point regardless. Cleanup paths that may run under native asyncio
  cancellation must therefore not suspend (close transports without awaiting) when they have
  to complete.
"""

from __future__ import annotations

import asyncio
import collections
import sys
import threading
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Deque, Optional, Type, Union

from ._exceptions import PoolTimeout

if TYPE_CHECKING:
    import trio

_UNSET: Any = object()
_sniffio: Optional[ModuleType] = _UNSET


def _import_sniffio() -> Optional[ModuleType]:
    global _sniffio
    if _sniffio is _UNSET:
        try:
            import sniffio
        except ImportError:
            _sniffio = None
        else:
            _sniffio = sniffio
    return _sniffio


def current_async_library() -> str:
    """Return ``"asyncio"`` or ``"trio"``: the async library running the current task.

    Uses sniffio when it is installed; without it, a running asyncio loop means asyncio.
    Raises RuntimeError when no supported library is running.
    """
    if "trio" not in sys.modules and asyncio._get_running_loop() is not None:
        # Trio runs nothing it was not imported for: a running asyncio loop is the answer,
        # without asking sniffio (about 1 us; a pool asks once per request).
        return "asyncio"
    sniffio = _import_sniffio()
    library: Optional[str]
    if sniffio is not None:
        try:
            library = sniffio.current_async_library()
        except sniffio.AsyncLibraryNotFoundError:
            library = None
    else:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            library = None
        else:
            library = "asyncio"
    if library != "asyncio" and library != "trio":
        running = "no async library" if library is None else repr(library)
        raise RuntimeError(
            f"Unsupported concurrency backend: httpcore's async API runs under asyncio or "
            f"trio, but {running} is running."
        )
    return library


def _import_trio() -> ModuleType:
    try:
        import trio
    except (ImportError, NotImplementedError) as exc:
        raise RuntimeError(
            "Running httpcore under trio needs the 'trio' package: "
            "install it with 'pip install httpcore[trio]'."
        ) from exc
    return trio


# Async primitives.


class AsyncLock:
    """A task lock: ``async with lock:``, or ``await acquire()`` then ``release()``."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock: Union[asyncio.Lock, trio.Lock, None] = None

    def _setup(self) -> Union[asyncio.Lock, trio.Lock]:
        if current_async_library() == "trio":
            self._lock = _import_trio().Lock()
        else:
            self._lock = asyncio.Lock()
        return self._lock

    async def acquire(self) -> None:
        lock = self._lock if self._lock is not None else self._setup()
        await lock.acquire()

    def release(self) -> None:
        if self._lock is None:
            raise RuntimeError("release() called on a lock that was never acquired.")
        self._lock.release()

    async def __aenter__(self) -> AsyncLock:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        self.release()


class AsyncThreadLock:
    """The async twin of ``ThreadLock``: async code needs no thread lock, so it does nothing."""

    __slots__ = ()

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def __enter__(self) -> AsyncThreadLock:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        pass


class AsyncEvent:
    """A one-shot event: ``set()`` once, any number of ``await wait(timeout)``.

    ``set()`` and ``is_set()`` are plain calls and need no running loop; a native event is
    made only when a task actually has to wait.
    """

    __slots__ = ("_flag", "_waiters", "_trio_event")

    def __init__(self) -> None:
        self._flag = False
        # asyncio: futures of the waiting tasks (result True = set, False = timed out).
        self._waiters: Optional[Deque[asyncio.Future[bool]]] = None
        self._trio_event: Optional[trio.Event] = None

    def set(self) -> None:
        if self._flag:
            return
        self._flag = True
        if self._waiters is not None:
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(True)
        if self._trio_event is not None:
            self._trio_event.set()

    def is_set(self) -> bool:
        return self._flag

    async def wait(self, timeout: Optional[float] = None) -> None:
        """Wait until the event is set; raise PoolTimeout after ``timeout`` seconds."""
        if self._flag:
            return
        if current_async_library() == "trio":
            await self._trio_wait(timeout)
        else:
            await self._asyncio_wait(timeout)

    async def _asyncio_wait(self, timeout: Optional[float]) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        if self._waiters is None:
            self._waiters = collections.deque()
        self._waiters.append(waiter)
        timer = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if not self._flag:
                # Timed out or cancelled: ``set()`` has not dequeued this future.
                self._waiters.remove(waiter)
        # An event set just after the timer fired still counts as set.
        if not self._flag:
            raise PoolTimeout()

    async def _trio_wait(self, timeout: Optional[float]) -> None:
        trio = _import_trio()
        if self._trio_event is None:
            self._trio_event = trio.Event()
        if timeout is None:
            await self._trio_event.wait()
            return
        with trio.move_on_after(timeout):
            await self._trio_event.wait()
        if not self._flag:
            raise PoolTimeout()


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class AsyncSemaphore:
    """A counting semaphore with a resizable limit; see the module header for its rules."""

    __slots__ = ("_limit", "_in_use", "_waiters", "_parking_lot")

    def __init__(self, bound: int) -> None:
        self._limit = bound
        self._in_use = 0
        # asyncio: futures of the waiting tasks, resolved when handed a slot.
        self._waiters: Optional[Deque[asyncio.Future[None]]] = None
        # trio: the parked waiting tasks.
        self._parking_lot: Optional[trio.lowlevel.ParkingLot] = None

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_use(self) -> int:
        return self._in_use

    def set_limit(self, limit: int) -> None:
        """Change the number of holders allowed at once; never blocks."""
        self._limit = limit
        self._hand_over()

    async def acquire(self) -> None:
        if self._in_use < self._limit:
            self._in_use += 1
            return
        if current_async_library() == "trio":
            if self._parking_lot is None:
                self._parking_lot = _import_trio().lowlevel.ParkingLot()
            # Unparked means a slot was handed over (``_hand_over`` counted it); trio
            # guarantees an unparked task returns normally, even if cancelled meanwhile.
            await self._parking_lot.park()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = collections.deque()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # Handed a slot, then cancelled before resuming: pass the slot on.
                self.release()
            else:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass
            raise

    def release(self) -> None:
        if self._in_use <= 0:
            raise RuntimeError("release() called more times than acquire().")
        self._in_use -= 1
        self._hand_over()

    def _hand_over(self) -> None:
        # Give free slots to waiters, oldest first, counting each as in use right away.
        waiters = self._waiters
        if waiters is not None:
            while waiters and self._in_use < self._limit:
                waiter = waiters.popleft()
                if not waiter.done():
                    self._in_use += 1
                    waiter.set_result(None)
        lot = self._parking_lot
        if lot is not None:
            while lot and self._in_use < self._limit:
                self._in_use += 1
                lot.unpark()

    async def __aenter__(self) -> AsyncSemaphore:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        self.release()


class AsyncShieldCancellation:
    """``with AsyncShieldCancellation():`` holds off cancellation (see the module header)."""

    __slots__ = ("_scope",)

    def __init__(self) -> None:
        self._scope: Any = None

    def __enter__(self) -> AsyncShieldCancellation:
        if current_async_library() == "trio":
            self._scope = _import_trio().CancelScope(shield=True)
        elif "anyio" in sys.modules:
            import anyio

            self._scope = anyio.CancelScope(shield=True)
        if self._scope is not None:
            self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> Optional[bool]:
        scope, self._scope = self._scope, None
        if scope is None:
            return None
        suppress: Optional[bool] = scope.__exit__(exc_type, exc_value, traceback)
        return suppress


# Sync primitives.


class Lock:
    """A thread lock: ``with lock:``, or ``acquire()`` then ``release()``."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self) -> None:
        self._lock.acquire()

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> Lock:
        self._lock.acquire()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        self._lock.release()


# The lock guarding state shared between threads (a no-op ``AsyncThreadLock`` in async): the
# interpreter's own lock, not a ``Lock`` wrapper, since the sync pool and connections take it
# several times per request and ``with`` on it then runs no Python-level calls.
ThreadLock = threading.Lock


class Event:
    """A one-shot thread event: ``set()`` once, any number of ``wait(timeout)``."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: Optional[float] = None) -> None:
        """Wait until the event is set; raise PoolTimeout after ``timeout`` seconds."""
        if not self._event.wait(timeout):
            raise PoolTimeout()


class Semaphore:
    """A thread semaphore with a resizable limit; same rules as ``AsyncSemaphore``."""

    __slots__ = ("_limit", "_in_use", "_waiters", "_mutex")

    def __init__(self, bound: int) -> None:
        self._limit = bound
        self._in_use = 0
        self._mutex = threading.Lock()
        # One locked lock per waiting thread; released (by ``_hand_over``) to pass a slot.
        self._waiters: Deque[threading.Lock] = collections.deque()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_use(self) -> int:
        return self._in_use

    def set_limit(self, limit: int) -> None:
        """Change the number of holders allowed at once; never blocks."""
        with self._mutex:
            self._limit = limit
            self._hand_over()

    def acquire(self) -> None:
        with self._mutex:
            if self._in_use < self._limit:
                self._in_use += 1
                return
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        try:
            # Blocks until ``_hand_over`` releases it, having counted the slot for us.
            waiter.acquire()
        except BaseException:
            # Interrupted (e.g. KeyboardInterrupt): leave the queue, or give back the slot
            # if it was handed over meanwhile.
            with self._mutex:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                    raise
            self.release()
            raise

    def release(self) -> None:
        with self._mutex:
            if self._in_use <= 0:
                raise RuntimeError("release() called more times than acquire().")
            self._in_use -= 1
            self._hand_over()

    def _hand_over(self) -> None:
        # Called with the mutex held.
        while self._waiters and self._in_use < self._limit:
            self._in_use += 1
            self._waiters.popleft().release()

    def __enter__(self) -> Semaphore:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        self.release()


class ShieldCancellation:
    """The sync twin of ``AsyncShieldCancellation``: threads are not cancelled, so a no-op."""

    __slots__ = ()

    def __enter__(self) -> ShieldCancellation:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        pass
