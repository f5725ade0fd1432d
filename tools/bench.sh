#!/usr/bin/env bash
# The side-by-side benchmark, from one command on a fresh Debian machine with Python 3.11:
#   1. installs what is missing from apt: nginx, wrk, h2load (nghttp2-client), python3-venv;
#   2. builds this project's compiled wheel (tools/fetch_wheels.sh, tools/build_wheels.sh),
#      unless --wheel PATH names one already built (tools/test.sh passes its own);
#      a failed build leaves "ours" unavailable in the report (and fails a --smoke run);
#   3. makes the benchmark's own virtualenv (trustme for the certificates, matplotlib for the
#      chart: never the project's dependencies);
#   4. runs `python -m tools.bench "$@"`, which makes one virtualenv per client from PyPI
#      (a client whose install fails is reported as unavailable), measures, and writes
#      docs/benchmarks.md and docs/benchmarks.png (or, with --output DIR, DIR/benchmarks.md,
#      DIR/benchmarks.png and DIR/results.json). --smoke (CI's step in tools/test.sh): every
#      client and scenario briefly, then a check that exits 1 if the benchmark itself broke
#      (never on timings; a peer that fails to install is only reported unavailable).
# Everything it keeps (virtualenvs, the wheel, raw results as JSON, the pip log) lives in
# $HTTPCORE_BENCH_CACHE (default ~/.cache/httpcore-bench), outside the work tree.
# Usage: tools/bench.sh [--smoke] [--check] [--output DIR] [--cycles N] [--clients ours,aiohttp]
#                       [--scenarios S1-sync] [--client-cpus 0] [--server-cpus 0] [--wheel PATH]
#                       (python -m tools.bench --help)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
python=${PYTHON:-python3}
cache=${HTTPCORE_BENCH_CACHE:-$HOME/.cache/httpcore-bench}
export HTTPCORE_BENCH_CACHE=$cache PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\n=== %s\n' "$*" >&2; }

need_apt=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v wrk >/dev/null || need_apt+=(wrk)
command -v h2load >/dev/null || need_apt+=(nghttp2-client)
command -v taskset >/dev/null || need_apt+=(util-linux)
"$python" -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
tools/apt_install.sh ${need_apt[@]+"${need_apt[@]}"}

mkdir -p "$cache"
given_wheel=0
for arg in "$@"; do
    case $arg in --wheel|--wheel=*) given_wheel=1 ;; esac
done
wheel_args=()
if [ "$given_wheel" = 1 ]; then
    step "this project's compiled wheel: given with --wheel"
else
    step "this project's compiled wheel"
    if (tools/fetch_wheels.sh && tools/build_wheels.sh "$cache/dist") >"$cache/build.log" 2>&1; then
        wheel=$(ls "$cache"/dist/httpcore-*-cp*.whl | head -n 1)
        echo "$(basename "$wheel")" >&2
        wheel_args=(--wheel "$wheel")
    else
        echo "the wheel build failed (see $cache/build.log): ours will be shown as unavailable" >&2
        rm -f "$cache"/dist/httpcore-*.whl
        wheel_args=(--wheel "$cache/dist/missing.whl")
    fi
fi

step "the benchmark's virtualenv (trustme, matplotlib)"
harness="$cache/venvs/_harness"
if ! "$harness/bin/python" -c 'import trustme, matplotlib' 2>/dev/null; then
    rm -rf "$harness"
    "$python" -m venv "$harness"
    if ! "$harness/bin/python" -m pip install --quiet trustme matplotlib >"$cache/harness.log" 2>&1; then
        cat "$cache/harness.log" >&2
        exit 1
    fi
fi

step "python -m tools.bench ${wheel_args[*]+${wheel_args[*]}} $*"
exec "$harness/bin/python" -m tools.bench ${wheel_args[@]+"${wheel_args[@]}"} "$@"
