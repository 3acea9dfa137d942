#!/usr/bin/env bash
# A streaming standby of the test PostgreSQL, for the read-replica tests.
#
#   scripts/test-standby.sh                 makes sure the standby runs; prints its URL
#   scripts/test-standby.sh cargo test ...  the same, then runs the command with
#                                           TEST_STANDBY_URL set to the standby's URL
#   scripts/test-standby.sh stop | start    stops / starts it (the tests do, to see reads
#                                           survive a replica going away)
#
# The primary is DATABASE_URL (run this under scripts/test-postgres.sh, which finds one), else
# postgres://postgres@127.0.0.1:5432/postgres. It must be on this machine: the standby is made
# with `pg_basebackup -R` from it, into PG_STANDBY_DIR (default /tmp/provider-test-standby), and
# served on 127.0.0.1:PG_STANDBY_PORT (default 5499) with the local PostgreSQL binaries
# (PG_BINDIR, else found like scripts/test-postgres.sh does), trust authentication.
#
# Idempotent: a standby already running there, streaming from this primary, is reused; a
# stopped one is started; one of another primary, or one that cannot catch up, is made again.
# The primary must accept replication connections from 127.0.0.1: when it does not, a `trust`
# line for them is put first in its pg_hba.conf and the configuration reloaded.
# Fails (status 1, saying why) when no standby can be made: the tests that need one are never
# skipped.
set -euo pipefail

say() { printf 'test-standby: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

primary_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
dir=${PG_STANDBY_DIR:-/tmp/provider-test-standby}
port=${PG_STANDBY_PORT:-5499}
data=$dir/data

# host and port of the primary, from its URL (postgres://user@host:port/db).
authority=${primary_url#*://}
authority=${authority%%/*}
authority=${authority##*@}
primary_host=${authority%%:*}
primary_port=5432
[[ $authority == *:* ]] && primary_port=${authority##*:}
primary_user=$(sed -E 's#^[a-z]+://([^:@/]+).*@.*#\1#;t;s#.*#postgres#' <<<"$primary_url")
db_name=${primary_url##*/}
db_name=${db_name%%\?*}
standby_url="postgres://$primary_user@127.0.0.1:$port/${db_name:-postgres}"

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then printf '%s\n' "$PG_BINDIR"; return; fi
    if command -v pg_config >/dev/null 2>&1; then
        local d
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -x "$d/pg_basebackup" ] && [ -x "$d/pg_ctl" ]; then printf '%s\n' "$d"; return; fi
    fi
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}
bindir=$(find_bindir)
for tool in pg_basebackup pg_ctl psql; do
    [ -x "$bindir/$tool" ] || command -v "$tool" >/dev/null 2>&1 \
        || die "no $tool found (PG_BINDIR=$bindir); install PostgreSQL's server binaries"
done
psql_bin=$bindir/psql
[ -x "$psql_bin" ] || psql_bin=$(command -v psql)

# initdb, pg_ctl and the server refuse to run as root: run them as `postgres` then.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root and there is no 'postgres' user"
    as_owner=(runuser -u postgres --)
fi

primary_sql() { "$psql_bin" "$primary_url" -XAtqc "$1"; }
standby_sql() { "$psql_bin" "$standby_url" -XAtqc "$1" 2>/dev/null; }
ctl() { "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" "$@"; }

start() {
    ctl -l "$dir/server.log" -w -t 60 start >/dev/null
}
stop() {
    if [ -f "$data/postmaster.pid" ]; then
        ctl -m fast -w -t 60 stop >/dev/null || true
    fi
}

case "${1:-}" in
    stop) stop; exit 0 ;;
    start) start || { tail -n 20 "$dir/server.log" >&2; die "the standby did not start"; }; exit 0 ;;
esac

primary_sql 'SELECT 1' >/dev/null \
    || die "the primary at $primary_host:$primary_port does not answer (run under scripts/test-postgres.sh)"
[ "$(primary_sql 'SHOW wal_level')" != minimal ] \
    || die "the primary has wal_level = minimal: set it to replica and restart it"
[ "$(primary_sql 'SHOW max_wal_senders')" -gt 0 ] \
    || die "the primary has max_wal_senders = 0: raise it and restart it"
primary_id=$(primary_sql 'SELECT system_identifier FROM pg_control_system()')

# Is the standby there, a standby of this primary, and streaming?
healthy() {
    [ "$(standby_sql 'SELECT pg_is_in_recovery()')" = t ] || return 1
    [ "$(standby_sql 'SELECT system_identifier FROM pg_control_system()')" = "$primary_id" ] || return 1
    local i
    for i in $(seq 1 100); do
        [ "$(standby_sql 'SELECT status FROM pg_stat_wal_receiver')" = streaming ] && return 0
        sleep 0.1
    done
    return 1
}

finish() {
    if [ "$#" -eq 0 ]; then
        printf '%s\n' "$standby_url"
        exit 0
    fi
    if [ -z "${TEST_POSTGRES_THROWAWAY:-}" ]; then
        TEST_STANDBY_URL=$standby_url exec "$@"
    fi
    # The primary is a throwaway cluster that goes when the command ends: so does its standby,
    # which would otherwise wait for it forever.
    local status=0
    TEST_STANDBY_URL=$standby_url "$@" || status=$?
    stop
    rm -rf "$dir"
    exit "$status"
}

if healthy; then
    finish "$@"
fi
if [ -f "$data/standby.signal" ] && [ ! -f "$data/postmaster.pid" ]; then
    say "starting the standby in $data"
    if start && healthy; then finish "$@"; fi
fi

# Replication connections from 127.0.0.1 must be allowed.
can_replicate() {
    "$psql_bin" "host=$primary_host port=$primary_port user=$primary_user dbname=replication replication=true" \
        -XAtqc 'IDENTIFY_SYSTEM' >/dev/null 2>&1
}
if ! can_replicate; then
    hba=$(primary_sql 'SHOW hba_file')
    say "the primary refuses replication connections from 127.0.0.1: allowing them in $hba"
    [ -w "$hba" ] || die "cannot write $hba: add 'host replication all 127.0.0.1/32 trust' to it and reload"
    # First, so that no earlier line (asking for a password) decides for them.
    sed -i '1i host replication all 127.0.0.1/32 trust  # added by scripts/test-standby.sh' "$hba"
    primary_sql 'SELECT pg_reload_conf()' >/dev/null
    for _ in $(seq 1 50); do can_replicate && break; sleep 0.1; done
    can_replicate || die "the primary still refuses replication connections after the reload"
fi

say "making a standby of $primary_host:$primary_port in $data (port $port)"
stop
rm -rf "$dir"
mkdir -p "$dir"
[ "${#as_owner[@]}" -eq 0 ] || chown postgres: "$dir"
chmod 700 "$dir"
"${as_owner[@]}" "$bindir/pg_basebackup" -h "$primary_host" -p "$primary_port" -U "$primary_user" \
    -D "$data" -R -X stream -c fast >"$dir/basebackup.log" 2>&1 \
    || { cat "$dir/basebackup.log" >&2; die "pg_basebackup failed"; }
# The copy holds the primary's data and auto.conf, but a Debian cluster keeps its other
# configuration outside the data folder: give the standby its own.
"${as_owner[@]}" tee "$data/postgresql.conf" >/dev/null <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
hba_file = '$data/pg_hba.conf'
ident_file = '$data/pg_ident.conf'
hot_standby = on
hot_standby_feedback = on
max_connections = 200
fsync = off
full_page_writes = off
EOF
"${as_owner[@]}" tee "$data/pg_hba.conf" >/dev/null <<'EOF'
local all all trust
host all all 127.0.0.1/32 trust
EOF
"${as_owner[@]}" touch "$data/pg_ident.conf"
# Settings of the primary's own configuration that do not suit this copy.
"${as_owner[@]}" sed -i -E '/^(data_directory|config_file|external_pid_file|include_dir|include_if_exists|include) /d' \
    "$data/postgresql.auto.conf"
start || { tail -n 20 "$dir/server.log" >&2; die "the standby did not start"; }
healthy || { tail -n 20 "$dir/server.log" >&2; die "the standby started but does not stream from the primary"; }
say "the standby streams on 127.0.0.1:$port"
finish "$@"
