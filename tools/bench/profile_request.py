"""Profile the per-request path: N sequential ``pool.request("GET", url)`` on one connection.

The S1 scenario of the benchmark, reduced to what a profiler needs: one process, one pool,
one keep-alive connection to a loopback nginx, and the client CPU time per request.

    python -m tools.bench.profile_request serve                 # nginx; prints the URL
    python -m tools.bench.profile_request run --url URL [--mode sync|async] [-n N]
        [--layer pool|connection] [--profile cprofile] [--libs] [--module httpcore]

``run`` without ``--url`` starts its own nginx (needs ``trustme``, as the tests do).
``--libs`` puts this checkout's ``libs/*`` first on ``sys.path`` (the pure form from the
source tree); without it the installed ``httpcore`` is used (the compiled wheel, say).
``--profile cprofile`` prints the functions with the most own time (compiled functions
are not seen by cProfile: their time shows in their callers). For repeatable figures on a
shared machine, run under ``valgrind --tool=callgrind`` with two values of ``-n`` and
divide the difference of the instruction counts by the difference of the counts.

Output: one line ``<module> <form> <mode>: <µs CPU>/request, <µs wall>/request`` (CPU is
``time.process_time``: this process only, the server excluded; the kernel's share
from ``getrusage``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import pathlib
import pstats
import resource
import signal
import sys
import time
from typing import Any, Callable, Dict, List, Optional

_TOP = pathlib.Path(__file__).resolve().parent.parent.parent
# S1's body: 2000 bytes, as in the benchmark.
BODY_NAME = "s1-2000.txt"
BODY = b"x" * 1999 + b"\n"
_TIMEOUT_S = 30.0
_EXTENSIONS: Dict[str, Any] = {
    "timeout": {"connect": _TIMEOUT_S, "read": _TIMEOUT_S, "write": _TIMEOUT_S, "pool": _TIMEOUT_S}
}


def _start_server() -> Any:
    from tools.servers.nginx import NginxServer

    server = NginxServer().start()
    (server.prefix / "docroot" / BODY_NAME).write_bytes(BODY)
    return server


def _form(module: Any) -> str:
    # "compiled" when a hot module is an extension module; "other" for another project.
    try:
        codec = importlib.import_module(module.__name__ + "._protocols._http11._parser")
    except ImportError:
        return "other"
    origin = str(getattr(codec, "__file__", ""))
    return "compiled" if origin.endswith((".so", ".pyd")) else "pure"


# What ``request()`` is called on: "pool" (S1), or "connection" (an HTTPConnection to the
# URL's origin, without the pool: the difference is what the pool costs).
_LAYER = ["pool"]


def _interface(module: Any, url: str, is_async: bool) -> Any:
    if _LAYER[0] == "pool":
        return module.AsyncConnectionPool() if is_async else module.ConnectionPool()
    origin = module.URL(url).origin
    return module.AsyncHTTPConnection(origin) if is_async else module.HTTPConnection(origin)


def _system_time(before: Any) -> float:
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_stime - before.ru_stime)


def _measure_sync(module: Any, url: str, count: int, warmup: int, profiler: Optional[cProfile.Profile]) -> List[float]:
    with _interface(module, url, False) as pool:
        for _ in range(warmup):
            pool.request("GET", url, extensions=_EXTENSIONS)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = time.process_time()
        wall = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        for _ in range(count):
            response = pool.request("GET", url, extensions=_EXTENSIONS)
        if profiler is not None:
            profiler.disable()
        result = [time.process_time() - cpu, time.perf_counter() - wall, _system_time(usage)]
        if len(response.content) != len(BODY):
            raise RuntimeError(f"unexpected body of {len(response.content)} bytes")
    return result


async def _measure_async_main(
    module: Any, url: str, count: int, warmup: int, profiler: Optional[cProfile.Profile]
) -> List[float]:
    async with _interface(module, url, True) as pool:
        for _ in range(warmup):
            await pool.request("GET", url, extensions=_EXTENSIONS)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = time.process_time()
        wall = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        for _ in range(count):
            response = await pool.request("GET", url, extensions=_EXTENSIONS)
        if profiler is not None:
            profiler.disable()
        result = [time.process_time() - cpu, time.perf_counter() - wall, _system_time(usage)]
        if len(response.content) != len(BODY):
            raise RuntimeError(f"unexpected body of {len(response.content)} bytes")
    return result


def _measure_async(module: Any, url: str, count: int, warmup: int, profiler: Optional[cProfile.Profile]) -> List[float]:
    return asyncio.run(_measure_async_main(module, url, count, warmup, profiler))


_MODES: Dict[str, Callable[[Any, str, int, int, Optional[cProfile.Profile]], List[float]]] = {
    "sync": _measure_sync,
    "async": _measure_async,
}


def run(arguments: argparse.Namespace) -> None:
    if arguments.libs:
        for lib in sorted((_TOP / "libs").iterdir(), reverse=True):
            if (lib / "httpcore").is_dir():
                sys.path.insert(0, str(lib))
    module = importlib.import_module(arguments.module)
    _LAYER[0] = arguments.layer
    server = None
    url: str = arguments.url
    if not url:
        server = _start_server()
        url = server.url("/" + BODY_NAME)
    try:
        profiler = cProfile.Profile() if arguments.profile == "cprofile" else None
        cpu, wall, system = _MODES[arguments.mode](module, url, arguments.n, arguments.warmup, profiler)
    finally:
        if server is not None:
            server.stop()
    per = 1e6 / arguments.n
    print(
        f"{arguments.module} {_form(module)} {arguments.mode} {arguments.layer}: "
        f"{cpu * per:.1f} µs CPU/request ({system * per:.1f} in the kernel), "
        f"{wall * per:.1f} µs wall/request",
        flush=True,
    )
    if profiler is not None:
        stats = pstats.Stats(profiler)
        stats.sort_stats(arguments.sort).print_stats(arguments.top)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def serve() -> None:
    # SIGTERM (``kill PID``, what a background job gets) stops nginx as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    server = _start_server()
    try:
        print(server.url("/" + BODY_NAME), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.profile_request")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="start nginx with the S1 body and print its URL")
    runner = commands.add_parser("run", help="time (and optionally profile) N requests")
    runner.add_argument("--url", default="", help="default: start an nginx of our own")
    runner.add_argument("--mode", choices=sorted(_MODES), default="sync")
    runner.add_argument("-n", type=int, default=5000)
    runner.add_argument("--layer", choices=["pool", "connection"], default="pool")
    runner.add_argument("--warmup", type=int, default=200)
    runner.add_argument("--module", default="httpcore")
    runner.add_argument("--libs", action="store_true", help="import from this checkout's libs/")
    runner.add_argument("--profile", choices=["none", "cprofile"], default="none")
    runner.add_argument("--sort", default="tottime")
    runner.add_argument("--top", type=int, default=30)
    arguments = parser.parse_args(argv)
    if arguments.command == "serve":
        serve()
    else:
        run(arguments)


if __name__ == "__main__":
    main()
