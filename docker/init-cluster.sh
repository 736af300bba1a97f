#!/bin/sh
# docker/init-cluster.sh: one-shot init of the compose cluster.
#
# Runs in the `init` service once the coordinator and every worker are
# healthy: creates the extension on the coordinator, then registers each
# worker with scripts/add_worker.sql (mounted at /shardfdw/add_worker.sql),
# the same file the local harness (test/cluster.sh) and the TAP tests use.
# Safe to re-run: already registered workers are skipped.
#
# Environment: PGHOST, PGUSER, PGPASSWORD, PGDATABASE (the coordinator);
# WORKERS, space-separated entries `name` (the host name is the server name)
# or `name=host:port`; WORKER_PORT, WORKER_DBNAME, WORKER_USER,
# WORKER_PASSWORD; ADD_WORKER_SQL (default /shardfdw/add_worker.sql).
# test/t/002_docker_init.pl runs this script against local servers.
set -eu

: "${WORKERS:?}" "${WORKER_PORT:=5432}" "${WORKER_DBNAME:=shardfdw}"
: "${WORKER_USER:=postgres}" "${WORKER_PASSWORD:?}"
: "${ADD_WORKER_SQL:=/shardfdw/add_worker.sql}"

tries=0
until psql -X -q -c 'SELECT 1' >/dev/null 2>&1; do
	tries=$((tries + 1))
	[ "$tries" -lt 60 ] || { echo "init: coordinator $PGHOST not reachable" >&2; exit 1; }
	sleep 1
done

psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS shardfdw'

for entry in $WORKERS; do
	w=${entry%%=*}
	host=$w
	port=$WORKER_PORT
	case "$entry" in
		*=*)
			target=${entry#*=}
			host=${target%:*}
			port=${target##*:}
			;;
	esac
	exists=$(psql -X -A -t -v ON_ERROR_STOP=1 \
		-c "SELECT count(*) FROM pg_catalog.pg_foreign_server WHERE srvname = '$w'")
	if [ "$exists" != 0 ]; then
		echo "init: $w is already registered"
		continue
	fi
	psql -X -q -v ON_ERROR_STOP=1 \
		-v name="$w" -v host="$host" -v port="$port" -v dbname="$WORKER_DBNAME" \
		-v user="$WORKER_USER" -v password="$WORKER_PASSWORD" \
		-f "$ADD_WORKER_SQL"
	echo "init: registered $w"
done

psql -X -v ON_ERROR_STOP=1 -c 'SELECT * FROM shardfdw.nodes ORDER BY nodeid'
