"""Unpack the locked wheels into a Bazel repository with one py_library per package.

Usage: unpack_wheels.py LOCK WHEELHOUSE OUTPUT_DIR   (standard library only, no network)

Every wheel named in the lock must be in WHEELHOUSE with the locked sha256, or this fails.
Each package goes to OUTPUT_DIR/<name>/site and becomes `@pypi//:<name>` (name normalised:
lower case, '-' and '.' as '_'), with deps taken from its Requires-Dist entries that name
other locked packages and are not tied to an extra.
"""

from __future__ import annotations

import hashlib
import pathlib
import re
import sys
import zipfile

REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\]+)")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")
DIST_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def read_lock(path: pathlib.Path) -> dict[str, tuple[str, list[str]]]:
    """Map normalised name -> (version, allowed hashes)."""
    text = path.read_text().replace("\\\n", " ")
    locked: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        match = REQUIREMENT.match(line)
        if match:
            locked[normalise(match.group(1))] = (match.group(2), HASH.findall(line))
    return locked


def find_wheel(wheelhouse: pathlib.Path, name: str, version: str) -> pathlib.Path:
    for candidate in sorted(wheelhouse.glob("*.whl")):
        parts = candidate.name.split("-")
        if normalise(parts[0]) == name and parts[1] == version:
            return candidate
    raise SystemExit(
        f"{name}=={version} is not in {wheelhouse}; run tools/fetch_wheels.sh first"
    )


def requirements_of(site: pathlib.Path) -> list[str]:
    names: list[str] = []
    for metadata in site.glob("*.dist-info/METADATA"):
        for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            spec = line.split(":", 1)[1].strip()
            if ";" in spec and "extra" in spec.split(";", 1)[1]:
                continue
            match = DIST_NAME.match(spec)
            if match:
                names.append(normalise(match.group(1)))
    return names


def main(lock_path: str, wheelhouse_path: str, output_path: str) -> None:
    locked = read_lock(pathlib.Path(lock_path))
    wheelhouse = pathlib.Path(wheelhouse_path)
    output = pathlib.Path(output_path)
    rules = []
    for name, (version, hashes) in sorted(locked.items()):
        wheel = find_wheel(wheelhouse, name, version)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest not in hashes:
            raise SystemExit(f"{wheel.name}: sha256 {digest} is not the locked hash")
        site = output / name / "site"
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.infolist():
                # Bazel 4 runfiles cannot hold names with spaces, and a BUILD file inside
                # a wheel would cut the package; neither is needed to import the package.
                leaf = member.filename.rsplit("/", 1)[-1]
                if " " in member.filename or leaf in ("BUILD", "BUILD.bazel"):
                    continue
                archive.extract(member, site)
        deps = sorted({d for d in requirements_of(site) if d in locked and d != name})
        rules.append(
            f"""py_library(
    name = "{name}",
    srcs = glob(["{name}/site/**/*.py"]),
    data = glob(["{name}/site/**"], exclude = ["**/*.py", "**/__pycache__/**"]),
    imports = ["{name}/site"],
    deps = {[":" + d for d in deps]!r},
)
"""
        )
    (output / "WORKSPACE").write_text('workspace(name = "pypi")\n')
    (output / "BUILD.bazel").write_text(
        'load("@rules_python//python:defs.bzl", "py_library")\n\n'
        'package(default_visibility = ["//visibility:public"])\n\n' + "\n".join(rules)
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
