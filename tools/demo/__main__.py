"""``python -m tools.demo``: httpcore against a local nginx that this command starts and stops.

Shows, with short output: a pooled HTTPS GET made twice (the second reuses the kept-alive
connection: pool and connection reprs), a streamed 10 MB download (byte count, sha256), a
PUT and a POST whose bodies come from iterators (the PUT read back and compared), the trace
events of one request, and the same GET through ``AsyncConnectionPool`` under asyncio.

httpcore comes from the environment when it is installed (``tools/demo.sh`` installs the
compiled wheel it builds); otherwise from this checkout's ``libs/`` (pure Python).
nginx comes from ``tools/servers/nginx.py``: loopback only, certificates from trustme.
Exit status 0 when every step gave the expected result, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import importlib.util
import pathlib
import ssl
import sys
import uuid
from typing import Any, Dict, Iterator, List

_ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
if importlib.util.find_spec("httpcore") is None:
    for _lib in sorted((_ROOT / "libs").iterdir()):
        if (_lib / "httpcore").is_dir():
            sys.path.insert(0, str(_lib))

import httpcore  # noqa: E402

from tools.servers.nginx import LARGE_SIZE_BYTES, NginxServer  # noqa: E402

UPLOAD_CHUNK_BYTES = 256 * 1024
UPLOAD_CHUNKS = 8


class Checks:
    """Counts expectations; prints a mark after each line it checks."""

    def __init__(self) -> None:
        self.failed: List[str] = []

    def expect(self, ok: bool, what: str) -> str:
        if not ok:
            self.failed.append(what)
        return "ok" if ok else f"UNEXPECTED ({what})"


def heading(text: str) -> None:
    print(f"\n== {text}")


def describe_form() -> str:
    """Where httpcore came from and whether its hot modules are compiled."""
    location = pathlib.Path(str(httpcore.__file__)).parent
    try:
        parser = importlib.import_module("httpcore._protocols._http11._parser")
    except ImportError:
        form = "no HTTP/1.1 codec module found"
    else:
        form = "pure Python" if str(parser.__file__).endswith(".py") else "hot modules compiled"
    return f"httpcore {httpcore.__version__} from {location} ({form})"


def upload_chunks() -> Iterator[bytes]:
    for index in range(UPLOAD_CHUNKS):
        yield bytes([65 + index]) * UPLOAD_CHUNK_BYTES


def pooled_get_twice(pool: httpcore.ConnectionPool, url: str, checks: Checks) -> None:
    heading("1. pooled HTTPS GET, twice: the second request reuses the kept-alive connection")
    for attempt in (1, 2):
        response = pool.request("GET", url)
        reason = response.extensions.get("reason_phrase", b"").decode()
        version = response.extensions.get("http_version", b"").decode()
        print(f"GET {url} -> {version} {response.status} {reason}, body {response.content!r}")
        print(f"   pool:       {pool!r}")
        for connection in pool.connections:
            print(f"   connection: {connection!r}")
        reused = len(pool.connections) == 1 and f"Request Count: {attempt}]" in repr(
            pool.connections[0]
        )
        mark = checks.expect(
            response.status == 200 and reused, f"request {attempt} on one connection"
        )
        print(f"   {mark}")


def streamed_download(pool: httpcore.ConnectionPool, nginx: NginxServer, checks: Checks) -> None:
    heading("2. streamed 10 MB download (chunk by chunk, never whole in memory)")
    url = nginx.url("/large.bin", tls=True)
    digest = hashlib.sha256()
    size = chunks = largest = 0
    with pool.stream("GET", url) as response:
        for chunk in response.iter_stream():
            digest.update(chunk)
            size += len(chunk)
            chunks += 1
            largest = max(largest, len(chunk))
    print(
        f"GET {url} -> {response.status}: {size:,} bytes in {chunks} chunks (largest {largest:,})"
    )
    same = size == LARGE_SIZE_BYTES and digest.hexdigest() == nginx.large_sha256
    print(
        f"   sha256 {digest.hexdigest()[:16]}... matches the file on disk:"
        f" {checks.expect(same, 'download')}"
    )


def uploads(pool: httpcore.ConnectionPool, nginx: NginxServer, checks: Checks) -> None:
    heading("3. uploads whose bodies come from iterators (sent chunked)")
    url = nginx.url(f"/uploads/demo-{uuid.uuid4().hex[:8]}.bin", tls=True)
    sent = b"".join(upload_chunks())
    response = pool.request("PUT", url, content=upload_chunks())
    print(f"PUT {url} ({UPLOAD_CHUNKS} chunks, {len(sent):,} bytes) -> {response.status}")
    back = pool.request("GET", url)
    same = response.status == 201 and back.content == sent
    print(
        f"   GET it back: {len(back.content):,} bytes, identical: {checks.expect(same, 'upload')}"
    )
    post = pool.request("POST", nginx.url("/method", tls=True), content=iter([b"name=", b"demo"]))
    mark = checks.expect(post.content == b"POST\n", "post")
    print(f"POST /method from an iterator -> {post.status} {post.content!r} {mark}")


def traced_request(pool: httpcore.ConnectionPool, nginx: NginxServer, checks: Checks) -> None:
    heading("4. the trace of one request on a new connection (the 'trace' extension)")
    events: List[str] = []

    def trace(name: str, info: Dict[str, Any]) -> None:
        events.append(name)
        print(f"   {name}")

    pool.close()  # start from no connection, so the trace shows connect and TLS too
    response = pool.request("GET", nginx.url("/small.txt", tls=True), extensions={"trace": trace})
    complete = (
        events[0] == "connection.connect_tcp.started"
        and events[-1] == "http11.response_closed.complete"
    )
    print(f"   -> {response.status}, {len(events)} events {checks.expect(complete, 'trace')}")


async def async_get(nginx: NginxServer, context: ssl.SSLContext, checks: Checks) -> None:
    heading("5. the same GET with AsyncConnectionPool under asyncio")
    async with httpcore.AsyncConnectionPool(ssl_context=context) as pool:
        for _ in range(2):
            response = await pool.request("GET", nginx.url("/small.txt", tls=True))
        print(f"GET twice -> {response.status} {response.content!r}")
        print(f"   pool:       {pool!r}")
        for connection in pool.connections:
            print(f"   connection: {connection!r}")
        print(f"   {checks.expect(len(pool.connections) == 1, 'async keep-alive')}")


def main() -> int:
    checks = Checks()
    print(describe_form())
    nginx = NginxServer()
    nginx.start()
    try:
        ports = nginx.ports
        print(
            f"nginx ({nginx.executable}) on 127.0.0.1: http {ports.http}, https {ports.https};"
            " certificates from trustme"
        )
        context = nginx.client_ssl_context()
        with httpcore.ConnectionPool(ssl_context=context) as pool:
            pooled_get_twice(pool, nginx.url("/small.txt", tls=True), checks)
            streamed_download(pool, nginx, checks)
            uploads(pool, nginx, checks)
            traced_request(pool, nginx, checks)
        asyncio.run(async_get(nginx, nginx.client_ssl_context(), checks))
    finally:
        nginx.stop()
        print("\nnginx stopped")
    if checks.failed:
        print("unexpected results: " + ", ".join(checks.failed))
        return 1
    print("all steps gave the expected results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
