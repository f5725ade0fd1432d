"""Tracing scopes: trace callbacks and DEBUG logging (API.md §11.1)."""

from __future__ import annotations

import inspect
import logging
from typing import Any, Coroutine, Dict, Iterator, List, Tuple

import anyio
import pytest

from httpcore._core._models import Request
from httpcore._core._trace import Trace

Events = List[Tuple[str, Dict[str, Any]]]


@pytest.fixture
def connection_logger() -> Iterator[logging.Logger]:
    """The ``httpcore.connection`` logger, left at its normal (inactive) level."""
    logger = logging.getLogger("httpcore.connection")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield logger
    logger.setLevel(level)


def traced_request(events: Events) -> Request:
    def trace(name: str, info: Dict[str, Any]) -> None:
        events.append((name, info))

    return Request("GET", "http://example.com/", extensions={"trace": trace})


def async_traced_request(events: Events) -> Request:
    async def trace(name: str, info: Dict[str, Any]) -> None:
        events.append((name, info))

    return Request("GET", "http://example.com/", extensions={"trace": trace})


class SpyLogger(logging.Logger):
    """A logger that counts level checks and records every debug() call."""

    def __init__(self, name: str, enabled: bool) -> None:
        super().__init__(name)
        self.enabled = enabled
        self.checks = 0
        self.messages: List[str] = []

    def isEnabledFor(self, level: int) -> bool:
        self.checks += 1
        return self.enabled

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.messages.append(str(msg))


# Activation.


def test_inactive_trace_calls_nothing() -> None:
    logger = SpyLogger("httpcore.connection", enabled=False)
    request = Request("GET", "http://example.com/")
    with Trace("connect_tcp", logger, request, {"host": "example.com"}) as trace:
        trace.return_value = "stream"
    assert logger.messages == []
    assert logger.checks == 1


def test_inactive_trace_without_request_calls_nothing() -> None:
    logger = SpyLogger("httpcore.connection", enabled=False)
    with Trace("close", logger, None, {}):
        pass
    assert logger.messages == []


def test_trace_extension_activates_without_debug(connection_logger: logging.Logger) -> None:
    events: Events = []
    with Trace("connect_tcp", connection_logger, traced_request(events), {}):
        pass
    assert [name for name, _ in events] == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
    ]


def test_debug_logging_activates_without_extension() -> None:
    logger = SpyLogger("httpcore.http11", enabled=True)
    with Trace("response_closed", logger, None, {}):
        pass
    assert logger.messages == ["response_closed.started", "response_closed.complete"]


def test_extension_and_logger_both_receive_events() -> None:
    logger = SpyLogger("httpcore.http11", enabled=True)
    events: Events = []
    with Trace("send_request_headers", logger, traced_request(events), {}):
        pass
    assert len(events) == 2
    assert logger.messages == ["send_request_headers.started", "send_request_headers.complete"]


# Events.


def test_started_info_is_the_kwargs_dict(connection_logger: logging.Logger) -> None:
    events: Events = []
    kwargs = {"host": "example.com", "port": 80}
    with Trace("connect_tcp", connection_logger, traced_request(events), kwargs):
        pass
    assert events[0] == ("connection.connect_tcp.started", kwargs)
    assert events[0][1] is kwargs


def test_started_info_defaults_to_empty_dict(connection_logger: logging.Logger) -> None:
    events: Events = []
    with Trace("retry", connection_logger, traced_request(events)):
        pass
    assert events[0] == ("connection.retry.started", {})


def test_complete_info_carries_return_value(connection_logger: logging.Logger) -> None:
    events: Events = []
    stream = object()
    with Trace("connect_tcp", connection_logger, traced_request(events), {}) as trace:
        trace.return_value = stream
    assert events[1] == ("connection.connect_tcp.complete", {"return_value": stream})


def test_complete_info_return_value_defaults_to_none(connection_logger: logging.Logger) -> None:
    events: Events = []
    with Trace("retry", connection_logger, traced_request(events), {}):
        pass
    assert events[1] == ("connection.retry.complete", {"return_value": None})


def test_failed_info_carries_exception(connection_logger: logging.Logger) -> None:
    events: Events = []
    error = ConnectionError("refused")
    with pytest.raises(ConnectionError) as info:
        with Trace("connect_tcp", connection_logger, traced_request(events), {}):
            raise error
    assert info.value is error
    assert events == [
        ("connection.connect_tcp.started", {}),
        ("connection.connect_tcp.failed", {"exception": error}),
    ]


def test_failed_on_base_exception(connection_logger: logging.Logger) -> None:
    events: Events = []
    with pytest.raises(KeyboardInterrupt):
        with Trace("connect_tcp", connection_logger, traced_request(events), {}):
            raise KeyboardInterrupt()
    assert events[-1][0] == "connection.connect_tcp.failed"
    assert isinstance(events[-1][1]["exception"], KeyboardInterrupt)


@pytest.mark.parametrize(
    ("logger_name", "prefix"),
    [
        ("httpcore.connection", "connection"),
        ("httpcore.http11", "http11"),
        ("httpcore.http2", "http2"),
        ("httpcore.proxy", "proxy"),
        ("httpcore.socks", "socks"),
    ],
)
def test_callback_prefix_is_last_logger_component(logger_name: str, prefix: str) -> None:
    events: Events = []
    with Trace("start_tls", logging.getLogger(logger_name), traced_request(events), {}):
        pass
    assert events[0][0] == f"{prefix}.start_tls.started"


def test_trace_yields_itself(connection_logger: logging.Logger) -> None:
    trace = Trace("connect_tcp", connection_logger, None, {})
    with trace as entered:
        assert entered is trace


# Callback kinds.


def test_sync_trace_rejects_coroutine_callback(connection_logger: logging.Logger) -> None:
    returned: List[Coroutine[Any, Any, None]] = []

    async def callback(name: str, info: Dict[str, Any]) -> None:
        pass  # pragma: no cover

    def trace(name: str, info: Dict[str, Any]) -> Coroutine[Any, Any, None]:
        coroutine = callback(name, info)
        returned.append(coroutine)
        return coroutine

    request = Request("GET", "http://example.com/", extensions={"trace": trace})
    with pytest.raises(TypeError, match="plain function"):
        with Trace("connect_tcp", connection_logger, request, {}):
            pass  # pragma: no cover
    assert inspect.getcoroutinestate(returned[0]) == inspect.CORO_CLOSED


def test_sync_trace_rejects_async_def_callback(connection_logger: logging.Logger) -> None:
    async def trace(name: str, info: Dict[str, Any]) -> None:
        pass  # pragma: no cover

    request = Request("GET", "http://example.com/", extensions={"trace": trace})
    with pytest.raises(TypeError):
        with Trace("connect_tcp", connection_logger, request, {}):
            pass  # pragma: no cover


@pytest.mark.anyio
async def test_async_trace_awaits_callback(connection_logger: logging.Logger) -> None:
    events: Events = []
    stream = object()
    kwargs = {"host": "example.com"}
    async with Trace("connect_tcp", connection_logger, async_traced_request(events), kwargs) as t:
        t.return_value = stream
    assert events == [
        ("connection.connect_tcp.started", kwargs),
        ("connection.connect_tcp.complete", {"return_value": stream}),
    ]


@pytest.mark.anyio
async def test_async_trace_failed(connection_logger: logging.Logger) -> None:
    events: Events = []
    error = OSError("boom")
    with pytest.raises(OSError):
        async with Trace("connect_tcp", connection_logger, async_traced_request(events), {}):
            raise error
    assert events[-1] == ("connection.connect_tcp.failed", {"exception": error})


@pytest.mark.anyio
async def test_async_trace_failed_on_cancellation(connection_logger: logging.Logger) -> None:
    events: Events = []
    with anyio.CancelScope() as scope:
        scope.cancel()
        async with Trace("connect_tcp", connection_logger, async_traced_request(events), {}):
            await anyio.sleep(0)
    assert [name for name, _ in events] == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.failed",
    ]
    assert isinstance(events[-1][1]["exception"], anyio.get_cancelled_exc_class())


@pytest.mark.anyio
async def test_async_trace_rejects_plain_callback(connection_logger: logging.Logger) -> None:
    events: Events = []
    with pytest.raises(TypeError, match="async def"):
        async with Trace("connect_tcp", connection_logger, traced_request(events), {}):
            pass  # pragma: no cover
    assert events == [("connection.connect_tcp.started", {})]


@pytest.mark.anyio
async def test_async_trace_inactive_calls_nothing() -> None:
    logger = SpyLogger("httpcore.http2", enabled=False)
    async with Trace("send_connection_init", logger, Request("GET", "http://a/"), {}):
        pass
    assert logger.messages == []
    assert logger.checks == 1


@pytest.mark.anyio
async def test_async_trace_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore.http11")
    async with Trace("response_closed", logging.getLogger("httpcore.http11"), None, {}):
        pass
    assert [record.getMessage() for record in caplog.records] == [
        "response_closed.started",
        "response_closed.complete",
    ]


# Log records.


def test_log_records_exact(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("httpcore.connection")
    kwargs = {
        "host": "example.com",
        "port": 80,
        "local_address": None,
        "timeout": None,
        "socket_options": None,
    }
    with Trace("connect_tcp", logger, None, kwargs) as trace:
        trace.return_value = (b"HTTP/1.1", 200)
    assert caplog.record_tuples == [
        (
            "httpcore.connection",
            logging.DEBUG,
            "connect_tcp.started host='example.com' port=80 local_address=None timeout=None "
            "socket_options=None",
        ),
        ("httpcore.connection", logging.DEBUG, "connect_tcp.complete return_value=(b'HTTP/1.1', 200)"),
    ]


def test_log_empty_info_is_bare_name(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with Trace("close", logging.getLogger("httpcore.connection")):
        pass
    assert caplog.record_tuples == [
        ("httpcore.connection", logging.DEBUG, "close.started"),
        ("httpcore.connection", logging.DEBUG, "close.complete"),
    ]


def test_log_failed_shows_exception_repr(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ValueError):
        with Trace("start_tls", logging.getLogger("httpcore.proxy"), None, {}):
            raise ValueError("bad")
    assert caplog.record_tuples[-1] == (
        "httpcore.proxy",
        logging.DEBUG,
        "start_tls.failed exception=ValueError('bad')",
    )


def test_log_request_info_uses_repr(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    request = Request("GET", "http://example.com/")
    with Trace("send_request_body", logging.getLogger("httpcore.http11"), request, {"request": request}):
        pass
    assert caplog.record_tuples[0] == (
        "httpcore.http11",
        logging.DEBUG,
        "send_request_body.started request=<Request [b'GET']>",
    )


def test_log_falsy_return_value_is_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with Trace("op", logging.getLogger("httpcore.http2")) as trace:
        trace.return_value = 0
    assert caplog.record_tuples[-1] == ("httpcore.http2", logging.DEBUG, "op.complete return_value=0")


def test_log_message_with_percent_is_not_formatted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with Trace("op", logging.getLogger("httpcore.http2"), None, {"path": "/%s%d"}):
        pass
    assert caplog.records[0].getMessage() == "op.started path='/%s%d'"


def test_no_log_records_when_debug_disabled(
    caplog: pytest.LogCaptureFixture, connection_logger: logging.Logger
) -> None:
    caplog.set_level(logging.INFO)
    connection_logger.setLevel(logging.INFO)
    events: Events = []
    with Trace("connect_tcp", connection_logger, traced_request(events), {"host": "a"}):
        pass
    assert caplog.records == []
    assert len(events) == 2

