# bench/lib.sh: what bench/run.sh and bench/rebalance.sh share.  Sourced, not
# run.  The caller sets ROOT before sourcing; afterwards it has:
#
#   START_TS, LOAD_START      when the run started, the load average then
#   PGC, BINDIR              pg_config and the server binaries
#   log MSG                  "[bench  12s] MSG" on stderr
#   now                      seconds since the epoch, with fractions
#   bench_workdir PREFIX     makes WORK (a temp dir /tmp/PREFIX.XXXXXX)
#   bench_cluster_start N    starts 1 coordinator + N workers in $WORK/cluster
#                            and sets PSQL, C (coordinator port), WDB (the
#                            workers' database)
#   bench_cluster_stop       stops and removes it, unless BENCH_KEEP=1
#   sql PORT DB [psql args]  psql -At with ON_ERROR_STOP
#   wport SERVER             the port of worker SERVER (worker1, ...)
#   TABLES, COLS, PK, KEY    seed 004's five co-located tables
#   bench_columns ID_TYPE    fills COLS with ID_TYPE (bigserial or bigint) ids
#   bench_sizes              NCO / NCL / NIM from ROWS (as bench/gen.sql wants)
#   HALT_POLL                a sentence on the vCPU idle polling of the run
#
# BENCH_HALT_POLL_NS=N (root, a VM guest whose cpuidle driver is haltpoll):
# the run sets /sys/module/haltpoll/parameters/guest_halt_poll_ns to N and
# restores it at exit.  With 0 (what this workplace's machines boot with) an
# idle vCPU halts at once and waking a process on it costs tens of
# microseconds, which dominates 1-client latencies (pgbench -> coordinator
# -> worker wakes three processes per statement); see bench/issue3_notes.md.

. "$ROOT/test/lib/common.sh"
START_TS=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
PGC=$(sf_pg_config)
BINDIR=$("$PGC" --bindir)

log() { printf '[bench %4ss] %s\n' "$(($(date +%s) - START_TS))" "$*" >&2; }
now() { date +%s.%N; }

bench_workdir() {
	WORK=$(mktemp -d "/tmp/$1.XXXXXX")
	chmod 755 "$WORK"
}

HALT_POLL_FILE=/sys/module/haltpoll/parameters/guest_halt_poll_ns
HALT_POLL="vCPU idle polling untouched"
[ -r "$HALT_POLL_FILE" ] && HALT_POLL="guest_halt_poll_ns $(cat "$HALT_POLL_FILE") (the machine's)"
HALT_POLL_SAVED=
if [ -n "${BENCH_HALT_POLL_NS:-}" ]; then
	if [ -w "$HALT_POLL_FILE" ]; then
		HALT_POLL_SAVED=$(cat "$HALT_POLL_FILE")
		echo "$BENCH_HALT_POLL_NS" > "$HALT_POLL_FILE"
		HALT_POLL="guest_halt_poll_ns set to $BENCH_HALT_POLL_NS for the run (BENCH_HALT_POLL_NS; the machine's: $HALT_POLL_SAVED)"
	else
		echo "bench: BENCH_HALT_POLL_NS ignored: $HALT_POLL_FILE is not writable" >&2
	fi
fi

bench_cluster_start() {
	log "starting cluster ($1 workers) in $WORK/cluster"
	bash "$ROOT/test/cluster.sh" start --workers "$1" --dir "$WORK/cluster" >/dev/null
	. "$WORK/cluster/cluster.env"
	PSQL=("$BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$SF_SOCKDIR" -U "$SF_SUPERUSER")
	C=$SF_PORT_coordinator
	WDB=$SF_WORKER_DBNAME
}

bench_cluster_stop() {
	if [ -n "$HALT_POLL_SAVED" ]; then
		echo "$HALT_POLL_SAVED" > "$HALT_POLL_FILE"
		HALT_POLL_SAVED=
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		log "cluster kept in $WORK/cluster (. $WORK/cluster/cluster.env)"
		return
	fi
	bash "$ROOT/test/cluster.sh" stop --dir "$WORK/cluster" --wipe >/dev/null 2>&1 || true
	rm -rf "$WORK"
}

sql() { local port=$1 db=$2; shift 2; "${PSQL[@]}" -p "$port" -d "$db" "$@"; }
wport() { local v="SF_PORT_$1"; echo "${!v}"; }

TABLES="companies campaigns ads clicks impressions"
declare -A COLS KEY PK
for t in $TABLES; do KEY[$t]=company_id; PK[$t]="company_id, id"; done
KEY[companies]=id; PK[companies]=id

bench_columns() {
	local id=$1
	COLS[companies]="id $id, name text NOT NULL, image_url text,
  created_at timestamp NOT NULL, updated_at timestamp NOT NULL"
	COLS[campaigns]="id $id, company_id bigint, name text NOT NULL,
  cost_model text NOT NULL, state text NOT NULL, monthly_budget bigint,
  blacklisted_site_urls text[], created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL"
	COLS[ads]="id $id, company_id bigint, campaign_id bigint, name text NOT NULL,
  image_url text, target_url text, impressions_count bigint DEFAULT 0,
  clicks_count bigint DEFAULT 0, created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL"
	COLS[clicks]="id $id, company_id bigint, ad_id bigint,
  clicked_at timestamp NOT NULL, site_url text NOT NULL,
  cost_per_click_usd numeric(20,10), user_ip inet NOT NULL, user_data jsonb NOT NULL"
	COLS[impressions]="id $id, company_id bigint, ad_id bigint,
  seen_at timestamp NOT NULL, site_url text NOT NULL,
  cost_per_impression_usd numeric(20,10), user_ip inet NOT NULL, user_data jsonb NOT NULL"
}

# companies = ROWS / 10000 (at least 10), 10 campaigns each, 10 ads per
# campaign; clicks 30% and impressions 70% of ROWS
bench_sizes() {
	NCO=$((ROWS / 10000)); [ "$NCO" -ge 10 ] || NCO=10
	NCL=$((ROWS * 3 / 10))
	NIM=$((ROWS - NCL))
}
