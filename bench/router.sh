#!/usr/bin/env bash
# bench/router.sh: router statements against the same statements sent
# straight to the worker holding the shard (the physical limit), and against
# the FDW path of the same coordinator (shardfdw.enable_router = off).
#
#   bash bench/router.sh            # writes bench/RESULTS.md
#
# Starts its own cluster (test/cluster.sh: 1 coordinator + 2 workers, fsync
# off) in a temp dir, loads ROWS rows (default 100000) into a distributed
# key/value table, and runs pgbench (1 client, BENCH_SECONDS seconds each, default
# 10, env BENCH_SECONDS) with the simple and the prepared protocol for:
#   - a lookup by primary key (SELECT v FROM kv WHERE k = 42 AND id = 42)
#   - a single-row INSERT (with a bigserial default, so the router computes
#     nextval() on the coordinator)
# Direct-to-worker runs the same statements on the shard table itself.
#
# Scope: this is the router part of issue 3's benchmark only; the
# multi-shard / two-phase queries against native partitioning over
# postgres_fdw and one local PostgreSQL are not measured yet.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/test/lib/common.sh"
ROWS=${ROWS:-100000}
SECONDS_EACH=${BENCH_SECONDS:-10}
PGC=$(sf_pg_config)
BINDIR=$("$PGC" --bindir)
WORK=$(mktemp -d /tmp/shardfdw-bench.XXXXXX)
chmod 755 "$WORK"
trap 'bash "$ROOT/test/cluster.sh" stop --dir "$WORK/cluster" --wipe >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
bash "$ROOT/test/cluster.sh" start --workers 2 --dir "$WORK/cluster" >/dev/null
. "$WORK/cluster/cluster.env"
PSQL=("$BINDIR/psql" -X -q -At -h "$SF_SOCKDIR" -U "$SF_SUPERUSER")
coord() { "${PSQL[@]}" -p "$SF_PORT_coordinator" -d "$SF_DBNAME" "$@"; }

coord <<SQL
CREATE TABLE kv (id bigserial, k bigint, v text, PRIMARY KEY (k, id));
SELECT create_distributed_table('kv', 'k');
INSERT INTO kv (k, v) SELECT i, 'value ' || i FROM generate_series(1, $ROWS) i;
ANALYZE kv;
SQL
# the shard of key 42 and its worker
SHARD=$(coord -c "SELECT tableoid::regclass FROM kv WHERE k = 42")
SERVER=$(coord -c "SELECT n.server_name FROM shardfdw.shard s JOIN shardfdw.placement p USING (shardid) JOIN shardfdw.node n USING (nodeid) WHERE s.shard_relid = '$SHARD'::regclass")
WPORT_VAR="SF_PORT_$SERVER"
WPORT=${!WPORT_VAR}

mk() { printf '%s\n' "$2" > "$WORK/$1.sql"; }
mk router_select "SELECT v FROM kv WHERE k = 42 AND id = 42;"
mk direct_select "SELECT v FROM public.$SHARD WHERE k = 42 AND id = 42;"
mk fdw_select "SET shardfdw.enable_router = off;
SELECT v FROM kv WHERE k = 42 AND id = 42;"
mk router_insert "INSERT INTO kv (k, v) VALUES (42, 'new');"
mk direct_insert "INSERT INTO public.$SHARD (id, k, v) VALUES (nextval('public.kv_id_seq'), 42, 'new');"
chmod -R a+rX "$WORK"
# the worker needs the sequence for the direct INSERT: a local one
"${PSQL[@]}" -p "$WPORT" -d "$SF_WORKER_DBNAME" -c "CREATE SEQUENCE IF NOT EXISTS public.kv_id_seq START 10000000"

tps() {   # tps PORT DB MODE FILE
	sf_as_server_user "$BINDIR/pgbench" -n -h "$SF_SOCKDIR" -U "$SF_SUPERUSER" -p "$1" -d "$2" \
		-M "$3" -T "$SECONDS_EACH" -c 1 -f "$WORK/$4.sql" 2>&1 |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
declare -A R
for mode in simple prepared; do
	R[direct_select_$mode]=$(tps "$WPORT" "$SF_WORKER_DBNAME" $mode direct_select)
	R[router_select_$mode]=$(tps "$SF_PORT_coordinator" "$SF_DBNAME" $mode router_select)
	R[fdw_select_$mode]=$(tps "$SF_PORT_coordinator" "$SF_DBNAME" $mode fdw_select)
	R[direct_insert_$mode]=$(tps "$WPORT" "$SF_WORKER_DBNAME" $mode direct_insert)
	R[router_insert_$mode]=$(tps "$SF_PORT_coordinator" "$SF_DBNAME" $mode router_insert)
done
STRATEGY=$(coord -c "EXPLAIN (COSTS OFF) INSERT INTO kv (k, v) VALUES (42, 'new')" | sed -n 's/^ *Strategy: //p')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
{
	echo "# shardfdw benchmark results (router)"
	echo
	echo "Produced by \`bash bench/router.sh\` (ROWS=$ROWS, ${SECONDS_EACH}s per run, 1 pgbench client)"
	echo "on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPU(s), 1 coordinator + 2 workers on one host (test/cluster.sh, fsync off)."
	echo "Key 42 lives in shard $SHARD on $SERVER. INSERT strategy: ${STRATEGY:-?}."
	echo
	echo "| statement | protocol | direct to worker (tps) | shardfdw router (tps) | router / direct | FDW path (tps) |"
	echo "|---|---|---|---|---|---|"
	for mode in simple prepared; do
		echo "| lookup by key | $mode | ${R[direct_select_$mode]} | ${R[router_select_$mode]} | $(ratio "${R[router_select_$mode]}" "${R[direct_select_$mode]}") | ${R[fdw_select_$mode]} |"
		echo "| single-row INSERT | $mode | ${R[direct_insert_$mode]} | ${R[router_insert_$mode]} | $(ratio "${R[router_insert_$mode]}" "${R[direct_insert_$mode]}") | |"
	done
	echo
	echo "Targets (issue 3): lookup >= 0.5x of direct, INSERT >= 0.6x of direct."
	echo "Each autocommit router statement costs three round trips to the worker"
	echo "today (START TRANSACTION, the statement, COMMIT: the connection layer's"
	echo "remote transaction); the statement itself is one round trip, no cursor."
} > "$ROOT/bench/RESULTS.md"
cat "$ROOT/bench/RESULTS.md"
