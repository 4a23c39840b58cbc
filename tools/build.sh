#!/usr/bin/env bash
# Configures and builds casetrail with Ninja into build/ (or $CASETRAIL_BUILD_DIR).
# Usage: tools/build.sh [ninja targets...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CASETRAIL_BUILD_DIR:-$root/build}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C "$build" "$@"
