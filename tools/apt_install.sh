#!/usr/bin/env bash
# Install Debian packages (the arguments) for the project's scripts: tools/test.sh,
# tools/demo.sh, tools/bench.sh. No arguments: nothing to do.
#
# Servers such as nginx are started by the tests themselves, as the current user, on free
# loopback ports. So the packages' own services must not start at install time: on a machine
# where port 80 is taken, or without an init system, a failing service start would fail the
# install. A temporary policy-rc.d (exit 101: "action forbidden") tells invoke-rc.d so.
set -euo pipefail
[ $# -gt 0 ] || exit 0
printf '\n=== apt: %s\n' "$*"
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee "$policy" >/dev/null
    $sudo_cmd chmod +x "$policy"
    trap '$sudo_cmd rm -f "$policy"' EXIT
fi
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
