"""The thread soak: many threads on one sync pool, responses closed early or left to the GC,
and the pool closed under them.

``run_thread_soak(config)`` starts its own nginx (``tools.soak.driver.Servers``) unless given
one, and runs ``config.threads`` threads, each sending ``requests_per_thread`` GETs through
the current ``ConnectionPool`` (``max_connections`` below the thread count, so requests
queue). For each request a thread, at random (its own ``random.Random``, seeded from
``seed`` and its number), reads the whole body and checks it, closes the response before
reading it, closes it after the first chunk, or drops it unclosed into a reference cycle
whose generator closes it when the garbage collector finalises it (httpcore#990: that close
can run in any thread, inside the pool's own code). Now and then a thread runs
``gc.collect()``, or closes the pool while requests are in flight (API.md: the pool stays
usable), either going on with it or putting a new pool in its place; threads that still
hold the old one go on with it.

What must hold (``ThreadSoakResult.problems()``):

- every thread ends within ``hang_limit_s`` (else the stacks of all threads are in the
  report);
- every failure is ``ReadError``, ``WriteError`` or ``RemoteProtocolError`` (a connection
  closed by a pool close), and none happens to a request during whose life no pool close
  ran (httpcore#1110: a connection closed under a request); anything else (a timeout, a
  ``PoolTimeout``: a held slot) is a problem, and so is a read or write of a request
  during which a pool close ran that ended at its timeout rather than at the close
  (``close_timeouts``: the close must wake a thread blocked on the connection's socket);
- every dropped response was finalised and closed without error;
- afterwards no pool holds a request or an active connection, and a fresh request succeeds;
- open file descriptors and live httpcore objects return to their counts before the pools.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import gc
import hashlib
import importlib.util
import pathlib
import random
import re
import sys
import threading
import time
from typing import Any, Counter, Dict, Iterator, List, Optional, Sequence, Tuple

_ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
if importlib.util.find_spec("httpcore") is None:  # a checkout: libs/*/ (python -m ...)
    for _lib in sorted((_ROOT / "libs").iterdir()):
        if (_lib / "httpcore").is_dir():
            sys.path.insert(0, str(_lib))

import httpcore  # noqa: E402

from tools.soak.driver import (  # noqa: E402
    FD_SETTLE_PAUSE_S,
    FD_SETTLE_STEPS,
    OBJECT_SETTLE_PAUSE_S,
    TARGETS,
    Servers,
    SoakConfig,
    Target,
    httpcore_objects,
    open_fds,
    print_verdict,
    thread_stacks,
)

# A 256 KiB file (several chunks) for closes in the middle of a body.
BIG_NAME = "threads-256k.bin"
BIG_BODY = b"".join(hashlib.sha256(b"threads %d" % i).digest() for i in range(8192))
ALL_TARGETS = TARGETS + (Target("/" + BIG_NAME, BIG_BODY),)
LONG_TARGETS = ALL_TARGETS[2:]  # more than one chunk

# What closing a connection under a request may raise.
EXPECTED_EXCEPTIONS: Tuple[type, ...] = (
    httpcore.ReadError,
    httpcore.WriteError,
    httpcore.RemoteProtocolError,
)
# A thread already waiting on a socket that another thread closes (pool.close()) must be
# woken by the close; a timeout of a request during which a pool close ran means it was not
# (counted apart as ``close_timeouts``, and a problem).
CLOSE_TIMEOUT_EXCEPTIONS: Tuple[type, ...] = (httpcore.ReadTimeout, httpcore.WriteTimeout)
MAX_EXAMPLES = 5
ACTIONS = ("read", "close_before_body", "close_mid_body", "gc_drop")
_REPR = re.compile(r"Requests: (\d+) active, (\d+) queued \| Connections: (\d+) active, (\d+) idle")


class ThreadSoakHang(RuntimeError):
    """Threads did not end within ``hang_limit_s``; the message holds every thread's stack."""


@dataclasses.dataclass(frozen=True)
class ThreadSoakConfig:
    threads: int = 64
    requests_per_thread: int = 200
    seed: int = 1
    max_connections: int = 16
    p_close_before_body: float = 0.10
    p_close_mid_body: float = 0.10
    p_gc_drop: float = 0.05
    p_gc_collect: float = 0.02  # per request, by the thread that sent it
    p_pool_close: float = 0.005  # per request, once its response has arrived
    p_pool_replace: float = 0.5  # of the pool closes: a new pool takes over
    gc_threshold: Optional[int] = 100  # generation-0 threshold during the run; None: as is
    tls: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 10.0
    write_timeout: float = 10.0
    pool_timeout: float = 30.0
    hang_limit_s: float = 300.0

    def __post_init__(self) -> None:
        if self.threads < 1 or self.requests_per_thread < 1 or self.max_connections < 1:
            raise ValueError("threads, requests_per_thread and max_connections must be positive")
        if self.p_close_before_body + self.p_close_mid_body + self.p_gc_drop > 1.0:
            raise ValueError("the action probabilities add up to more than 1")

    @property
    def requests(self) -> int:
        return self.threads * self.requests_per_thread

    def describe(self) -> str:
        return (
            f"{self.threads} threads x {self.requests_per_thread} requests (seed {self.seed}), "
            f"max_connections {self.max_connections}, {'HTTPS' if self.tls else 'HTTP'}/1.1; "
            f"p(close before body) {self.p_close_before_body}, p(close mid-body) "
            f"{self.p_close_mid_body}, p(GC drop) {self.p_gc_drop}, p(gc.collect) "
            f"{self.p_gc_collect}, p(pool close) {self.p_pool_close} (replaced "
            f"{self.p_pool_replace}), gc threshold {self.gc_threshold}"
        )


@dataclasses.dataclass
class ThreadSoakResult:
    config: ThreadSoakConfig
    actions: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    successes: int = 0
    failures: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    unexpected: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    examples: Dict[str, List[str]] = dataclasses.field(default_factory=dict)
    clean_failures: int = 0
    close_timeouts: int = 0  # timeouts of requests during which a pool close ran
    pool_closes: int = 0
    pools_created: int = 0
    collects: int = 0
    gc_dropped: int = 0
    gc_closed: int = 0
    gc_closed_inside_pool: int = 0  # finalised while that thread was inside the pool's lock
    gc_closed_other_thread: int = 0
    finaliser_errors: List[str] = dataclasses.field(default_factory=list)
    hang: str = ""
    pools_left_busy: List[str] = dataclasses.field(default_factory=list)
    fresh_request: str = "not run"
    fds_before: int = -1
    fds_after: int = -1
    objects_before: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    objects_after: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    elapsed_s: float = 0.0

    @property
    def done(self) -> int:
        return self.successes + sum(self.failures.values())

    def leaked_objects(self) -> Dict[str, int]:
        return {
            name: count - self.objects_before.get(name, 0)
            for name, count in sorted(self.objects_after.items())
            if count > self.objects_before.get(name, 0)
        }

    def problems(self) -> List[str]:
        """Every broken expectation (the module header lists them)."""
        found: List[str] = []
        if self.hang:
            found.append(self.hang)
            return found
        if self.done != self.config.requests:
            found.append(f"{self.done} requests accounted for, expected {self.config.requests}")
        if self.unexpected:
            found.append(f"unexpected failures: {dict(self.unexpected)} e.g. {self.examples}")
        if self.clean_failures:
            found.append(f"{self.clean_failures} requests failed while no pool close ran")
        if self.close_timeouts:
            found.append(
                f"{self.close_timeouts} requests timed out after a pool close instead of failing "
                "at once (a blocked read is not woken by the close)"
            )
        if self.gc_closed != self.gc_dropped:
            found.append(f"{self.gc_dropped} responses left to the GC, {self.gc_closed} finalised")
        if self.finaliser_errors:
            found.append(f"closing a response from its finaliser failed: {self.finaliser_errors[:MAX_EXAMPLES]}")
        if self.pools_left_busy:
            found.append(f"pools still busy after the run: {self.pools_left_busy}")
        if self.fresh_request != "ok":
            found.append(f"a fresh request after the run: {self.fresh_request}")
        if self.fds_after != self.fds_before:
            found.append(f"open file descriptors: {self.fds_before} before, {self.fds_after} after")
        if self.leaked_objects():
            found.append(f"httpcore objects alive after close (beyond the start): {self.leaked_objects()}")
        return found

    def summary(self) -> str:
        failures = ", ".join(f"{name} {count}" for name, count in self.failures.most_common()) or "none"
        return "\n".join(
            [
                f"run:            {self.config.describe()}",
                f"requests:       {self.done} ({self.successes} ok, {sum(self.failures.values())} failed)",
                f"actions:        {dict(self.actions)}",
                f"failures:       {failures}",
                f"unexpected:     {dict(self.unexpected) or 'none'}; failed with no pool close: "
                f"{self.clean_failures}; timeouts under a pool close: {self.close_timeouts}",
                f"pool closes:    {self.pool_closes} ({self.pools_created} pools in all)",
                f"gc:             {self.gc_dropped} responses dropped, {self.gc_closed} closed by finalisers "
                f"({self.gc_closed_inside_pool} inside pool code, {self.gc_closed_other_thread} in another "
                f"thread); {self.collects} explicit gc.collect()",
                f"pools after:    {'busy: ' + '; '.join(self.pools_left_busy) if self.pools_left_busy else 'no request, no active connection'}",
                f"fresh request:  {self.fresh_request}",
                f"fds:            {self.fds_before} before, {self.fds_after} after",
                f"httpcore objs:  {sum(self.objects_before.values())} before, "
                f"{sum(self.objects_after.values())} after close",
                f"elapsed:        {self.elapsed_s:.1f}s",
            ]
        )


class _Pools:
    """The current pool, every pool made, and the pool closes (started, finished)."""

    def __init__(self, options: Dict[str, Any]) -> None:
        self.options = options
        self.lock = threading.Lock()
        self.current = httpcore.ConnectionPool(**options)
        self.all = [self.current]
        self.closes = (0, 0)

    def close(self, replace: bool) -> None:
        with self.lock:
            old = self.current
            if replace:
                self.current = httpcore.ConnectionPool(**self.options)
                self.all.append(self.current)
            self.closes = (self.closes[0] + 1, self.closes[1])
        try:
            old.close()
        finally:
            with self.lock:
                self.closes = (self.closes[0], self.closes[1] + 1)


class _Run:
    def __init__(self, config: ThreadSoakConfig, result: ThreadSoakResult, servers: Servers) -> None:
        self.config = config
        self.result = result
        self.servers = servers
        self.lock = threading.Lock()  # never taken by a finaliser
        self.timeouts = {
            "connect": config.connect_timeout,
            "read": config.read_timeout,
            "write": config.write_timeout,
            "pool": config.pool_timeout,
        }

    def record(self, action: str, outcome: str, clean: bool, exc: Optional[BaseException] = None) -> None:
        result = self.result
        with self.lock:
            result.actions[action] += 1
            if not outcome:
                result.successes += 1
                return
            result.failures[outcome] += 1
            if not clean and isinstance(exc, CLOSE_TIMEOUT_EXCEPTIONS):
                result.close_timeouts += 1
            elif exc is None or not isinstance(exc, EXPECTED_EXCEPTIONS):
                result.unexpected[outcome] += 1
                examples = result.examples.setdefault(outcome, [])
                if len(examples) < MAX_EXAMPLES:
                    examples.append(f"{action}: {exc!r}" if exc is not None else action)
            elif clean:
                result.clean_failures += 1

    def leave_to_gc(self, response: httpcore.Response, pool: httpcore.ConnectionPool) -> None:
        """Drop ``response`` unclosed into a cycle whose generator closes it when finalised."""
        result = self.result
        dropped_by = threading.get_ident()

        def closes_when_collected() -> Iterator[None]:
            try:
                yield
            finally:
                # Only one thread runs the collector's finalisers at a time: no lock here
                # (one the interrupted thread holds would deadlock).
                me = threading.get_ident()
                result.gc_closed += 1
                # The threads inside the pool's state operations (its ``LockedState``).
                if me in getattr(getattr(pool, "_state", None), "_inside", ()):
                    result.gc_closed_inside_pool += 1
                if me != dropped_by:
                    result.gc_closed_other_thread += 1
                try:
                    response.close()
                except BaseException as exc:  # reported; a finaliser cannot raise
                    result.finaliser_errors.append(repr(exc))

        generator = closes_when_collected()
        next(generator)
        cycle: List[Any] = [generator]
        cycle.append(cycle)
        with self.lock:
            result.gc_dropped += 1

    def one_request(self, pools: _Pools, rng: random.Random) -> None:
        config = self.config
        roll = rng.random()
        if roll < config.p_close_before_body:
            action = "close_before_body"
        elif roll < config.p_close_before_body + config.p_close_mid_body:
            action = "close_mid_body"
        elif roll < config.p_close_before_body + config.p_close_mid_body + config.p_gc_drop:
            action = "gc_drop"
        else:
            action = "read"
        choices = LONG_TARGETS if action == "close_mid_body" else ALL_TARGETS
        target = choices[rng.randrange(len(choices))]
        close_pool = rng.random() < config.p_pool_close
        replace = rng.random() < config.p_pool_replace
        read_one = rng.random() < 0.5
        pool = pools.current
        closes = pools.closes
        outcome = ""
        error: Optional[BaseException] = None
        try:
            response = pool.handle_request(self.servers.request(target, self.timeouts))
            if close_pool:
                pools.close(replace)
            if response.status != 200:
                outcome = f"HTTP {response.status}"
                response.close()
            elif action == "read":
                try:
                    body = b"".join(response.iter_stream())
                finally:
                    response.close()
                if body != target.body:
                    outcome = f"body mismatch on {target.path}"
            elif action == "close_before_body":
                response.close()
            elif action == "close_mid_body":
                try:
                    next(response.iter_stream(), b"")
                finally:
                    response.close()
            else:
                chunks = response.iter_stream()
                if read_one:
                    next(chunks, b"")
                self.leave_to_gc(response, pool)
                del response, chunks
        except Exception as exc:  # classified: only the expected kinds are allowed
            outcome, error = type(exc).__name__, exc
        now = pools.closes
        clean = closes == now and closes[0] == closes[1]
        self.record(action, outcome, clean, error if outcome and error is not None else None)

    def worker(self, pools: _Pools, number: int) -> None:
        config = self.config
        rng = random.Random(config.seed * 100_003 + number)
        for _ in range(config.requests_per_thread):
            self.one_request(pools, rng)
            if rng.random() < config.p_gc_collect:
                gc.collect()
                with self.lock:
                    self.result.collects += 1


def _pool_busy(pool: httpcore.ConnectionPool) -> str:
    """'' when ``pool`` holds no request and no active connection, else what it holds."""
    text = repr(pool)
    match = _REPR.search(text)
    if match is None:
        return f"unparsable repr {text}"
    active = [c for c in pool.connections if not (c.is_idle() or c.is_closed())]
    if match.group(1) != "0" or match.group(2) != "0" or active:
        return f"{text} active connections {active}"
    return ""


def _fresh_request(pool: httpcore.ConnectionPool, servers: Servers, timeouts: Dict[str, float]) -> str:
    target = ALL_TARGETS[-1]
    try:
        response = pool.handle_request(servers.request(target, timeouts))
        try:
            body = b"".join(response.iter_stream())
        finally:
            response.close()
    except Exception as exc:
        return repr(exc)
    if response.status != 200 or body != target.body:
        return f"HTTP {response.status}, {len(body)} bytes"
    return "ok"


def _run(config: ThreadSoakConfig, result: ThreadSoakResult, servers: Servers) -> None:
    (servers.nginx.prefix / "docroot" / BIG_NAME).write_bytes(BIG_BODY)
    options = servers.pool_options()
    options["max_connections"] = config.max_connections
    run = _Run(config, result, servers)
    # A throwaway pool first, so that httpcore's bounded caches hold what the run puts there.
    with httpcore.ConnectionPool(**options) as primer:
        for target in ALL_TARGETS:
            response = primer.handle_request(servers.request(target, run.timeouts))
            try:
                response.read()
            finally:
                response.close()
        del primer, response
    result.objects_before = httpcore_objects()
    result.fds_before = open_fds()
    pools = _Pools(options)
    started = time.monotonic()
    threads = [
        threading.Thread(target=run.worker, args=(pools, n), name=f"threads-soak-{n}", daemon=True)
        for n in range(config.threads)
    ]
    for thread in threads:
        thread.start()
    deadline = started + config.hang_limit_s
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    alive = [thread.name for thread in threads if thread.is_alive()]
    if alive:
        result.hang = (
            f"{len(alive)} threads still running after {config.hang_limit_s:.0f}s "
            f"({', '.join(alive[:8])}...); pools: {[repr(p) for p in pools.all[-3:]]}\n" + thread_stacks()
        )
        raise ThreadSoakHang(result.hang)  # the pools stay open: their lock may be held
    result.elapsed_s = time.monotonic() - started
    gc.collect()
    result.pool_closes = pools.closes[1]
    result.pools_created = len(pools.all)
    for pool in pools.all:
        busy = _pool_busy(pool)
        if busy:
            result.pools_left_busy.append(busy)
    result.fresh_request = _fresh_request(pools.current, servers, run.timeouts)
    for pool in pools.all:
        pool.close()
    del pools, pool, threads
    for _ in range(FD_SETTLE_STEPS):
        gc.collect()
        if open_fds() <= result.fds_before:
            break
        time.sleep(FD_SETTLE_PAUSE_S)
    result.fds_after = open_fds()
    result.objects_after = httpcore_objects()
    for _ in range(int((config.read_timeout + 1.0) / OBJECT_SETTLE_PAUSE_S) + 1):
        if not result.leaked_objects():
            break
        time.sleep(OBJECT_SETTLE_PAUSE_S)
        result.objects_after = httpcore_objects()


def soak_servers(tls: bool = False) -> Servers:
    """nginx (and what requests to it need) for ``run_thread_soak``: use it as a context manager."""
    return Servers(SoakConfig(threads=True, tls=tls, restart_at=()))


def run_thread_soak(config: ThreadSoakConfig, servers: Optional[Servers] = None) -> ThreadSoakResult:
    """Run ``config`` against ``servers`` (started and stopped here when None); see the
    module docstring. Raises ``ThreadSoakHang`` (every thread's stack in its message) when a
    thread is still running after ``hang_limit_s``."""
    result = ThreadSoakResult(config)
    thresholds = gc.get_threshold()
    if config.gc_threshold is not None:
        gc.set_threshold(config.gc_threshold, thresholds[1], thresholds[2])
    try:
        if servers is None:
            with soak_servers(config.tls) as started:
                _run(config, result, started)
        else:
            if servers.config.uses_tls != config.tls:
                raise ValueError("the servers' TLS setting differs from the config's")
            _run(config, result, servers)
    finally:
        gc.set_threshold(*thresholds)
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.soak.threads", description=__doc__.split("\n")[0])
    defaults = ThreadSoakConfig()
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--requests-per-thread", type=int, default=defaults.requests_per_thread)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--max-connections", type=int, default=defaults.max_connections)
    parser.add_argument("--p-close-before-body", type=float, default=defaults.p_close_before_body)
    parser.add_argument("--p-close-mid-body", type=float, default=defaults.p_close_mid_body)
    parser.add_argument("--p-gc-drop", type=float, default=defaults.p_gc_drop)
    parser.add_argument("--p-gc-collect", type=float, default=defaults.p_gc_collect)
    parser.add_argument("--p-pool-close", type=float, default=defaults.p_pool_close)
    parser.add_argument("--p-pool-replace", type=float, default=defaults.p_pool_replace)
    parser.add_argument("--gc-threshold", type=int, default=defaults.gc_threshold, help="0: leave as is")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--read-timeout", type=float, default=defaults.read_timeout)
    parser.add_argument("--hang-limit", type=float, default=defaults.hang_limit_s)
    arguments = parser.parse_args(argv)
    config = ThreadSoakConfig(
        threads=arguments.threads,
        requests_per_thread=arguments.requests_per_thread,
        seed=arguments.seed,
        max_connections=arguments.max_connections,
        p_close_before_body=arguments.p_close_before_body,
        p_close_mid_body=arguments.p_close_mid_body,
        p_gc_drop=arguments.p_gc_drop,
        p_gc_collect=arguments.p_gc_collect,
        p_pool_close=arguments.p_pool_close,
        p_pool_replace=arguments.p_pool_replace,
        gc_threshold=arguments.gc_threshold or None,
        tls=arguments.tls,
        read_timeout=arguments.read_timeout,
        hang_limit_s=arguments.hang_limit,
    )
    location = pathlib.Path(str(httpcore.__file__)).parent
    print(f"httpcore {httpcore.__version__} from {location}; Python {sys.version.split()[0]}", flush=True)
    try:
        result = run_thread_soak(config)
    except ThreadSoakHang as exc:
        print(f"PROBLEM: hang\n{exc}")
        return 1
    return print_verdict(result.summary(), result.problems())


if __name__ == "__main__":
    sys.exit(main())
