#!/usr/bin/env bash
# Fill third_party/wheelhouse (git-ignored) with exactly the wheels of the lock, hashes checked.
# Bazel's @pypi repository and the dev/CI virtualenvs install from this directory only.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
mkdir -p "$top/third_party/wheelhouse"
"$python" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r "$top/third_party/requirements.lock" -d "$top/third_party/wheelhouse"
