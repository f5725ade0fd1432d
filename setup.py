"""Build the one ``httpcore`` wheel from the lib directories (metadata: pyproject.toml).

- Packages: ``httpcore`` is ``libs/api/httpcore``; every other lib contributes its
  ``libs/<lib>/httpcore/_<lib>`` as ``httpcore._<lib>``; their subpackages (``_async``,
  ``_sync``, ...: every directory holding ``.py`` files) are found by walking the
  directories, so adding one needs no edit here.
- Version: ``__version__`` of ``libs/api/httpcore/_version.py``, read with ``ast``.
- Compiled modules: exactly ``HOT_MODULES`` of ``build_config.bzl`` (read with ``ast``, the
  list Bazel loads too), compiled by Cython with language level 3. Cython's C files go to
  ``build/cython``, never into the wheel; the ``.py`` of each hot module ships beside its
  extension, which the import system prefers.
- ``HTTPCORE_PURE=1`` in the environment builds a pure ``py3-none-any`` wheel from the same
  sources, without Cython or a C compiler.
"""

from __future__ import annotations

import ast
import os
import pathlib
import sys

from setuptools import Extension, setup

HERE = pathlib.Path(__file__).resolve().parent
LIBS = "libs"
FACADE_LIB = "api"


def _literal(path: pathlib.Path, name: str) -> object:
    """The value of the top-level literal assignment ``name = ...`` in ``path``."""
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    sys.exit(f"setup.py: {path} has no assignment to {name}")


def read_version() -> str:
    version = _literal(HERE / LIBS / FACADE_LIB / "httpcore" / "_version.py", "__version__")
    if not isinstance(version, str):
        sys.exit("setup.py: __version__ must be a string")
    return version


def read_hot_modules() -> list[tuple[str, str]]:
    """(module name, source path relative to this directory) for each hot module."""
    entries = _literal(HERE / "build_config.bzl", "HOT_MODULES")
    if not isinstance(entries, list):
        sys.exit("setup.py: HOT_MODULES must be a list")
    modules = []
    for entry in entries:
        lib, _, path = str(entry).partition(":")
        if not path.startswith("httpcore/") or not path.endswith(".py"):
            sys.exit(f"setup.py: bad HOT_MODULES entry {entry!r}: want '<lib>:httpcore/....py'")
        source = f"{LIBS}/{lib}/{path}"
        if not (HERE / source).is_file():
            sys.exit(f"setup.py: hot module {entry!r}: {source} does not exist")
        modules.append((path[: -len(".py")].replace("/", "."), source))
    return modules


def _holds_modules(directory: pathlib.Path) -> bool:
    """Whether ``directory`` is a package directory: it has a ``.py`` file, here or below.

    Directories are taken whether or not they have an ``__init__.py``, exactly as Bazel's
    ``httpcore/**/*.py`` glob takes their files, so both builds ship the same modules.
    """
    if not directory.is_dir() or directory.name == "__pycache__" or directory.name.startswith("."):
        return False
    return next(directory.rglob("*.py"), None) is not None


def find_packages() -> dict[str, str]:
    """Every package of the wheel, mapped to its directory (relative to this one)."""
    found: dict[str, str] = {}

    def add_tree(name: str, directory: pathlib.Path) -> None:
        if name in found:
            sys.exit(f"setup.py: package {name} is in both {found[name]} and {directory}")
        found[name] = directory.relative_to(HERE).as_posix()
        for child in sorted(directory.iterdir()):
            if _holds_modules(child):
                add_tree(f"{name}.{child.name}", child)

    for lib in sorted((HERE / LIBS).iterdir()):
        part = lib / "httpcore"
        if not part.is_dir():
            continue
        if lib.name == FACADE_LIB:
            add_tree("httpcore", part)
            continue
        # Any other lib is a portion of the package: subpackages only, no modules of its own.
        for child in sorted(part.iterdir()):
            if _holds_modules(child):
                add_tree(f"httpcore.{child.name}", child)
            elif child.suffix == ".py":
                sys.exit(f"setup.py: {child}: only libs/{FACADE_LIB} may put modules in httpcore/")
    return found


def extensions() -> list[Extension]:
    """The compiled hot modules, or none for a pure build."""
    pure = os.environ.get("HTTPCORE_PURE", "")
    if pure not in ("", "0", "1"):
        sys.exit(f"setup.py: HTTPCORE_PURE must be 1 (pure wheel) or 0/unset, not {pure!r}")
    if pure == "1":
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        sys.exit("setup.py: the compiled build needs Cython>=3 (or set HTTPCORE_PURE=1)")
    # No debug information: Python's own CFLAGS carry -g, which makes each extension several
    # times larger than its code, for users who never run a C debugger on it.
    compile_args = [] if os.name == "nt" else ["-g0"]
    modules = [
        Extension(name, [source], extra_compile_args=compile_args)
        for name, source in read_hot_modules()
    ]
    # Each lib directory on Cython's include path, so a hot module's augmenting .pxd
    # (httpcore/_pool/_selection.pxd beside its .py) is found by the module's full name:
    # Cython does not see the package from the file alone (httpcore/ has no __init__.py
    # in a lib directory).
    include_path = sorted({source.split("/")[1] for _, source in read_hot_modules()})
    return list(
        cythonize(
            modules,
            build_dir="build/cython",
            compiler_directives={"language_level": "3"},
            include_path=[f"{LIBS}/{lib}" for lib in include_path],
            quiet=True,
        )
    )


os.chdir(HERE)  # setuptools wants paths relative to the project
PACKAGE_DIR = find_packages()
setup(
    version=read_version(),
    packages=sorted(PACKAGE_DIR),
    package_dir=PACKAGE_DIR,
    ext_modules=extensions(),
)
