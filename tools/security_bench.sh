#!/usr/bin/env bash
# What security costs (issue 6): the same build of casetraild in four modes, run in turn so that
# all see the same noise:
#   off  security off (plaintext on loopback, no --security_config), clients send no credentials;
#   hdr  security off, but clients send the same tokens, purposes and tenant-prefixed stream ids as
#        in "on" (what carrying credentials costs the clients and gRPC, the server ignoring them);
#   on   tools/dev-security.sh's configuration: bearer tokens verified (once per token), the role x
#        RPC matrix, case scope from the read model, and an access event appended and synced for
#        every read;
#   nosync "on" with --unsafe_no_fsync: the same work, but the log (and so the access events) is not
#        synced before an answer; what separates it from "on" is the fsync alone. Not a
#        configuration to deploy: it measures where the cost of "on" lies.
# Each round starts a fresh data directory and measures:
#   unary64, stream64, batch100x16  appends/s (casetrail-bench, as tools/ab_append.sh);
#   read1000 p50/p99    ReadCaseStream of a 1,000-event stream, one client (casetrail-bench);
#   read16 reads/s      the same read from 16 clients at once;
#   chron1000 p50/p99   GetChronology, one page of a 1,000-event case (projection_benchmark);
#   chron100 p50/p99    the first 100 entries of it.
# With security on, an upstream system's token appends and a service manager's token reads.
# Prints one line per run and the median of each figure per mode.
#   tools/security_bench.sh [BUILD_DIR=build] [ROUNDS=3] [SECS=5] [WHAT=all|reads]
# WHAT=reads skips the three append figures (printed as 0), for more rounds of the reads alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build} rounds=${2:-3} secs=${3:-5} what=${4:-all}
work=$(mktemp -d)
server=
cleanup() { [[ -n $server ]] && kill -TERM "$server" 2>/dev/null && wait "$server" || true; rm -rf "$work"; }
trap cleanup EXIT
"$root/tools/dev-security.sh" "$work/security" "$build" >/dev/null
tokens=$work/security/tokens
address=127.0.0.1:50096
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }
pct() { grep "$1" | sed -E "s/.* $2 +([0-9.]+) ms.*/\1/"; }

run() {  # mode round
  local mode=$1 round=$2 dir="$work/data-$1-$2"
  local flags=(--plaintext_loopback) writer=() reader=() query=()
  if [[ $mode == on || $mode == nosync ]]; then
    flags+=(--security_config="$work/security/security.textproto")
  fi
  if [[ $mode == nosync ]]; then flags+=(--unsafe_no_fsync); fi
  if [[ $mode != off ]]; then
    writer=(--token_file="$tokens/northshire-upstream_system.jwt"
            --purpose=system-reconciliation --stream_prefix=northshire/)
    query=(--token_file="$tokens/northshire-service_manager.jwt" --purpose=supervision
           --append_token_file="$tokens/northshire-upstream_system.jwt" --stream_prefix=northshire/)
  fi
  "$build/services/casetraild" --data_dir="$dir" --listen=$address "${flags[@]}" 2>"$dir.log" &
  server=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$dir.log" 2>/dev/null && break; sleep 0.1; done
  local bench=("$build/tools/casetrail-bench" --server=$address --duration="$secs" --json "${writer[@]}")
  local unary stream batch read read16 chron
  unary=0 stream=0 batch=0
  if [[ $what != reads ]]; then
    unary=$("${bench[@]}" --concurrency=64 | field events_per_s)
    stream=$("${bench[@]}" --concurrency=64 --stream | field events_per_s)
    batch=$("${bench[@]}" --concurrency=16 --events_per_request=100 | field events_per_s)
  fi
  read=$("${bench[@]}" --mode=read_stream --concurrency=1)
  read16=$("${bench[@]}" --mode=read_stream --concurrency=16 | field requests_per_s)
  chron=$("$build/tests/projection_benchmark" --mode=server --server=$address --cases=0 \
    --samples=300 "${query[@]}")
  kill -TERM "$server"; wait "$server" || true; server=
  rm -rf "$dir"
  printf '%s round %s: unary64 %.0f  stream64 %.0f  batch100x16 %.0f  read1000 %s %s  read16 %.0f  chron1000 %s %s  chron100 %s %s\n' \
    "$mode" "$round" "$unary" "$stream" "$batch" \
    "$(field p50_ms <<<"$read")" "$(field p99_ms <<<"$read")" "$read16" \
    "$(pct '(<=1000)' p50 <<<"$chron")" "$(pct '(<=1000)' p99 <<<"$chron")" \
    "$(pct 'first 100' p50 <<<"$chron")" "$(pct 'first 100' p99 <<<"$chron")" | tee -a "$work/results"
}

for round in $(seq 1 "$rounds"); do
  run off "$round"
  run hdr "$round"
  run on "$round"
  run nosync "$round"
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v n="$1" '{print $n}'; }
# Fields after "MODE round N:": unary64 V stream64 V batch100x16 V read1000 P50 P99 read16 V
# chron1000 P50 P99 chron100 P50 P99
for mode in off hdr on nosync; do
  rows=$(grep "^$mode " "$work/results")
  printf '%s median: unary64 %s  stream64 %s  batch100x16 %s  read1000 p50 %s p99 %s  read16 %s  chron1000 p50 %s p99 %s  chron100 p50 %s p99 %s\n' \
    "$mode" "$(col 5 <<<"$rows" | median)" "$(col 7 <<<"$rows" | median)" "$(col 9 <<<"$rows" | median)" \
    "$(col 11 <<<"$rows" | median)" "$(col 12 <<<"$rows" | median)" "$(col 14 <<<"$rows" | median)" \
    "$(col 16 <<<"$rows" | median)" "$(col 17 <<<"$rows" | median)" \
    "$(col 19 <<<"$rows" | median)" "$(col 20 <<<"$rows" | median)"
done
