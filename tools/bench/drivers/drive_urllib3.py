"""Driver for urllib3 2.x (sync only; its HTTP/2 is experimental and not multiplexed).

One ``HTTPConnectionPool`` / ``HTTPSConnectionPool`` per run with ``maxsize=concurrency``,
``block=True`` (threads wait for a connection as in the other pools), no retries.
``preload_content=False`` + ``stream()`` for S3. TLS trust: urllib3's default context with
the default certificates (what it loads without ``ca_certs``) plus the test CA.
"""

from __future__ import annotations

import ssl
import urllib.parse
from typing import Any, Dict, Optional

import urllib3

from . import _common
from ._common import Clock, Spec, Tally, Unsupported


def ssl_context(ca: str) -> ssl.SSLContext:
    context: ssl.SSLContext = urllib3.util.ssl_.create_urllib3_context()
    context.load_default_certs()
    context.load_verify_locations(cafile=ca)
    return context


def make_pool(spec: Spec, context: Optional[ssl.SSLContext]) -> Any:
    parts = urllib.parse.urlsplit(spec.url)
    timeout = urllib3.Timeout(connect=_common.REQUEST_TIMEOUT_S, read=_common.REQUEST_TIMEOUT_S)
    options: Dict[str, Any] = {"maxsize": max(1, spec.concurrency), "block": True, "retries": False,
                               "timeout": timeout}
    if parts.scheme == "https":
        return urllib3.HTTPSConnectionPool(parts.hostname, parts.port, ssl_context=context, **options)
    return urllib3.HTTPConnectionPool(parts.hostname, parts.port, **options)


def one(pool: Any, spec: Spec, path: str, body: Optional[bytes], tally: Tally) -> None:
    try:
        if body is not None:
            response = pool.request("POST", path, body=body)
            tally.record(response.status, len(response.data))
        elif spec.stream:
            response = pool.request("GET", path, preload_content=False)
            received = 0
            for chunk in response.stream(_common.STREAM_CHUNK_BYTES):
                received += len(chunk)
            response.release_conn()
            tally.record(response.status, received)
        else:
            response = pool.request("GET", path)
            tally.record(response.status, len(response.data))
    except Exception as exc:
        tally.exception(exc)


def run(spec: Spec) -> Dict[str, Any]:
    if spec.http2:
        raise Unsupported("urllib3 2.x has no multiplexed HTTP/2")
    if spec.mode != "sync":
        raise Unsupported("urllib3 has no async API")
    tally, clock = Tally(spec.expect_bytes), Clock(spec.time_limit_s)
    parts = urllib.parse.urlsplit(spec.url)
    path = parts.path or "/"
    body = spec.body()
    if spec.scenario == "S6":
        clock.start()
        for _ in range(spec.requests):
            if clock.over():
                break
            with make_pool(spec, None) as pool:  # the default TLS set-up (SSL_CERT_FILE)
                one(pool, spec, path, None, tally)
        clock.stop()
    else:
        with make_pool(spec, ssl_context(spec.ca) if spec.is_tls else None) as pool:

            def work(count: int, own: Tally) -> None:
                for _ in range(count):
                    if clock.over():
                        break
                    one(pool, spec, path, body, own)

            if spec.warmup:
                _common.run_threads(spec.shares(spec.warmup), work, Tally(-1), None)
            _common.run_threads(spec.shares(spec.requests), work, tally, clock)
    return _common.result(spec, tally, clock, urllib3.__version__)


if __name__ == "__main__":
    raise SystemExit(_common.main(run))
