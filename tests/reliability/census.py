"""``python -m tests.reliability.census``: how many cases the reliability sweeps run.

The figures of docs/reliability.md: per flow of ``_async/_flows.FLOWS``, its network
operations (a clean run on asyncio), the fault cases of each swept kind (an operation times
the kinds that apply to it, as ``test_reliability_faults.sweep`` counts them) and the
cancellation points (every operation, for the whole flow; and again, one request at a time,
for the concurrent flows). The sweeps run these once per backend: asyncio, trio and the
generated sync twin (which has no cancellation).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Dict, List, Tuple

import tests.conftest  # noqa: F401  # puts the checkout's libs on sys.path, as under pytest
from tests.reliability._async._faults import APPLICABLE
from tests.reliability._async._flows import FLOWS, Concurrent, clean_operations
from tests.reliability._async.test_reliability_faults import SWEPT as SWEPT_KINDS


async def census() -> List[Tuple[str, int, Dict[str, int], int]]:
    """(flow name, operations, fault cases by kind, cancellation points) per flow."""
    rows = []
    for flow in FLOWS:
        operations = await clean_operations(flow)
        faults = {
            kind: sum(1 for operation in operations if operation in APPLICABLE[kind]) for kind in SWEPT_KINDS
        }
        cancels = len(operations) * (2 if isinstance(flow, Concurrent) else 1)
        rows.append((flow.name, len(operations), faults, cancels))
    return rows


def main() -> int:
    rows = asyncio.run(census())
    print("| Flow | Operations | " + " | ".join(SWEPT_KINDS) + " | Fault cases | Cancellation points |")
    print("|---" * (len(SWEPT_KINDS) + 4) + "|")
    total_faults = total_cancels = 0
    for name, operations, faults, cancels in rows:
        cases = sum(faults.values())
        total_faults += cases
        total_cancels += cancels
        cells = " | ".join(str(faults[kind]) for kind in SWEPT_KINDS)
        print(f"| {name} | {operations} | {cells} | {cases} | {cancels} |")
    print(f"\n{len(rows)} flows: {total_faults} fault cases and {total_cancels} cancellation points per "
          f"backend; faults on asyncio, trio and sync: {3 * total_faults}; cancellation on asyncio "
          f"and trio: {2 * total_cancels}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
