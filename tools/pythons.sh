# Sourced by tools/test_pythons.sh, tools/lock_wheels.sh and tools/fetch_wheels.sh:
# which CPython versions are supported and tested, and where their interpreters are.

# Every supported CPython (pyproject.toml: requires-python >= 3.9). The main lock
# (third_party/requirements.lock) is for MAIN_PYTHON, which Bazel and the first wheel stage of
# tools/test.sh use; each other version has third_party/requirements-py<XY>.lock.
HTTPCORE_SUPPORTED_PYTHONS=(3.9 3.10 3.11 3.12 3.13)
HTTPCORE_MAIN_PYTHON=3.11
HTTPCORE_OTHER_PYTHONS=(3.9 3.10 3.12 3.13)

# py39 for 3.9: the suffix of a version's lock and wheelhouse.
lock_tag() { echo "py${1/./}"; }

pyenv_root() {
    if [ -n "${PYENV_ROOT:-}" ]; then
        echo "$PYENV_ROOT"
    elif command -v pyenv >/dev/null 2>&1; then
        pyenv root
    else
        echo "$HOME/.pyenv"
    fi
}

# The interpreter of CPython X.Y: the newest pyenv-installed X.Y.*, else pythonX.Y on PATH.
# Prints nothing and fails when there is none.
find_python() {
    local version=$1 root candidate
    root=$(pyenv_root)
    for candidate in $(ls -d "$root"/versions/"$version".* 2>/dev/null | sort -t. -k3,3nr) \
        "$(command -v "python$version" 2>/dev/null || true)"; do
        [ -n "$candidate" ] || continue
        [ -d "$candidate" ] && candidate=$candidate/bin/python
        [ -x "$candidate" ] || continue
        if [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$version" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}
