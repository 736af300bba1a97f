#!/usr/bin/env bash
# bench/multi_shard_read.sh: how a multi-shard SELECT returns many rows.
#
#   bash bench/multi_shard_read.sh
#
# Starts a throwaway 1 coordinator + 2 workers cluster (test/cluster.sh, the
# installed build), distributes a table of BENCH_ROWS rows (default 1M;
# bigint id, int, 64-char text, timestamptz; 32 shards, half on each worker)
# and measures, BENCH_RUNS times (default 5) after one warm-up, each in a new
# session:
#   - `SELECT * FROM big` with psql \timing (client-side wall time, output to
#     /dev/null), and the coordinator backend's peak resident memory after it
#     (VmHWM of /proc/self/status, read by the backend itself);
#   - the first row: `DECLARE c CURSOR FOR SELECT * FROM big; FETCH 1 FROM c`
#     in a transaction, \timing of the FETCH.
# Prints every run and the medians.  BENCH_KEEP=1 keeps the cluster.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
ROWS=${BENCH_ROWS:-1000000}
RUNS=${BENCH_RUNS:-5}

bench_workdir shardfdw-bench-msread
trap bench_cluster_stop EXIT
bench_cluster_start 2
sql "$C" shardfdw <<SQL
CREATE TABLE big (id bigint PRIMARY KEY, k int, v text, ts timestamptz);
SELECT create_distributed_table('big', 'id');
INSERT INTO big SELECT g, g % 1000, md5(g::text) || md5((g * 7)::text),
    '2026-01-01'::timestamptz + g * interval '1 second'
FROM generate_series(1, $ROWS) g;
ANALYZE big;
SQL
log "strategy: $(sql "$C" shardfdw -c 'EXPLAIN SELECT * FROM big' | sed -n 's/^ *Strategy: //p')"

cpsql() { "$BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$SF_SOCKDIR" -U "$SF_SUPERUSER" -p "$C" -d shardfdw "$@"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

times=() hwms=() firsts=()
for i in $(seq 0 "$RUNS"); do
	out=$(cpsql <<'SQL'
\o /dev/null
\timing on
SELECT * FROM big;
\timing off
\o
SELECT 'hwm ' || substring(pg_read_file('/proc/self/status') from 'VmHWM:\s*(\d+) kB');
SQL
)
	t=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
	hwm=$(sed -n 's/^hwm //p' <<<"$out")
	first=$(cpsql <<'SQL' | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM big;
\o /dev/null
\timing on
FETCH 1 FROM c;
\timing off
\o
COMMIT;
SQL
)
	log "run $i: SELECT * $t ms, peak memory $hwm kB, first row $first ms"
	[ "$i" -eq 0 ] && continue
	times+=("$t") hwms+=("$hwm") firsts+=("$first")
done
echo "rows $ROWS: SELECT * median $(median "${times[@]}") ms (runs ${times[*]});" \
	"peak backend memory median $(median "${hwms[@]}") kB;" \
	"first row (cursor FETCH 1) median $(median "${firsts[@]}") ms (runs ${firsts[*]});" \
	"load $(cut -d' ' -f1-3 /proc/loadavg)"
