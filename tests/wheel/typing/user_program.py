"""A small user program against httpcore's public API, type-checked (never run) by
``test_wheel_installed.py::test_a_user_program_type_checks_strictly_against_the_wheel``
with ``mypy --strict --disallow-any-expr``: nothing it uses may be untyped or ``Any``.
"""

from __future__ import annotations

import ssl
from typing import Iterator, List, Optional, Tuple

import httpcore


def fetch(pool: httpcore.ConnectionPool, url: str) -> Tuple[int, bytes]:
    response = pool.request("GET", url, headers={"Accept": "*/*"})
    status: int = response.status
    body: bytes = response.content
    headers: List[Tuple[bytes, bytes]] = response.headers
    return status, body + bytes(len(headers))


def stream_size(pool: httpcore.ConnectionPool, url: httpcore.URL) -> int:
    size = 0
    with pool.stream("POST", url, content=b"data") as response:
        for chunk in response.iter_stream():
            size += len(chunk)
    return size


async def fetch_async(url: str) -> bytes:
    async with httpcore.AsyncConnectionPool(http2=True, max_connections=4) as pool:
        response = await pool.request("GET", url)
        chunks: List[bytes] = []
        async for chunk in response.aiter_stream():
            chunks.append(chunk)
        await response.aclose()
        return b"".join(chunks)


def upload() -> Iterator[bytes]:
    yield b"part"


def build(context: Optional[ssl.SSLContext]) -> httpcore.ConnectionPool:
    proxy = httpcore.Proxy("http://127.0.0.1:8080", auth=("user", "pass"))
    origin: httpcore.Origin = httpcore.URL("https://example.com:8443/").origin
    assert origin.port == 8443
    request = httpcore.Request("PUT", "http://example.com/", content=upload())
    assert request.method == b"PUT"
    return httpcore.ConnectionPool(
        ssl_context=context or httpcore.default_ssl_context(),
        proxy=proxy,
        keepalive_expiry=5.0,
        retries=2,
    )


def classify(error: Exception) -> str:
    if isinstance(error, httpcore.TimeoutException):
        return "timeout"
    if isinstance(error, (httpcore.ConnectError, httpcore.ProxyError)):
        return "connect"
    if isinstance(error, httpcore.ProtocolError):
        return "protocol"
    return "other"


def top_level() -> bytes:
    return httpcore.request("GET", "http://127.0.0.1/").content
