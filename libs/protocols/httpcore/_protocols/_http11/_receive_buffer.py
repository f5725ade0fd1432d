"""The receive buffer of the HTTP/1.1 parser: bytes in, lines, sections and byte runs out.

HOT MODULE: compiled by Cython 3 in pure-Python mode (listed in ``build_config.bzl``), with
``_receive_buffer.pxd`` making its classes extension types; the same file also runs
interpreted, and both forms must behave identically.

Representation: ``_data`` holds the received bytes and ``_start`` the offset of the first
unconsumed one; everything before ``_start`` is consumed and dropped lazily. ``_data`` is in
one of two modes:

* **bytes mode** (the usual one): ``_data`` is an immutable ``bytes``. When the buffer is
  empty, ``feed`` keeps the caller's object as it is (no copy), so a body read that the
  parser hands on whole comes back out as the very same object.
* **bytearray mode**, entered only when more than ``SMALL_REMAINDER_BYTES`` unconsumed bytes
  must wait for more input (a large head or trailer section arriving in pieces): feeding
  appends in place (amortised O(1) per byte) and the consumed prefix is deleted once it is
  at least half of the array, so no byte is moved more than a constant number of times.

Invariants: ``0 <= _start <= len(_data)``; ``_scanned`` counts the unconsumed bytes already
searched without finding what the last ``maybe_take_*`` looked for (reset on every
consumption), so a search resumes near where the previous one stopped and a line or section
arriving one byte at a time costs O(n) searching in total, not O(n**2).

Costs: ``feed`` is O(1) on an empty buffer and O(len(data)) otherwise (a small unconsumed
remainder is joined with the new data, at most ``SMALL_REMAINDER_BYTES`` copied);
``take``/``maybe_take_*`` copy the bytes they return once in bytes mode (twice in bytearray
mode), and not at all when they return a whole fed object.

The API returns ``bytes`` only; it never exposes the internal array or a view of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:
    # Aliases Cython cannot resolve, so that compiled and interpreted ``feed`` accept the
    # same argument types (Cython checks parameters annotated ``bytes`` exactly), and the
    # C types in _receive_buffer.pxd apply to the integers.
    Buffer = Union[bytes, bytearray, memoryview]
    Int = int

# Up to this many unconsumed bytes are joined with newly fed data into a new ``bytes``;
# a larger remainder switches the buffer to bytearray mode.
SMALL_REMAINDER_BYTES = 2048

_LF = 10
_CR = 13


class ReceiveBuffer:
    """Bytes received and not yet consumed by the parser."""

    __slots__ = ("_data", "_start", "_scanned")

    def __init__(self) -> None:
        self._data: Union[bytes, bytearray] = b""
        self._start = 0
        self._scanned = 0

    def __len__(self) -> int:
        return len(self._data) - self._start

    def feed(self, data: Buffer) -> None:
        """Append ``data`` (bytes, or any bytes-like object, which is copied)."""
        if type(data) is not bytes:
            data = bytes(data)
        if not data:
            return
        current = self._data
        start = self._start
        remaining = len(current) - start
        if remaining == 0:
            self._data = data
            self._start = 0
        elif type(current) is bytearray:
            if start and start * 2 >= len(current):
                del current[:start]
                self._start = 0
            current += data
        elif remaining <= SMALL_REMAINDER_BYTES:
            self._data = current[start:] + data
            self._start = 0
        else:
            array = bytearray(current[start:])
            array += data
            self._data = array
            self._start = 0

    def _consume(self, end: Int, skip: Int) -> bytes:
        # Return the unconsumed bytes up to ``end`` (an index into ``_data``) as bytes, and
        # consume them and the ``skip`` bytes after them (a terminator); drop the storage
        # when nothing is left.
        data = self._data
        start = self._start
        if type(data) is bytes:
            chunk = data if start == 0 and end == len(data) else data[start:end]
        else:
            chunk = bytes(data[start:end])
        end += skip
        if end >= len(data):
            self._data = b""
            self._start = 0
        else:
            self._start = end
        self._scanned = 0
        return chunk

    def take(self, count: Int) -> bytes:
        """Consume and return the next ``count`` bytes, or fewer if fewer are buffered
        (``b""`` when the buffer is empty)."""
        end = self._start + count
        size = len(self._data)
        return self._consume(end if end < size else size, 0)

    def take_all(self) -> bytes:
        """Consume and return everything buffered."""
        return self._consume(len(self._data), 0)

    def first_byte(self) -> int:
        """The next unconsumed byte, or -1 when the buffer is empty."""
        if self._start == len(self._data):
            return -1
        return self._data[self._start]

    def maybe_take_line(self) -> Optional[bytes]:
        """Consume a CRLF-terminated line and return it without the CRLF; None if no CRLF
        is buffered yet. A bare LF does not end the line (RFC 9112 §7.1 chunk lines)."""
        data = self._data
        start = self._start
        search_from = start + self._scanned - 1 if self._scanned else start
        end = data.find(b"\r\n", search_from)
        if end < 0:
            self._scanned = len(data) - start
            return None
        return self._consume(end, 2)

    def maybe_take_section(self) -> Optional[bytes]:
        """Consume a run of lines ended by an empty line (a head, or a trailer section) and
        return the lines with their terminators, without the empty line (``b""`` when the
        first line is already empty). None if no empty line is buffered yet.

        Lines end with LF, optionally preceded by CR (RFC 9112 §2.2 allows recognising a
        bare LF); a CR elsewhere is left in the line for the caller to reject.
        """
        data = self._data
        start = self._start
        size = len(data) - start
        if size == 0:
            return None
        first = data[start]
        if first == _LF:
            return self._consume(start, 1)
        if first == _CR:
            if size < 2:
                return None
            if data[start + 1] == _LF:
                return self._consume(start, 2)
        search_from = start + self._scanned - 2 if self._scanned > 2 else start
        # The empty line follows the first LF that is followed by CRLF or by LF.
        crlf_end = data.find(b"\n\r\n", search_from)
        lf_end = data.find(b"\n\n", search_from, len(data) if crlf_end < 0 else crlf_end + 1)
        if lf_end >= 0:
            section_end = lf_end + 1
            skipped = 1
        elif crlf_end >= 0:
            section_end = crlf_end + 1
            skipped = 2
        else:
            self._scanned = size
            return None
        return self._consume(section_end, skipped)
