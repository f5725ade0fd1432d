"""The fixed-body stream behind ``Request``/``Response`` built from bytes (API.md §2.7).

A ``ByteStream`` is both sync- and async-iterable and always yields exactly one chunk, the
whole body (``b""`` included), so a response built from bytes works with either API. It has
no ``close``/``aclose``: there is nothing to release.
"""

from __future__ import annotations

from typing import AsyncIterable, AsyncIterator, Iterable, Iterator, Union


class _OneChunk:
    # A tiny async iterator instead of an async generator: nothing is left suspended (and
    # to be finalised by the event loop) when a consumer stops after the chunk.
    __slots__ = ("_chunk",)

    def __init__(self, chunk: bytes) -> None:
        self._chunk: bytes | None = chunk

    def __aiter__(self) -> _OneChunk:
        return self

    async def __anext__(self) -> bytes:
        chunk = self._chunk
        if chunk is None:
            raise StopAsyncIteration
        self._chunk = None
        return chunk


class ByteStream:
    """A body held in memory; iterating it (sync or async) yields it as one chunk."""

    __slots__ = ("_content",)

    def __init__(self, content: bytes) -> None:
        self._content = content

    def __iter__(self) -> Iterator[bytes]:
        return iter((self._content,))

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _OneChunk(self._content)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{len(self._content)} bytes]>"


BodyStream = Union[Iterable[bytes], AsyncIterable[bytes]]


def enforce_stream(content: bytes | Iterable[bytes] | AsyncIterable[bytes] | None) -> BodyStream:
    """``None`` → an empty ``ByteStream``, bytes → a ``ByteStream``, anything else unchanged."""
    if content is None:
        return ByteStream(b"")
    if isinstance(content, bytes):
        return ByteStream(content)
    return content
