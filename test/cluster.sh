#!/usr/bin/env bash
# test/cluster.sh: a local shardfdw cluster of stock PostgreSQL 15 servers.
#
#   cluster.sh start  [--workers N] [--dir DIR] [--name NAME] [--dbname DB] [--worker-dbname DB]
#   cluster.sh stop   [--dir DIR] [--name NAME] [--wipe]
#   cluster.sh status [--dir DIR] [--name NAME]
#   cluster.sh env    [--dir DIR] [--name NAME]      (prints shell exports)
#   cluster.sh psql   [--dir DIR] [--name NAME] [coordinator|worker-N] [psql args...]
#
# One coordinator (shared_preload_libraries = 'shardfdw') and N workers
# (default 2; stock PostgreSQL, no shardfdw library) listen on 127.0.0.1 on
# free ports probed from SHARDFDW_PORT_BASE (default 57000), with their unix
# sockets in DIR/sock.  DIR defaults to /tmp/shardfdw-cluster-NAME (NAME
# defaults to "default"), or $SHARDFDW_CLUSTER_DIR.  State lives in
# DIR/cluster.env, so stop/status/env/psql work from any shell.
#
# After start, the coordinator database has the extension and the workers
# registered as foreign servers worker1..workerN through scripts/add_worker.sql
# (the same file the Docker init uses).  The coordinator has a database DB,
# the workers a database given by --worker-dbname (both default shardfdw); every
# node has the bootstrap superuser `postgres`; authentication
# is trust on loopback.  fsync is off: this is for tests and demos.
#
# As root, the servers run as the OS user `postgres` (or `shardfdw`, created
# if needed), which must be able to reach DIR.  psql clients run as the caller.
#
# Harness debugging only: SHARDFDW_HARNESS_NO_EXTENSION=1 starts the servers
# without the library and skips registration.
set -euo pipefail

# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
	sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift

workers=2
name=default
dir=${SHARDFDW_CLUSTER_DIR:-}
dbname=shardfdw
worker_dbname=shardfdw
wipe=0
rest=()
while [ $# -gt 0 ]; do
	case "$1" in
		--workers) workers=${2:?}; shift 2 ;;
		--workers=*) workers=${1#*=}; shift ;;
		--dir) dir=${2:?}; shift 2 ;;
		--dir=*) dir=${1#*=}; shift ;;
		--name) name=${2:?}; shift 2 ;;
		--name=*) name=${1#*=}; shift ;;
		--dbname) dbname=${2:?}; shift 2 ;;
		--dbname=*) dbname=${1#*=}; shift ;;
		--worker-dbname) worker_dbname=${2:?}; shift 2 ;;
		--worker-dbname=*) worker_dbname=${1#*=}; shift ;;
		--wipe) wipe=1; shift ;;
		-h|--help) usage ;;
		*) rest+=("$1"); shift ;;
	esac
done
dir=${dir:-/tmp/shardfdw-cluster-$name}
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac
state="$dir/cluster.env"

PGC=$(sf_pg_config) || sf_die "no PostgreSQL 15 pg_config found (run scripts/install-deps.sh)"
BINDIR=$("$PGC" --bindir)
export PATH="$BINDIR:$PATH"
SUPERUSER=postgres

load_state() {
	[ -f "$state" ] || sf_die "no cluster state in $dir (start one with: $0 start --dir $dir)"
	# shellcheck disable=SC1090
	. "$state"
}

# node_names: coordinator worker1 ... workerN, from the state file.
node_names() {
	local i
	echo coordinator
	for ((i = 1; i <= SF_WORKERS; i++)); do echo "worker$i"; done
}

node_port() {
	local var="SF_PORT_$1"
	echo "${!var:-}"
}

node_running() {
	sf_as_server_user pg_ctl -D "$dir/$1" status >/dev/null 2>&1
}

port_in_use() {
	# Something listens on TCP, or a socket lock file exists in a common place.
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
	[ -e "/tmp/.s.PGSQL.$1.lock" ] || [ -e "/var/run/postgresql/.s.PGSQL.$1.lock" ]
}

# claim_port NODE: set SF_PORT_<NODE> to the next free port (no subshell,
# so successive calls never hand out the same port).
next_free_port=${SHARDFDW_PORT_BASE:-57000}
claimed_ports=" "
claim_port() {
	while port_in_use "$next_free_port" ||
		[[ "$claimed_ports" == *" $next_free_port "* ]]; do
		next_free_port=$((next_free_port + 1))
		[ "$next_free_port" -lt 65000 ] || sf_die "no free port found"
	done
	printf -v "SF_PORT_$1" '%s' "$next_free_port"
	claimed_ports+="$next_free_port "
	next_free_port=$((next_free_port + 1))
}

write_state() {
	{
		echo "# shardfdw cluster state, written by test/cluster.sh"
		echo "SF_DIR='$dir'"
		echo "SF_WORKERS=$workers"
		echo "SF_DBNAME='$dbname'"
		echo "SF_WORKER_DBNAME='$worker_dbname'"
		echo "SF_SUPERUSER='$SUPERUSER'"
		echo "SF_OSUSER='$(sf_server_user)'"
		echo "SF_SOCKDIR='$dir/sock'"
		echo "SF_BINDIR='$BINDIR'"
		local n
		for n in $(node_names); do
			echo "SF_PORT_$n=$(node_port "$n")"
		done
	} > "$state.tmp"
	mv "$state.tmp" "$state"
	chmod 644 "$state"
}

# start_node NAME: pg_ctl start, re-probing the port if another process
# grabbed it in the meantime.
start_node() {
	local n=$1 tries=0 port
	while :; do
		port=$(node_port "$n")
		sf_as_server_user sed -i "s/^port = .*/port = $port/" "$dir/$n/postgresql.conf"
		if sf_as_server_user pg_ctl -D "$dir/$n" -l "$dir/log/$n.log" -w -t 60 \
			start >/dev/null 2>&1; then
			return 0
		fi
		tries=$((tries + 1))
		if [ $tries -lt 5 ] && grep -q "could not bind\|could not create lock file\|Address already in use" "$dir/log/$n.log"; then
			sf_log "port $port for $n is taken, probing another"
			next_free_port=$((port + 1))
			claim_port "$n"
			continue
		fi
		tail -n 20 "$dir/log/$n.log" >&2 || true
		sf_die "could not start $n (log: $dir/log/$n.log)"
	done
}

# psql_node NAME ARGS...: psql to a node's database as the superuser, from
# the caller's OS user (so it can read files in the repository).
psql_node() {
	local n=$1; shift
	local db=$SF_DBNAME
	[ "$n" = coordinator ] || db=$SF_WORKER_DBNAME
	PGOPTIONS=${PGOPTIONS:-} "$SF_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 \
		-h "$SF_SOCKDIR" -p "$(node_port "$n")" -U "$SF_SUPERUSER" -d "$db" "$@"
}

cmd_stop() {
	if [ ! -f "$state" ]; then
		if [ $wipe -eq 1 ] && [ -d "$dir" ]; then rm -rf "$dir"; fi
		echo "no cluster in $dir"
		return 0
	fi
	load_state
	local n pidfile
	for n in $(node_names); do
		[ -d "$dir/$n" ] || continue
		if node_running "$n"; then
			sf_as_server_user pg_ctl -D "$dir/$n" -m fast -w -t 30 stop >/dev/null 2>&1 ||
				sf_as_server_user pg_ctl -D "$dir/$n" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
		fi
		pidfile="$dir/$n/postmaster.pid"
		if [ -f "$pidfile" ]; then
			# Last resort: the postmaster did not go away.
			local pid
			pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
			if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
				kill -QUIT "$pid" 2>/dev/null || true
				sleep 1
				kill -KILL "$pid" 2>/dev/null || true
			fi
		fi
	done
	if [ $wipe -eq 1 ]; then
		rm -rf "$dir"
		echo "stopped and removed cluster in $dir"
	else
		echo "stopped cluster in $dir"
	fi
}

cmd_start() {
	case "$workers" in ''|*[!0-9]*) sf_die "--workers needs a number" ;; esac
	[ "$workers" -ge 1 ] || sf_die "--workers must be at least 1"
	if [ -f "$state" ]; then
		( load_state; for n in $(node_names); do
			[ -d "$dir/$n" ] && node_running "$n" && exit 0; done; exit 1 ) &&
			sf_die "a cluster is already running in $dir (stop it first: $0 stop --dir $dir --wipe)"
	fi
	if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
		[ -f "$state" ] || [ -f "$dir/.shardfdw-cluster" ] ||
			sf_die "$dir exists and is not a shardfdw cluster directory; refusing to wipe it"
		rm -rf "${dir:?}"/*
	fi
	mkdir -p "$dir"
	touch "$dir/.shardfdw-cluster"
	local sock="$dir/sock"
	[ ${#sock} -le 90 ] || sf_die "socket path $sock is too long for a unix socket; use a shorter --dir"

	if sf_is_root; then
		sf_ensure_server_user
		chown "$(sf_server_user)": "$dir"
		chmod 755 "$dir"
		sf_as_server_user test -w "$dir" -a -x "$dir" ||
			sf_die "OS user $(sf_server_user) cannot write $dir (is a parent directory private, e.g. under /root?); use --dir under /tmp"
	fi
	sf_as_server_user mkdir -p "$dir/sock" "$dir/log"

	local n i port preload="shardfdw"
	if [ "${SHARDFDW_HARNESS_NO_EXTENSION:-0}" = 1 ]; then preload=""; fi
	for n in coordinator $(seq -f 'worker%g' 1 "$workers"); do
		claim_port "$n"
		port=$(node_port "$n")
		sf_as_server_user initdb -D "$dir/$n" -U "$SUPERUSER" -A trust -E UTF8 \
			--locale=C --no-sync >"$dir/log/$n.initdb.log" 2>&1 ||
			{ cat "$dir/log/$n.initdb.log" >&2; sf_die "initdb failed for $n"; }
		{
			echo "# added by test/cluster.sh"
			echo "listen_addresses = '127.0.0.1'"
			echo "port = $port"
			echo "unix_socket_directories = '$dir/sock'"
			echo "fsync = off"
			echo "synchronous_commit = off"
			echo "full_page_writes = off"
			echo "max_prepared_transactions = 20"
			echo "max_connections = 100"
			echo "lc_messages = 'C'"
			echo "log_line_prefix = '%m [%p] %q%a '"
			echo "log_min_messages = warning"
			if [ "$n" = coordinator ]; then
				if [ -n "$preload" ]; then echo "shared_preload_libraries = '$preload'"; fi
			else
				echo "wal_level = logical"
				# shard moves: a new subscription's apply worker starts
				# within 200 ms instead of up to 5 s
				echo "wal_retrieve_retry_interval = '200ms'"
			fi
		} | sf_as_server_user tee -a "$dir/$n/postgresql.conf" >/dev/null
	done
	SF_WORKERS=$workers
	write_state
	load_state

	for n in $(node_names); do start_node "$n"; done
	write_state   # ports may have changed in start_node
	load_state

	for n in $(node_names); do
		local db=$SF_DBNAME
		[ "$n" = coordinator ] || db=$SF_WORKER_DBNAME
		"$SF_BINDIR/psql" -X -q -h "$SF_SOCKDIR" -p "$(node_port "$n")" -U "$SF_SUPERUSER" \
			-d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null
	done

	if [ -z "$preload" ]; then
		echo "started cluster in $dir WITHOUT shardfdw (SHARDFDW_HARNESS_NO_EXTENSION=1)"
	else
		psql_node coordinator -c "CREATE EXTENSION shardfdw" ||
			sf_die "CREATE EXTENSION shardfdw failed on the coordinator (is the extension installed? make install)"
		for ((i = 1; i <= SF_WORKERS; i++)); do
			psql_node coordinator -f "$SHARDFDW_ROOT/scripts/add_worker.sql" \
				-v name="worker$i" -v host=127.0.0.1 -v port="$(node_port "worker$i")" \
				-v dbname="$SF_WORKER_DBNAME" -v user="$SF_SUPERUSER" >/dev/null ||
				sf_die "registering worker$i failed"
		done
		echo "started cluster in $dir: coordinator + $SF_WORKERS workers registered"
	fi
	cmd_status
}

cmd_status() {
	load_state
	local n rc=0 st
	printf '%-12s %-6s %-8s %s\n' NODE PORT STATE DATA
	for n in $(node_names); do
		if node_running "$n"; then st=running; else st=stopped; rc=3; fi
		printf '%-12s %-6s %-8s %s\n' "$n" "$(node_port "$n")" "$st" "$dir/$n"
	done
	echo "connect: psql -h $SF_SOCKDIR -p $SF_PORT_coordinator -U $SF_SUPERUSER -d $SF_DBNAME"
	return $rc
}

cmd_env() {
	load_state
	local i
	echo "export SHARDFDW_CLUSTER_DIR='$SF_DIR'"
	echo "export SHARDFDW_COORDINATOR_HOST='$SF_SOCKDIR'"
	echo "export SHARDFDW_COORDINATOR_PORT=$SF_PORT_coordinator"
	echo "export SHARDFDW_COORDINATOR_TCP='127.0.0.1'"
	echo "export SHARDFDW_WORKERS=$SF_WORKERS"
	for ((i = 1; i <= SF_WORKERS; i++)); do
		echo "export SHARDFDW_WORKER${i}_PORT=$(node_port "worker$i")"
	done
	echo "export SHARDFDW_WORKER_PORTS='$(for ((i = 1; i <= SF_WORKERS; i++)); do printf '%s ' "$(node_port "worker$i")"; done | sed 's/ $//')'"
	echo "export SHARDFDW_DBNAME='$SF_DBNAME'"
	echo "export PGHOST='$SF_SOCKDIR'"
	echo "export PGPORT=$SF_PORT_coordinator"
	echo "export PGUSER='$SF_SUPERUSER'"
	echo "export PGDATABASE='$SF_DBNAME'"
}

cmd_psql() {
	load_state
	local n=coordinator
	if [ ${#rest[@]} -gt 0 ]; then
		case "${rest[0]}" in
			coordinator) rest=("${rest[@]:1}") ;;
			worker-[0-9]*|worker[0-9]*)
				n="worker${rest[0]#worker}"; n=${n/worker-/worker}; rest=("${rest[@]:1}")
				[ -n "$(node_port "$n")" ] || sf_die "no node $n in this cluster" ;;
		esac
	fi
	local db=$SF_DBNAME
	[ "$n" = coordinator ] || db=$SF_WORKER_DBNAME
	exec "$SF_BINDIR/psql" -X -h "$SF_SOCKDIR" -p "$(node_port "$n")" -U "$SF_SUPERUSER" -d "$db" ${rest[@]+"${rest[@]}"}
}

case "$cmd" in
	start) cmd_start ;;
	stop) cmd_stop ;;
	status) cmd_status ;;
	env) cmd_env ;;
	psql) cmd_psql ;;
	*) usage ;;
esac
