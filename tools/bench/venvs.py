"""One virtualenv per client, under the cache directory, installed from PyPI with pip.

``prepare(client, ...)`` returns an ``Environment``: the venv's python when the client is
usable, else the reason it is unavailable (the install failed, or the import check did).
A venv is reused while its stamp (the requirements, and the sha256 of this project's wheel
when one is used) is unchanged, and recreated from scratch otherwise. The import check of
the httpcore family also requires ``ConnectionPool`` and ``AsyncConnectionPool``, so a
build of this project without its pool shows as unavailable instead of failing every run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pathlib
import shutil
import subprocess
import sys
from typing import List, Optional

from tools.bench.clients import Client

_STAMP = "bench-stamp.txt"
_PIP_TIMEOUT_S = 900
_ERROR_LINES = 3


@dataclasses.dataclass(frozen=True)
class Environment:
    client: Client
    python: Optional[pathlib.Path]
    version: str = ""
    reason: str = ""  # why the client is unavailable (python is None)

    @property
    def available(self) -> bool:
        return self.python is not None


def requirements(client: Client, wheel: Optional[pathlib.Path]) -> List[str]:
    """The pip requirements, ``{wheel}`` replaced; ValueError when it needs a missing wheel."""
    resolved = []
    for requirement in client.requirements:
        if "{wheel}" in requirement:
            if wheel is None or not wheel.is_file():
                raise ValueError(f"no wheel of this project (looked for {wheel})")
            requirement = requirement.replace("{wheel}", str(wheel))
        resolved.append(requirement)
    return resolved


def stamp(resolved: List[str], wheel: Optional[pathlib.Path]) -> str:
    lines = list(resolved)
    if wheel is not None and any(str(wheel) in r for r in resolved):
        lines.append("sha256 " + hashlib.sha256(wheel.read_bytes()).hexdigest())
    lines.append(f"python {sys.version.split()[0]}")
    return "\n".join(lines) + "\n"


def _tail(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-_ERROR_LINES:])[:400]


def _import_check(client: Client) -> str:
    top = client.module
    code = f"import {top}"
    if client.driver == "drive_httpcore":
        code += f"; {top}.ConnectionPool; {top}.AsyncConnectionPool"
    return code + f"; import importlib.metadata as m; print(m.version({client.distribution!r}))"


def prepare(client: Client, root: pathlib.Path, wheel: Optional[pathlib.Path], log: pathlib.Path) -> Environment:
    """Create (or reuse) the client's venv under ``root``; pip output goes to ``log``."""
    try:
        resolved = requirements(client, wheel)
    except ValueError as exc:
        return Environment(client, None, reason=str(exc))
    venv = root / client.name
    python = venv / "bin" / "python"
    wanted = stamp(resolved, wheel)
    stamp_path = venv / _STAMP
    if not (python.exists() and stamp_path.exists() and stamp_path.read_text() == wanted):
        shutil.rmtree(venv, ignore_errors=True)
        with open(log, "a") as out:
            out.write(f"\n=== {client.name}: {' '.join(resolved)}\n")
            out.flush()
            created = subprocess.run([sys.executable, "-m", "venv", str(venv)], stdout=out,
                                     stderr=subprocess.STDOUT, check=False)
            if created.returncode != 0:
                return Environment(client, None, reason="python -m venv failed (see the setup log)")
            try:
                installed = subprocess.run(
                    [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet", *resolved],
                    capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False,
                )
            except subprocess.TimeoutExpired:
                return Environment(client, None, reason=f"pip install timed out after {_PIP_TIMEOUT_S} s")
            out.write(installed.stdout + installed.stderr)
        if installed.returncode != 0:
            return Environment(client, None, reason="pip install failed: " + _tail(installed.stderr))
        stamp_path.write_text(wanted)
    check = subprocess.run([str(python), "-c", _import_check(client)], capture_output=True, text=True,
                           check=False, cwd=str(root))
    if check.returncode != 0:
        return Environment(client, None, reason="import check failed: " + _tail(check.stderr))
    return Environment(client, python, version=check.stdout.strip())
