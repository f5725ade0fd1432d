"""The exception hierarchy and ``map_exceptions`` (API.md §10)."""

from __future__ import annotations

import socket
from typing import Type

import pytest

from httpcore._core import _exceptions
from httpcore._core._exceptions import (
    ConnectError,
    ConnectionNotAvailable,
    ConnectTimeout,
    LocalProtocolError,
    NetworkError,
    PoolTimeout,
    ProtocolError,
    ProxyError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TimeoutException,
    UnsupportedProtocol,
    WriteError,
    WriteTimeout,
    map_exceptions,
)

HIERARCHY = {
    ConnectionNotAvailable: Exception,
    ProxyError: Exception,
    UnsupportedProtocol: Exception,
    ProtocolError: Exception,
    RemoteProtocolError: ProtocolError,
    LocalProtocolError: ProtocolError,
    TimeoutException: Exception,
    PoolTimeout: TimeoutException,
    ConnectTimeout: TimeoutException,
    ReadTimeout: TimeoutException,
    WriteTimeout: TimeoutException,
    NetworkError: Exception,
    ConnectError: NetworkError,
    ReadError: NetworkError,
    WriteError: NetworkError,
}


def test_there_are_fifteen_exceptions() -> None:
    defined = {
        value
        for value in vars(_exceptions).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    }
    assert defined == set(HIERARCHY)


@pytest.mark.parametrize(("exception", "base"), list(HIERARCHY.items()))
def test_direct_base(exception: Type[Exception], base: Type[Exception]) -> None:
    assert exception.__bases__ == (base,)


@pytest.mark.parametrize("exception", list(HIERARCHY))
def test_not_os_or_timeout_error(exception: Type[Exception]) -> None:
    assert not issubclass(exception, OSError)
    assert not issubclass(exception, TimeoutError)


def test_timeouts_are_not_network_errors() -> None:
    assert not issubclass(TimeoutException, NetworkError)
    assert not issubclass(NetworkError, TimeoutException)
    for timeout in (PoolTimeout, ConnectTimeout, ReadTimeout, WriteTimeout):
        assert not issubclass(timeout, NetworkError)


@pytest.mark.parametrize("exception", list(HIERARCHY))
def test_plain_exception_behaviour(exception: Type[Exception]) -> None:
    error = exception("message")
    assert error.args == ("message",)
    assert str(error) == "message"
    assert vars(error) == {}


@pytest.mark.parametrize("exception", list(HIERARCHY))
def test_no_arguments(exception: Type[Exception]) -> None:
    assert str(exception()) == ""


def test_map_exceptions_maps_and_chains() -> None:
    original = socket.timeout("timed out")
    with pytest.raises(ConnectTimeout) as info:
        with map_exceptions({socket.timeout: ConnectTimeout, OSError: ConnectError}):
            raise original
    assert info.value.args == (original,)
    assert info.value.__cause__ is original
    assert str(info.value) == str(original) == "timed out"


def test_map_exceptions_matches_subclasses() -> None:
    with pytest.raises(ConnectError) as info:
        with map_exceptions({OSError: ConnectError}):
            raise ConnectionRefusedError(111, "Connection refused")
    assert str(info.value) == "[Errno 111] Connection refused"
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


def test_map_exceptions_first_match_wins() -> None:
    with pytest.raises(ReadError):
        with map_exceptions({OSError: ReadError, TimeoutError: ReadTimeout}):
            raise TimeoutError("slow")


def test_map_exceptions_passes_unmapped_exceptions() -> None:
    original = ValueError("other")
    with pytest.raises(ValueError) as info:
        with map_exceptions({OSError: ReadError}):
            raise original
    assert info.value is original


def test_map_exceptions_leaves_base_exceptions() -> None:
    with pytest.raises(KeyboardInterrupt):
        with map_exceptions({BaseException: ReadError}):
            raise KeyboardInterrupt()


def test_map_exceptions_without_error() -> None:
    with map_exceptions({OSError: WriteError}):
        result = 1
    assert result == 1


def test_map_exceptions_empty_mapping() -> None:
    with pytest.raises(OSError):
        with map_exceptions({}):
            raise OSError("x")
