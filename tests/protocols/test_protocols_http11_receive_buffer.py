"""The HTTP/1.1 receive buffer (``httpcore._protocols._http11._receive_buffer``, a hot module)."""

from __future__ import annotations

from typing import Union

from httpcore._protocols._http11._receive_buffer import SMALL_REMAINDER_BYTES, ReceiveBuffer


def _buffer(*parts: Union[bytes, bytearray, memoryview]) -> ReceiveBuffer:
    buffer = ReceiveBuffer()
    for part in parts:
        buffer.feed(part)
    return buffer


def test_new_buffer_is_empty() -> None:
    buffer = ReceiveBuffer()
    assert len(buffer) == 0
    assert buffer.first_byte() == -1
    assert buffer.take_all() == b""


def test_taking_a_whole_fed_object_returns_it_without_copying() -> None:
    data = b"x" * 1000
    buffer = _buffer(data)
    assert buffer.take(1000) is data
    assert len(buffer) == 0


def test_take_returns_the_next_bytes_in_order() -> None:
    buffer = _buffer(b"abc", b"def")
    assert buffer.take(2) == b"ab"
    assert buffer.take(3) == b"cde"
    assert buffer.take_all() == b"f"


def test_take_returns_at_most_what_is_buffered() -> None:
    buffer = _buffer(b"abc")
    assert buffer.take(10) == b"abc"
    assert len(buffer) == 0


def test_take_returns_bytes() -> None:
    buffer = _buffer(bytearray(b"abc"))
    chunk = buffer.take(2)
    assert type(chunk) is bytes


def test_feeding_a_bytearray_copies_it() -> None:
    source = bytearray(b"abc")
    buffer = _buffer(source)
    source[0] = ord("z")
    assert buffer.take_all() == b"abc"


def test_feeding_a_memoryview_copies_it() -> None:
    source = bytearray(b"abc")
    buffer = _buffer(memoryview(source))
    source[0] = ord("z")
    assert buffer.take_all() == b"abc"


def test_feeding_nothing_changes_nothing() -> None:
    buffer = _buffer(b"ab", b"", b"c")
    assert buffer.take_all() == b"abc"


def test_first_byte_is_the_next_unconsumed_byte() -> None:
    buffer = _buffer(b"ab")
    buffer.take(1)
    assert buffer.first_byte() == ord("b")


def test_line_ends_at_crlf() -> None:
    buffer = _buffer(b"5;ext\r\nrest")
    assert buffer.maybe_take_line() == b"5;ext"
    assert buffer.take_all() == b"rest"


def test_line_does_not_end_at_a_bare_lf() -> None:
    buffer = _buffer(b"5\nabc\r\n")
    assert buffer.maybe_take_line() == b"5\nabc"


def test_incomplete_line_is_none_and_stays_buffered() -> None:
    buffer = _buffer(b"5;ext\r")
    assert buffer.maybe_take_line() is None
    assert len(buffer) == 6
    buffer.feed(b"\nx")
    assert buffer.maybe_take_line() == b"5;ext"


def test_line_fed_one_byte_at_a_time_is_found() -> None:
    buffer = ReceiveBuffer()
    for byte in b"abc\r\n":
        assert buffer.maybe_take_line() is None
        buffer.feed(bytes([byte]))
    assert buffer.maybe_take_line() == b"abc"
    assert len(buffer) == 0


def test_section_ends_at_an_empty_crlf_line() -> None:
    buffer = _buffer(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody")
    assert buffer.maybe_take_section() == b"HTTP/1.1 200 OK\r\nA: b\r\n"
    assert buffer.take_all() == b"body"


def test_section_ends_at_an_empty_lf_line() -> None:
    buffer = _buffer(b"HTTP/1.1 200 OK\nA: b\n\nbody")
    assert buffer.maybe_take_section() == b"HTTP/1.1 200 OK\nA: b\n"
    assert buffer.take_all() == b"body"


def test_section_with_mixed_line_ends() -> None:
    buffer = _buffer(b"A: b\n\r\nC: d\r\n\nbody")
    assert buffer.maybe_take_section() == b"A: b\n"
    assert buffer.maybe_take_section() == b"C: d\r\n"
    assert buffer.take_all() == b"body"


def test_section_whose_first_line_is_empty_is_empty() -> None:
    assert _buffer(b"\r\nrest").maybe_take_section() == b""
    assert _buffer(b"\nrest").maybe_take_section() == b""


def test_lone_cr_at_the_start_waits_for_more() -> None:
    buffer = _buffer(b"\r")
    assert buffer.maybe_take_section() is None
    buffer.feed(b"\nrest")
    assert buffer.maybe_take_section() == b""
    assert buffer.take_all() == b"rest"


def test_cr_not_followed_by_lf_is_part_of_a_line() -> None:
    buffer = _buffer(b"\rX\r\n\r\n")
    assert buffer.maybe_take_section() == b"\rX\r\n"


def test_incomplete_section_is_none_and_stays_buffered() -> None:
    buffer = _buffer(b"HTTP/1.1 200 OK\r\nA: b\r\n")
    assert buffer.maybe_take_section() is None
    assert len(buffer) == 23
    buffer.feed(b"\r\n")
    assert buffer.maybe_take_section() == b"HTTP/1.1 200 OK\r\nA: b\r\n"


def test_section_fed_one_byte_at_a_time_is_found() -> None:
    data = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n"
    buffer = ReceiveBuffer()
    for byte in data:
        assert buffer.maybe_take_section() is None
        buffer.feed(bytes([byte]))
    assert buffer.maybe_take_section() == data[:-2]
    assert len(buffer) == 0


def test_section_terminator_split_across_feeds_is_found() -> None:
    buffer = _buffer(b"A: b\r\n\r")
    assert buffer.maybe_take_section() is None
    buffer.feed(b"\n")
    assert buffer.maybe_take_section() == b"A: b\r\n"


def test_large_remainder_fed_in_pieces_is_kept_whole() -> None:
    # More than SMALL_REMAINDER_BYTES waiting for its end: the buffer grows in place.
    line = b"x" * (SMALL_REMAINDER_BYTES * 3)
    buffer = ReceiveBuffer()
    for start in range(0, len(line), 100):
        buffer.feed(line[start : start + 100])
        assert buffer.maybe_take_line() is None
    buffer.feed(b"\r\nafter")
    assert buffer.maybe_take_line() == line
    assert buffer.take(3) == b"aft"
    buffer.feed(b"more")
    assert buffer.take_all() == b"ermore"


def test_buffer_returns_to_zero_copy_after_draining_a_large_remainder() -> None:
    buffer = _buffer(b"y" * (SMALL_REMAINDER_BYTES * 2), b"z")
    assert buffer.take_all() == b"y" * (SMALL_REMAINDER_BYTES * 2) + b"z"
    data = b"fresh"
    buffer.feed(data)
    assert buffer.take_all() is data


def test_consumed_prefix_is_dropped_while_growing() -> None:
    buffer = _buffer(b"a" * (SMALL_REMAINDER_BYTES + 1), b"b")
    buffer.take(SMALL_REMAINDER_BYTES)
    buffer.feed(b"c" * 10)
    assert len(buffer) == 12
    assert buffer.take_all() == b"ab" + b"c" * 10
