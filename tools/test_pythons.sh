#!/usr/bin/env bash
# The per-Python stage of tools/test.sh (also runs alone): the whole pytest suite against the
# installed compiled wheel and the installed pure wheel on each supported CPython besides the
# main one (3.9, 3.10, 3.12, 3.13; tools/test.sh's own wheel stage covers 3.11).
#
# For each version: the compiled wheel is built by that interpreter (PYTHON=... 
# tools/build_wheels.sh, Cython from that version's wheelhouse); the pure wheel is built once.
# Each is installed in a fresh virtualenv of that interpreter with the test dependencies of
# that version's lock (third_party/requirements-py<XY>.lock, tools/lock_wheels.sh), and
# `pytest tests` runs with the same HTTPCORE_* variables as the 3.11 stage.
#
# HTTPCORE_PYTHONS=3.9,3.12 narrows (or, with 3.11, widens) the list explicitly. Without it, a
# version that is not installed fails the run, with a message saying so: CI never tests less
# than it claims. Interpreters are found in $PYENV_ROOT (or `pyenv root`, or ~/.pyenv)
# /versions/X.Y.*, else as pythonX.Y on PATH (tools/pythons.sh).
# Arguments are passed to each pytest run (e.g. -x, -k ...).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
# shellcheck source=tools/pythons.sh
. tools/pythons.sh

step() { printf '\n=== %s\n' "$*"; }

if [ -n "${HTTPCORE_PYTHONS:-}" ]; then
    IFS=', ' read -r -a listed <<<"$HTTPCORE_PYTHONS"
    versions=()
    for version in ${listed[@]+"${listed[@]}"}; do
        [ -n "$version" ] && versions+=("$version")
    done
    for version in ${versions[@]+"${versions[@]}"}; do
        case " ${HTTPCORE_SUPPORTED_PYTHONS[*]} " in
        *" $version "*) ;;
        *)
            echo "$0: HTTPCORE_PYTHONS: $version is not a supported version (${HTTPCORE_SUPPORTED_PYTHONS[*]})" >&2
            exit 2
            ;;
        esac
    done
    if [ ${#versions[@]} -eq 0 ]; then
        echo "$0: HTTPCORE_PYTHONS is set but names no version" >&2
        exit 2
    fi
    untested=()
    for version in "${HTTPCORE_SUPPORTED_PYTHONS[@]}"; do
        case " ${versions[*]} " in *" $version "*) ;; *) untested+=("$version") ;; esac
    done
    echo "$0: HTTPCORE_PYTHONS=$HTTPCORE_PYTHONS: testing ${versions[*]} only;" \
        "not tested here: ${untested[*]:-none} (3.11 is tested by tools/test.sh's own stage)"
else
    versions=("${HTTPCORE_OTHER_PYTHONS[@]}")
fi

# Every interpreter first: a missing one fails before anything is built.
declare -A pythons=()
missing=()
found=()
for version in "${versions[@]}"; do
    if python=$(find_python "$version"); then
        pythons[$version]=$python
        found+=("$version")
    else
        missing+=("$version")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "$0: CPython ${missing[*]} not found (looked in $(pyenv_root)/versions/X.Y.* and for pythonX.Y on PATH)." >&2
    echo "$0: install it (e.g. pyenv install ${missing[0]}), or narrow the list explicitly:" \
        "HTTPCORE_PYTHONS=$(IFS=,; echo "${found[*]:-3.11}") tests only those." >&2
    exit 1
fi
for version in "${versions[@]}"; do
    echo "Python $version: ${pythons[$version]} ($("${pythons[$version]}" -c 'import sys; print(sys.version.split()[0])'))"
done

# The lock and wheelhouse of a version: the main ones for the main Python.
lock_of() {
    if [ "$1" = "$HTTPCORE_MAIN_PYTHON" ]; then echo third_party/requirements.lock; else echo "third_party/requirements-$(lock_tag "$1").lock"; fi
}
wheelhouse_of() {
    if [ "$1" = "$HTTPCORE_MAIN_PYTHON" ]; then echo third_party/wheelhouse; else echo "third_party/wheelhouse-$(lock_tag "$1")"; fi
}

step "locked wheels for Python ${versions[*]}"
for version in "${versions[@]}"; do
    if [ "$version" = "$HTTPCORE_MAIN_PYTHON" ]; then
        PYTHON=${pythons[$version]} tools/fetch_wheels.sh
    else
        tools/fetch_wheels.sh "$version"
    fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "the pure wheel (once, with Python ${versions[0]})"
PYTHON=${pythons[${versions[0]}]} tools/build_wheels.sh "$work/first"
pure_wheel=$(ls "$work"/first/pure/httpcore-*.whl)

summary=()
failed=0
for version in "${versions[@]}"; do
    python=${pythons[$version]}
    tag=$(lock_tag "$version")
    step "Python $version: the compiled wheel"
    if [ "$version" = "${versions[0]}" ]; then
        compiled_wheel=$(ls "$work"/first/httpcore-*.whl)
    else
        PYTHON=$python tools/build_wheels.sh --compiled-only "$work/$tag"
        compiled_wheel=$(ls "$work/$tag"/httpcore-*.whl)
    fi
    for form in compiled pure; do
        if [ "$form" = pure ]; then wheel=$pure_wheel; else wheel=$compiled_wheel; fi
        step "Python $version: pytest against the installed $form wheel ($(basename "$wheel"))"
        "$python" -m venv "$work/venv-$tag-$form"
        venv_python="$work/venv-$tag-$form/bin/python"
        "$venv_python" -m pip install --quiet --no-index --find-links "$(wheelhouse_of "$version")" \
            --require-hashes --no-deps -r "$(lock_of "$version")"
        "$venv_python" -m pip install --quiet --no-index --no-deps "$wheel"
        expect_pure=0
        [ "$form" = pure ] && expect_pure=1
        start=$SECONDS
        # A failing run does not stop the stage: every version and form is reported, then the
        # stage fails if any did.
        if HTTPCORE_TEST_INSTALLED=1 HTTPCORE_EXPECT_PURE=$expect_pure \
            HTTPCORE_WHEEL=$compiled_wheel HTTPCORE_PURE_WHEEL=$pure_wheel \
            "$venv_python" -m pytest -q -p no:cacheprovider tests "$@"; then
            result=passed
        else
            result=FAILED
            failed=1
        fi
        summary+=("Python $version, $form wheel: $result ($((SECONDS - start)) s)")
        rm -rf "$work/venv-$tag-$form"
    done
done

step "per-Python stage: $([ "$failed" = 0 ] && echo "all passed" || echo FAILED)"
printf '%s\n' "${summary[@]}"
if [ -n "${HTTPCORE_PYTHONS:-}" ]; then
    echo "(HTTPCORE_PYTHONS=$HTTPCORE_PYTHONS: only these versions were tested)"
fi
exit "$failed"
