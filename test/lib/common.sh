# shellcheck shell=bash
# test/lib/common.sh: helpers shared by test/cluster.sh and scripts/*.sh.
#
# Sourced, never executed.  Sets nothing on load except SHARDFDW_ROOT; every
# other value comes from a function so callers decide when to fail.

SHARDFDW_ROOT=${SHARDFDW_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

sf_log()  { printf '%s\n' "shardfdw: $*" >&2; }
sf_die()  { printf '%s\n' "shardfdw: error: $*" >&2; exit 1; }

# sf_pg_config: print the path of a PostgreSQL 15 pg_config.
# PG_CONFIG wins when set; then `pg_config` on PATH if it is version 15; then
# the Debian location.  Fails when none is PostgreSQL 15.
sf_pg_config() {
	local c
	for c in "${PG_CONFIG:-}" "$(command -v pg_config 2>/dev/null)" \
		/usr/lib/postgresql/15/bin/pg_config; do
		[ -n "$c" ] && [ -x "$c" ] || continue
		case "$("$c" --version 2>/dev/null)" in
			"PostgreSQL 15"*) printf '%s\n' "$c"; return 0 ;;
		esac
		[ -n "${PG_CONFIG:-}" ] && [ "$c" = "$PG_CONFIG" ] &&
			sf_log "PG_CONFIG=$PG_CONFIG is not PostgreSQL 15, looking further"
	done
	return 1
}

# sf_is_root: true when running as uid 0.
sf_is_root() { [ "$(id -u)" -eq 0 ]; }

# sf_server_user: the OS user that runs PostgreSQL servers.  As root that is
# `postgres` if it exists, else `shardfdw` (created on demand by
# sf_ensure_server_user); otherwise the current user.
sf_server_user() {
	if sf_is_root; then
		if id postgres >/dev/null 2>&1; then echo postgres; else echo shardfdw; fi
	else
		id -un
	fi
}

sf_ensure_server_user() {
	local u
	u=$(sf_server_user)
	if ! id "$u" >/dev/null 2>&1; then
		sf_log "creating unprivileged OS user '$u' to run the PostgreSQL servers"
		useradd --system --user-group --create-home --home-dir "/var/lib/$u" \
			--shell /bin/bash "$u" || sf_die "could not create OS user $u"
	fi
}

# sf_as_server_user CMD...: run CMD as the server OS user (directly when we
# already are that user).  The environment is passed through explicitly
# because runuser resets it.  The command runs in / since the caller's
# directory (say, a clone under /root) may be closed to that user: pass
# absolute paths, or use `env -C DIR CMD`.
sf_as_server_user() {
	local u
	u=$(sf_server_user)
	if [ "$(id -un)" = "$u" ]; then
		"$@"
	else
		(cd / && runuser -u "$u" -- env PATH="$PATH" LC_ALL=C LANG=C "$@")
	fi
}
