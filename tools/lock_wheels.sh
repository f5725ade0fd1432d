#!/usr/bin/env bash
# Regenerate the per-Python locks third_party/requirements-py<XY>.lock from the main lock.
# Usage: tools/lock_wheels.sh [VERSION...]      (default: 3.9 3.10 3.12 3.13; needs PyPI)
#
# third_party/requirements.lock is the main lock (Python 3.11: Bazel, the dev environment and
# the 3.11 wheel tests). The other supported Pythons (tools/test_pythons.sh) each get their own
# lock of the same packages, because some locked versions have no wheel for them or have
# dropped them (requires-python). For each version, that interpreter's own pip resolves every
# package of the main lock, capped at its main-lock version (`name<=version`), wheels only
# (--only-binary=:all:): each package gets its main-lock version when that Python can install
# it, else the newest earlier one that it can. Packages only that Python needs (tomli on
# 3.9/3.10) come in at their newest compatible version. The lock records, like the main lock,
# the exact version and the sha256 of the one wheel that interpreter installs. httpx's
# dependency on httpcore is left out: the tests install httpx with --no-deps next to our wheel.
#
# The interpreters are found as in tools/test_pythons.sh ($PYENV_ROOT, `pyenv root`, ~/.pyenv,
# then python<X.Y> on PATH). Review the diff; fetch with tools/fetch_wheels.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# shellcheck source=tools/pythons.sh
. "$top/tools/pythons.sh"

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=("${HTTPCORE_OTHER_PYTHONS[@]}")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Every package of the main lock, capped at its locked version.
sed -n 's/^\([A-Za-z0-9._-]*\)==\([^ ]*\) .*/\1<=\2/p' "$top/third_party/requirements.lock" \
    >"$work/caps.txt"

for version in "${versions[@]}"; do
    python=$(find_python "$version") || {
        echo "$0: no Python $version on this machine (looked in $(pyenv_root)/versions and PATH)" >&2
        exit 1
    }
    tag=$(lock_tag "$version")
    lock="$top/third_party/requirements-$tag.lock"
    echo "$0: resolving for Python $version ($python) -> ${lock#"$top"/}"
    "$python" -m pip install --quiet --dry-run --ignore-installed --only-binary=:all: \
        --report "$work/report-$tag.json" -r "$work/caps.txt" >/dev/null
    python3 - "$work/report-$tag.json" "$lock" "$version" <<'EOF'
import json
import re
import sys

report, lock, version = sys.argv[1:]
entries = []
for item in json.load(open(report, encoding="utf-8"))["install"]:
    name = re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower()
    if name == "httpcore":  # httpx's dependency: our wheel is the httpcore under test
        continue
    sha256 = item["download_info"]["archive_info"]["hashes"]["sha256"]
    entries.append((name, f"{name}=={item['metadata']['version']} \\\n    --hash=sha256:{sha256}\n"))
with open(lock, "w", encoding="utf-8") as out:
    out.write(
        f"# Exact versions and hashes of the wheels the tests use on Python {version}: the main lock\n"
        "# (requirements.lock) capped per package at its main-lock version, resolved for this Python.\n"
        "# Regenerate with tools/lock_wheels.sh; fetch with tools/fetch_wheels.sh.\n"
    )
    out.writelines(entry for _, entry in sorted(entries))
EOF
done
