"""The scenarios (S1-S7) and which form of each a client runs.

Each ``Scenario`` names its listener and path on ``BenchNginx``, the operation count of a
full and of a smoke run, the concurrency, the warm-up (requests made before the measured
phase, at least one per connection the phase uses) and how a result is shown: ``req`` as
requests/s, ``MB`` as MB/s (S3, S5: body bytes), ``op`` as milliseconds per operation
(S6, S7). ``mode`` is fixed for the sync/async pairs; ``None`` lets the client choose (S4:
async when it has it; S6: sync when it has it).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Tuple

from tools.bench.clients import Client

# What the bench nginx serves (tools/bench/server.py writes the files and the locations).
SMALL_PATH = "/2000.bin"
SMALL_SIZE_BYTES = 2000
LARGE_PATH = "/large.bin"  # tools.servers.nginx's 10 MiB file
SINK_PATH = "/sink"
LARGE_BYTES = 10 * 1024 * 1024
UPLOAD_BYTES = 1_000_000
# The measured phase starts no new request after this long (full, smoke): the operation
# counts are sized for fast clients, the limit keeps a slow one from taking minutes.
TIME_LIMIT_S = {False: 6.0, True: 2.0}


@dataclasses.dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    mode: Optional[str]
    listener: str  # attribute of server.BenchPorts
    path: str
    full: int
    smoke: int
    concurrency: int = 1
    warmup: int = 0
    body_bytes: int = 0
    expect_bytes: int = -1
    stream: bool = False
    http2: bool = False
    unit: str = "req"

    def count(self, smoke: bool) -> int:
        return self.smoke if smoke else self.full

    def warmup_count(self, smoke: bool) -> int:
        if not self.warmup:
            return 0
        return max(self.concurrency, self.warmup // 4 if smoke else self.warmup)

    def form(self, client: Client) -> Tuple[str, str]:
        """(mode, "") when ``client`` runs this scenario, else ("", why not)."""
        if self.id == "S7":
            return "sync", ""
        mode = self.mode
        if mode is None:
            if self.http2:
                mode = "async" if client.async_ else "sync"
            else:
                mode = "sync" if client.sync else "async"
        reason = client.lacks(mode, self.http2)
        return (("", reason) if reason else (mode, ""))


_SMALL = SMALL_PATH
_SMALL_BYTES = SMALL_SIZE_BYTES

SCENARIOS: Tuple[Scenario, ...] = (
    Scenario("S1-sync", "sequential GETs of 2000 B on one connection, sync", "sync", "http", _SMALL,
             full=10000, smoke=300, warmup=100, expect_bytes=_SMALL_BYTES),
    Scenario("S1-async", "sequential GETs of 2000 B on one connection, async", "async", "http", _SMALL,
             full=10000, smoke=300, warmup=100, expect_bytes=_SMALL_BYTES),
    Scenario("S2-sync", "GETs of 2000 B from 20 threads on one pool", "sync", "http", _SMALL,
             full=10000, smoke=400, concurrency=20, warmup=200, expect_bytes=_SMALL_BYTES),
    Scenario("S2-async", "GETs of 2000 B from 20 tasks on one pool", "async", "http", _SMALL,
             full=10000, smoke=400, concurrency=20, warmup=200, expect_bytes=_SMALL_BYTES),
    Scenario("S2c128-sync", "GETs of 2000 B from 128 threads on one pool", "sync", "http", _SMALL,
             full=10000, smoke=512, concurrency=128, warmup=256, expect_bytes=_SMALL_BYTES),
    Scenario("S2c128-async", "GETs of 2000 B from 128 tasks on one pool", "async", "http", _SMALL,
             full=10000, smoke=512, concurrency=128, warmup=256, expect_bytes=_SMALL_BYTES),
    Scenario("S3-sync", "streaming a 10 MiB body, sync", "sync", "http", LARGE_PATH,
             full=40, smoke=2, warmup=1, expect_bytes=LARGE_BYTES, stream=True, unit="MB"),
    Scenario("S3-async", "streaming a 10 MiB body, async", "async", "http", LARGE_PATH,
             full=40, smoke=2, warmup=1, expect_bytes=LARGE_BYTES, stream=True, unit="MB"),
    Scenario("S4-h2c", "100 concurrent GETs of 2000 B multiplexed on one HTTP/2 connection, h2c",
             None, "h2c", _SMALL, full=10000, smoke=400, concurrency=100, warmup=200, http2=True,
             expect_bytes=_SMALL_BYTES),
    Scenario("S4-tls", "100 concurrent GETs of 2000 B multiplexed on one HTTP/2 connection, TLS",
             None, "h2", _SMALL, full=10000, smoke=400, concurrency=100, warmup=200, http2=True,
             expect_bytes=_SMALL_BYTES),
    Scenario("S5-sync", "1 MB POST uploads, sync", "sync", "http", SINK_PATH,
             full=300, smoke=10, warmup=5, body_bytes=UPLOAD_BYTES, expect_bytes=3, unit="MB"),
    Scenario("S5-async", "1 MB POST uploads, async", "async", "http", SINK_PATH,
             full=300, smoke=10, warmup=5, body_bytes=UPLOAD_BYTES, expect_bytes=3, unit="MB"),
    Scenario("S6", "new pool (default TLS set-up) and its first HTTPS request", None, "https",
             SMALL_PATH, full=30, smoke=3, expect_bytes=SMALL_SIZE_BYTES, unit="op"),
    Scenario("S7", "import time (fresh interpreter)", "sync", "http", "/", full=5, smoke=2, unit="op"),
)

BY_ID: Dict[str, Scenario] = {scenario.id: scenario for scenario in SCENARIOS}
