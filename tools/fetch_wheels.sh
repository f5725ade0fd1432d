#!/usr/bin/env bash
# Fill third_party/wheelhouse (git-ignored) with exactly the wheels of the lock, hashes checked.
# Bazel's @pypi repository and the dev/CI virtualenvs install from this directory only.
#
# tools/fetch_wheels.sh 3.9 3.12 ... instead fills third_party/wheelhouse-py39, ... with the
# wheels of third_party/requirements-py39.lock, ..., downloaded by that Python's own pip (so
# each gets the wheels its interpreter installs); tools/test_pythons.sh uses them.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1

fetch() {  # fetch PYTHON LOCK WHEELHOUSE
    mkdir -p "$3"
    "$1" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes -r "$2" -d "$3"
}

if [ $# -eq 0 ]; then
    fetch "$python" "$top/third_party/requirements.lock" "$top/third_party/wheelhouse"
    exit 0
fi
# shellcheck source=tools/pythons.sh
. "$top/tools/pythons.sh"
for version in "$@"; do
    tag=$(lock_tag "$version")
    if [ ! -f "$top/third_party/requirements-$tag.lock" ]; then
        echo "$0: no third_party/requirements-$tag.lock (make it with tools/lock_wheels.sh $version)" >&2
        exit 1
    fi
    version_python=$(find_python "$version") || {
        echo "$0: no Python $version on this machine (looked in $(pyenv_root)/versions and PATH)" >&2
        exit 1
    }
    fetch "$version_python" "$top/third_party/requirements-$tag.lock" "$top/third_party/wheelhouse-$tag"
done
