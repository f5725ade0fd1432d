"""The ``request()`` / ``stream()`` helpers of ``AsyncRequestInterface`` (API.md §3)."""

from __future__ import annotations

from typing import Any, AsyncGenerator, AsyncIterator, List, Optional

import pytest

from httpcore._core._async.request_interface import AsyncRequestInterface
from httpcore._core._models import URL, Request, Response


class RecordingStream:
    """An async response body that records whether it was closed, and can fail."""

    def __init__(self, chunks: List[bytes], fail: bool = False) -> None:
        self.chunks = chunks
        self.fail = fail
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.fail:
            raise OSError("broken body")

    async def aclose(self) -> None:
        self.closed = True


class Recorder(AsyncRequestInterface):
    """Answers every request with a fixed body and remembers the request."""

    def __init__(self, chunks: Optional[List[bytes]] = None, fail: bool = False) -> None:
        self.body = RecordingStream([b"Hello, ", b"world!"] if chunks is None else chunks, fail)
        self.requests: List[Request] = []

    async def handle_async_request(self, request: Request) -> Response:
        self.requests.append(request)
        return Response(200, headers=[(b"Content-Type", b"text/plain")], content=self.body)


async def body_chunks() -> AsyncGenerator[bytes, None]:
    yield b"abc"


@pytest.mark.anyio
async def test_request_returns_read_response() -> None:
    response = await Recorder().request("GET", "https://example.com/")
    assert response.status == 200
    assert response.content == b"Hello, world!"


@pytest.mark.anyio
async def test_request_closes_response() -> None:
    interface = Recorder()
    await interface.request("GET", "https://example.com/")
    assert interface.body.closed


@pytest.mark.anyio
async def test_request_closes_response_when_reading_fails() -> None:
    interface = Recorder(fail=True)
    with pytest.raises(OSError, match="broken body"):
        await interface.request("GET", "https://example.com/")
    assert interface.body.closed


@pytest.mark.anyio
async def test_request_builds_request() -> None:
    interface = Recorder()
    await interface.request("GET", "https://example.com/path?q=1")
    (request,) = interface.requests
    assert request.method == b"GET"
    assert request.url == URL("https://example.com/path?q=1")
    assert request.headers == [(b"Host", b"example.com")]
    assert repr(request.stream) == "<ByteStream [0 bytes]>"


@pytest.mark.anyio
async def test_request_host_with_port_and_content_length() -> None:
    interface = Recorder()
    await interface.request("POST", "http://a.com:8080/", content=b"abc")
    (request,) = interface.requests
    assert request.headers == [(b"Host", b"a.com:8080"), (b"Content-Length", b"3")]
    assert repr(request.stream) == "<ByteStream [3 bytes]>"


@pytest.mark.anyio
async def test_request_iterator_content_is_chunked() -> None:
    interface = Recorder()
    content = body_chunks()
    await interface.request("POST", "http://a.com:80/", headers=[("host", "x")], content=content)
    (request,) = interface.requests
    assert request.headers == [(b"host", b"x"), (b"Transfer-Encoding", b"chunked")]
    assert request.stream is content
    await content.aclose()


@pytest.mark.anyio
async def test_request_post_without_content_has_no_body_header() -> None:
    interface = Recorder()
    await interface.request("POST", "http://a.com/")
    assert interface.requests[0].headers == [(b"Host", b"a.com")]


@pytest.mark.anyio
async def test_request_keeps_url_object() -> None:
    interface = Recorder()
    url = URL("http://a.com/")
    await interface.request(b"GET", url)
    assert interface.requests[0].url is url


@pytest.mark.anyio
async def test_request_passes_extensions_by_identity() -> None:
    interface = Recorder()
    extensions: dict[str, Any] = {"timeout": {"pool": 1.0}}
    await interface.request("GET", "http://a.com/", extensions=extensions)
    assert interface.requests[0].extensions is extensions


@pytest.mark.anyio
async def test_request_target_extension() -> None:
    interface = Recorder()
    await interface.request("OPTIONS", "http://a.com/", extensions={"target": b"*"})
    assert interface.requests[0].url.target == b"*"


@pytest.mark.anyio
async def test_request_method_wrong_type() -> None:
    interface = Recorder()
    with pytest.raises(TypeError) as info:
        await interface.request(123, "http://a.com/")  # type: ignore[arg-type]
    assert str(info.value) == "method must be bytes or str, but got int."
    assert interface.requests == []


@pytest.mark.anyio
async def test_request_url_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        await Recorder().request("GET", 123)  # type: ignore[arg-type]
    assert str(info.value) == "url must be a URL, bytes, or str, but got int."


@pytest.mark.anyio
async def test_request_url_non_ascii() -> None:
    with pytest.raises(TypeError) as info:
        await Recorder().request("GET", "http://\u00e9.com/")
    assert str(info.value) == "url strings may not include unicode characters."


@pytest.mark.anyio
async def test_request_url_invalid_port() -> None:
    with pytest.raises(ValueError):
        await Recorder().request("GET", "http://a.com:xyz/")


@pytest.mark.anyio
async def test_request_headers_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        await Recorder().request("GET", "http://a.com/", headers=1)  # type: ignore[arg-type]
    assert str(info.value) == "headers must be a mapping or sequence of two-tuples, but got int."


@pytest.mark.anyio
async def test_stream_yields_unread_response() -> None:
    interface = Recorder()
    async with interface.stream("GET", "https://example.com/") as response:
        assert response.status == 200
        with pytest.raises(RuntimeError):
            response.content
        assert not interface.body.closed
    assert interface.body.closed


@pytest.mark.anyio
async def test_stream_allows_reading_in_block() -> None:
    async with Recorder().stream("GET", "https://example.com/") as response:
        assert await response.aread() == b"Hello, world!"


@pytest.mark.anyio
async def test_stream_allows_iterating_in_block() -> None:
    async with Recorder().stream("GET", "https://example.com/") as response:
        chunks = [chunk async for chunk in response.aiter_stream()]
    assert chunks == [b"Hello, ", b"world!"]


@pytest.mark.anyio
async def test_stream_closes_response_on_error() -> None:
    interface = Recorder()
    with pytest.raises(ZeroDivisionError):
        async with interface.stream("GET", "https://example.com/"):
            raise ZeroDivisionError()
    assert interface.body.closed


@pytest.mark.anyio
async def test_stream_builds_request_with_defaults() -> None:
    interface = Recorder()
    async with interface.stream("PUT", "https://a.com:8443/x", content=b"12"):
        pass
    (request,) = interface.requests
    assert request.method == b"PUT"
    assert request.headers == [(b"Host", b"a.com:8443"), (b"Content-Length", b"2")]


@pytest.mark.anyio
async def test_stream_argument_errors_raise_on_enter() -> None:
    interface = Recorder()
    with pytest.raises(TypeError) as info:
        async with interface.stream(1, "http://a.com/"):  # type: ignore[arg-type]
            pass  # pragma: no cover
    assert str(info.value) == "method must be bytes or str, but got int."


@pytest.mark.anyio
async def test_handle_async_request_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        await AsyncRequestInterface().handle_async_request(Request("GET", "http://a.com/"))
