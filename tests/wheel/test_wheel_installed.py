"""The installed wheel imports lean, loads its hot modules in the expected form, and types
a user's program (``typing/user_program.py``) without ``Any`` leaking from the public API.

Runs only against an installed wheel (``HTTPCORE_TEST_INSTALLED=1``, as ``tools/test.sh``
does in a fresh virtualenv). ``HTTPCORE_EXPECT_PURE=1`` says the pure wheel is installed, so
the hot modules must load as ``.py``; otherwise they must load compiled. Each check runs in
a fresh isolated interpreter (``-I``), so nothing imported by pytest or the checkout counts.
"""

from __future__ import annotations

import ast
import importlib.machinery
import json
import os
import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("HTTPCORE_TEST_INSTALLED") != "1",
    reason="needs an installed wheel: HTTPCORE_TEST_INSTALLED=1 (tools/test.sh sets it)",
)

# API.md section 13 and HACKING.md: `import httpcore` must not import any of these.
LAZY_DEPENDENCIES = ("anyio", "trio", "h2", "socksio", "sniffio", "certifi")


def repository_root() -> pathlib.Path:
    configured = os.environ.get("HTTPCORE_REPO_ROOT")
    if configured:
        return pathlib.Path(configured)
    return pathlib.Path(os.path.abspath(__file__)).parent.parent.parent


def hot_module_names() -> list[str]:
    """``core:httpcore/_core/_headers.py`` -> ``httpcore._core._headers``, from build_config.bzl."""
    tree = ast.parse((repository_root() / "build_config.bzl").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "HOT_MODULES" for target in node.targets
        ):
            entries = ast.literal_eval(node.value)
            return [entry.partition(":")[2][: -len(".py")].replace("/", ".") for entry in entries]
    raise AssertionError("build_config.bzl assigns no HOT_MODULES")


def run_python(code: str, tmp_path: pathlib.Path) -> object:
    """Run ``code`` in an isolated interpreter outside the checkout; return its JSON output."""
    result = subprocess.run(
        [sys.executable, "-I", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_httpcore_comes_from_the_installed_wheel(tmp_path: pathlib.Path) -> None:
    location = run_python("import json, httpcore; print(json.dumps(httpcore.__file__))", tmp_path)
    libs = repository_root().resolve() / "libs"
    assert isinstance(location, str)
    assert libs not in pathlib.Path(location).resolve().parents


def test_import_httpcore_imports_no_optional_or_lazy_dependency(tmp_path: pathlib.Path) -> None:
    code = (
        "import json, sys\n"
        "import httpcore\n"
        f"print(json.dumps(sorted(set({list(LAZY_DEPENDENCIES)!r}) & set(sys.modules))))\n"
    )
    assert run_python(code, tmp_path) == []


def test_hot_modules_load_in_the_expected_form(tmp_path: pathlib.Path) -> None:
    code = (
        "import importlib, json\n"
        f"names = {hot_module_names()!r}\n"
        "print(json.dumps({n: importlib.import_module(n).__file__ for n in names}))\n"
    )
    files = run_python(code, tmp_path)
    assert isinstance(files, dict) and files
    expect_pure = os.environ.get("HTTPCORE_EXPECT_PURE") == "1"
    for name, file in files.items():
        compiled = str(file).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
        assert compiled != expect_pure, f"{name} loaded from {file}"


def pxd_fields() -> dict[str, dict[str, list[str]]]:
    """{module: {class: [public field, ...]}} from the augmenting .pxd beside each hot module."""
    found: dict[str, dict[str, list[str]]] = {}
    for name in hot_module_names():
        lib = name.split(".")[1].lstrip("_")
        pxd = repository_root() / "libs" / lib / (name.replace(".", "/") + ".pxd")
        if not pxd.is_file():
            continue
        classes: dict[str, list[str]] = {}
        fields: list[str] = []
        for line in pxd.read_text(encoding="utf-8").splitlines():
            if line.startswith("cdef class "):
                fields = classes.setdefault(line[len("cdef class ") :].rstrip(":").strip(), [])
            elif line.startswith("    cdef public "):
                fields.append(line.split()[-1])
        found[name] = classes
    return found


def test_pxd_classes_are_extension_types_when_compiled(tmp_path: pathlib.Path) -> None:
    # A .pxd that Cython did not find (say, a build without the lib on its include path)
    # still compiles, to ordinary classes: this tells the two apart. Compiled, each public
    # field is a C struct field, seen as a getset descriptor on the class; pure, a field is
    # a __slots__ member or an instance attribute, never that.
    declared = pxd_fields()
    assert declared, "no hot module has a .pxd"
    code = (
        "import importlib, json\n"
        f"declared = {declared!r}\n"
        "struct = {}\n"
        "for module, classes in declared.items():\n"
        "    for name, fields in classes.items():\n"
        "        cls = getattr(importlib.import_module(module), name)\n"
        "        struct[name] = [f for f in fields\n"
        "                        if type(vars(cls).get(f)).__name__ == 'getset_descriptor']\n"
        "print(json.dumps(struct))\n"
    )
    struct_fields = run_python(code, tmp_path)
    pure = os.environ.get("HTTPCORE_EXPECT_PURE") == "1"
    assert struct_fields == {
        name: [] if pure else fields
        for classes in declared.values()
        for name, fields in classes.items()
    }


def run_mypy(program: pathlib.Path, tmp_path: pathlib.Path) -> "subprocess.CompletedProcess[str]":
    # From outside the checkout, so that ``httpcore`` is the installed package (its
    # ``py.typed`` makes mypy use its annotations), never the sources under libs/.
    return subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict", "--disallow-any-expr", "--no-incremental",
            "--cache-dir", str(tmp_path / "mypy-cache"), str(program),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )


def test_a_user_program_type_checks_strictly_against_the_wheel(tmp_path: pathlib.Path) -> None:
    program = tmp_path / "user_program.py"
    source = pathlib.Path(os.path.abspath(__file__)).parent / "typing" / "user_program.py"
    program.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_mypy(program, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_type_check_sees_the_wheels_annotations(tmp_path: pathlib.Path) -> None:
    # The same check fails a program that misuses a type: mypy really reads our annotations.
    program = tmp_path / "wrong.py"
    program.write_text(
        "import httpcore\n"
        "status: str = httpcore.request('GET', 'http://127.0.0.1/').status\n",
        encoding="utf-8",
    )
    result = run_mypy(program, tmp_path)
    assert result.returncode == 1
    assert 'Incompatible types in assignment (expression has type "int"' in result.stdout
