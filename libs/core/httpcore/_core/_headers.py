"""Coercion of "bytes or str" arguments and of headers, and the default request headers.

HOT MODULE: compiled by Cython 3 in pure-Python mode (listed in ``build_config.bzl``); the
same file also runs interpreted, and both forms must behave identically.

Rules (API.md §2.1, §2.2, §3):

* ASCII coercion: ``bytes`` is kept (a subclass becomes plain ``bytes``), ``str`` is encoded
  as ASCII, anything else (``bytearray`` and ``memoryview`` included) is a ``TypeError``
  whose message starts with the argument's label.
* Header coercion: ``None``, a mapping (checked first) or a sequence of pairs becomes a
  **new** list of ``(bytes, bytes)`` tuples, in input order, name case and duplicates kept.
* Default request headers, added only by the ``.request()``/``.stream()`` helpers: ``Host``
  is prepended unless a ``host`` header exists (names compare case-insensitively), with the
  port only when it is not the scheme's default; when there is content and neither
  ``content-length`` nor ``transfer-encoding`` is present, ``Content-Length`` (bytes content)
  or ``Transfer-Encoding: chunked`` (any other content) is appended.

Cost: one pass to coerce and one to look for the default headers; on the common input (a
list of exact ``(bytes, bytes)`` tuples) the tuples are reused, nothing is encoded.

Cython notes, so both forms agree: parameters (and returns of values we did not build) are
annotated with aliases or classes Cython cannot resolve (it then treats them as plain
objects), never with exact builtin types, because compiled code rejects subclasses and
``None`` for those (and converts ``bool`` for ``int``). The one exception is the ``name``
label, always a literal ``str`` from our own callers. User items are never tuple-unpacked:
Cython's unpacking errors are worded differently from CPython's, so pairs are split by
``_split_pair`` with our own message. There are no runtime imports from sibling modules
(relative imports in a compiled portion of a namespace package are best avoided).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Iterable, List, Tuple

if TYPE_CHECKING:
    from ._types import ByteOrStr, HeaderTypes
    from ._urls import URL

# Ports left out of an automatic Host header (RFC 9110 §7.2: the port may be omitted
# when it is the scheme's default).
DEFAULT_HOST_HEADER_PORTS = {b"ftp": 21, b"http": 80, b"https": 443, b"ws": 80, b"wss": 443}


def enforce_bytes(value: ByteOrStr, name: str) -> bytes:
    """Return ``value`` as bytes: bytes as is, str encoded as ASCII.

    Raises TypeError("<name> strings may not include unicode characters.") for a non-ASCII
    str and TypeError("<name> must be bytes or str, but got <type>.") for anything else.
    """
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        try:
            return value.encode("ascii")
        except UnicodeEncodeError as exc:
            raise TypeError(f"{name} strings may not include unicode characters.") from exc
    if isinstance(value, bytes):
        return bytes(value)
    raise TypeError(f"{name} must be bytes or str, but got {type(value).__name__}.")


def _split_pair(item: Any, label: str) -> Tuple[Any, Any]:
    # Mirrors ``name, value = item`` but with the same error in both forms: TypeError for a
    # non-iterable item, ValueError when it does not hold exactly two values.
    pair = tuple(item)
    if len(pair) != 2:
        raise ValueError(
            f"{label} must hold (name, value) pairs, but one item has {len(pair)} values."
        )
    return pair[0], pair[1]


def enforce_headers(value: HeaderTypes, name: str) -> List[Tuple[bytes, bytes]]:
    """Return a new list of ``(bytes, bytes)`` header pairs built from ``value``.

    ``name`` labels the argument in the TypeError raised for an input that is neither a
    mapping nor a sequence ("headers" or "proxy_headers").
    """
    items: Iterable[Any]
    if value is None:
        return []
    if type(value) is list:
        items = value
    elif isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, Sequence):
        items = value
    else:
        raise TypeError(
            f"{name} must be a mapping or sequence of two-tuples, "
            f"but got {type(value).__name__}."
        )
    # List[Any] only so that an exact (bytes, bytes) tuple can be appended as it is.
    headers: List[Any] = []
    for item in items:
        if type(item) is tuple and len(item) == 2:
            header_name = item[0]
            header_value = item[1]
            if type(header_name) is bytes and type(header_value) is bytes:
                headers.append(item)
                continue
        else:
            header_name, header_value = _split_pair(item, name)
        headers.append(
            (enforce_bytes(header_name, "header name"), enforce_bytes(header_value, "header value"))
        )
    return headers


# An alias Cython cannot resolve, so the compiled form does not check the returned type:
# ``url.host`` is returned as stored, and a URL's attributes may have been reassigned.
UncheckedBytes = bytes


def host_header_value(url: URL) -> UncheckedBytes:
    """The value of an automatic Host header for ``url``: host, plus ":port" if not default."""
    port = url.port
    if port is None or port == DEFAULT_HOST_HEADER_PORTS.get(url.scheme):
        return url.host
    return url.host + b":" + str(port).encode("ascii")


def build_request_headers(
    headers: HeaderTypes, url: URL, content: object
) -> List[Tuple[bytes, bytes]]:
    """Coerce ``headers`` (label "headers") and add the default headers of API.md §3."""
    result = enforce_headers(headers, "headers")
    has_host = False
    has_framing = False
    for header in result:
        # Compare lengths first: most names cannot match, and lower() allocates.
        name = header[0]
        size = len(name)
        if size == 4:
            if name.lower() == b"host":
                has_host = True
        elif size == 14:
            if name.lower() == b"content-length":
                has_framing = True
        elif size == 17:
            if name.lower() == b"transfer-encoding":
                has_framing = True
    if not has_host:
        result.insert(0, (b"Host", host_header_value(url)))
    if content is not None and not has_framing:
        if isinstance(content, bytes):
            result.append((b"Content-Length", str(len(content)).encode("ascii")))
        else:
            result.append((b"Transfer-Encoding", b"chunked"))
    return result
