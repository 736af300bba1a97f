#!/usr/bin/env bash
# scripts/demo.sh: build shardfdw, start a local coordinator + 4 workers,
# load seed 004's multi-tenant ad platform into distributed tables on two of
# them, then scale out to all four as the seed does.
#
#   bash scripts/demo.sh            (as root, or: sudo bash scripts/demo.sh)
#
# 1. installs missing Debian packages (scripts/install-deps.sh),
# 2. builds and installs the extension (make && make install),
# 3. stops and wipes any previous demo cluster, then starts a coordinator and
#    4 workers in SHARDFDW_DEMO_DIR (default /tmp/shardfdw-demo) with
#    test/cluster.sh; worker1 and worker2 stay registered, worker3 and
#    worker4 are unregistered until step 6,
# 4. loads demo/schema.sql, demo/distribute.sql and demo/data.sql,
# 5. runs demo/queries.sql,
# 6. runs demo/scale_out.sql (add worker3 and worker4,
#    rebalance_table_shards('companies')) and prints how to connect and stop.
# The cluster keeps running afterwards; re-running the script starts afresh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=../test/lib/common.sh
. "$ROOT/test/lib/common.sh"

DEMO_DIR=${SHARDFDW_DEMO_DIR:-/tmp/shardfdw-demo}
step() { printf '\n==== %s\n' "$*"; }
on_error() {
	echo >&2
	echo "demo: FAILED (see the messages above)." >&2
	if [ -f "$DEMO_DIR/cluster.env" ]; then
		echo "demo: the cluster in $DEMO_DIR is left as it is, for inspection:" >&2
		echo "  bash test/cluster.sh psql --dir $DEMO_DIR       (server logs: $DEMO_DIR/log/)" >&2
		echo "  bash test/cluster.sh stop --dir $DEMO_DIR --wipe" >&2
	fi
}
trap on_error ERR

step "dependencies"
bash "$ROOT/scripts/install-deps.sh"

PGC=$(sf_pg_config) || sf_die "no PostgreSQL 15 pg_config found"
PKGLIBDIR=$("$PGC" --pkglibdir)

step "build and install shardfdw"
make -s -j"$(nproc 2>/dev/null || echo 2)" PG_CONFIG="$PGC"
if sf_is_root || [ -w "$PKGLIBDIR" ]; then
	make -s install PG_CONFIG="$PGC"
else
	echo "shardfdw is built but cannot be installed into $PKGLIBDIR as $(id -un)." >&2
	echo "Run the demo as root (sudo bash scripts/demo.sh), or run" >&2
	echo "  sudo make install PG_CONFIG=$PGC" >&2
	echo "and then run bash scripts/demo.sh again." >&2
	[ -f "$PKGLIBDIR/shardfdw.so" ] || exit 1
	echo "(an installed shardfdw.so exists; continuing with it)" >&2
fi

step "cluster: coordinator + 4 workers in $DEMO_DIR (2 of them join later)"
bash "$ROOT/test/cluster.sh" stop --dir "$DEMO_DIR" --wipe >/dev/null
bash "$ROOT/test/cluster.sh" start --workers 4 --dir "$DEMO_DIR"
# shellcheck disable=SC1090
. "$DEMO_DIR/cluster.env"

PSQL=("$SF_BINDIR/psql" -X -v ON_ERROR_STOP=1 -h "$SF_SOCKDIR" -p "$SF_PORT_coordinator"
	-U "$SF_SUPERUSER" -d "$SF_DBNAME")

# seed 004 starts on two workers and adds two more at the end
"${PSQL[@]}" -q -c "SELECT shardfdw_remove_node('worker3'), shardfdw_remove_node('worker4')" >/dev/null

step "schema (demo/schema.sql) and distribution (demo/distribute.sql)"
"${PSQL[@]}" -q -f demo/schema.sql
"${PSQL[@]}" -f demo/distribute.sql

step "data (demo/data.sql)"
t0=$(date +%s)
"${PSQL[@]}" -q -f demo/data.sql >/dev/null
echo "loaded in $(( $(date +%s) - t0 )) s:"
"${PSQL[@]}" -c "SELECT 'companies' AS table_name, count(*) FROM companies
	UNION ALL SELECT 'campaigns', count(*) FROM campaigns
	UNION ALL SELECT 'ads', count(*) FROM ads
	UNION ALL SELECT 'clicks', count(*) FROM clicks
	UNION ALL SELECT 'impressions', count(*) FROM impressions
	UNION ALL SELECT 'geo_ips', count(*) FROM geo_ips"

step "queries (demo/queries.sql)"
"${PSQL[@]}" -f demo/queries.sql

step "scale out: add worker3 and worker4, rebalance_table_shards('companies') (demo/scale_out.sql)"
t0=$(date +%s)
"${PSQL[@]}" -f demo/scale_out.sql
echo "scaled out in $(( $(date +%s) - t0 )) s"

cat <<EOF

==== the demo cluster is running
connect to the coordinator:
  psql -h $SF_SOCKDIR -p $SF_PORT_coordinator -U $SF_SUPERUSER -d $SF_DBNAME
  (or: bash test/cluster.sh psql --dir $DEMO_DIR)
a worker:
  bash test/cluster.sh psql --dir $DEMO_DIR worker-1
status / stop:
  bash test/cluster.sh status --dir $DEMO_DIR
  bash test/cluster.sh stop --dir $DEMO_DIR
EOF
