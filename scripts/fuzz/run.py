#!/usr/bin/env python3
"""`make fuzz`: schemathesis against the release build, on the memory store and on PostgreSQL.

What it does, in order:

1. Installs schemathesis (pinned below) into a virtual environment at `target/fuzz-venv`
   (ignored by git, like the rest of `target/`). When `python3 -m venv` cannot work because
   Debian's `python3-venv` is missing, it installs that package first (CI runs as root).
2. Builds `provider-api` in release (`cargo build --release -p provider-server --bin provider-api`).
3. For each store, starts the binary on a free loopback port (PostgreSQL: in a scratch database
   that it creates and drops, on the server of `DATABASE_URL` when set, else
   postgres://postgres@127.0.0.1:5432), waits for readiness, and runs

       schemathesis --config-file scripts/fuzz/schemathesis.toml run <url>/v1_0/openapi.json \
           --checks all --exclude-checks positive_data_acceptance \
           --phases examples,coverage,fuzzing,stateful \
           --seed <FUZZ_SEED> --max-examples <FUZZ_MAX_EXAMPLES> \
           --generation-allow-x00 true --generation-codec utf-8

   Every check runs; `positive_data_acceptance` is replaced by the hooks' version that forgives
   only the cross-field rules (see scripts/fuzz/hooks.py for each rule and why). Strings may hold
   NUL and any character UTF-8 can carry. The stateful phase follows the document's links
   (create -> get, replace, delete, review, reviews).
4. Stops the servers (also on Ctrl-C or an error), drops the scratch database, prints a summary
   and exits non-zero when any store had a finding.

Settings (environment): `FUZZ_SEED` (default 20261202), `FUZZ_MAX_EXAMPLES` (default 400: one to
two minutes per store on 2 cores; the stateful phase grows steeply beyond it, 500 took ~3.7 min),
`FUZZ_STORES` (`memory,postgres`), `DATABASE_URL`, `CARGO`.
Reports (JUnit XML and the server's log) go to `target/fuzz/`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SCHEMATHESIS = "schemathesis==4.32.5"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGET = os.path.join(ROOT, "target")
VENV = os.path.join(TARGET, "fuzz-venv")
REPORTS = os.path.join(TARGET, "fuzz")
CONFIG = os.path.join("scripts", "fuzz", "schemathesis.toml")
BINARY = os.path.join(TARGET, "release", "provider-api")
SEED = os.environ.get("FUZZ_SEED", "20261202")
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "400")
STORES = [s for s in os.environ.get("FUZZ_STORES", "memory,postgres").split(",") if s]
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"

servers: list[subprocess.Popen] = []


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


def run(cmd: list[str], **kwargs) -> None:
    say(" ".join(cmd))
    subprocess.run(cmd, check=True, **kwargs)


def venv_python() -> str:
    return os.path.join(VENV, "bin", "python")


def ensure_schemathesis() -> str:
    """The schemathesis executable of the venv, installing both when needed."""
    exe = os.path.join(VENV, "bin", "schemathesis")
    wanted = SCHEMATHESIS.split("==")[1]
    if os.path.exists(exe):
        out = subprocess.run([exe, "--version"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip().endswith(wanted):
            return exe
    if not os.path.exists(venv_python()):
        made = subprocess.run([sys.executable, "-m", "venv", VENV])
        if made.returncode != 0:
            # Debian splits venv/ensurepip into python3-venv.
            shutil.rmtree(VENV, ignore_errors=True)
            if shutil.which("apt-get") is None:
                sys.exit("python3 -m venv failed and apt-get is not there: install python3-venv")
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            run(["apt-get", "update", "-qq"], env=env)
            run(["apt-get", "install", "-y", "-qq", "python3-venv"], env=env)
            run([sys.executable, "-m", "venv", VENV])
    run([venv_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", SCHEMATHESIS])
    return exe


def build() -> None:
    cargo = os.environ.get("CARGO", "cargo")
    run([cargo, "build", "--release", "-p", "provider-server", "--bin", "provider-api"], cwd=ROOT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, server: subprocess.Popen, log: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server stopped at start (exit {server.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"{base}/v1_0/health/ready", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    sys.exit(f"the server was not ready within 60 s; see {log}")


def start_server(store: str, database_url: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = os.path.join(REPORTS, f"{store}-server.log")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(HOST="127.0.0.1", PORT=str(port), RUST_LOG="warn", LOG_FORMAT="json",
               # The moderator of hooks.py: the moderation routes are reached, not only refused.
               MODERATOR_IDS="7b0c1e52-3c1f-4b7e-9a55-0000000000d0")
    if database_url:
        env["DATABASE_URL"] = database_url
    out = open(log, "w")
    server = subprocess.Popen([BINARY, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    servers.append(server)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, server, log)
    return server, base


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def psql(admin_url: str, sql: str) -> None:
    run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", admin_url, "-c", sql])


def fuzz(exe: str, store: str) -> tuple[bool, float]:
    """Runs schemathesis against one store; True when it found nothing."""
    database_url = None
    admin_url = None
    scratch = f"provider_fuzz_{os.getpid()}"
    if store == "postgres":
        admin_url = with_database(os.environ.get("DATABASE_URL") or DEFAULT_SERVER, "postgres")
        psql(admin_url, f'DROP DATABASE IF EXISTS "{scratch}"')
        psql(admin_url, f'CREATE DATABASE "{scratch}"')
        database_url = with_database(admin_url, scratch)
    elif store != "memory":
        sys.exit(f"unknown store {store!r} in FUZZ_STORES (memory, postgres)")
    try:
        server, base = start_server(store, database_url)
        cmd = [
            exe, "--config-file", CONFIG, "--no-color", "run", f"{base}/v1_0/openapi.json",
            # Every check; the built-in positive_data_acceptance gives way to the hooks' one,
            # which forgives only the cross-field rules (scripts/fuzz/hooks.py).
            "--checks", "all", "--exclude-checks", "positive_data_acceptance",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--seed", SEED, "--max-examples", MAX_EXAMPLES,
            "--generation-allow-x00", "true", "--generation-codec", "utf-8",
            "--report", "junit", "--report-junit-path", os.path.join(REPORTS, f"{store}-junit.xml"),
        ]
        say(f"[{store}] " + " ".join(cmd))
        started = time.monotonic()
        result = subprocess.run(cmd, cwd=ROOT)
        took = time.monotonic() - started
        if server.poll() is not None:
            print(f"the {store} server died during the run; see {REPORTS}/{store}-server.log")
            return False, took
        return result.returncode == 0, took
    finally:
        for server in servers:
            stop(server)
        servers.clear()
        if admin_url:
            psql(admin_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def main() -> int:
    os.makedirs(REPORTS, exist_ok=True)
    exe = ensure_schemathesis()
    build()
    results = []
    for store in STORES:
        ok, took = fuzz(exe, store)
        results.append((store, ok, took))
    print()
    print(f"fuzz summary ({SCHEMATHESIS}, seed {SEED}, {MAX_EXAMPLES} examples per operation):")
    for store, ok, took in results:
        print(f"  {store:<9} {'passed' if ok else 'FAILED'}  ({took:.0f} s)")
    failed = [store for store, ok, _ in results if not ok]
    # The plain closing line CI reads: one "test" per store.
    print(f"fuzz: {len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        print(f"findings on: {', '.join(failed)} (details above; reports in {REPORTS})")
        return 1
    return 0


def on_signal(signum, _frame):
    for server in servers:
        stop(server)
    sys.exit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    try:
        sys.exit(main())
    finally:
        for server in servers:
            stop(server)
