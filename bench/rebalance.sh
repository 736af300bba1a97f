#!/usr/bin/env bash
# bench/rebalance.sh: issue 6's rebalance benchmark in one command.
#
#   bash bench/rebalance.sh            # ~2M rows, writes bench/RESULTS.md
#   SMALL=1 bash bench/rebalance.sh    # ~100k rows, a quick check
#
# Starts its own cluster (test/cluster.sh: 1 coordinator + 4 workers, fsync
# off) in a temp dir, generates seed 004's ad platform with bench/gen.sql
# (five co-located tables: companies, campaigns, ads, clicks, impressions,
# BENCH_SHARDS = 32 shards each) and distributes it on worker1 and worker2
# (worker3 and worker4 have should_have_shards = false meanwhile).  Then,
# with worker3 and worker4 allowed to have shards, it measures in one run:
#
#   (a) copy      the physical limit: the shards the rebalance will move
#                 (get_rebalance_plan(): half of them, worker1 -> worker3 and
#                 worker2 -> worker4), each copied worker-to-worker with
#                 psql -c "COPY <shard> TO STDOUT" | psql -c "COPY ... FROM STDIN"
#                 into an identical empty table (same columns, primary key)
#                 in a scratch schema of the target; one pipe per (source,
#                 target) pair at a time, all pairs in parallel: the
#                 parallelism the rebalance gets (a node takes part in one
#                 move at a time);
#   (b) rebalance SELECT rebalance_table_shards() (default mode 'auto':
#                 logical replication), from 2 to 4 workers;
#   (c) stall     during (b), a background client writes through the
#                 coordinator: one psql session sending, in a loop, a
#                 single-row INSERT into clicks, a single-row UPDATE of
#                 companies (autocommit), and SELECT clock_timestamp(); the
#                 longest gap between two successive successful iterations
#                 that overlaps the rebalance is the stall.  Failed writes are
#                 counted.
#
# Targets: (b) <= 1.5 x (a); stall <= 1 s.  Afterwards the script checks that
# every node holds 8 shard groups, that the tables have the rows they had
# plus the writer's inserts, and writes the section "## Rebalance (issue 6)"
# of bench/RESULTS.md (other sections are kept).  The cluster is removed at
# exit.
#
# Environment: BENCH_ROWS (clicks + impressions, default 2000000; 30%
# clicks; companies = BENCH_ROWS / 10000, 10 campaigns each, 10 ads per
# campaign), BENCH_SHARDS (default 32), SMALL=1 (BENCH_ROWS=100000),
# BENCH_NO_WRITE=1 (print, do not touch RESULTS.md), BENCH_KEEP=1 (keep the
# cluster), BENCH_BASELINE_ONLY=1 (measure (a) only), BENCH_RETRY_INTERVAL
# (wal_retrieve_retry_interval of the workers, default 200ms; "default"
# keeps PostgreSQL's 5s, see below).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"

if [ "${SMALL:-0}" = 1 ]; then
	: "${BENCH_ROWS:=100000}"
fi
ROWS=${BENCH_ROWS:-2000000}
SHARDS=${BENCH_SHARDS:-32}
bench_sizes

bench_workdir sfbench-rebalance
writer_stop() {
	if [ -n "${WRITER_PID:-}" ]; then
		touch "$WORK/stop"
		wait "$WRITER_PID" 2>/dev/null || true
		WRITER_PID=
	fi
}
cleanup() {
	set +e
	writer_stop
	bench_cluster_stop
}
trap cleanup EXIT
bench_cluster_start 4
coord() { sql "$C" "$SF_DBNAME" "$@"; }

# A new subscription's apply worker starts at most once per
# wal_retrieve_retry_interval (default 5s) on a worker, so back-to-back
# online moves onto the same worker wait up to 5 s each: lowered here
# (BENCH_RETRY_INTERVAL=default keeps PostgreSQL's default).
RETRY=${BENCH_RETRY_INTERVAL:-200ms}
if [ "$RETRY" != default ]; then
	for n in 1 2 3 4; do
		sql "$(wport worker$n)" postgres -c "ALTER SYSTEM SET wal_retrieve_retry_interval = '$RETRY'" \
			-c "SELECT pg_reload_conf()" >/dev/null
	done
fi

# ---------------------------------------------------------------- data
bench_columns bigint

log "generating $NCO companies, $((NCO * 10)) campaigns, $((NCO * 100)) ads, $NCL clicks, $NIM impressions ($SHARDS shards)"
{
	echo "SELECT shardfdw_set_node_property('worker3', 'shouldhaveshards', false);"
	echo "SELECT shardfdw_set_node_property('worker4', 'shouldhaveshards', false);"
	for t in $TABLES; do echo "CREATE TABLE $t (${COLS[$t]}, PRIMARY KEY (${PK[$t]}));"; done
} | coord >/dev/null
coord -v nco="$NCO" -v ncl="$NCL" -v nim="$NIM" -f "$ROOT/bench/gen.sql" >/dev/null
coord >/dev/null <<SQL
SET shardfdw.shard_count = $SHARDS;
SELECT create_distributed_table('companies', 'id');
SELECT create_distributed_table('campaigns', 'company_id');
SELECT create_distributed_table('ads', 'company_id');
SELECT create_distributed_table('clicks', 'company_id');
SELECT create_distributed_table('impressions', 'company_id');
SQL
sql "$(wport worker1)" "$WDB" -c "VACUUM ANALYZE" & p1=$!
sql "$(wport worker2)" "$WDB" -c "VACUUM ANALYZE" & p2=$!
wait $p1 $p2
coord -c "SELECT shardfdw_set_node_property('worker3', 'shouldhaveshards', true)" \
	-c "SELECT shardfdw_set_node_property('worker4', 'shouldhaveshards', true)" >/dev/null
ROWS_BEFORE=$(coord -c "SELECT (SELECT count(*) FROM companies) + (SELECT count(*) FROM campaigns)
  + (SELECT count(*) FROM ads) + (SELECT count(*) FROM clicks) + (SELECT count(*) FROM impressions)")
DATA_BYTES=$(coord -c "SELECT sum(shardfdw.relation_size(t::regclass)) FROM unnest(string_to_array('${TABLES// /,}', ',')) t")
log "distributed: $ROWS_BEFORE rows, $((DATA_BYTES / 1048576)) MB on worker1 and worker2"

# ---------------------------------------------------------------- plan
# rows: table shard_name source target
coord -F ' ' -c "SELECT p.table_name, format('%I.%I', n.nspname, c.relname), p.sourcename, p.targetname
  FROM get_rebalance_plan() WITH ORDINALITY p JOIN shardfdw.shard s USING (shardid)
  JOIN pg_class c ON c.oid = s.shard_relid JOIN pg_namespace n ON n.oid = c.relnamespace
 ORDER BY p.ordinality" > "$WORK/plan"
NMOVE_SHARDS=$(wc -l < "$WORK/plan")
NGROUPS=$((NMOVE_SHARDS / 5))
PAIRS=$(awk '{ print $3 "->" $4 }' "$WORK/plan" | sort -u | paste -sd ' ')
MOVE_BYTES=$(coord -c "SELECT sum(shardfdw.shard_size(shardid)) FROM get_rebalance_plan()")
log "plan: $NGROUPS shard groups ($NMOVE_SHARDS shards, $((MOVE_BYTES / 1048576)) MB) over the pairs $PAIRS"

checkpoint_all() {
	local n
	coord -c "CHECKPOINT"
	for n in 1 2 3 4; do sql "$(wport worker$n)" "$WDB" -c "CHECKPOINT"; done
}

# ---------------------------------------------------------------- (a) copy
for n in 3 4; do
	{
		echo "CREATE SCHEMA bench_base;"
		while read -r t s src dst; do
			[ "$dst" = "worker$n" ] || continue
			echo "CREATE TABLE bench_base.${s#*.} (${COLS[$t]}, PRIMARY KEY (${PK[$t]}));"
		done < "$WORK/plan"
	} | sql "$(wport worker$n)" "$WDB"
done
checkpoint_all
log "(a) copying the same shards with COPY pipes, one per node pair at a time"
copy_pair() {	# source target: the shards of this pair, one after the other
	local t s src dst
	while read -r t s src dst; do
		[ "$src" = "$1" ] && [ "$dst" = "$2" ] || continue
		sql "$(wport "$src")" "$WDB" -c "COPY $s TO STDOUT" |
			sql "$(wport "$dst")" "$WDB" -c "COPY bench_base.${s#*.} FROM STDIN"
	done < "$WORK/plan"
}
t0=$(now)
pids=()
for pair in $PAIRS; do
	copy_pair "${pair%->*}" "${pair#*->}" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
t1=$(now)
COPY_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
copied=0
for n in 3 4; do
	c=$(sql "$(wport worker$n)" "$WDB" -c "SELECT COALESCE(sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM bench_base.%I', tablename), false, true, '')))[1]::text::bigint), 0) FROM pg_tables WHERE schemaname = 'bench_base'")
	copied=$((copied + c))
	sql "$(wport worker$n)" "$WDB" -c "DROP SCHEMA bench_base CASCADE" >/dev/null 2>&1
done
log "(a) copy: $COPY_S s, $copied rows"

if [ "${BENCH_BASELINE_ONLY:-0}" = 1 ]; then
	echo "copy (a): $COPY_S s for $NGROUPS shard groups ($copied rows, $((MOVE_BYTES / 1048576)) MB)"
	exit 0
fi

# ---------------------------------------------------------------- (b) + (c)
checkpoint_all
rm -f "$WORK/stop"
(
	i=0
	while [ ! -e "$WORK/stop" ]; do
		i=$((i + 1))
		cid=$(( (i * 7919) % NCO + 1 ))
		echo "INSERT INTO clicks (id, company_id, ad_id, clicked_at, site_url, cost_per_click_usd, user_ip, user_data) VALUES ($((NCL + i)), $cid, $(( (cid - 1) * 100 + 1 )), now(), 'http://writer.example.com/', 0.5, '10.9.9.9', '{}');"
		echo "UPDATE companies SET updated_at = now() WHERE id = $cid;"
		echo "SELECT extract(epoch FROM clock_timestamp());"
	done | "$BINDIR/psql" -X -q -At -h "$SF_SOCKDIR" -U "$SF_SUPERUSER" -p "$C" -d "$SF_DBNAME" \
		> "$WORK/writer.out" 2> "$WORK/writer.err"
) &
WRITER_PID=$!
sleep 2
log "(b) rebalance_table_shards() with a writer running"
t0=$(now)
coord -c "SELECT rebalance_table_shards()" 2> "$WORK/rebalance.log" || {
	cat "$WORK/rebalance.log" >&2; exit 1; }
t1=$(now)
sleep 1
writer_stop
REBALANCE_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
WRITES=$(grep -c . "$WORK/writer.out" || true)
FAILED=$(grep -c 'ERROR' "$WORK/writer.err" || true)
STALL=$(awk -v a="$t0" -v b="$t1" '
	prev != "" && $1 >= a && prev <= b { g = $1 - prev; if (g > max) { max = g; at = prev } }
	{ prev = $1 }
	END { printf "%.3f", max }' "$WORK/writer.out")
log "(b) rebalance: $REBALANCE_S s; (c) longest write stall $STALL s, $WRITES writes, $FAILED failed"

# ---------------------------------------------------------------- checks
GROUPS_PER_NODE=$(coord -c "SELECT string_agg(server_name || ':' || shard_count / 5, ' ' ORDER BY nodeid) FROM shardfdw.nodes")
ROWS_AFTER=$(coord -c "SELECT (SELECT count(*) FROM companies) + (SELECT count(*) FROM campaigns)
  + (SELECT count(*) FROM ads) + (SELECT count(*) FROM clicks) + (SELECT count(*) FROM impressions)")
INSERTED=$(coord -c "SELECT count(*) FROM clicks WHERE id > $NCL")
CHECK=ok
[ "$ROWS_AFTER" = $((ROWS_BEFORE + INSERTED)) ] || CHECK="ROW COUNT MISMATCH: before $ROWS_BEFORE + $INSERTED inserted, after $ROWS_AFTER"
[ "$INSERTED" -le "$WRITES" ] && [ "$INSERTED" -ge $((WRITES - 1)) ] || CHECK="$CHECK; writer: $WRITES iterations but $INSERTED rows inserted"
log "groups per node: $GROUPS_PER_NODE; rows: $CHECK"

RATIO=$(awk -v a="$COPY_S" -v b="$REBALANCE_S" 'BEGIN { printf "%.2f", b / a }')
pass() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "pass" : "MISS" }'; }
section=$(cat <<EOF
## Rebalance (issue 6)

Command: \`bash bench/rebalance.sh\`$( [ "$ROWS" != 2000000 ] && echo " (BENCH_ROWS=$ROWS)" ) — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average before: $LOAD_START.

Workers: wal_level = logical, wal_retrieve_retry_interval = $RETRY (\`BENCH_RETRY_INTERVAL\`; PostgreSQL's default of 5 s delays the start of each new subscription on a worker by up to 5 s after the previous one, i.e. every move but the first onto a node).

Data: seed 004's ad platform (bench/gen.sql): $NCO companies, $((NCO * 10)) campaigns, $((NCO * 100)) ads, $NCL clicks, $NIM impressions = $ROWS_BEFORE rows, five co-located tables of $SHARDS shards, $((DATA_BYTES / 1048576)) MB, on worker1 and worker2; then worker3 and worker4 join. The plan moves $NGROUPS shard groups ($NMOVE_SHARDS shards, $((MOVE_BYTES / 1048576)) MB) over the node pairs $PAIRS.

| measure | value | target |
|---|---|---|
| (a) physical limit (no writer running): the same shards, \`psql -c "COPY shard TO STDOUT" \| psql -c "COPY shard FROM STDIN"\` worker to worker into identical empty tables, one pipe per node pair at a time ($(echo $PAIRS | wc -w) in parallel) | $COPY_S s | |
| (b) \`SELECT rebalance_table_shards()\` (mode auto), 2 -> 4 workers | $REBALANCE_S s = ${RATIO} x (a) | <= 1.5 x: $(pass "$RATIO" 1.5) |
| (c) longest write stall during (b) (single-row INSERT + UPDATE through the coordinator, back to back) | $STALL s | <= 1 s: $(pass "$STALL" 1) |
| writes during the run / failed | $WRITES / $FAILED | 0 failed |

After the rebalance: shard groups per node $GROUPS_PER_NODE; row counts $CHECK.

Rebalance NOTICEs:

\`\`\`
$(sed 's/^psql:[^ ]* //' "$WORK/rebalance.log" | tail -n 40)
\`\`\`
EOF
)
echo "$section"
if [ "${BENCH_NO_WRITE:-0}" != 1 ]; then
	R="$ROOT/bench/RESULTS.md"
	[ -f "$R" ] || echo "# Benchmark results" > "$R"
	awk -v new="$section" '
		/^## Rebalance \(issue 6\)/ { skip = 1; if (!done) { print new; print ""; done = 1 }; next }
		/^## / && skip { skip = 0 }
		!skip { print }
		END { if (!done) { print ""; print new } }' "$R" > "$WORK/RESULTS.md"
	cp "$WORK/RESULTS.md" "$R"
	log "wrote the section \"Rebalance (issue 6)\" of $R"
fi
[ "$CHECK" = ok ] && [ "$FAILED" = 0 ]
