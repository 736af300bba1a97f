#!/usr/bin/env bash
# bench/copy.sh: COPY throughput into a distributed table, against the
# physical limit and against native partitioning over postgres_fdw.
#
#   bash bench/copy.sh --dir CLUSTER_DIR [--rows N] [--native-rows N]
#
# CLUSTER_DIR is a running cluster of test/cluster.sh (coordinator + workers,
# e.g. `bash test/cluster.sh start --workers 2 --dir /tmp/bench`).  Prints
# rows/s for:
#   shardfdw  \copy of an N-row CSV into a distributed table (32 shards);
#   direct    the same rows, split per shard beforehand, loaded straight
#             into the workers' shard tables, all shards in parallel (the
#             physical limit: no routing, no coordinator);
#   native    \copy into a hash-partitioned table whose partitions are
#             postgres_fdw foreign tables on the same workers (PostgreSQL
#             15 sends one row per round trip there, so it loads only
#             --native-rows rows, default 100000).
# The tables are dropped at the end.
set -euo pipefail

dir=
rows=1000000
native_rows=100000
while [ $# -gt 0 ]; do
	case "$1" in
		--dir) dir=$2; shift 2 ;;
		--rows) rows=$2; shift 2 ;;
		--native-rows) native_rows=$2; shift 2 ;;
		*) echo "usage: $0 --dir CLUSTER_DIR [--rows N] [--native-rows N]" >&2; exit 2 ;;
	esac
done
[ -n "$dir" ] && [ -f "$dir/cluster.env" ] || { echo "no cluster in '$dir'" >&2; exit 2; }
# shellcheck disable=SC1091
. "$dir/cluster.env"
export PATH="$SF_BINDIR:$PATH"

as_user() { if [ "$(id -un)" = "$SF_OSUSER" ]; then "$@"; else runuser -u "$SF_OSUSER" -- "$@"; fi; }
coord() { as_user psql -X -q -v ON_ERROR_STOP=1 -h "$SF_SOCKDIR" -p "$SF_PORT_coordinator" -U "$SF_SUPERUSER" -d "$SF_DBNAME" "$@"; }
worker() { local i=$1; shift; local p="SF_PORT_worker$i"; as_user psql -X -q -v ON_ERROR_STOP=1 -h "$SF_SOCKDIR" -p "${!p}" -U "$SF_SUPERUSER" -d "$SF_WORKER_DBNAME" "$@"; }
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

work=$(mktemp -d /tmp/shardfdw-bench-copy.XXXXXX)
chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown "$SF_OSUSER" "$work"
trap 'rm -rf "$work"' EXIT

awk -v n="$rows" 'BEGIN { for (i = 1; i <= n; i++) printf "%d,%d,name %d,%d.5\n", i, i % 1000, i, i }' > "$work/data.csv"
head -n "$native_rows" "$work/data.csv" > "$work/native.csv"
chmod 644 "$work"/*.csv

coord <<'SQL'
DROP TABLE IF EXISTS bench_copy, bench_native;
SET shardfdw.shard_count = 32;
CREATE TABLE bench_copy (id bigint PRIMARY KEY, k int, name text, x numeric);
SELECT create_distributed_table('bench_copy', 'id');
SQL

# ---- shardfdw
t0=$(now)
coord -c "\\copy bench_copy FROM '$work/data.csv' WITH (FORMAT csv)"
t1=$(now)
shardfdw_rate=$(rate "$rows" "$t0" "$t1")
[ "$(coord -Atc 'SELECT count(*) FROM bench_copy')" = "$rows" ] || { echo "row count mismatch" >&2; exit 1; }

# ---- direct: per-shard files, then all shards in parallel straight into
# the workers (truncated first)
mapfile -t shards < <(coord -AtF' ' -c "SELECT shard_name, substr(server_name, 7) FROM shardfdw.shards WHERE table_name = 'bench_copy'::regclass ORDER BY 1")
for s in "${shards[@]}"; do
	set -- $s
	coord -c "\\copy (SELECT * FROM $1) TO '$work/$1.csv' WITH (FORMAT csv)"
	worker "$2" -c "TRUNCATE public.$1"
done
t0=$(now)
pids=()
for s in "${shards[@]}"; do
	set -- $s
	worker "$2" -c "\\copy public.$1 FROM '$work/$1.csv' WITH (FORMAT csv)" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
t1=$(now)
direct_rate=$(rate "$rows" "$t0" "$t1")

# ---- native partitioning over postgres_fdw
coord <<SQL
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
CREATE TABLE bench_native (id bigint, k int, name text, x numeric) PARTITION BY HASH (id);
SQL
nworkers=$SF_WORKERS
for i in $(seq 1 "$nworkers"); do
	p="SF_PORT_worker$i"
	coord -c "DROP SERVER IF EXISTS bench_pg$i CASCADE" \
		-c "CREATE SERVER bench_pg$i FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$SF_SOCKDIR', port '${!p}', dbname '$SF_WORKER_DBNAME')" \
		-c "CREATE USER MAPPING FOR CURRENT_USER SERVER bench_pg$i OPTIONS (user '$SF_SUPERUSER')"
done
for r in $(seq 0 31); do
	i=$(( r % nworkers + 1 ))
	worker "$i" -c "DROP TABLE IF EXISTS public.bench_native_$r" -c "CREATE TABLE public.bench_native_$r (id bigint PRIMARY KEY, k int, name text, x numeric)"
	coord -c "CREATE FOREIGN TABLE bench_native_$r PARTITION OF bench_native FOR VALUES WITH (MODULUS 32, REMAINDER $r) SERVER bench_pg$i OPTIONS (table_name 'bench_native_$r')"
done
t0=$(now)
coord -c "\\copy bench_native FROM '$work/native.csv' WITH (FORMAT csv)"
t1=$(now)
native_rate=$(rate "$native_rows" "$t0" "$t1")

coord -c "DROP TABLE bench_native" -c "DROP TABLE bench_copy"
for i in $(seq 1 "$nworkers"); do
	coord -c "DROP SERVER bench_pg$i CASCADE"
	for r in $(seq 0 31); do worker "$i" -c "DROP TABLE IF EXISTS public.bench_native_$r"; done
done

printf '%-10s %10s rows/s  (%s rows)\n' shardfdw "$shardfdw_rate" "$rows" direct "$direct_rate" "$rows" native "$native_rate" "$native_rows"
awk -v s="$shardfdw_rate" -v d="$direct_rate" -v n="$native_rate" \
	'BEGIN { printf "shardfdw / direct = %.2f, shardfdw / native = %.1f\n", s / d, s / n }'
