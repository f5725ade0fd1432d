"""``python -m tools.soak``: the long load-and-soak run (the CI variant is a test).

    python -m tools.soak --requests 10000 --concurrency 500 --max-connections 100
                         [--threads] [--http2 | --tls] [--proxy] [--restart-at 0.5 ...]

Starts its own nginx (and tinyproxy with ``--proxy``) on 127.0.0.1, runs
``tools.soak.driver.run_soak`` and prints the summary: requests, successes, failures by
exception type, restarts, file descriptors before/after, live httpcore objects, resident
memory after the warm-up, at its peak and at the end, elapsed time. Exit status 0 when
``problems()`` is empty, 1 otherwise (each problem is printed).

httpcore comes from the environment when it is installed (a wheel); otherwise from this
checkout's ``libs/`` (pure Python), like ``python -m tools.demo``.
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import sys
from typing import List, Optional, Sequence

_ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
if importlib.util.find_spec("httpcore") is None:
    for _lib in sorted((_ROOT / "libs").iterdir()):
        if (_lib / "httpcore").is_dir():
            sys.path.insert(0, str(_lib))

import httpcore  # noqa: E402

from tools.soak.driver import SoakConfig, print_verdict, run_soak  # noqa: E402


def parse(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=500, help="asyncio tasks, or threads")
    parser.add_argument("--max-connections", type=int, default=100)
    parser.add_argument("--threads", action="store_true", help="ConnectionPool from threads")
    protocol = parser.add_mutually_exclusive_group()
    protocol.add_argument("--http2", action="store_true", help="HTTP/2 over TLS (ALPN h2)")
    protocol.add_argument("--tls", action="store_true", help="HTTP/1.1 over TLS")
    parser.add_argument("--proxy", action="store_true", help="through tinyproxy")
    parser.add_argument(
        "--restart-at",
        type=float,
        action="append",
        help="restart nginx when this fraction of the requests completed (repeatable; "
        "default 0.5; 0 for none)",
    )
    parser.add_argument("--warmup", type=int, default=None, help="default: the concurrency")
    parser.add_argument("--hang-limit", type=float, default=600.0, help="seconds (hang check)")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    arguments = parse(argv)
    fractions: List[float] = [0.5] if arguments.restart_at is None else arguments.restart_at
    config = SoakConfig(
        requests=arguments.requests,
        concurrency=arguments.concurrency,
        max_connections=arguments.max_connections,
        threads=arguments.threads,
        http2=arguments.http2,
        tls=arguments.tls,
        proxy=arguments.proxy,
        restart_at=tuple(f for f in fractions if f > 0),
        warmup=arguments.warmup,
        hang_limit_s=arguments.hang_limit,
    )
    location = pathlib.Path(str(httpcore.__file__)).parent
    print(f"httpcore {httpcore.__version__} from {location}; Python {sys.version.split()[0]}", flush=True)
    result = run_soak(config)
    strict = not config.http2 and not config.proxy
    return print_verdict(result.summary(), result.problems(strict_recovery=strict))

if __name__ == "__main__":
    sys.exit(main())
