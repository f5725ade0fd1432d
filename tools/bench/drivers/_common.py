"""What every benchmark driver shares: its arguments, the measured phase, and the JSON it prints.

A driver is run by the client's own virtualenv as ``python -m drivers.<name> ARGS`` with
``tools/bench`` as the working directory, so it imports only ``drivers`` and its client,
never the project's ``tools`` package. It prints exactly one JSON object on its last line of
standard output (see ``Result``); the orchestrator (``tools.bench.runner``) parses it.

The measured phase starts after set-up and warm-up requests (except for S6, where the set-up
is what is measured) and covers ``requests`` operations. Client CPU is
``time.process_time()`` (every thread of the process, so a client's own I/O threads count);
peak RSS is the process's ``VmHWM`` at the end (KiB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import threading
import time
import traceback
from typing import Any, Awaitable, Callable, Dict, List, Optional

# Read sizes a streaming consumer asks for where the client lets it choose.
STREAM_CHUNK_BYTES = 64 * 1024
REQUEST_TIMEOUT_S = 60.0
_MAX_ERRORS_KEPT = 3


class Spec:
    """The parsed command line of a driver run."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.scenario: str = args.scenario
        self.mode: str = args.mode
        self.url: str = args.url
        self.requests: int = args.requests
        self.concurrency: int = args.concurrency
        self.warmup: int = args.warmup
        self.body_bytes: int = args.body_bytes
        self.expect_bytes: int = args.expect_bytes
        self.stream: bool = args.stream
        self.http2: bool = args.http2
        self.ca: str = args.ca
        self.module: str = args.module
        self.time_limit_s: float = args.time_limit_s

    @property
    def is_tls(self) -> bool:
        return self.url.startswith("https://")

    def shares(self, total: int) -> List[int]:
        """How many of ``total`` requests each of the ``concurrency`` workers makes."""
        return split(total, self.concurrency)

    def body(self) -> Optional[bytes]:
        return b"x" * self.body_bytes if self.body_bytes else None


def split(total: int, workers: int) -> List[int]:
    """``total`` split as evenly as possible over at most ``workers`` (none gets 0)."""
    workers = max(1, min(workers, total))
    base, extra = divmod(total, workers)
    return [base + (1 if i < extra else 0) for i in range(workers)]


def parse_args(argv: Optional[List[str]] = None) -> Spec:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--mode", choices=("sync", "async"), default="sync")
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--body-bytes", type=int, default=0, help="POST a body of this size")
    parser.add_argument("--expect-bytes", type=int, default=-1, help="-1: any size")
    parser.add_argument("--stream", action="store_true", help="read the body in chunks")
    parser.add_argument("--http2", action="store_true", help="HTTP/2 only (h2c or ALPN h2)")
    parser.add_argument("--ca", default="", help="PEM file of the test CA (for https URLs)")
    parser.add_argument("--module", default="", help="import name (httpcore family, S7)")
    parser.add_argument("--time-limit-s", type=float, default=0.0,
                        help="stop starting requests this long into the measured phase (0: never)")
    return Spec(parser.parse_args(argv))


class Unsupported(Exception):
    """The client cannot run this scenario (for example no HTTP/2): reported as n/a."""


class Tally:
    """Outcome counters of the measured requests."""

    def __init__(self, expect_bytes: int) -> None:
        self.expect_bytes = expect_bytes
        self.ok = 0
        self.failed = 0
        self.body_bytes = 0
        self.errors: List[str] = []

    def record(self, status: int, received: int) -> None:
        """One finished request: a success when 200 with the expected body size."""
        if status == 200 and (self.expect_bytes < 0 or received == self.expect_bytes):
            self.ok += 1
            self.body_bytes += received
        else:
            self.fail(f"status {status}, {received} body bytes (expected {self.expect_bytes})")

    def fail(self, what: str) -> None:
        self.failed += 1
        if len(self.errors) < _MAX_ERRORS_KEPT:
            self.errors.append(what)

    def exception(self, exc: BaseException) -> None:
        self.fail(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"[:300])

    def merge(self, other: Tally) -> None:
        """Add a worker's own tally (workers never share one: ``+=`` is not atomic)."""
        self.ok += other.ok
        self.failed += other.failed
        self.body_bytes += other.body_bytes
        self.errors.extend(other.errors[: max(0, _MAX_ERRORS_KEPT - len(self.errors))])


def run_threads(shares: List[int], work: Callable[[int, Tally], None], tally: Tally, clock: Optional[Clock]) -> None:
    """``work(count, own_tally)`` on one thread per share, all released at once; the clock
    (if any) runs from the release to the last join. One share runs on this thread."""
    tallies = [Tally(tally.expect_bytes) for _ in shares]
    if len(shares) == 1:
        if clock is not None:
            clock.start()
        work(shares[0], tallies[0])
    else:
        barrier = threading.Barrier(len(shares) + 1)

        def body(count: int, own: Tally) -> None:
            barrier.wait()
            work(count, own)

        threads = [threading.Thread(target=body, args=(n, t)) for n, t in zip(shares, tallies)]
        for thread in threads:
            thread.start()
        if clock is not None:
            clock.start()
        barrier.wait()
        for thread in threads:
            thread.join()
    if clock is not None:
        clock.stop()
    for own in tallies:
        tally.merge(own)


async def run_tasks(
    shares: List[int], work: Callable[[int, Tally], Awaitable[None]], tally: Tally, clock: Optional[Clock]
) -> None:
    """The asyncio twin of ``run_threads``: one task per share."""
    tallies = [Tally(tally.expect_bytes) for _ in shares]
    if clock is not None:
        clock.start()
    await asyncio.gather(*(work(n, t) for n, t in zip(shares, tallies)))
    if clock is not None:
        clock.stop()
    for own in tallies:
        tally.merge(own)


class Clock:
    """Wall and CPU time of the measured phase, and its time limit: once ``over()``, workers
    start no new request (so a very slow client ends in bounded time with fewer requests)."""

    def __init__(self, time_limit_s: float = 0.0) -> None:
        self.time_limit_s = time_limit_s
        self.deadline = float("inf")  # none before start(): the warm-up is not limited
        self.wall_start = 0.0
        self.cpu_start = 0.0
        self.wall_s = 0.0
        self.cpu_s = 0.0

    def start(self) -> None:
        self.wall_start = time.perf_counter()
        self.cpu_start = time.process_time()
        if self.time_limit_s > 0:
            self.deadline = self.wall_start + self.time_limit_s

    def over(self) -> bool:
        return time.perf_counter() > self.deadline

    def stop(self) -> None:
        self.wall_s = time.perf_counter() - self.wall_start
        self.cpu_s = time.process_time() - self.cpu_start


def peak_rss_kib() -> int:
    """This process's peak RSS: ``VmHWM`` (of this image only; ``ru_maxrss`` would also count
    what the parent had mapped when it forked us, as it survives the exec), else ru_maxrss."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def result(spec: Spec, tally: Tally, clock: Clock, version: str, **extra: Any) -> Dict[str, Any]:
    data: Dict[str, Any] = {
        "status": "ok",
        "scenario": spec.scenario,
        "mode": spec.mode,
        "operations": tally.ok + tally.failed,
        "planned": spec.requests,
        "ok": tally.ok,
        "failed": tally.failed,
        "body_bytes": tally.body_bytes,
        "wall_s": clock.wall_s,
        "cpu_s": clock.cpu_s,
        "peak_rss_kib": peak_rss_kib(),
        "client_version": version,
        "errors": tally.errors,
    }
    data.update(extra)
    return data


def emit(data: Dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, sort_keys=True) + "\n")
    sys.stdout.flush()


def main(run: Callable[[Spec], Dict[str, Any]], argv: Optional[List[str]] = None) -> int:
    """Parse the arguments, run, print the JSON line; n/a and crashes are JSON too."""
    spec = parse_args(argv)
    try:
        data = run(spec)
    except Unsupported as exc:
        data = {"status": "unsupported", "scenario": spec.scenario, "reason": str(exc)}
    except Exception as exc:  # a crash of the driver itself: shown as an error, not lost
        traceback.print_exc()
        data = {"status": "error", "scenario": spec.scenario, "reason": f"{type(exc).__name__}: {exc}"[:300]}
    emit(data)
    return 0
