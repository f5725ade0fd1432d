"""The performance targets of the speed issue, checked against one run's figures.

Each ``Goal`` compares ours with a reference in one scenario: ``both`` needs the throughput
ratio and the CPU ratio at ``factor`` or above, ``throughput`` only the first; ``scaling``
compares ours in one scenario with ours in another (S2c128 against S2); ``failures`` needs
zero failed requests on top of ``both``. ``against`` names the reference's scenario when it
is not the goal's own (a peer without the async form is compared by its sync figure). The memory target (peak RSS within 10 % of
httpcore 1.0.9) is checked over every scenario at once. A goal whose figures are missing is
"not measured", never met.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, List, Optional, Tuple

from tools.bench import stats
from tools.bench.clients import BASELINE, OURS
from tools.bench.stats import Summary

RSS_TOLERANCE = 1.10

# (client, scenario) -> its summary, if any: ``report.Table.get``.
Getter = Callable[[str, str], Optional[Summary]]


@dataclasses.dataclass(frozen=True)
class Goal:
    scenario: str
    reference: str  # a client (ours for "scaling")
    factor: float
    kind: str = "both"  # both, throughput, scaling, failures
    against: str = ""  # the reference's scenario, when not the same one

    def describe(self) -> str:
        if self.kind == "scaling":
            return f"throughput ≥ {self.factor:.0%} of ours in {self.against}"
        what = "throughput" if self.kind == "throughput" else "throughput and CPU/op"
        amount = "ahead of" if self.factor == 1.0 else f"≥ {self.factor:g}x"
        where = f" ({self.against})" if self.against else ""
        extra = ", no failed request" if self.kind == "failures" else ""
        return f"{what} {amount} {self.reference}{where}{extra}"


def _goals() -> Tuple[Goal, ...]:
    goals: List[Goal] = [Goal("S1-sync", BASELINE, 5.0)]
    goals += [Goal("S1-sync", peer, 1.0) for peer in ("urllib3", "httpcore2", "pyreqwest")]
    for scenario in ("S1-async", "S2-async"):
        goals.append(Goal(scenario, "aiohttp", 1.5))
        goals += [Goal(scenario, peer, 1.0) for peer in ("httpcore2", "pyreqwest")]
    goals.append(Goal("S2-async", BASELINE, 20.0))
    goals += [Goal(f"S2c128-{mode}", OURS, 0.9, "scaling", f"S2-{mode}") for mode in ("sync", "async")]
    # pycurl has only the sync form: the async forms are held to its sync figure.
    goals += [Goal(f"{s}-{mode}", "pycurl", 1.0, "throughput", f"{s}-sync" if mode == "async" else "")
              for s in ("S3", "S5") for mode in ("sync", "async")]
    goals += [Goal(s, BASELINE, 4.0, "failures") for s in ("S4-h2c", "S4-tls")]
    goals += [Goal("S6", BASELINE, 10.0, "throughput"), Goal("S7", BASELINE, 1.0, "throughput")]
    return tuple(goals)


GOALS = _goals()


def check(goal: Goal, get: Getter) -> Tuple[str, Optional[bool]]:
    """(the measured ratios as text, met?) — None when a figure is missing."""
    ours = get(OURS, goal.scenario)
    reference = get(goal.reference, goal.against or goal.scenario)
    if ours is None or reference is None or not ours.measured or not reference.measured:
        return "not measured", None
    throughput = stats.throughput_ratio(ours, reference)
    if throughput is None:
        return "not measured", None
    if goal.kind in ("throughput", "scaling"):
        text = f"{throughput:.0%}" if goal.kind == "scaling" else f"{throughput:.2f}x"
        return text, throughput >= goal.factor
    cpu = stats.cpu_ratio(ours, reference)
    if cpu is None:
        return "not measured", None
    met = throughput >= goal.factor and cpu >= goal.factor
    text = f"{throughput:.2f}x, CPU {cpu:.2f}x"
    if goal.kind == "failures":
        text += f", {ours.failed} failed"
        met = met and ours.failed == 0
    return text, met


def check_memory(scenarios: List[str], get: Getter) -> Tuple[str, Optional[bool]]:
    """The largest ours/1.0.9 peak RSS ratio over the scenarios both have figures for."""
    worst: Optional[Tuple[float, str]] = None
    for scenario in scenarios:
        ours, base = get(OURS, scenario), get(BASELINE, scenario)
        if ours is None or base is None or not ours.peak_rss_kib or not base.peak_rss_kib:
            continue
        if not ours.measured or not base.measured:
            continue
        value = ours.peak_rss_kib / base.peak_rss_kib
        if worst is None or value > worst[0]:
            worst = (value, scenario)
    if worst is None:
        return "not measured", None
    return f"worst {worst[0]:.2f}x of 1.0.9 ({worst[1]})", worst[0] <= RSS_TOLERANCE

