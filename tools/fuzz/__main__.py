"""``python -m tools.fuzz [--runs N] [--max-seconds S] [corpus_dir ...]``: the atheris run.

Needs atheris (not a project dependency): tools/fuzz.sh makes a virtualenv with it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pathlib
import sys
import time
from typing import Any, List

SEEDS = pathlib.Path(__file__).resolve().parent / "seeds"


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fuzz")
    parser.add_argument("--runs", type=int, default=-1, help="inputs to run (-1: no limit)")
    parser.add_argument("--max-seconds", type=int, default=0, help="time limit (0: none)")
    parser.add_argument("corpus", nargs="*", help="corpus directories (default: the seeds)")
    args, extra = parser.parse_known_args(argv)
    try:
        atheris: Any = importlib.import_module("atheris")
    except ImportError:
        print(
            "atheris is not installed in this Python; run tools/fuzz.sh, which makes a "
            "virtualenv with atheris and runs this fuzzer.",
            file=sys.stderr,
        )
        return 2
    with atheris.instrument_imports():
        import h11  # noqa: F401

        from httpcore._protocols import _http11  # noqa: F401

        from tools.fuzz import target
    executed = [0]
    runs = args.runs
    deadline = time.monotonic() + args.max_seconds if args.max_seconds else None

    def finish() -> None:
        print(f"tools.fuzz: {executed[0]} inputs executed", flush=True)
        sys.stderr.flush()
        os._exit(0)

    def one(data: bytes) -> None:
        # The limits are enforced here (libFuzzer exits from C, past Python's atexit), so the
        # count is printed whichever limit ends the run.
        if (0 <= runs <= executed[0]) or (deadline is not None and time.monotonic() >= deadline):
            finish()
        executed[0] += 1
        target.check_one(data)

    # New inputs go to the first corpus directory: a work directory, never the seeds.
    cache = pathlib.Path(
        os.environ.get("HTTPCORE_FUZZ_CACHE", pathlib.Path.home() / ".cache" / "httpcore-fuzz")
    )
    work = cache / "corpus"
    artifacts = cache / "artifacts"
    work.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    corpus = args.corpus or [str(work), str(SEEDS)]
    flags: List[str] = [sys.argv[0], f"-artifact_prefix={artifacts}/", *extra, *corpus]
    print(f"tools.fuzz: corpus {corpus}, crashes saved under {artifacts}/", flush=True)
    atheris.Setup(flags, one)
    fuzz: Any = atheris.Fuzz
    fuzz()
    finish()  # pragma: no cover - libFuzzer ran out of inputs (-runs given in extra)
    return 0  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
