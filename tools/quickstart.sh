#!/usr/bin/env bash
# Quick start, command 1: installs what is missing, builds, starts casetraild on 127.0.0.1:50051
# with its data in .casetrail/data under the checkout, loads the fictional demo case, and writes
# the log's verifier key to .casetrail/log.vkey. The server speaks plaintext on loopback
# (--plaintext_loopback) with security off (no --security_config), which is for development only;
# a deployment serves TLS with security on (README.md, docs/security.md).
# Runs in the foreground; Ctrl-C stops the server cleanly. Re-running keeps the data (the demo
# append is idempotent).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-deps.sh"
"$root/tools/build.sh" casetraild casetrail casetrail-bench

build=${CASETRAIL_BUILD_DIR:-$root/build}
data=${CASETRAIL_DATA_DIR:-$root/.casetrail/data}
listen=${CASETRAIL_LISTEN:-127.0.0.1:50051}
mkdir -p "$data"
# Plaintext is allowed only on a loopback address: casetraild refuses a CASETRAIL_LISTEN that is not.
"$build/services/casetraild" --data_dir="$data" --listen="$listen" --plaintext_loopback &
server=$!
# Stop the server however this script ends (Ctrl-C, or a failed step below).
trap 'kill -TERM $server 2>/dev/null; wait $server' INT TERM EXIT

cli=("$build/tools/casetrail" --server="$listen")
for _ in $(seq 1 100); do
  if "${cli[@]}" health >/dev/null 2>&1; then break; fi
  if ! kill -0 $server 2>/dev/null; then echo "quickstart: casetraild did not start" >&2; exit 1; fi
  sleep 0.1
done
echo "quickstart: loading the fictional demo case"
if ! "${cli[@]}" append "$root/tools/demo/demo_case.json"; then
  echo "quickstart: the demo case was not loaded (see above). If $data holds an older demo," \
    "stop here, remove it and run again; the server keeps serving what it has." >&2
fi
# The log's public key, for `casetrail verify --key=.casetrail/log.vkey` (docs/integrity.md). In a
# real deployment an auditor gets it from the operator, not from the server being audited.
"${cli[@]}" key show --key_file="$data/checkpoint_signing.key" --json |
  sed -E 's/.*"verifier_key": "([^"]*)".*/\1/' >"$(dirname "$data")/log.vkey"
cat <<MSG

casetraild is serving plaintext on loopback at $listen (data in $data). This demo has no TLS
and security off (no authentication, tenants or access audit): it is for development only; a
deployment serves TLS with --security_config (README.md "Security", docs/security.md, which also
runs this demo with security on). In another terminal, try:
  ./build/tools/casetrail read case-NS-0001
  ./build/tools/casetrail chronology case-NS-0001
  ./build/tools/casetrail state case-NS-0001 --on=2026-05-01
  ./build/tools/casetrail pack NS-P-310552
  ./build/tools/casetrail tail
  ./build/tools/casetrail checkpoint --issue
The log's verifier key is in $(dirname "$data")/log.vkey.
Press Ctrl-C here to stop the server.
MSG
wait $server
