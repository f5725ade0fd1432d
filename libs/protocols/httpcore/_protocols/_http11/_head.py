"""Parsing a response head (status line and header section) and a trailer section.

HOT MODULE: compiled by Cython 3 in pure-Python mode (listed in ``build_config.bzl``), with
``_head.pxd`` making its classes extension types; the same file also runs interpreted, and
both forms must behave identically.

Input: a *section* as ``ReceiveBuffer.maybe_take_section`` returns it: the lines up to the
empty line that ends the head, each line with its terminator (CRLF, or a bare LF, which RFC
9112 §2.2 allows a recipient to recognise), the empty line itself left out.

Grammar (RFC 9112 §4, §5), with the deviations h11 also has and one strictness of ours:

    status-line = HTTP-version SP status-code SP [ reason-phrase ]
    HTTP-version = %s"HTTP/" DIGIT "." DIGIT
    status-code = 3DIGIT                       ; 100-999 accepted; below 100 rejected
    reason-phrase = *( any byte but NUL CR LF VT FF )   ; the SP before an empty reason
                                                        ; may be missing
    field-line = field-name ":" OWS field-value OWS     ; no whitespace before ":"

* **No obs-fold**: a field line starting with SP or HTAB is rejected (RFC 9112 §5.2 lets a
  recipient reject it; h11 instead joins it to the previous line). This is deliberate: folded
  lines are a classic way to make two parsers disagree about a header.
* Checks run in h11's order, so that both report the same first error: the syntax of every
  line, then Content-Length and Transfer-Encoding field by field (``_fields``).
* Content-Length and Transfer-Encoding fields are normalised as h11 normalises them, since
  users see the header list: duplicate Content-Length fields collapse into the first one,
  whose value becomes the single element (``"5, 5"`` -> ``"5"``), and a Transfer-Encoding
  value becomes ``chunked``. Everything else is kept as sent, names with their case.

Cost: the usual head (CRLF line ends, valid) is checked by one regular expression over the
whole section, split once, and each field line is cut once at its colon; only an invalid or
LF-terminated head takes the line-by-line path, which also finds the error to report. A
head seen recently (same bytes) costs a dict lookup and new objects (``parse_head``).
"""

from __future__ import annotations

import re
from typing import Dict, List, Tuple

from httpcore._core._exceptions import RemoteProtocolError
from httpcore._protocols._http11._events import Headers, ResponseHead
from httpcore._protocols._http11._fields import (
    BAD_CONTENT_LENGTH,
    CONFLICTING_CONTENT_LENGTH,
    MULTIPLE_TRANSFER_ENCODING,
    ONLY_CHUNKED,
    OWS,
    TCHAR,
    VALUE_BYTE,
    content_length_element,
    has_close_token,
    is_content_length,
)

_STATUS_LINE = rb"HTTP/([0-9]\.[0-9]) ([0-9]{3})(?: (" + VALUE_BYTE + rb"*))?"
_FIELD_LINE = TCHAR + rb"+:" + VALUE_BYTE + rb"*"

# The usual head in one match: CRLF-terminated status line and field lines.
_HEAD_RE = re.compile(_STATUS_LINE + rb"\r\n(?:" + _FIELD_LINE + rb"\r\n)*")
_FIELDS_RE = re.compile(rb"(?:" + _FIELD_LINE + rb"\r\n)*")
_STATUS_LINE_RE = re.compile(_STATUS_LINE)
_FIELD_LINE_RE = re.compile(_FIELD_LINE)

NO_STATUS_LINE = "no response line received"
CONTINUATION_AT_START = "continuation line at start of headers"


def _split_lines(section: bytes) -> List[bytes]:
    # The lines of a section, terminators removed (LF, and one CR before it).
    lines = section.split(b"\n")
    lines.pop()
    for index in range(len(lines)):
        line = lines[index]
        if line.endswith(b"\r"):
            lines[index] = line[:-1]
    return lines


def _check_field_lines(lines: List[bytes], first: int) -> None:
    # Reject the first field line (from index ``first``) that breaks the grammar.
    for index in range(first, len(lines)):
        line = lines[index]
        if line.startswith(b" ") or line.startswith(b"\t"):
            if index == first:
                raise RemoteProtocolError(CONTINUATION_AT_START)
            raise RemoteProtocolError(
                f"obsolete line folding is not accepted (RFC 9112 §5.2): {line!r}"
            )
        if _FIELD_LINE_RE.fullmatch(line) is None:
            raise RemoteProtocolError(f"illegal header line: {bytearray(line)!r}")


class FieldSection:
    """Field lines turned into a header list, with what framing needs from them.

    ``content_length`` is -1 without a Content-Length field; ``chunked`` tells whether
    Transfer-Encoding (necessarily ``chunked``) is present; ``close`` whether a Connection
    field holds ``close``.
    """

    __slots__ = ("headers", "content_length", "chunked", "close")

    def __init__(self, lines: List[bytes], first: int, last: int) -> None:
        headers: Headers = []
        content_length = b""
        chunked = False
        close = False
        for index in range(first, last):
            name, _, value = lines[index].partition(b":")
            value = value.strip(OWS)
            size = len(name)
            if size == 14 or size == 17 or size == 10:
                lowered = name.lower()
                if lowered == b"content-length":
                    element = content_length_element(value)
                    if element is None:
                        raise RemoteProtocolError(CONFLICTING_CONTENT_LENGTH)
                    if not is_content_length(element):
                        raise RemoteProtocolError(BAD_CONTENT_LENGTH)
                    if content_length:
                        if element != content_length:
                            raise RemoteProtocolError(CONFLICTING_CONTENT_LENGTH)
                        continue
                    content_length = element
                    value = element
                elif lowered == b"transfer-encoding":
                    if chunked:
                        raise RemoteProtocolError(MULTIPLE_TRANSFER_ENCODING)
                    if value.lower() != b"chunked":
                        raise RemoteProtocolError(ONLY_CHUNKED)
                    chunked = True
                    value = b"chunked"
                elif lowered == b"connection" and has_close_token(value):
                    close = True
            headers.append((name, value))
        self.headers = headers
        self.content_length = int(content_length) if content_length else -1
        self.chunked = chunked
        self.close = close


# Heads parsed before, by their bytes. A server's responses to repeated requests usually
# repeat the head byte for byte (its Date changes once a second), and parsing is a pure
# function of those bytes, so a repeated head is rebuilt from what was found last time:
# new event and field-section objects and a new header list each time (callers own and may
# change them; the remembered parts are never handed out). Only valid heads of at most
# ``HEAD_CACHE_MAX_BYTES`` are stored; emptied when ``HEAD_CACHE_SIZE`` entries are held.
HEAD_CACHE_SIZE = 64
HEAD_CACHE_MAX_BYTES = 2048
_Parts = Tuple[int, bytes, bytes, Tuple[Tuple[bytes, bytes], ...], int, bool, bool]
_parsed_heads: Dict[bytes, _Parts] = {}


def _rebuild(parts: _Parts) -> Tuple[ResponseHead, FieldSection]:
    headers = list(parts[3])
    fields = FieldSection.__new__(FieldSection)
    fields.headers = headers
    fields.content_length = parts[4]
    fields.chunked = parts[5]
    fields.close = parts[6]
    return ResponseHead(parts[0], parts[1], parts[2], headers), fields


def parse_head(section: bytes) -> Tuple[ResponseHead, FieldSection]:
    """Parse a response head section; raise RemoteProtocolError if it is malformed.

    The status code is not range-checked here (the parser does it, after the fields, which
    is the order h11 reports errors in).
    """
    parts = _parsed_heads.get(section)
    if parts is not None:
        return _rebuild(parts)
    head, fields = _parse_head(section)
    if len(section) <= HEAD_CACHE_MAX_BYTES:
        if len(_parsed_heads) >= HEAD_CACHE_SIZE:
            _parsed_heads.clear()
        _parsed_heads[section] = (
            head.status_code,
            head.reason,
            head.http_version,
            tuple(fields.headers),
            fields.content_length,
            fields.chunked,
            fields.close,
        )
    return head, fields


def _parse_head(section: bytes) -> Tuple[ResponseHead, FieldSection]:
    if not section:
        raise RemoteProtocolError(NO_STATUS_LINE)
    match = _HEAD_RE.fullmatch(section)
    if match is not None:
        lines = section.split(b"\r\n")
        last = len(lines) - 1
        version, status, reason = match.group(1, 2, 3)
    else:
        lines = _split_lines(section)
        last = len(lines)
        status_match = _STATUS_LINE_RE.fullmatch(lines[0])
        if status_match is None:
            raise RemoteProtocolError(f"illegal status line: {bytearray(lines[0])!r}")
        _check_field_lines(lines, 1)
        version, status, reason = status_match.group(1, 2, 3)
    fields = FieldSection(lines, 1, last)
    head = ResponseHead(int(status), b"" if reason is None else reason, version, fields.headers)
    return head, fields


def parse_trailers(section: bytes) -> FieldSection:
    """Parse a trailer section (RFC 9112 §7.1.2): field lines with the header rules."""
    if not section:
        return FieldSection([], 0, 0)
    if _FIELDS_RE.fullmatch(section) is not None:
        lines = section.split(b"\r\n")
        return FieldSection(lines, 0, len(lines) - 1)
    lines = _split_lines(section)
    _check_field_lines(lines, 0)
    return FieldSection(lines, 0, len(lines))
