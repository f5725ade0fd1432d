"""The stale keep-alive retry policy (``httpcore._core._stale``): which requests the pool may
send again after a reused connection failed before any response byte."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Tuple

import pytest

from httpcore._core._bytestreams import ByteStream
from httpcore._core._exceptions import ReadError, RemoteProtocolError
from httpcore._core._stale import (
    is_stale_connection_error,
    mark_stale_connection_error,
    may_retry_on_stale_connection,
)

NO_HEADERS: List[Tuple[bytes, bytes]] = []


def chunks() -> Iterator[bytes]:
    yield b"data"


def may_retry(
    method: bytes,
    headers: List[Tuple[bytes, bytes]] = NO_HEADERS,
    stream: Any = None,
    extensions: Dict[str, Any] | None = None,
) -> bool:
    stream = ByteStream(b"") if stream is None else stream
    return may_retry_on_stale_connection(method, headers, stream, extensions or {})


def test_marking_keeps_the_error_as_it_is() -> None:
    error = RemoteProtocolError("Server disconnected without sending a response.")
    assert not is_stale_connection_error(error)
    mark_stale_connection_error(error)
    assert is_stale_connection_error(error)
    assert type(error) is RemoteProtocolError
    assert str(error) == "Server disconnected without sending a response."
    assert not is_stale_connection_error(ReadError("other"))


@pytest.mark.parametrize("method", [b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"])
def test_idempotent_methods_may_be_retried(method: bytes) -> None:
    assert may_retry(method)


@pytest.mark.parametrize("method", [b"POST", b"PATCH", b"CONNECT", b"get"])
def test_other_methods_may_not(method: bytes) -> None:
    assert not may_retry(method)


def test_the_extension_overrides_the_method() -> None:
    assert may_retry(b"POST", extensions={"retry_on_stale_connection": True})
    assert not may_retry(b"GET", extensions={"retry_on_stale_connection": False})


def test_a_body_in_memory_may_be_sent_again() -> None:
    assert may_retry(b"PUT", [(b"Content-Length", b"4")], ByteStream(b"data"))


def test_a_streamed_body_may_not_unless_the_head_says_there_is_none() -> None:
    assert not may_retry(b"PUT", [(b"Content-Length", b"4")], chunks())
    assert not may_retry(b"PUT", [(b"Transfer-Encoding", b"chunked")], chunks())
    assert may_retry(b"GET", [(b"content-length", b" 0 ")], chunks())
    assert may_retry(b"GET", [(b"Accept", b"*/*")], chunks())
    extensions = {"retry_on_stale_connection": True}
    assert not may_retry(b"POST", [(b"Content-Length", b"4")], chunks(), extensions)
