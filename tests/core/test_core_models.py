"""URL, Origin, Request, Response, ByteStream and Proxy (API.md §2.3-§2.8)."""

from __future__ import annotations

import ssl
from typing import Any, AsyncIterator, Iterator, List

import pytest

from httpcore._core import _models
from httpcore._core._models import (
    URL,
    ByteStream,
    Origin,
    Proxy,
    Request,
    Response,
    enforce_stream,
    enforce_url,
)
from httpcore._core._urls import require_origin

# URL: string form.


def test_url_from_string() -> None:
    url = URL("https://www.example.com/")
    assert url.scheme == b"https"
    assert url.host == b"www.example.com"
    assert url.port is None
    assert url.target == b"/"


def test_url_from_bytes() -> None:
    assert URL(b"http://example.com/path") == URL("http://example.com/path")


def test_url_string_equals_components() -> None:
    assert URL("https://www.example.com/") == URL(
        scheme="https", host="www.example.com", port=None, target="/"
    )


def test_url_keeps_explicit_default_port() -> None:
    assert URL("https://www.example.com:443/").port == 443


def test_url_port_is_int() -> None:
    port = URL("http://example.com:8080/").port
    assert port == 8080
    assert type(port) is int


def test_url_lowercases_scheme_and_host() -> None:
    url = URL("HTTP://WWW.Example.COM/Path")
    assert url.scheme == b"http"
    assert url.host == b"www.example.com"
    assert url.target == b"/Path"


def test_url_empty_path_becomes_slash() -> None:
    assert URL("http://example.com").target == b"/"


def test_url_query_is_appended() -> None:
    assert URL("http://example.com/a?b=1&c=2").target == b"/a?b=1&c=2"


def test_url_query_without_path() -> None:
    assert URL("http://example.com?x=1").target == b"/?x=1"


def test_url_empty_query_is_dropped() -> None:
    assert URL("http://example.com/a?").target == b"/a"


def test_url_fragment_is_dropped() -> None:
    assert URL("http://example.com/a?b#frag").target == b"/a?b"


def test_url_params_are_dropped() -> None:
    assert URL("http://a/b;c?d").target == b"/b?d"


def test_url_userinfo_is_dropped() -> None:
    url = URL("http://user:pass@example.com:81/")
    assert url.host == b"example.com"
    assert url.port == 81


def test_url_ipv6_brackets_are_removed() -> None:
    url = URL("http://[::1]:8080/")
    assert url.host == b"::1"
    assert url.port == 8080


def test_url_without_scheme() -> None:
    url = URL("example.com/path")
    assert url.scheme == b""
    assert url.host == b""
    assert url.target == b"example.com/path"


def test_url_empty_port_is_none() -> None:
    assert URL("http://example.com:/").port is None


def test_url_keywords_ignored_with_string() -> None:
    url = URL("http://a.com/", scheme="https", host="b.com", port=1, target="/x")
    assert url == URL("http://a.com/")


@pytest.mark.parametrize(
    "value",
    [
        "http://example.com:abc/",
        "http://example.com:99999/",
        "http://example.com:-1/",
        "http://[::1/",
    ],
)
def test_url_malformed_string_is_value_error(value: str) -> None:
    with pytest.raises(ValueError):
        URL(value)


def test_url_non_ascii_bytes_string_is_value_error() -> None:
    with pytest.raises(ValueError):
        URL(b"http://caf\xc3\xa9.com/")


def test_url_non_ascii_str() -> None:
    with pytest.raises(TypeError) as info:
        URL("http://caf\u00e9.com/")
    assert str(info.value) == "url strings may not include unicode characters."


def test_url_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        URL(123)  # type: ignore[arg-type]
    assert str(info.value) == "url must be bytes or str, but got int."


def test_url_bytearray_rejected() -> None:
    with pytest.raises(TypeError) as info:
        URL(bytearray(b"http://a.com/"))  # type: ignore[arg-type]
    assert str(info.value) == "url must be bytes or str, but got bytearray."


# URL: component form.


def test_url_components_default_to_empty() -> None:
    url = URL()
    assert (url.scheme, url.host, url.port, url.target) == (b"", b"", None, b"")


def test_url_empty_string_uses_components() -> None:
    url = URL("", scheme="http", host="a.com", port=81, target="/x")
    assert (url.scheme, url.host, url.port, url.target) == (b"http", b"a.com", 81, b"/x")


def test_url_components_allow_asterisk_target() -> None:
    assert URL(scheme="http", host="a.com", target=b"*").target == b"*"


def test_url_components_allow_absolute_form_target() -> None:
    url = URL(scheme=b"http", host=b"proxy", port=8080, target=b"https://www.example.com/")
    assert url.target == b"https://www.example.com/"


def test_url_components_allow_non_ascii_bytes() -> None:
    assert URL(scheme="http", host=b"caf\xc3\xa9", target=b"/\xff").host == b"caf\xc3\xa9"


def test_url_components_keep_case() -> None:
    url = URL(scheme="HTTP", host="Example.COM", target="/")
    assert (url.scheme, url.host) == (b"HTTP", b"Example.COM")


def test_url_components_port_not_checked() -> None:
    port: Any = "80"
    assert URL(scheme="http", host="a", port=port).port is port


@pytest.mark.parametrize("label", ["scheme", "host", "target"])
def test_url_component_wrong_type(label: str) -> None:
    arguments: Any = {label: 1}
    with pytest.raises(TypeError) as info:
        URL(**arguments)
    assert str(info.value) == f"{label} must be bytes or str, but got int."


@pytest.mark.parametrize("label", ["scheme", "host", "target"])
def test_url_component_non_ascii_str(label: str) -> None:
    arguments: Any = {label: "\u00e9"}
    with pytest.raises(TypeError) as info:
        URL(**arguments)
    assert str(info.value) == f"{label} strings may not include unicode characters."


# URL: equality, bytes, repr.


def test_url_not_equal_when_any_part_differs() -> None:
    base = dict(scheme="http", host="a.com", port=80, target="/")
    url = URL(**base)  # type: ignore[arg-type]
    for key, value in [("scheme", "https"), ("host", "b.com"), ("port", 81), ("target", "/x")]:
        assert url != URL(**dict(base, **{key: value}))  # type: ignore[arg-type]


def test_url_not_equal_to_bytes_or_str() -> None:
    url = URL("http://a.com/")
    assert url != b"http://a.com/"
    assert url != "http://a.com/"


def test_url_is_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(URL("http://a.com/"))


def test_url_bytes_without_port() -> None:
    assert bytes(URL("https://www.example.com/path?q")) == b"https://www.example.com/path?q"


def test_url_bytes_with_port() -> None:
    assert bytes(URL("http://example.com:8080/")) == b"http://example.com:8080/"


def test_url_bytes_ipv6_without_brackets() -> None:
    assert bytes(URL("http://[::1]:80/")) == b"http://::1:80/"


def test_url_repr() -> None:
    assert repr(URL("https://www.example.com/")) == (
        "URL(scheme=b'https', host=b'www.example.com', port=None, target=b'/')"
    )


def test_url_repr_with_port() -> None:
    assert repr(URL("http://a:1/")) == "URL(scheme=b'http', host=b'a', port=1, target=b'/')"


def test_url_str_is_repr() -> None:
    url = URL("http://a.com/")
    assert str(url) == repr(url)


# URL.origin.


@pytest.mark.parametrize(
    ("scheme", "port"),
    [
        ("http", 80),
        ("https", 443),
        ("ws", 80),
        ("wss", 443),
        ("socks5", 1080),
        ("socks5h", 1080),
    ],
)
def test_url_origin_default_ports(scheme: str, port: int) -> None:
    assert URL(f"{scheme}://example.com/").origin == Origin(scheme.encode(), b"example.com", port)


def test_url_origin_explicit_port() -> None:
    assert URL("https://example.com:8443/").origin == Origin(b"https", b"example.com", 8443)


def test_url_origin_port_zero_uses_default() -> None:
    url = URL(scheme="http", host="a.com", port=0, target="/")
    assert url.origin == Origin(b"http", b"a.com", 80)


@pytest.mark.parametrize("value", ["ftp://example.com/", "example.com/", "gopher://a:70/"])
def test_url_origin_unknown_scheme_is_key_error(value: str) -> None:
    with pytest.raises(KeyError):
        URL(value).origin


def test_url_origin_is_new_each_time() -> None:
    url = URL("http://a.com/")
    assert url.origin is not url.origin


def test_socks_origin_str() -> None:
    assert str(URL("socks5://127.0.0.1").origin) == "socks5://127.0.0.1:1080"


# Origin.


def test_origin_attributes() -> None:
    origin = Origin(b"https", b"example.com", 443)
    assert (origin.scheme, origin.host, origin.port) == (b"https", b"example.com", 443)


def test_origin_str() -> None:
    assert str(Origin(b"https", b"example.com", 443)) == "https://example.com:443"


def test_origin_equality() -> None:
    assert Origin(b"http", b"a", 80) == Origin(b"http", b"a", 80)
    assert Origin(b"http", b"a", 80) != Origin(b"https", b"a", 80)
    assert Origin(b"http", b"a", 80) != Origin(b"http", b"b", 80)
    assert Origin(b"http", b"a", 80) != Origin(b"http", b"a", 81)


def test_origin_not_equal_to_other_types() -> None:
    assert Origin(b"http", b"a", 80) != "http://a:80"
    assert Origin(b"http", b"a", 80) != URL("http://a:80/")


def test_origin_is_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Origin(b"http", b"a", 80))


def test_origin_has_default_repr() -> None:
    origin = Origin(b"http", b"a", 80)
    assert repr(origin) == object.__repr__(origin)


def test_origin_does_not_coerce() -> None:
    scheme: Any = "http"
    port: Any = "80"
    origin = Origin(scheme, b"a", port)
    assert origin.scheme is scheme
    assert origin.port is port


# enforce_url / enforce_stream.


def test_enforce_url_keeps_url_object() -> None:
    url = URL("http://a.com/")
    assert enforce_url(url, "url") is url


def test_enforce_url_parses_str_and_bytes() -> None:
    assert enforce_url("http://a.com/", "url") == URL("http://a.com/")
    assert enforce_url(b"http://a.com/", "url") == URL("http://a.com/")


def test_enforce_url_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        enforce_url(1, "url")  # type: ignore[arg-type]
    assert str(info.value) == "url must be a URL, bytes, or str, but got int."


def test_enforce_stream_wraps_none_and_bytes() -> None:
    assert repr(enforce_stream(None)) == "<ByteStream [0 bytes]>"
    assert repr(enforce_stream(b"abc")) == "<ByteStream [3 bytes]>"


def test_enforce_stream_passes_other_objects() -> None:
    content = [b"a", b"b"]
    assert enforce_stream(content) is content


# Request.


def test_request_attributes() -> None:
    request = Request("GET", "https://www.example.com/")
    assert request.method == b"GET"
    assert request.url == URL("https://www.example.com/")
    assert request.headers == []
    assert request.extensions == {}


def test_request_adds_no_headers() -> None:
    assert Request("POST", "https://www.example.com/", content=b"abc").headers == []


def test_request_method_not_normalised() -> None:
    assert Request(b"get", "http://a/").method == b"get"


def test_request_method_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        Request(123, "https://www.example.com/")  # type: ignore[arg-type]
    assert str(info.value) == "method must be bytes or str, but got int."


def test_request_method_non_ascii() -> None:
    with pytest.raises(TypeError) as info:
        Request("G\u00c9T", "https://www.example.com/")
    assert str(info.value) == "method strings may not include unicode characters."


def test_request_keeps_url_object() -> None:
    url = URL("http://a.com/")
    assert Request("GET", url).url is url


def test_request_url_bytes() -> None:
    assert Request("GET", b"http://a.com/").url == URL("http://a.com/")


def test_request_url_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        Request("GET", 123)  # type: ignore[arg-type]
    assert str(info.value) == "url must be a URL, bytes, or str, but got int."


def test_request_url_non_ascii() -> None:
    with pytest.raises(TypeError) as info:
        Request("GET", "https://www.example.com/\u00e9")
    assert str(info.value) == "url strings may not include unicode characters."


def test_request_url_invalid_port() -> None:
    with pytest.raises(ValueError):
        Request("GET", "http://example.com:port/")


def test_request_headers_coerced() -> None:
    request = Request("GET", "http://a/", headers={"Accept": "*/*"})
    assert request.headers == [(b"Accept", b"*/*")]


def test_request_headers_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        Request("GET", "https://www.example.com/", headers=123)  # type: ignore[arg-type]
    assert str(info.value) == "headers must be a mapping or sequence of two-tuples, but got int."


def test_request_empty_stream() -> None:
    request = Request("GET", "http://a/")
    assert isinstance(request.stream, ByteStream)
    assert repr(request.stream) == "<ByteStream [0 bytes]>"


def test_request_bytes_stream() -> None:
    request = Request("POST", "http://a/", content=b"hello")
    assert repr(request.stream) == "<ByteStream [5 bytes]>"
    assert list(request.stream) == [b"hello"]  # type: ignore[arg-type]


def test_request_other_content_stored_unchanged() -> None:
    content = iter([b"a"])
    assert Request("POST", "http://a/", content=content).stream is content


def test_request_extensions_stored_by_identity() -> None:
    extensions: dict[str, Any] = {"timeout": {"read": 1.0}}
    assert Request("GET", "http://a/", extensions=extensions).extensions is extensions


def test_request_extensions_default_is_fresh() -> None:
    first = Request("GET", "http://a/")
    second = Request("GET", "http://a/")
    assert first.extensions == {}
    assert first.extensions is not second.extensions


def test_request_target_extension_replaces_target() -> None:
    url = URL("https://www.example.com:8443/path")
    request = Request("GET", url, extensions={"target": b"/unescaped|path"})
    assert request.url == URL(
        scheme="https", host="www.example.com", port=8443, target=b"/unescaped|path"
    )
    assert request.url is not url
    assert url.target == b"/path"


def test_request_target_extension_str() -> None:
    assert Request("OPTIONS", "http://a/", extensions={"target": "*"}).url.target == b"*"


def test_request_target_extension_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        Request("GET", "http://a/", extensions={"target": 1})
    assert str(info.value) == "target must be bytes or str, but got int."


def test_request_has_no_content_attribute() -> None:
    assert not hasattr(Request("GET", "http://a/", content=b"x"), "content")


def test_request_repr() -> None:
    assert repr(Request("GET", "https://www.example.com/")) == "<Request [b'GET']>"


# Response: construction.


def test_response_defaults() -> None:
    response = Response(200)
    assert response.status == 200
    assert response.headers == []
    assert response.extensions == {}
    assert repr(response.stream) == "<ByteStream [0 bytes]>"


def test_response_repr() -> None:
    assert repr(Response(200)) == "<Response [200]>"
    assert repr(Response(404)) == "<Response [404]>"


def test_response_status_not_validated() -> None:
    status: Any = "nope"
    assert Response(status).status is status


def test_response_headers_coerced() -> None:
    assert Response(200, headers=[("A", "1")]).headers == [(b"A", b"1")]


def test_response_headers_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        Response(200, headers=1.5)  # type: ignore[arg-type]
    assert str(info.value) == (
        "headers must be a mapping or sequence of two-tuples, but got float."
    )


def test_response_extensions_stored_by_identity() -> None:
    extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
    assert Response(200, extensions=extensions).extensions is extensions


def test_response_is_not_a_context_manager() -> None:
    response = Response(200)
    for name in ("__enter__", "__exit__", "__aenter__", "__aexit__"):
        assert not hasattr(response, name)


# Response: sync reading.


class SyncStream:
    """A sync body stream that records being closed."""

    def __init__(self, chunks: List[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed = True


class AsyncStream:
    """An async body stream that records being closed."""

    def __init__(self, chunks: List[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def test_response_content_before_read_raises_even_for_bytes() -> None:
    response = Response(200, content=b"Hello")
    with pytest.raises(RuntimeError, match=r"response\.read\(\)"):
        response.content


def test_response_content_before_aread_names_aread() -> None:
    response = Response(200, content=AsyncStream([b"x"]))
    with pytest.raises(RuntimeError, match=r"response\.aread\(\)"):
        response.content


def test_response_read() -> None:
    response = Response(200, content=b"Hello, world!")
    assert response.read() == b"Hello, world!"
    assert response.content == b"Hello, world!"


def test_response_read_joins_chunks() -> None:
    response = Response(200, content=SyncStream([b"a", b"b", b"c"]))
    assert response.read() == b"abc"


def test_response_read_twice_uses_cache() -> None:
    stream = SyncStream([b"a"])
    response = Response(200, content=stream)
    assert response.read() == b"a"
    stream.chunks = [b"changed"]
    assert response.read() == b"a"


def test_response_read_empty() -> None:
    response = Response(204)
    assert response.read() == b""
    assert response.content == b""


def test_response_read_async_stream_raises() -> None:
    response = Response(200, content=AsyncStream([b"x"]))
    with pytest.raises(RuntimeError, match=r"await response\.aread\(\)"):
        response.read()


def test_response_iter_stream() -> None:
    response = Response(200, content=SyncStream([b"a", b"b"]))
    assert list(response.iter_stream()) == [b"a", b"b"]


def test_response_iter_stream_bytes_is_one_chunk() -> None:
    assert list(Response(200, content=b"ab").iter_stream()) == [b"ab"]


def test_response_iter_stream_twice_raises() -> None:
    response = Response(200, content=b"ab")
    list(response.iter_stream())
    with pytest.raises(RuntimeError, match="consumed"):
        list(response.iter_stream())


def test_response_iter_stream_after_read_raises() -> None:
    response = Response(200, content=b"ab")
    response.read()
    with pytest.raises(RuntimeError, match="consumed"):
        list(response.iter_stream())


def test_response_read_after_iter_stream_raises() -> None:
    response = Response(200, content=b"ab")
    list(response.iter_stream())
    with pytest.raises(RuntimeError, match="consumed"):
        response.read()


def test_response_content_after_iter_stream_still_raises() -> None:
    response = Response(200, content=b"ab")
    list(response.iter_stream())
    with pytest.raises(RuntimeError):
        response.content


def test_response_iter_stream_async_stream_raises() -> None:
    response = Response(200, content=AsyncStream([b"x"]))
    with pytest.raises(RuntimeError, match="aiter_stream"):
        list(response.iter_stream())


def test_response_close_calls_stream_close() -> None:
    stream = SyncStream([b"a"])
    Response(200, content=stream).close()
    assert stream.closed


def test_response_close_without_stream_close() -> None:
    Response(200, content=[b"a"]).close()


def test_response_close_async_stream_raises() -> None:
    response = Response(200, content=AsyncStream([b"x"]))
    with pytest.raises(RuntimeError, match=r"await response\.aclose\(\)"):
        response.close()


# Response: async reading.


@pytest.mark.anyio
async def test_response_aread() -> None:
    response = Response(200, content=AsyncStream([b"a", b"b"]))
    assert await response.aread() == b"ab"
    assert response.content == b"ab"


@pytest.mark.anyio
async def test_response_aread_bytes() -> None:
    response = Response(200, content=b"Hello")
    assert await response.aread() == b"Hello"


@pytest.mark.anyio
async def test_response_aread_twice_uses_cache() -> None:
    stream = AsyncStream([b"a"])
    response = Response(200, content=stream)
    assert await response.aread() == b"a"
    stream.chunks = [b"changed"]
    assert await response.aread() == b"a"


@pytest.mark.anyio
async def test_response_aread_sync_stream_raises() -> None:
    response = Response(200, content=SyncStream([b"x"]))
    with pytest.raises(RuntimeError, match=r"response\.read\(\)"):
        await response.aread()


@pytest.mark.anyio
async def test_response_aiter_stream() -> None:
    response = Response(200, content=AsyncStream([b"a", b"b"]))
    assert [chunk async for chunk in response.aiter_stream()] == [b"a", b"b"]


@pytest.mark.anyio
async def test_response_aiter_stream_twice_raises() -> None:
    response = Response(200, content=b"ab")
    assert [chunk async for chunk in response.aiter_stream()] == [b"ab"]
    with pytest.raises(RuntimeError, match="consumed"):
        [chunk async for chunk in response.aiter_stream()]


@pytest.mark.anyio
async def test_response_aiter_stream_after_aread_raises() -> None:
    response = Response(200, content=b"ab")
    await response.aread()
    with pytest.raises(RuntimeError, match="consumed"):
        [chunk async for chunk in response.aiter_stream()]


@pytest.mark.anyio
async def test_response_aread_after_aiter_stream_raises() -> None:
    response = Response(200, content=b"ab")
    [chunk async for chunk in response.aiter_stream()]
    with pytest.raises(RuntimeError, match="consumed"):
        await response.aread()


@pytest.mark.anyio
async def test_response_aiter_stream_sync_stream_raises() -> None:
    response = Response(200, content=SyncStream([b"x"]))
    with pytest.raises(RuntimeError, match="iter_stream"):
        [chunk async for chunk in response.aiter_stream()]


@pytest.mark.anyio
async def test_response_aclose_calls_stream_aclose() -> None:
    stream = AsyncStream([b"a"])
    await Response(200, content=stream).aclose()
    assert stream.closed


@pytest.mark.anyio
async def test_response_aclose_bytes_stream() -> None:
    await Response(200, content=b"a").aclose()


@pytest.mark.anyio
async def test_response_aclose_sync_stream_raises() -> None:
    response = Response(200, content=SyncStream([b"x"]))
    with pytest.raises(RuntimeError, match=r"response\.close\(\)"):
        await response.aclose()


@pytest.mark.anyio
async def test_response_read_then_aread_share_cache() -> None:
    response = Response(200, content=b"abc")
    assert response.read() == b"abc"
    assert await response.aread() == b"abc"


# ByteStream.


def test_byte_stream_sync_yields_one_chunk() -> None:
    assert list(ByteStream(b"abc")) == [b"abc"]


def test_byte_stream_empty_yields_one_empty_chunk() -> None:
    assert list(ByteStream(b"")) == [b""]


def test_byte_stream_can_be_iterated_again() -> None:
    stream = ByteStream(b"abc")
    list(stream)
    assert list(stream) == [b"abc"]


@pytest.mark.anyio
async def test_byte_stream_async_yields_one_chunk() -> None:
    assert [chunk async for chunk in ByteStream(b"abc")] == [b"abc"]


@pytest.mark.anyio
async def test_byte_stream_async_empty_yields_one_empty_chunk() -> None:
    assert [chunk async for chunk in ByteStream(b"")] == [b""]


def test_byte_stream_repr() -> None:
    assert repr(ByteStream(b"")) == "<ByteStream [0 bytes]>"
    assert repr(ByteStream(b"hello")) == "<ByteStream [5 bytes]>"


def test_byte_stream_has_no_close() -> None:
    stream = ByteStream(b"")
    assert not hasattr(stream, "close")
    assert not hasattr(stream, "aclose")


# Proxy.


def test_proxy_defaults() -> None:
    proxy = Proxy("http://localhost:8080/")
    assert proxy.url == URL("http://localhost:8080/")
    assert proxy.auth is None
    assert proxy.headers == []
    assert proxy.ssl_context is None


def test_proxy_keeps_url_object() -> None:
    url = URL("http://localhost:8080/")
    assert Proxy(url).url is url


def test_proxy_url_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        Proxy(8080)  # type: ignore[arg-type]
    assert str(info.value) == "url must be a URL, bytes, or str, but got int."


def test_proxy_auth_header() -> None:
    proxy = Proxy(url="http://localhost:8080/", auth=("username", "password"))
    assert proxy.auth == (b"username", b"password")
    assert proxy.headers == [(b"Proxy-Authorization", b"Basic dXNlcm5hbWU6cGFzc3dvcmQ=")]


def test_proxy_auth_header_is_prepended() -> None:
    proxy = Proxy("http://localhost:8080/", auth=(b"user", b"pass"), headers={"X-A": "1"})
    assert proxy.headers == [
        (b"Proxy-Authorization", b"Basic dXNlcjpwYXNz"),
        (b"X-A", b"1"),
    ]


def test_proxy_auth_for_socks_url() -> None:
    proxy = Proxy("socks5://localhost:1080/", auth=("u", "p"))
    assert proxy.headers[0][0] == b"Proxy-Authorization"


def test_proxy_auth_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        Proxy("http://localhost:8080/", auth=(1, "p"))  # type: ignore[arg-type]
    assert str(info.value) == "auth must be bytes or str, but got int."


def test_proxy_auth_non_ascii() -> None:
    with pytest.raises(TypeError) as info:
        Proxy("http://localhost:8080/", auth=("u", "p\u00e4ss"))
    assert str(info.value) == "auth strings may not include unicode characters."


def test_proxy_auth_wrong_length() -> None:
    with pytest.raises(ValueError):
        Proxy("http://localhost:8080/", auth=("u",))  # type: ignore[arg-type]


def test_proxy_auth_not_iterable() -> None:
    with pytest.raises(TypeError):
        Proxy("http://localhost:8080/", auth=1)  # type: ignore[arg-type]


def test_proxy_headers_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        Proxy("http://localhost:8080/", headers=1)  # type: ignore[arg-type]
    assert str(info.value) == "headers must be a mapping or sequence of two-tuples, but got int."


def test_proxy_ssl_context_stored() -> None:
    context = ssl.create_default_context()
    assert Proxy("https://localhost:8443/", ssl_context=context).ssl_context is context


# Module surface.


def test_models_exports() -> None:
    for name in [
        "URL",
        "Origin",
        "Request",
        "Response",
        "Proxy",
        "ByteStream",
        "ByteOrStr",
        "HeadersAsSequence",
        "HeadersAsMapping",
        "HeaderTypes",
        "Extensions",
        "enforce_bytes",
        "enforce_headers",
        "enforce_url",
        "enforce_stream",
    ]:
        assert hasattr(_models, name), name
        assert name in _models.__all__


# require_origin: every connection's check that a request is for it.


@pytest.mark.parametrize(
    "url",
    [
        URL("https://example.com:443/"),  # port given: settled without url.origin
        URL("https://example.com/"),  # default port: through url.origin
        URL("HTTPS://EXAMPLE.COM/path?q"),  # parsed lowercase
        URL(scheme=b"https", host=b"example.com", port=0, target=b"/"),  # zero: the default
    ],
)
def test_require_origin_accepts_the_same_origin(url: URL) -> None:
    require_origin(url, Origin(b"https", b"example.com", 443))


@pytest.mark.parametrize(
    "url, shown",
    [
        (URL("https://other.com:443/"), "https://other.com:443"),
        (URL("https://example.com:8443/"), "https://example.com:8443"),
        (URL("http://example.com:443/"), "http://example.com:443"),
        (URL("wss://example.com:443/"), "wss://example.com:443"),
        (URL(scheme=b"https", host=b"EXAMPLE.com", port=443, target=b"/"), "https://EXAMPLE.com:443"),
    ],
)
def test_require_origin_refuses_another_origin(url: URL, shown: str) -> None:
    with pytest.raises(RuntimeError) as info:
        require_origin(url, Origin(b"https", b"example.com", 443))
    assert str(info.value) == (
        f"Attempted to send request to {shown} on connection to https://example.com:443"
    )


def test_require_origin_without_a_default_port_is_key_error() -> None:
    # As url.origin: a scheme without a default port has no origin, port given or not.
    with pytest.raises(KeyError):
        require_origin(URL("ftp://example.com:21/"), Origin(b"ftp", b"example.com", 21))
