"""Run one driver process and turn its JSON line into a ``Run``.

The driver runs as ``<venv python> -m drivers.<driver> ARGS`` with ``tools/bench`` as the
working directory (see ``drivers/_common.py``), under ``taskset -c CPUS`` when client CPUs
are given, with a time limit. Whatever happens (a crash, a time-out, no JSON), the outcome
is a ``Run`` whose ``status`` says so: nothing is dropped silently.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import ssl
import subprocess
from typing import Any, Dict, List, Optional

from tools.bench.clients import Client
from tools.bench.scenarios import TIME_LIMIT_S, Scenario

BENCH_DIR = pathlib.Path(__file__).resolve().parent
DRIVER_TIMEOUT_S = 300.0
_STDERR_TAIL_CHARS = 400


@dataclasses.dataclass(frozen=True)
class Run:
    """One driver process's outcome. ``status``: ok, unsupported, error (or timeout)."""

    client: str
    scenario: str
    status: str
    mode: str = ""
    operations: int = 0
    ok: int = 0
    failed: int = 0
    body_bytes: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_kib: int = 0
    client_version: str = ""
    reason: str = ""
    errors: List[str] = dataclasses.field(default_factory=list)

    @property
    def measured(self) -> bool:
        return self.status == "ok" and self.ok > 0 and self.wall_s > 0


def parse_output(client: str, scenario: str, stdout: str, stderr: str, returncode: int) -> Run:
    """The ``Run`` a driver's output describes: its last JSON line, else an error."""
    data: Optional[Dict[str, Any]] = None
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                data = parsed
                break
    if data is None:
        tail = stderr.strip()[-_STDERR_TAIL_CHARS:]
        return Run(client, scenario, "error", reason=f"no result (exit status {returncode}): {tail}")
    status = str(data.get("status", "error"))
    if status != "ok":
        return Run(client, scenario, status, reason=str(data.get("reason", "")))
    return Run(
        client=client,
        scenario=scenario,
        status="ok",
        mode=str(data.get("mode", "")),
        operations=int(data.get("operations", 0)),
        ok=int(data.get("ok", 0)),
        failed=int(data.get("failed", 0)),
        body_bytes=int(data.get("body_bytes", 0)),
        wall_s=float(data.get("wall_s", 0.0)),
        cpu_s=float(data.get("cpu_s", 0.0)),
        peak_rss_kib=int(data.get("peak_rss_kib", 0)),
        client_version=str(data.get("client_version", "")),
        errors=[str(e) for e in data.get("errors", [])],
    )


def command(
    python: pathlib.Path, client: Client, scenario: Scenario, mode: str, url: str, ca: str,
    smoke: bool, cpus: str,
) -> List[str]:
    driver = "drive_import" if scenario.id == "S7" else client.driver
    args = [
        str(python), "-m", f"drivers.{driver}",
        "--scenario", scenario.id, "--mode", mode, "--url", url,
        "--requests", str(scenario.count(smoke)),
        "--concurrency", str(scenario.concurrency),
        "--warmup", str(scenario.warmup_count(smoke)),
        "--body-bytes", str(scenario.body_bytes),
        "--expect-bytes", str(scenario.expect_bytes),
        "--ca", ca, "--module", client.module,
        "--time-limit-s", str(TIME_LIMIT_S[smoke]),
    ]
    if scenario.stream:
        args.append("--stream")
    if scenario.http2:
        args.append("--http2")
    return (["taskset", "-c", cpus] if cpus else []) + args


def system_store_with(ca: pathlib.Path) -> pathlib.Path:
    """A PEM bundle beside ``ca``: the system's default CA file (what a default context
    loads) followed by ``ca``. Made once per CA file."""
    bundle = ca.with_name(ca.stem + "-and-system.pem")
    if not bundle.exists():
        paths = ssl.get_default_verify_paths()
        system = next((path for path in (paths.cafile, paths.openssl_cafile) if path and os.path.isfile(path)), None)
        text = pathlib.Path(system).read_text(encoding="ascii", errors="replace") if system else ""
        bundle.write_text(text.rstrip("\n") + "\n" + ca.read_text(encoding="ascii"))
    return bundle


def driver_env(scenario: Scenario, ca: str) -> Dict[str, str]:
    """The driver's environment: ours without Python/virtualenv settings; for S6, which
    measures each client's default TLS set-up, ``SSL_CERT_FILE`` names the system store
    plus the test CA (as a user's private CA would join it)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if scenario.id == "S6":
        env["SSL_CERT_FILE"] = str(system_store_with(pathlib.Path(ca)))
    return env


def run(
    python: pathlib.Path, client: Client, scenario: Scenario, mode: str, url: str, ca: str,
    smoke: bool, cpus: str, timeout_s: float = DRIVER_TIMEOUT_S,
) -> Run:
    args = command(python, client, scenario, mode, url, ca, smoke, cpus)
    env = driver_env(scenario, ca)
    try:
        completed = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s,
                                   cwd=str(BENCH_DIR), env=env, check=False)
    except subprocess.TimeoutExpired:
        return Run(client.name, scenario.id, "timeout", mode=mode, reason=f"no result within {timeout_s:.0f} s")
    outcome = parse_output(client.name, scenario.id, completed.stdout, completed.stderr, completed.returncode)
    return dataclasses.replace(outcome, mode=outcome.mode or mode)
