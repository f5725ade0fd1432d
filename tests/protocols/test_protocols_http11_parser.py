"""The HTTP/1.1 response parser (``httpcore._protocols._http11._parser``, a hot module).

One behaviour per test; the differential tests compare the same rules with h11.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import pytest

from httpcore._core._exceptions import RemoteProtocolError
from httpcore._protocols._http11 import (
    MAX_INCOMPLETE_BYTES,
    NEED_DATA,
    PAUSED,
    SERVER_DISCONNECTED,
    Data,
    EndOfMessage,
    Event,
    ResponseHead,
    ResponseParser,
)
from httpcore._protocols._http11._head import parse_head

OK = b"HTTP/1.1 200 OK\r\n"


def _events(parser: ResponseParser) -> List[Event]:
    """Events until NEED_DATA or PAUSED (included)."""
    events: List[Event] = []
    while True:
        event = parser.next_event()
        events.append(event)
        if event is NEED_DATA or event is PAUSED:
            return events


def _parse(data: bytes, method: bytes = b"GET", eof: bool = False, **flags: bool) -> List[Event]:
    parser = ResponseParser(method, **flags)
    parser.feed(data)
    if eof:
        parser.feed_eof()
    return _events(parser)


def _error(data: bytes, method: bytes = b"GET", eof: bool = True, **flags: bool) -> str:
    parser = ResponseParser(method, **flags)
    parser.feed(data)
    if eof:
        parser.feed_eof()
    with pytest.raises(RemoteProtocolError) as info:
        _events(parser)
    return str(info.value)


def _head(
    status: int = 200, headers: Sequence[Tuple[bytes, bytes]] = (), reason: bytes = b"OK"
) -> ResponseHead:
    return ResponseHead(status, reason, b"1.1", list(headers))


# Content-Length bodies.


def test_content_length_body() -> None:
    assert _parse(OK + b"Content-Length: 5\r\n\r\nhello") == [
        _head(headers=[(b"Content-Length", b"5")]),
        Data(b"hello"),
        EndOfMessage([]),
        PAUSED,
    ]


def test_content_length_zero_ends_right_after_the_head() -> None:
    assert _parse(OK + b"Content-Length: 0\r\n\r\n")[1:] == [EndOfMessage([]), PAUSED]


def test_content_length_body_arrives_as_it_is_received() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(OK + b"Content-Length: 5\r\n\r\nhe")
    assert _events(parser)[1:] == [Data(b"he"), NEED_DATA]
    parser.feed(b"llo")
    assert _events(parser) == [Data(b"llo"), EndOfMessage([]), PAUSED]


def test_body_read_fed_whole_comes_out_without_a_copy() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(OK + b"Content-Length: 100000\r\n\r\n")
    _events(parser)
    chunk = b"x" * 100000
    parser.feed(chunk)
    event = parser.next_event()
    assert isinstance(event, Data) and event.data is chunk


def test_bytes_after_a_content_length_body_are_not_body() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(OK + b"Content-Length: 2\r\n\r\nhiEXTRA")
    assert _events(parser)[1:] == [Data(b"hi"), EndOfMessage([]), PAUSED]
    assert parser.trailing_data() == b"EXTRA"


def test_equal_content_lengths_collapse_into_the_first_field() -> None:
    head = _parse(OK + b"content-length: 5, 5\r\nX: y\r\nContent-Length: 5\r\n\r\nhello")[0]
    assert isinstance(head, ResponseHead)
    assert head.headers == [(b"content-length", b"5"), (b"X", b"y")]


@pytest.mark.parametrize("values", [[b"5", b"6"], [b"5,6"], [b"5", b"05"], [b"5,"]])
def test_conflicting_content_lengths_are_rejected(values: List[bytes]) -> None:
    fields = b"".join(b"Content-Length: " + value + b"\r\n" for value in values)
    assert _error(OK + fields + b"\r\n") == "conflicting Content-Length headers"


@pytest.mark.parametrize(
    "value", [b"-1", b"+1", b"1x", b"", b"0x1", b"1 1", b"1" * 21, b"\xd9\xa1"]
)
def test_bad_content_length_is_rejected(value: bytes) -> None:
    assert _error(OK + b"Content-Length: " + value + b"\r\n\r\n") == "bad Content-Length"


def test_huge_content_length_is_accepted_and_never_overflows() -> None:
    events = _parse(OK + b"Content-Length: 99999999999999999999\r\n\r\nabc", eof=False)
    assert events[1:] == [Data(b"abc"), NEED_DATA]


def test_eof_inside_content_length_body_reports_the_counts() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(OK + b"Content-Length: 13\r\n\r\nabcdefghij")
    parser.feed_eof()
    assert _events_until_error(parser) == (
        "peer closed connection without sending complete message body "
        "(received 10 bytes, expected 13)"
    )


def _events_until_error(parser: ResponseParser) -> str:
    with pytest.raises(RemoteProtocolError) as info:
        while parser.next_event() is not NEED_DATA:
            pass
    return str(info.value)


# Chunked bodies.

CHUNKED = OK + b"Transfer-Encoding: chunked\r\n\r\n"


def test_chunked_body_with_extensions_and_trailers() -> None:
    data = CHUNKED + b'5;name=value;q="a b"\r\nhello\r\n1;x\r\n!\r\n'
    data += b"0\r\nX-Sum: abc\r\nx-b:  c \r\n\r\n"
    assert _parse(data) == [
        _head(headers=[(b"Transfer-Encoding", b"chunked")]),
        Data(b"hello"),
        Data(b"!"),
        EndOfMessage([(b"X-Sum", b"abc"), (b"x-b", b"c")]),
        PAUSED,
    ]


def test_chunked_body_fed_one_byte_at_a_time() -> None:
    data = CHUNKED + b"5\r\nhello\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\n"
    parser = ResponseParser(b"GET")
    events: List[Event] = []
    for byte in data:
        parser.feed(bytes([byte]))
        events.extend(event for event in _events(parser) if event is not NEED_DATA)
    body = b"".join(event.data for event in events if isinstance(event, Data))
    assert body == b"hello0123456789"
    assert events[-2:] == [EndOfMessage([(b"T", b"v")]), PAUSED]


def test_chunk_sizes_are_hex_in_any_case_with_leading_zeros() -> None:
    data = CHUNKED + b"a\r\n0123456789\r\n000B\r\n0123456789a\r\n0\r\n\r\n"
    assert [e.data for e in _parse(data) if isinstance(e, Data)] == [b"0123456789", b"0123456789a"]


def test_chunk_size_may_be_followed_by_whitespace() -> None:
    assert _parse(CHUNKED + b"2 \t\r\nhi\r\n0\r\n\r\n")[1] == Data(b"hi")


def test_transfer_encoding_value_is_normalised() -> None:
    head = _parse(OK + b"Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n")[0]
    assert isinstance(head, ResponseHead)
    assert head.headers == [(b"Transfer-Encoding", b"chunked")]


@pytest.mark.parametrize(
    "line",
    [b" 5", b"+5", b"-5", b"0x5", b"5_0", b"", b"g", b"5 ;a", b"5\t;a", b"0" * 20 + b"5", b"5\nx"],
)
def test_bad_chunk_size_line_is_rejected(line: bytes) -> None:
    message = _error(CHUNKED + line + b"\r\nhello\r\n0\r\n\r\n")
    reported = bytearray(line + b"\r\n")
    assert message == f"illegal chunk header: {reported!r}"


def test_chunk_size_of_twenty_hex_digits_is_accepted() -> None:
    events = _parse(CHUNKED + b"0" * 19 + b"2\r\nhi\r\n0\r\n\r\n")
    assert events[1] == Data(b"hi")


@pytest.mark.parametrize("extension", [b";a=\x00", b";a\rb", b";\r"])
def test_chunk_extension_with_nul_or_cr_is_rejected(extension: bytes) -> None:
    line = b"5" + extension
    message = _error(CHUNKED + line + b"\r\nhello\r\n0\r\n\r\n")
    assert message == f"chunk extension with NUL or CR: {line!r}"


def test_missing_crlf_after_chunk_data_is_rejected() -> None:
    assert _error(CHUNKED + b"5\r\nhelloXY0\r\n\r\n") == (
        "malformed chunk footer: bytearray(b'XY') (expected b'\\r\\n')"
    )


def test_chunk_footer_is_checked_as_it_arrives() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(CHUNKED + b"5\r\nhello\r")
    assert _events(parser)[-1] is NEED_DATA
    parser.feed(b"X")
    message = _events_until_error(parser)
    assert message == "malformed chunk footer: bytearray(b'X') (expected b'\\n')"


@pytest.mark.parametrize(
    "tail", [b"5\r\nhel", b"5\r\nhello", b"5\r\nhello\r", b"5\r\nhello\r\n", b"0\r\n"]
)
def test_eof_inside_chunked_body_is_an_incomplete_chunked_read(tail: bytes) -> None:
    assert _error(CHUNKED + tail) == (
        "peer closed connection without sending complete message body (incomplete chunked read)"
    )


@pytest.mark.parametrize("tail", [b"5", b"5;ext", b"0\r\nX: y", b"0\r\nX: y\r\n"])
def test_eof_inside_a_chunk_line_or_trailers_is_an_unexpected_close(tail: bytes) -> None:
    assert _error(CHUNKED + tail) == "peer unexpectedly closed connection"


def test_bad_trailer_line_is_rejected() -> None:
    assert _error(CHUNKED + b"0\r\nX :y\r\n\r\n") == "illegal header line: bytearray(b'X :y')"


# Bodies delimited by the close, and responses without a body.


def test_body_without_framing_runs_until_the_connection_closes() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(OK + b"\r\nhello")
    assert _events(parser)[1:] == [Data(b"hello"), NEED_DATA]
    parser.feed(b" world")
    parser.feed_eof()
    assert _events(parser) == [Data(b" world"), EndOfMessage([]), PAUSED]
    assert not parser.keep_alive


def test_response_to_head_has_no_body() -> None:
    events = _parse(OK + b"Content-Length: 5\r\n\r\n", method=b"HEAD")
    assert events[1:] == [EndOfMessage([]), PAUSED]


@pytest.mark.parametrize("status", [b"204 No Content", b"304 Not Modified"])
def test_204_and_304_have_no_body(status: bytes) -> None:
    data = b"HTTP/1.1 " + status + b"\r\nContent-Length: 5\r\n\r\n"
    assert _parse(data)[1:] == [EndOfMessage([]), PAUSED]


def test_framing_headers_are_checked_even_without_a_body() -> None:
    assert _error(OK + b"Content-Length: x\r\n\r\n", method=b"HEAD") == "bad Content-Length"


# Interim responses and protocol switches.


def test_100_continue_comes_before_the_final_response() -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\n" + OK + b"Content-Length: 1\r\n\r\nx"
    assert _parse(data) == [
        _head(100, reason=b"Continue"),
        _head(headers=[(b"Content-Length", b"1")]),
        Data(b"x"),
        EndOfMessage([]),
        PAUSED,
    ]


def test_103_early_hints_keep_their_headers() -> None:
    data = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    data += OK + b"Content-Length: 0\r\n\r\n"
    events = _parse(data)
    assert events[0] == _head(103, [(b"Link", b"</a.css>; rel=preload")], b"Early Hints")
    assert isinstance(events[1], ResponseHead) and events[1].status_code == 200


def test_101_switches_protocols_and_keeps_the_following_bytes() -> None:
    parser = ResponseParser(b"GET", request_upgrade=True)
    parser.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nfoobar")
    head = _head(101, [(b"Upgrade", b"websocket")], b"Switching Protocols")
    assert _events(parser) == [head, PAUSED]
    assert parser.switched_protocols
    assert not parser.keep_alive
    assert parser.trailing_data() == b"foobar"
    assert parser.trailing_data() == b""
    assert parser.next_event() is PAUSED


def test_101_without_an_upgrade_request_is_rejected() -> None:
    assert _error(b"HTTP/1.1 101 Switching Protocols\r\n\r\n") == (
        "Received server _SWITCH_UPGRADE event without a pending proposal"
    )


def test_2xx_to_connect_switches_protocols_whatever_its_framing() -> None:
    parser = ResponseParser(b"CONNECT")
    parser.feed(OK + b"Content-Length: 3\r\n\r\nfoobar")
    assert _events(parser) == [_head(headers=[(b"Content-Length", b"3")]), PAUSED]
    assert parser.switched_protocols
    assert parser.trailing_data() == b"foobar"


def test_non_2xx_to_connect_has_a_normal_body() -> None:
    data = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno"
    assert _parse(data, method=b"CONNECT")[1:] == [Data(b"no"), EndOfMessage([]), PAUSED]


def test_connect_is_case_sensitive() -> None:
    assert _parse(OK + b"\r\nfoobar", method=b"connect")[1:] == [Data(b"foobar"), NEED_DATA]


# Keep-alive.


def test_http11_response_keeps_the_connection_alive() -> None:
    parser = ResponseParser(b"GET")
    assert not parser.keep_alive
    parser.feed(OK + b"Content-Length: 0\r\n\r\n")
    _events(parser)
    assert parser.keep_alive and parser.complete


def test_http10_response_closes_the_connection_even_with_keep_alive() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
    events = _events(parser)
    assert isinstance(events[0], ResponseHead) and events[0].http_version == b"1.0"
    assert not parser.keep_alive


def test_connection_close_in_the_response_closes_the_connection() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(OK + b"Connection: keep-alive, CLOSE\r\nContent-Length: 0\r\n\r\n")
    _events(parser)
    assert not parser.keep_alive


def test_connection_close_in_the_request_closes_the_connection() -> None:
    parser = ResponseParser(b"GET", request_close=True)
    parser.feed(OK + b"Content-Length: 0\r\n\r\n")
    _events(parser)
    assert not parser.keep_alive


def test_connection_close_on_an_interim_response_is_ignored() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(b"HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n")
    parser.feed(OK + b"Content-Length: 0\r\n\r\n")
    _events(parser)
    assert parser.keep_alive


def test_next_cycle_parses_bytes_already_received() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(OK + b"Content-Length: 1\r\n\r\nx" + OK + b"Content-Length: 1\r\n\r\ny")
    assert _events(parser)[-2:] == [EndOfMessage([]), PAUSED]
    parser.start_next_cycle(b"GET")
    assert _events(parser)[1:] == [Data(b"y"), EndOfMessage([]), PAUSED]


def test_next_cycle_requires_a_complete_kept_alive_response() -> None:
    parser = ResponseParser(b"GET")
    with pytest.raises(RuntimeError):
        parser.start_next_cycle(b"GET")
    parser.feed(OK + b"Connection: close\r\nContent-Length: 0\r\n\r\n")
    _events(parser)
    with pytest.raises(RuntimeError):
        parser.start_next_cycle(b"GET")


# Heads.


def test_header_names_keep_their_case_order_and_duplicates() -> None:
    head = _parse(OK + b"X-MiXeD: 1\r\nx-mixed: 2\r\nCONTENT-length: 0\r\n\r\n")[0]
    assert isinstance(head, ResponseHead)
    assert head.headers == [(b"X-MiXeD", b"1"), (b"x-mixed", b"2"), (b"CONTENT-length", b"0")]


def test_header_values_lose_surrounding_whitespace_only() -> None:
    fields = b"A:b\r\nB: \t c \t d \t\r\nC:\r\nD: \x01\x80\r\nContent-Length: 0\r\n"
    head = _parse(OK + fields + b"\r\n")[0]
    assert isinstance(head, ResponseHead)
    assert head.headers[:4] == [(b"A", b"b"), (b"B", b"c \t d"), (b"C", b""), (b"D", b"\x01\x80")]


def test_reason_phrase_may_be_empty_with_or_without_its_space() -> None:
    for status_line in (b"HTTP/1.1 200 \r\n", b"HTTP/1.1 200\r\n"):
        head = _parse(status_line + b"Content-Length: 0\r\n\r\n")[0]
        assert isinstance(head, ResponseHead) and head.reason == b""


def test_reason_phrase_is_kept_as_sent() -> None:
    head = _parse(b"HTTP/1.1 404 Not  Found \t\r\nContent-Length: 0\r\n\r\n")[0]
    assert isinstance(head, ResponseHead) and head.reason == b"Not  Found \t"


def test_lines_may_end_with_a_bare_lf() -> None:
    events = _parse(b"HTTP/1.1 200 OK\nA: b\r\nContent-Length: 1\n\nx")
    assert events[0] == _head(headers=[(b"A", b"b"), (b"Content-Length", b"1")])
    assert events[1] == Data(b"x")


@pytest.mark.parametrize(
    "status_line",
    [
        b"HTTP/1.1 2000 OK",
        b"HTTP/1.1 20 OK",
        b"HTTP/1.1  200 OK",
        b"HTTP/1.1 200\tOK",
        b"http/1.1 200 OK",
        b"HTTP/1 200 OK",
        b"HTTP/10.1 200 OK",
        b"HTTP/1.1 200 O\x00K",
        b"HTTP/1.1 200 O\rK",
        b"HTTP/1.1 200 \x0b",
        b"ICY 200 OK",
    ],
)
def test_bad_status_line_is_rejected(status_line: bytes) -> None:
    assert _error(status_line + b"\r\n\r\n") == f"illegal status line: {bytearray(status_line)!r}"


def test_status_below_100_is_rejected() -> None:
    assert _error(b"HTTP/1.1 099 Low\r\n\r\n") == (
        "InformationalResponse status_code should be in range [100, 200), not 99"
    )


def test_status_above_599_is_accepted() -> None:
    head = _parse(b"HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n")[0]
    assert isinstance(head, ResponseHead) and head.status_code == 999


def test_empty_line_instead_of_a_status_line_is_rejected() -> None:
    assert _error(b"\r\nHTTP/1.1 200 OK\r\n\r\n") == "no response line received"


def test_head_starting_with_whitespace_is_rejected_before_it_is_complete() -> None:
    assert _error(b" HTTP/1.1 2", eof=False) == "illegal request line"


@pytest.mark.parametrize(
    "line",
    [b"X :y", b"X\t:y", b"X", b": y", b"X(: y", b"X\x80: y", b"X: a\x00b", b"X: a\rb", b"X: \x0c"],
)
def test_bad_field_line_is_rejected(line: bytes) -> None:
    assert _error(OK + line + b"\r\n\r\n") == f"illegal header line: {bytearray(line)!r}"


def test_obs_fold_is_rejected() -> None:
    # RFC 9112 §5.2 allows rejecting obs-fold; we do (h11 joins the lines).
    assert _error(OK + b"X: y\r\n  z\r\n\r\n") == (
        "obsolete line folding is not accepted (RFC 9112 §5.2): b'  z'"
    )


def test_continuation_line_first_is_rejected() -> None:
    assert _error(OK + b" X: y\r\n\r\n") == "continuation line at start of headers"


@pytest.mark.parametrize("value", [b"gzip", b"gzip, chunked", b"chunked, gzip", b"identity", b""])
def test_transfer_encoding_other_than_chunked_is_rejected(value: bytes) -> None:
    assert _error(OK + b"Transfer-Encoding: " + value + b"\r\n\r\n") == (
        "Only Transfer-Encoding: chunked is supported"
    )


def test_two_transfer_encodings_are_rejected() -> None:
    data = OK + b"Transfer-Encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n"
    assert _error(data) == "multiple Transfer-Encoding headers"


def test_transfer_encoding_wins_over_content_length_but_ends_keep_alive() -> None:
    # RFC 9112 §6.3 rule 3: chunked framing wins (as in h11); the connection is not reused,
    # since such a message may be an attempt at response splitting.
    parser = ResponseParser(b"GET")
    parser.feed(OK + b"Content-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert _events(parser)[1:] == [Data(b"hello"), EndOfMessage([]), PAUSED]
    assert parser.keep_alive is False


# Size bounds.


def _head_of_size(total: int) -> bytes:
    prefix = OK + b"Content-Length: 0\r\nCookie: "
    return prefix + b"a" * (total - len(prefix) - 4) + b"\r\n\r\n"


def test_head_of_100_kib_is_accepted() -> None:
    data = _head_of_size(100 * 1024)
    assert len(data) == MAX_INCOMPLETE_BYTES
    assert _parse(data)[1:] == [EndOfMessage([]), PAUSED]


def test_head_of_100_kib_fed_in_small_pieces_is_accepted() -> None:
    data = _head_of_size(MAX_INCOMPLETE_BYTES + 1)
    parser = ResponseParser(b"GET")
    for start in range(0, len(data), 1000):
        parser.feed(data[start : start + 1000])
        event = parser.next_event()
    assert isinstance(event, ResponseHead)


def test_larger_head_is_rejected_even_when_fed_whole() -> None:
    assert _error(_head_of_size(MAX_INCOMPLETE_BYTES + 2), eof=False) == "Receive buffer too long"


def test_incomplete_head_over_the_bound_is_rejected_without_waiting() -> None:
    data = OK + b"Cookie: " + b"a" * MAX_INCOMPLETE_BYTES
    assert _error(data, eof=False) == "Receive buffer too long"


def test_incomplete_chunk_line_over_the_bound_is_rejected() -> None:
    data = CHUNKED + b"5;" + b"x" * MAX_INCOMPLETE_BYTES
    assert _error(data, eof=False) == "Receive buffer too long"


def test_size_bound_can_be_changed() -> None:
    parser = ResponseParser(b"GET", max_incomplete_bytes=40)
    parser.feed(OK + b"X: " + b"a" * 17 + b"\r\n\r\n")  # 41 bytes
    assert isinstance(parser.next_event(), ResponseHead)
    parser = ResponseParser(b"GET", max_incomplete_bytes=40)
    parser.feed(OK + b"X: " + b"a" * 18 + b"\r\n\r\n")
    with pytest.raises(RemoteProtocolError, match="^Receive buffer too long$"):
        parser.next_event()


# End of input before the response.


@pytest.mark.parametrize(
    "data", [b"", b"HTTP/1.1 20", OK + b"Content-Length: 5\r\n", b"HTTP/1.1 100 Continue\r\n\r\n"]
)
def test_eof_before_the_final_head_means_server_disconnected(data: bytes) -> None:
    assert _error(data) == SERVER_DISCONNECTED == "Server disconnected without sending a response."


# Errors and misuse.


def test_errors_are_sticky() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(b"HTTP/1.1 2x0 OK\r\n\r\n")
    for _ in range(2):
        with pytest.raises(RemoteProtocolError, match="illegal status line"):
            parser.next_event()
    assert not parser.keep_alive


def test_feeding_after_eof_is_a_runtime_error() -> None:
    parser = ResponseParser(b"GET")
    parser.feed_eof()
    assert parser.eof_received
    with pytest.raises(RuntimeError):
        parser.feed(b"x")


def test_incomplete_response_needs_data() -> None:
    assert _parse(b"HTTP/1.1 200 OK\r\n") == [NEED_DATA]


def test_parser_is_paused_after_the_response() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(OK + b"Content-Length: 0\r\n\r\n")
    _events(parser)
    parser.feed(b"unexpected")
    assert parser.next_event() is PAUSED


# Repeated heads (parse_head remembers recent ones).

_REPEATED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nX-Repeat: yes\r\n"


def test_repeated_head_gives_equal_results() -> None:
    first_head, first_fields = parse_head(_REPEATED_HEAD)
    second_head, second_fields = parse_head(_REPEATED_HEAD)
    assert second_head == first_head
    assert second_head.headers == [(b"Content-Length", b"5"), (b"X-Repeat", b"yes")]
    assert (second_fields.content_length, second_fields.chunked, second_fields.close) == (
        first_fields.content_length,
        first_fields.chunked,
        first_fields.close,
    )


def test_repeated_head_gives_new_header_lists() -> None:
    first, _ = parse_head(_REPEATED_HEAD)
    first.headers.append((b"Changed", b"by the caller"))
    second, _ = parse_head(_REPEATED_HEAD)
    assert second.headers is not first.headers
    assert second.headers == [(b"Content-Length", b"5"), (b"X-Repeat", b"yes")]


def test_repeated_invalid_head_raises_every_time() -> None:
    for _ in range(2):
        with pytest.raises(RemoteProtocolError, match="illegal header line"):
            parse_head(b"HTTP/1.1 200 OK\r\nBad Name: x\r\n")
