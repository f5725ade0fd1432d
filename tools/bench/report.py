"""docs/benchmarks.md from a ``Results``: ratios first, then absolute figures, the server's
limit, the clients, the method, the machine and the command.

Cell conventions: a ratio is ``3.20x`` (above 1: ahead of the reference); ``n/a`` is a
scenario form the client does not have (reason in the notes); ``error`` a form that ran and
produced no figure (reason in the notes); ``unavailable`` a client that did not install.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Tuple

from tools.bench import scenarios as scenario_table
from tools.bench import stats, targets
from tools.bench.clients import BASELINE, BY_NAME, OURS
from tools.bench.results import Results
from tools.bench.stats import Summary

_MB = 1e6


def ratio(value: Optional[float]) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f}x"
    if value >= 10:
        return f"{value:.1f}x"
    return f"{value:.2f}x"


def number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def unit_scale(scenario_id: str) -> Tuple[str, float]:
    """How a scenario's throughput is shown: (unit, bytes per operation or 0). A family id
    (``S3`` for the server's limit) takes the unit of its first member (``S3-sync``)."""
    scenario = scenario_table.BY_ID.get(scenario_id) or next(
        (s for s in scenario_table.SCENARIOS if s.id.startswith(scenario_id + "-")), None)
    if scenario is None or scenario.unit == "req":
        return "req/s", 0.0
    if scenario.unit == "MB":
        per_op = scenario.body_bytes or max(scenario.expect_bytes, 0)
        return "MB/s", float(per_op)
    return "ms/op", 0.0


def throughput_text(scenario_id: str, ops_per_s: Optional[float]) -> str:
    if ops_per_s is None:
        return "—"
    unit, per_op = unit_scale(scenario_id)
    if unit == "MB/s":
        return number(ops_per_s * per_op / _MB)
    if unit == "ms/op":
        return number(1000.0 / ops_per_s) if ops_per_s else "—"
    return number(ops_per_s)


def status_cell(summary: Optional[Summary]) -> str:
    if summary is None:
        return "not run"
    return {"n/a": "n/a", "unavailable": "unavailable"}.get(summary.status, "error")


class Table:
    """The summaries of a run, with unavailable clients filled in."""

    def __init__(self, results: Results) -> None:
        self.results = results
        self.scenarios = list(results.scenarios)
        self.clients = [c.name for c in results.clients]
        self.summaries: Dict[Tuple[str, str], Summary] = stats.summarise_all(results.runs)
        for info in results.clients:
            if not info.available:
                for scenario in self.scenarios:
                    self.summaries[(info.name, scenario)] = Summary(info.name, scenario, "unavailable",
                                                                    reason=info.reason)

    def get(self, client: str, scenario: str) -> Optional[Summary]:
        return self.summaries.get((client, scenario))

    def row(self, scenario: str) -> List[Summary]:
        return [s for c in self.clients if (s := self.get(c, scenario)) is not None]


CellFunction = Callable[[Table, Summary], str]


def _matrix(table: Table, header: str, cell: CellFunction) -> List[str]:
    lines = [f"| {header} | " + " | ".join(table.clients) + " |",
             "|---|" + "---:|" * len(table.clients)]
    for scenario in table.scenarios:
        cells = []
        for client in table.clients:
            summary = table.get(client, scenario)
            if summary is None or not summary.measured:
                cells.append(status_cell(summary))
            else:
                cells.append(cell(table, summary))
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    return lines


def _vs_baseline_throughput(table: Table, summary: Summary) -> str:
    base = table.get(BASELINE, summary.scenario)
    return ratio(stats.throughput_ratio(summary, base)) if base is not None and base.measured else "—"


def _vs_baseline_cpu(table: Table, summary: Summary) -> str:
    base = table.get(BASELINE, summary.scenario)
    return ratio(stats.cpu_ratio(summary, base)) if base is not None and base.measured else "—"


def _failed_text(summary: Summary) -> str:
    text = str(summary.failed)
    if summary.runs_without_result:
        text += f" (+{summary.runs_without_result} runs lost)"
    return text


def headline(table: Table) -> List[str]:
    lines = [
        "| Scenario | throughput vs 1.0.9 | throughput vs best peer | CPU/op vs 1.0.9 | CPU/op vs best peer "
        "| failed (ours) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for scenario in table.scenarios:
        ours = table.get(OURS, scenario)
        row = table.row(scenario)
        if ours is None or not ours.measured:
            state = status_cell(ours)
            failed = _failed_text(ours) if ours is not None and ours.status == "error" else "—"
            lines.append(f"| {scenario} | {state} | {state} | {state} | {state} | {failed} |")
            continue
        base = table.get(BASELINE, scenario)
        fast = stats.best_peer(row, stats.faster)
        lean = stats.best_peer(row, stats.leaner)
        cells = [
            ratio(stats.throughput_ratio(ours, base)) if base is not None and base.measured else "—",
            f"{ratio(stats.throughput_ratio(ours, fast))} ({fast.client})" if fast else "—",
            ratio(stats.cpu_ratio(ours, base)) if base is not None and base.measured else "—",
            f"{ratio(stats.cpu_ratio(ours, lean))} ({lean.client})" if lean else "—",
            _failed_text(ours),
        ]
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    return lines


def installed_from(name: str) -> str:
    client = BY_NAME.get(name)
    if client is None:
        return "—"
    specs = [("this checkout's compiled wheel" + r.replace("{wheel}", "")) if "{wheel}" in r else f"`{r}`"
             for r in client.requirements]
    return ", ".join(specs) + " (PyPI)" * ("{wheel}" not in " ".join(client.requirements))


def target_lines(table: Table) -> List[str]:
    lines = ["| Scenario | target | measured (ours / reference) | met |", "|---|---|---|---|"]
    verdict = {True: "yes", False: "**no**", None: "—"}
    for goal in targets.GOALS:
        if goal.scenario not in table.scenarios:
            continue
        text, met = targets.check(goal, table.get)
        lines.append(f"| {goal.scenario} | {goal.describe()} | {text} | {verdict[met]} |")
    text, met = targets.check_memory(table.scenarios, table.get)
    lines.append(f"| all | peak RSS ≤ {targets.RSS_TOLERANCE:.2f}x httpcore 1.0.9 | {text} | {verdict[met]} |")
    return lines


def notes(table: Table) -> List[str]:
    """One line per (client, scenario) that has no figure or lost requests, grouped by reason."""
    by_reason: Dict[str, List[str]] = {}
    for scenario in table.scenarios:
        for client in table.clients:
            summary = table.get(client, scenario)
            if summary is None or summary.status == "unavailable":
                continue
            if summary.status in ("n/a", "error") or summary.failed or summary.runs_without_result:
                label = summary.status if summary.status != "ok" else "failures"
                key = f"{client}: {label}: {summary.reason or 'no detail'}"
                by_reason.setdefault(key, []).append(scenario)
    return [f"- {key} ({', '.join(scenario_ids)})" for key, scenario_ids in sorted(by_reason.items())]


def render(results: Results, chart: Optional[str] = None, chart_error: str = "") -> str:
    table = Table(results)
    kind = "smoke run (few requests, one cycle: the figures are only indicative)" if results.smoke \
        else f"full run, {results.cycles} cycles"
    ours_info = next((c for c in results.clients if c.name == OURS), None)
    out: List[str] = [
        "# Benchmarks",
        "",
        "Side by side on one loopback nginx: this project (`ours`), httpcore 1.0.9 and its peers, "
        "each client in its own virtualenv and process. Written by `tools/bench.sh` "
        "(`python -m tools.bench`); do not edit by hand.",
        "",
        f"Latest: {results.date}, {kind}. Command: `{results.command}`.",
        "",
    ]
    if ours_info is not None and not ours_info.available:
        out += [f"**ours is unavailable in this run**: {ours_info.reason}", ""]
    out += [
        "## Ours against httpcore 1.0.9 and the best peer",
        "",
        "Ratios are \"times better\": throughput / the reference's throughput, and the reference's "
        "client CPU per operation / ours. Best peer: the best other client in the same "
        "scenario of this run (named). Medians over cycles. Throughput moves with whatever else the "
        "machine runs (see the load average under Machine); client CPU per operation is steadier.",
        "",
        *headline(table),
        "",
    ]
    out += ["## Targets of the speed issue", "", *target_lines(table), ""]
    out += ["## What bounds the targets still missed", "", *BOUNDS, ""]
    if chart:
        out += [f"![Throughput as a ratio to httpcore 1.0.9]({chart})", ""]
    elif chart_error:
        out += [f"(No chart: {chart_error}.)", ""]
    out += [
        "## Throughput, as a ratio to httpcore 1.0.9",
        "",
        *_matrix(table, "Scenario", _vs_baseline_throughput),
        "",
        "## Client CPU per operation, as a ratio to httpcore 1.0.9 (times less CPU)",
        "",
        *_matrix(table, "Scenario", _vs_baseline_cpu),
        "",
        "## Absolute figures",
        "",
        "Throughput: requests/s, MB/s for S3 and S5 (10^6 bytes), milliseconds per operation for "
        "S6 and S7 (lower is better there).",
        "",
        *_matrix(table, "Throughput", lambda _t, s: throughput_text(s.scenario, s.ops_per_s)),
        "",
        "Client CPU, µs per operation:",
        "",
        *_matrix(table, "CPU µs/op", lambda _t, s: number(s.cpu_us_per_op or 0.0)),
        "",
        "Peak RSS of the client process, MiB:",
        "",
        *_matrix(table, "Peak RSS", lambda _t, s: number((s.peak_rss_kib or 0) / 1024)),
        "",
        "Failed requests (summed over cycles; runs that gave no result in brackets):",
        "",
        *_matrix(table, "Failed", lambda _t, s: _failed_text(s)),
        "",
        "## The server's limit",
        "",
        "wrk and h2load on the client CPUs against the same nginx: what the loop can do when the "
        "client costs almost nothing. (wrk reads a 10 MiB body in small pieces: its S3 figure is "
        "wrk's own limit, not the server's.)",
        "",
        "| Scenario | tool | req/s | MB/s | failed |",
        "|---|---|---:|---:|---:|",
    ]
    for limit in results.limits:
        if limit.requests_per_s is None:
            out.append(f"| {limit.scenario} | `{limit.description}` | unavailable: {limit.reason} | | |")
            continue
        unit, per_op = unit_scale(limit.scenario)
        mb = number(limit.requests_per_s * per_op / _MB) if unit == "MB/s" else ""
        out.append(f"| {limit.scenario} | `{limit.description}` | {number(limit.requests_per_s)} | {mb} "
                   f"| {limit.failed} |")
    out += [
        "",
        "## Clients",
        "",
        "| Client | version | installed from | status |",
        "|---|---|---|---|",
    ]
    for info in results.clients:
        status = "ok" if info.available else f"unavailable: {info.reason}"
        out.append(f"| {info.name} | {info.version or '—'} | {installed_from(info.name)} | {status} |")
    note_lines = notes(table)
    if note_lines:
        out += ["", "## Notes: n/a, errors and failures", "", *note_lines]
    limit_s = scenario_table.TIME_LIMIT_S[results.smoke]
    out += ["", "## Scenarios", "",
            f"Each process runs the operations below, or as many as it starts in {limit_s:g} s.", "",
            "| Id | what | operations per process (at most) |", "|---|---|---:|"]
    for scenario_id in results.scenarios:
        scenario = scenario_table.BY_ID.get(scenario_id)
        if scenario is not None:
            out.append(f"| {scenario.id} | {scenario.title} | {scenario.count(results.smoke)} |")
    out += ["", "## Method", "", *METHOD, "", "## How to run", "", *HOW_TO_RUN, "", "## Machine", ""]
    out += [f"- {key}: {value}" for key, value in results.machine.items()]
    out += [f"- server CPUs: {results.server_cpus or 'any'}; client CPUs: {results.client_cpus or 'any'}", ""]
    return "\n".join(out)


# Measured by hand, not by this run: the floors (`python -m tools.bench.floors`: the same
# exchanges on bare sockets and asyncio, no HTTP library), per-layer costs
# (`python -m tools.bench.profile_request`) and cProfile of S4. Dated; re-measure when the
# code or the targets change.
BOUNDS: Sequence[str] = (
    "Measured on 2026-12-04 on the machine below, outside this run (client CPU per "
    "operation, client and nginx on CPU 0; the commands are in `tools/bench/floors.py` and "
    "`tools/bench/profile_request.py`). The floor is the same exchange written on the bare "
    "socket or asyncio, with no HTTP library (`python -m tools.bench.floors`).",
    "",
    "- **S2c128-sync, 90% of S2-sync**: 82% in this run (32,379 against 39,685 requests/s); our "
    "CPU per request rises from 18.6 to 23.4 µs. Measured apart (one pool, threads on CPU 0 "
    "with nginx): from 20 to 128 threads the kernel's share grows by 2.0 µs per request, with "
    "voluntary context switches from 0.05 to 0.29 per request (threads put to sleep waiting "
    "for the GIL), and the user share by 3.1 µs (the GIL's hand-overs and the working set of "
    "128 threads). Each request releases the GIL at each of its system calls (CPython's socket "
    "and select modules always do); a prototype that kept it across the two that cannot block "
    "(the idle-connection probe and the first write, as C calls) was slower, not faster, at "
    "both 20 and 128 threads; dropping the probe altogether (correctness needs it; it runs "
    "under the pool's lock) raised throughput by 3 to 8% at both counts, the ratio hardly. "
    "pyreqwest keeps 62%; urllib3 keeps 93% at six times our CPU per "
    "request.",
    "- **S3-async against pycurl**: network reads are 64 KiB, as the specification sets "
    "(`READ_NUM_BYTES`); with 64 KiB reads the asyncio floor itself reaches about 1,560 MB/s, "
    "under pycurl's sync figure (about 1,670 MB/s, a C loop with its own buffer sizes). Ours is "
    "about 84% of that floor: one copy out of the loop's receive buffer and the per-read "
    "Python of the body path.",
    "- **S5-async against pycurl**: 0.82x in this run (2,084 against pycurl's 2,532 MB/s; 0.94x "
    "in the full run before). The asyncio floor (`python -m tools.bench.floors`: the request "
    "and its 1 MB body written through an asyncio transport, no HTTP library) gave 2,005 MB/s "
    "(105 µs CPU per upload) on a quiet machine, against 2,276 for the sync floor: ours is at "
    "asyncio's own figure, which is under pycurl's. Uploads this short also spread widely from "
    "run to run on this machine (ours 224 and 321 µs CPU per upload in the last two full runs).",
    "- **S4, 4x httpcore 1.0.9**: under cProfile the h2 stack (h2, hpack, hyperframe: pure "
    "Python) takes 55% of our CPU per request in S4-h2c and about the same time per request "
    "in 1.0.9 (310 µs profiled). With our own code at zero cost the ratio could not pass about "
    "4.5x; 4x would need our part (framing, stream bookkeeping, flow control, asyncio) cut by "
    "about 85%. The ceiling is h2 itself, or replacing it.",
)


METHOD: Sequence[str] = (
    "- Server: one nginx process (one worker, no access log) on 127.0.0.1: HTTP/1.1, TLS with ALPN "
    "`http/1.1` (S6), h2c with prior knowledge and TLS with ALPN `h2` (S4); a 2000-byte static "
    "file, a 10 MiB file, a `/sink` that reads and discards the body and answers 200. "
    "Certificates from trustme.",
    "- Clients: each in its own virtualenv (PyPI), each run a fresh process "
    "(`tools/bench/drivers/*.py`). Set-up and warm-up requests (at least one per connection the "
    "phase uses) come before the measured phase, except S6, whose set-up is what it measures.",
    "- Server and client share the CPUs given (by default both on CPU 0: on 2-core VMs a "
    "cross-core round trip costs more than the client work), `taskset` / `sched_setaffinity`.",
    "- Cycles: every client runs every scenario once per cycle; the client order is reversed "
    "each cycle; the figures are medians over cycles. Client CPU is `time.process_time()` of "
    "the measured phase (all threads); peak RSS is the process's `VmHWM`.",
    "- Concurrency: async clients use asyncio tasks; sync clients threads, except pycurl, which "
    "uses one `CurlMulti` (its own way). Pools are sized to the concurrency. S4 limits every "
    "client to one connection; a client without multiplexed HTTP/2 is n/a.",
    "- TLS trust: each client's default TLS configuration plus the test CA (httpcore family: "
    "`default_ssl_context()` + `load_verify_locations`; aiohttp: `ssl.create_default_context()`; "
    "urllib3: its default context + default certificates; pycurl: `CAINFO`; pyreqwest: "
    "`add_root_certificate_pem`). S6 measures each client's default TLS set-up instead: no "
    "context is passed, and the test CA joins the system store in a bundle named by "
    "`SSL_CERT_FILE` (pycurl: that bundle as `CAINFO`; pyreqwest: its built-in roots plus "
    "`add_root_certificate_pem`), so a client that builds its default context once per "
    "process, as this project and aiohttp do, pays for it once.",
    "- A failed request (exception, non-200 status, wrong body size) is counted, never retried; "
    "ratios use successful operations only.",
)

HOW_TO_RUN: Sequence[str] = (
    "- `tools/bench.sh`: the full run (apt installs nginx, wrk, nghttp2-client if missing; builds "
    "this project's compiled wheel; one virtualenv per client in `~/.cache/httpcore-bench`, "
    "or `$HTTPCORE_BENCH_CACHE`); about half an hour on 2 cores.",
    "- `tools/bench.sh --smoke --output DIR`: every client and scenario, few requests, one cycle "
    "(a few minutes), the report in DIR: does it run, do the numbers come out. It fails when the "
    "benchmark breaks (ours or 1.0.9 unavailable, a scenario without figures, a failed request "
    "of ours, no report), never on timings; `tools/test.sh` (CI) runs it.",
    "- Options (`python -m tools.bench --help`): `--clients ours,aiohttp`, "
    "`--scenarios S1-sync,S4-h2c`, `--cycles N`, `--client-cpus`, `--server-cpus` "
    "(taskset CPU lists, `''` for no pinning), `--no-limits`, `--check` (the smoke run's check), "
    "`--wheel PATH` (this project's wheel, already built).",
    "- Every run keeps its raw figures in `CACHE/results/*.json`; "
    "`python -m tools.bench report FILE.json` redraws this page from one.",
)
