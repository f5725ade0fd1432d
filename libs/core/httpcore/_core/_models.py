"""Requests, responses and proxy settings (API.md §2), and the names other layers import.

``Request`` and ``Response`` coerce their arguments once, at construction: method and
headers by the ASCII rule, the URL by ``enforce_url``, the content into ``stream``. The
extensions mapping is stored as given (by identity), never copied.

``Response`` reading rules: one "consumed" flag and one cached body. ``read()``/``aread()``
consume the stream once and cache the body; ``iter_stream()``/``aiter_stream()`` consume it
once without caching; ``content`` is available only from the cache. The sync methods need a
sync-iterable stream and the async ones an async-iterable stream (``ByteStream`` is both);
any misuse is a ``RuntimeError``.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterable as AsyncIterableABC
from collections.abc import Iterable as IterableABC
from typing import (
    Any,
    AsyncIterable,
    AsyncIterator,
    Iterable,
    Iterator,
    List,
    Set,
    Tuple,
    Union,
)

from ._bytestreams import BodyStream, ByteStream, enforce_stream
from ._headers import enforce_bytes, enforce_headers
from ._types import ByteOrStr, Extensions, HeadersAsMapping, HeadersAsSequence, HeaderTypes
from ._urls import URL, Origin, enforce_url

__all__ = [
    "URL",
    "ByteOrStr",
    "ByteStream",
    "Extensions",
    "HeaderTypes",
    "HeadersAsMapping",
    "HeadersAsSequence",
    "Origin",
    "Proxy",
    "Request",
    "Response",
    "enforce_bytes",
    "enforce_headers",
    "enforce_stream",
    "enforce_url",
]

Content = Union[bytes, Iterable[bytes], AsyncIterable[bytes], None]


class Request:
    """An HTTP request: method, URL, headers, body stream and extensions.

    The constructor adds no headers (no Host, no Content-Length). A ``"target"`` extension
    replaces ``url.target`` (coerced by the ASCII rule, label "target").

    Raises TypeError for a method, URL or headers of the wrong type, ValueError for a URL
    string with an invalid port.
    """

    def __init__(
        self,
        method: ByteOrStr,
        url: Union[URL, bytes, str],
        *,
        headers: HeaderTypes = None,
        content: Content = None,
        extensions: Extensions | None = None,
    ) -> None:
        self.method: bytes = enforce_bytes(method, "method")
        self.url: URL = enforce_url(url, "url")
        self.headers: List[Tuple[bytes, bytes]] = enforce_headers(headers, "headers")
        self.stream: BodyStream = enforce_stream(content)
        self.extensions: Extensions = {} if extensions is None else extensions
        if "target" in self.extensions:
            self._apply_target()

    def _apply_target(self) -> None:
        self.url = URL(
            scheme=self.url.scheme,
            host=self.url.host,
            port=self.url.port,
            target=self.extensions["target"],
        )

    @classmethod
    def _coerced(
        cls,
        method: bytes,
        url: URL,
        headers: List[Tuple[bytes, bytes]],
        content: Content,
        extensions: Extensions | None,
    ) -> Request:
        # The constructor for arguments already coerced (method by ``enforce_bytes``, url
        # by ``enforce_url``, headers a new list of (bytes, bytes)): the same object
        # ``cls(...)`` builds, without checking everything a second time.
        request = cls.__new__(cls)
        request.method = method
        request.url = url
        request.headers = headers
        request.stream = enforce_stream(content)
        request.extensions = {} if extensions is None else extensions
        if "target" in request.extensions:
            request._apply_target()
        return request

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.method!r}]>"


# What to use instead, for each method called on a stream of the wrong kind.
_SYNC_ALTERNATIVES = {
    "read": "await response.aread()",
    "iter_stream": "async for chunk in response.aiter_stream()",
    "close": "await response.aclose()",
}
_ASYNC_ALTERNATIVES = {
    "aread": "response.read()",
    "aiter_stream": "for chunk in response.iter_stream()",
    "aclose": "response.close()",
}
_ALREADY_CONSUMED = (
    "The response stream has already been consumed (by read() or a previous iteration) "
    "and cannot be iterated again."
)


# Stream classes already found (sync-, async-) iterable by the ABC check, which is slow
# next to a set lookup. A positive answer of that check never changes for a class (the ABC
# caches it the same way), so remembering it changes nothing. Bounded: emptied when full.
_ITERABLE_TYPES_SIZE = 64
_SYNC_ITERABLE_TYPES: Set[type] = set()
_ASYNC_ITERABLE_TYPES: Set[type] = set()


def _remember_type(types: Set[type], kind: type) -> None:
    if len(types) >= _ITERABLE_TYPES_SIZE:
        types.clear()
    types.add(kind)


class Response:
    """An HTTP response: status, headers, body stream and extensions.

    Not a context manager: use the ``.stream()`` helpers, or close it yourself.
    """

    def __init__(
        self,
        status: int,
        *,
        headers: HeaderTypes = None,
        content: Content = None,
        extensions: Extensions | None = None,
    ) -> None:
        self.status = status
        self.headers: List[Tuple[bytes, bytes]] = enforce_headers(headers, "headers")
        self.stream: BodyStream = enforce_stream(content)
        self.extensions: Extensions = {} if extensions is None else extensions
        self._content: bytes | None = None
        self._stream_consumed = False

    @classmethod
    def _coerced(
        cls,
        status: int,
        headers: List[Tuple[bytes, bytes]],
        stream: BodyStream,
        extensions: Extensions,
    ) -> Response:
        # The constructor for parts already in their final form (a new list of
        # (bytes, bytes) headers the caller hands over, a stream object that is neither
        # None nor bytes, an extensions dict): the same object ``cls(...)`` builds.
        response = cls.__new__(cls)
        response.status = status
        response.headers = headers
        response.stream = stream
        response.extensions = extensions
        response._content = None
        response._stream_consumed = False
        return response

    @property
    def content(self) -> bytes:
        """The body cached by ``read()``/``aread()``.

        Raises RuntimeError until one of them has been called, even for bytes content.
        """
        if self._content is None:
            if isinstance(self.stream, IterableABC):
                hint = "call 'response.read()'"
            else:
                hint = "call 'await response.aread()'"
            raise RuntimeError(
                f"The response body has not been read yet: {hint} before using "
                "'response.content'."
            )
        return self._content

    def _sync_stream(self, method: str) -> Iterable[bytes]:
        stream = self.stream
        if type(stream) not in _SYNC_ITERABLE_TYPES:
            if not isinstance(stream, IterableABC):
                raise RuntimeError(
                    f"response.{method}() needs a sync-iterable stream, but this response's "
                    f"stream is async-only: use '{_SYNC_ALTERNATIVES[method]}' instead."
                )
            _remember_type(_SYNC_ITERABLE_TYPES, type(stream))
        return stream  # type: ignore[return-value]

    def _async_stream(self, method: str) -> AsyncIterable[bytes]:
        stream = self.stream
        if type(stream) not in _ASYNC_ITERABLE_TYPES:
            if not isinstance(stream, AsyncIterableABC):
                raise RuntimeError(
                    f"response.{method}() needs an async-iterable stream, but this response's "
                    f"stream is sync-only: use '{_ASYNC_ALTERNATIVES[method]}' instead."
                )
            _remember_type(_ASYNC_ITERABLE_TYPES, type(stream))
        return stream  # type: ignore[return-value]

    def read(self) -> bytes:
        """Read the whole body (once), cache it and return it.

        Raises RuntimeError for an async-only stream or a stream already iterated.
        """
        stream = self._sync_stream("read")
        if self._content is None:
            # What ``iter_stream()`` does, without a generator in between.
            if self._stream_consumed:
                raise RuntimeError(_ALREADY_CONSUMED)
            self._stream_consumed = True
            self._content = b"".join([chunk for chunk in stream])
        return self._content

    def iter_stream(self) -> Iterator[bytes]:
        """Yield the body chunks; the stream can be consumed only once.

        Raises RuntimeError (on first iteration) for an async-only stream, or when the
        stream was already consumed by ``read()`` or an earlier ``iter_stream()``.
        """
        stream = self._sync_stream("iter_stream")
        if self._stream_consumed:
            raise RuntimeError(_ALREADY_CONSUMED)
        self._stream_consumed = True
        for chunk in stream:
            yield chunk

    def close(self) -> None:
        """Close the stream if it has a ``close()``.

        Raises RuntimeError for an async-only stream.
        """
        stream = self._sync_stream("close")
        close = getattr(stream, "close", None)
        if close is not None:
            close()

    async def aread(self) -> bytes:
        """Read the whole body (once), cache it and return it; the async ``read()``."""
        stream = self._async_stream("aread")
        if self._content is None:
            # What ``aiter_stream()`` does, without an async generator in between.
            if self._stream_consumed:
                raise RuntimeError(_ALREADY_CONSUMED)
            self._stream_consumed = True
            self._content = b"".join([chunk async for chunk in stream])
        return self._content

    async def aiter_stream(self) -> AsyncIterator[bytes]:
        """Yield the body chunks once; the async ``iter_stream()``."""
        stream = self._async_stream("aiter_stream")
        if self._stream_consumed:
            raise RuntimeError(_ALREADY_CONSUMED)
        self._stream_consumed = True
        async for chunk in stream:
            yield chunk

    async def aclose(self) -> None:
        """Close the stream if it has an ``aclose()``; the async ``close()``."""
        stream = self._async_stream("aclose")
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status}]>"


class Proxy:
    """Proxy settings for a connection pool: URL, credentials, extra headers, TLS context.

    With ``auth``, a Basic ``Proxy-Authorization`` header (RFC 9110 §11.7.1, RFC 7617) is
    prepended to ``headers``.

    Raises TypeError for a URL, header or credential of the wrong type, and ValueError when
    ``auth`` does not hold exactly two items.
    """

    def __init__(
        self,
        url: Union[URL, bytes, str],
        auth: Tuple[ByteOrStr, ByteOrStr] | None = None,
        headers: HeadersAsMapping | HeadersAsSequence | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.url: URL = enforce_url(url, "url")
        self.headers: List[Tuple[bytes, bytes]] = enforce_headers(headers, "headers")
        self.ssl_context = ssl_context
        self.auth: Tuple[bytes, bytes] | None = None
        if auth is not None:
            username, password = _credentials(auth)
            self.auth = (username, password)
            token = base64.b64encode(username + b":" + password)
            self.headers.insert(0, (b"Proxy-Authorization", b"Basic " + token))


def _credentials(auth: Any) -> Tuple[bytes, bytes]:
    # Like headers: a non-iterable is a TypeError, a wrong number of items a ValueError.
    items = tuple(auth)
    if len(items) != 2:
        raise ValueError(f"auth must be a (username, password) pair, but got {len(items)} items.")
    return enforce_bytes(items[0], "auth"), enforce_bytes(items[1], "auth")
