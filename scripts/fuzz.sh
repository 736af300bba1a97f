#!/usr/bin/env bash
# scripts/fuzz.sh: the generator of test "fuzz_differential" for longer
# hunts against a running cluster (test/cluster.sh).
#
#   bash scripts/fuzz.sh [--dir DIR] [--seeds "S1 S2 ..."] [--count N] [--timezone TZ]
#                        [--isolate "T1 T2 ..."] [--shards N]
#
# Builds the schemas fz, fz_local and fz_dist (sql/include/fuzz_generator.sql)
# in the coordinator's database, then for each seed (a float in [-1, 1],
# for setseed(); default: 5 seeds from the clock) generates N statements
# (default 2000), runs each on the distributed tables and on the local copy
# and prints every statement whose results differ or that fails on the
# distributed side only, then the outcomes and the strategies (in all and per
# kind of statement: select, cte, union, setagg, prepared, dml).  The schemas
# stay for inspection (fz.queries, fz.log); the next run replaces them.
# --shards sets the shard count of the co-located tables (default 8, for
# 16 tenants).  --isolate puts each given tenant id in a shard of its own after the
# setup (shardfdw_isolate_tenant: shards of several sizes).  Settings for
# the coordinator's session go through PGOPTIONS, e.g.
# PGOPTIONS="-c shardfdw.enable_distinct_merge=off".
# Exit status 1 when any statement did not agree.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=()
seeds=
count=2000
tz=America/Santiago
isolate=
shards=8
while [ $# -gt 0 ]; do
	case "$1" in
		--dir) dir=(--dir "${2:?}"); shift 2 ;;
		--seeds) seeds=${2:?}; shift 2 ;;
		--count) count=${2:?}; shift 2 ;;
		--timezone) tz=${2:?}; shift 2 ;;
		--isolate) isolate=${2:?}; shift 2 ;;
		--shards) shards=${2:?}; shift 2 ;;
		*) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
if [ -z "$seeds" ]; then
	now=$(date +%s)
	seeds=$(for i in 1 2 3 4 5; do awk -v n="$now" -v i="$i" 'BEGIN { printf "0.%06d ", (n * 7919 + i * 104729) % 1000000 }'; done)
fi

psql_coord() {
	bash "$ROOT/test/cluster.sh" psql "${dir[@]}" coordinator -q -v ON_ERROR_STOP=1 "$@"
}

echo "setup (schemas fz, fz_local, fz_dist)"
psql_coord -c '\set QUIET on' -f "$ROOT/sql/include/fuzz_generator.sql" \
	-c "SELECT fz.setup($shards)" \
	-c 'ANALYZE fz_local.tenants, fz_local.orders, fz_local.items, fz_local.products, fz_local.codes' \
	-c 'ANALYZE fz_dist.tenants, fz_dist.orders, fz_dist.items, fz_dist.products, fz_dist.codes' >/dev/null
for t in $isolate; do
	echo "isolating tenant $t"
	psql_coord -c "SELECT shardfdw_isolate_tenant('fz_dist.tenants', '$t')" >/dev/null
done

bad=0
for seed in $seeds; do
	start=$(date +%s)
	out=$(psql_coord -At -v seed="$seed" -v count="$count" -v tz="$tz" <<'SQL'
SET client_min_messages = warning;
SET timezone = :'tz';
SELECT fz.generate(:seed, :count) \g /dev/null
SELECT format('SELECT * FROM fz.check(%s)', id) FROM fz.queries ORDER BY id
\gexec
SELECT '-- outcomes: ' || string_agg(status || ' ' || n, ', ' ORDER BY status) FROM (SELECT status, count(*) n FROM fz.log GROUP BY status) s;
SELECT '-- strategies: ' || string_agg(strategy || ' ' || n, ', ' ORDER BY strategy) FROM (SELECT strategy, count(*) n FROM fz.log GROUP BY strategy) s;
SELECT '-- strategies of ' || kind || ': ' || string_agg(strategy || ' ' || n, ', ' ORDER BY strategy) FROM (SELECT kind, strategy, count(*) n FROM fz.log GROUP BY kind, strategy) s GROUP BY kind ORDER BY kind;
SELECT '-- not agreeing: ' || count(*) FROM fz.log WHERE status NOT IN ('ok', 'both error');
SQL
)
	echo "== seed $seed, $count statements, $(( $(date +%s) - start )) s"
	echo "$out"
	if ! grep -q '^-- not agreeing: 0$' <<<"$out"; then
		bad=1
	fi
done
exit $bad
