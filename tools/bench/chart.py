"""The PNG beside docs/benchmarks.md: throughput as a ratio to httpcore 1.0.9, per scenario.

One row per scenario, one marker per client with a figure, on a log scale with the 1.0.9
line at 1x; this project's marker (a large red diamond) stands out, so where it sits among
the peers reads at a glance. matplotlib comes from the benchmark's own
virtualenv (``tools/bench.sh`` installs it there), never from the project's dependencies:
without it ``draw`` returns the reason and the report says there is no chart.
"""

from __future__ import annotations

import pathlib
from typing import Any, List, Tuple

from tools.bench import stats
from tools.bench.clients import BASELINE, OURS
from tools.bench.report import Table

_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")
_OURS_COLOUR = "#d62728"
_MARKERS = ("o", "s", "^", "v", "P", "X", "<", ">")


def bars(table: Table) -> List[Tuple[str, str, float]]:
    """(scenario, client, throughput ratio to 1.0.9) for every measured pair but 1.0.9's."""
    out: List[Tuple[str, str, float]] = []
    for scenario in table.scenarios:
        base = table.get(BASELINE, scenario)
        if base is None or not base.measured:
            continue
        for client in table.clients:
            if client == BASELINE:
                continue  # 1x by definition: the vertical line
            summary = table.get(client, scenario)
            if summary is None or not summary.measured:
                continue
            value = stats.throughput_ratio(summary, base)
            if value:
                out.append((scenario, client, value))
    return out


def draw(table: Table, path: pathlib.Path) -> str:
    """Write the chart; "" when written, else why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed in this environment (tools/bench.sh installs it)"
    data = bars(table)
    if not data:
        return "no scenario has a figure for httpcore 1.0.9 to compare with"
    clients = [c for c in table.clients if any(d[1] == c for d in data)]
    scenarios = [s for s in table.scenarios if any(d[0] == s for d in data)]
    rows = {scenario: row for row, scenario in enumerate(scenarios)}
    figure: Any = plt.figure(figsize=(10, 0.42 * len(scenarios) + 1.8))
    axes: Any = figure.add_subplot(1, 1, 1)
    for index, client in enumerate(clients):
        points = [(value, rows[s]) for s, c, value in data if c == client]
        ours = client == OURS
        axes.scatter([p[0] for p in points], [p[1] for p in points], label=client, zorder=3 if ours else 2,
                     s=140 if ours else 45, marker="D" if ours else _MARKERS[index % len(_MARKERS)],
                     color=_OURS_COLOUR if ours else _COLOURS[index % len(_COLOURS)],
                     edgecolors="black" if ours else "none", alpha=1.0 if ours else 0.85)
    axes.set_yticks(range(len(scenarios)))
    axes.set_yticklabels(scenarios)
    axes.set_ylim(len(scenarios) - 0.5, -0.5)
    axes.set_xscale("log")
    axes.axvline(1.0, color="black", linewidth=1.2, label="httpcore 1.0.9 (1x)")
    axes.set_xlabel("throughput / httpcore 1.0.9 (log scale, right is better; S6, S7: 1 / time)")
    axes.set_title("Throughput relative to httpcore 1.0.9 (median over cycles)")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    axes.grid(axis="x", which="both", alpha=0.3)
    axes.grid(axis="y", alpha=0.15)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(str(path), dpi=110)
    plt.close(figure)
    return ""
