"""Run calls concurrently: ``AsyncTaskGroup`` (tasks) in async tests, ``ThreadGroup``
(threads) in their generated sync twins, with the same shape::

    async with AsyncTaskGroup() as group:      # sync: with ThreadGroup() as group:
        group.start(function, argument)
    # Every call has finished here; the first exception of a call is raised.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Callable, List, Optional, Type

import anyio
import anyio.abc


class AsyncTaskGroup:
    """Calls started in an anyio task group; exiting waits for them all."""

    def __init__(self) -> None:
        self._group: Optional[anyio.abc.TaskGroup] = None
        self._errors: List[BaseException] = []

    def start(self, function: Callable[..., Any], *args: Any) -> None:
        assert self._group is not None

        async def run() -> None:
            try:
                await function(*args)
            except Exception as exc:
                self._errors.append(exc)

        self._group.start_soon(run)

    async def __aenter__(self) -> AsyncTaskGroup:
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        assert self._group is not None
        await self._group.__aexit__(exc_type, exc_value, traceback)
        if self._errors and exc_value is None:
            raise self._errors[0]


class ThreadGroup:
    """Calls started in threads; exiting joins them all."""

    def __init__(self) -> None:
        self._threads: List[threading.Thread] = []
        self._errors: List[BaseException] = []

    def start(self, function: Callable[..., Any], *args: Any) -> None:
        def run() -> None:
            try:
                function(*args)
            except Exception as exc:
                self._errors.append(exc)

        thread = threading.Thread(target=run)
        self._threads.append(thread)
        thread.start()

    def __enter__(self) -> ThreadGroup:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        for thread in self._threads:
            thread.join()
        if self._errors and exc_value is None:
            raise self._errors[0]
