"""The built wheels hold what users need and nothing of the build.

The wheels come from ``tools/build_wheels.sh``: ``HTTPCORE_WHEEL`` names the compiled one,
``HTTPCORE_PURE_WHEEL`` the pure one (``tools/test.sh`` sets both). Without them these tests
are skipped. The expected contents come from this checkout (``HTTPCORE_REPO_ROOT`` when set):
the hot modules of ``build_config.bzl``, the version of ``libs/api/httpcore/_version.py`` and
every module under ``libs/``.
"""

from __future__ import annotations

import ast
import email.message
import email.parser
import os
import pathlib
import re
import zipfile

import pytest

# What pyproject.toml promises (API.md section 0.2), as (name, specifiers, extra).
REQUIRED = {("h11", frozenset({">=0.16"}), None), ("certifi", frozenset(), None)}
EXTRAS = {
    ("h2", frozenset({">=3", "<5"}), "http2"),
    ("socksio", frozenset({"==1.*"}), "socks"),
    ("trio", frozenset({">=0.22.0", "<1.0"}), "trio"),
    ("anyio", frozenset({">=4.0", "<5.0"}), "asyncio"),
}


def repository_root() -> pathlib.Path:
    configured = os.environ.get("HTTPCORE_REPO_ROOT")
    if configured:
        return pathlib.Path(configured)
    return pathlib.Path(os.path.abspath(__file__)).parent.parent.parent


def literal(path: pathlib.Path, name: str) -> object:
    """The value of the top-level assignment ``name = <literal>`` in ``path``."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} assigns no {name}")


def hot_module_paths() -> list[str]:
    """Each hot module as its path in the wheel, ``httpcore/_core/_headers.py``."""
    entries = literal(repository_root() / "build_config.bzl", "HOT_MODULES")
    assert isinstance(entries, list) and entries
    return [str(entry).partition(":")[2] for entry in entries]


def test_no_hot_module_defines_a_coroutine() -> None:
    # Runs from the source tree, with or without wheels. A coroutine compiled by Cython is
    # not a native one, and on Python 3.9 anyio's start_soon refuses it (see the comment
    # above HOT_MODULES): async code stays interpreted.
    entries = literal(repository_root() / "build_config.bzl", "HOT_MODULES")
    assert isinstance(entries, list)
    offenders = []
    for entry in entries:
        lib, _, path = str(entry).partition(":")
        source = repository_root() / "libs" / lib / path
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.AsyncFunctionDef, ast.Await, ast.AsyncFor, ast.AsyncWith)):
                offenders.append(f"{entry}:{node.lineno}")
    assert offenders == []


def project_version() -> str:
    version = literal(repository_root() / "libs/api/httpcore/_version.py", "__version__")
    assert isinstance(version, str)
    return version


def wheel_from(variable: str) -> zipfile.ZipFile:
    path = os.environ.get(variable)
    if not path:
        pytest.skip(f"{variable} is not set: build the wheels with tools/build_wheels.sh")
    return zipfile.ZipFile(path)


@pytest.fixture(scope="module")
def compiled_wheel() -> zipfile.ZipFile:
    return wheel_from("HTTPCORE_WHEEL")


@pytest.fixture(scope="module")
def pure_wheel() -> zipfile.ZipFile:
    return wheel_from("HTTPCORE_PURE_WHEEL")


@pytest.fixture(scope="module", params=["HTTPCORE_WHEEL", "HTTPCORE_PURE_WHEEL"])
def any_wheel(request: pytest.FixtureRequest) -> zipfile.ZipFile:
    return wheel_from(str(request.param))


def dist_info_file(wheel: zipfile.ZipFile, name: str) -> email.message.Message:
    [path] = [n for n in wheel.namelist() if re.fullmatch(rf"[^/]+\.dist-info/{name}", n)]
    return email.parser.Parser().parsestr(wheel.read(path).decode("utf-8"))


def requirement(line: str) -> tuple[str, frozenset[str], str | None]:
    """``'h2<5,>=3; extra == "http2"'`` -> ``("h2", {"<5", ">=3"}, "http2")``."""
    requirement_text, _, marker = line.partition(";")
    match = re.match(r"\s*([A-Za-z0-9._-]+)\s*\(?([^)]*)\)?\s*$", requirement_text)
    assert match, line
    specifiers = frozenset(s.replace(" ", "") for s in match.group(2).split(",") if s.strip())
    extra = None
    if marker.strip():
        extra_match = re.fullmatch(r"""\s*extra\s*==\s*["']([^"']+)["']\s*""", marker)
        assert extra_match, f"unexpected marker in {line!r}"
        extra = extra_match.group(1)
    return match.group(1).lower(), specifiers, extra


def extension_modules(wheel: zipfile.ZipFile) -> set[str]:
    return {name for name in wheel.namelist() if name.endswith((".so", ".pyd"))}


def compiled_form(path: str) -> re.Pattern[str]:
    """``httpcore/_core/_headers.py`` -> a pattern for its extension module's file name."""
    return re.compile(re.escape(path[: -len(".py")]) + r"(\.[^/]+)?\.so")


def test_compiled_wheel_has_each_hot_module_compiled(compiled_wheel: zipfile.ZipFile) -> None:
    names = compiled_wheel.namelist()
    for path in hot_module_paths():
        assert any(compiled_form(path).fullmatch(name) for name in names), path


def test_compiled_wheel_keeps_the_source_of_each_hot_module(compiled_wheel: zipfile.ZipFile) -> None:
    for path in hot_module_paths():
        assert path in compiled_wheel.namelist()


def test_compiled_wheel_compiles_only_the_hot_modules(compiled_wheel: zipfile.ZipFile) -> None:
    patterns = [compiled_form(path) for path in hot_module_paths()]
    for name in extension_modules(compiled_wheel):
        assert any(pattern.fullmatch(name) for pattern in patterns), name


def test_compiled_wheel_is_tagged_for_a_platform(compiled_wheel: zipfile.ZipFile) -> None:
    wheel_info = dist_info_file(compiled_wheel, "WHEEL")
    assert wheel_info["Root-Is-Purelib"] == "false"
    assert not str(wheel_info["Tag"]).endswith("-none-any")


def test_pure_wheel_is_py3_none_any(pure_wheel: zipfile.ZipFile) -> None:
    assert str(pure_wheel.filename).endswith("-py3-none-any.whl")
    assert dist_info_file(pure_wheel, "WHEEL").get_all("Tag") == ["py3-none-any"]


def test_pure_wheel_has_no_extension_modules(pure_wheel: zipfile.ZipFile) -> None:
    assert extension_modules(pure_wheel) == set()


def test_wheel_has_no_c_or_pyx_files(any_wheel: zipfile.ZipFile) -> None:
    assert [n for n in any_wheel.namelist() if n.endswith((".c", ".pyx", ".h"))] == []


def test_wheel_ships_py_typed(any_wheel: zipfile.ZipFile) -> None:
    assert "httpcore/py.typed" in any_wheel.namelist()


def test_wheel_holds_every_module_of_every_lib(any_wheel: zipfile.ZipFile) -> None:
    # A lib's `httpcore/...` is the package's `httpcore/...`; BUILD files and caches stay out.
    expected = {
        path.relative_to(lib).as_posix()
        for lib in (repository_root() / "libs").iterdir()
        for path in lib.glob("httpcore/**/*.py")
        if "__pycache__" not in path.parts
    }
    shipped = {name for name in any_wheel.namelist() if name.endswith(".py")}
    assert shipped == expected


def test_wheel_version_is_the_project_version(any_wheel: zipfile.ZipFile) -> None:
    assert dist_info_file(any_wheel, "METADATA")["Version"] == project_version()


def test_wheel_requires_exactly_h11_and_certifi(any_wheel: zipfile.ZipFile) -> None:
    lines = dist_info_file(any_wheel, "METADATA").get_all("Requires-Dist") or []
    assert {r for r in map(requirement, lines) if r[2] is None} == REQUIRED


def test_wheel_offers_the_four_extras(any_wheel: zipfile.ZipFile) -> None:
    metadata = dist_info_file(any_wheel, "METADATA")
    lines = metadata.get_all("Requires-Dist") or []
    assert {r for r in map(requirement, lines) if r[2] is not None} == EXTRAS
    assert set(metadata.get_all("Provides-Extra") or []) == {"http2", "socks", "trio", "asyncio"}


def test_wheel_requires_python_3_9(any_wheel: zipfile.ZipFile) -> None:
    assert dist_info_file(any_wheel, "METADATA")["Requires-Python"] == ">=3.9"
