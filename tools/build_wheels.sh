#!/usr/bin/env bash
# Build the two httpcore wheels, offline, into OUT_DIR:
#   OUT_DIR/httpcore-<version>-<python>-<abi>-<platform>.whl   hot modules compiled by Cython
#   OUT_DIR/pure/httpcore-<version>-py3-none-any.whl           same sources, nothing compiled
#                                                              (HTTPCORE_PURE=1, see setup.py)
# Usage: tools/build_wheels.sh [--compiled-only] OUT_DIR
#
# Each wheel is built by pip in an isolated build environment whose setuptools, wheel and
# Cython come from third_party/wheelhouse only (tools/fetch_wheels.sh fills it), never from
# the network; for a Python that has its own lock (third_party/requirements-py<XY>.lock, see
# tools/lock_wheels.sh), from its wheelhouse third_party/wheelhouse-py<XY>
# (tools/fetch_wheels.sh X.Y fills it), whose Cython wheel is built for that Python.
# Each build starts from a fresh copy of the sources, so leftovers of earlier builds (build/,
# *.egg-info, in-place .so or .c files) cannot reach a wheel.
# PYTHON chooses the interpreter (default python3); the compiled wheel is for that one.
# --compiled-only skips the pure wheel (tools/test_pythons.sh builds that once).
set -euo pipefail

compiled_only=0
if [ "${1:-}" = --compiled-only ]; then
    compiled_only=1
    shift
fi
if [ $# -ne 1 ]; then
    echo "usage: $0 [--compiled-only] OUT_DIR" >&2
    exit 2
fi
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
python=${PYTHON:-python3}
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
tag="py${version/./}"
wheelhouse="$top/third_party/wheelhouse"
fetch_command=tools/fetch_wheels.sh
if [ -f "$top/third_party/requirements-$tag.lock" ]; then
    wheelhouse="$top/third_party/wheelhouse-$tag"
    fetch_command="tools/fetch_wheels.sh $version"
fi
if ! ls "$wheelhouse"/[Cc]ython-*.whl >/dev/null 2>&1; then
    echo "$0: no Cython wheel in $wheelhouse: run $fetch_command first" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A copy of what the build reads, without generated or compiled leftovers.
copy_sources() {
    mkdir -p "$1"
    (cd "$top" && tar -c \
        --exclude=__pycache__ --exclude='*.so' --exclude='*.c' --exclude='*.egg-info' \
        pyproject.toml setup.py build_config.bzl README.md libs) | tar -x -C "$1"
}

# A virtualenv for pip itself; the build environments pip makes come from the wheelhouse.
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip)

build() {  # build NAME DESTINATION [ENV=VALUE...]
    local name=$1 destination=$2
    shift 2
    copy_sources "$work/$name"
    mkdir -p "$destination"
    rm -f "$destination"/httpcore-*.whl
    env "$@" "${pip[@]}" wheel --quiet --no-deps --no-cache-dir --no-index \
        --find-links "$wheelhouse" --wheel-dir "$destination" "$work/$name"
}

build compiled "$out" HTTPCORE_PURE=0
if [ "$compiled_only" = 1 ]; then
    ls "$out"/httpcore-*.whl
    exit 0
fi
build pure "$out/pure" HTTPCORE_PURE=1
ls "$out"/httpcore-*.whl "$out"/pure/httpcore-*.whl
