#!/usr/bin/env bash
# Quick start, command 2 (and CI): installs what is missing, builds everything, runs the whole
# test suite through ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-deps.sh"
"$root/tools/build.sh"
cd "${CASETRAIL_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j2 --timeout 900
