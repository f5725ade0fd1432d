"""Request serialisation (``httpcore._protocols._http11._writer``, a hot module).

The messages are h11's for the same input (API.md §6.3, §10); the differential tests check
them against h11 itself.
"""

from __future__ import annotations

from typing import List, Tuple

import pytest

from httpcore._core._exceptions import LocalProtocolError
from httpcore._protocols._http11 import (
    ChunkedWriter,
    ContentLengthWriter,
    RequestHead,
    body_writer,
    request_head,
    serialize_request_head,
)

Headers = List[Tuple[bytes, bytes]]
HOST: Headers = [(b"Host", b"example.com")]


def _error(method: bytes = b"GET", target: bytes = b"/", headers: Headers = HOST) -> str:
    with pytest.raises(LocalProtocolError) as info:
        RequestHead(method, target, headers)
    return str(info.value)


# Output.


def test_head_is_request_line_headers_and_blank_line() -> None:
    headers = [(b"Host", b"example.com"), (b"Accept", b"*/*")]
    data = serialize_request_head(b"GET", b"/path?q=1", headers)
    assert data == b"GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"


def test_header_names_keep_their_case_order_and_duplicates() -> None:
    headers = [(b"hOsT", b"h"), (b"X-Foo", b"1"), (b"x-foo", b"2")]
    assert serialize_request_head(b"GET", b"/", headers) == (
        b"GET / HTTP/1.1\r\nhOsT: h\r\nX-Foo: 1\r\nx-foo: 2\r\n\r\n"
    )


def test_empty_header_value_is_sent() -> None:
    assert serialize_request_head(b"GET", b"/", HOST + [(b"X", b"")]).endswith(b"\r\nX: \r\n\r\n")


def test_inner_whitespace_and_other_bytes_in_values_are_sent() -> None:
    value = b"a \t b\x01\x7f\x80\xff"
    assert serialize_request_head(b"GET", b"/", HOST + [(b"X", value)]).endswith(
        b"\r\nX: " + value + b"\r\n\r\n"
    )


def test_request_targets_of_every_form_are_sent() -> None:
    for target in (b"/", b"*", b"example.com:443", b"http://example.com/a?b#c"):
        data = serialize_request_head(b"OPTIONS", target, HOST)
        assert data.startswith(b"OPTIONS " + target + b" ")


def test_duplicate_content_lengths_are_sent_once_as_the_single_value() -> None:
    headers = HOST + [(b"Content-Length", b"5, 5"), (b"X", b"y"), (b"content-length", b"5")]
    assert serialize_request_head(b"POST", b"/", headers) == (
        b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nX: y\r\n\r\n"
    )


def test_transfer_encoding_is_sent_as_lowercase_chunked() -> None:
    headers = HOST + [(b"Transfer-Encoding", b"CHUNKED")]
    data = serialize_request_head(b"POST", b"/", headers)
    assert data.endswith(b"\r\nTransfer-Encoding: chunked\r\n\r\n")


def test_content_length_is_left_out_next_to_transfer_encoding() -> None:
    # RFC 9112 §6.1: a sender MUST NOT send both (h11 sends both; a listed difference).
    headers = HOST + [(b"Content-Length", b"5"), (b"Transfer-Encoding", b"chunked"), (b"X", b"y")]
    assert serialize_request_head(b"POST", b"/", headers) == (
        b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n"
    )


# Flags.


def test_request_without_framing_headers_has_no_body() -> None:
    assert RequestHead(b"GET", b"/", HOST).content_length == 0


def test_content_length_is_parsed() -> None:
    assert RequestHead(b"POST", b"/", HOST + [(b"Content-Length", b"0012")]).content_length == 12


def test_chunked_request_has_content_length_minus_one() -> None:
    head = RequestHead(b"POST", b"/", HOST + [(b"Transfer-Encoding", b"chunked")])
    assert head.content_length == -1


def test_connection_close_is_detected_among_tokens() -> None:
    assert RequestHead(b"GET", b"/", HOST + [(b"Connection", b"keep-alive, Close")]).close
    assert not RequestHead(b"GET", b"/", HOST + [(b"Connection", b"closed")]).close
    assert not RequestHead(b"GET", b"/", HOST).close


def test_upgrade_header_is_detected() -> None:
    assert RequestHead(b"GET", b"/", HOST + [(b"upgrade", b"websocket")]).upgrade
    assert not RequestHead(b"GET", b"/", HOST).upgrade


def test_method_is_kept() -> None:
    assert RequestHead(b"CONNECT", b"example.com:443", HOST).method == b"CONNECT"


# Rejections, with h11's messages.


def test_missing_host_is_rejected() -> None:
    assert _error(headers=[]) == "Missing mandatory Host: header"


def test_two_hosts_are_rejected() -> None:
    assert _error(headers=[(b"Host", b"a"), (b"host", b"b")]) == "Found multiple Host: headers"


@pytest.mark.parametrize("method", [b"", b"G ET", b"GET\r\n", b"G\x00", b"G(", b"G\x80"])
def test_method_must_be_a_token(method: bytes) -> None:
    assert _error(method=method) == "Illegal method characters"


@pytest.mark.parametrize(
    "target", [b"", b"/a b", b"/\t", b"/\r\nX: y", b"/\x00", b"/\x7f", b"/\x80"]
)
def test_target_must_be_visible_ascii(target: bytes) -> None:
    assert _error(target=target) == "Illegal target characters"


@pytest.mark.parametrize("name", [b"", b"X ", b"X:", b"X\x00", b"X\r\nY", b"X(", b"\x80"])
def test_header_name_must_be_a_token(name: bytes) -> None:
    assert _error(headers=HOST + [(name, b"v")]) == f"Illegal header name {name!r}"


@pytest.mark.parametrize(
    "value",
    [b"\x00", b"a\rb", b"a\nb", b"a\r\nX: y", b"a\x0bb", b"a\x0cb"]
    + [b" a", b"a ", b"\ta", b"a\t", b" "],
)
def test_header_value_is_checked(value: bytes) -> None:
    assert _error(headers=HOST + [(b"X", value)]) == f"Illegal header value {value!r}"


def test_api_pinned_nul_value_message() -> None:
    assert _error(headers=HOST + [(b"X", b"\x00")]) == "Illegal header value b'\\x00'"


@pytest.mark.parametrize("value", [b"-1", b"+1", b"x", b"", b"1 1", b"0x10", b"1" * 21])
def test_bad_content_length_is_rejected(value: bytes) -> None:
    assert _error(headers=HOST + [(b"Content-Length", value)]) == "bad Content-Length"


def test_content_length_of_twenty_digits_is_accepted() -> None:
    head = RequestHead(b"POST", b"/", HOST + [(b"Content-Length", b"9" * 20)])
    assert head.content_length == 10**20 - 1


@pytest.mark.parametrize(
    "values", [[b"5", b"6"], [b"5,6"], [b"5", b"05"], [b"5,"], [b"1,,1"], [b"x,y"]]
)
def test_conflicting_content_lengths_are_rejected(values: List[bytes]) -> None:
    headers = HOST + [(b"Content-Length", value) for value in values]
    assert _error(headers=headers) == "conflicting Content-Length headers"


@pytest.mark.parametrize(
    "value", [b"gzip", b"gzip, chunked", b"chunked, chunked", b"", b"identity"]
)
def test_only_chunked_transfer_encoding_is_accepted(value: bytes) -> None:
    assert _error(headers=HOST + [(b"Transfer-Encoding", value)]) == (
        "Only Transfer-Encoding: chunked is supported"
    )


def test_two_transfer_encodings_are_rejected() -> None:
    headers = HOST + [(b"Transfer-Encoding", b"chunked"), (b"transfer-encoding", b"chunked")]
    assert _error(headers=headers) == "multiple Transfer-Encoding headers"


def test_headers_are_checked_in_order_before_host_method_and_target() -> None:
    assert _error(b"G T", b"", [(b"X", b"\x00"), (b"Y ", b"v")]) == "Illegal header value b'\\x00'"
    assert _error(b"G T", b"", [(b"Content-Length", b"x"), (b"Y ", b"v")]) == "bad Content-Length"
    assert _error(b"G T", b"", [(b"X", b"v")]) == "Missing mandatory Host: header"
    assert _error(b"G T", b"", HOST) == "Illegal method characters"


# Body framing.


def test_body_writer_follows_the_head() -> None:
    assert isinstance(body_writer(RequestHead(b"GET", b"/", HOST)), ContentLengthWriter)
    chunked = RequestHead(b"POST", b"/", HOST + [(b"Transfer-Encoding", b"chunked")])
    assert isinstance(body_writer(chunked), ChunkedWriter)


def test_content_length_body_passes_through_unchanged() -> None:
    writer = ContentLengthWriter(5)
    data = b"abc"
    assert writer.write(data) is data
    assert writer.write(b"") == b""
    assert writer.write(b"de") == b"de"
    assert writer.end() == b""


def test_content_length_body_rejects_too_much_data() -> None:
    writer = ContentLengthWriter(3)
    writer.write(b"ab")
    with pytest.raises(LocalProtocolError, match="^Too much data for declared Content-Length$"):
        writer.write(b"cd")


def test_content_length_body_rejects_too_little_data() -> None:
    writer = ContentLengthWriter(3)
    writer.write(b"ab")
    with pytest.raises(LocalProtocolError, match="^Too little data for declared Content-Length$"):
        writer.end()


def test_request_without_framing_accepts_no_body() -> None:
    writer = body_writer(RequestHead(b"POST", b"/", HOST))
    assert writer.end() == b""
    with pytest.raises(LocalProtocolError, match="^Too much data for declared Content-Length$"):
        writer.write(b"x")


def test_chunked_body_frames_each_write_as_a_hex_sized_chunk() -> None:
    writer = ChunkedWriter()
    assert writer.write(b"abc") == b"3\r\nabc\r\n"
    assert writer.write(b"x" * 300) == b"12c\r\n" + b"x" * 300 + b"\r\n"


def test_chunked_body_skips_empty_writes() -> None:
    assert ChunkedWriter().write(b"") == b""


def test_chunked_body_ends_with_last_chunk_and_no_trailers() -> None:
    assert ChunkedWriter().end() == b"0\r\n\r\n"


# request_head: RequestHead, remembered.


def test_request_head_matches_a_new_request_head() -> None:
    headers = [(b"Host", b"example.com"), (b"Content-Length", b"5, 5"), (b"Connection", b"close")]
    head = request_head(b"POST", b"/upload", headers)
    fresh = RequestHead(b"POST", b"/upload", headers)
    assert (head.data, head.method, head.content_length, head.close, head.upgrade) == (
        fresh.data,
        fresh.method,
        fresh.content_length,
        fresh.close,
        fresh.upgrade,
    )


def test_request_head_repeated_is_the_remembered_head() -> None:
    first = request_head(b"GET", b"/again", [(b"Host", b"example.com")])
    assert request_head(b"GET", b"/again", [(b"Host", b"example.com")]) is first


def test_request_head_differing_headers_are_different_heads() -> None:
    first = request_head(b"GET", b"/", [(b"Host", b"a.example")])
    second = request_head(b"GET", b"/", [(b"Host", b"b.example")])
    assert first.data != second.data


def test_request_head_invalid_raises_every_time() -> None:
    for _ in range(2):
        with pytest.raises(LocalProtocolError, match="Illegal header value"):
            request_head(b"GET", b"/", [(b"Host", b"bad\r\nvalue")])


def test_request_head_with_other_types_is_built_each_time() -> None:
    # A list pair is not remembered (only exact tuples of exact bytes are).
    first = request_head(b"GET", b"/", [[b"Host", b"example.com"]])  # type: ignore[list-item]
    second = request_head(b"GET", b"/", [[b"Host", b"example.com"]])  # type: ignore[list-item]
    assert first is not second
    assert first.data == second.data
