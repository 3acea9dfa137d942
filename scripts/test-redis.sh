#!/usr/bin/env bash
# Finds a Redis for the tests (the shared rate limits) and gives its URL.
#
#   scripts/test-redis.sh                          prints a TEST_REDIS_URL to use
#   scripts/test-redis.sh cargo test --workspace   runs the command with TEST_REDIS_URL set
#
# Where Redis comes from, first that works:
#   1. TEST_REDIS_URL, when set and not empty;
#   2. a throwaway `redis-server` (Debian's redis-server package: `scripts/need.sh redis`) on a
#      free port of 127.0.0.1, in a temporary folder, persisting nothing. With a command, it is
#      stopped and removed when the command ends; without one, it keeps running and the command
#      that stops it is printed on stderr.
# Never a Redis that merely answers on 6379: the tests write keys, and the one a developer
# runs may hold other things.
#
# The tests that stop Redis mid-run start their own redis-server (on PATH), never this one.
set -euo pipefail

say() { printf 'test-redis: %s\n' "$*" >&2; }

# 1. Given.
if [ -n "${TEST_REDIS_URL:-}" ]; then
    say "using TEST_REDIS_URL from the environment"
    if [ "$#" -eq 0 ]; then
        printf '%s\n' "$TEST_REDIS_URL"
        exit 0
    fi
    exec "$@"
fi

# 2. A throwaway server.
if ! command -v redis-server >/dev/null 2>&1; then
    say "no TEST_REDIS_URL and no redis-server: run scripts/need.sh redis (Debian: apt-get install redis-server), or set TEST_REDIS_URL"
    exit 1
fi

free_port() {
    local port
    for port in $(seq 56379 56479); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/test-redis.XXXXXX")
port=$(free_port) || {
    say "no free port in 56379..56479"
    rm -rf "$dir"
    exit 1
}
say "starting a throwaway redis-server in $dir on port $port"
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
url="redis://127.0.0.1:$port"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
for _ in $(seq 1 50); do answers && break; sleep 0.1; done
if ! answers; then
    say "the throwaway server did not start:"
    cat "$dir/redis.log" >&2 || true
    rm -rf "$dir"
    exit 1
fi

pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
stop_server() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -rf "$dir"
}

if [ "$#" -eq 0 ]; then
    say "it keeps running; stop and remove it with:"
    say "  kill $pid && rm -rf $dir"
    printf '%s\n' "$url"
    exit 0
fi

trap stop_server EXIT
trap 'exit 130' INT TERM
set +e
TEST_REDIS_URL=$url "$@"
status=$?
set -e
exit "$status"
