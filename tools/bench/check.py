"""Did the benchmark itself work? The check of a smoke run (CI) or of any run with ``--check``.

``problems(results, report_path)`` lists what is broken, never how fast anything was:

- ours or httpcore 1.0.9 (when selected) did not install or import;
- ours or 1.0.9 has no figure in a scenario form it supports (the driver crashed, timed
  out, printed no result, or every request failed), or a client that installed was left
  out of a scenario it supports;
- ours had a failed request, or a run of ours gave no result;
- the report is missing, lacks a scenario's row, or lacks ours' figures in it (the
  ratios to 1.0.9 in the headline table, the absolute throughput); the chart is missing.

A peer that did not install (PyPI trouble) is only reported as unavailable, and a peer
without a figure (its new release broke, or it timed out on a loaded machine) or with failed
requests is only reported too: none of these is a problem of the benchmark. ``python -m tools.bench
check RESULTS.json REPORT.md`` runs the same check on a saved run.
"""

from __future__ import annotations

import pathlib
import re
from typing import Dict, List, Optional, Sequence

from tools.bench.clients import BASELINE, OURS
from tools.bench.report import Table
from tools.bench.results import Results

REQUIRED = (OURS, BASELINE)
HEADLINE = "## Ours against httpcore 1.0.9 and the best peer"
ABSOLUTE = "## Absolute figures"
_RATIO = re.compile(r"^\d[\d,]*(\.\d+)?x$")
_NUMBER = re.compile(r"^\d[\d,]*(\.\d+)?$")


def table_rows(markdown: str, heading: str, first_header: str = "") -> Dict[str, List[str]]:
    """The rows of the first table under ``heading`` (whose header's first cell is
    ``first_header`` when given), by their first cell, the header row included."""
    lines = markdown.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        return {}
    rows: Dict[str, List[str]] = {}
    inside = False
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if not line.startswith("|"):
            if inside:
                break
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not inside:
            if first_header and cells[0] != first_header:
                continue
            inside = True
        if cells and not set(cells[0]) <= set("-:"):
            rows[cells[0]] = cells[1:]
    return rows


def report_problems(markdown: str, scenarios: Sequence[str], ours_expected: bool) -> List[str]:
    """What the written report lacks: a row per scenario, and ours' figures in it."""
    found: List[str] = []
    headline = table_rows(markdown, HEADLINE)
    absolute = table_rows(markdown, ABSOLUTE, "Throughput")
    if not headline:
        found.append("the report has no headline table")
    if not absolute:
        found.append("the report has no table of absolute throughput")
    header = absolute.get("Throughput", [])
    ours_column = header.index(OURS) if OURS in header else None
    if ours_expected and absolute and ours_column is None:
        found.append("the report's throughput table has no column for ours")
    for scenario in scenarios:
        row = headline.get(scenario)
        if headline and row is None:
            found.append(f"{scenario}: no row in the report's headline table")
        elif row is not None and ours_expected:
            shown = [row[i] if i < len(row) else "" for i in (0, 2)]
            if not all(_RATIO.match(cell) for cell in shown):
                found.append(f"{scenario}: the report shows no ratio of ours to 1.0.9 "
                             f"(throughput {shown[0]!r}, CPU {shown[1]!r})")
        cells = absolute.get(scenario)
        if absolute and cells is None:
            found.append(f"{scenario}: no row in the report's throughput table")
        elif cells is not None and ours_column is not None:
            cell = cells[ours_column] if ours_column < len(cells) else ""
            if not _NUMBER.match(cell):
                found.append(f"{scenario}: the report shows no throughput for ours ({cell!r})")
    return found


def problems(results: Results, report_path: pathlib.Path, chart_path: Optional[pathlib.Path] = None) -> List[str]:
    """Everything that says the benchmark itself broke in this run (empty: it worked)."""
    found: List[str] = []
    table = Table(results)
    infos = {info.name: info for info in results.clients}
    for name in REQUIRED:
        info = infos.get(name)
        if info is not None and not info.available:
            found.append(f"{name} is unavailable: {info.reason}")
    for info in results.clients:
        if not info.available:
            continue
        for scenario in results.scenarios:
            summary = table.get(info.name, scenario)
            if summary is None:
                found.append(f"{scenario}: {info.name} was not run")
            elif summary.status == "error" and info.name in REQUIRED:
                found.append(f"{scenario}: {info.name} gave no figure: {summary.reason or 'no detail'}")
            elif info.name == OURS and summary.status == "ok":
                if summary.failed:
                    found.append(f"{scenario}: ours had {summary.failed} failed requests: {summary.reason}")
                if summary.runs_without_result:
                    found.append(f"{scenario}: {summary.runs_without_result} runs of ours gave no result")
    if not report_path.is_file():
        found.append(f"the report {report_path.name} was not written")
    else:
        ours = infos.get(OURS)
        found += report_problems(report_path.read_text(), results.scenarios, ours is not None and ours.available)
    if chart_path is not None and not (chart_path.is_file() and chart_path.stat().st_size > 0):
        found.append(f"the chart {chart_path.name} was not written")
    return found


def peers_without_figures(results: Results) -> List[str]:
    """The installed peers' scenario forms that gave no figure (reported, not a problem: a
    peer's new release or a timeout on a loaded machine must not fail CI; ours and 1.0.9
    without a figure do)."""
    table = Table(results)
    found: List[str] = []
    for info in results.clients:
        if not info.available or info.name in REQUIRED:
            continue
        for scenario in results.scenarios:
            summary = table.get(info.name, scenario)
            if summary is not None and summary.status == "error":
                found.append(f"{scenario}: {info.name}: {summary.reason or 'no detail'}")
    return found


def unavailable_peers(results: Results) -> List[str]:
    """The peers that did not install, with the reason (reported, not a problem)."""
    return [f"{info.name}: {info.reason}" for info in results.clients
            if not info.available and info.name not in REQUIRED]
