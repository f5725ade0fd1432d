"""Driver for pycurl (libcurl; sync API).

Concurrency 1 reuses one easy handle (libcurl keeps its connection). More concurrency uses
libcurl's own way, one ``CurlMulti`` with that many easy handles on one thread (no Python
threads). S4 caps the multi at one connection per host (``M_MAX_HOST_CONNECTIONS=1``,
``PIPEWAIT``) so the transfers are multiplexed on one HTTP/2 connection. Whole bodies are
collected as a list of chunks joined at the end; S3 only counts the chunks. ``Expect:`` is
disabled for the POST (the other clients do not wait for ``100 Continue``). TLS trust:
``CAINFO`` = the test CA.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional

import pycurl

from . import _common
from ._common import Clock, Spec, Tally, Unsupported


class Transfer:
    """One easy handle and the body it is receiving."""

    def __init__(self, spec: Spec, body: Optional[bytes]) -> None:
        self.spec = spec
        self.chunks: List[bytes] = []
        self.received = 0
        self.handle: Any = pycurl.Curl()
        configure(self.handle, spec, body, self.on_data)

    def on_data(self, chunk: bytes) -> None:
        if self.spec.stream:
            self.received += len(chunk)
        else:
            self.chunks.append(chunk)

    def reset(self) -> None:
        self.chunks = []
        self.received = 0

    def finish(self, tally: Tally) -> None:
        size = self.received if self.spec.stream else len(b"".join(self.chunks))
        tally.record(int(self.handle.getinfo(pycurl.RESPONSE_CODE)), size)
        self.reset()


def configure(handle: Any, spec: Spec, body: Optional[bytes], sink: Callable[[bytes], None]) -> None:
    handle.setopt(pycurl.URL, spec.url)
    handle.setopt(pycurl.WRITEFUNCTION, sink)
    handle.setopt(pycurl.NOSIGNAL, 1)
    handle.setopt(pycurl.CONNECTTIMEOUT, int(_common.REQUEST_TIMEOUT_S))
    handle.setopt(pycurl.TIMEOUT, int(_common.REQUEST_TIMEOUT_S))
    if spec.is_tls:
        # S6: the CA file a default set-up reads (libcurl does not look at SSL_CERT_FILE).
        cafile = os.environ.get("SSL_CERT_FILE", spec.ca) if spec.scenario == "S6" else spec.ca
        handle.setopt(pycurl.CAINFO, cafile)
    if spec.http2:
        version = pycurl.CURL_HTTP_VERSION_2TLS if spec.is_tls else pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
        handle.setopt(pycurl.HTTP_VERSION, version)
        handle.setopt(pycurl.PIPEWAIT, 1)
    else:
        handle.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
    if body is not None:
        handle.setopt(pycurl.POSTFIELDS, body)
        handle.setopt(pycurl.HTTPHEADER, ["Expect:"])


def sequential(transfer: Transfer, count: int, tally: Tally, clock: Clock) -> None:
    for _ in range(count):
        if clock.over():
            break
        try:
            transfer.handle.perform()
            transfer.finish(tally)
        except pycurl.error as exc:
            transfer.reset()
            tally.exception(exc)


class Multi:
    """One CurlMulti and ``spec.concurrency`` easy handles, kept between phases so that the
    measured phase reuses the warm-up's connections (libcurl caches them in the multi)."""

    def __init__(self, spec: Spec, body: Optional[bytes]) -> None:
        self.curl_multi: Any = pycurl.CurlMulti()
        self.curl_multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, 1 if spec.http2 else max(1, spec.concurrency))
        if spec.http2:
            self.curl_multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
        self.transfers = [Transfer(spec, body) for _ in range(max(1, spec.concurrency))]
        self.by_handle = {id(t.handle): t for t in self.transfers}

    def run(self, count: int, tally: Tally, clock: Clock) -> None:
        """``count`` transfers, at most ``len(self.transfers)`` at once; none started once
        the clock is over its limit."""
        curl_multi = self.curl_multi
        remaining = count
        active = 0
        for transfer in self.transfers[:count]:
            curl_multi.add_handle(transfer.handle)
            remaining -= 1
            active += 1
        while active:
            while True:
                code, _running = curl_multi.perform()
                if code != pycurl.E_CALL_MULTI_PERFORM:
                    break
            while True:
                queued, succeeded, errored = curl_multi.info_read()
                done: List[Any] = list(succeeded)
                for handle in succeeded:
                    self.by_handle[id(handle)].finish(tally)
                for handle, errno, message in errored:
                    self.by_handle[id(handle)].reset()
                    tally.fail(f"pycurl error {errno}: {message}")
                    done.append(handle)
                for handle in done:
                    curl_multi.remove_handle(handle)
                    active -= 1
                    if remaining and not clock.over():
                        curl_multi.add_handle(handle)
                        remaining -= 1
                        active += 1
                if not queued:
                    break
            if active:
                # Wait no longer than libcurl's own next deadline: with no socket to watch
                # yet (PIPEWAIT, connecting) a plain select() would sleep the whole second.
                wait_ms = curl_multi.timeout()
                if wait_ms != 0:
                    curl_multi.select(1.0 if wait_ms < 0 else min(wait_ms / 1000.0, 1.0))

    def close(self) -> None:
        for transfer in self.transfers:
            transfer.handle.close()
        self.curl_multi.close()


def run(spec: Spec) -> Dict[str, Any]:
    if spec.mode != "sync":
        raise Unsupported("pycurl: only the sync API is benchmarked")
    tally, clock = Tally(spec.expect_bytes), Clock(spec.time_limit_s)
    body = spec.body()
    version = pycurl.version.split()[0]
    if spec.scenario == "S6":
        clock.start()
        for _ in range(spec.requests):
            if clock.over():
                break
            transfer = Transfer(spec, None)
            sequential(transfer, 1, tally, clock)
            transfer.handle.close()
        clock.stop()
    elif spec.concurrency <= 1 and not spec.http2:
        transfer = Transfer(spec, body)
        sequential(transfer, spec.warmup, Tally(-1), clock)
        clock.start()
        sequential(transfer, spec.requests, tally, clock)
        clock.stop()
    else:
        if spec.http2:
            probe = Transfer(spec, body)
            sequential(probe, 1, Tally(-1), clock)
            if probe.handle.getinfo(pycurl.INFO_HTTP_VERSION) != pycurl.CURL_HTTP_VERSION_2_0:
                raise Unsupported("no HTTP/2 negotiated")
            probe.handle.close()
        transfers = Multi(spec, body)
        try:
            if spec.warmup:
                transfers.run(spec.warmup, Tally(-1), clock)
            clock.start()
            transfers.run(spec.requests, tally, clock)
            clock.stop()
        finally:
            transfers.close()
    return _common.result(spec, tally, clock, version)


if __name__ == "__main__":
    raise SystemExit(_common.main(run))
