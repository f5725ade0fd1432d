"""The events the HTTP/1.1 response parser returns, and its two markers.

HOT MODULE: compiled by Cython 3 in pure-Python mode (listed in ``build_config.bzl``), with
``_events.pxd`` making its classes extension types; the same file also runs interpreted, and
both forms must behave identically.

Rules:

* Events are small, slotted and read-only: every public field is a property over a private
  slot, so assigning to ``event.status_code`` raises ``AttributeError`` in both forms.
  (The lists inside them are the parser's fresh lists, handed over; nobody else holds them.)
* Two events are equal when they are of the same class and their fields are equal; events
  are unhashable (they hold lists).
* ``NEED_DATA`` and ``PAUSED`` are the only instances of ``Marker``; compare with ``is``.

Cost: creating an event is one allocation and one slot store per field.
"""

from __future__ import annotations

from typing import List, Tuple

Headers = List[Tuple[bytes, bytes]]


class ResponseHead:
    """A response head: status line and header section (RFC 9112 §4, §5).

    ``status_code`` is an int (100-999); ``reason`` the reason phrase as sent (maybe empty);
    ``http_version`` the version digits, such as ``b"1.1"``; ``headers`` the header fields
    in order, names with the case the server used, values without surrounding whitespace.
    Interim (1xx) responses other than 101 are returned as ``ResponseHead`` too; the final
    response follows them.
    """

    __slots__ = ("_status_code", "_reason", "_http_version", "_headers")

    def __init__(
        self, status_code: int, reason: bytes, http_version: bytes, headers: Headers
    ) -> None:
        self._status_code = status_code
        self._reason = reason
        self._http_version = http_version
        self._headers = headers

    @property
    def status_code(self) -> int:
        return self._status_code

    @property
    def reason(self) -> bytes:
        return self._reason

    @property
    def http_version(self) -> bytes:
        return self._http_version

    @property
    def headers(self) -> Headers:
        return self._headers

    def __eq__(self, other: object) -> bool:
        if type(other) is not ResponseHead:
            return NotImplemented
        return (
            self._status_code == other.status_code
            and self._reason == other.reason
            and self._http_version == other.http_version
            and self._headers == other.headers
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ResponseHead(status_code={self._status_code!r}, reason={self._reason!r}, "
            f"http_version={self._http_version!r}, headers={self._headers!r})"
        )


class Data:
    """A piece of the response body, in order (RFC 9112 §6). Never empty."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    @property
    def data(self) -> bytes:
        return self._data

    def __eq__(self, other: object) -> bool:
        if type(other) is not Data:
            return NotImplemented
        return self._data == other.data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Data(data={self._data!r})"


class EndOfMessage:
    """The response body is complete. ``trailers`` holds a chunked body's trailer fields
    (RFC 9112 §7.1.2), in order and with their case; it is empty for other framings."""

    __slots__ = ("_trailers",)

    def __init__(self, trailers: Headers) -> None:
        self._trailers = trailers

    @property
    def trailers(self) -> Headers:
        return self._trailers

    def __eq__(self, other: object) -> bool:
        if type(other) is not EndOfMessage:
            return NotImplemented
        return self._trailers == other.trailers

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EndOfMessage(trailers={self._trailers!r})"


class Marker:
    """A named marker returned instead of an event; see ``NEED_DATA`` and ``PAUSED``."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


# No complete event yet: feed more bytes (or the end of the stream).
NEED_DATA = Marker("NEED_DATA")
# This exchange is over for the parser: the response is complete, or the connection switched
# protocols (101, or 2xx to CONNECT) and the remaining bytes belong to the new protocol.
PAUSED = Marker("PAUSED")
