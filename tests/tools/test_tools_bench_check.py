"""tools/bench/check.py (the smoke run's verdict in CI) and ``--output DIR``: the benchmark
fails when it broke (a client or scenario without figures, a failed request of ours, ours or
1.0.9 unavailable, a report without ours' figures), never on timings, and a peer that did not
install is only reported."""

from __future__ import annotations

import pathlib

import pytest

from tools.bench import check, report
from tools.bench.__main__ import DEFAULT_OUTPUT, main, output_paths
from tools.bench.clients import BASELINE, OURS
from tools.bench.results import ClientInfo, Results
from tools.bench.runner import Run

SCENARIOS = ["S1-sync", "S1-async", "S4-h2c"]


def ok_run(client: str, scenario: str, wall_s: float = 1.0, failed: int = 0, mode: str = "sync") -> Run:
    return Run(client, scenario, "ok", mode=mode, operations=100 + failed, ok=100, failed=failed,
               wall_s=wall_s, cpu_s=wall_s / 2, peak_rss_kib=1000)


def good_runs() -> list[Run]:
    runs = []
    for scenario in SCENARIOS:
        runs.append(ok_run(OURS, scenario, 0.5))
        runs.append(ok_run(BASELINE, scenario, 1.0))
    runs += [Run("aiohttp", "S1-sync", "unsupported", reason="no sync API"),
             ok_run("aiohttp", "S1-async", 0.4, mode="async"),
             Run("aiohttp", "S4-h2c", "unsupported", reason="no multiplexed HTTP/2")]
    return runs


def results_of(runs: list[Run], infos: list[ClientInfo] | None = None) -> Results:
    return Results(
        date="2026-01-01 00:00 UTC", command="tools/bench.sh --smoke", smoke=True, cycles=1,
        client_cpus="0", server_cpus="0", machine={"CPU": "test"},
        clients=infos if infos is not None else [ClientInfo(OURS, True, "1"), ClientInfo(BASELINE, True, "1.0.9"),
                                                ClientInfo("aiohttp", True, "3")],
        scenarios=list(SCENARIOS), runs=runs,
    )


def written(tmp_path: pathlib.Path, results: Results) -> pathlib.Path:
    path = tmp_path / "benchmarks.md"
    path.write_text(report.render(results))
    return path


def test_a_run_where_everything_has_figures_passes(tmp_path: pathlib.Path) -> None:
    results = results_of(good_runs())
    assert check.problems(results, written(tmp_path, results)) == []


def test_timings_never_fail_the_check(tmp_path: pathlib.Path) -> None:
    slow = [ok_run(OURS, s, 100.0) if r.client == OURS else r for s in SCENARIOS for r in good_runs()
            if r.scenario == s]
    results = results_of(slow)
    assert check.problems(results, written(tmp_path, results)) == []


def test_a_scenario_that_crashed_fails(tmp_path: pathlib.Path) -> None:
    runs = [r for r in good_runs() if not (r.client == BASELINE and r.scenario == "S4-h2c")]
    runs.append(Run(BASELINE, "S4-h2c", "error", reason="no result (exit status 1): Traceback"))
    results = results_of(runs)
    found = check.problems(results, written(tmp_path, results))
    assert found == ["S4-h2c: httpcore-1.0.9 gave no figure: no result (exit status 1): Traceback",
                     "S4-h2c: the report shows no ratio of ours to 1.0.9 (throughput '—', CPU '—')"]


def test_an_installed_peer_without_figures_is_reported_not_failed(tmp_path: pathlib.Path) -> None:
    runs = [r for r in good_runs() if r.client != "aiohttp" or r.scenario != "S1-async"]
    runs.append(Run("aiohttp", "S1-async", "timeout", reason="no result within 300 s"))
    results = results_of(runs)
    assert check.problems(results, written(tmp_path, results)) == []
    assert check.peers_without_figures(results) == ["S1-async: aiohttp: no result within 300 s"]


def test_a_client_left_out_of_a_scenario_fails(tmp_path: pathlib.Path) -> None:
    results = results_of([r for r in good_runs() if r.client != "aiohttp" or r.scenario != "S4-h2c"])
    assert check.problems(results, written(tmp_path, results)) == ["S4-h2c: aiohttp was not run"]


def test_a_failed_request_of_ours_fails_but_a_peers_does_not(tmp_path: pathlib.Path) -> None:
    runs = [r for r in good_runs() if r.scenario != "S1-sync" or r.client not in (OURS, BASELINE)]
    runs += [ok_run(OURS, "S1-sync", 0.5, failed=2), ok_run(BASELINE, "S1-sync", 1.0, failed=7)]
    results = results_of(runs)
    found = check.problems(results, written(tmp_path, results))
    assert len(found) == 1 and found[0].startswith("S1-sync: ours had 2 failed requests")


def test_an_unavailable_peer_is_reported_not_failed(tmp_path: pathlib.Path) -> None:
    infos = [ClientInfo(OURS, True, "1"), ClientInfo(BASELINE, True, "1.0.9"),
             ClientInfo("aiohttp", False, reason="pip install failed: no network")]
    results = results_of([r for r in good_runs() if r.client != "aiohttp"], infos)
    assert check.problems(results, written(tmp_path, results)) == []
    assert check.unavailable_peers(results) == ["aiohttp: pip install failed: no network"]


@pytest.mark.parametrize("missing", [OURS, BASELINE])
def test_ours_or_the_baseline_unavailable_fails(tmp_path: pathlib.Path, missing: str) -> None:
    infos = [ClientInfo(name, name != missing, "1", reason="" if name != missing else "pip install failed")
             for name in (OURS, BASELINE)]
    results = results_of([r for r in good_runs() if r.client not in (missing, "aiohttp")], infos)
    found = check.problems(results, written(tmp_path, results))
    assert found[0] == f"{missing} is unavailable: pip install failed"
    assert check.unavailable_peers(results) == []


def test_a_missing_report_or_chart_fails(tmp_path: pathlib.Path) -> None:
    results = results_of(good_runs())
    assert check.problems(results, tmp_path / "benchmarks.md", tmp_path / "benchmarks.png") == \
        ["the report benchmarks.md was not written", "the chart benchmarks.png was not written"]


def test_a_report_without_ours_figures_fails(tmp_path: pathlib.Path) -> None:
    results = results_of(good_runs())
    path = written(tmp_path, results)
    text = path.read_text()
    # A report whose S1-async rows lost ours' figures (as if it were drawn from another run).
    broken = "\n".join(line.replace("| S1-async | 2.00x |", "| S1-async | error |")
                       .replace("| S1-async | 200 |", "| S1-async | error |")
                       for line in text.splitlines())
    assert broken != text
    path.write_text(broken.replace("| S4-h2c |", "| S4-x |"))
    found = check.problems(results, path)
    assert "S1-async: the report shows no ratio of ours to 1.0.9 (throughput 'error', CPU '2.00x')" in found
    assert "S1-async: the report shows no throughput for ours ('error')" in found
    assert "S4-h2c: no row in the report's headline table" in found
    assert "S4-h2c: no row in the report's throughput table" in found


def test_table_rows_reads_the_table_under_a_heading() -> None:
    text = "## A\n\ntext\n\n| X | a | b |\n|---|---:|---:|\n| r1 | 1 | 2 |\n\n| Y | c |\n|---|---|\n| r2 | 3 |\n## B\n"
    assert check.table_rows(text, "## A") == {"X": ["a", "b"], "r1": ["1", "2"]}
    assert check.table_rows(text, "## A", "Y") == {"Y": ["c"], "r2": ["3"]}
    assert check.table_rows(text, "## C") == {}


# --- --output and the check subcommand -----------------------------------------------------


def test_output_is_a_report_file_or_a_directory(tmp_path: pathlib.Path) -> None:
    assert output_paths(str(tmp_path / "x.md")) == (tmp_path / "x.md", None)
    assert output_paths(str(tmp_path / "out")) == (tmp_path / "out" / DEFAULT_OUTPUT.name,
                                                   tmp_path / "out" / "results.json")
    assert DEFAULT_OUTPUT.name == "benchmarks.md"


def test_the_check_subcommand_checks_a_saved_run(tmp_path: pathlib.Path) -> None:
    results = results_of(good_runs())
    saved = tmp_path / "results.json"
    results.save(saved)
    report_path = written(tmp_path, results)
    (tmp_path / "benchmarks.png").write_bytes(b"png")
    assert main(["check", str(saved), str(report_path)]) == 0
    (tmp_path / "benchmarks.png").unlink()
    assert main(["check", str(saved), str(report_path)]) == 1
    assert main(["check", str(saved)]) == 2
