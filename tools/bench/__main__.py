"""``python -m tools.bench``: the side-by-side benchmark (``tools/bench.sh`` sets it up).

    python -m tools.bench [--smoke] [--check] [--cycles N] [--clients a,b] [--scenarios S1-sync,...]
                          [--wheel PATH] [--cache DIR] [--client-cpus 0] [--server-cpus 0]
                          [--output DIR | --output FILE.md]
    python -m tools.bench report RESULTS.json [OUTPUT]   (redraw the report from a saved run)
    python -m tools.bench check RESULTS.json REPORT.md   (the --check of a saved run)

Makes (or reuses) one virtualenv per client under the cache directory, starts the bench
nginx, measures wrk/h2load as the server's limit, then runs every scenario for every client
in cycles (client order reversed each cycle, a fresh process per run), and writes
docs/benchmarks.md and docs/benchmarks.png (``--output DIR``: DIR/benchmarks.md,
DIR/benchmarks.png and DIR/results.json instead). The raw results are kept as JSON in
``CACHE/results/``. ``--check`` (implied by ``--smoke``: the CI step) then fails the command
when the benchmark itself broke (``tools.bench.check``), never on a timing.
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import shlex
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from tools.bench import chart, check, limits, report, runner, venvs
from tools.bench.clients import Client, select
from tools.bench.results import ClientInfo, Results
from tools.bench.runner import Run
from tools.bench.scenarios import BY_ID, LARGE_PATH, SCENARIOS, SMALL_PATH, Scenario
from tools.bench.server import BenchNginx

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
DEFAULT_CACHE = pathlib.Path(os.environ.get("HTTPCORE_BENCH_CACHE", "~/.cache/httpcore-bench")).expanduser()
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
FULL_CYCLES = 3
_LIMIT_SECONDS = {True: 2.0, False: 5.0}
_H2LOAD_REQUESTS = {True: 5000, False: 40000}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> Dict[str, str]:
    info: Dict[str, str] = {}
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["CPU"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["cores"] = str(os.cpu_count())
    info["kernel"] = f"{platform.system()} {platform.release()}"
    try:
        for line in pathlib.Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                info["OS"] = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    info["load average at the start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    info["Python"] = platform.python_version() + f" ({platform.python_implementation()})"
    info["checkout (ours is built from the work tree)"] = checkout()
    try:
        from tools.servers.nginx import find_nginx

        nginx = subprocess.run([find_nginx(), "-v"], capture_output=True, text=True, check=False)
        info["nginx"] = nginx.stderr.strip().split("/", 1)[-1]
    except Exception as exc:  # the report says so rather than failing
        info["nginx"] = f"unknown ({exc})"
    return info


def checkout() -> str:
    """The commit of this checkout, and whether the work tree differs from it."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=str(ROOT), capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown (not a git checkout)"
    changed = git("status", "--porcelain", "--untracked-files=normal", "--", "libs")
    return commit + (" + uncommitted changes under libs/" if changed else "")


def find_wheel(cache: pathlib.Path) -> Optional[pathlib.Path]:
    wheels = sorted((cache / "dist").glob("httpcore-*-cp*.whl"), key=lambda p: p.stat().st_mtime)
    return wheels[-1] if wheels else None


def scenario_url(server: BenchNginx, scenario: Scenario) -> str:
    port = int(getattr(server.bench_ports, scenario.listener))
    tls = scenario.listener in ("https", "h2")
    return f"{'https' if tls else 'http'}://127.0.0.1:{port}{scenario.path}"


def describe(run: Run, scenario: Scenario) -> str:
    if not run.measured:
        return f"{run.status}: {run.reason or '; '.join(run.errors)}"[:160]
    ops = run.ok / run.wall_s
    shown = report.throughput_text(scenario.id, ops)
    unit, _ = report.unit_scale(scenario.id)
    failed = f", {run.failed} failed" if run.failed else ""
    return f"{shown} {unit}, {report.number(run.cpu_s / run.ok * 1e6)} µs CPU/op{failed}"


def measure(
    environments: Sequence[venvs.Environment], scenarios: Sequence[Scenario], cycles: int, smoke: bool,
    client_cpus: str, server_cpus: str, results: Results, with_limits: bool,
) -> None:
    cpus = {int(c) for c in server_cpus.split(",") if c.strip()} if server_cpus else None
    server = BenchNginx(cpus=cpus)
    server.start()
    try:
        ca = str(server.ca_pem_path())
        ports = server.bench_ports
        if with_limits:
            seconds = _LIMIT_SECONDS[smoke]
            http = f"http://127.0.0.1:{ports.http}"
            plan = [("S1", 1, SMALL_PATH), ("S2", 20, SMALL_PATH), ("S2c128", 128, SMALL_PATH),
                    ("S3", 1, LARGE_PATH)]
            for scenario_id, connections, path in plan:
                limit = limits.wrk(scenario_id, http + path, connections, seconds, client_cpus)
                results.limits.append(limit)
                log(f"limit {scenario_id}: {limit.description}: {limit.requests_per_s or limit.reason}")
            for scenario_id, url in (("S4-h2c", f"http://127.0.0.1:{ports.h2c}{SMALL_PATH}"),
                                     ("S4-tls", f"https://127.0.0.1:{ports.h2}{SMALL_PATH}")):
                limit = limits.h2load(scenario_id, url, _H2LOAD_REQUESTS[smoke], 100, client_cpus)
                results.limits.append(limit)
                log(f"limit {scenario_id}: {limit.description}: {limit.requests_per_s or limit.reason}")
        usable = [e for e in environments if e.python is not None]
        for cycle in range(cycles):
            order = usable if cycle % 2 == 0 else list(reversed(usable))
            for scenario in scenarios:
                url = scenario_url(server, scenario)
                for environment in order:
                    client = environment.client
                    mode, missing = scenario.form(client)
                    if missing:
                        if cycle == 0:
                            results.runs.append(Run(client.name, scenario.id, "unsupported", reason=missing))
                        continue
                    assert environment.python is not None
                    run = runner.run(environment.python, client, scenario, mode, url, ca, smoke, client_cpus)
                    results.runs.append(run)
                    log(f"[{cycle + 1}/{cycles}] {scenario.id:<13} {client.name:<15} {describe(run, scenario)}")
    finally:
        server.stop()


def output_paths(output: str) -> Tuple[pathlib.Path, Optional[pathlib.Path]]:
    """(the report's path, where to copy the results JSON or None) for ``--output``: a path
    ending in ``.md`` is the report itself; anything else is a directory that receives
    benchmarks.md, benchmarks.png and results.json."""
    path = pathlib.Path(output).expanduser()
    if path.suffix == ".md":
        return path, None
    return path / DEFAULT_OUTPUT.name, path / "results.json"


def write_report(results: Results, output: pathlib.Path) -> pathlib.Path:
    """Write the report and its chart; returns the chart's path."""
    table = report.Table(results)
    png = output.with_suffix(".png")
    output.parent.mkdir(parents=True, exist_ok=True)
    chart_error = chart.draw(table, png)
    if chart_error and png.exists():
        png.unlink()  # an older run's chart would not match this report
    output.write_text(report.render(results, chart=None if chart_error else png.name, chart_error=chart_error))
    log(f"wrote {output}" + ("" if chart_error else f" and {png}"))
    return png


def run_check(results: Results, output: pathlib.Path, png: Optional[pathlib.Path]) -> int:
    """Log the check's verdict; 0 when the benchmark worked, 1 when it broke."""
    for peer in check.unavailable_peers(results):
        log(f"check: unavailable (not a failure): {peer}")
    for trouble in check.peers_without_figures(results):
        log(f"check: a peer gave no figure (not a failure): {trouble}")
    found = check.problems(results, output, png)
    for problem in found:
        log(f"check: FAILED: {problem}")
    if found:
        log(f"check: the benchmark is broken ({len(found)} problems; timings are never checked)")
        return 1
    log(f"check: ok: every scenario ran for every available client, with figures in {output}")
    return 0


def parse(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description="side-by-side benchmark")
    parser.add_argument("--smoke", action="store_true",
                        help="few requests, one cycle, every client; implies --check")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the benchmark broke (a client or scenario without figures, "
                             "a failed request of ours, no report); never on timings")
    parser.add_argument("--cycles", type=int, default=None, help=f"default {FULL_CYCLES} (smoke: 1)")
    parser.add_argument("--clients", default="", help="comma-separated client names (default: all)")
    parser.add_argument("--scenarios", default="", help="comma-separated scenario ids (default: all)")
    parser.add_argument("--wheel", default="", help="this project's compiled wheel (default: CACHE/dist)")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="venvs, wheel and results")
    parser.add_argument("--client-cpus", default="0", help="taskset CPU list for clients ('' = any)")
    parser.add_argument("--server-cpus", default="0", help="CPU list for nginx ('' = any)")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT),
                        help="the report (FILE.md, its chart beside it) or a directory for "
                             "benchmarks.md, benchmarks.png and results.json (default: docs/benchmarks.md)")
    parser.add_argument("--no-limits", action="store_true", help="skip wrk and h2load")
    return parser.parse_args(argv)


def main(argv: List[str]) -> int:
    if argv[:1] == ["report"]:
        if len(argv) < 2:
            log("usage: python -m tools.bench report RESULTS.json [OUTPUT.md]")
            return 2
        output, _ = output_paths(argv[2]) if len(argv) > 2 else (DEFAULT_OUTPUT, None)
        write_report(Results.load(pathlib.Path(argv[1])), output)
        return 0
    if argv[:1] == ["check"]:
        if len(argv) != 3:
            log("usage: python -m tools.bench check RESULTS.json REPORT.md")
            return 2
        output = pathlib.Path(argv[2])
        return run_check(Results.load(pathlib.Path(argv[1])), output, output.with_suffix(".png"))
    args = parse(argv)
    cache = pathlib.Path(args.cache).expanduser().resolve()
    cache.mkdir(parents=True, exist_ok=True)
    clients: List[Client] = select([c for c in args.clients.split(",") if c])
    scenario_ids = [s for s in args.scenarios.split(",") if s]
    unknown = [s for s in scenario_ids if s not in BY_ID]
    if unknown:
        log(f"unknown scenarios {unknown}; known: {[s.id for s in SCENARIOS]}")
        return 2
    scenarios = [BY_ID[s] for s in scenario_ids] if scenario_ids else list(SCENARIOS)
    cycles = args.cycles if args.cycles is not None else (1 if args.smoke else FULL_CYCLES)
    wheel = pathlib.Path(args.wheel).resolve() if args.wheel else find_wheel(cache)

    environments = []
    for client in clients:
        log(f"venv {client.name} ...")
        environment = venvs.prepare(client, cache / "venvs", wheel, cache / "setup.log")
        log(f"venv {client.name}: " + (environment.version if environment.available
                                       else f"UNAVAILABLE: {environment.reason}"))
        environments.append(environment)

    shown = [a for i, a in enumerate(argv) if a != "--wheel" and (i == 0 or argv[i - 1] != "--wheel")]
    command = "tools/bench.sh" + ("" if not shown else " " + shlex.join(shown))
    results = Results(
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        command=command,
        smoke=args.smoke,
        cycles=cycles,
        client_cpus=args.client_cpus,
        server_cpus=args.server_cpus,
        machine=machine(),
        clients=[ClientInfo(e.client.name, e.available, e.version, e.reason) for e in environments],
        scenarios=[s.id for s in scenarios],
    )
    measure(environments, scenarios, cycles, args.smoke, args.client_cpus, args.server_cpus, results,
            not args.no_limits)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    saved = cache / "results" / f"{stamp}{'-smoke' if args.smoke else ''}.json"
    results.save(saved)
    log(f"results: {saved}")
    output, json_copy = output_paths(args.output)
    png = write_report(results, output)
    if json_copy is not None:
        results.save(json_copy)
        log(f"wrote {json_copy}")
    if args.check or args.smoke:
        return run_check(results, output, png)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
