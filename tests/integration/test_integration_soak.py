"""Load and soak, the short variant: the pool under load while a real nginx is restarted.

Each test runs ``tools.soak.driver.run_soak`` (the driver of ``python -m tools.soak``, which
runs the long variant: 10,000 requests at concurrency 500 through ``max_connections=100``)
with 1,000 requests, 100 asyncio tasks or 32 threads, ``max_connections=20`` and one nginx
restart half-way, and asserts that ``problems()`` is empty: every request succeeded (body
checked) or failed with a documented httpcore exception of a peer going away; the last
requests and a fresh one after the run succeeded; the file descriptors and the live
httpcore objects came back to their counts before the pool; no ``Request``/``Response``
outlived the run. Every test starts its
own nginx (the session's is shared and must not be restarted) and the proxy test its own
tinyproxy. Nothing is timed: each request has timeouts and the run a hang limit, past which
the stacks are dumped and the test fails.

The last tests feed ``SoakResult.problems()`` made-up results, to show that each check
fails when what it watches goes wrong.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Any, Callable

import pytest

import httpcore
from tools.servers.nginx import SMALL_BODY, NginxServer
from tools.soak.driver import SoakConfig, SoakResult, run_soak

REQUESTS = 1_000
TASKS = 100
THREADS = 32
MAX_CONNECTIONS = 20
HANG_LIMIT_S = 120.0


def check(result: SoakResult, *, strict_recovery: bool) -> None:
    problems = result.problems(strict_recovery=strict_recovery)
    assert not problems, "\n".join([result.summary(), *problems])
    assert result.restarts == 1
    assert result.successes >= result.config.tail_requests


def config(**options: Any) -> SoakConfig:
    base = SoakConfig(
        requests=REQUESTS,
        concurrency=TASKS,
        max_connections=MAX_CONNECTIONS,
        restart_at=(0.5,),
        hang_limit_s=HANG_LIMIT_S,
    )
    return dataclasses.replace(base, **options)


def test_http11_asyncio_survives_an_nginx_restart() -> None:
    # Direct HTTP/1.1: a connection the old nginx closed is noticed before reuse, so only
    # requests that overlapped the restart may fail.
    check(run_soak(config()), strict_recovery=True)


def test_http11_threads_survive_an_nginx_restart() -> None:
    check(run_soak(config(threads=True, concurrency=THREADS)), strict_recovery=True)


def test_http2_asyncio_survives_an_nginx_restart() -> None:
    # HTTP/2 has no liveness check of an idle connection, so a request that starts just
    # after the restart may still meet the dead connection. The dead connection may stay
    # referenced a while by the pool's lazily cleaned bookkeeping after it left the pool,
    # but not the requests that failed on it (its remembered error is kept and raised as
    # copies without their tracebacks).
    check(run_soak(config(http2=True)), strict_recovery=False)


def test_http11_through_tinyproxy_survives_an_nginx_restart() -> None:
    # tinyproxy closes its client connections after the origin went away on its own time,
    # so a request may still meet one; while nginx is down tinyproxy answers 5xx itself.
    check(run_soak(config(proxy=True)), strict_recovery=False)


def test_nginx_restart_serves_again_on_the_same_ports() -> None:
    with NginxServer() as server:
        ports = server.ports
        server.restart()
        assert server.ports == ports
        response = httpcore.request("GET", server.url("/small.txt"))
        assert (response.status, response.content) == (200, SMALL_BODY)


# --- the checks themselves ---------------------------------------------------------------


def passing_result() -> SoakResult:
    result = SoakResult(config(requests=10, restart_at=(0.5,)))
    result.successes = 9
    result.failures["ConnectError"] = 1
    result.restarts = 1
    result.fresh_request = "ok"
    result.fds_before = result.fds_after = 7
    result.objects_before = collections.Counter({"httpcore._x.Cache": 2})
    result.objects_after = collections.Counter({"httpcore._x.Cache": 2})
    return result


def test_problems_is_empty_for_a_good_run() -> None:
    assert passing_result().problems(strict_recovery=True) == []


@pytest.mark.parametrize(
    "spoil, expected",
    [
        (lambda r: setattr(r, "fds_after", 8), "open file descriptors"),
        (lambda r: r.objects_after.update({"httpcore._x.Cache": 1}), "alive after close"),
        (lambda r: r.objects_idle.update({"httpcore.Response": 1}), "per-request objects"),
        (lambda r: r.unexpected.update({"ReadTimeout": 1}), "unexpected failures"),
        (lambda r: setattr(r, "tail_failures", 1), "did not recover"),
        (lambda r: setattr(r, "fresh_request", "ConnectError"), "fresh request"),
        (lambda r: setattr(r, "clean_failures", 1), "outside every restart"),
        (lambda r: setattr(r, "restarts", 0), "restarts"),
        (lambda r: setattr(r, "successes", 8), "accounted for"),
    ],
    ids=["fds", "objects", "per-request", "unexpected", "tail", "fresh", "clean", "restarts", "count"],
)
def test_problems_reports_each_broken_expectation(
    spoil: Callable[[SoakResult], object], expected: str
) -> None:
    result = passing_result()
    spoil(result)
    problems = result.problems(strict_recovery=True)
    assert len(problems) == 1 and expected in problems[0], problems


def test_per_request_objects_alive_before_the_pool_are_not_the_runs() -> None:
    result = passing_result()
    result.objects_before.update({"httpcore.Request": 3})
    result.objects_idle.update({"httpcore.Request": 3})
    assert result.problems(strict_recovery=True) == []
    result.objects_idle.update({"httpcore.Request": 1})
    assert result.live_per_request_objects() == {"httpcore.Request": 1}
    assert len(result.problems(strict_recovery=True)) == 1
