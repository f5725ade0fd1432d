"""Driver for aiohttp (asyncio only, HTTP/1.1 only).

One ``ClientSession`` over a ``TCPConnector(limit=concurrency)`` per run; ``read()`` for
whole bodies, ``content.iter_chunked()`` for S3. TLS trust: ``ssl.create_default_context()``
(aiohttp's own default) plus the test CA.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, Dict, Optional

import aiohttp

from . import _common
from ._common import Clock, Spec, Tally, Unsupported


def ssl_context(ca: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=ca)
    return context


def session(spec: Spec, context: Optional[ssl.SSLContext]) -> Any:
    connector = aiohttp.TCPConnector(limit=max(1, spec.concurrency), ssl=context if context is not None else True)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=_common.REQUEST_TIMEOUT_S,
                                    sock_read=_common.REQUEST_TIMEOUT_S)
    return aiohttp.ClientSession(connector=connector, timeout=timeout)


async def one(client: Any, spec: Spec, body: Optional[bytes], tally: Tally) -> None:
    try:
        if body is not None:
            async with client.post(spec.url, data=body) as response:
                tally.record(response.status, len(await response.read()))
        elif spec.stream:
            async with client.get(spec.url) as response:
                received = 0
                async for chunk in response.content.iter_chunked(_common.STREAM_CHUNK_BYTES):
                    received += len(chunk)
                tally.record(response.status, received)
        else:
            async with client.get(spec.url) as response:
                tally.record(response.status, len(await response.read()))
    except Exception as exc:
        tally.exception(exc)


async def run_async(spec: Spec, tally: Tally, clock: Clock) -> None:
    body = spec.body()
    if spec.scenario == "S6":
        clock.start()
        for _ in range(spec.requests):
            if clock.over():
                break
            async with session(spec, None) as client:  # the default TLS set-up (SSL_CERT_FILE)
                await one(client, spec, None, tally)
        clock.stop()
        return

    async def work(count: int, own: Tally) -> None:
        for _ in range(count):
            if clock.over():
                break
            await one(client, spec, body, own)

    async with session(spec, ssl_context(spec.ca) if spec.is_tls else None) as client:
        if spec.warmup:
            await _common.run_tasks(spec.shares(spec.warmup), work, Tally(-1), None)
        await _common.run_tasks(spec.shares(spec.requests), work, tally, clock)


def run(spec: Spec) -> Dict[str, Any]:
    if spec.http2:
        raise Unsupported("aiohttp has no HTTP/2")
    if spec.mode != "async":
        raise Unsupported("aiohttp has no sync API")
    tally, clock = Tally(spec.expect_bytes), Clock(spec.time_limit_s)
    asyncio.run(run_async(spec, tally, clock))
    return _common.result(spec, tally, clock, aiohttp.__version__)


if __name__ == "__main__":
    raise SystemExit(_common.main(run))
