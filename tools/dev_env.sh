#!/usr/bin/env bash
# Make .venv with every locked dependency (from the wheelhouse) for a quick loop without Bazel:
#   .venv/bin/python -m pytest tests     .venv/bin/python -m mypy
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
"$top/tools/fetch_wheels.sh"
"$python" -m venv "$top/.venv"
"$top/.venv/bin/python" -m pip install --quiet --no-index --find-links "$top/third_party/wheelhouse" \
    --require-hashes --no-deps -r "$top/third_party/requirements.lock"
