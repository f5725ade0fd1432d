"""The soak driver: one pool under load, nginx restarted mid-run, and what must hold afterwards.

``run_soak(config)`` starts its own nginx (never a shared one: it restarts it) and, with
``proxy=True``, a tinyproxy in front of it; creates one ``AsyncConnectionPool`` (asyncio tasks)
or ``ConnectionPool`` (threads) limited to ``max_connections``; sends a warm-up batch, then
``requests`` GETs from ``concurrency`` workers; and returns a ``SoakResult`` whose
``problems()`` lists every broken expectation (empty: the run passed).

What a run does and checks:

- Each request fetches one of ``TARGETS`` in turn (a small static file, the same through
  nginx's chunked SSI filter, a 64 KiB file this driver writes into nginx's document root)
  and its body is compared byte for byte; with ``http2`` every response must be HTTP/2.
- Every request carries connect/read/write/pool timeouts, so no single request can wait
  for ever; the whole run is also bounded (``hang_limit_s``): past it the stacks of every
  task or thread are dumped to stderr and ``SoakHang`` is raised. This is a hang check, not a
  speed check: a healthy run ends long before it.
- When ``restart_at`` fractions of the requests have completed, nginx is stopped and started
  again on the same ports (``NginxServer.restart``), in a thread, while requests continue.
  A request that fails is recorded by exception type; only ``EXPECTED_EXCEPTIONS`` (the
  documented errors of a peer going away: refused connects, reads and writes on closed
  sockets, a server that disconnected) are allowed, plus, through the proxy, tinyproxy's own
  5xx answer while nginx is down. A worker whose request failed while nginx was down waits
  until it is back (bounded) before its next request, as a client backing off would; so the
  restart costs about one failure per worker, and most requests run after it.
- Recovery: the last ``tail`` requests (by start order) and one fresh request after the run
  must succeed; ``clean_failures`` counts failures of requests whose whole life lay outside
  every restart (the test requires zero for direct HTTP/1.1, where a pooled connection closed
  by the old nginx is always noticed before reuse).
- Leaks: the open file descriptors of this process (``/proc/self/fd``), counted before the
  pool is created and after it is closed, must be equal; the live objects of httpcore's
  types (``gc.get_objects``, by type) must return to the count before the pool after it is
  closed, and no ``Request``/``Response`` may be alive once the run is over (pool still open):
  a request record or response kept per request would show in both. Resident memory
  (``/proc/self/statm``) is sampled after the warm-up, during the run (peak) and at the end,
  and only reported: RSS moves with the allocator, object counts do not.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import gc
import hashlib
import os
import ssl
import sys
import threading
import time
import traceback
from typing import Any, Callable, Counter, Dict, List, Mapping, Optional, Tuple

import httpcore
from tools.servers.nginx import SMALL_BODY, NginxServer
from tools.servers.tinyproxy import TinyproxyServer

# A 64 KiB file (several reads per response) written into nginx's document root.
MEDIUM_NAME = "soak-64k.bin"
MEDIUM_BODY = b"".join(hashlib.sha256(b"soak %d" % i).digest() for i in range(2048))


@dataclasses.dataclass(frozen=True)
class Target:
    path: str
    body: bytes


TARGETS = (
    Target("/small.txt", SMALL_BODY),
    Target("/chunked/small.txt", SMALL_BODY),
    Target("/" + MEDIUM_NAME, MEDIUM_BODY),
)

# The documented exceptions (API.md, docs/exceptions.md) of a server going away under a
# request: a refused connect, a read or write on a closed or reset socket, a server that
# closed without (a whole) response. Anything else (a timeout included) is a problem.
EXPECTED_EXCEPTIONS: Tuple[type, ...] = (
    httpcore.ConnectError,
    httpcore.ReadError,
    httpcore.WriteError,
    httpcore.RemoteProtocolError,
)
# Through the proxy: a CONNECT refused while the origin is down is a ProxyError, and a
# forwarded request gets tinyproxy's own error page.
EXPECTED_PROXY_EXCEPTIONS: Tuple[type, ...] = (httpcore.ProxyError,)
EXPECTED_PROXY_STATUSES = frozenset({500, 502, 503, 504})
# Exceptions whose message is kept (the first few of each unexpected kind).
MAX_EXAMPLES = 5
# After pool.close(), how often to let the event loop finish closing transports before
# the file descriptors are counted (bounded; asyncio closes sockets on a later iteration).
FD_SETTLE_STEPS = 200
FD_SETTLE_PAUSE_S = 0.01
# After close, objects may stay referenced by a loop timer until it fires (at most a
# timeout later): the live httpcore objects are counted again, this often, until they are
# back to the count before the pool or the longest timeout (plus a second) has passed.
OBJECT_SETTLE_PAUSE_S = 0.25
# Counted as per-request objects: none may be alive once every request is done.
PER_REQUEST_TYPES = ("Request", "Response")


class SoakHang(RuntimeError):
    """The run did not end within ``hang_limit_s`` (stacks were dumped to stderr)."""


@dataclasses.dataclass(frozen=True)
class SoakConfig:
    requests: int = 10_000
    concurrency: int = 500
    max_connections: int = 100
    threads: bool = False  # ConnectionPool and threads, else AsyncConnectionPool and asyncio
    http2: bool = False  # nginx's h2 listener (TLS, ALPN h2)
    tls: bool = False  # HTTPS (HTTP/1.1); through the proxy: a CONNECT tunnel
    proxy: bool = False  # through tinyproxy
    restart_at: Tuple[float, ...] = (0.5,)  # fractions of completed requests; () = none
    warmup: Optional[int] = None  # requests before the measured run; default: concurrency
    connect_timeout: float = 10.0
    read_timeout: float = 10.0
    write_timeout: float = 10.0
    pool_timeout: float = 60.0
    hang_limit_s: float = 600.0
    sample_every: int = 100  # completions between RSS samples
    tail: Optional[int] = None  # last requests that must succeed; default: min(concurrency, 10%)

    def __post_init__(self) -> None:
        if self.requests < 1 or self.concurrency < 1 or self.max_connections < 1:
            raise ValueError("requests, concurrency and max_connections must be positive")
        for fraction in self.restart_at:
            if not 0.0 < fraction < 1.0:
                raise ValueError(f"restart_at fractions must lie in (0, 1), got {fraction}")

    @property
    def warmup_requests(self) -> int:
        return self.concurrency if self.warmup is None else self.warmup

    @property
    def tail_requests(self) -> int:
        if self.tail is not None:
            return min(self.tail, self.requests)
        return max(1, min(self.concurrency, self.requests // 10))

    @property
    def uses_tls(self) -> bool:
        return self.tls or self.http2

    def describe(self) -> str:
        kind = "threads" if self.threads else "asyncio"
        protocol = "HTTP/2 (TLS, ALPN)" if self.http2 else ("HTTP/1.1 TLS" if self.tls else "HTTP/1.1")
        via = " via tinyproxy" if self.proxy else ""
        return (
            f"{self.requests} requests, concurrency {self.concurrency} ({kind}), "
            f"max_connections {self.max_connections}, {protocol}{via}, "
            f"nginx restarts at {list(self.restart_at)}"
        )


@dataclasses.dataclass
class SoakResult:
    config: SoakConfig
    successes: int = 0
    failures: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    unexpected: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    examples: Dict[str, List[str]] = dataclasses.field(default_factory=dict)
    warmup_failures: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    http_versions: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    clean_failures: int = 0
    tail_failures: int = 0
    restarts: int = 0
    restart_seconds: List[float] = dataclasses.field(default_factory=list)
    fresh_request: str = "not run"
    fds_before: int = -1
    fds_after: int = -1
    objects_before: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    objects_idle: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    objects_after: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    objects_settle_s: float = 0.0  # waited after close for the counts to come back
    connections_idle: int = 0
    rss_warm: int = 0
    rss_peak: int = 0
    rss_tenths: List[int] = dataclasses.field(default_factory=list)  # every tenth of the run
    # Python's allocated memory blocks (sys.getallocatedblocks) every tenth: flat while RSS
    # grows means the growth is the C allocator's (many threads' arenas), not objects kept.
    blocks_tenths: List[int] = dataclasses.field(default_factory=list)
    rss_final: int = 0
    elapsed_s: float = 0.0

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def leaked_objects(self) -> Dict[str, int]:
        """httpcore types with more live objects after close than before the pool."""
        return {
            name: count - self.objects_before.get(name, 0)
            for name, count in sorted(self.objects_after.items())
            if count > self.objects_before.get(name, 0)
        }

    def live_per_request_objects(self) -> Dict[str, int]:
        """``Request``/``Response`` objects alive once the run is over, beyond those alive
        before the pool (a test session may hold some of its own, e.g. in a kept exception)."""
        return {
            name: count - self.objects_before.get(name, 0)
            for name, count in sorted(self.objects_idle.items())
            if name.rsplit(".", 1)[-1] in PER_REQUEST_TYPES and count > self.objects_before.get(name, 0)
        }

    def problems(self, *, strict_recovery: bool = False) -> List[str]:
        """Every broken expectation. ``strict_recovery``: no request that lay outside every
        restart may fail. No ``Request``/``Response`` of the run may still be alive once it is
        over (pool open)."""
        config = self.config
        found: List[str] = []
        done = self.successes + self.failed
        if done != config.requests:
            found.append(f"{done} requests accounted for, expected {config.requests}")
        if self.warmup_failures:
            found.append(f"warm-up failures (nginx not restarted yet): {dict(self.warmup_failures)}")
        if self.unexpected:
            found.append(f"unexpected failures: {dict(self.unexpected)} e.g. {self.examples}")
        if self.restarts != len(config.restart_at):
            found.append(f"{self.restarts} nginx restarts, expected {len(config.restart_at)}")
        if self.tail_failures:
            found.append(
                f"{self.tail_failures} of the last {config.tail_requests} requests failed "
                "(the pool did not recover)"
            )
        if strict_recovery and self.clean_failures:
            found.append(f"{self.clean_failures} requests failed outside every restart")
        if self.fresh_request != "ok":
            found.append(f"a fresh request after the run: {self.fresh_request}")
        if config.http2 and set(self.http_versions) - {"HTTP/2"}:
            found.append(f"not all responses were HTTP/2: {dict(self.http_versions)}")
        if self.fds_after != self.fds_before:
            found.append(f"open file descriptors: {self.fds_before} before, {self.fds_after} after")
        if self.leaked_objects():
            found.append(f"httpcore objects alive after close (beyond the start): {self.leaked_objects()}")
        if self.live_per_request_objects():
            found.append(f"per-request objects alive after the run: {self.live_per_request_objects()}")
        return found

    def summary(self) -> str:
        mib = 1024 * 1024
        failures = ", ".join(f"{name} {count}" for name, count in self.failures.most_common()) or "none"
        restarts = ", ".join(f"{s:.2f}s" for s in self.restart_seconds)
        lines = [
            f"run:            {self.config.describe()}",
            f"requests:       {self.successes + self.failed} ({self.successes} ok, {self.failed} failed)",
            f"failures:       {failures}",
            f"unexpected:     {dict(self.unexpected) or 'none'}",
            f"outside restart failures: {self.clean_failures}; "
            f"last {self.config.tail_requests} failures: {self.tail_failures}",
            f"http versions:  {dict(self.http_versions)}",
            f"restarts:       {self.restarts} ({restarts})",
            f"fresh request:  {self.fresh_request}",
            f"fds:            {self.fds_before} before, {self.fds_after} after",
            f"httpcore objs:  {sum(self.objects_before.values())} before, "
            f"{sum(self.objects_idle.values())} idle with {self.connections_idle} connections, "
            f"{sum(self.objects_after.values())} after close (settled after {self.objects_settle_s:.2f}s); "
            f"Request/Response alive after the run: {sum(self.live_per_request_objects().values())}",
            f"rss:            {self.rss_warm / mib:.1f} MiB after warm-up, peak {self.rss_peak / mib:.1f} MiB, "
            f"final {self.rss_final / mib:.1f} MiB (growth {(self.rss_final - self.rss_warm) / mib:+.1f} MiB)",
            "rss by tenth:   " + " ".join(f"{rss / mib:.0f}" for rss in self.rss_tenths) + " MiB",
            "python blocks:  " + " ".join(f"{blocks / 1000:.0f}" for blocks in self.blocks_tenths)
            + " thousand, by tenth",
            f"elapsed:        {self.elapsed_s:.1f}s",
        ]
        return "\n".join(lines)


# --- measurements ----------------------------------------------------------------------------


def open_fds() -> int:
    """Open file descriptors of this process."""
    directory = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    return len(os.listdir(directory))


def rss_bytes() -> int:
    """Resident set size of this process (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * int(os.sysconf("SC_PAGE_SIZE"))


def print_verdict(summary: str, problems: List[str]) -> int:
    """Print a run's summary, its problems and the verdict; the exit status (1: problems)."""
    print(summary)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("verdict:        " + ("FAIL" if problems else "ok"))
    return 1 if problems else 0


def httpcore_objects() -> Counter[str]:
    """Live (gc-tracked) objects whose type comes from httpcore, by qualified type name."""
    gc.collect()
    counts: Counter[str] = collections.Counter()
    for obj in gc.get_objects():
        kind = type(obj)
        module = getattr(kind, "__module__", None)
        if isinstance(module, str) and (module == "httpcore" or module.startswith("httpcore.")):
            counts[f"{module}.{kind.__qualname__}"] += 1
    return counts


# --- servers ---------------------------------------------------------------------------------


class Servers:
    """This run's nginx (and tinyproxy), and the request URLs and pool options for them."""

    def __init__(self, config: SoakConfig) -> None:
        self.config = config
        self.nginx = NginxServer()
        self.proxy: Optional[TinyproxyServer] = TinyproxyServer() if config.proxy else None
        self._port: Optional[int] = None

    def __enter__(self) -> Servers:
        try:
            self.nginx.start()
            (self.nginx.prefix / "docroot" / MEDIUM_NAME).write_bytes(MEDIUM_BODY)
            self.port()
            if self.proxy is not None:
                self.proxy.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        try:
            if self.proxy is not None:
                self.proxy.stop()
        finally:
            self.nginx.stop()

    def restart_nginx(self) -> float:
        started = time.monotonic()
        self.nginx.restart()
        return time.monotonic() - started

    def port(self) -> int:
        """The nginx port requests go to (kept: ``nginx.ports`` is unset during a restart)."""
        if self._port is None:
            ports = self.nginx.ports
            if self.config.http2:
                self._port = ports.h2
            else:
                self._port = ports.https if self.config.tls else ports.http
        return self._port

    def request(self, target: Target, timeouts: Dict[str, float]) -> httpcore.Request:
        """A GET of ``target`` (``Request`` adds no Host header: this does)."""
        port = self.port()
        return httpcore.Request(
            "GET",
            self.nginx.url(target.path, port=port, tls=self.config.uses_tls),
            headers=[(b"Host", f"127.0.0.1:{port}".encode("ascii"))],
            extensions={"timeout": timeouts},
        )

    def pool_options(self) -> Dict[str, Any]:
        config = self.config
        ssl_context: Optional[ssl.SSLContext] = None
        if config.uses_tls:
            ssl_context = self.nginx.client_ssl_context()
        options: Dict[str, Any] = {
            "ssl_context": ssl_context,
            "max_connections": config.max_connections,
            "http1": True,
            "http2": config.http2,
        }
        if self.proxy is not None:
            options["proxy"] = httpcore.Proxy(self.proxy.url)
        return options


# --- bookkeeping shared by the async and the threaded runs -----------------------------------


Snapshot = Tuple[int, bool]  # (restart epoch, restarting) when a request started


class _Book:
    """Counters of one run; ``lock`` makes it safe from threads (harmless under asyncio)."""

    def __init__(self, config: SoakConfig, result: SoakResult, on_threshold: Callable[[], None]) -> None:
        self.config = config
        self.result = result
        self.on_threshold = on_threshold
        self.lock = threading.Lock()
        self.next_index = 0
        self.completed = 0
        self.epoch = 0
        self.restarting = False
        self.thresholds = sorted({max(1, int(f * config.requests)) for f in config.restart_at})
        if len(self.thresholds) != len(config.restart_at):
            raise ValueError("restart_at fractions must fall on different requests")
        self.tail_from = config.requests - config.tail_requests
        # RSS is also kept at every tenth of the run (a multiple of sample_every).
        self.tenth = max(1, config.requests // 10 // config.sample_every) * config.sample_every
        self.timeouts = {
            "connect": config.connect_timeout,
            "read": config.read_timeout,
            "write": config.write_timeout,
            "pool": config.pool_timeout,
        }

    def take(self) -> Optional[Tuple[int, Snapshot]]:
        with self.lock:
            index = self.next_index
            if index >= self.config.requests:
                return None
            self.next_index += 1
            return index, (self.epoch, self.restarting)

    def begin_restart(self) -> None:
        with self.lock:
            self.epoch += 1
            self.restarting = True

    def end_restart(self, seconds: float) -> None:
        with self.lock:
            self.restarting = False
            self.result.restarts += 1
            self.result.restart_seconds.append(seconds)

    def finish(self, index: int, snapshot: Snapshot, outcome: str, version: str) -> bool:
        """Record one request (``outcome`` "" = success); True if it failed during a restart."""
        result = self.result
        hit_threshold = False
        with self.lock:
            clean = snapshot == (self.epoch, False) and not self.restarting
            if outcome:
                result.failures[outcome] += 1
                if clean:
                    result.clean_failures += 1
                if index >= self.tail_from:
                    result.tail_failures += 1
            else:
                result.successes += 1
                result.http_versions[version] += 1
            self.completed += 1
            if self.completed % self.config.sample_every == 0:
                rss = rss_bytes()
                result.rss_peak = max(result.rss_peak, rss)
                if self.completed % self.tenth == 0:
                    result.rss_tenths.append(rss)
                    result.blocks_tenths.append(sys.getallocatedblocks())
            hit_threshold = self.completed in self.thresholds
            during_restart = bool(outcome) and not clean
        if hit_threshold:
            self.on_threshold()
        return during_restart


def _object_settle_steps(config: SoakConfig) -> int:
    longest = max(config.connect_timeout, config.read_timeout, config.write_timeout) + 1.0
    return int(longest / OBJECT_SETTLE_PAUSE_S) + 1


def _priming_book(config: SoakConfig) -> _Book:
    """One request per target, one at a time, before anything is counted."""
    primed = SoakResult(dataclasses.replace(config, requests=len(TARGETS), concurrency=1, restart_at=()))
    return _Book(primed.config, primed, lambda: None)


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


def _set_thread_event() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


def _classify_exception(config: SoakConfig, result: SoakResult, exc: BaseException) -> str:
    name = type(exc).__name__
    allowed = EXPECTED_EXCEPTIONS + (EXPECTED_PROXY_EXCEPTIONS if config.proxy else ())
    if not isinstance(exc, allowed):
        result.unexpected[name] += 1
        examples = result.examples.setdefault(name, [])
        if len(examples) < MAX_EXAMPLES:
            examples.append(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
    return name


def _classify_response(config: SoakConfig, result: SoakResult, status: int, body: bytes, target: Target) -> str:
    if status == 200:
        if body == target.body:
            return ""
        label = f"body mismatch on {target.path}"
        result.unexpected[label] += 1
        return label
    if config.proxy and status in EXPECTED_PROXY_STATUSES:
        return f"proxy HTTP {status}"
    label = f"HTTP {status} on {target.path}"
    result.unexpected[label] += 1
    return label


def _version(extensions: Mapping[str, Any]) -> str:
    value = extensions.get("http_version", b"?")
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


# --- asyncio ---------------------------------------------------------------------------------


async def _request_async(
    pool: httpcore.AsyncConnectionPool, servers: Servers, book: _Book, index: int
) -> Tuple[str, str]:
    """GET one target and check it: (outcome, http version); outcome "" = success."""
    config, result = book.config, book.result
    target = TARGETS[index % len(TARGETS)]
    request = servers.request(target, book.timeouts)
    try:
        response = await pool.handle_async_request(request)
        try:
            chunks = [chunk async for chunk in response.aiter_stream()]
        finally:
            await response.aclose()
    except Exception as exc:  # every exception is classified; unexpected ones fail the run
        return _classify_exception(config, result, exc), ""
    body = b"".join(chunks)
    return _classify_response(config, result, response.status, body, target), _version(response.extensions)


async def _batch_async(
    pool: httpcore.AsyncConnectionPool,
    servers: Servers,
    book: _Book,
    back_up: asyncio.Event,
) -> None:
    """``concurrency`` workers taking requests from ``book`` until none are left."""

    async def worker() -> None:
        for _ in range(book.config.requests + 1):  # bounded: one request per turn
            taken = book.take()
            if taken is None:
                return
            index, snapshot = taken
            outcome, version = await _request_async(pool, servers, book, index)
            if book.finish(index, snapshot, outcome, version):
                await back_up.wait()  # nginx is down: wait for it (the run is bounded)

    await asyncio.gather(*(worker() for _ in range(book.config.concurrency)))


async def _restarter_async(servers: Servers, book: _Book, triggers: asyncio.Queue[None], back_up: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for _ in book.thresholds:
        await triggers.get()
        back_up.clear()
        book.begin_restart()
        try:
            seconds = await loop.run_in_executor(None, servers.restart_nginx)
        finally:
            back_up.set()
        book.end_restart(seconds)


def _dump_tasks(tasks: List[asyncio.Task[Any]], what: str) -> None:
    print(f"\n=== soak hang: {what}; stacks of the {len(tasks)} unfinished tasks", file=sys.stderr)
    for task in tasks[:20]:
        task.print_stack(file=sys.stderr)
    _dump_threads()


def thread_stacks() -> str:
    """Every thread's stack, as text (for a hang report)."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    parts: List[str] = []
    for ident, frame in sys._current_frames().items():
        parts.append(f"--- thread {names.get(ident, ident)}\n")
        parts.extend(traceback.format_stack(frame))
    return "".join(parts)


def _dump_threads() -> None:
    """Every thread's stack to ``sys.stderr`` (also when it is pytest's capture, which has
    no file descriptor for ``faulthandler``)."""
    print(thread_stacks(), end="", file=sys.stderr)


async def _bounded(awaitable: Any, limit_s: float, what: str) -> Any:
    """Await ``awaitable``; past ``limit_s`` dump its stack, cancel it and raise SoakHang."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=limit_s)
    if task in done:
        return task.result()
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    _dump_tasks(pending, what)
    task.cancel()
    await asyncio.wait({task}, timeout=10.0)
    raise SoakHang(f"{what} did not finish within {limit_s:.0f}s (stacks on stderr)")


async def _run_async(servers: Servers, result: SoakResult) -> None:
    config = result.config
    deadline = time.monotonic() + config.hang_limit_s

    def remaining() -> float:
        return max(1.0, deadline - time.monotonic())

    # A throwaway pool first, so that httpcore's bounded caches (e.g. of request heads)
    # already hold what this run puts in them when the objects are counted.
    primer = httpcore.AsyncConnectionPool(**servers.pool_options())
    try:
        await _bounded(_batch_async(primer, servers, _priming_book(config), _set_event()), remaining(), "priming")
    finally:
        await _bounded(primer.aclose(), remaining(), "pool.aclose()")
        del primer
    result.objects_before = httpcore_objects()
    result.fds_before = open_fds()
    pool = httpcore.AsyncConnectionPool(**servers.pool_options())
    try:
        warm = SoakResult(dataclasses.replace(config, requests=max(1, config.warmup_requests), restart_at=()))
        always_up = asyncio.Event()
        always_up.set()
        warm_book = _Book(warm.config, warm, lambda: None)
        await _bounded(_batch_async(pool, servers, warm_book, always_up), remaining(), "the warm-up")
        result.warmup_failures = warm.failures
        gc.collect()
        result.rss_warm = result.rss_peak = rss_bytes()

        triggers: asyncio.Queue[None] = asyncio.Queue()
        back_up = asyncio.Event()
        back_up.set()
        book = _Book(config, result, lambda: triggers.put_nowait(None))
        started = time.monotonic()

        async def run() -> None:
            await asyncio.gather(
                _batch_async(pool, servers, book, back_up),
                _restarter_async(servers, book, triggers, back_up),
            )

        await _bounded(run(), remaining(), "the run")
        result.elapsed_s = time.monotonic() - started

        result.objects_idle = httpcore_objects()
        result.connections_idle = len(pool.connections)
        fresh = SoakResult(dataclasses.replace(config, requests=1, restart_at=()))
        fresh_book = _Book(fresh.config, fresh, lambda: None)
        outcome, _ = await _bounded(_request_async(pool, servers, fresh_book, 0), remaining(), "a fresh request")
        result.fresh_request = outcome or "ok"
    finally:
        await _bounded(pool.aclose(), remaining(), "pool.aclose()")
        del pool
    for _ in range(FD_SETTLE_STEPS):
        if open_fds() <= result.fds_before:
            break
        await asyncio.sleep(FD_SETTLE_PAUSE_S)
    result.fds_after = open_fds()
    result.objects_after = httpcore_objects()
    for _ in range(_object_settle_steps(config)):
        if not result.leaked_objects():
            break
        await asyncio.sleep(OBJECT_SETTLE_PAUSE_S)
        result.objects_after = httpcore_objects()
        result.objects_settle_s += OBJECT_SETTLE_PAUSE_S
    result.rss_final = rss_bytes()


# --- threads ---------------------------------------------------------------------------------


def _request_sync(pool: httpcore.ConnectionPool, servers: Servers, book: _Book, index: int) -> Tuple[str, str]:
    """GET one target and check it: (outcome, http version); outcome "" = success."""
    config, result = book.config, book.result
    target = TARGETS[index % len(TARGETS)]
    request = servers.request(target, book.timeouts)
    try:
        response = pool.handle_request(request)
        try:
            chunks = list(response.iter_stream())
        finally:
            response.close()
    except Exception as exc:  # every exception is classified; unexpected ones fail the run
        return _classify_exception(config, result, exc), ""
    body = b"".join(chunks)
    return _classify_response(config, result, response.status, body, target), _version(response.extensions)


def _join_bounded(threads: List[threading.Thread], deadline: float, what: str) -> None:
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    alive = [thread for thread in threads if thread.is_alive()]
    if alive:
        print(f"\n=== soak hang: {what}; {len(alive)} threads still running", file=sys.stderr)
        _dump_threads()
        raise SoakHang(f"{what}: {len(alive)} threads still running (stacks on stderr)")


def _batch_sync(
    pool: httpcore.ConnectionPool,
    servers: Servers,
    book: _Book,
    back_up: threading.Event,
    deadline: float,
) -> None:
    def worker() -> None:
        for _ in range(book.config.requests + 1):  # bounded: one request per turn
            taken = book.take()
            if taken is None:
                return
            index, snapshot = taken
            outcome, version = _request_sync(pool, servers, book, index)
            if book.finish(index, snapshot, outcome, version):
                back_up.wait(timeout=max(0.0, deadline - time.monotonic()))

    threads = [
        threading.Thread(target=worker, name=f"soak-{n}", daemon=True) for n in range(book.config.concurrency)
    ]
    for thread in threads:
        thread.start()
    _join_bounded(threads, deadline, "the run")


def _run_sync(servers: Servers, result: SoakResult) -> None:
    config = result.config
    deadline = time.monotonic() + config.hang_limit_s
    # A throwaway pool first (see _run_async).
    primer = httpcore.ConnectionPool(**servers.pool_options())
    try:
        _batch_sync(primer, servers, _priming_book(config), _set_thread_event(), deadline)
    finally:
        primer.close()
        del primer
    result.objects_before = httpcore_objects()
    result.fds_before = open_fds()
    pool = httpcore.ConnectionPool(**servers.pool_options())
    try:
        warm = SoakResult(dataclasses.replace(config, requests=max(1, config.warmup_requests), restart_at=()))
        always_up = threading.Event()
        always_up.set()
        _batch_sync(pool, servers, _Book(warm.config, warm, lambda: None), always_up, deadline)
        result.warmup_failures = warm.failures
        gc.collect()
        result.rss_warm = result.rss_peak = rss_bytes()

        back_up = threading.Event()
        back_up.set()
        restart_errors: List[BaseException] = []

        def restart() -> None:
            # Run by the worker whose request reached the threshold, at once: a restarter
            # thread of its own could wait many switch intervals for the GIL among the busy
            # workers, and the restart then fall at the very end of the run.
            try:
                back_up.clear()
                book.begin_restart()
                try:
                    seconds = servers.restart_nginx()
                finally:
                    back_up.set()
                book.end_restart(seconds)
            except BaseException as exc:  # reported below
                restart_errors.append(exc)

        book = _Book(config, result, restart)
        started = time.monotonic()
        _batch_sync(pool, servers, book, back_up, deadline)
        result.elapsed_s = time.monotonic() - started
        if restart_errors:
            raise restart_errors[0]

        result.objects_idle = httpcore_objects()
        result.connections_idle = len(pool.connections)
        fresh = SoakResult(dataclasses.replace(config, requests=1, restart_at=()))
        outcome, _ = _request_sync(pool, servers, _Book(fresh.config, fresh, lambda: None), 0)
        result.fresh_request = outcome or "ok"
    finally:
        pool.close()
        del pool
    for _ in range(FD_SETTLE_STEPS):
        if open_fds() <= result.fds_before:
            break
        time.sleep(FD_SETTLE_PAUSE_S)
    result.fds_after = open_fds()
    result.objects_after = httpcore_objects()
    for _ in range(_object_settle_steps(config)):
        if not result.leaked_objects():
            break
        time.sleep(OBJECT_SETTLE_PAUSE_S)
        result.objects_after = httpcore_objects()
        result.objects_settle_s += OBJECT_SETTLE_PAUSE_S
    result.rss_final = rss_bytes()


# --- entry point -----------------------------------------------------------------------------


def run_soak(config: SoakConfig) -> SoakResult:
    """Start the servers, run ``config``, stop the servers; see the module docstring."""
    result = SoakResult(config)
    with Servers(config) as servers:
        if config.threads:
            _run_sync(servers, result)
        else:
            asyncio.run(_run_async(servers, result))
    return result
