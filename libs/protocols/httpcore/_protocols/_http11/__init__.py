"""Our sans-I/O HTTP/1.1 client codec (DESIGN.md decision 2): request serialisation and
response parsing, following RFC 9112 strictly, with h11 as the reference the tests compare
against. The modules are hot (compiled by Cython in pure-Python mode).

* ``_writer``: ``RequestHead`` / ``serialize_request_head`` validate and serialise a request
  head; ``body_writer`` gives its body framing (``ContentLengthWriter``, ``ChunkedWriter``).
* ``_parser``: ``ResponseParser`` turns received bytes into ``_events``: ``ResponseHead``,
  ``Data``, ``EndOfMessage``, and the markers ``NEED_DATA`` and ``PAUSED``.
* ``_head``, ``_fields``, ``_receive_buffer``: head and field syntax, the receive buffer.

Deliberate differences from h11 (everything else matches it, error messages included; the
differential tests in ``tests/protocols`` list the same ones and check they still exist):

* obs-fold (a field line starting with SP/HTAB) is rejected, not joined (RFC 9112 §5.2);
* a message with both Transfer-Encoding and Content-Length is rejected (RFC 9112 §6.3);
* a chunk extension containing NUL or CR is rejected;
* a head, chunk-size line or trailer section longer than 100 KiB + 1 byte is rejected
  however the input is split (h11's verdict depends on the split);
* a request with Transfer-Encoding is sent without its Content-Length (RFC 9112 §6.1);
* the keep-alive verdict for a body delimited by the close is "not reusable".
"""

from __future__ import annotations

from httpcore._protocols._http11._events import (
    NEED_DATA as NEED_DATA,
    PAUSED as PAUSED,
    Data as Data,
    EndOfMessage as EndOfMessage,
    Marker as Marker,
    ResponseHead as ResponseHead,
)
from httpcore._protocols._http11._parser import (
    MAX_INCOMPLETE_BYTES as MAX_INCOMPLETE_BYTES,
    SERVER_DISCONNECTED as SERVER_DISCONNECTED,
    Event as Event,
    ResponseParser as ResponseParser,
)
from httpcore._protocols._http11._writer import (
    BodyWriter as BodyWriter,
    ChunkedWriter as ChunkedWriter,
    ContentLengthWriter as ContentLengthWriter,
    RequestHead as RequestHead,
    body_writer as body_writer,
    request_head as request_head,
    serialize_request_head as serialize_request_head,
)

__all__ = [
    "MAX_INCOMPLETE_BYTES",
    "NEED_DATA",
    "PAUSED",
    "SERVER_DISCONNECTED",
    "BodyWriter",
    "ChunkedWriter",
    "ContentLengthWriter",
    "Data",
    "EndOfMessage",
    "Event",
    "Marker",
    "RequestHead",
    "ResponseHead",
    "ResponseParser",
    "body_writer",
    "request_head",
    "serialize_request_head",
]
