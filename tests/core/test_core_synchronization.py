"""Locks, events, semaphores and cancellation shields, async (asyncio, trio) and threaded."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from typing import Any, List, Optional

import anyio
import pytest
import sniffio

from httpcore._core import _synchronization
from httpcore._core._exceptions import PoolTimeout
from httpcore._core._synchronization import (
    AsyncEvent,
    AsyncLock,
    AsyncSemaphore,
    AsyncShieldCancellation,
    AsyncThreadLock,
    Event,
    Lock,
    Semaphore,
    ShieldCancellation,
    ThreadLock,
    current_async_library,
)

JOIN_TIMEOUT_S = 30.0


def join(thread: threading.Thread) -> None:
    thread.join(JOIN_TIMEOUT_S)
    assert not thread.is_alive(), "thread did not finish"


# Library detection.


@pytest.mark.anyio
async def test_current_async_library(anyio_backend: str) -> None:
    assert current_async_library() == anyio_backend


def test_current_async_library_outside_event_loop() -> None:
    with pytest.raises(RuntimeError, match="Unsupported concurrency backend"):
        current_async_library()


def test_current_async_library_rejects_other_library() -> None:
    token = sniffio.current_async_library_cvar.set("curio")
    try:
        with pytest.raises(RuntimeError, match="Unsupported concurrency backend.*'curio'"):
            current_async_library()
    finally:
        sniffio.current_async_library_cvar.reset(token)


def test_current_async_library_without_sniffio_is_asyncio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_synchronization, "_sniffio", None)

    async def main() -> str:
        return current_async_library()

    assert asyncio.run(main()) == "asyncio"


def test_current_async_library_under_asyncio_without_trio_does_not_ask_sniffio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The per-request fast path: trio not imported, an asyncio loop running.
    class Unaskable:
        AsyncLibraryNotFoundError = sniffio.AsyncLibraryNotFoundError

        def current_async_library(self) -> str:
            raise AssertionError("sniffio was asked")

    monkeypatch.delitem(sys.modules, "trio", raising=False)
    monkeypatch.setattr(_synchronization, "_sniffio", Unaskable())

    async def main() -> str:
        return current_async_library()

    assert asyncio.run(main()) == "asyncio"
    with pytest.raises(AssertionError, match="sniffio was asked"):
        current_async_library()  # no loop running: the full check


def test_current_async_library_without_sniffio_outside_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_synchronization, "_sniffio", None)
    with pytest.raises(RuntimeError, match="Unsupported concurrency backend"):
        current_async_library()


def test_missing_trio_is_runtime_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trio", None)
    with pytest.raises(RuntimeError, match=r"httpcore\[trio\]"):
        _synchronization._import_trio()


def test_trio_not_implemented_on_import_is_runtime_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Refuse:
        def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
            if name == "trio":
                raise NotImplementedError("unsupported platform")
            return None

    monkeypatch.delitem(sys.modules, "trio", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Refuse(), *sys.meta_path])
    with pytest.raises(RuntimeError, match=r"httpcore\[trio\]"):
        _synchronization._import_trio()


@pytest.mark.anyio
async def test_lock_under_trio_without_trio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_synchronization, "current_async_library", lambda: "trio")
    monkeypatch.setitem(sys.modules, "trio", None)
    with pytest.raises(RuntimeError, match=r"httpcore\[trio\]"):
        await AsyncLock().acquire()


def test_async_primitives_construct_outside_event_loop() -> None:
    AsyncLock()
    AsyncEvent()
    AsyncSemaphore(1)
    AsyncShieldCancellation()
    AsyncThreadLock()


def test_import_and_construction_import_no_async_library() -> None:
    code = (
        "import sys\n"
        "from httpcore._core import _synchronization as s\n"
        "s.AsyncLock(); s.AsyncEvent().set(); s.AsyncSemaphore(2).set_limit(3)\n"
        "s.AsyncShieldCancellation()\n"
        "loaded = [m for m in ('trio', 'anyio', 'sniffio') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# AsyncLock.


@pytest.mark.anyio
async def test_async_lock_uses_native_lock(anyio_backend: str) -> None:
    lock = AsyncLock()
    async with lock:
        native = lock._lock
    if anyio_backend == "trio":
        import trio

        assert isinstance(native, trio.Lock)
    else:
        assert isinstance(native, asyncio.Lock)


@pytest.mark.anyio
async def test_async_lock_excludes_other_tasks() -> None:
    lock = AsyncLock()
    entered: List[str] = []

    async def worker() -> None:
        async with lock:
            entered.append("worker")

    await lock.acquire()
    async with anyio.create_task_group() as group:
        group.start_soon(worker)
        await anyio.wait_all_tasks_blocked()
        assert entered == []
        lock.release()
    assert entered == ["worker"]


@pytest.mark.anyio
async def test_async_lock_reusable() -> None:
    lock = AsyncLock()
    for _ in range(3):
        async with lock:
            pass


def test_async_lock_release_before_use() -> None:
    with pytest.raises(RuntimeError):
        AsyncLock().release()


@pytest.mark.anyio
async def test_async_lock_context_manager_returns_lock() -> None:
    lock = AsyncLock()
    async with lock as entered:
        assert entered is lock


# AsyncEvent.


def test_async_event_set_outside_event_loop() -> None:
    event = AsyncEvent()
    assert not event.is_set()
    event.set()
    assert event.is_set()


@pytest.mark.anyio
async def test_async_event_wait_after_set_returns() -> None:
    event = AsyncEvent()
    event.set()
    await event.wait()
    await event.wait(timeout=0)


@pytest.mark.anyio
async def test_async_event_wait_until_set() -> None:
    event = AsyncEvent()
    woken: List[int] = []

    async def waiter(number: int) -> None:
        await event.wait()
        woken.append(number)

    async with anyio.create_task_group() as group:
        group.start_soon(waiter, 1)
        group.start_soon(waiter, 2)
        await anyio.wait_all_tasks_blocked()
        assert woken == []
        event.set()
    assert sorted(woken) == [1, 2]


@pytest.mark.anyio
async def test_async_event_wait_with_timeout_until_set() -> None:
    event = AsyncEvent()
    done: List[bool] = []

    async def waiter() -> None:
        await event.wait(timeout=3600.0)
        done.append(True)

    async with anyio.create_task_group() as group:
        group.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        event.set()
    assert done == [True]


@pytest.mark.anyio
async def test_async_event_timeout_raises_pool_timeout() -> None:
    event = AsyncEvent()
    with pytest.raises(PoolTimeout):
        await event.wait(timeout=0)
    assert not event.is_set()


@pytest.mark.anyio
async def test_async_event_usable_after_timeout() -> None:
    event = AsyncEvent()
    with pytest.raises(PoolTimeout):
        await event.wait(timeout=0)
    event.set()
    await event.wait(timeout=0)


@pytest.mark.anyio
async def test_async_event_cancelled_waiter_is_forgotten() -> None:
    event = AsyncEvent()
    async with anyio.create_task_group() as group:
        group.start_soon(event.wait)
        await anyio.wait_all_tasks_blocked()
        group.cancel_scope.cancel()
    assert not event._waiters
    event.set()
    assert event.is_set()


def test_async_event_set_after_timer_fired_counts_as_set() -> None:
    async def main() -> None:
        event = AsyncEvent()
        task = asyncio.ensure_future(event.wait(timeout=0))
        await asyncio.sleep(0)  # the task starts waiting and its timer is due
        assert event._waiters
        waiter = event._waiters[0]
        for _ in range(100):
            if waiter.done():
                break
            await asyncio.sleep(0)
        assert waiter.done()
        event.set()  # before the waiting task resumes
        await task

    asyncio.run(main())


# AsyncSemaphore.


@pytest.mark.anyio
async def test_async_semaphore_admits_up_to_limit() -> None:
    semaphore = AsyncSemaphore(2)
    await semaphore.acquire()
    await semaphore.acquire()
    assert semaphore.in_use == 2
    assert semaphore.limit == 2


@pytest.mark.anyio
async def test_async_semaphore_blocks_beyond_limit() -> None:
    semaphore = AsyncSemaphore(1)
    acquired: List[str] = []

    async def worker() -> None:
        async with semaphore:
            acquired.append("worker")

    await semaphore.acquire()
    async with anyio.create_task_group() as group:
        group.start_soon(worker)
        await anyio.wait_all_tasks_blocked()
        assert acquired == []
        semaphore.release()
    assert acquired == ["worker"]
    assert semaphore.in_use == 0


@pytest.mark.anyio
async def test_async_semaphore_serves_waiters_in_order() -> None:
    semaphore = AsyncSemaphore(1)
    order: List[int] = []

    async def worker(number: int) -> None:
        async with semaphore:
            order.append(number)

    await semaphore.acquire()
    async with anyio.create_task_group() as group:
        for number in range(5):
            group.start_soon(worker, number)
            await anyio.wait_all_tasks_blocked()
        semaphore.release()
    assert order == [0, 1, 2, 3, 4]


@pytest.mark.anyio
async def test_async_semaphore_newcomer_does_not_overtake() -> None:
    semaphore = AsyncSemaphore(1)
    order: List[str] = []

    async def worker(name: str) -> None:
        async with semaphore:
            order.append(name)

    await semaphore.acquire()
    async with anyio.create_task_group() as group:
        group.start_soon(worker, "waiter")
        await anyio.wait_all_tasks_blocked()
        semaphore.release()
        # The slot now belongs to the waiter, even before it runs.
        assert semaphore.in_use == 1
        group.start_soon(worker, "newcomer")
    assert order == ["waiter", "newcomer"]


@pytest.mark.anyio
async def test_async_semaphore_growing_limit_admits_waiters() -> None:
    semaphore = AsyncSemaphore(1)
    acquired: List[int] = []

    async def worker(number: int) -> None:
        await semaphore.acquire()
        acquired.append(number)

    await semaphore.acquire()
    async with anyio.create_task_group() as group:
        group.start_soon(worker, 1)
        group.start_soon(worker, 2)
        await anyio.wait_all_tasks_blocked()
        assert acquired == []
        semaphore.set_limit(3)
    assert sorted(acquired) == [1, 2]
    assert semaphore.in_use == 3


@pytest.mark.anyio
async def test_async_semaphore_shrinking_limit_never_blocks() -> None:
    semaphore = AsyncSemaphore(3)
    for _ in range(3):
        await semaphore.acquire()
    semaphore.set_limit(1)
    assert semaphore.limit == 1
    assert semaphore.in_use == 3


@pytest.mark.anyio
async def test_async_semaphore_shrunk_limit_holds_waiters_until_below() -> None:
    semaphore = AsyncSemaphore(2)
    await semaphore.acquire()
    await semaphore.acquire()
    semaphore.set_limit(1)
    acquired: List[str] = []

    async def worker() -> None:
        await semaphore.acquire()
        acquired.append("worker")

    async with anyio.create_task_group() as group:
        group.start_soon(worker)
        await anyio.wait_all_tasks_blocked()
        semaphore.release()
        await anyio.wait_all_tasks_blocked()
        assert acquired == []
        semaphore.release()
    assert acquired == ["worker"]
    assert semaphore.in_use == 1


@pytest.mark.anyio
async def test_async_semaphore_cancelled_waiter_takes_no_slot() -> None:
    semaphore = AsyncSemaphore(1)
    await semaphore.acquire()
    async with anyio.create_task_group() as group:
        group.start_soon(semaphore.acquire)
        await anyio.wait_all_tasks_blocked()
        group.cancel_scope.cancel()
    semaphore.release()
    assert semaphore.in_use == 0
    await semaphore.acquire()
    assert semaphore.in_use == 1


def test_async_semaphore_slot_handed_to_cancelled_task_is_passed_on() -> None:
    async def main() -> None:
        semaphore = AsyncSemaphore(1)
        await semaphore.acquire()
        task = asyncio.ensure_future(semaphore.acquire())
        await asyncio.sleep(0)  # the task is now waiting
        semaphore.release()  # hands the slot to the task...
        task.cancel()  # ...which is cancelled before it resumes
        with pytest.raises(asyncio.CancelledError):
            await task
        assert semaphore.in_use == 0
        await semaphore.acquire()

    asyncio.run(main())


def test_async_semaphore_release_without_acquire() -> None:
    with pytest.raises(RuntimeError):
        AsyncSemaphore(1).release()


@pytest.mark.anyio
async def test_async_semaphore_context_manager_returns_semaphore() -> None:
    semaphore = AsyncSemaphore(1)
    async with semaphore as entered:
        assert entered is semaphore
        assert semaphore.in_use == 1
    assert semaphore.in_use == 0


# AsyncShieldCancellation.


@pytest.mark.anyio
async def test_async_shield_holds_off_cancellation() -> None:
    reached: List[str] = []
    with anyio.CancelScope() as scope:
        scope.cancel()
        with AsyncShieldCancellation():
            await anyio.sleep(0)
            reached.append("shielded")
        await anyio.sleep(0)
        reached.append("after")  # pragma: no cover
    assert reached == ["shielded"]
    assert scope.cancelled_caught


@pytest.mark.anyio
async def test_async_shield_passes_exceptions() -> None:
    with pytest.raises(ZeroDivisionError):
        with AsyncShieldCancellation():
            raise ZeroDivisionError()


@pytest.mark.anyio
async def test_async_shield_uses_a_shielded_scope_of_the_library(anyio_backend: str) -> None:
    shield = AsyncShieldCancellation()
    with shield:
        scope = shield._scope
    if anyio_backend == "trio":
        import trio

        assert isinstance(scope, trio.CancelScope)
    else:
        assert isinstance(scope, anyio.CancelScope)
    assert scope.shield
    assert shield._scope is None


def test_async_shield_without_anyio_is_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "anyio")
    scopes: List[Optional[object]] = []

    async def main() -> None:
        shield = AsyncShieldCancellation()
        with shield:
            scopes.append(shield._scope)

    asyncio.run(main())
    assert scopes == [None]
    assert "anyio" not in sys.modules


def test_async_shield_outside_event_loop() -> None:
    with pytest.raises(RuntimeError, match="Unsupported concurrency backend"):
        with AsyncShieldCancellation():
            pass  # pragma: no cover


def test_async_thread_lock_is_no_op() -> None:
    lock = AsyncThreadLock()
    with lock as entered:
        with lock:
            assert entered is lock


# Sync primitives.


def test_lock_excludes_other_threads() -> None:
    lock = Lock()
    entered: List[str] = []

    def worker() -> None:
        with lock:
            entered.append("worker")

    with lock:
        thread = threading.Thread(target=worker)
        thread.start()
        assert entered == []
    join(thread)
    assert entered == ["worker"]


def test_lock_acquire_release() -> None:
    lock = Lock()
    lock.acquire()
    assert lock._lock.locked()
    lock.release()
    assert not lock._lock.locked()


def test_lock_context_manager_returns_lock() -> None:
    lock = Lock()
    with lock as entered:
        assert entered is lock


def test_thread_lock_is_a_real_lock() -> None:
    lock = ThreadLock()
    assert not lock.locked()
    with lock:
        assert lock.locked()
    assert not lock.locked()


def test_event_set_and_wait() -> None:
    event = Event()
    assert not event.is_set()
    event.set()
    assert event.is_set()
    event.wait()
    event.wait(timeout=0)


def test_event_timeout_raises_pool_timeout() -> None:
    with pytest.raises(PoolTimeout):
        Event().wait(timeout=0)


def test_event_wakes_waiting_thread() -> None:
    event = Event()
    woken: List[bool] = []

    def waiter() -> None:
        event.wait(timeout=JOIN_TIMEOUT_S)
        woken.append(True)

    thread = threading.Thread(target=waiter)
    thread.start()
    event.set()
    join(thread)
    assert woken == [True]


def test_semaphore_admits_up_to_limit() -> None:
    semaphore = Semaphore(2)
    semaphore.acquire()
    semaphore.acquire()
    assert (semaphore.in_use, semaphore.limit) == (2, 2)


def test_semaphore_blocks_other_thread_beyond_limit() -> None:
    semaphore = Semaphore(1)
    acquired: List[str] = []

    def worker() -> None:
        with semaphore:
            acquired.append("worker")

    semaphore.acquire()
    thread = threading.Thread(target=worker)
    thread.start()
    assert acquired == []
    semaphore.release()
    join(thread)
    assert acquired == ["worker"]
    assert semaphore.in_use == 0


def test_semaphore_growing_limit_admits_waiting_thread() -> None:
    semaphore = Semaphore(1)
    semaphore.acquire()
    thread = threading.Thread(target=semaphore.acquire)
    thread.start()
    semaphore.set_limit(2)
    join(thread)
    assert semaphore.in_use == 2


def test_semaphore_shrunk_limit() -> None:
    semaphore = Semaphore(2)
    semaphore.acquire()
    semaphore.acquire()
    semaphore.set_limit(1)
    semaphore.release()
    assert (semaphore.in_use, semaphore.limit) == (1, 1)
    thread = threading.Thread(target=semaphore.acquire)
    thread.start()
    semaphore.release()
    join(thread)
    assert semaphore.in_use == 1


def test_semaphore_many_threads() -> None:
    semaphore = Semaphore(3)
    holders = 0
    most = 0
    counter_lock = threading.Lock()

    def worker() -> None:
        nonlocal holders, most
        for _ in range(50):
            with semaphore:
                with counter_lock:
                    holders += 1
                    most = max(most, holders)
                with counter_lock:
                    holders -= 1

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        join(thread)
    assert most <= 3
    assert semaphore.in_use == 0


def test_semaphore_release_without_acquire() -> None:
    with pytest.raises(RuntimeError):
        Semaphore(1).release()


def test_shield_cancellation_is_no_op() -> None:
    with pytest.raises(ZeroDivisionError):
        with ShieldCancellation():
            raise ZeroDivisionError()
    with ShieldCancellation() as shield:
        assert isinstance(shield, ShieldCancellation)
