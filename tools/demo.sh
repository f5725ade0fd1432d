#!/usr/bin/env bash
# The project's demo command (README): on a fresh Debian machine with Python 3.11,
#   1. installs what is missing: nginx (and python3-venv) from apt;
#   2. fetches the locked wheels (tools/fetch_wheels.sh) and builds the compiled httpcore
#      wheel from this source tree (tools/build_wheels.sh, offline from the wheelhouse);
#   3. installs the locked dependencies and that wheel into a fresh virtualenv;
#   4. runs `python -m tools.demo` with it: a local nginx on 127.0.0.1 with trustme
#      certificates, a pooled HTTPS GET twice (keep-alive), a streamed 10 MB download, uploads
#      from iterators, the trace of one request; nginx is stopped at the end.
# Everything it creates lives in a temporary directory removed on exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
python=${PYTHON:-python3}
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\n=== %s\n' "$*"; }

need_apt=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
"$python" -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
tools/apt_install.sh ${need_apt[@]+"${need_apt[@]}"}

step "locked wheels"
tools/fetch_wheels.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "build the httpcore wheels from the source tree"
tools/build_wheels.sh "$work/dist" >/dev/null
wheel=$(ls "$work"/dist/httpcore-*.whl)
echo "$(basename "$wheel")"

step "virtualenv with the locked dependencies and the compiled wheel"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --no-index --find-links third_party/wheelhouse \
    --require-hashes --no-deps -r third_party/requirements.lock
"$work/venv/bin/python" -m pip install --quiet --no-index --no-deps "$wheel"

step "python -m tools.demo"
"$work/venv/bin/python" -m tools.demo
