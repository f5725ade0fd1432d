"""docs/reliability.md's census of the sweeps is the sweeps' own: every flow's operations,
fault cases by kind and cancellation points as ``tests.reliability.census`` counts them now
(a flow or fault kind added without updating the page fails here)."""

from __future__ import annotations

import pathlib
from typing import Dict, List

import pytest

from tests.reliability.census import census

# Not resolved: under Bazel the page is a runfile beside this file's tree (//docs:md).
PAGE = pathlib.Path(__file__).absolute().parent.parent.parent / "docs" / "reliability.md"


def documented_rows() -> Dict[str, List[int]]:
    """The census table's rows of the page: flow name -> its numbers, in column order."""
    rows: Dict[str, List[int]] = {}
    for line in PAGE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| http") or line.startswith("| proxy"):
            rows[cells[0]] = [int(cell) for cell in cells[1:]]
    return rows


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_documented_census_is_the_current_one(anyio_backend: str) -> None:
    counted = {
        name: [operations, *faults.values(), sum(faults.values()), cancels]
        for name, operations, faults, cancels in await census()
    }
    assert documented_rows() == counted
    total_faults = sum(row[-2] for row in counted.values())
    total_cancels = sum(row[-1] for row in counted.values())
    assert f"**{total_faults}**" in PAGE.read_text() and f"**{total_cancels}**" in PAGE.read_text()
