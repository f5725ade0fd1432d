"""ASCII coercion, header coercion and default request headers (API.md §2.1, §2.2, §3).

``httpcore._core._headers`` is a hot module: these tests run against its pure and its
compiled form.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterator, List, Mapping, Tuple, Union

import pytest

from httpcore._core._headers import (
    DEFAULT_HOST_HEADER_PORTS,
    build_request_headers,
    enforce_bytes,
    enforce_headers,
    host_header_value,
)
from httpcore._core._urls import URL

Text = Union[bytes, str]

# ASCII coercion.


def test_enforce_bytes_returns_bytes_unchanged() -> None:
    value = b"GET"
    assert enforce_bytes(value, "method") is value


def test_enforce_bytes_keeps_non_ascii_bytes() -> None:
    assert enforce_bytes(b"caf\xc3\xa9", "host") == b"caf\xc3\xa9"


def test_enforce_bytes_encodes_ascii_str() -> None:
    assert enforce_bytes("GET", "method") == b"GET"


def test_enforce_bytes_turns_bytes_subclass_into_bytes() -> None:
    class Name(bytes):
        pass

    result = enforce_bytes(Name(b"abc"), "header name")
    assert type(result) is bytes
    assert result == b"abc"


def test_enforce_bytes_encodes_str_subclass() -> None:
    class Text(str):
        pass

    assert enforce_bytes(Text("abc"), "url") == b"abc"


def test_enforce_bytes_rejects_non_ascii_str() -> None:
    with pytest.raises(TypeError) as info:
        enforce_bytes("caf\u00e9", "url")
    assert str(info.value) == "url strings may not include unicode characters."


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (123, "int"),
        (None, "NoneType"),
        (bytearray(b"GET"), "bytearray"),
        (memoryview(b"GET"), "memoryview"),
        (1.5, "float"),
    ],
)
def test_enforce_bytes_rejects_other_types(value: object, type_name: str) -> None:
    with pytest.raises(TypeError) as info:
        enforce_bytes(value, "method")  # type: ignore[arg-type]
    assert str(info.value) == f"method must be bytes or str, but got {type_name}."


@pytest.mark.parametrize(
    "label", ["url", "method", "scheme", "host", "target", "header name", "header value"]
)
def test_enforce_bytes_message_uses_label(label: str) -> None:
    with pytest.raises(TypeError) as info:
        enforce_bytes(1, label)  # type: ignore[arg-type]
    assert str(info.value) == f"{label} must be bytes or str, but got int."


# Header coercion.


def test_enforce_headers_none_gives_empty_list() -> None:
    assert enforce_headers(None, "headers") == []


def test_enforce_headers_returns_new_list() -> None:
    headers = [(b"a", b"1")]
    result = enforce_headers(headers, "headers")
    assert result == headers
    assert result is not headers


def test_enforce_headers_list_of_bytes_pairs() -> None:
    headers = [(b"Host", b"example.com"), (b"Accept", b"*/*")]
    assert enforce_headers(headers, "headers") == headers


def test_enforce_headers_keeps_order_case_and_duplicates() -> None:
    headers = [("X-A", "1"), ("x-a", "2"), ("Set-Cookie", "a"), ("Set-Cookie", "b")]
    assert enforce_headers(headers, "headers") == [
        (b"X-A", b"1"),
        (b"x-a", b"2"),
        (b"Set-Cookie", b"a"),
        (b"Set-Cookie", b"b"),
    ]


def test_enforce_headers_mixes_str_and_bytes() -> None:
    assert enforce_headers([("A", b"1"), (b"B", "2")], "headers") == [(b"A", b"1"), (b"B", b"2")]


def test_enforce_headers_mapping() -> None:
    assert enforce_headers({"Content-Type": "text/plain", b"X": b"y"}, "headers") == [
        (b"Content-Type", b"text/plain"),
        (b"X", b"y"),
    ]


def test_enforce_headers_mapping_subclass() -> None:
    headers: OrderedDict[Text, Text] = OrderedDict([("b", "2"), ("a", "1")])
    assert enforce_headers(headers, "headers") == [(b"b", b"2"), (b"a", b"1")]


def test_enforce_headers_custom_mapping() -> None:
    class Headers(Mapping[Text, Text]):
        def __getitem__(self, key: Text) -> Text:
            return {"k": "v"}[key]  # type: ignore[index]

        def __iter__(self) -> Iterator[Text]:
            return iter(["k"])

        def __len__(self) -> int:
            return 1

    assert enforce_headers(Headers(), "headers") == [(b"k", b"v")]


def test_enforce_headers_tuple_of_pairs() -> None:
    assert enforce_headers(((b"a", b"1"),), "headers") == [(b"a", b"1")]


def test_enforce_headers_list_pairs_become_tuples() -> None:
    result = enforce_headers([[b"a", b"1"]], "headers")  # type: ignore[list-item]
    assert result == [(b"a", b"1")]
    assert type(result[0]) is tuple


def test_enforce_headers_pairs_are_plain_tuples() -> None:
    class Pair(Tuple[bytes, bytes]):
        pass

    result = enforce_headers([Pair((b"a", b"1"))], "headers")
    assert type(result[0]) is tuple


def test_enforce_headers_list_subclass() -> None:
    class Headers(List[Tuple[str, str]]):
        pass

    assert enforce_headers(Headers([("a", "1")]), "headers") == [(b"a", b"1")]


def test_enforce_headers_rejects_int() -> None:
    with pytest.raises(TypeError) as info:
        enforce_headers(1, "headers")  # type: ignore[arg-type]
    assert str(info.value) == "headers must be a mapping or sequence of two-tuples, but got int."


def test_enforce_headers_message_uses_label() -> None:
    with pytest.raises(TypeError) as info:
        enforce_headers(object(), "proxy_headers")  # type: ignore[arg-type]
    assert str(info.value) == (
        "proxy_headers must be a mapping or sequence of two-tuples, but got object."
    )


def test_enforce_headers_rejects_set() -> None:
    with pytest.raises(TypeError, match="but got set"):
        enforce_headers({(b"a", b"1")}, "headers")  # type: ignore[arg-type]


def test_enforce_headers_rejects_generator() -> None:
    pairs = ((b"a", b"1") for _ in range(1))
    with pytest.raises(TypeError, match="but got generator"):
        enforce_headers(pairs, "headers")  # type: ignore[arg-type]


@pytest.mark.parametrize("item", [(b"a",), (b"a", b"1", b"2"), ()])
def test_enforce_headers_item_of_wrong_length_is_value_error(item: Tuple[bytes, ...]) -> None:
    with pytest.raises(ValueError):
        enforce_headers([item], "headers")  # type: ignore[list-item]


def test_enforce_headers_non_iterable_item_is_type_error() -> None:
    with pytest.raises(TypeError):
        enforce_headers([1], "headers")  # type: ignore[list-item]


def test_enforce_headers_non_ascii_name() -> None:
    with pytest.raises(TypeError) as info:
        enforce_headers([("n\u00e4me", "value")], "headers")
    assert str(info.value) == "header name strings may not include unicode characters."


def test_enforce_headers_non_ascii_value() -> None:
    with pytest.raises(TypeError) as info:
        enforce_headers({"name": "v\u00e4lue"}, "headers")
    assert str(info.value) == "header value strings may not include unicode characters."


def test_enforce_headers_wrong_name_type() -> None:
    with pytest.raises(TypeError) as info:
        enforce_headers([(1, b"x")], "headers")  # type: ignore[list-item]
    assert str(info.value) == "header name must be bytes or str, but got int."


def test_enforce_headers_wrong_value_type() -> None:
    with pytest.raises(TypeError) as info:
        enforce_headers([(b"x", bytearray(b"1"))], "headers")  # type: ignore[list-item]
    assert str(info.value) == "header value must be bytes or str, but got bytearray."


def test_enforce_headers_does_not_validate_content() -> None:
    headers = [(b"Bad Name:", b"\x00\r\n")]
    assert enforce_headers(headers, "headers") == headers


# Automatic Host header.


def test_host_header_without_port() -> None:
    assert host_header_value(URL("http://example.com/")) == b"example.com"


@pytest.mark.parametrize(
    ("scheme", "port"), [("ftp", 21), ("http", 80), ("https", 443), ("ws", 80), ("wss", 443)]
)
def test_host_header_omits_default_port(scheme: str, port: int) -> None:
    url = URL(scheme=scheme, host="example.com", port=port, target="/")
    assert host_header_value(url) == b"example.com"


def test_host_header_keeps_other_port() -> None:
    assert host_header_value(URL("http://example.com:8080/")) == b"example.com:8080"


def test_host_header_keeps_port_of_other_scheme() -> None:
    assert host_header_value(URL("https://example.com:80/")) == b"example.com:80"


def test_host_header_keeps_port_of_unknown_scheme() -> None:
    assert host_header_value(URL("socks5://example.com:1080/")) == b"example.com:1080"


def test_host_header_ipv6_has_no_brackets() -> None:
    assert host_header_value(URL("http://[::1]:8000/")) == b"::1:8000"


def test_default_host_header_ports_table() -> None:
    assert DEFAULT_HOST_HEADER_PORTS == {
        b"ftp": 21,
        b"http": 80,
        b"https": 443,
        b"ws": 80,
        b"wss": 443,
    }


# Default request headers.


def test_build_request_headers_prepends_host() -> None:
    url = URL("http://a.com/")
    assert build_request_headers([("Accept", "*/*")], url, None) == [
        (b"Host", b"a.com"),
        (b"Accept", b"*/*"),
    ]


def test_build_request_headers_keeps_existing_host_any_case() -> None:
    url = URL("http://a.com/")
    assert build_request_headers([("hOsT", "x")], url, None) == [(b"hOsT", b"x")]


def test_build_request_headers_bytes_content_gets_content_length() -> None:
    url = URL("http://a.com:8080/")
    assert build_request_headers(None, url, b"abc") == [
        (b"Host", b"a.com:8080"),
        (b"Content-Length", b"3"),
    ]


def test_build_request_headers_empty_bytes_content_gets_zero_length() -> None:
    url = URL("http://a.com/")
    assert build_request_headers(None, url, b"") == [
        (b"Host", b"a.com"),
        (b"Content-Length", b"0"),
    ]


def test_build_request_headers_iterator_content_gets_chunked() -> None:
    url = URL("http://a.com:80/")
    assert build_request_headers([("host", "x")], url, iter([b"abc"])) == [
        (b"host", b"x"),
        (b"Transfer-Encoding", b"chunked"),
    ]


def test_build_request_headers_no_content_no_body_header() -> None:
    assert build_request_headers(None, URL("http://a.com/"), None) == [(b"Host", b"a.com")]


@pytest.mark.parametrize("name", ["Content-Length", "content-length", "TRANSFER-ENCODING"])
def test_build_request_headers_keeps_existing_framing(name: str) -> None:
    url = URL("http://a.com/")
    headers = [("Host", "a.com"), (name, "5")]
    assert build_request_headers(headers, url, b"hello") == [
        (b"Host", b"a.com"),
        (name.encode(), b"5"),
    ]


def test_build_request_headers_keeps_input_list_untouched() -> None:
    headers = [(b"Accept", b"*/*")]
    build_request_headers(headers, URL("http://a.com/"), b"x")
    assert headers == [(b"Accept", b"*/*")]


def test_build_request_headers_coerces_input() -> None:
    with pytest.raises(TypeError) as info:
        build_request_headers(1, URL("http://a.com/"), None)  # type: ignore[arg-type]
    assert str(info.value) == "headers must be a mapping or sequence of two-tuples, but got int."


def test_build_request_headers_accepts_mapping() -> None:
    result = build_request_headers({"Accept": "*/*"}, URL("https://a.com/"), None)
    assert result == [(b"Host", b"a.com"), (b"Accept", b"*/*")]


def test_build_request_headers_unchecked_port_is_rendered() -> None:
    url = URL(scheme="http", host="a.com", port="8080", target="/")  # type: ignore[arg-type]
    assert build_request_headers(None, url, None) == [(b"Host", b"a.com:8080")]


def test_build_request_headers_bytearray_content_is_chunked() -> None:
    content: Any = bytearray(b"abc")
    result = build_request_headers(None, URL("http://a.com/"), content)
    assert result[-1] == (b"Transfer-Encoding", b"chunked")


def test_host_header_returns_reassigned_host_unchanged() -> None:
    class Host(bytes):
        pass

    url = URL("http://a.com/")
    url.host = Host(b"a.com")
    assert type(host_header_value(url)) is Host
