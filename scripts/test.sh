#!/usr/bin/env bash
# scripts/test.sh: build shardfdw and run every test against real servers.
#
#   bash scripts/test.sh
#
# 1. installs missing Debian packages (scripts/install-deps.sh; as root),
# 2. builds with -Werror and installs the extension (as root),
# 3. starts a throwaway coordinator + 2 workers (test/cluster.sh) in a fresh
#    temp dir, registered as worker1 and worker2,
# 4. runs pg_regress with test/schedule against the coordinator (entries whose
#    sql/<name>.sql does not exist yet are skipped, with a message),
# 5. runs the TAP tests test/t/*.pl with prove (as the server OS user when
#    root, since PostgreSQL::Test::Cluster runs initdb),
# 6. runs isolation tests if test/isolation/specs/*.spec exist,
# 7. stops the cluster (also on failure) and prints `N passed, N failed`.
#
# Exit status is non-zero if anything failed.  Environment:
#   SHARDFDW_KEEP=1        keep the temp dir and the cluster running afterwards
#   SHARDFDW_SKIP_BUILD=1  do not build/install (use what is installed)
#   SHARDFDW_TESTS="a b"   run only these tests: names of sql/<name>.sql
#                          (pg_regress) or test/t/<name>.pl (TAP, with or
#                          without .pl); isolation tests are skipped
#   PG_CONFIG              pg_config to use (default: PostgreSQL 15 from PATH)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=../test/lib/common.sh
. "$ROOT/test/lib/common.sh"

START=$(date +%s)
passed=0
failed=0
failed_names=()
record() {   # record NAME ok|fail
	if [ "$2" = ok ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failed_names+=("$1")
	fi
}

section() { printf '\n==== %s ====\n' "$*"; }

# ---------------------------------------------------------------- deps, build
section "dependencies"
bash "$ROOT/scripts/install-deps.sh"

PGC=$(sf_pg_config) || sf_die "no PostgreSQL 15 pg_config found"
export PG_CONFIG=$PGC
BINDIR=$("$PGC" --bindir)
PKGLIBDIR=$("$PGC" --pkglibdir)
export PATH="$BINDIR:$PATH"
PG_REGRESS="$PKGLIBDIR/pgxs/src/test/regress/pg_regress"
PG_ISOLATION_REGRESS="$PKGLIBDIR/pgxs/src/test/isolation/pg_isolation_regress"

if [ "${SHARDFDW_SKIP_BUILD:-0}" != 1 ]; then
	section "build (make, -Werror)"
	make -s -j"$(nproc 2>/dev/null || echo 2)" PG_CONFIG="$PGC"
	if sf_is_root || [ -w "$PKGLIBDIR" ]; then
		make -s install PG_CONFIG="$PGC"
	else
		sf_die "cannot install into $PKGLIBDIR as $(id -un): run as root, e.g. sudo bash scripts/test.sh"
	fi
fi

# ---------------------------------------------------------------- scratch
WORK=$(mktemp -d /tmp/shardfdw-test.XXXXXX)
chmod 755 "$WORK"
CLUSTER_DIR="$WORK/cluster"
SERVER_USER=$(sf_server_user)
sf_is_root && sf_ensure_server_user

cleanup() {
	local rc=$?
	if [ "${SHARDFDW_KEEP:-0}" = 1 ]; then
		echo "kept $WORK (cluster: bash test/cluster.sh stop --dir $CLUSTER_DIR --wipe)"
	else
		bash "$ROOT/test/cluster.sh" stop --dir "$CLUSTER_DIR" >/dev/null 2>&1 || true
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

section "cluster (coordinator + 2 workers) in $CLUSTER_DIR"
cluster_ok=1
if ! bash "$ROOT/test/cluster.sh" start --workers 2 --dir "$CLUSTER_DIR"; then
	cluster_ok=0
	record cluster-start fail
	echo "the test cluster did not start (or the workers could not be registered);"
	echo "pg_regress and isolation tests are skipped.  Server logs:"
	for f in "$CLUSTER_DIR"/log/coordinator.log "$CLUSTER_DIR"/log/worker*[0-9].log; do
		[ -f "$f" ] && { echo "--- $f (last 30 lines)"; tail -n 30 "$f"; }
	done
else
	# shellcheck disable=SC1090
	. "$CLUSTER_DIR/cluster.env"
	# every router statement whose worker SQL comes from the shape
	# cache is checked against the deparsed one (an ERROR if they differ)
	bash "$ROOT/test/cluster.sh" psql --dir "$CLUSTER_DIR" -qAt \
		-c "ALTER SYSTEM SET shardfdw.verify_shape_cache = on" \
		-c "SELECT pg_reload_conf()" >/dev/null
fi

# ---------------------------------------------------------------- pg_regress
section "pg_regress"
SCHEDULE="$WORK/schedule"
: > "$SCHEDULE"
regress_tests=()
if [ -n "${SHARDFDW_TESTS:-}" ]; then
	read -r -a wanted <<< "$SHARDFDW_TESTS"
	for t in "${wanted[@]}"; do
		[ -f "$ROOT/test/t/${t%.pl}.pl" ] || regress_tests+=("$t")
	done
else
	while read -r kind rest; do
		case "$kind" in test:) ;; *) continue ;; esac
		for t in $rest; do regress_tests+=("$t"); done
	done < "$ROOT/test/schedule"
fi
for t in "${regress_tests[@]}"; do
	if [ ! -f "$ROOT/sql/$t.sql" ]; then
		echo "skipping $t: sql/$t.sql does not exist yet"
	elif [ ! -f "$ROOT/expected/$t.out" ]; then
		# pg_regress would abort the whole run on a missing expected file.
		echo "FAILED $t: sql/$t.sql has no expected/$t.out (not run)"
		record "regress/$t (no expected/$t.out)" fail
	else
		echo "test: $t" >> "$SCHEDULE"
	fi
done

REGRESS_OUT="$WORK/regress"
mkdir -p "$REGRESS_OUT"
if [ "$cluster_ok" = 0 ]; then
	echo "pg_regress skipped: no cluster"
elif [ -s "$SCHEDULE" ]; then
	set +e
	"$PG_REGRESS" --use-existing --bindir="$BINDIR" \
		--host="$SF_SOCKDIR" --port="$SF_PORT_coordinator" --user="$SF_SUPERUSER" \
		--dbname="$SF_DBNAME" --inputdir="$ROOT" --outputdir="$REGRESS_OUT" \
		--schedule="$SCHEDULE" 2>&1 | tee "$WORK/pg_regress.log"
	regress_rc=${PIPESTATUS[0]}
	set -e
	n_ok=$(grep -cE '^(test |ok |     )?.*\.\.\. ok' "$WORK/pg_regress.log" || true)
	while read -r t; do record "regress/$t" fail; done < <(
		grep -E '\.\.\. FAILED|\.\.\. failed' "$WORK/pg_regress.log" |
			sed -E 's/^(test |     )? *//; s/ +\.\.\..*//')
	for ((k = 0; k < n_ok; k++)); do record regress ok; done
	if [ "$regress_rc" -ne 0 ] && ! grep -qE '\.\.\. (FAILED|failed)' "$WORK/pg_regress.log"; then
		record "pg_regress (exit $regress_rc)" fail
	fi
	if [ -s "$REGRESS_OUT/regression.diffs" ]; then
		section "regression.diffs"
		cat "$REGRESS_OUT/regression.diffs"
		# Keep a copy in the repository (git-ignored) for inspection.
		rm -rf "$ROOT/test/output" 2>/dev/null || true
		mkdir -p "$ROOT/test/output" 2>/dev/null &&
			cp -r "$REGRESS_OUT/regression.diffs" "$REGRESS_OUT/regression.out" \
				"$REGRESS_OUT/results" "$ROOT/test/output/" 2>/dev/null || true
		echo "(copied to test/output/: regression.diffs, regression.out, results/)"
	fi
else
	echo "no pg_regress tests to run yet"
fi

# ---------------------------------------------------------------- TAP
section "TAP tests (prove)"
shopt -s nullglob
tap_files=()
for f in "$ROOT"/test/t/*.pl; do
	if [ -n "${SHARDFDW_TESTS:-}" ]; then
		case " $SHARDFDW_TESTS " in
			*" $(basename "$f" .pl) "* | *" $(basename "$f") "*) ;;
			*) continue ;;
		esac
	fi
	tap_files+=("$f")
done
if [ ${#tap_files[@]} -eq 0 ]; then
	echo "no TAP tests"
else
	# A copy of what the tests read, in a place the server OS user can read
	# (the repository may live under /root).
	TAPDIR="$WORK/tap"
	mkdir -p "$TAPDIR/src"
	tar -C "$ROOT" --exclude=./.git --exclude='*.o' --exclude='*.bc' --exclude='*.so' \
		--exclude=./test/output -cf - . | tar -C "$TAPDIR/src" -xf -
	for f in "${tap_files[@]}"; do mkdir -p "$TAPDIR/$(basename "$f").d"; done
	sf_is_root && chown -R "$SERVER_USER": "$TAPDIR"
	for f in "${tap_files[@]}"; do
		b=$(basename "$f")
		echo "--- $b"
		if (cd "$TAPDIR" && sf_as_server_user env -C "$TAPDIR" \
			PERL5LIB="$PKGLIBDIR/pgxs/src/test/perl" \
			PG_REGRESS="$PG_REGRESS" \
			SHARDFDW_SRCDIR="$TAPDIR/src" \
			TESTDIR="$TAPDIR/$b.d" \
			PG_TEST_TIMEOUT_DEFAULT=120 \
			PATH="$BINDIR:$PATH" \
			prove --timer "$TAPDIR/src/test/t/$b"); then
			record "tap/$b" ok
		else
			record "tap/$b" fail
			for l in "$TAPDIR/$b.d"/tmp_check/log/*; do
				[ -f "$l" ] && { echo "----- $l (last 40 lines)"; tail -n 40 "$l"; }
			done
		fi
	done
fi

# ---------------------------------------------------------------- isolation
if [ -d "$ROOT/test/isolation" ] && [ "$cluster_ok" = 1 ] && [ -z "${SHARDFDW_TESTS:-}" ]; then
	section "isolation tests"
	specs=()
	for s in "$ROOT"/test/isolation/specs/*.spec; do specs+=("$(basename "$s" .spec)"); done
	if [ ${#specs[@]} -eq 0 ]; then
		echo "no isolation specs yet"
	else
		ISO_OUT="$WORK/isolation"
		mkdir -p "$ISO_OUT"
		set +e
		"$PG_ISOLATION_REGRESS" --use-existing --bindir="$BINDIR" \
			--host="$SF_SOCKDIR" --port="$SF_PORT_coordinator" --user="$SF_SUPERUSER" \
			--dbname="$SF_DBNAME" --inputdir="$ROOT/test/isolation" --outputdir="$ISO_OUT" \
			"${specs[@]}" 2>&1 | tee "$WORK/isolation.log"
		iso_rc=${PIPESTATUS[0]}
		set -e
		n_ok=$(grep -c '\.\.\. ok' "$WORK/isolation.log" || true)
		for ((k = 0; k < n_ok; k++)); do record isolation ok; done
		while read -r t; do record "isolation/$t" fail; done < <(
			grep -E '\.\.\. (FAILED|failed)' "$WORK/isolation.log" |
				sed -E 's/^(test |     )? *//; s/ +\.\.\..*//')
		if [ "$iso_rc" -ne 0 ] && ! grep -qE '\.\.\. (FAILED|failed)' "$WORK/isolation.log"; then
			record "pg_isolation_regress (exit $iso_rc)" fail
		fi
		[ -s "$ISO_OUT/regression.diffs" ] && { section "isolation regression.diffs"; cat "$ISO_OUT/regression.diffs"; }
	fi
fi

# ---------------------------------------------------------------- summary
section "summary"
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "took $(( $(date +%s) - START )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
