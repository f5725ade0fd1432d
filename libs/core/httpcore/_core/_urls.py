# cython: annotation_typing=False
"""``URL`` and ``Origin`` (API.md §2.3, §2.4).

A ``URL`` is four plain attributes. The string form is split with ``urllib.parse.urlparse``
applied to the ASCII bytes, so its quirks are part of the contract: scheme and host are
lower-cased, userinfo, fragment, IPv6 brackets and ``;params`` of the last segment are
dropped, and an invalid port raises ``ValueError``. The component form stores what it is
given (after ASCII coercion; ``port`` is not checked), so it can carry targets a URL string
cannot, such as ``*`` or an absolute-form target.

Both classes compare by value and are deliberately unhashable (``__eq__`` without
``__hash__``).
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple, Union
from urllib.parse import urlparse

from ._headers import enforce_bytes
from ._types import ByteOrStr

# Ports used for ``URL.origin`` when the URL has none (or port 0). Unlike the Host header
# table there is no ftp entry here, and the SOCKS schemes are included.
DEFAULT_ORIGIN_PORTS = {
    b"http": 80,
    b"https": 443,
    b"ws": 80,
    b"wss": 443,
    b"socks5": 1080,
    b"socks5h": 1080,
}


# Parsed URL strings: the ASCII bytes of a URL -> (scheme, host, port, target). Requests
# usually repeat a few URLs, and ``urlparse`` is most of the cost of building a request.
# Bounded: emptied when it reaches ``_PARSED_CACHE_SIZE`` entries. Only successful parses
# are stored, so an invalid URL raises every time.
_PARSED_CACHE_SIZE = 512
_parsed_cache: Dict[bytes, Tuple[bytes, bytes, Optional[int], bytes]] = {}


def _parse(url: bytes) -> Tuple[bytes, bytes, Optional[int], bytes]:
    cached = _parsed_cache.get(url)
    if cached is not None:
        return cached
    parsed = urlparse(url)
    path = parsed.path or b"/"
    parts = (
        parsed.scheme,
        parsed.hostname or b"",
        parsed.port,
        path + b"?" + parsed.query if parsed.query else path,
    )
    if len(_parsed_cache) >= _PARSED_CACHE_SIZE:
        _parsed_cache.clear()
    _parsed_cache[url] = parts
    return parts


class Origin:
    """The (scheme, host, port) triple that decides which connection can serve a request.

    No coercion or validation; ``str()`` gives ``"scheme://host:port"``.
    """

    __slots__ = ("scheme", "host", "port")

    def __init__(self, scheme: bytes, host: bytes, port: int) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Origin):
            return NotImplemented
        return (
            self.scheme == other.scheme and self.host == other.host and self.port == other.port
        )

    def __str__(self) -> str:
        scheme = self.scheme.decode("ascii")
        host = self.host.decode("ascii")
        return f"{scheme}://{host}:{self.port}"


class URL:
    """A request URL as scheme, host, port and target bytes.

    ``URL("https://example.com/path?query")`` parses a string (the keyword arguments are
    then ignored); ``URL(scheme=..., host=..., port=..., target=...)`` takes the parts.

    Raises TypeError for arguments that are neither bytes nor ASCII str, and ValueError when
    a URL string has an invalid port or is otherwise rejected by the parser.
    """

    __slots__ = ("scheme", "host", "port", "target")

    scheme: bytes
    host: bytes
    port: int | None
    target: bytes

    def __init__(
        self,
        url: ByteOrStr = "",
        *,
        scheme: ByteOrStr = b"",
        host: ByteOrStr = b"",
        port: int | None = None,
        target: ByteOrStr = b"",
    ) -> None:
        if url:
            self.scheme, self.host, self.port, self.target = _parse(enforce_bytes(url, "url"))
        else:
            self.scheme = enforce_bytes(scheme, "scheme")
            self.host = enforce_bytes(host, "host")
            self.port = port
            self.target = enforce_bytes(target, "target")

    @property
    def origin(self) -> Origin:
        """A new ``Origin``; a missing or zero port becomes the scheme's default.

        Raises KeyError for a scheme without a default port (anything but http, https,
        ws, wss, socks5, socks5h), even when the URL has a port.
        """
        default_port = DEFAULT_ORIGIN_PORTS[self.scheme]
        return Origin(self.scheme, self.host, self.port or default_port)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, URL):
            return NotImplemented
        return (
            self.scheme == other.scheme
            and self.host == other.host
            and self.port == other.port
            and self.target == other.target
        )

    def __bytes__(self) -> bytes:
        if self.port is None:
            return self.scheme + b"://" + self.host + self.target
        port = str(self.port).encode("ascii")
        return self.scheme + b"://" + self.host + b":" + port + self.target

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(scheme={self.scheme!r}, host={self.host!r}, "
            f"port={self.port!r}, target={self.target!r})"
        )


def require_origin(url: URL, origin: Origin) -> None:
    """Raise RuntimeError unless ``url.origin == origin``: a connection's check that a
    request is for it, made for every request. The usual case is settled without building
    ``url.origin`` (a new object): when the port is given and the scheme has a default, that
    origin would be exactly (scheme, host, port). KeyError, as from ``url.origin``, for a
    scheme without a default port."""
    port = url.port
    scheme = url.scheme
    if (
        port
        and port == origin.port
        and scheme == origin.scheme
        and url.host == origin.host
        and scheme in DEFAULT_ORIGIN_PORTS
    ):
        return
    url_origin = url.origin
    if not url_origin == origin:
        raise RuntimeError(f"Attempted to send request to {url_origin} on connection to {origin}")


def enforce_url(value: Union[URL, bytes, str], name: str) -> URL:
    """Return ``value`` if it is a ``URL`` (the same object), else parse bytes or str.

    Raises TypeError("<name> must be a URL, bytes, or str, but got <type>.") otherwise.
    """
    if isinstance(value, URL):
        return value
    if isinstance(value, (bytes, str)):
        return URL(value)
    raise TypeError(f"{name} must be a URL, bytes, or str, but got {type(value).__name__}.")
