#!/usr/bin/env bash
# Finds a NATS server with JetStream for the tests (the events relay) and gives its URL.
#
#   scripts/test-nats.sh                          prints a TEST_NATS_URL to use
#   scripts/test-nats.sh cargo test --workspace   runs the command with TEST_NATS_URL set
#
# Where NATS comes from, first that works:
#   1. TEST_NATS_URL, when set and not empty;
#   2. a throwaway `nats-server -js` (Debian's nats-server package: `scripts/need.sh nats`) on a
#      free port of 127.0.0.1, its JetStream store in a temporary folder. With a command, it is
#      stopped and removed when the command ends; without one, it keeps running and the command
#      that stops it is printed on stderr.
# Never a server that merely answers on 4222: the tests create streams, and the one a developer
# runs may hold other things.
set -euo pipefail

say() { printf 'test-nats: %s\n' "$*" >&2; }

# 1. Given.
if [ -n "${TEST_NATS_URL:-}" ]; then
    say "using TEST_NATS_URL from the environment"
    if [ "$#" -eq 0 ]; then
        printf '%s\n' "$TEST_NATS_URL"
        exit 0
    fi
    exec "$@"
fi

# 2. A throwaway server.
server=$(command -v nats-server || true)
[ -n "$server" ] || [ ! -x /usr/sbin/nats-server ] || server=/usr/sbin/nats-server
if [ -z "$server" ]; then
    say "no TEST_NATS_URL and no nats-server: run scripts/need.sh nats (Debian: apt-get install nats-server), or set TEST_NATS_URL"
    exit 1
fi

free_port() {
    local port
    for port in $(seq 54222 54322); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/test-nats.XXXXXX")
port=$(free_port) || {
    say "no free port in 54222..54322"
    rm -rf "$dir"
    exit 1
}
say "starting a throwaway nats-server with JetStream in $dir on port $port"
"$server" -a 127.0.0.1 -p "$port" -js -sd "$dir/jetstream" -P "$dir/nats.pid" \
    -l "$dir/nats.log" &
pid=$!
url="nats://127.0.0.1:$port"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
for _ in $(seq 1 50); do answers && break; sleep 0.1; done
if ! answers; then
    say "the throwaway server did not start:"
    cat "$dir/nats.log" >&2 || true
    kill "$pid" 2>/dev/null || true
    rm -rf "$dir"
    exit 1
fi

stop_server() {
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -rf "$dir"
}

if [ "$#" -eq 0 ]; then
    disown "$pid" 2>/dev/null || true
    say "it keeps running; stop and remove it with:"
    say "  kill $pid && rm -rf $dir"
    printf '%s\n' "$url"
    exit 0
fi

trap stop_server EXIT
trap 'exit 130' INT TERM
set +e
TEST_NATS_URL=$url "$@"
status=$?
set -e
exit "$status"
