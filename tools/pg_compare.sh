#!/usr/bin/env bash
# Runs the same append workloads against PostgreSQL 15 and casetraild on this machine, durable
# (fsync on, synchronous_commit on), 512-byte payloads, and prints both with their ratio. Also
# runs RocksDB's db_bench fillseq --sync=1 --batch_size=128 on the same disk as the ceiling.
#
# Usage: tools/pg_compare.sh [seconds per run, default 10]
# Everything runs on loopback in temporary directories that are removed at exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
build=${CASETRAIL_BUILD_DIR:-$root/build}
"$root/tools/install-deps.sh" >/dev/null
"$root/tools/build.sh" casetraild casetrail-bench >/dev/null

work=$(mktemp -d /var/tmp/casetrail-compare.XXXXXX)
chmod 755 "$work"
pgbin=/usr/lib/postgresql/15/bin
pgport=55432
cleanup() {
  [ -n "${server:-}" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  if [ -f "$work/pg/postmaster.pid" ]; then
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

payload=$(printf '{"filler":"%s"}' "$(head -c 499 /dev/zero | tr '\0' x)")  # 512 bytes

# --- PostgreSQL 15 ---
mkdir -p "$work/pg" "$work/pgsock" && chown postgres "$work/pg" "$work/pgsock"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -A trust >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pgsock/pg.log" -w start -o \
  "-p $pgport -k $work/pgsock -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on \
   -c shared_buffers=1GB -c max_wal_size=8GB -c max_connections=200" >/dev/null
psql=(psql -h 127.0.0.1 -p $pgport -U postgres -q -v ON_ERROR_STOP=1)
"${psql[@]}" -c "CREATE TABLE events (
  position bigserial PRIMARY KEY,
  stream_id text NOT NULL,
  version bigint NOT NULL,
  event_id text NOT NULL UNIQUE,
  event_type text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  payload jsonb NOT NULL,
  UNIQUE (stream_id, version))"

# Each client appends to its own stream; the version is the stream's head + 1, as an event
# store on PostgreSQL would do it.
cat > "$work/single.sql" <<SQL
INSERT INTO events (stream_id, version, event_id, event_type, payload)
SELECT 'bench-' || :client_id, coalesce(max(version), 0) + 1,
       md5(random()::text || clock_timestamp()::text), 'BenchEventRecorded', '$payload'::jsonb
FROM events WHERE stream_id = 'bench-' || :client_id;
SQL
cat > "$work/batch16.sql" <<SQL
BEGIN;
INSERT INTO events (stream_id, version, event_id, event_type, payload)
SELECT 'bench-' || :client_id, b.v + g, md5(random()::text || g || clock_timestamp()::text),
       'BenchEventRecorded', '$payload'::jsonb
FROM generate_series(1, 16) g,
     (SELECT coalesce(max(version), 0) AS v FROM events WHERE stream_id = 'bench-' || :client_id) b;
END;
SQL
pgbench_tps() {  # script clients
  pgbench -h 127.0.0.1 -p $pgport -U postgres -n -M prepared -f "$1" -c "$2" -j 2 -T "$secs" postgres 2>/dev/null |
    awk -F'= ' '/^tps/ {print int($2)}'
}
echo "running PostgreSQL workloads (${secs}s each)..." >&2
pg_single=$(pgbench_tps "$work/single.sql" 32)
pg_batch_tx=$(pgbench_tps "$work/batch16.sql" 16)
pg_batch=$((pg_batch_tx * 16))
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null

# --- casetraild ---
"$build/services/casetraild" --data_dir="$work/casetrail" --listen=127.0.0.1:50091 --plaintext_loopback \
  2>"$work/casetraild.log" &
server=$!
sleep 1
bench=("$build/tools/casetrail-bench" --server=127.0.0.1:50091 --duration="$secs" --json)
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }
echo "running casetraild workloads (${secs}s each)..." >&2
ct_single64=$("${bench[@]}" --concurrency=64 | field events_per_s)
ct_single32=$("${bench[@]}" --concurrency=32 | field events_per_s)
ct_stream64=$("${bench[@]}" --concurrency=64 --stream | field events_per_s)
ct_batch=$("${bench[@]}" --concurrency=16 --events_per_request=100 | field events_per_s)
steady=$("${bench[@]}" --rate=1000)
read1000=$("${bench[@]}" --mode=read_stream --concurrency=1 --stream_events=1000)
kill -TERM "$server"; wait "$server" || true; server=

# --- RocksDB ceiling ---
echo "running db_bench (ceiling)..." >&2
ceiling=$(db_bench --benchmarks=fillseq --sync=1 --batch_size=128 --value_size=512 --num=400000 \
  --db="$work/db_bench" --disable_auto_compactions=0 2>/dev/null | awk '/^fillseq/ {print $5}')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
printf '\n%-66s %12s\n' "workload (durable, 512-byte payloads, ${secs}s each)" "events/s"
printf '%-66s %12s\n' "PostgreSQL 15: single-row inserts, 32 clients" "$pg_single"
printf '%-66s %12s\n' "casetraild: single-event appends, 32 clients" "${ct_single32%.*}"
printf '%-66s %12s\n' "casetraild: single-event appends, 64 clients" "${ct_single64%.*}"
printf '%-66s %12s\n' "casetraild: single-event appends, 64 AppendEventsStream clients" "${ct_stream64%.*}"
printf '%-66s %12s\n' "PostgreSQL 15: 16-row transactions, 16 clients" "$pg_batch"
printf '%-66s %12s\n' "casetraild: 100-event appends, 16 clients" "${ct_batch%.*}"
printf '%-66s %12s\n' "RocksDB db_bench fillseq --sync=1 --batch_size=128 (ops/s)" "$ceiling"
echo
echo "ratio single  (casetraild 64 unary clients / PostgreSQL 32 clients): $(ratio "$ct_single64" "$pg_single")"
echo "ratio single  (casetraild 64 stream clients / PostgreSQL 32 clients): $(ratio "$ct_stream64" "$pg_single")"
echo "ratio batched (casetraild 100-event appends / PostgreSQL 16-row tx): $(ratio "$ct_batch" "$pg_batch")"
echo "steady 1,000 events/s: p50 $(echo "$steady" | field p50_ms) ms, p99 $(echo "$steady" | field p99_ms) ms, p99.9 $(echo "$steady" | field p999_ms) ms"
echo "read a 1,000-event stream: p50 $(echo "$read1000" | field p50_ms) ms, p99 $(echo "$read1000" | field p99_ms) ms"
