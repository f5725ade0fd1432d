"""Driver for the httpcore family: this project, httpcore 1.0.9, httpcore2, httpcorexyz.

They share the httpcore 1.0 API under different import names (``--module``): one
``ConnectionPool`` / ``AsyncConnectionPool`` per run, ``request()`` for whole bodies,
``stream()`` + ``iter_stream()`` for S3. HTTP/2 (S4) is ``http1=False, http2=True``: prior
knowledge on ``http://``, ALPN ``h2`` on ``https://``. TLS trust: the library's
``default_ssl_context()`` plus the test CA (what a user with a private CA writes); in S6 the
pool gets no context (the library's default TLS set-up, the test CA in ``SSL_CERT_FILE``).
"""

from __future__ import annotations

import asyncio
import importlib
import ssl
from typing import Any, Dict, Optional

from . import _common
from ._common import Clock, Spec, Tally, Unsupported

_TIMEOUTS = {"connect": _common.REQUEST_TIMEOUT_S, "read": _common.REQUEST_TIMEOUT_S,
             "write": _common.REQUEST_TIMEOUT_S, "pool": _common.REQUEST_TIMEOUT_S}
_EXTENSIONS: Dict[str, Any] = {"timeout": _TIMEOUTS}


def ssl_context(module: Any, ca: str) -> ssl.SSLContext:
    factory = getattr(module, "default_ssl_context", None)
    context: ssl.SSLContext = factory() if factory is not None else ssl.create_default_context()
    context.load_verify_locations(cafile=ca)
    return context


def pool_options(module: Any, spec: Spec) -> Dict[str, Any]:
    options: Dict[str, Any] = {"max_connections": max(1, spec.concurrency)}
    if spec.is_tls:
        options["ssl_context"] = ssl_context(module, spec.ca)
    if spec.http2:
        options.update(http1=False, http2=True, max_connections=1)
    return options


def check_http2(response: Any, probe: Tally) -> None:
    if response is None:
        raise Unsupported("the first HTTP/2 request failed: " + "; ".join(probe.errors))
    version = response.extensions.get("http_version", b"?")
    if version != b"HTTP/2":
        raise Unsupported(f"no HTTP/2 (negotiated {version!r})")


# --- sync ---------------------------------------------------------------------------------


def one_sync(pool: Any, spec: Spec, body: Optional[bytes], tally: Tally) -> Any:
    method = "POST" if body is not None else "GET"
    try:
        if spec.stream:
            with pool.stream(method, spec.url, content=body, extensions=_EXTENSIONS) as response:
                received = 0
                for chunk in response.iter_stream():
                    received += len(chunk)
            tally.record(response.status, received)
        else:
            response = pool.request(method, spec.url, content=body, extensions=_EXTENSIONS)
            tally.record(response.status, len(response.content))
        return response
    except Exception as exc:
        tally.exception(exc)
        return None


def run_sync(module: Any, spec: Spec, tally: Tally, clock: Clock) -> None:
    body = spec.body()

    def work(count: int, own: Tally) -> None:
        for _ in range(count):
            if clock.over():
                break
            one_sync(pool, spec, body, own)

    with module.ConnectionPool(**pool_options(module, spec)) as pool:
        if spec.http2:
            probe = Tally(-1)
            check_http2(one_sync(pool, spec, body, probe), probe)
        if spec.warmup:
            _common.run_threads(spec.shares(spec.warmup), work, Tally(-1), None)
        _common.run_threads(spec.shares(spec.requests), work, tally, clock)


def first_request_sync(module: Any, spec: Spec, tally: Tally, clock: Clock) -> None:
    """S6: a new pool with the default TLS set-up per operation, one request, close."""
    clock.start()
    for _ in range(spec.requests):
        if clock.over():
            break
        with module.ConnectionPool() as pool:
            one_sync(pool, spec, None, tally)
    clock.stop()


# --- async --------------------------------------------------------------------------------


async def one_async(pool: Any, spec: Spec, body: Optional[bytes], tally: Tally) -> Any:
    method = "POST" if body is not None else "GET"
    try:
        if spec.stream:
            async with pool.stream(method, spec.url, content=body, extensions=_EXTENSIONS) as response:
                received = 0
                async for chunk in response.aiter_stream():
                    received += len(chunk)
            tally.record(response.status, received)
        else:
            response = await pool.request(method, spec.url, content=body, extensions=_EXTENSIONS)
            tally.record(response.status, len(response.content))
        return response
    except Exception as exc:
        tally.exception(exc)
        return None


async def run_async(module: Any, spec: Spec, tally: Tally, clock: Clock) -> None:
    body = spec.body()

    async def work(count: int, own: Tally) -> None:
        for _ in range(count):
            if clock.over():
                break
            await one_async(pool, spec, body, own)

    async with module.AsyncConnectionPool(**pool_options(module, spec)) as pool:
        if spec.http2:
            probe = Tally(-1)
            check_http2(await one_async(pool, spec, body, probe), probe)
        if spec.warmup:
            await _common.run_tasks(spec.shares(spec.warmup), work, Tally(-1), None)
        await _common.run_tasks(spec.shares(spec.requests), work, tally, clock)


async def first_request_async(module: Any, spec: Spec, tally: Tally, clock: Clock) -> None:
    clock.start()
    for _ in range(spec.requests):
        if clock.over():
            break
        async with module.AsyncConnectionPool() as pool:
            await one_async(pool, spec, None, tally)
    clock.stop()


def run(spec: Spec) -> Dict[str, Any]:
    module = importlib.import_module(spec.module)
    tally, clock = Tally(spec.expect_bytes), Clock(spec.time_limit_s)
    if spec.mode == "sync":
        (first_request_sync if spec.scenario == "S6" else run_sync)(module, spec, tally, clock)
    else:
        asyncio.run((first_request_async if spec.scenario == "S6" else run_async)(module, spec, tally, clock))
    return _common.result(spec, tally, clock, str(getattr(module, "__version__", "?")))


if __name__ == "__main__":
    raise SystemExit(_common.main(run))
