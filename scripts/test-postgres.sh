#!/usr/bin/env bash
# Finds a PostgreSQL for the tests and gives its URL.
#
#   scripts/test-postgres.sh                      prints a DATABASE_URL to use
#   scripts/test-postgres.sh cargo test --workspace   runs the command with DATABASE_URL set
#
# Where the database comes from, first that works:
#   1. DATABASE_URL, when set and not empty;
#   2. a server answering on 127.0.0.1:5432 (checked with pg_isready):
#      postgres://postgres@127.0.0.1:5432/postgres;
#   3. a throwaway cluster made with the local PostgreSQL binaries (initdb + pg_ctl) in a
#      temporary folder, on a free port, trust authentication. With a command, it is stopped
#      and removed when the command ends; without one, it keeps running and the command that
#      removes it is printed on stderr.
# If none works, it exits with status 1 and says how to install PostgreSQL.
#
# Environment overrides (mostly to exercise path 3 on a machine that has a server on 5432):
#   PG_PROBE_HOST   host probed in step 2 (default 127.0.0.1)
#   PG_PROBE_PORT   port probed in step 2 (default 5432); point it at a closed port, e.g.
#                   `DATABASE_URL= PG_PROBE_PORT=1 scripts/test-postgres.sh cargo test ...`
#   PG_BINDIR       folder holding initdb and pg_ctl (default: found via pg_config, PATH, or
#                   /usr/lib/postgresql/<newest>/bin)
set -euo pipefail

say() { printf 'test-postgres: %s\n' "$*" >&2; }

run_with_url() {
    local url=$1
    shift
    if [ "$#" -eq 0 ]; then
        printf '%s\n' "$url"
        return 0
    fi
    DATABASE_URL=$url "$@"
}

# 1. Given.
if [ -n "${DATABASE_URL:-}" ]; then
    say "using DATABASE_URL from the environment"
    run_with_url "$DATABASE_URL" "$@"
    exit $?
fi

# 2. A server on the usual port.
probe_host=${PG_PROBE_HOST:-127.0.0.1}
probe_port=${PG_PROBE_PORT:-5432}
answers() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$1" -p "$2" -t 3
    else
        (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
    fi
}
if answers "$probe_host" "$probe_port"; then
    say "using the server on $probe_host:$probe_port"
    run_with_url "postgres://postgres@$probe_host:$probe_port/postgres" "$@"
    exit $?
fi

# 3. A throwaway cluster.
how_to_install() {
    cat >&2 <<'EOF'
test-postgres: no PostgreSQL found. Any one of these works:
  * set DATABASE_URL to a server you have (postgres://user:password@host:port/database);
  * start the local one: `pg_ctlcluster 15 main start` (Debian/Ubuntu), or
    `docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15`;
  * install it: `apt-get install postgresql` (Debian/Ubuntu), `brew install postgresql@15`
    (macOS), `dnf install postgresql-server` (Fedora); then rerun this script, which can also
    start a throwaway cluster from those binaries by itself.
EOF
}

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        printf '%s\n' "$PG_BINDIR"
        return
    fi
    if command -v pg_config >/dev/null 2>&1; then
        local dir
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            printf '%s\n' "$dir"
            return
        fi
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return
    fi
    local newest
    newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$newest" ] && [ -x "$newest/initdb" ]; then
        printf '%s\n' "$newest"
    fi
}

bindir=$(find_bindir)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
    say "nothing answers on $probe_host:$probe_port and no initdb/pg_ctl was found"
    how_to_install
    exit 1
fi

# initdb refuses to run as root: run the cluster as the `postgres` user then.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        say "running as root and there is no 'postgres' user to own a throwaway cluster"
        how_to_install
        exit 1
    fi
    if command -v runuser >/dev/null 2>&1; then
        as_owner=(runuser -u postgres --)
    else
        as_owner=(su postgres -s /bin/sh -c '"$0" "$@"')
    fi
fi

free_port() {
    local port
    for port in $(seq 55432 55532); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

datadir=$(mktemp -d "${TMPDIR:-/tmp}/test-postgres.XXXXXX")
chmod 700 "$datadir"
if [ "${#as_owner[@]}" -gt 0 ]; then
    chown postgres: "$datadir"
fi
stop_cluster() {
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$datadir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$datadir"
}

port=$(free_port) || {
    say "no free port in 55432..55532"
    rm -rf "$datadir"
    exit 1
}
say "starting a throwaway PostgreSQL ($bindir) in $datadir on port $port"
if ! "${as_owner[@]}" "$bindir/initdb" -D "$datadir/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$datadir/initdb.log" 2>&1 \
    && ! "${as_owner[@]}" "$bindir/initdb" -D "$datadir/data" -U postgres -A trust -E UTF8 \
        --locale=C --no-sync >"$datadir/initdb.log" 2>&1; then
    say "initdb failed:"
    cat "$datadir/initdb.log" >&2
    rm -rf "$datadir"
    how_to_install
    exit 1
fi
# Durability is pointless for a throwaway test cluster: fsync off makes it much faster.
if ! "${as_owner[@]}" "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/server.log" -w -t 30 \
        -o "-p $port -k $datadir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null; then
    say "the throwaway server did not start:"
    cat "$datadir/server.log" >&2 || true
    stop_cluster
    how_to_install
    exit 1
fi
url="postgres://postgres@127.0.0.1:$port/postgres"

if [ "$#" -eq 0 ]; then
    say "it keeps running; stop and remove it with:"
    say "  ${as_owner[*]} $bindir/pg_ctl -D $datadir/data -m fast stop && rm -rf $datadir"
    printf '%s\n' "$url"
    exit 0
fi

trap stop_cluster EXIT
trap 'exit 130' INT TERM
set +e
# scripts/test-standby.sh removes its standby of this cluster when its command ends.
DATABASE_URL=$url TEST_POSTGRES_THROWAWAY=1 "$@"
status=$?
set -e
exit "$status"
