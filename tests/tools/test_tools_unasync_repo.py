"""The generated sync code of this repository is up to date, and every unasync rule is used.

Fails when an ``_async`` module changed without ``python -m tools.unasync`` being run (or a
``_sync`` file was edited by hand). The root is ``HTTPCORE_REPO_ROOT`` when set (Bazel gives
the runfiles tree), else the checkout holding this file.
"""

from __future__ import annotations

import os
import pathlib

import pytest

from tools.unasync import main


def repository_root() -> pathlib.Path:
    configured = os.environ.get("HTTPCORE_REPO_ROOT")
    if configured:
        return pathlib.Path(configured)
    # Not resolved: under Bazel this file is a symlink in the runfiles tree, which is the root.
    return pathlib.Path(os.path.abspath(__file__)).parent.parent.parent


def test_generated_sync_code_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--check", "--root", str(repository_root())])
    assert status == 0, capsys.readouterr().err
