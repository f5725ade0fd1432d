"""Serialising an HTTP/1.1 request: the head, and the body in its framing.

HOT MODULE: compiled by Cython 3 in pure-Python mode (listed in ``build_config.bzl``); the
same file also runs interpreted, and both forms must behave identically.

Validation (every message is h11's for the same input, so users see what they saw with
h11; the tests check this against h11). Nothing invalid is ever written, so a caller cannot
inject a second request or smuggle a header through a value:

1. Each header, in order: the name must be a token ("Illegal header name b'...'"); the value
   may not contain NUL, CR, LF, VT or FF, nor start or end with SP or HTAB ("Illegal header
   value b'...'"); Content-Length and Transfer-Encoding are then checked as in ``_fields``.
2. Exactly one Host header (RFC 9112 §3.2): "Missing mandatory Host: header", "Found
   multiple Host: headers".
3. The method must be a token ("Illegal method characters"); the target must be one or more
   visible ASCII bytes, no whitespace, controls or DEL ("Illegal target characters").

Output: ``METHOD SP target SP HTTP/1.1 CRLF``, then ``name: value CRLF`` per header in the
caller's order and case, then CRLF. Like h11, duplicate Content-Length fields are sent once,
as the single element, and Transfer-Encoding is sent as ``chunked``. Unlike h11, a
Content-Length field is left out when Transfer-Encoding is present: RFC 9112 §6.1 says a
sender MUST NOT send both (h11 sends both, and frames the body as chunked).

Framing of the body (RFC 9112 §6.3, for requests): Transfer-Encoding: chunked, else
Content-Length, else no body at all (a request without framing headers has length 0).

Cost: one pass over the headers; two regular-expression matches per header; one join.
``request_head`` remembers valid heads, so a repeated one costs a dict lookup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Dict, List, Sequence, Tuple, Union

from httpcore._core._exceptions import LocalProtocolError
from httpcore._protocols._http11._fields import (
    BAD_CONTENT_LENGTH,
    CONFLICTING_CONTENT_LENGTH,
    MULTIPLE_TRANSFER_ENCODING,
    ONLY_CHUNKED,
    TOKEN_RE,
    VALUE_BYTE,
    VALUE_EDGE_BYTE,
    content_length_element,
    has_close_token,
    is_content_length,
)

if TYPE_CHECKING:
    # Aliases Cython cannot resolve, so both forms accept the same argument types.
    Bytes = bytes
    HeaderList = Sequence[Tuple[bytes, bytes]]

# field-value = *field-content; field-content = field-vchar
#               [ 1*( SP / HTAB / field-vchar ) field-vchar ]   (RFC 9110 §5.5, as h11 reads it)
_VALUE_RE = re.compile(
    rb"(?:" + VALUE_EDGE_BYTE + rb"(?:" + VALUE_BYTE + rb"*" + VALUE_EDGE_BYTE + rb")?)?"
)
# request-target: one or more visible ASCII bytes (RFC 9112 §3.2; its forms are the URL
# layer's business, whitespace and controls are what would break the request line).
_TARGET_RE = re.compile(rb"[\x21-\x7e]+")

TOO_MUCH_DATA = "Too much data for declared Content-Length"
TOO_LITTLE_DATA = "Too little data for declared Content-Length"


class RequestHead:
    """A validated request head: its bytes and what the rest of the exchange needs.

    ``data``: the bytes to send. ``content_length``: the declared body length, or -1 when
    the body is chunked. ``close``: the request carries ``Connection: close``. ``upgrade``:
    it carries an ``Upgrade`` header (a 101 response is then allowed).
    """

    __slots__ = ("data", "method", "content_length", "close", "upgrade")

    def __init__(self, method: Bytes, target: Bytes, headers: HeaderList) -> None:
        lines: List[bytes] = [method, b" ", target, b" HTTP/1.1\r\n"]
        content_length = b""
        content_length_at = -1
        chunked = False
        close = False
        upgrade = False
        hosts = 0
        for name, value in headers:
            if TOKEN_RE.fullmatch(name) is None:
                raise LocalProtocolError(f"Illegal header name {name!r}")
            if _VALUE_RE.fullmatch(value) is None:
                raise LocalProtocolError(f"Illegal header value {value!r}")
            size = len(name)
            if size == 4 or size == 7 or size == 10 or size == 14 or size == 17:
                lowered = name.lower()
                if lowered == b"host":
                    hosts += 1
                elif lowered == b"content-length":
                    element = content_length_element(value)
                    if element is None:
                        raise LocalProtocolError(CONFLICTING_CONTENT_LENGTH)
                    if not is_content_length(element):
                        raise LocalProtocolError(BAD_CONTENT_LENGTH)
                    if content_length:
                        if element != content_length:
                            raise LocalProtocolError(CONFLICTING_CONTENT_LENGTH)
                        continue
                    content_length = element
                    content_length_at = len(lines)
                    value = element
                elif lowered == b"transfer-encoding":
                    if chunked:
                        raise LocalProtocolError(MULTIPLE_TRANSFER_ENCODING)
                    if value.lower() != b"chunked":
                        raise LocalProtocolError(ONLY_CHUNKED)
                    chunked = True
                    value = b"chunked"
                elif lowered == b"connection":
                    if has_close_token(value):
                        close = True
                elif lowered == b"upgrade":
                    upgrade = True
            lines.append(name)
            lines.append(b": ")
            lines.append(value)
            lines.append(b"\r\n")
        if hosts != 1:
            raise LocalProtocolError(
                "Missing mandatory Host: header" if hosts == 0 else "Found multiple Host: headers"
            )
        if TOKEN_RE.fullmatch(method) is None:
            raise LocalProtocolError("Illegal method characters")
        if _TARGET_RE.fullmatch(target) is None:
            raise LocalProtocolError("Illegal target characters")
        if chunked and content_length_at >= 0:
            del lines[content_length_at : content_length_at + 4]
        lines.append(b"\r\n")
        self.data = b"".join(lines)
        self.method = method
        if chunked:
            self.content_length = -1
        elif content_length:
            self.content_length = int(content_length)
        else:
            self.content_length = 0
        self.close = close
        self.upgrade = upgrade


# Validated heads, by (method, target, header pairs): clients repeat the same request head
# over and over, and validating it is most of the cost of sending one. Only heads built
# from exact ``bytes`` (in exact tuples) are remembered: other types may compare equal to
# bytes and still behave differently. Only valid heads are stored, so an invalid one
# raises every time. A ``RequestHead`` is never changed after it is built, so one can be
# shared. Bounded: emptied when it reaches ``HEAD_CACHE_SIZE`` entries.
HEAD_CACHE_SIZE = 256
_head_cache: Dict[Tuple[object, ...], RequestHead] = {}


def request_head(method: Bytes, target: Bytes, headers: HeaderList) -> RequestHead:
    """``RequestHead(method, target, headers)``, or an equal one built before."""
    if type(method) is not bytes or type(target) is not bytes:
        return RequestHead(method, target, headers)
    key: List[object] = [method, target]
    for item in headers:
        if (
            type(item) is not tuple
            or len(item) != 2
            or type(item[0]) is not bytes
            or type(item[1]) is not bytes
        ):
            return RequestHead(method, target, headers)
        key.append(item)
    cache_key = tuple(key)
    head = _head_cache.get(cache_key)
    if head is None:
        head = RequestHead(method, target, headers)
        if len(_head_cache) >= HEAD_CACHE_SIZE:
            _head_cache.clear()
        _head_cache[cache_key] = head
    return head


def serialize_request_head(method: Bytes, target: Bytes, headers: HeaderList) -> bytes:
    """The bytes of a request head; raises LocalProtocolError if the request is invalid."""
    return RequestHead(method, target, headers).data


class ContentLengthWriter:
    """Frames a body of a declared length (RFC 9112 §6.2): the bytes go out unchanged."""

    __slots__ = ("_remaining",)

    def __init__(self, length: int) -> None:
        self._remaining = length

    def write(self, data: Bytes) -> bytes:
        """The bytes to send for ``data``; LocalProtocolError past the declared length."""
        if len(data) > self._remaining:
            raise LocalProtocolError(TOO_MUCH_DATA)
        self._remaining -= len(data)
        return data

    def end(self) -> bytes:
        """The bytes that end the body (none); LocalProtocolError if it fell short."""
        if self._remaining:
            raise LocalProtocolError(TOO_LITTLE_DATA)
        return b""


class ChunkedWriter:
    """Frames a body in the chunked transfer coding (RFC 9112 §7.1), one chunk per write."""

    __slots__ = ()

    def write(self, data: Bytes) -> bytes:
        """``data`` as one chunk; nothing for empty data (an empty chunk would end the body)."""
        if not data:
            return b""
        return b"".join((b"%x\r\n" % len(data), data, b"\r\n"))

    def end(self) -> bytes:
        """The last chunk and an empty trailer section."""
        return b"0\r\n\r\n"


BodyWriter = Union[ContentLengthWriter, ChunkedWriter]


def body_writer(head: RequestHead) -> BodyWriter:
    """The body framing for a request head: chunked, a declared length, or no body."""
    if head.content_length < 0:
        return ChunkedWriter()
    return ContentLengthWriter(head.content_length)
