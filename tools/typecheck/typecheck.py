"""Run ``mypy --strict`` over the libs as the one ``httpcore`` package users import.

The libs are portions of a single package (only ``libs/api`` has ``httpcore/__init__.py``),
which mypy cannot merge from several roots. So this joins them in a temporary tree of
symlinks, ``httpcore/__init__.py`` from the api lib plus each ``httpcore/_<layer>`` directory,
and checks that tree together with any extra paths (tests, tools).

Usage: python -m tools.typecheck [--root DIR] [--libs core,backends,...] [extra paths...]
Without --libs every lib is included; --root (default: this checkout) is the directory that
holds libs/ and mypy.ini (Bazel's mypy targets pass their runfiles directory). Extra paths
are relative to the root.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

DEFAULT_ROOT = pathlib.Path(__file__).resolve().parent.parent.parent


def build_tree(root: pathlib.Path, destination: pathlib.Path, libs: list[str]) -> list[pathlib.Path]:
    """Link the chosen libs' parts of ``httpcore`` under ``destination``; return what to check."""
    package = destination / "httpcore"
    package.mkdir(parents=True)
    checked: list[pathlib.Path] = []
    for lib in libs:
        lib_package = root / "libs" / lib / "httpcore"
        for entry in sorted(lib_package.iterdir()):
            if entry.name == "__pycache__":
                continue
            link = package / entry.name
            os.symlink(entry, link)
            checked.append(link)
    return checked


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", default=str(DEFAULT_ROOT))
    parser.add_argument("--libs", default="")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args(argv)
    root = pathlib.Path(os.path.abspath(args.root))
    all_libs = sorted(p.name for p in (root / "libs").iterdir() if (p / "httpcore").is_dir())
    libs = args.libs.split(",") if args.libs else all_libs
    with tempfile.TemporaryDirectory() as tmp:
        tree = pathlib.Path(tmp)
        targets = build_tree(root, tree, libs)
        env = dict(os.environ, MYPYPATH=os.pathsep.join([str(tree), str(root)]))
        command = [
            sys.executable, "-m", "mypy",
            "--config-file", str(root / "mypy.ini"),
            "--cache-dir", str(tree / ".mypy_cache"),
            *[str(t) for t in targets],
            *[str(root / p) for p in args.paths],
        ]
        return subprocess.call(command, env=env, cwd=tmp)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
