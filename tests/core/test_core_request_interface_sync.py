"""The ``request()`` / ``stream()`` helpers of the generated ``RequestInterface`` (API.md §3)."""

from __future__ import annotations

from typing import Any, Iterator, List, Optional

import pytest

from httpcore._core._models import URL, Request, Response
from httpcore._core._sync.request_interface import RequestInterface


class RecordingStream:
    """A sync response body that records whether it was closed, and can fail."""

    def __init__(self, chunks: List[bytes], fail: bool = False) -> None:
        self.chunks = chunks
        self.fail = fail
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.fail:
            raise OSError("broken body")

    def close(self) -> None:
        self.closed = True


class Recorder(RequestInterface):
    """Answers every request with a fixed body and remembers the request."""

    def __init__(self, chunks: Optional[List[bytes]] = None, fail: bool = False) -> None:
        self.body = RecordingStream([b"Hello, ", b"world!"] if chunks is None else chunks, fail)
        self.requests: List[Request] = []

    def handle_request(self, request: Request) -> Response:
        self.requests.append(request)
        return Response(200, content=self.body)


def test_sync_request_returns_read_and_closed_response() -> None:
    interface = Recorder()
    response = interface.request("GET", "https://example.com/")
    assert response.content == b"Hello, world!"
    assert interface.body.closed


def test_sync_request_closes_response_when_reading_fails() -> None:
    interface = Recorder(fail=True)
    with pytest.raises(OSError, match="broken body"):
        interface.request("GET", "https://example.com/")
    assert interface.body.closed


def test_sync_request_default_headers() -> None:
    interface = Recorder()
    interface.request("POST", "http://a.com:8080/", content=b"abc")
    interface.request("POST", "http://a.com:80/", headers=[("host", "x")], content=iter([b"abc"]))
    assert interface.requests[0].headers == [(b"Host", b"a.com:8080"), (b"Content-Length", b"3")]
    assert interface.requests[1].headers == [(b"host", b"x"), (b"Transfer-Encoding", b"chunked")]


def test_sync_request_keeps_url_and_extensions() -> None:
    interface = Recorder()
    url = URL("http://a.com/")
    extensions: dict[str, Any] = {}
    interface.request("GET", url, extensions=extensions)
    assert interface.requests[0].url is url
    assert interface.requests[0].extensions is extensions


def test_sync_request_method_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        Recorder().request(123, "http://a.com/")  # type: ignore[arg-type]
    assert str(info.value) == "method must be bytes or str, but got int."


def test_sync_request_url_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        Recorder().request("GET", 1.5)  # type: ignore[arg-type]
    assert str(info.value) == "url must be a URL, bytes, or str, but got float."


def test_sync_stream_yields_unread_response_and_closes_it() -> None:
    interface = Recorder()
    with interface.stream("GET", "https://example.com/") as response:
        with pytest.raises(RuntimeError):
            response.content
        assert not interface.body.closed
        assert response.read() == b"Hello, world!"
    assert interface.body.closed


def test_sync_stream_closes_response_on_error() -> None:
    interface = Recorder()
    with pytest.raises(ZeroDivisionError):
        with interface.stream("GET", "https://example.com/"):
            raise ZeroDivisionError()
    assert interface.body.closed


def test_sync_handle_request_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        RequestInterface().handle_request(Request("GET", "http://a.com/"))
