"""tools/bench: the pieces that need no network: work split, tallies, driver output parsing,
medians and ratios, the report, the wrk/h2load parsers, the scenario matrix, the venv stamp,
the saved results and the driver command line. No timings are asserted."""

from __future__ import annotations

import json
import pathlib
import ssl

import pytest

from tools.bench import chart, clients, limits, report, runner, stats, targets, venvs
from tools.bench.clients import BASELINE, BY_NAME, OURS
from tools.bench.drivers import _common
from tools.bench.limits import Limit
from tools.bench.results import ClientInfo, Results
from tools.bench.runner import Run
from tools.bench.scenarios import BY_ID

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:4000/2000.bin
  1 threads and 20 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   397.03us   90.51us   2.40ms   83.71%
    Req/Sec    50.37k     1.93k   53.40k    76.00%
  250571 requests in 5.00s, 527.03MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  50105.42
Transfer/sec:    105.39MB
"""

H2LOAD_OUTPUT = """\
finished in 434.04ms, 46078.74 req/s, 96.03MB/s
requests: 20000 total, 20000 started, 20000 done, 19990 succeeded, 7 failed, 3 errored, 0 timeout
status codes: 19990 2xx, 0 3xx, 0 4xx, 0 5xx
"""


def ok_run(client: str, scenario: str, ok: int, wall_s: float, cpu_s: float, rss: int = 1000,
           failed: int = 0) -> Run:
    return Run(client, scenario, "ok", mode="sync", operations=ok + failed, ok=ok, failed=failed,
               wall_s=wall_s, cpu_s=cpu_s, peak_rss_kib=rss)


def results_with(runs: list[Run], infos: list[ClientInfo] | None = None) -> Results:
    return Results(
        date="2026-01-01 00:00 UTC", command="tools/bench.sh", smoke=False, cycles=3,
        client_cpus="0", server_cpus="0", machine={"CPU": "test"},
        clients=infos or [ClientInfo(OURS, True, "1"), ClientInfo(BASELINE, True, "1.0.9"),
                          ClientInfo("aiohttp", True, "3")],
        scenarios=["S1-sync", "S2-async"], runs=runs,
    )


# --- drivers/_common ----------------------------------------------------------------------


def test_split_spreads_requests_evenly_and_adds_up() -> None:
    assert _common.split(10, 3) == [4, 3, 3]
    assert sum(_common.split(4000, 128)) == 4000


def test_split_never_makes_idle_workers() -> None:
    assert _common.split(2, 20) == [1, 1]


def test_tally_counts_a_wrong_body_size_as_a_failure() -> None:
    tally = _common.Tally(2000)
    tally.record(200, 2000)
    tally.record(200, 1999)
    tally.record(500, 2000)
    assert (tally.ok, tally.failed, tally.body_bytes) == (1, 2, 2000)
    assert len(tally.errors) == 2


def test_tally_merge_adds_counts_and_keeps_few_errors() -> None:
    total = _common.Tally(-1)
    for _ in range(5):
        worker = _common.Tally(-1)
        worker.record(200, 10)
        worker.fail("boom")
        total.merge(worker)
    assert (total.ok, total.failed, total.body_bytes) == (5, 5, 50)
    assert total.errors == ["boom"] * 3


def test_driver_arguments_parse_into_a_spec() -> None:
    spec = _common.parse_args(["--scenario", "S5-sync", "--url", "https://127.0.0.1:1/sink",
                               "--requests", "7", "--body-bytes", "3", "--http2"])
    assert spec.is_tls and spec.http2 and not spec.stream
    assert spec.body() == b"xxx"
    assert spec.requests == 7 and spec.expect_bytes == -1


# --- runner -------------------------------------------------------------------------------


def test_parse_output_reads_the_last_json_line() -> None:
    line = json.dumps({"status": "ok", "mode": "async", "operations": 10, "ok": 9, "failed": 1,
                       "wall_s": 0.5, "cpu_s": 0.25, "peak_rss_kib": 2048, "client_version": "1.0.9",
                       "errors": ["x"]})
    run = runner.parse_output("ours", "S1-async", "noise\n{not json\n" + line + "\n", "", 0)
    assert run.measured
    assert (run.ok, run.failed, run.mode, run.peak_rss_kib, run.errors) == (9, 1, "async", 2048, ["x"])


def test_parse_output_without_json_is_an_error_with_stderr() -> None:
    run = runner.parse_output("ours", "S1-sync", "", "Traceback\nImportError: no", 1)
    assert run.status == "error" and not run.measured
    assert "ImportError: no" in run.reason and "exit status 1" in run.reason


def test_parse_output_keeps_an_unsupported_reason() -> None:
    run = runner.parse_output("aiohttp", "S4-h2c", '{"status": "unsupported", "reason": "no h2"}', "", 0)
    assert (run.status, run.reason) == ("unsupported", "no h2")


def test_driver_command_is_pinned_and_carries_the_scenario() -> None:
    args = runner.command(pathlib.Path("/v/bin/python"), BY_NAME[OURS], BY_ID["S3-async"], "async",
                          "http://127.0.0.1:1/large.bin", "/ca.pem", smoke=True, cpus="0")
    assert args[:5] == ["taskset", "-c", "0", "/v/bin/python", "-m"]
    assert args[5] == "drivers.drive_httpcore"
    assert "--stream" in args and "--http2" not in args
    assert args[args.index("--requests") + 1] == str(BY_ID["S3-async"].smoke)


def test_s6_drivers_find_the_test_ca_in_the_default_trust_store(tmp_path: pathlib.Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n")
    env = runner.driver_env(BY_ID["S6"], str(ca))
    bundle = pathlib.Path(env["SSL_CERT_FILE"])
    text = bundle.read_text()
    assert text.endswith(ca.read_text())
    paths = ssl.get_default_verify_paths()
    system = next((p for p in (paths.cafile, paths.openssl_cafile) if p and pathlib.Path(p).is_file()), None)
    if system is not None:
        assert text.startswith(pathlib.Path(system).read_text(encoding="ascii", errors="replace").rstrip("\n"))
    assert runner.system_store_with(ca) == bundle  # made once
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "SSL_CERT_FILE" not in runner.driver_env(BY_ID["S1-sync"], str(ca)) or \
        runner.driver_env(BY_ID["S1-sync"], str(ca))["SSL_CERT_FILE"] != str(bundle)


def test_import_scenario_uses_the_import_driver_without_taskset_when_unpinned() -> None:
    args = runner.command(pathlib.Path("py"), BY_NAME["aiohttp"], BY_ID["S7"], "sync", "http://x/", "",
                          smoke=False, cpus="")
    assert args[:3] == ["py", "-m", "drivers.drive_import"]
    assert args[args.index("--module") + 1] == "aiohttp"


# --- stats --------------------------------------------------------------------------------


def test_summary_takes_medians_and_sums_failures() -> None:
    runs = [ok_run(OURS, "S1-sync", 100, 1.0, 0.1, rss=10, failed=1),
            ok_run(OURS, "S1-sync", 100, 0.5, 0.3, rss=30),
            ok_run(OURS, "S1-sync", 100, 0.25, 0.2, rss=20, failed=2)]
    summary = stats.summarise(OURS, "S1-sync", runs)
    assert summary.ops_per_s == pytest.approx(200.0)
    assert summary.cpu_us_per_op == pytest.approx(2000.0)
    assert (summary.peak_rss_kib, summary.failed, summary.cycles) == (20, 3, 3)


def test_summary_of_unsupported_runs_is_na() -> None:
    summary = stats.summarise("aiohttp", "S4-h2c", [Run("aiohttp", "S4-h2c", "unsupported", reason="no h2")])
    assert (summary.status, summary.reason, summary.measured) == ("n/a", "no h2", False)


def test_summary_where_every_request_failed_is_an_error() -> None:
    run = Run(OURS, "S1-sync", "ok", operations=5, ok=0, failed=5, wall_s=1.0, errors=["refused"])
    summary = stats.summarise(OURS, "S1-sync", [run])
    assert summary.status == "error" and "refused" in summary.reason and summary.failed == 5


def test_summary_counts_runs_that_gave_no_result() -> None:
    runs = [ok_run(OURS, "S1-sync", 10, 1.0, 0.1), Run(OURS, "S1-sync", "timeout", reason="slow")]
    summary = stats.summarise(OURS, "S1-sync", runs)
    assert summary.status == "ok" and summary.runs_without_result == 1


def test_ratios_are_times_better() -> None:
    fast = stats.summarise(OURS, "S", [ok_run(OURS, "S", 100, 0.5, 0.01)])
    slow = stats.summarise(BASELINE, "S", [ok_run(BASELINE, "S", 100, 1.0, 0.04)])
    assert stats.throughput_ratio(fast, slow) == pytest.approx(2.0)
    assert stats.cpu_ratio(fast, slow) == pytest.approx(4.0)
    assert stats.throughput_ratio(slow, fast) == pytest.approx(0.5)


def test_best_peer_never_picks_ours() -> None:
    summaries = [stats.summarise(c, "S", [ok_run(c, "S", 100, wall, cpu)])
                 for c, wall, cpu in ((OURS, 0.1, 0.001), (BASELINE, 1.0, 0.05), ("aiohttp", 0.5, 0.02))]
    fastest = stats.best_peer(summaries, stats.faster)
    leanest = stats.best_peer(summaries, stats.leaner)
    assert fastest is not None and fastest.client == "aiohttp"
    assert leanest is not None and leanest.client == "aiohttp"


# --- report and chart data ----------------------------------------------------------------


def test_ratio_text_keeps_three_significant_digits() -> None:
    assert [report.ratio(v) for v in (0.987, 3.204, 20.46, 225.2, None)] == \
        ["0.99x", "3.20x", "20.5x", "225x", "—"]


def test_throughput_text_uses_each_scenarios_unit() -> None:
    assert report.throughput_text("S1-sync", 9364.2) == "9,364"
    assert report.throughput_text("S5-sync", 100.0) == "100"  # 100 uploads/s of 10^6 bytes
    assert report.throughput_text("S6", 20.0) == "50.0"  # ms per operation


def test_report_headline_gives_ours_against_the_baseline_and_best_peer() -> None:
    runs = [ok_run(OURS, "S1-sync", 100, 0.1, 0.01), ok_run(BASELINE, "S1-sync", 100, 1.0, 0.04),
            ok_run("aiohttp", "S2-async", 100, 0.2, 0.02),
            Run("aiohttp", "S1-sync", "unsupported", reason="no sync API")]
    text = report.render(results_with(runs))
    assert "| S1-sync | 10.0x | 10.0x (httpcore-1.0.9) | 4.00x | 4.00x (httpcore-1.0.9) | 0 |" in text
    assert "- aiohttp: n/a: no sync API (S1-sync)" in text
    assert "| S2-async | not run |" in text


def test_report_shows_an_unavailable_client_in_every_scenario() -> None:
    infos = [ClientInfo(OURS, False, reason="no wheel"), ClientInfo(BASELINE, True, "1.0.9")]
    text = report.render(results_with([ok_run(BASELINE, "S1-sync", 10, 1.0, 0.1)], infos))
    assert "**ours is unavailable in this run**: no wheel" in text
    assert "| S1-sync | unavailable | unavailable | unavailable | unavailable | — |" in text
    assert "| ours | — | this checkout's compiled wheel[http2] | unavailable: no wheel |" in text
    assert "| httpcore-1.0.9 | 1.0.9 | `httpcore[asyncio,http2]==1.0.9` (PyPI) | ok |" in text


def test_report_lists_the_server_limits() -> None:
    results = results_with([])
    results.limits.append(Limit("wrk", "S3", "wrk -t1 -c1 -d5s", 100.0))
    results.limits.append(Limit("h2load", "S4-h2c", "h2load -n1", None, reason="h2load not installed"))
    text = report.render(results)
    assert "| S3 | `wrk -t1 -c1 -d5s` | 100 | 1,049 | 0 |" in text
    assert "unavailable: h2load not installed" in text


def test_chart_bars_leave_out_the_baseline_and_missing_figures() -> None:
    runs = [ok_run(OURS, "S1-sync", 100, 0.5, 0.01), ok_run(BASELINE, "S1-sync", 100, 1.0, 0.04),
            ok_run(OURS, "S2-async", 100, 0.5, 0.01)]
    [(scenario, client, value)] = chart.bars(report.Table(results_with(runs)))
    assert (scenario, client) == ("S1-sync", OURS)
    assert value == pytest.approx(2.0)


# --- limits -------------------------------------------------------------------------------


def test_wrk_output_gives_the_rate_and_the_failures() -> None:
    assert limits.parse_wrk(WRK_OUTPUT) == pytest.approx(50105.42)
    assert limits.wrk_failures(WRK_OUTPUT) == 7


def test_h2load_output_gives_the_rate_and_the_failures() -> None:
    assert limits.parse_h2load(H2LOAD_OUTPUT) == pytest.approx(46078.74)
    assert limits.h2load_failures(H2LOAD_OUTPUT) == 10


def test_unreadable_tool_output_gives_no_rate() -> None:
    assert limits.parse_wrk("unable to connect") is None
    assert limits.parse_h2load("") is None


# --- scenarios and clients ----------------------------------------------------------------


def test_a_client_without_the_mode_is_na_with_the_reason() -> None:
    assert BY_ID["S1-sync"].form(BY_NAME["aiohttp"]) == ("", "no sync API")
    assert BY_ID["S1-async"].form(BY_NAME["urllib3"]) == ("", "no async API")
    assert BY_ID["S4-tls"].form(BY_NAME["aiohttp"]) == ("", "no multiplexed HTTP/2")


def test_flexible_scenarios_choose_the_clients_mode() -> None:
    assert BY_ID["S4-h2c"].form(BY_NAME[OURS]) == ("async", "")
    assert BY_ID["S4-h2c"].form(BY_NAME["pycurl"]) == ("sync", "")
    assert BY_ID["S6"].form(BY_NAME["aiohttp"]) == ("async", "")
    assert BY_ID["S6"].form(BY_NAME["urllib3"]) == ("sync", "")


def test_warmup_opens_every_connection_the_phase_uses() -> None:
    for scenario in BY_ID.values():
        if scenario.warmup:
            assert scenario.warmup_count(smoke=True) >= scenario.concurrency


def test_every_client_runs_unless_named_ours_and_the_baseline_first() -> None:
    assert [c.name for c in clients.select([])][:2] == [OURS, BASELINE]
    assert len(clients.select([])) == len(clients.CLIENTS)
    assert [c.name for c in clients.select(["aiohttp", OURS])] == ["aiohttp", OURS]


def test_unknown_client_names_are_an_error() -> None:
    with pytest.raises(ValueError, match="nope"):
        clients.select(["nope"])


# --- venvs and results --------------------------------------------------------------------


def test_requirements_put_the_wheel_in_place(tmp_path: pathlib.Path) -> None:
    wheel = tmp_path / "httpcore-1.0.9-cp311-cp311-linux_x86_64.whl"
    wheel.write_bytes(b"one")
    assert venvs.requirements(BY_NAME[OURS], wheel) == [f"{wheel}[http2]"]
    assert venvs.requirements(BY_NAME[BASELINE], None) == ["httpcore[asyncio,http2]==1.0.9"]


def test_requirements_without_the_wheel_make_ours_unavailable(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="no wheel"):
        venvs.requirements(BY_NAME[OURS], tmp_path / "missing.whl")
    environment = venvs.prepare(BY_NAME[OURS], tmp_path / "venvs", None, tmp_path / "log")
    assert not environment.available and "no wheel" in environment.reason


def test_the_venv_stamp_changes_with_the_wheel(tmp_path: pathlib.Path) -> None:
    wheel = tmp_path / "w.whl"
    wheel.write_bytes(b"one")
    requirements = venvs.requirements(BY_NAME[OURS], wheel)
    first = venvs.stamp(requirements, wheel)
    wheel.write_bytes(b"two")
    assert venvs.stamp(requirements, wheel) != first


def test_results_survive_a_json_round_trip(tmp_path: pathlib.Path) -> None:
    results = results_with([ok_run(OURS, "S1-sync", 3, 1.0, 0.5)])
    results.limits.append(Limit("wrk", "S1", "wrk", 1.5, failed=2))
    path = tmp_path / "r.json"
    results.save(path)
    loaded = Results.load(path)
    assert loaded == results
    assert loaded.runs[0].measured


# --- targets ------------------------------------------------------------------------------


def summaries_getter(runs: list[Run]) -> targets.Getter:
    return report.Table(results_with(runs)).get


def test_a_target_needs_both_ratios_at_the_factor() -> None:
    get = summaries_getter([ok_run(OURS, "S1-sync", 100, 0.1, 0.01),
                            ok_run(BASELINE, "S1-sync", 100, 1.0, 0.04)])
    text, met = targets.check(targets.Goal("S1-sync", BASELINE, 5.0), get)
    assert text == "10.00x, CPU 4.00x" and met is False
    assert targets.check(targets.Goal("S1-sync", BASELINE, 4.0), get)[1] is True


def test_a_target_without_figures_is_not_measured() -> None:
    get = summaries_getter([ok_run(OURS, "S1-sync", 100, 0.1, 0.01)])
    assert targets.check(targets.Goal("S1-sync", "urllib3", 1.0), get) == ("not measured", None)


def test_the_scaling_target_compares_ours_across_scenarios() -> None:
    get = summaries_getter([ok_run(OURS, "S2-async", 100, 1.0, 0.01),
                            ok_run(OURS, "S2c128-async", 95, 1.0, 0.01)])
    goal = targets.Goal("S2c128-async", OURS, 0.9, "scaling", "S2-async")
    assert targets.check(goal, get) == ("95%", True)


def test_the_failures_target_needs_zero_failed_requests() -> None:
    get = summaries_getter([ok_run(OURS, "S4-h2c", 100, 0.1, 0.001, failed=1),
                            ok_run(BASELINE, "S4-h2c", 100, 1.0, 0.04)])
    text, met = targets.check(targets.Goal("S4-h2c", BASELINE, 4.0, "failures"), get)
    assert text.endswith("1 failed") and met is False


def test_the_memory_target_reports_the_worst_scenario() -> None:
    get = summaries_getter([ok_run(OURS, "S1-sync", 1, 1.0, 0.1, rss=1200),
                            ok_run(BASELINE, "S1-sync", 1, 1.0, 0.1, rss=1000),
                            ok_run(OURS, "S2-async", 1, 1.0, 0.1, rss=900),
                            ok_run(BASELINE, "S2-async", 1, 1.0, 0.1, rss=1000)])
    assert targets.check_memory(["S1-sync", "S2-async"], get) == ("worst 1.20x of 1.0.9 (S1-sync)", False)


def test_async_forms_are_held_to_a_sync_only_peers_figure() -> None:
    get = summaries_getter([ok_run(OURS, "S3-async", 30, 1.0, 0.1), ok_run("pycurl", "S3-sync", 20, 1.0, 0.1)])
    goal = next(g for g in targets.GOALS if g.scenario == "S3-async")
    assert (goal.reference, goal.against) == ("pycurl", "S3-sync")
    assert targets.check(goal, get) == ("1.50x", True)


# --- floors -------------------------------------------------------------------------------


def test_floor_requests_are_minimal_http11() -> None:
    from tools.bench import floors

    assert floors._request("http://127.0.0.1:8080/2000.bin") == (
        b"GET /2000.bin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\n\r\n"
    )
    upload = floors._request("http://127.0.0.1:1/sink", "POST", 1000)
    assert upload.startswith(b"POST /sink HTTP/1.1\r\n") and b"\r\nContent-Length: 1000\r\n\r\n" in upload
    assert floors._body_length(b"HTTP/1.1 200 OK\r\nServer: x\r\ncontent-length: 2000") == 2000
    with pytest.raises(RuntimeError):
        floors._body_length(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked")


def test_floors_measure_every_exchange_against_a_real_server() -> None:
    # The whole tool, briefly: nginx started and stopped by it, each exchange run.
    import contextlib
    import io

    from tools.bench import floors

    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        assert floors.main(["-n", "200", "--cpus", ""]) == 0
    rows = [line for line in output.getvalue().splitlines() if line.startswith("| S")]
    assert [row.split("|")[1].strip() for row in rows] == ["S1-sync", "S1-async", "S3-sync", "S3-async", "S5-sync", "S5-async"]
