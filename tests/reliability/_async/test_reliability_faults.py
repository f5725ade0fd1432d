"""Sweeps: every fault, at every operation of every flow, and the pool loses nothing
(httpcore#1093, #1022; API.md §5.3, §5.6, §8.1, §10).

For each flow (``_flows.FLOWS``) a clean run first lists its network operations; then, for
each operation N and each fault kind that applies to it, the flow runs on a fresh pool
over a fresh in-memory server with that fault injected at N, and:

(a) each request either succeeds with the body the server sent for it, or raises an
    exception API.md documents for that fault (benign faults: success only; a failed
    connect or TLS handshake fails at least one request: connects are not retried); a
    fault fails at most the requests the flow allows (``Flow.most_failures``: one, for a
    read timeout on HTTP/2 and for a fault in a queue of HTTP/1.1 requests);
(b) afterwards the pool holds no request, every connection is idle or closed, and no
    network stream is open beyond the live connections;
(c) HTTP/2 connections have no stream-count drift (slots, requests in flight, stream
    records, h2's count of open streams);
(d) the same flow then runs again on the same pool, without the fault, and every request
    succeeds, and (b) and (c) hold again; closing the pool closes every stream.

Failures are collected over a whole sweep and reported together, each as "fault X at
operation N (kind) of flow F: what went wrong"; a case that hangs fails after
``CASE_DEADLINE_S`` (async; the sync twin relies on the requests' timeouts).
"""

from __future__ import annotations

from typing import List, Tuple, Type

import pytest

from tests.reliability._async._faults import (
    APPLICABLE,
    CONNECT_ERROR,
    EOF,
    RESET,
    SHORT_READ,
    SPLIT_READ,
    TIMEOUT,
    TLS_ERROR,
    Fault,
    FaultBackend,
)
from tests.reliability._async._flows import FLOWS, Flow, clean_operations, pool_problems
from tests.reliability._deadline import CASE_DEADLINE_S, case_deadline

SWEPT = [CONNECT_ERROR, TLS_ERROR, SHORT_READ, SPLIT_READ, EOF, RESET, TIMEOUT]
# A sweep stops after this many failing cases: enough to see the pattern, and bounded.
MAX_FAILURES = 8


async def run_case(flow: Flow, fault: Fault, operations: List[str]) -> List[str]:
    """The problems of one case: ``flow`` with ``fault`` (``operations``: a clean run's)."""
    server = flow.server()
    backend = FaultBackend(server, fault)
    problems: List[str] = []
    try:
        with case_deadline():
            async with flow.pool(backend) as pool:
                outcomes = await flow.run(pool)
                # Judged by where the fault went (a concurrent flow may order its
                # operations differently from the clean run); not injected: all succeed.
                operation = backend.injected_into
                if operation is None:
                    allowed: Tuple[Type[Exception], ...] = ()
                    operation = "nothing"
                else:
                    allowed = flow.documented_errors(
                        fault.kind, fault.at, operation, operations
                    )
                for outcome in outcomes:
                    if outcome.succeeded:
                        continue
                    if outcome.error is None or not isinstance(outcome.error, allowed):
                        problems.append(f"(a) {outcome.describe()}")
                failed = sum(1 for outcome in outcomes if not outcome.succeeded)
                if failed > flow.most_failures(fault.kind, operation):
                    problems.append(f"(a) {failed} requests failed: one fault, one request")
                if fault.kind in (CONNECT_ERROR, TLS_ERROR) and backend.injected:
                    if all(outcome.succeeded for outcome in outcomes):
                        problems.append("(a) every request succeeded despite a failed connect")
                problems.extend(f"(b/c) {problem}" for problem in pool_problems(pool, server))
                again = await flow.run(pool)
                problems.extend(f"(d) {o.describe()}" for o in again if not o.succeeded)
                problems.extend(f"(d) {problem}" for problem in pool_problems(pool, server))
    except TimeoutError:
        problems.append(f"the case hung: not over after {CASE_DEADLINE_S} seconds")
    if server.open_streams():
        problems.append(f"{len(server.open_streams())} streams open after the pool closed")
    where = backend.injected or f"{fault.kind} at operation {fault.at}, not injected"
    return [f"{where} of flow {flow.name}: {problem}" for problem in problems]


async def sweep(flow: Flow, kind: str) -> int:
    """Run every case of ``kind`` over ``flow``; fail with all problems; return the count."""
    operations = await clean_operations(flow)
    failures: List[str] = []
    cases = 0
    for at, operation in enumerate(operations, start=1):
        if operation not in APPLICABLE[kind]:
            continue
        cases += 1
        problems = await run_case(flow, Fault(kind, at), operations)
        if problems:
            failures.extend(problems)
            if len(failures) >= MAX_FAILURES:
                failures.append("(sweep stopped)")
                break
    assert failures == [], "\n".join(failures)
    return cases


@pytest.mark.anyio
@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.name)
async def test_clean_run_of_every_flow_succeeds_and_leaves_the_pool_idle(flow: Flow) -> None:
    operations = await clean_operations(flow)
    assert operations[0] == "connect_tcp"
    assert "read" in operations and "write" in operations


@pytest.mark.anyio
@pytest.mark.parametrize("kind", SWEPT)
@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.name)
async def test_every_fault_at_every_operation_leaves_the_pool_consistent_and_reusable(
    flow: Flow, kind: str
) -> None:
    cases = await sweep(flow, kind)
    # Every kind applies somewhere in every flow, except TLS in the clear-text ones.
    assert cases > 0 or kind == TLS_ERROR
