"""S7 driver: the time of ``import <module>`` in fresh interpreters of this virtualenv.

Runs ``--requests`` new interpreters one after another; each imports the module once and
reports its own wall and CPU time of the import and its peak RSS. The result sums them, so
"per operation" is one import, as for the other scenarios.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Dict

from . import _common
from ._common import Clock, Spec, Tally

_CHILD = """\
import json, time
wall, cpu = time.perf_counter(), time.process_time()
import {module}
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")]
print(json.dumps({{"wall_s": wall, "cpu_s": cpu, "peak_rss_kib": peak[0] if peak else 0,
                  "version": str(getattr({module}, "__version__", "?"))}}))
"""


def run(spec: Spec) -> Dict[str, Any]:
    tally, clock = Tally(-1), Clock()
    peak = 0
    version = "?"
    for _ in range(spec.requests):
        completed = subprocess.run(
            [sys.executable, "-c", _CHILD.format(module=spec.module)],
            capture_output=True, text=True, check=False,
        )
        if completed.returncode != 0:
            tally.fail(completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "exit status")
            continue
        child = json.loads(completed.stdout.strip().splitlines()[-1])
        clock.wall_s += float(child["wall_s"])
        clock.cpu_s += float(child["cpu_s"])
        peak = max(peak, int(child["peak_rss_kib"]))
        version = str(child["version"])
        tally.record(200, 0)
    return _common.result(spec, tally, clock, version, peak_rss_kib=peak)


if __name__ == "__main__":
    raise SystemExit(_common.main(run))
