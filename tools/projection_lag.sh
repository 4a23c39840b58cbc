#!/usr/bin/env bash
# Projection lag under append load (docs/benchmarks.md): starts casetraild on a fresh data
# directory, appends with casetrail-bench (64 unary clients, single-event appends, durable) for
# SECS seconds while projection_benchmark --mode=lag polls GetProjectionStatus, and prints both
# reports: how long the read model took to reach each log size it saw.
#   tools/projection_lag.sh [SECS=20] [BUILD_DIR=build] [extra casetrail-bench flags...]
# e.g. tools/projection_lag.sh 20 build --events_per_request=100 --concurrency=16
set -euo pipefail
secs=${1:-20} build=${2:-build}
shift $(( $# > 2 ? 2 : $# ))
work=$(mktemp -d)
server=
cleanup() { [[ -n $server ]] && kill -TERM "$server" 2>/dev/null && wait "$server" || true; rm -rf "$work"; }
trap cleanup EXIT
"$build/services/casetraild" --data_dir="$work/data" --listen=127.0.0.1:50094 --plaintext_loopback \
  2>"$work/log" &
server=$!
sleep 1
"$build/tests/projection_benchmark" --mode=lag --server=127.0.0.1:50094 \
  --duration="$((secs + 3))" --poll_ms=10 > "$work/lag" &
poller=$!
"$build/tools/casetrail-bench" --server=127.0.0.1:50094 --concurrency=64 --duration="$secs" "$@"
wait "$poller"
cat "$work/lag"
"$build/tools/casetrail" --server=127.0.0.1:50094 projections status
