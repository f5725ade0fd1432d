"""Entry point of every Bazel pytest target: run pytest on the files given as arguments.

Python puts the real directory of this file first on sys.path; runfiles are symlinks, so that
directory is in the source tree. Drop it, so tests see only what the target depends on.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE]

import pytest  # noqa: E402  (imported after the path fix on purpose)

if __name__ == "__main__":
    sys.exit(pytest.main(["-p", "no:cacheprovider", *sys.argv[1:]]))
