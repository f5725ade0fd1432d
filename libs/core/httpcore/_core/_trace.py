"""Tracing scopes: DEBUG log records and "trace" extension callbacks (API.md §11.1).

``with Trace(op, logger, request, kwargs) as trace:`` (or ``async with``) wraps one
instrumented operation. The scope is active only when ``logger`` is enabled for DEBUG or the
request carries a ``"trace"`` extension; both are looked up once, in ``__init__``, so an
inactive scope costs two lookups and two no-op calls.

When active it emits, in order:

* on entry ``<op>.started`` with ``info = kwargs`` (the very dict given, or ``{}``);
* on normal exit ``<op>.complete`` with ``info = {"return_value": trace.return_value}``;
* on any exception, cancellation included, ``<op>.failed`` with
  ``info = {"exception": exc}``; the exception then propagates unchanged.

Each event goes first to the trace callback as ``callback("<prefix>.<op>.<phase>", info)``,
where the prefix is the last dotted part of the logger name, then to the logger as one DEBUG
record: ``"<op>.<phase>"`` alone when ``info`` is empty or its ``return_value`` is ``None``,
else ``"<op>.<phase> k1=<repr v1> k2=<repr v2>"`` in dict order. Nothing else is emitted.

The callback kind must match the API: ``with`` needs a plain function (a returned coroutine
is closed, then TypeError), ``async with`` needs an ``async def`` (a result that is not
awaitable is a TypeError). The check runs after the call.
"""

from __future__ import annotations

import inspect
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Type

if TYPE_CHECKING:
    from ._models import Request

_SYNC_CALLBACK_NEEDED = (
    "The trace extension of a request sent through a sync interface must be a plain "
    "function, but it returned a coroutine; use a callback defined with 'def'."
)
_ASYNC_CALLBACK_NEEDED = (
    "The trace extension of a request sent through an async interface must be an "
    "'async def' function, but its result is not awaitable."
)


class Trace:
    """A tracing scope around one operation; see the module header for what it emits.

    Set ``trace.return_value`` inside the block to report the operation's result.
    """

    __slots__ = ("name", "logger", "kwargs", "return_value", "_callback", "_debug", "_active")

    def __init__(
        self,
        name: str,
        logger: logging.Logger,
        request: Optional[Request] = None,
        kwargs: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.name = name
        self.logger = logger
        self.kwargs: Dict[str, Any] = {} if kwargs is None else kwargs
        self.return_value: Any = None
        self._callback: Optional[Callable[[str, Dict[str, Any]], Any]] = (
            None if request is None else request.extensions.get("trace")
        )
        self._debug = logger.isEnabledFor(logging.DEBUG)
        self._active = self._debug or self._callback is not None

    def _callback_name(self, event: str) -> str:
        prefix = self.logger.name.rpartition(".")[2]
        return f"{prefix}.{event}"

    def _log(self, event: str, info: Dict[str, Any]) -> None:
        if not info or ("return_value" in info and info["return_value"] is None):
            self.logger.debug(event)
        else:
            details = " ".join(f"{key}={value!r}" for key, value in info.items())
            self.logger.debug(f"{event} {details}")

    def _emit(self, event: str, info: Dict[str, Any]) -> None:
        if self._callback is not None:
            result = self._callback(self._callback_name(event), info)
            if inspect.iscoroutine(result):
                result.close()
                raise TypeError(_SYNC_CALLBACK_NEEDED)
        if self._debug:
            self._log(event, info)

    async def _aemit(self, event: str, info: Dict[str, Any]) -> None:
        if self._callback is not None:
            result = self._callback(self._callback_name(event), info)
            if not inspect.isawaitable(result):
                raise TypeError(_ASYNC_CALLBACK_NEEDED)
            await result
        if self._debug:
            self._log(event, info)

    def _exit_info(self, exc_value: Optional[BaseException]) -> tuple[str, Dict[str, Any]]:
        if exc_value is None:
            return f"{self.name}.complete", {"return_value": self.return_value}
        return f"{self.name}.failed", {"exception": exc_value}

    def __enter__(self) -> Trace:
        if self._active:
            self._emit(f"{self.name}.started", self.kwargs)
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        if self._active:
            event, info = self._exit_info(exc_value)
            self._emit(event, info)

    async def __aenter__(self) -> Trace:
        if self._active:
            await self._aemit(f"{self.name}.started", self.kwargs)
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        if self._active:
            event, info = self._exit_info(exc_value)
            await self._aemit(event, info)
