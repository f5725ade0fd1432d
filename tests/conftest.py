"""Shared test set-up: where httpcore comes from, and the async backends every async test runs on.

Three ways to run the tests, one set of files:
- under Bazel, each lib is on ``sys.path`` through its ``py_library`` (nothing to do here);
- against an installed wheel (``HTTPCORE_TEST_INSTALLED=1``), the wheel is imported;
- from a checkout (``pytest tests``), the ``libs/*`` directories are put on ``sys.path``.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import sys
from typing import Any, Generator

import pytest

_UNDER_BAZEL = "TEST_SRCDIR" in os.environ
_INSTALLED = os.environ.get("HTTPCORE_TEST_INSTALLED") == "1"

if not _UNDER_BAZEL and not _INSTALLED:
    _LIBS = pathlib.Path(__file__).resolve().parent.parent / "libs"
    for _lib in sorted(_LIBS.iterdir()):
        if (_lib / "httpcore").is_dir() and str(_lib) not in sys.path:
            sys.path.insert(0, str(_lib))


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every ``@pytest.mark.anyio`` test on asyncio and on trio."""
    return str(request.param)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("httpcore", "compiled and pure forms of the hot modules")
    group.addoption(
        "--httpcore-form",
        choices=["compiled", "pure"],
        default=None,
        help="fail unless every module of --httpcore-hot-modules loaded in this form",
    )
    group.addoption("--httpcore-hot-modules", default="", help="comma-separated module names")


@pytest.fixture(scope="session", autouse=True)
def _check_hot_module_form(request: pytest.FixtureRequest) -> None:
    """Under Bazel each hot-module test runs twice; make each run prove which form it tested."""
    form = request.config.getoption("--httpcore-form")
    names = [n for n in str(request.config.getoption("--httpcore-hot-modules")).split(",") if n]
    if form is None:
        return
    assert names, "--httpcore-form needs --httpcore-hot-modules"
    for name in names:
        module = importlib.import_module(name)
        compiled = not str(module.__file__).endswith(".py")
        assert compiled == (form == "compiled"), f"{name} loaded from {module.__file__}"


# Under Bazel and against the installed wheels (the runs CI counts), everything a test needs is
# provided, so a skip would only hide a missing piece: it fails instead. A run from a checkout
# may skip what it lacks (the wheel tests without built wheels), and says why.
_SKIPS_FAIL = _UNDER_BAZEL or _INSTALLED


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if _SKIPS_FAIL and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, which this run does not allow: {report.longrepr!r}"
