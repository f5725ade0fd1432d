#!/bin/sh
echo "coverage through Bazel is not supported offline; use coverage.py outside Bazel" >&2
exit 1
