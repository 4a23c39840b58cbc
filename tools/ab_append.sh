#!/usr/bin/env bash
# A/B append throughput of two builds of casetraild on this machine, run in turn so that both see
# the same noise: for each round and each build, a fresh data directory and three workloads
# (single-event unary with 64 clients, single-event AppendEventsStream with 64 clients, 100-event
# appends with 16 clients), SECS seconds each, 512-byte payloads, durable. Prints one line per run
# and the median of each workload per build.
#   tools/ab_append.sh BASE_BUILD_DIR NEW_BUILD_DIR [ROUNDS=3] [SECS=5]
# e.g. git worktree add /tmp/base <commit> && (cd /tmp/base && tools/build.sh casetraild casetrail-bench)
#      tools/ab_append.sh /tmp/base/build build
set -euo pipefail
base=$1 new=$2 rounds=${3:-3} secs=${4:-5}
work=$(mktemp -d)
server=
cleanup() { [[ -n $server ]] && kill -TERM "$server" 2>/dev/null && wait "$server" || true; rm -rf "$work"; }
trap cleanup EXIT
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }
# Plaintext on loopback must be asked for; builds from before TLS do not know the flag.
# --helpfull exits 1, so its output is taken first: piped into grep under
# pipefail, the test would always fail and the flag never be passed.
plaintext_flag() {
  local help
  help=$("$1/services/casetraild" --helpfull 2>&1 || true)
  if grep -q -- --plaintext_loopback <<<"$help"; then
    echo --plaintext_loopback
  fi
}

run() {  # build label round
  local build=$1 label=$2 round=$3 dir="$work/$2-$3"
  local plaintext
  plaintext=$(plaintext_flag "$build")
  "$build/services/casetraild" --data_dir="$dir" --listen=127.0.0.1:50093 $plaintext 2>"$dir.log" &
  server=$!
  sleep 1
  local bench=("$build/tools/casetrail-bench" --server=127.0.0.1:50093 --duration="$secs" --json)
  local unary stream batch
  unary=$("${bench[@]}" --concurrency=64 | field events_per_s)
  stream=$("${bench[@]}" --concurrency=64 --stream | field events_per_s)
  batch=$("${bench[@]}" --concurrency=16 --events_per_request=100 | field events_per_s)
  kill -TERM "$server"; wait "$server" || true; server=
  rm -rf "$dir"
  printf '%s round %s: unary64 %.0f  stream64 %.0f  batch100x16 %.0f\n' "$label" "$round" \
    "$unary" "$stream" "$batch" | tee -a "$work/results"
}

for round in $(seq 1 "$rounds"); do
  run "$base" base "$round"
  run "$new" new "$round"
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for label in base new; do
  for w in unary64 stream64 batch100x16; do
    m=$(grep "^$label " "$work/results" | sed -E "s/.* $w ([0-9]+).*/\1/" | median)
    printf '%s median %s: %s\n' "$label" "$w" "$m"
  done
done
