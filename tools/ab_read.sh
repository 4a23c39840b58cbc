#!/usr/bin/env bash
# A/B ReadCaseStream of a 1,000-event stream for two builds of casetraild, security off, run in
# turn so both see the same noise: per round and build, a fresh data directory, one client and 16
# clients for 4 s each (casetrail-bench --mode=read_stream). Prints casetrail-bench's JSON lines.
#   tools/ab_read.sh BASE_BUILD_DIR NEW_BUILD_DIR [ROUNDS=4]
set -euo pipefail
base=$1 new=$2 rounds=${3:-4}
work=$(mktemp -d)
for r in $(seq 1 $rounds); do
  for label in base new; do
    b=$base; [[ $label == new ]] && b=$new
    dir=$work/$label-$r
    "$b/services/casetraild" --data_dir=$dir --listen=127.0.0.1:50097 --plaintext_loopback 2>$dir.log &
    s=$!
    for _ in $(seq 1 100); do grep -q "listening on" $dir.log 2>/dev/null && break; sleep 0.1; done
    one=$("$b/tools/casetrail-bench" --server=127.0.0.1:50097 --duration=4 --json --mode=read_stream --concurrency=1)
    sixteen=$("$b/tools/casetrail-bench" --server=127.0.0.1:50097 --duration=4 --json --mode=read_stream --concurrency=16)
    echo "$label round $r: c1 $one"
    echo "$label round $r: c16 $sixteen"
    kill -TERM $s; wait $s || true
  done
done
rm -rf $work
