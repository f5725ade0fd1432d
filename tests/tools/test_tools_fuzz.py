"""tools/fuzz in CI, without atheris: every seed and a few thousand deterministic mutations of
them go through the fuzzer's own target (``check_one``), which must never fail; and the
target provably fails on a codec that misbehaves."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import random
import subprocess
import sys
from typing import Any, Callable, List

import pytest

from httpcore._core._exceptions import RemoteProtocolError
from httpcore._protocols._http11 import Data, EndOfMessage
from tools.fuzz import target
from tools.fuzz.target import check_one

SEEDS_DIR = pathlib.Path(target.__file__).resolve().parent / "seeds"
SEEDS = sorted(SEEDS_DIR.iterdir())
ROOT = pathlib.Path(target.__file__).resolve().parent.parent.parent


def test_seed_corpus_size() -> None:
    assert 30 <= len(SEEDS) <= 60


@pytest.mark.parametrize("seed", SEEDS, ids=[path.name for path in SEEDS])
def test_seed(seed: pathlib.Path) -> None:
    check_one(seed.read_bytes())


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    kind = rng.randrange(7)
    if not buf:
        return bytes(rng.choice([b"\r", b"\n", b"\x00", b":", b" "]))
    if kind == 0:  # byte flip
        index = rng.randrange(len(buf))
        buf[index] ^= 1 << rng.randrange(8)
    elif kind == 1:  # insert a delimiter
        index = rng.randrange(3, len(buf) + 1) if len(buf) > 3 else len(buf)
        buf[index:index] = rng.choice([b"\r", b"\n", b"\x00", b":", b" ", b"\r\n", b"\t"])
    elif kind == 2:  # truncate
        del buf[rng.randrange(len(buf)) :]
    elif kind == 3:  # duplicate a header line
        lines = bytes(buf).split(b"\r\n")
        if len(lines) > 2:
            index = rng.randrange(1, len(lines) - 1)
            lines.insert(index, lines[index])
        buf = bytearray(b"\r\n".join(lines))
    elif kind == 4:  # edit a chunk size (or any short hex line)
        lines = bytes(buf).split(b"\r\n")
        hexes = [i for i, line in enumerate(lines) if line and len(line) < 8
                 and all(c in b"0123456789abcdefABCDEF;" for c in line)]
        if hexes:
            index = rng.choice(hexes)
            lines[index] = rng.choice([b"0", b"ff", b"-1", b"0x5", b" 5", b"5 ", b"g", b"",
                                       b"3;x=\x00", b"1" * 21, b"fffffffffff"])
        buf = bytearray(b"\r\n".join(lines))
    elif kind == 5:  # control bytes: method, split and EOF choice
        buf[rng.randrange(min(3, len(buf)))] = rng.randrange(256)
    else:  # delete a range
        start = rng.randrange(len(buf))
        del buf[start : start + rng.randrange(1, 8)]
    return bytes(buf)


def test_deterministic_mutations() -> None:
    rng = random.Random(20261204)
    seeds = [path.read_bytes() for path in SEEDS]
    small = [seed for seed in seeds if len(seed) < 4096]
    count = 0
    for _ in range(5000):
        data = rng.choice(small)
        for _ in range(rng.randrange(1, 4)):
            data = _mutate(rng, data)
        check_one(data)
        count += 1
    assert count == 5000


# --- The checker can fail ---------------------------------------------------------------------


class _Wrapper:
    """A parser wrapper standing in for a broken codec."""

    def __init__(self, inner: Any, next_event: Callable[[Any], Any]) -> None:
        self._inner = inner
        self._next_event = next_event

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def next_event(self) -> Any:
        return self._next_event(self._inner)


def _factory(next_event: Callable[[Any], Any]) -> target.ParserFactory:
    def make(method: bytes, close: bool, upgrade: bool) -> Any:
        return _Wrapper(target.default_factory(method, close, upgrade), next_event)

    return make


class _KeepAlive:
    """A parser that keeps the connection alive whatever the framing."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @property
    def keep_alive(self) -> bool:
        return True


def test_fails_on_keep_alive_with_both_framings() -> None:
    def make(method: bytes, close: bool, upgrade: bool) -> Any:
        return _KeepAlive(target.default_factory(method, close, upgrade))

    data = (SEEDS_DIR / "both-framings-cl-te").read_bytes()
    check_one(data)
    with pytest.raises(AssertionError, match="both framings"):
        check_one(data, make)


def test_fails_on_accepting_a_rejection() -> None:
    class Accepting:
        """Swallows the codec's rejection and reports a complete, empty message."""

        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        def next_event(self) -> Any:
            try:
                return self._inner.next_event()
            except RemoteProtocolError:
                return EndOfMessage([])

    def make(method: bytes, close: bool, upgrade: bool) -> Any:
        return Accepting(target.default_factory(method, close, upgrade))

    for name in ["reject-cl-conflict", "reject-obs-fold", "reject-nul-header",
                 "reject-chunk-size-letter", "reject-bare-cr-header"]:
        with pytest.raises(AssertionError, match="accepted"):
            check_one((SEEDS_DIR / name).read_bytes(), make)


def test_fails_on_unexpected_exception() -> None:
    def boom(inner: Any) -> Any:
        raise ValueError("boom")

    with pytest.raises(AssertionError, match="ValueError"):
        check_one((SEEDS_DIR / "cl-basic").read_bytes(), _factory(boom))


def test_fails_on_hang() -> None:
    with pytest.raises(AssertionError, match="hang guard"):
        check_one((SEEDS_DIR / "cl-basic").read_bytes(), _factory(lambda inner: Data(b"x")))


def test_fails_on_mismatch() -> None:
    def corrupt(inner: Any) -> Any:
        event = inner.next_event()
        if isinstance(event, Data):
            return Data(event.data + b"!")
        return event

    with pytest.raises(AssertionError, match="h11"):
        check_one((SEEDS_DIR / "cl-basic").read_bytes(), _factory(corrupt))


# --- The command line -------------------------------------------------------------------------


def _run(args: List[str]) -> "subprocess.CompletedProcess[str]":
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *sys.path])
    return subprocess.run([sys.executable, "-m", "tools.fuzz", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_command_line() -> None:
    if importlib.util.find_spec("atheris") is None:
        result = _run(["--runs", "10"])
        assert result.returncode == 2, result.stderr
        assert "tools/fuzz.sh" in result.stderr
    else:  # pragma: no cover - atheris is not a project dependency
        result = _run(["--runs", "300"])
        assert result.returncode == 0, result.stderr
        assert "inputs executed" in result.stdout
