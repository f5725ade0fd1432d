"""Cancellation at every await point of every flow leaves the pool consistent and reusable
(httpcore#1093, #1022; DESIGN.md decision 4).

Async only (threads are not cancelled), so this file is not under ``_async``; it runs on
asyncio and on trio. For each flow and each operation k of its clean run, the flow runs on
a fresh pool with a ``cancel`` fault at k: when operation k starts, the fault backend
cancels, and the operation waits until the cancellation arrives (a close, which runs
shielded, is not held up: the cancellation lands at the next await). Cancelled are either
the whole flow (one cancel scope around it) or, for HTTP/2, only the request whose task
made operation k (each request in its own scope; the concurrent flows), the others
running on and succeeding. Afterwards the
checks of ``_flows.pool_problems`` hold, the same flow succeeds on the same pool, and
closing the pool closes every stream. Timeouts firing at each step (ConnectTimeout,
ReadTimeout, WriteTimeout) are the ``timeout`` sweep of ``_async/test_reliability_faults.py``.
"""

from __future__ import annotations

import contextvars
from typing import List, Optional

import anyio
import pytest

from httpcore._backends._base import AsyncNetworkBackend
from httpcore._pool._async.connection_pool import AsyncConnectionPool
from tests.reliability._async._faults import (
    CANCEL,
    Fault,
    FaultBackend,
    HTTP2Responder,
    PeerBackend,
)
from tests.reliability._async._flows import (
    FLOWS,
    Concurrent,
    Flow,
    Multiplexed,
    Outcome,
    clean_operations,
    pool_problems,
)
from tests.reliability._deadline import CASE_DEADLINE_S, case_deadline

MAX_FAILURES = 8
# The cancel scope of the request running in the current task (per-request cancellation).
_REQUEST_SCOPE: contextvars.ContextVar[Optional[anyio.CancelScope]] = contextvars.ContextVar(
    "request_scope", default=None
)


def cancel_current_request() -> None:
    scope = _REQUEST_SCOPE.get()
    if scope is not None:
        scope.cancel()


class OneCancelled(Flow):
    """A concurrent flow with each request in its own cancel scope; a cancelled request is
    an ``Outcome`` labelled ``cancelled ...``, without a body."""

    def __init__(self, flow: Concurrent) -> None:
        self.flow = flow
        self.name = flow.name + "-one-cancelled"
        self.http2 = flow.http2

    def server(self) -> PeerBackend:
        return self.flow.server()

    def pool(self, backend: AsyncNetworkBackend) -> AsyncConnectionPool:
        return self.flow.pool(backend)

    async def run(self, pool: AsyncConnectionPool) -> List[Outcome]:
        outcomes: List[Outcome] = []

        async def one(index: int) -> None:
            with anyio.CancelScope() as scope:
                _REQUEST_SCOPE.set(scope)
                outcomes.append(await self.flow.one(pool, index))
            if scope.cancelled_caught:
                outcomes.append(Outcome(f"cancelled request {index}", b""))

        async with anyio.create_task_group() as group:
            for index in range(self.flow.REQUESTS):
                group.start_soon(one, index)
        return sorted(outcomes, key=lambda outcome: outcome.label)


async def cancel_case(flow: Flow, at: int, per_request: bool) -> List[str]:
    server = flow.server()
    backend = FaultBackend(server, Fault(CANCEL, at))
    problems: List[str] = []
    try:
        with case_deadline():
            async with flow.pool(backend) as pool:
                outcomes: List[Outcome] = []
                with anyio.CancelScope() as scope:
                    backend.on_fault = cancel_current_request if per_request else scope.cancel
                    outcomes = await flow.run(pool)
                backend.on_fault = None
                for outcome in outcomes:
                    if not (outcome.succeeded or outcome.label.startswith("cancelled ")):
                        problems.append(f"(a) {outcome.describe()}")
                problems.extend(f"(b/c) {problem}" for problem in pool_problems(pool, server))
                again = await flow.run(pool)
                problems.extend(f"(d) {o.describe()}" for o in again if not o.succeeded)
                problems.extend(f"(d) {problem}" for problem in pool_problems(pool, server))
    except TimeoutError:
        problems.append(f"the case hung: not over after {CASE_DEADLINE_S} seconds")
    if server.open_streams():
        problems.append(f"{len(server.open_streams())} streams open after the pool closed")
    where = backend.injected or f"cancel at operation {at}, not injected"
    return [f"{where} of flow {flow.name}: {problem}" for problem in problems]


async def cancel_sweep(flow: Flow, per_request: bool) -> int:
    operations = await clean_operations(flow)
    failures: List[str] = []
    for at in range(1, len(operations) + 1):
        failures.extend(await cancel_case(flow, at, per_request))
        if len(failures) >= MAX_FAILURES:
            failures.append("(sweep stopped)")
            break
    assert failures == [], "\n".join(failures)
    return len(operations)


@pytest.mark.anyio
@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.name)
async def test_cancelling_the_flow_at_every_operation_leaves_the_pool_consistent_and_reusable(
    flow: Flow,
) -> None:
    assert await cancel_sweep(flow, per_request=False) > 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    "flow", [flow for flow in FLOWS if isinstance(flow, Concurrent)], ids=lambda flow: flow.name
)
async def test_cancelling_one_request_at_every_operation_spares_the_others(
    flow: Concurrent,
) -> None:
    assert await cancel_sweep(OneCancelled(flow), per_request=True) > 0


@pytest.mark.anyio
async def test_the_http2_flow_has_all_its_requests_in_flight_at_once() -> None:
    # What makes the HTTP/2 sweeps about multiplexing: the server held every answer until
    # all the requests had arrived on the one connection.
    flow = Multiplexed()
    server = flow.server()
    async with flow.pool(FaultBackend(server)) as pool:
        outcomes = await flow.run(pool)
    assert [outcome.succeeded for outcome in outcomes] == [True] * Multiplexed.REQUESTS
    assert len(server.streams) == 1
    responder = server.streams[0].responder
    assert isinstance(responder, HTTP2Responder)
    assert responder.largest_batch == Multiplexed.REQUESTS
