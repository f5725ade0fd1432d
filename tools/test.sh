#!/usr/bin/env bash
# The project's test command (README): sets up what a fresh machine lacks, then runs
#   1. bazel test //...   every lib's tests (compiled and pure forms), mypy --strict per lib
#                         and over tests/tools, the unasync staleness check;
#   2. pytest on the installed wheels: the compiled wheel and the pure wheel, each in a fresh
#      virtualenv, so the suite also runs against what users install (test counts printed);
#   2b. a smoke run of the benchmark (tools/bench.sh --smoke): does it run, do figures come out;
#   3. the same on every other supported CPython (3.9, 3.10, 3.12, 3.13), each with its own
#      compiled wheel and lock: tools/test_pythons.sh (a missing interpreter fails the run
#      unless HTTPCORE_PYTHONS=3.12,... narrows the list explicitly).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
python=${PYTHON:-python3}
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\n=== %s\n' "$*"; }

need_apt=()
command -v bazel >/dev/null || need_apt+=(bazel-bootstrap)
# nginx: the real server of the integration tests (tests/integration, tools/servers/nginx.py).
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
# nghttpd: the HTTP/2 server of the integration tests (trailers; tools/servers/nghttpd.py).
command -v nghttpd >/dev/null || [ -x /usr/sbin/nghttpd ] || need_apt+=(nghttp2-server)
# tinyproxy, microsocks, stunnel4: the real proxies of the proxy integration tests
# (tools/servers/tinyproxy.py, microsocks.py, stunnel.py: an HTTPS proxy in front of tinyproxy).
command -v tinyproxy >/dev/null || [ -x /usr/bin/tinyproxy ] || need_apt+=(tinyproxy)
command -v microsocks >/dev/null || [ -x /usr/bin/microsocks ] || need_apt+=(microsocks)
command -v stunnel4 >/dev/null || [ -x /usr/bin/stunnel4 ] || need_apt+=(stunnel4)
tools/apt_install.sh ${need_apt[@]+"${need_apt[@]}"}

step "locked wheels"
tools/fetch_wheels.sh

step "bazel test //..."
bazel test //... "$@"

step "wheels"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tools/build_wheels.sh "$work/dist"

for form in compiled pure; do
    if [ "$form" = pure ]; then wheel=$(ls "$work"/dist/pure/httpcore-*.whl); else wheel=$(ls "$work"/dist/httpcore-*.whl); fi
    step "pytest against the installed $form wheel ($(basename "$wheel"))"
    "$python" -m venv "$work/venv-$form"
    venv_python="$work/venv-$form/bin/python"
    "$venv_python" -m pip install --quiet --no-index --find-links third_party/wheelhouse \
        --require-hashes --no-deps -r third_party/requirements.lock
    "$venv_python" -m pip install --quiet --no-index --no-deps "$wheel"
    expect_pure=0
    [ "$form" = pure ] && expect_pure=1
    HTTPCORE_TEST_INSTALLED=1 HTTPCORE_EXPECT_PURE=$expect_pure \
    HTTPCORE_WHEEL=$(ls "$work"/dist/httpcore-*.whl) HTTPCORE_PURE_WHEEL=$(ls "$work"/dist/pure/httpcore-*.whl) \
        "$venv_python" -m pytest -q -p no:cacheprovider tests
done

step "benchmark smoke run"
# tools/bench.sh --smoke: every benchmark scenario briefly for every client (venvs from PyPI),
# with the compiled wheel built above, the report in $work/bench (docs/ is left alone). It
# fails only when the benchmark itself breaks, never on timings.
tools/bench.sh --smoke --wheel "$(ls "$work"/dist/httpcore-*.whl)" --output "$work/bench"

step "the other supported Pythons"
tools/test_pythons.sh
