"""Differential tests: our HTTP/1.1 codec against h11, the reference (DESIGN.md decision 2).

h11 runs as a black box, the way httpcore 1.0.9 drove it: a client connection with
``max_incomplete_event_size`` = 100 KiB that has sent a matching request, and an end of input
while the response has not started reported as "Server disconnected without sending a
response." (httpcore checks for that before handing the EOF to h11). Both sides get the same
bytes, split the same ways, and must produce the same normalised outcome: the events (body
data joined), the keep-alive verdict, the bytes left over after a protocol switch, and the
error message.

The differences we want are listed in ``DISAGREEMENTS``, each with its reason; a difference
is accepted only when it is one of those, in the direction "we reject, h11 accepts" (or both
reject, for obs-fold, where h11 reports the folded line after joining it). Every listed
corpus case asserts that its disagreement really exists, so the list cannot go stale.

The harness (running each side, normalising, ``explain``) is ``tools/fuzz/target.py``, which
the coverage-guided fuzzer (``tools/fuzz.sh``) runs too.
"""

from __future__ import annotations

import random
from typing import Any, Dict, List, Optional, Sequence, Tuple

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpcore._core._exceptions import LocalProtocolError, RemoteProtocolError
from httpcore._protocols._http11 import (
    ChunkedWriter,
    ContentLengthWriter,
    RequestHead,
    body_writer,
)
from tools.fuzz.target import MAX_HEAD, TOO_LONG, Item, explain, h11_outcome, our_outcome

# Each allowed disagreement with h11, and why we differ.
DISAGREEMENTS = {
    "obs-fold": (
        "A field line starting with SP/HTAB (obsolete line folding): RFC 9112 §5.2 lets a "
        "recipient reject it and we do; h11 joins it to the previous line."
    ),
    "both-framings": (
        "Transfer-Encoding together with Content-Length: both read the body as chunked (RFC "
        "9112 §6.3 rule 3), but since such a message ought to be handled as an error (it may "
        "be response splitting) we do not keep the connection alive; h11 does."
    ),
    "chunk-extension": (
        "NUL or a bare CR in a chunk extension: we reject the chunk line; h11 ignores "
        "extensions whatever they contain."
    ),
    "head-size": (
        "A head (or chunk line, or trailer section) longer than 100 KiB + 1 byte: we always "
        "reject it; h11 rejects it only when one feed leaves more than 100 KiB of it "
        "incomplete, so its verdict depends on how the input was split."
    ),
}

def compare(
    data: bytes,
    parts: Sequence[bytes],
    method: bytes = b"GET",
    request_headers: Sequence[Tuple[bytes, bytes]] = (),
    eof: bool = True,
) -> Tuple[List[Item], Optional[str]]:
    """Run both on ``parts``; return our outcome and the disagreement explaining any
    difference (None when they agree). Fails on an unexplained difference."""
    ours = our_outcome(parts, method, request_headers, eof)
    theirs = h11_outcome(parts, method, request_headers, eof)
    if ours == theirs:
        return ours, None
    reason = explain(data, ours, theirs)
    assert reason is not None, f"parts={parts!r}\nours  ={ours!r}\nh11   ={theirs!r}"
    return ours, reason


def without_messages(outcome: List[Item]) -> List[Item]:
    """The outcome with error messages dropped: where h11's message depends on how the
    input was split (an early rejection of a head, a partial chunk footer), ours does too;
    everything else must not depend on the split."""
    return [("error",) if item[0] == "error" else item for item in outcome]


def splits(data: bytes) -> List[List[bytes]]:
    """The input in one piece, cut in two at every position, and one byte at a time."""
    result = [[data[:index], data[index:]] for index in range(len(data) + 1)]
    result.append([data[index : index + 1] for index in range(len(data))])
    return result


R = b"HTTP/1.1 "
CL5 = b"Content-Length: 5\r\n"
TE = b"Transfer-Encoding: chunked\r\n"
CHUNKED = R + b"200 OK\r\n" + TE + b"\r\n"
UPGRADE = ((b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"))

# name -> (data, options); options: method, request_headers, eof, disagreement.
CORPUS: Dict[str, Tuple[bytes, Dict[str, Any]]] = {
    # Content-Length bodies.
    "cl-basic": (R + b"200 OK\r\nContent-Type: text/plain\r\n" + CL5 + b"\r\nhello", {}),
    "cl-zero": (R + b"200 OK\r\nContent-Length: 0\r\n\r\n", {}),
    "cl-leading-zeros": (R + b"200 OK\r\nContent-Length: 005\r\n\r\nhello", {}),
    "cl-equal-duplicates": (
        R + b"200 OK\r\n" + CL5 + b"X: y\r\ncontent-LENGTH: 5\r\n\r\nhello",
        {},
    ),
    "cl-equal-list": (R + b"200 OK\r\nContent-Length: 5 ,\t5\r\n\r\nhello", {}),
    "cl-twenty-digits": (R + b"200 OK\r\nContent-Length: 00000000000000000002\r\n\r\nhi", {}),
    "cl-no-eof": (R + b"200 OK\r\n" + CL5 + b"\r\nhello", {"eof": False}),
    "cl-incomplete-no-eof": (R + b"200 OK\r\n" + CL5 + b"\r\nhel", {"eof": False}),
    "cl-truncated": (R + b"200 OK\r\nContent-Length: 13\r\n\r\nabcdefghij", {}),
    "cl-truncated-empty": (R + b"200 OK\r\n" + CL5 + b"\r\n", {}),
    "cl-extra-bytes": (R + b"200 OK\r\n" + CL5 + b"\r\nhelloHTTP/1.1 200 OK\r\n", {}),
    "cl-bad-negative": (R + b"200 OK\r\nContent-Length: -1\r\n\r\n", {}),
    "cl-bad-plus": (R + b"200 OK\r\nContent-Length: +1\r\n\r\nx", {}),
    "cl-bad-suffix": (R + b"200 OK\r\nContent-Length: 1x\r\n\r\nx", {}),
    "cl-bad-hex": (R + b"200 OK\r\nContent-Length: 0x1\r\n\r\nx", {}),
    "cl-bad-empty": (R + b"200 OK\r\nContent-Length: \r\n\r\n", {}),
    "cl-bad-inner-space": (R + b"200 OK\r\nContent-Length: 1 1\r\n\r\nx", {}),
    "cl-bad-21-digits": (R + b"200 OK\r\nContent-Length: 100000000000000000000\r\n\r\n", {}),
    "cl-conflict": (R + b"200 OK\r\n" + CL5 + b"Content-Length: 6\r\n\r\nhello!", {}),
    "cl-conflict-list": (R + b"200 OK\r\nContent-Length: 5,6\r\n\r\nhello", {}),
    "cl-conflict-zeros": (R + b"200 OK\r\n" + CL5 + b"Content-Length: 05\r\n\r\nhello", {}),
    "cl-conflict-trailing-comma": (R + b"200 OK\r\nContent-Length: 5,\r\n\r\nhello", {}),
    "cl-bad-then-conflict": (R + b"200 OK\r\nContent-Length: x\r\n" + CL5 + b"\r\n", {}),
    # Chunked bodies.
    "chunked-basic": (CHUNKED + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", {}),
    "chunked-hex-sizes": (CHUNKED + b"a\r\n0123456789\r\nB\r\n0123456789a\r\n0\r\n\r\n", {}),
    "chunked-leading-zeros": (CHUNKED + b"0005\r\nhello\r\n000\r\n\r\n", {}),
    "chunked-twenty-digits": (CHUNKED + b"00000000000000000002\r\nhi\r\n0\r\n\r\n", {}),
    "chunked-extensions": (CHUNKED + b'5;a=b;c="d e";f\r\nhello\r\n0;last\r\n\r\n', {}),
    "chunked-odd-extension": (CHUNKED + b"5;\x01=@ ;;\r\nhello\r\n0\r\n\r\n", {}),
    "chunked-size-whitespace": (CHUNKED + b"5 \t\r\nhello\r\n0 \r\n\r\n", {}),
    "chunked-trailers": (CHUNKED + b"5\r\nhello\r\n0\r\nX-Sum: abc\r\nx-other:  d \r\n\r\n", {}),
    "chunked-trailers-lf": (CHUNKED + b"5\r\nhello\r\n0\r\nX: y\n\n", {}),
    "chunked-trailers-empty-lf": (CHUNKED + b"5\r\nhello\r\n0\r\n\n", {}),
    "chunked-trailer-length-normalised": (CHUNKED + b"0\r\nContent-Length: 1, 1\r\n\r\n", {}),
    "chunked-trailer-te-normalised": (CHUNKED + b"0\r\nTransfer-Encoding: CHUNKED\r\n\r\n", {}),
    "chunked-te-case": (R + b"200 OK\r\nTransfer-Encoding:  Chunked \r\n\r\n0\r\n\r\n", {}),
    "chunked-connection-close": (
        R + b"200 OK\r\nConnection: close\r\n" + TE + b"\r\n2\r\nhi\r\n0\r\n\r\n",
        {},
    ),
    "chunked-no-eof": (CHUNKED + b"5\r\nhello\r\n", {"eof": False}),
    "chunked-eof-in-data": (CHUNKED + b"5\r\nhel", {}),
    "chunked-eof-after-data": (CHUNKED + b"5\r\nhello", {}),
    "chunked-eof-in-footer": (CHUNKED + b"5\r\nhello\r", {}),
    "chunked-eof-before-size": (CHUNKED + b"5\r\nhello\r\n", {}),
    "chunked-eof-in-size": (CHUNKED + b"5\r\nhello\r\n1", {}),
    "chunked-eof-before-trailers": (CHUNKED + b"5\r\nhello\r\n0\r\n", {}),
    "chunked-eof-in-trailers": (CHUNKED + b"5\r\nhello\r\n0\r\nX: y\r\n", {}),
    "chunked-bad-footer": (CHUNKED + b"5\r\nhelloXY0\r\n\r\n", {}),
    "chunked-bad-footer-lf": (CHUNKED + b"5\r\nhello\n0\r\n\r\n", {}),
    "chunked-bad-footer-cr-cr": (CHUNKED + b"5\r\nhello\r\r\n0\r\n\r\n", {}),
    "chunked-bad-size-space": (CHUNKED + b" 5\r\nhello\r\n0\r\n\r\n", {}),
    "chunked-bad-size-sign": (CHUNKED + b"+5\r\nhello\r\n0\r\n\r\n", {}),
    "chunked-bad-size-0x": (CHUNKED + b"0x5\r\nhello\r\n0\r\n\r\n", {}),
    "chunked-bad-size-underscore": (CHUNKED + b"5_0\r\nhello\r\n0\r\n\r\n", {}),
    "chunked-bad-size-empty": (CHUNKED + b"\r\nhello\r\n0\r\n\r\n", {}),
    "chunked-bad-size-letter": (CHUNKED + b"g\r\nhello\r\n0\r\n\r\n", {}),
    "chunked-bad-size-21-digits": (CHUNKED + b"000000000000000000005\r\nhello\r\n", {}),
    "chunked-bad-size-space-ext": (CHUNKED + b"5 ;a\r\nhello\r\n0\r\n\r\n", {}),
    "chunked-bad-size-lf": (CHUNKED + b"5\nhello\r\n0\r\n\r\n", {}),
    "chunked-bad-trailer": (CHUNKED + b"0\r\nX :y\r\n\r\n", {}),
    "chunked-bad-trailer-cl": (CHUNKED + b"0\r\nContent-Length: x\r\n\r\n", {}),
    "chunked-bad-trailer-te": (CHUNKED + b"0\r\nTransfer-Encoding: gzip\r\n\r\n", {}),
    "chunked-trailer-continuation-first": (CHUNKED + b"0\r\n X: y\r\n\r\n", {}),
    # Transfer-Encoding values.
    "te-gzip": (R + b"200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", {}),
    "te-gzip-chunked": (R + b"200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", {}),
    "te-chunked-gzip": (R + b"200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", {}),
    "te-identity": (R + b"200 OK\r\nTransfer-Encoding: identity\r\n\r\n", {}),
    "te-empty": (R + b"200 OK\r\nTransfer-Encoding:\r\n\r\n", {}),
    "te-trailing-comma": (R + b"200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n", {}),
    "te-twice": (R + b"200 OK\r\n" + TE + TE + b"\r\n0\r\n\r\n", {}),
    "te-bad-in-head-response": (
        R + b"200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        {"method": b"HEAD"},
    ),
    "te-http10": (b"HTTP/1.0 200 OK\r\n" + TE + b"\r\n5\r\nhello\r\n0\r\n\r\n", {}),
    # Bodies delimited by the close, and bodiless responses.
    "close-delimited": (R + b"200 OK\r\nX: y\r\n\r\nhello world", {}),
    "close-delimited-empty": (R + b"200 OK\r\n\r\n", {}),
    "close-delimited-no-eof": (R + b"200 OK\r\n\r\nhello", {"eof": False}),
    "head-with-length": (R + b"200 OK\r\n" + CL5 + b"\r\n", {"method": b"HEAD"}),
    "head-with-chunked": (R + b"200 OK\r\n" + TE + b"\r\n", {"method": b"HEAD"}),
    "head-without-framing": (R + b"200 OK\r\n\r\n", {"method": b"HEAD", "eof": False}),
    "204-with-length": (R + b"204 No Content\r\n" + CL5 + b"\r\n", {"eof": False}),
    "304-with-chunked": (R + b"304 Not Modified\r\n" + TE + b"\r\n", {"eof": False}),
    "204-bad-length": (R + b"204 No Content\r\nContent-Length: x\r\n\r\n", {}),
    # Interim responses and protocol switches.
    "100-then-200": (R + b"100 Continue\r\n\r\n" + R + b"200 OK\r\n" + CL5 + b"\r\nhello", {}),
    "103-then-200": (
        R + b"103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        + R + b"200 OK\r\n" + CL5 + b"\r\nhello",
        {},
    ),
    "100-100-200": (R + b"100 A\r\n\r\n" + R + b"100 B\r\n\r\n" + R + b"204 C\r\n\r\n", {}),
    "100-with-body-headers": (
        R + b"100 Continue\r\n" + CL5 + b"\r\n" + R + b"200 OK\r\n" + CL5 + b"\r\nhello",
        {},
    ),
    "100-close-ignored": (
        R + b"100 Continue\r\nConnection: close\r\n\r\n" + R + b"200 OK\r\n" + CL5 + b"\r\nhello",
        {},
    ),
    "100-bad-length": (R + b"100 Continue\r\nContent-Length: x\r\n\r\n", {}),
    "100-then-eof": (R + b"100 Continue\r\n\r\n", {}),
    "100-then-partial-eof": (R + b"100 Continue\r\n\r\nHTTP/1.1 2", {}),
    "101-switch": (
        R + b"101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nfoobar",
        {"request_headers": UPGRADE},
    ),
    "101-switch-no-trailing": (
        R + b"101 Switching Protocols\r\n\r\n",
        {"request_headers": UPGRADE, "eof": False},
    ),
    "100-then-101": (
        R + b"100 Continue\r\n\r\n" + R + b"101 Switching\r\n\r\n\x00\x01",
        {"request_headers": UPGRADE},
    ),
    "101-without-upgrade": (R + b"101 Switching Protocols\r\n\r\nfoobar", {}),
    "101-upgrade-header-alone": (
        R + b"101 Switching Protocols\r\n\r\nfoobar",
        {"request_headers": ((b"Upgrade", b"h2c"),)},
    ),
    "101-connection-upgrade-alone": (
        R + b"101 Switching Protocols\r\n\r\nfoobar",
        {"request_headers": ((b"Connection", b"Upgrade"),)},
    ),
    "upgrade-refused": (R + b"200 OK\r\n" + CL5 + b"\r\nhello", {"request_headers": UPGRADE}),
    "connect-200": (R + b"200 Connection established\r\n\r\nfoobar", {"method": b"CONNECT"}),
    "connect-200-with-length": (R + b"200 OK\r\n" + CL5 + b"\r\nfoobar", {"method": b"CONNECT"}),
    "connect-204": (R + b"204 OK\r\n\r\n", {"method": b"CONNECT", "eof": False}),
    "connect-407": (R + b"407 Auth\r\n" + CL5 + b"\r\nhello", {"method": b"CONNECT"}),
    "connect-407-close-delimited": (R + b"407 Auth\r\n\r\nhello", {"method": b"CONNECT"}),
    "connect-101-without-upgrade": (R + b"101 Switching\r\n\r\n", {"method": b"CONNECT"}),
    "connect-lowercase-method": (R + b"200 OK\r\n\r\nfoobar", {"method": b"connect"}),
    "connect-bad-length": (R + b"200 OK\r\nContent-Length: x\r\n\r\n", {"method": b"CONNECT"}),
    # Versions and keep-alive.
    "http10-length": (b"HTTP/1.0 200 OK\r\n" + CL5 + b"\r\nhello", {}),
    "http10-keep-alive": (
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n" + CL5 + b"\r\nhello",
        {},
    ),
    "http10-close-delimited": (b"HTTP/1.0 200 OK\r\n\r\nhello", {}),
    "http09-version": (b"HTTP/0.9 200 OK\r\n" + CL5 + b"\r\nhello", {}),
    "http20-version": (b"HTTP/2.0 200 OK\r\n" + CL5 + b"\r\nhello", {}),
    "http12-version": (b"HTTP/1.2 200 OK\r\n" + CL5 + b"\r\nhello", {}),
    "response-close": (R + b"200 OK\r\nConnection: close\r\n" + CL5 + b"\r\nhello", {}),
    "response-close-token": (
        R + b"200 OK\r\nConnection: keep-alive, CLOSE\r\n" + CL5 + b"\r\nhello",
        {},
    ),
    "response-close-second-field": (
        R + b"200 OK\r\nConnection: x\r\nConnection: close \t\r\n" + CL5 + b"\r\nhello",
        {},
    ),
    "response-closed-not-close": (
        R + b"200 OK\r\nConnection: closed\r\n" + CL5 + b"\r\nhello",
        {},
    ),
    "request-close": (
        R + b"200 OK\r\n" + CL5 + b"\r\nhello",
        {"request_headers": ((b"Connection", b"close"),)},
    ),
    # Status lines.
    "reason-empty": (R + b"200 \r\n" + CL5 + b"\r\nhello", {}),
    "reason-missing-space": (R + b"200\r\n" + CL5 + b"\r\nhello", {}),
    "reason-odd-bytes": (R + b"200 O\tK \x01\x7f\x80\xff \r\n" + CL5 + b"\r\nhello", {}),
    "reason-spaces": (R + b"200  \r\n" + CL5 + b"\r\nhello", {}),
    "status-999": (R + b"999 Odd\r\n" + CL5 + b"\r\nhello", {}),
    "status-600": (R + b"600 Odd\r\n" + CL5 + b"\r\nhello", {}),
    "status-099": (R + b"099 Low\r\n\r\n", {}),
    "status-000-bad-length": (R + b"000 Low\r\nContent-Length: x\r\n\r\n", {}),
    "status-two-digits": (R + b"20 OK\r\n\r\n", {}),
    "status-four-digits": (R + b"2000 OK\r\n\r\n", {}),
    "status-letters": (R + b"2x0 OK\r\n\r\n", {}),
    "status-no-space": (R + b"200OK\r\n\r\n", {}),
    "status-tab": (b"HTTP/1.1\t200 OK\r\n\r\n", {}),
    "status-double-space": (b"HTTP/1.1  200 OK\r\n\r\n", {}),
    "status-tab-after-code": (R + b"200\tOK\r\n\r\n", {}),
    "status-leading-space": (b" HTTP/1.1 200 OK\r\n\r\n", {}),
    "status-lowercase-http": (b"http/1.1 200 OK\r\n\r\n", {}),
    "status-one-digit-version": (b"HTTP/1 200 OK\r\n\r\n", {}),
    "status-long-version": (b"HTTP/10.1 200 OK\r\n\r\n", {}),
    "status-nul-in-reason": (R + b"200 O\x00K\r\n\r\n", {}),
    "status-cr-in-reason": (R + b"200 O\rK\r\n\r\n", {}),
    "status-vt-in-reason": (R + b"200 \x0b\r\n\r\n", {}),
    "status-cr-cr-lf": (R + b"200 OK\r\r\n\r\n", {}),
    "leading-empty-line": (b"\r\n" + R + b"200 OK\r\n\r\n", {}),
    "leading-lf": (b"\n" + R + b"200 OK\r\n\r\n", {}),
    "garbage": (b"hello world\r\n\r\n", {}),
    "leading-control-byte": (b"\x01HTTP/1.1 200 OK\r\n\r\n", {}),
    "leading-control-after-interim": (R + b"100 Continue\r\n\r\n\tHTTP/1.1 200 OK\r\n\r\n", {}),
    "only-blank-line": (b"\r\n\r\n", {}),
    # Header lines.
    "field-names-case-kept": (
        R + b"200 OK\r\nX-MiXeD: 1\r\nx-mixed: 2\r\n" + CL5 + b"\r\nhello",
        {},
    ),
    "field-name-specials": (R + b"200 OK\r\nX-!#$%&'*+.^_`|~: v\r\n" + CL5 + b"\r\nhello", {}),
    "field-values": (
        R + b"200 OK\r\nA:b\r\nB:  c  d \t\r\nC:\r\nD: \x01\x7f\x80\xff\r\nE: :x:\r\n"
        + CL5 + b"\r\nhello",
        {},
    ),
    "field-lf-lines": (R + b"200 OK\nA: b\n" + CL5.replace(b"\r", b"") + b"\nhello", {}),
    "field-mixed-lines": (R + b"200 OK\r\nA: b\n" + CL5 + b"\nhello", {}),
    "field-lf-then-crlf-end": (R + b"200 OK\r\n" + CL5.replace(b"\r", b"") + b"\r\nhello", {}),
    "field-space-before-colon": (R + b"200 OK\r\nX :y\r\n\r\n", {}),
    "field-tab-before-colon": (R + b"200 OK\r\nX\t:y\r\n\r\n", {}),
    "field-continuation-first": (R + b"200 OK\r\n X: y\r\n\r\n", {}),
    "field-no-colon": (R + b"200 OK\r\nX\r\n\r\n", {}),
    "field-empty-name": (R + b"200 OK\r\n: y\r\n\r\n", {}),
    "field-bad-name": (R + b"200 OK\r\nX(: y\r\n\r\n", {}),
    "field-obs-text-name": (R + b"200 OK\r\nX\x80: y\r\n\r\n", {}),
    "field-nul": (R + b"200 OK\r\nX: a\x00b\r\n\r\n", {}),
    "field-cr": (R + b"200 OK\r\nX: a\rb\r\n\r\n", {}),
    "field-vt": (R + b"200 OK\r\nX: a\x0bb\r\n\r\n", {}),
    "field-ff": (R + b"200 OK\r\nX: \x0c\r\n\r\n", {}),
    "field-cr-line": (R + b"200 OK\r\nX: y\r\n\r\r\n\r\n", {}),
    "field-errors-before-length": (R + b"200 OK\r\nContent-Length: x\r\nX :y\r\n\r\n", {}),
    "field-te-error-first": (
        R + b"200 OK\r\nTransfer-Encoding: x\r\nContent-Length: x\r\n\r\n",
        {},
    ),
    "field-cl-error-first": (
        R + b"200 OK\r\nContent-Length: x\r\nTransfer-Encoding: x\r\n\r\n",
        {},
    ),
    # End of input before a response.
    "eof-immediately": (b"", {}),
    "eof-in-status-line": (b"HTTP/1.1 20", {}),
    "eof-in-fields": (R + b"200 OK\r\nContent-Len", {}),
    "eof-before-blank-line": (R + b"200 OK\r\n", {}),
    "eof-after-cr": (R + b"200 OK\r\n\r", {}),
    "no-eof-partial-head": (R + b"200 OK\r\n", {"eof": False}),
    # Listed disagreements.
    "obs-fold-space": (
        R + b"200 OK\r\nX: y\r\n z\r\n" + CL5 + b"\r\nhello",
        {"disagreement": "obs-fold"},
    ),
    "obs-fold-tab": (
        R + b"200 OK\r\nX: y\r\n\tz\r\n" + CL5 + b"\r\nhello",
        {"disagreement": "obs-fold"},
    ),
    "obs-fold-lf": (R + b"200 OK\nX: y\n z\n\n", {"disagreement": "obs-fold"}),
    "obs-fold-trailer": (CHUNKED + b"0\r\nX: y\r\n z\r\n\r\n", {"disagreement": "obs-fold"}),
    "obs-fold-after-bad-line": (R + b"200 OK\r\nX :y\r\n z\r\n\r\n", {"disagreement": "obs-fold"}),
    "both-framings": (
        R + b"200 OK\r\n" + TE + CL5 + b"\r\n5\r\nhello\r\n0\r\n\r\n",
        {"disagreement": "both-framings"},
    ),
    "both-framings-length-first": (
        R + b"200 OK\r\n" + CL5 + TE + b"\r\n5\r\nhello\r\n0\r\n\r\n",
        {"disagreement": "both-framings"},
    ),
    "both-framings-head": (
        R + b"200 OK\r\n" + TE + CL5 + b"\r\n",
        {"method": b"HEAD", "disagreement": "both-framings"},
    ),
    "both-framings-interim": (
        R + b"100 Continue\r\n" + TE + CL5 + b"\r\n" + R + b"204 OK\r\n\r\n",
        {},
    ),
    "both-framings-trailers": (
        CHUNKED + b"0\r\n" + TE + CL5 + b"\r\n",
        {},
    ),
    "chunk-extension-nul": (
        CHUNKED + b"5;a=\x00\r\nhello\r\n0\r\n\r\n",
        {"disagreement": "chunk-extension"},
    ),
    "chunk-extension-cr": (
        CHUNKED + b"5;a\rb\r\nhello\r\n0\r\n\r\n",
        {"disagreement": "chunk-extension"},
    ),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_case_matches_h11_at_every_split(name: str) -> None:
    data, case_options = CORPUS[name]
    expected_reason = case_options.get("disagreement")
    options = {k: v for k, v in case_options.items() if k != "disagreement"}
    whole, reason = compare(data, [data], **options)
    assert reason == expected_reason
    if expected_reason == "both-framings":
        assert whole[-1][0] == "end" and whole[-1][2] is False  # read, never kept alive
    elif expected_reason is not None:
        assert whole[-1][0] == "error"
    for parts in splits(data):
        ours, _ = compare(data, parts, **options)
        assert without_messages(ours) == without_messages(whole), f"split {parts!r}"


def test_every_listed_disagreement_has_a_corpus_case() -> None:
    listed = {options.get("disagreement") for _, options in CORPUS.values()}
    assert set(DISAGREEMENTS) - {"head-size"} <= listed


# Size bounds (100 KiB); too large to cut at every position, so cut near the bound.


def _head_of_size(total: int) -> bytes:
    prefix = R + b"200 OK\r\nContent-Length: 0\r\nCookie: "
    head = prefix + b"a" * (total - len(prefix) - 4) + b"\r\n\r\n"
    assert len(head) == total
    return head


def _cuts_near_end(data: bytes) -> List[List[bytes]]:
    cuts = [len(data) - k for k in range(0, 8)] + [1, len(data) // 2, MAX_HEAD - 1, MAX_HEAD]
    return [[data[:cut], data[cut:]] for cut in cuts if 0 <= cut <= len(data)]


@pytest.mark.parametrize("total", [MAX_HEAD - 1, MAX_HEAD, MAX_HEAD + 1])
def test_heads_up_to_the_bound_are_accepted_like_h11(total: int) -> None:
    data = _head_of_size(total)
    for parts in [[data]] + _cuts_near_end(data):
        ours, reason = compare(data, parts)
        assert reason is None
        assert ours[0][0] == "head"


@pytest.mark.parametrize("total", [MAX_HEAD + 2, MAX_HEAD + 3, 2 * MAX_HEAD])
def test_heads_past_the_bound_are_rejected_where_h11_may_accept(total: int) -> None:
    data = _head_of_size(total)
    reasons = set()
    for parts in [[data]] + _cuts_near_end(data) + [[data[:-1], data[-1:]]]:
        ours, reason = compare(data, parts)
        assert ours == [("error", TOO_LONG)]
        reasons.add(reason)
    assert reasons == {None, "head-size"}  # h11 agrees only for some splits


def test_long_chunk_line_and_trailers_are_bounded_like_heads() -> None:
    extension = b";" + b"x" * (MAX_HEAD - 3)
    line = b"5" + extension + b"\r\n"  # MAX_HEAD + 1 bytes: the longest accepted
    assert len(line) == MAX_HEAD + 1
    data = CHUNKED + line + b"hello\r\n0\r\nT: " + b"v" * (MAX_HEAD - 7) + b"\r\n\r\n"
    ours, reason = compare(data, [data])
    assert reason is None and ours[-1][0] == "end"
    longer = CHUNKED + b"5" + extension + b"x\r\nhello\r\n0\r\n\r\n"
    ours, reason = compare(longer, [longer])
    assert reason == "head-size" and ours[-1] == ("error", TOO_LONG)
    cut_at = len(CHUNKED) + MAX_HEAD + 1
    ours, reason = compare(longer, [longer[:cut_at], longer[cut_at:]])
    assert reason is None and ours[-1] == ("error", TOO_LONG)


# Generated responses.

_TOKEN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~",
    min_size=1,
    max_size=12,
).map(str.encode)
_VALUE = st.binary(max_size=12).map(
    lambda v: bytes(b for b in v if b not in b"\x00\r\n\x0b\x0c").strip(b" \t")
)
_FRAMING_NAMES = {b"content-length", b"transfer-encoding", b"connection"}
_FIELD = st.tuples(_TOKEN, _VALUE).filter(lambda f: f[0].lower() not in _FRAMING_NAMES)


def _random_case(draw: st.DrawFn, name: bytes) -> bytes:
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return bytes(c ^ 32 if flip and chr(c).isalpha() else c for c, flip in zip(name, flips))


@st.composite
def responses(draw: st.DrawFn) -> Tuple[bytes, bytes, Tuple[Tuple[bytes, bytes], ...], bool]:
    """A response stream (maybe preceded by interim responses), the request method, the
    request headers, and whether the input ends with EOF."""
    method = draw(st.sampled_from([b"GET", b"GET", b"POST", b"HEAD", b"CONNECT"]))
    request_headers: Tuple[Tuple[bytes, bytes], ...] = draw(
        st.sampled_from([(), (), ((b"Connection", b"close"),), UPGRADE])
    )
    out = b""
    for _ in range(draw(st.integers(0, 2))):
        out += R + draw(st.sampled_from([b"100 Continue", b"103 Early Hints", b"102"])) + b"\r\n"
        for name, value in draw(st.lists(_FIELD, max_size=2)):
            out += name + b": " + value + b"\r\n"
        out += b"\r\n"
    version = draw(st.sampled_from([b"1.1", b"1.1", b"1.0"]))
    status = draw(st.sampled_from([101, 200, 200, 201, 204, 206, 304, 404, 500, 599]))
    reason = draw(st.binary(max_size=8)).translate(None, b"\x00\r\n\x0b\x0c")
    out += b"HTTP/" + version + b" %d" % status
    if reason or draw(st.booleans()):
        out += b" " + reason
    out += b"\r\n"
    fields = draw(st.lists(_FIELD, max_size=4))
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    body_parts = draw(st.lists(st.binary(min_size=1, max_size=10), max_size=4))
    body = b"".join(body_parts)
    if draw(st.booleans()):
        option = draw(st.sampled_from([b"close", b"keep-alive", b"Upgrade"]))
        fields.append((_random_case(draw, b"connection"), option))
    if framing == "length":
        field = (_random_case(draw, b"content-length"), b"%d" % len(body))
        fields.insert(draw(st.integers(0, len(fields))), field)
    elif framing == "chunked":
        field = (_random_case(draw, b"transfer-encoding"), b"chunked")
        fields.insert(draw(st.integers(0, len(fields))), field)
    line_end = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    for name, value in fields:
        out += name + b":" + draw(st.sampled_from([b"", b" ", b"\t "])) + value + line_end
    out += line_end
    if framing == "chunked":
        for part in body_parts:
            extension = draw(st.sampled_from([b"", b";a=b", b';x="y z"']))
            out += b"%x" % len(part) + extension + b"\r\n" + part + b"\r\n"
        out += b"0\r\n"
        for name, value in draw(st.lists(_FIELD, max_size=2)):
            out += name + b": " + value + b"\r\n"
        out += b"\r\n"
    else:
        out += body
    if draw(st.booleans()):
        out += draw(st.binary(max_size=6))  # whatever follows
    eof = draw(st.booleans())
    if draw(st.integers(0, 4)) == 0:
        out = out[: draw(st.integers(0, len(out)))]
    return out, method, request_headers, eof


RESPONSE_SETTINGS: Dict[str, Any] = {
    "max_examples": 300,
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow],
}


@st.composite
def cut(draw: st.DrawFn, data: bytes) -> List[bytes]:
    points = sorted(draw(st.lists(st.integers(0, len(data)), max_size=6)))
    parts = []
    start = 0
    for point in points:
        parts.append(data[start:point])
        start = point
    parts.append(data[start:])
    return parts


@settings(**RESPONSE_SETTINGS)
@given(st.data(), responses())
def test_generated_responses_match_h11(
    data: st.DataObject, response: Tuple[bytes, bytes, Tuple[Tuple[bytes, bytes], ...], bool]
) -> None:
    stream, method, request_headers, eof = response
    whole, _ = compare(stream, [stream], method, request_headers, eof)
    parts = data.draw(cut(stream))
    ours, _ = compare(stream, parts, method, request_headers, eof)
    assert without_messages(ours) == without_messages(whole)


@settings(**RESPONSE_SETTINGS)
@given(st.data(), responses())
def test_mutated_responses_match_h11_or_a_listed_disagreement(
    data: st.DataObject, response: Tuple[bytes, bytes, Tuple[Tuple[bytes, bytes], ...], bool]
) -> None:
    stream, method, request_headers, eof = response
    mutated = bytearray(stream)
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(mutated)))
        byte = data.draw(st.sampled_from(b" \t\r\n\x00:;,0aAfF9\x0b\x80-"))
        action = data.draw(st.sampled_from(["insert", "replace", "delete"]))
        if action == "insert" or position == len(mutated):
            mutated.insert(position, byte)
        elif action == "replace":
            mutated[position] = byte
        else:
            del mutated[position]
    stream = bytes(mutated)
    whole, _ = compare(stream, [stream], method, request_headers, eof)
    ours, _ = compare(stream, data.draw(cut(stream)), method, request_headers, eof)
    assert without_messages(ours) == without_messages(whole)


# Requests: our serialisation and validation against h11's.

_NASTY = b"aZ09-_ :\t\r\n\x00\x0b\x0c\x7f\x80/,;\"(\xff"


def _nasty_bytes(max_size: int) -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(_NASTY), max_size=max_size).map(bytes)


_REQUEST_FIELD = st.one_of(
    st.tuples(_TOKEN, _VALUE),
    st.tuples(_nasty_bytes(6), _nasty_bytes(8)),
    st.tuples(
        st.sampled_from(
            [b"Content-Length", b"content-length", b"Transfer-Encoding", b"Connection", b"Upgrade"]
        ),
        st.sampled_from(
            [b"5", b"0", b"05", b"5, 5", b"5,6", b"x", b"", b" 5", b"chunked", b"Chunked"]
            + [b"gzip", b"close", b"1" * 21]
        ),
    ),
)


def _h11_request(
    method: bytes, target: bytes, headers: List[Tuple[bytes, bytes]], body: List[bytes]
) -> Tuple[str, bytes]:
    conn = h11.Connection(h11.CLIENT)
    try:
        out = conn.send(h11.Request(method=method, target=target, headers=headers))
        assert out is not None
        for chunk in body:
            piece = conn.send(h11.Data(data=chunk))
            assert piece is not None
            out += piece
        end = conn.send(h11.EndOfMessage())
        assert end is not None
        return "ok", out + end
    except h11.LocalProtocolError as exc:
        return str(exc), b""


def _our_request(
    method: bytes, target: bytes, headers: List[Tuple[bytes, bytes]], body: List[bytes]
) -> Tuple[str, bytes]:
    try:
        head = RequestHead(method, target, headers)
        writer = body_writer(head)
        out = head.data
        for chunk in body:
            out += writer.write(chunk)
        return "ok", out + writer.end()
    except LocalProtocolError as exc:
        return str(exc), b""


def _without_length_when_chunked(data: bytes) -> bytes:
    # Our one difference in output: no Content-Length next to Transfer-Encoding.
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    names = [line.partition(b":")[0].lower() for line in lines]
    if b"transfer-encoding" not in names:
        return data
    kept = [line for line, name in zip(lines, names) if name != b"content-length"]
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


@settings(max_examples=400, deadline=None, database=None)
@given(
    method=st.one_of(st.sampled_from([b"GET", b"POST", b"M-SEARCH", b"CONNECT"]), _nasty_bytes(4)),
    target=st.one_of(st.sampled_from([b"/", b"/a?b=c", b"*", b"example.com:443"]), _nasty_bytes(5)),
    host=st.sampled_from(
        [[(b"Host", b"example.com")], [(b"HOST", b"h")], [], [(b"host", b"a"), (b"Host", b"b")]]
    ),
    fields=st.lists(_REQUEST_FIELD, max_size=4),
    body=st.lists(st.binary(max_size=6), max_size=3),
)
def test_generated_requests_match_h11(
    method: bytes,
    target: bytes,
    host: List[Tuple[bytes, bytes]],
    fields: List[Tuple[bytes, bytes]],
    body: List[bytes],
) -> None:
    headers = host + fields
    theirs = _h11_request(method, target, headers, body)
    ours = _our_request(method, target, headers, body)
    assert ours == (theirs[0], _without_length_when_chunked(theirs[1]))


@pytest.mark.parametrize("length", [0, 3, 5])
def test_content_length_writer_matches_h11(length: int) -> None:
    headers = [(b"Host", b"h"), (b"Content-Length", b"%d" % length)]
    for body in ([b"abc"], [b"ab", b"", b"cde"], [b"abcdef"], []):
        ours = _our_request(b"POST", b"/", headers, body)
        assert ours == _h11_request(b"POST", b"/", headers, body)


def test_chunked_writer_matches_h11() -> None:
    headers = [(b"Host", b"h"), (b"Transfer-Encoding", b"chunked")]
    body = [b"a", b"", b"x" * 300, b"\r\n"]
    assert _our_request(b"POST", b"/", headers, body) == _h11_request(b"POST", b"/", headers, body)


def test_writers_are_the_expected_classes() -> None:
    plain = RequestHead(b"GET", b"/", [(b"Host", b"h")])
    assert isinstance(body_writer(plain), ContentLengthWriter)
    chunked = RequestHead(b"GET", b"/", [(b"Host", b"h"), (b"Transfer-Encoding", b"chunked")])
    assert isinstance(body_writer(chunked), ChunkedWriter)


def test_random_byte_soup_never_escapes_as_another_exception() -> None:
    # Not a comparison: any input must end in events or RemoteProtocolError, nothing else.
    generator = random.Random(1234)
    alphabet = b"HTTP/1.0 2\r\n:;\t\x00Content-Length: 5Transfer-Encoding chunked"
    for _ in range(2000):
        data = bytes(generator.choice(alphabet) for _ in range(generator.randint(0, 60)))
        our_outcome([data], b"GET", (), True)
        our_outcome([data[i : i + 1] for i in range(len(data))], b"GET", (), True)
