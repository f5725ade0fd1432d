"""The sync pool under 64 threads against a real nginx, the short variant of
``python -m tools.soak.threads`` (``tools/soak/threads.py``).

Each seed runs 64 threads through one ``ConnectionPool`` (``max_connections=16``) with
random early closes (before the body, after its first chunk), responses dropped unclosed
into reference cycles that close them when the collector finalises them (from any thread,
also inside the pool's own code: httpcore#990; the generation-0 threshold is lowered so
that happens often), explicit ``gc.collect()`` from random threads, and the pool closed
while requests are in flight, then either reused or replaced by a new pool. Asserted:
every thread ends within a generous bound (else the failure shows every thread's stack);
every failure is ``ReadError``/``WriteError``/``RemoteProtocolError`` of a pool close, and
no request fails while no close runs (httpcore#1110); a request waiting on a socket when
another thread closes the pool fails at the close, not at its read timeout; every dropped
response was closed; no pool is left with a request or an active connection; a fresh request succeeds; file
descriptors and live httpcore objects return to their counts before the pools.
The seeds fix each thread's choices; the interleavings vary from run to run.

The last test feeds ``problems()`` made-up results, so each check is seen to fail.
"""

from __future__ import annotations

import collections
import dataclasses
import socket
import threading
from typing import Iterator, List

import httpcore

import pytest

from tools.soak.driver import Servers
from tools.soak.threads import ThreadSoakConfig, ThreadSoakHang, ThreadSoakResult, run_thread_soak, soak_servers

SEEDS = (1, 2, 3)
HANG_LIMIT_S = 120.0
# Generous: a read that reaches its timeout is a problem (the pool close must wake it).
READ_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with soak_servers() as started:
        yield started


def config(seed: int) -> ThreadSoakConfig:
    # Busier than the long run's defaults, so that a short run still closes pools and drops
    # responses a good number of times.
    return ThreadSoakConfig(
        threads=64,
        requests_per_thread=40,
        seed=seed,
        max_connections=16,
        p_gc_drop=0.08,
        p_gc_collect=0.03,
        p_pool_close=0.01,
        hang_limit_s=HANG_LIMIT_S,
        read_timeout=READ_TIMEOUT_S,
        pool_timeout=30.0,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_sync_pool_survives_64_threads_closing_dropping_and_closing_the_pool(servers: Servers, seed: int) -> None:
    try:
        result = run_thread_soak(config(seed), servers)
    except ThreadSoakHang as exc:
        pytest.fail(f"deadlock or hang:\n{exc}", pytrace=False)
    problems = result.problems()
    assert not problems, "\n".join([result.summary(), *problems])
    # The run did what it is for.
    assert result.pool_closes > 0 and result.pools_created > 1, result.summary()
    assert result.gc_dropped > 0 and result.gc_closed == result.gc_dropped, result.summary()
    assert result.actions["close_before_body"] > 0 and result.actions["close_mid_body"] > 0
    assert result.successes > result.config.requests // 2, result.summary()


def test_each_check_fails_when_what_it_watches_goes_wrong() -> None:
    base = ThreadSoakConfig(threads=1, requests_per_thread=2)
    good = ThreadSoakResult(base, successes=2, fresh_request="ok", fds_before=5, fds_after=5)
    assert good.problems() == []
    bad = {
        "hang": dataclasses.replace(good, hang="1 threads still running"),
        "accounted": dataclasses.replace(good, successes=1),
        "unexpected": dataclasses.replace(
            good, successes=1, failures=collections.Counter(PoolTimeout=1), unexpected=collections.Counter(PoolTimeout=1)
        ),
        "no pool close": dataclasses.replace(
            good, successes=1, failures=collections.Counter(ReadError=1), clean_failures=1
        ),
        "finalised": dataclasses.replace(good, gc_dropped=2, gc_closed=1),
        "finaliser error": dataclasses.replace(good, finaliser_errors=["RuntimeError()"]),
        "busy": dataclasses.replace(good, pools_left_busy=["<ConnectionPool [Requests: 1 active ...]>"]),
        "fresh": dataclasses.replace(good, fresh_request="ReadError()"),
        "fds": dataclasses.replace(good, fds_after=6),
        "objects": dataclasses.replace(good, objects_after=collections.Counter({"httpcore.Response": 1})),
    }
    for name, result in bad.items():
        assert result.problems(), name


def test_closing_the_pool_fails_a_blocked_read_at_once() -> None:
    # API.md 5.2: a response read from a closed connection fails on its next read. A read
    # already waiting (here without a read timeout, so only the close can end it) fails at
    # the close: the socket is shut down, and released only once the read has let go of it.
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts, never answers
        listener.settimeout(30.0)
        port = int(listener.getsockname()[1])
        pool = httpcore.ConnectionPool()
        errors: List[Exception] = []

        def read() -> None:
            try:
                pool.request("GET", f"http://127.0.0.1:{port}/")
            except Exception as exc:
                errors.append(exc)

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(30.0)
            received = b""
            while b"\r\n\r\n" not in received:  # the whole request: the client now reads
                chunk = connection.recv(1024)
                assert chunk, "the client closed before sending its request"
                received += chunk
            pool.close()
            thread.join(30.0)
            assert not thread.is_alive(), "the blocked read was not woken by pool.close()"
        assert len(errors) == 1
        assert isinstance(errors[0], (httpcore.RemoteProtocolError, httpcore.ReadError)), errors
