"""Driver for pyreqwest (Rust reqwest/hyper; sync and async clients).

One client per run, built with ``max_connections(concurrency)`` (none for HTTP/2, where
hyper multiplexes one connection per origin), HTTP/1.1 only except in S4 (``http2_prior_knowledge()`` on ``http://``, ALPN on ``https://``).
``bytes()`` for whole bodies, ``body_reader.read_chunk()`` for S3. TLS trust: the client's
default roots plus the test CA (``add_root_certificate_pem``).
"""

from __future__ import annotations

import asyncio
import datetime
import importlib.metadata
from typing import Any, Dict, Optional

from pyreqwest.client import ClientBuilder, SyncClientBuilder

from . import _common
from ._common import Clock, Spec, Tally, Unsupported


def configure(builder: Any, spec: Spec, *, first_request: bool = False) -> Any:
    builder = builder.timeout(datetime.timedelta(seconds=_common.REQUEST_TIMEOUT_S))
    if spec.is_tls:
        with open(spec.ca, "rb") as pem:
            builder = builder.add_root_certificate_pem(pem.read())
    if first_request:
        return builder.http1_only()
    if spec.http2:
        # No max_connections here: pyreqwest's limit caps requests in flight, and 1 would
        # serialise them; hyper keeps one HTTP/2 connection per origin on its own.
        return builder.http2_prior_knowledge() if not spec.is_tls else builder.http2(True)
    return builder.max_connections(max(1, spec.concurrency)).http1_only()


def check_http2(response: Any) -> None:
    if response is None or response.version != "HTTP/2.0":
        raise Unsupported(f"no HTTP/2 (got {getattr(response, 'version', 'a failure')})")


# --- sync ---------------------------------------------------------------------------------


def one_sync(client: Any, spec: Spec, body: Optional[bytes], tally: Tally) -> Any:
    try:
        if body is not None:
            response = client.post(spec.url).body_bytes(body).build().send()
            tally.record(response.status, len(response.bytes()))
        elif spec.stream:
            with client.get(spec.url).build_streamed() as response:
                reader = response.body_reader
                received = 0
                while (chunk := reader.read_chunk()) is not None:
                    received += len(chunk)
            tally.record(response.status, received)
        else:
            response = client.get(spec.url).build().send()
            tally.record(response.status, len(response.bytes()))
        return response
    except Exception as exc:
        tally.exception(exc)
        return None


def run_sync(spec: Spec, tally: Tally, clock: Clock) -> None:
    body = spec.body()
    if spec.scenario == "S6":
        clock.start()
        for _ in range(spec.requests):
            if clock.over():
                break
            with configure(SyncClientBuilder(), spec, first_request=True).build() as client:
                one_sync(client, spec, None, tally)
        clock.stop()
        return

    with configure(SyncClientBuilder(), spec).build() as client:

        def work(count: int, own: Tally) -> None:
            for _ in range(count):
                if clock.over():
                    break
                one_sync(client, spec, body, own)

        if spec.http2:
            check_http2(one_sync(client, spec, body, Tally(-1)))
        if spec.warmup:
            _common.run_threads(spec.shares(spec.warmup), work, Tally(-1), None)
        _common.run_threads(spec.shares(spec.requests), work, tally, clock)


# --- async --------------------------------------------------------------------------------


async def one_async(client: Any, spec: Spec, body: Optional[bytes], tally: Tally) -> Any:
    try:
        if body is not None:
            response = await client.post(spec.url).body_bytes(body).build().send()
            tally.record(response.status, len(await response.bytes()))
        elif spec.stream:
            async with client.get(spec.url).build_streamed() as response:
                reader = response.body_reader
                received = 0
                while (chunk := await reader.read_chunk()) is not None:
                    received += len(chunk)
            tally.record(response.status, received)
        else:
            response = await client.get(spec.url).build().send()
            tally.record(response.status, len(await response.bytes()))
        return response
    except Exception as exc:
        tally.exception(exc)
        return None


async def run_async(spec: Spec, tally: Tally, clock: Clock) -> None:
    body = spec.body()
    if spec.scenario == "S6":
        clock.start()
        for _ in range(spec.requests):
            if clock.over():
                break
            async with configure(ClientBuilder(), spec, first_request=True).build() as client:
                await one_async(client, spec, None, tally)
        clock.stop()
        return

    async with configure(ClientBuilder(), spec).build() as client:

        async def work(count: int, own: Tally) -> None:
            for _ in range(count):
                if clock.over():
                    break
                await one_async(client, spec, body, own)

        if spec.http2:
            check_http2(await one_async(client, spec, body, Tally(-1)))
        if spec.warmup:
            await _common.run_tasks(spec.shares(spec.warmup), work, Tally(-1), None)
        await _common.run_tasks(spec.shares(spec.requests), work, tally, clock)


def run(spec: Spec) -> Dict[str, Any]:
    tally, clock = Tally(spec.expect_bytes), Clock(spec.time_limit_s)
    if spec.mode == "sync":
        run_sync(spec, tally, clock)
    else:
        asyncio.run(run_async(spec, tally, clock))
    return _common.result(spec, tally, clock, importlib.metadata.version("pyreqwest"))


if __name__ == "__main__":
    raise SystemExit(_common.main(run))
