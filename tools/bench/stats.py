"""From driver runs to per-scenario figures and ratios.

Per (client, scenario), the cycles' runs are summarised by medians: operations per second
(successful operations / wall time of the measured phase), client CPU per operation, and
peak RSS; failed requests are summed over the cycles, runs that gave no result are counted.
Ratios are "times better", so above 1 always means ahead:

- throughput: ``ops_per_s(client) / ops_per_s(reference)``;
- CPU: ``cpu_per_op(reference) / cpu_per_op(client)`` (how many times less CPU it spends).

The reference is httpcore 1.0.9, or the best peer: the best client other than ours with a
figure in the same scenario of the same run.
"""

from __future__ import annotations

import dataclasses
import statistics
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from tools.bench.clients import OURS
from tools.bench.runner import Run


@dataclasses.dataclass(frozen=True)
class Summary:
    client: str
    scenario: str
    status: str  # ok, n/a, error, unavailable
    reason: str = ""
    mode: str = ""
    cycles: int = 0  # runs with a figure
    runs_without_result: int = 0
    ops_per_s: Optional[float] = None
    cpu_us_per_op: Optional[float] = None
    peak_rss_kib: Optional[int] = None
    failed: int = 0
    operations: int = 0

    @property
    def measured(self) -> bool:
        return self.ops_per_s is not None


def median(values: Sequence[float]) -> Optional[float]:
    return float(statistics.median(values)) if values else None


def summarise(client: str, scenario: str, runs: Sequence[Run]) -> Summary:
    """The medians over ``runs`` (one client, one scenario, one run per cycle)."""
    measured = [run for run in runs if run.measured]
    failed = sum(run.failed for run in runs)
    operations = sum(run.operations for run in runs)
    without = [run for run in runs if run.status not in ("ok", "unsupported")]
    if not measured:
        unsupported = [run for run in runs if run.status == "unsupported"]
        if unsupported and not without:
            return Summary(client, scenario, "n/a", reason=unsupported[0].reason)
        first = (without or list(runs))[0] if runs else None
        reason = (first.reason or "; ".join(first.errors)) if first is not None else "not run"
        if first is not None and first.status == "ok":
            reason = "every request failed: " + "; ".join(first.errors)
        return Summary(client, scenario, "error", reason=reason, failed=failed,
                       runs_without_result=len(without), operations=operations)
    return Summary(
        client=client,
        scenario=scenario,
        status="ok",
        reason="; ".join(sorted({e for run in runs for e in run.errors}))[:300],
        mode=measured[0].mode,
        cycles=len(measured),
        runs_without_result=len(without),
        ops_per_s=median([run.ok / run.wall_s for run in measured]),
        cpu_us_per_op=median([run.cpu_s / run.ok * 1e6 for run in measured]),
        peak_rss_kib=int(statistics.median([run.peak_rss_kib for run in measured])),
        failed=failed,
        operations=operations,
    )


def summarise_all(runs: Iterable[Run]) -> Dict[Tuple[str, str], Summary]:
    grouped: Dict[Tuple[str, str], List[Run]] = {}
    for run in runs:
        grouped.setdefault((run.client, run.scenario), []).append(run)
    return {key: summarise(key[0], key[1], group) for key, group in grouped.items()}


def throughput_ratio(client: Summary, reference: Summary) -> Optional[float]:
    if client.ops_per_s is None or not reference.ops_per_s:
        return None
    return client.ops_per_s / reference.ops_per_s


def cpu_ratio(client: Summary, reference: Summary) -> Optional[float]:
    if not client.cpu_us_per_op or reference.cpu_us_per_op is None:
        return None
    return reference.cpu_us_per_op / client.cpu_us_per_op


def best_peer(
    summaries: Iterable[Summary], better: Callable[[Summary, Summary], bool], exclude: str = OURS
) -> Optional[Summary]:
    """The best measured summary not of ``exclude`` (``better(a, b)``: a beats b)."""
    best: Optional[Summary] = None
    for summary in summaries:
        if summary.client == exclude or not summary.measured:
            continue
        if best is None or better(summary, best):
            best = summary
    return best


def faster(a: Summary, b: Summary) -> bool:
    return (a.ops_per_s or 0.0) > (b.ops_per_s or 0.0)


def leaner(a: Summary, b: Summary) -> bool:
    return (a.cpu_us_per_op or float("inf")) < (b.cpu_us_per_op or float("inf"))
