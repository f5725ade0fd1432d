"""The server's limit: wrk (HTTP/1.1) and h2load (HTTP/2) against the same nginx.

They run on the client CPUs like the clients, so their figure is what one core shared with
nginx can do when the client costs almost nothing: the ceiling for the ratios above it.
A missing tool or an unreadable output is reported as such, never as a number.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from typing import List, Optional

_WRK_RATE = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.MULTILINE)
_WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)|Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)")
_H2LOAD_RATE = re.compile(r"finished in [0-9.]+\w+, ([0-9.]+) req/s")
_H2LOAD_DONE = re.compile(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored")
_TIMEOUT_S = 120.0


@dataclasses.dataclass(frozen=True)
class Limit:
    tool: str
    scenario: str  # the scenario it bounds
    description: str
    requests_per_s: Optional[float]
    failed: int = 0
    reason: str = ""


def parse_wrk(output: str) -> Optional[float]:
    match = _WRK_RATE.search(output)
    return float(match.group(1)) if match else None


def wrk_failures(output: str) -> int:
    failures = 0
    for match in _WRK_ERRORS.finditer(output):
        if match.group(1):
            failures += int(match.group(1))
        else:
            failures += sum(int(match.group(i)) for i in range(2, 6))
    return failures


def parse_h2load(output: str) -> Optional[float]:
    match = _H2LOAD_RATE.search(output)
    return float(match.group(1)) if match else None


def h2load_failures(output: str) -> int:
    match = _H2LOAD_DONE.search(output)
    return int(match.group(2)) + int(match.group(3)) if match else 0


def _run(args: List[str], cpus: str) -> str:
    completed = subprocess.run((["taskset", "-c", cpus] if cpus else []) + args, capture_output=True,
                               text=True, timeout=_TIMEOUT_S, check=False)
    return completed.stdout + completed.stderr


def wrk(scenario: str, url: str, connections: int, duration_s: float, cpus: str) -> Limit:
    description = f"wrk -t1 -c{connections} -d{duration_s:g}s"
    if shutil.which("wrk") is None:
        return Limit("wrk", scenario, description, None, reason="wrk not installed")
    output = _run(["wrk", "-t1", f"-c{connections}", f"-d{duration_s:g}s", url], cpus)
    rate = parse_wrk(output)
    return Limit("wrk", scenario, description, rate, wrk_failures(output),
                 reason="" if rate is not None else output.strip()[-200:])


def h2load(scenario: str, url: str, requests: int, streams: int, cpus: str) -> Limit:
    description = f"h2load -n{requests} -c1 -m{streams}"
    if shutil.which("h2load") is None:
        return Limit("h2load", scenario, description, None, reason="h2load not installed (nghttp2-client)")
    output = _run(["h2load", f"-n{requests}", "-c1", f"-m{streams}", url], cpus)
    rate = parse_h2load(output)
    return Limit("h2load", scenario, description, rate, h2load_failures(output),
                 reason="" if rate is not None else output.strip()[-200:])
