#!/usr/bin/env bash
# scripts/install-deps.sh: make sure everything needed to build and test
# shardfdw is installed.
#
# On Debian 12 as root: installs the missing Debian packages with apt-get
# (skipped entirely when dpkg-query says they are all present).
# Otherwise: checks, prints exactly what to install, and exits non-zero if
# something is missing.
set -euo pipefail

PACKAGES=(
	postgresql-15             # server binaries (initdb, pg_ctl, postgres)
	postgresql-client-15      # psql
	postgresql-server-dev-15  # pg_config, PGXS, pg_regress, TAP modules
	libpq-dev                 # libpq-fe.h
	build-essential           # gcc, make
	perl                      # prove, Test::More
	libipc-run-perl           # IPC::Run, needed by PostgreSQL::Test::Cluster
)

missing_debian_packages() {
	local p st
	for p in "${PACKAGES[@]}"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || printf '%s\n' "$p"
	done
}

# Tool-level check, for systems without dpkg (or after installing).
missing_tools() {
	local pgc=""
	for c in "${PG_CONFIG:-}" "$(command -v pg_config 2>/dev/null || true)" \
		/usr/lib/postgresql/15/bin/pg_config; do
		[ -n "$c" ] && [ -x "$c" ] || continue
		case "$("$c" --version 2>/dev/null)" in "PostgreSQL 15"*) pgc=$c; break ;; esac
	done
	if [ -z "$pgc" ]; then
		echo "pg_config of PostgreSQL 15 (PostgreSQL 15 server development files)"
	else
		local bindir pkglib
		bindir=$("$pgc" --bindir); pkglib=$("$pgc" --pkglibdir)
		for b in initdb pg_ctl postgres psql; do
			[ -x "$bindir/$b" ] || echo "$bindir/$b (PostgreSQL 15 server / client)"
		done
		[ -x "$pkglib/pgxs/src/test/regress/pg_regress" ] ||
			echo "pg_regress (PostgreSQL 15 server development files)"
		[ -f "$pkglib/pgxs/src/test/perl/PostgreSQL/Test/Cluster.pm" ] ||
			echo "PostgreSQL::Test::Cluster (PostgreSQL 15 server development files)"
		[ -f "$("$pgc" --includedir)/libpq-fe.h" ] || echo "libpq-fe.h (libpq development files)"
	fi
	command -v gcc >/dev/null 2>&1 || command -v cc >/dev/null 2>&1 || echo "a C compiler (gcc)"
	command -v make >/dev/null 2>&1 || echo "make"
	command -v prove >/dev/null 2>&1 || echo "prove (perl)"
	perl -MTest::More -e1 >/dev/null 2>&1 || echo "perl module Test::More"
	perl -MIPC::Run -e1 >/dev/null 2>&1 || echo "perl module IPC::Run"
	command -v runuser >/dev/null 2>&1 || echo "runuser (util-linux)"
	return 0
}

if command -v dpkg-query >/dev/null 2>&1; then
	mapfile -t missing < <(missing_debian_packages)
	if [ "${#missing[@]}" -eq 0 ]; then
		echo "install-deps: all required Debian packages are installed"
		exit 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing Debian packages. Install them with:" >&2
		echo "  sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# (postgresql-common may create a default cluster on port 5432; the
	# harness does not use it and probes its own ports from 57000.)
	# Retries ride out a flaky mirror; no pty keeps dpkg's progress meter out
	# of CI logs.
	apt-get -o Acquire::Retries=3 update -qq </dev/null
	apt-get -o Acquire::Retries=3 -o Dpkg::Use-Pty=0 install -y -qq \
		--no-install-recommends "${missing[@]}" </dev/null
	mapfile -t still < <(missing_debian_packages)
	if [ "${#still[@]}" -ne 0 ]; then
		echo "install-deps: still missing after apt-get: ${still[*]}" >&2
		exit 1
	fi
	echo "install-deps: done"
	exit 0
fi

# Not a Debian system: check the tools themselves.
mapfile -t missing < <(missing_tools)
if [ "${#missing[@]}" -ne 0 ]; then
	echo "install-deps: this is not a Debian system; install these yourself:" >&2
	printf '  - %s\n' "${missing[@]}" >&2
	echo "(on Debian/Ubuntu: apt-get install ${PACKAGES[*]})" >&2
	exit 1
fi
echo "install-deps: all required tools found"
