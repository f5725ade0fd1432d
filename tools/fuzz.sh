#!/usr/bin/env bash
# The long-run coverage-guided fuzzer of the HTTP/1.1 response codec (tools/fuzz):
#   tools/fuzz.sh [--runs N] [--max-seconds S] [corpus_dir ...]
# atheris and h11 go into a virtualenv of their own, outside the work tree (atheris is not a
# project dependency); the libs' pure-Python sources go on its path through a .pth file.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${HTTPCORE_FUZZ_CACHE:-$HOME/.cache/httpcore-fuzz}
venv=$cache/venv
python=${PYTHON:-python3.11}
if [ ! -x "$venv/bin/python" ]; then
    mkdir -p "$cache"
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import atheris, h11" 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check atheris h11
fi
site=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
: > "$site/httpcore_fuzz_libs.pth"
for lib in "$top"/libs/*/; do
    if [ -d "$lib/httpcore" ]; then
        echo "${lib%/}" >> "$site/httpcore_fuzz_libs.pth"
    fi
done
cd "$top"
exec "$venv/bin/python" -m tools.fuzz "$@"
