#!/usr/bin/env python3
"""Where each request's time goes: PostgreSQL's side from pg_stat_statements, the round trips
on the wire, and the server's instructions from callgrind. A measure, not a load test: fixed
numbers of sequential requests, so the figures are per request and do not move with the
machine's other load (no requests/s here; `make bench` gives those).

The shared PostgreSQL does not preload pg_stat_statements and must not be restarted, so this
script makes its own throwaway cluster (initdb as the `postgres` user), seeds it with the
release binary (`provider-api seed`, as `make bench` does) and removes it at the end.

Settings (environment):
  BENCH_PROVIDERS        providers in the database (default 100000)
  BREAKDOWN_REQUESTS     sequential requests per scenario for pg_stat_statements (default 500)
  BREAKDOWN_WARMUP       requests per scenario before the statistics are reset (default 50)
  BREAKDOWN_CALLGRIND    the two callgrind run lengths, space separated (default "150 600");
                         "" skips the callgrind part
  BREAKDOWN_PORT         port of the throwaway cluster (default 54329)
  BREAKDOWN_PGDATA       its data folder (default /tmp/provider-breakdown-pg)
  BREAKDOWN_KEEP         1: leave the cluster running and seeded for the next run (which reuses
                         it); default: stop and remove it
  BREAKDOWN_OUT          JSON file for the figures (default target/breakdown-<N>.json)

Prints a Markdown report on stdout; docs/benchmarks.md quotes it by hand.
"""

import importlib.util
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PORT = int(os.environ.get("BREAKDOWN_PORT", "54329"))
PGDATA = Path(os.environ.get("BREAKDOWN_PGDATA", "/tmp/provider-breakdown-pg"))
KEEP = os.environ.get("BREAKDOWN_KEEP") == "1"
REQUESTS = int(os.environ.get("BREAKDOWN_REQUESTS", "500"))
WARMUP = int(os.environ.get("BREAKDOWN_WARMUP", "50"))
CALLGRIND = [int(n) for n in os.environ.get("BREAKDOWN_CALLGRIND", "150 600").split()]
WANTED = ["get", "search skill + cost", "search availability window", "search name substring",
          "search page 100 (broad)", "recommend", "create provider"]
ANNOTATED = ["get", "search skill + cost", "recommend"]

# run.py reads its settings from BENCH_* at import: point it at the throwaway cluster first.
os.environ["BENCH_ADMIN_URL"] = f"postgres://postgres@127.0.0.1:{PORT}/postgres"
os.environ.pop("BENCH_DB", None)
_spec = importlib.util.spec_from_file_location("bench_run", HERE / "run.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
log = bench.log


def as_postgres(*cmd):
    # initdb and pg_ctl refuse to run as root.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return bench.run(prefix + [str(c) for c in cmd], capture_output=True)


def start_cluster():
    if not (PGDATA / "PG_VERSION").exists():
        log(f"initdb {PGDATA}")
        PGDATA.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(PGDATA, "postgres", "postgres")
        as_postgres(PG_BIN / "initdb", "-D", PGDATA, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with open(PGDATA / "postgresql.conf", "a") as conf:
            # As the shared cluster (128 MB buffers, no autovacuum: the bench vacuums itself),
            # plus the statistics this script reads.
            conf.write(f"port = {PORT}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{PGDATA}'\n"
                       "shared_buffers = 128MB\nautovacuum = off\n"
                       "shared_preload_libraries = 'pg_stat_statements'\n"
                       "pg_stat_statements.track_planning = on\npg_stat_statements.track_utility = on\n"
                       "pg_stat_statements.max = 10000\n")
    if subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(PGDATA), "status"],
                      capture_output=True).returncode != 0:
        as_postgres(PG_BIN / "pg_ctl", "-D", PGDATA, "-l", PGDATA / "server.log", "-w", "start")
    bench.psql(bench.ADMIN_URL, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")


def stop_cluster():
    if KEEP:
        log(f"keeping the cluster at {PGDATA} (port {PORT})")
        return
    as_postgres(PG_BIN / "pg_ctl", "-D", PGDATA, "-m", "fast", "-w", "stop")
    shutil.rmtree(PGDATA, ignore_errors=True)


class WireCounter:
    """A TCP relay between the server and PostgreSQL that counts the frontend's protocol
    messages: each simple Query ('Q') or Sync ('S') is answered by one ReadyForQuery ('Z'), so
    their number is the protocol exchanges; Parse ('P') counts statements prepared rather than
    taken from the driver's cache. An exchange sent while none is waiting for its
    ReadyForQuery is counted as *waited* ('wait'): the driver had to wait for an answer before
    sending it, a round trip. One sent while another is still unanswered was pipelined."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.counts = {}
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def reset(self):
        with self.lock:
            self.counts = {}

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(("127.0.0.1", self.upstream))
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Per connection: exchanges sent and not yet answered, and whether the frontend
            # asked for TLS (then the backend's first answer is one byte, untyped).
            state = {"unanswered": 0, "ssl_asked": False}
            threading.Thread(target=self.frontend, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self.backend, args=(server, client, state), daemon=True).start()

    @staticmethod
    def relay(src, dst, inspect):
        """Passes what `src` sends on to `dst`, each piece shown to `inspect` first (so that its
        answers are never seen before it)."""
        try:
            while data := src.recv(65536):
                inspect(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            dst.close()

    def backend(self, src, dst, state):
        buf, first = b"", True

        def inspect(data):
            nonlocal buf, first
            buf += data
            if first and state["ssl_asked"] and buf:
                buf = buf[1:]  # the one-byte answer to an SSLRequest
            first = False
            kinds, buf = typed_messages(buf)
            with self.lock:
                state["unanswered"] -= kinds.count("Z")

        self.relay(src, dst, inspect)

    def frontend(self, src, dst, state):
        buf, untyped = b"", True  # the startup (and SSLRequest) messages carry no type byte

        def inspect(data):
            nonlocal buf, untyped
            buf += data
            while untyped and len(buf) >= 8:
                length = struct.unpack("!I", buf[:4])[0]
                if len(buf) < length:
                    return
                untyped = struct.unpack("!I", buf[4:8])[0] == 80877103  # SSLRequest
                with self.lock:
                    state["ssl_asked"] = state["ssl_asked"] or untyped
                    if not untyped:
                        # The startup message: answered by a ReadyForQuery too.
                        state["unanswered"] += 1
                buf = buf[length:]
            if untyped:
                return
            kinds, buf = typed_messages(buf)
            with self.lock:
                for kind in kinds:
                    self.counts[kind] = self.counts.get(kind, 0) + 1
                    if kind in "QS":
                        if state["unanswered"] == 0:
                            self.counts["wait"] = self.counts.get("wait", 0) + 1
                        state["unanswered"] += 1

        self.relay(src, dst, inspect)


def typed_messages(buf):
    """The types of the complete protocol messages at the start of `buf` (each a type byte and
    a length), and what follows them."""
    kinds = []
    while len(buf) >= 5:
        length = struct.unpack("!I", buf[1:5])[0]
        if len(buf) < length + 1:
            break
        kinds.append(chr(buf[0]))
        buf = buf[length + 1:]
    return kinds, buf


def send(conn, scenario, ids, i):
    _, method, path, body, user = scenario
    headers = {"content-type": "application/json"}
    if user:
        headers["user-id"] = user
    conn.request(method, path.replace("{id}", ids[i % len(ids)]), json.dumps(body) if body is not None else None,
                 headers)
    response = conn.getresponse()
    response.read()
    if response.status not in (200, 201):
        raise RuntimeError(f"{scenario[0]}: HTTP {response.status}")


STATS_SQL = """
SELECT json_agg(s) FROM (
  SELECT calls, plans, total_plan_time, total_exec_time, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
  FROM pg_stat_statements
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{db}')
  ORDER BY total_plan_time + total_exec_time DESC) s
"""


def statements(scenarios, ids):
    """Each scenario: warm-up, reset the statistics and the wire counts, then REQUESTS sequential
    requests on one keep-alive connection; the statistics divided by REQUESTS."""
    import http.client
    relay = WireCounter(PORT)
    # The server reaches PostgreSQL through the relay; pg_stat_statements' times are measured
    # inside PostgreSQL, so the relay's delay is not in them.
    bench.DB_URL = f"postgres://postgres@127.0.0.1:{relay.port}/{bench.DB}"
    server = bench.Server()
    results = {}
    try:
        for scenario in scenarios:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            for i in range(WARMUP):
                send(conn, scenario, ids, i)
            bench.psql(bench.ADMIN_URL, "SELECT pg_stat_statements_reset()")
            relay.reset()
            for i in range(REQUESTS):
                send(conn, scenario, ids, WARMUP + i)
            wire = dict(relay.counts)
            rows = json.loads(bench.psql(bench.ADMIN_URL, STATS_SQL.format(db=bench.DB)) or "[]")
            # The statistics reset itself runs in the admin database, so it is not among them.
            per = lambda key: sum(r[key] for r in rows) / REQUESTS
            results[scenario[0]] = {
                "statements": per("calls"), "plans": per("plans"),
                "plan_ms": per("total_plan_time"), "exec_ms": per("total_exec_time"),
                "exchanges": (wire.get("Q", 0) + wire.get("S", 0)) / REQUESTS,
                "parses": wire.get("P", 0) / REQUESTS, "simple_queries": wire.get("Q", 0) / REQUESTS,
                # tokio-postgres closes a dropped statement with Close + Sync and does not wait
                # for the answer: such exchanges cost no waiting round trip.
                "closes": wire.get("C", 0) / REQUESTS,
                "waits": wire.get("wait", 0) / REQUESTS,
                "top": [{"calls": r["calls"] / REQUESTS, "plan_ms": r["total_plan_time"] / REQUESTS,
                         "exec_ms": r["total_exec_time"] / REQUESTS, "query": r["query"]} for r in rows[:6]],
            }
            r = results[scenario[0]]
            log(f"{scenario[0]:<28} {r['statements']:.2f} statements, plan {r['plan_ms']:.3f} ms, "
                f"exec {r['exec_ms']:.3f} ms, {r['exchanges']:.2f} exchanges ({r['waits']:.2f} waited), {r['parses']:.2f} parses, {r['closes']:.2f} closes per request")
            conn.close()
    finally:
        server.stop()
        bench.DB_URL = f"postgres://postgres@127.0.0.1:{PORT}/{bench.DB}"
    return results


def callgrind(scenario, ids, n, env=None, annotate=False):
    """run.py's callgrind measure for `n` requests of `scenario` sent by `send` (which also
    accepts create's 201): (total instructions, annotate text or None)."""
    return bench.callgrind_run(env or {}, n, lambda conn, i: send(conn, scenario, ids, i), annotate)


# The parts of the request path asked about, each the outermost matching function (the largest
# inclusive count among the functions whose name matches).
PARTS = [
    ("routing (actix-router)", r"actix_router::"),
    # Serialize impls are named after the types serialised, so this is serde_json's largest
    # single function, a lower bound of the JSON work.
    ("JSON (serde_json)", r"serde_json::"),
    ("the store call (postgres-adapter)", r"postgres_adapter::"),
    ("diesel / diesel-async", r"diesel(_async)?::"),
    ("tokio-postgres", r"tokio_postgres::"),
    ("the access log line (tracing-subscriber)", r"tracing_subscriber::"),
]


def parts(text, n):
    found = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)", line)
        if not m:
            continue
        count, name = int(m.group(1).replace(",", "")), m.group(2).strip()
        # "file:function", the file "???" without debug information.
        if name.startswith("???:") or re.match(r"[^:\s<]+\.\w+:", name):
            name = name.split(":", 1)[1]
        name = re.sub(r" \[[^\]]*\]$", "", name)  # the object file
        for part, pattern in PARTS:
            if re.search(pattern, name) and count > found.get(part, (0, ""))[0]:
                found[part] = (count, name)
    return {part: (count / n, name[:120]) for part, (count, name) in found.items()}


def instructions(scenarios, ids):
    short, long = CALLGRIND
    rows = []
    for scenario in scenarios:
        variants = [("RUST_LOG=warn", {})]
        if scenario[0] == "get":
            variants.append(("RUST_LOG=info (access log on)", {"RUST_LOG": "info"}))
        for label, env in variants:
            annotate = scenario[0] in ANNOTATED
            a, _ = callgrind(scenario, ids, short, env)
            b, text = callgrind(scenario, ids, long, env, annotate)
            row = {"scenario": scenario[0], "variant": label, "instructions": (b - a) / (long - short)}
            if text:
                # n requests plus the readiness probe.
                row["parts"] = parts(text, long + 1)
            rows.append(row)
            log(f"instructions {scenario[0]:<28} {label:<30} {row['instructions']:>12,.0f} per request")
    return rows


def report(stats, instr, seeded):
    lines = [f"{bench.PROVIDERS:,} providers; {REQUESTS} sequential requests per scenario after {WARMUP} "
             f"of warm-up; PostgreSQL 15 with pg_stat_statements (track_planning, track_utility on).", ""]
    if seeded:
        lines += [f"Seeded in {seeded['seconds']:.0f} s.", ""]
    lines += ["| scenario | statements / request | exchanges / request | of which waited | of which closes | "
              "parses / request | planning (ms) | execution (ms) | PostgreSQL total (ms) |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in stats.items():
        lines.append(f"| {name} | {r['statements']:.2f} | {r['exchanges']:.2f} | {r['waits']:.2f} | {r['closes']:.2f} | "
                     f"{r['parses']:.2f} | "
                     f"{r['plan_ms']:.3f} | {r['exec_ms']:.3f} | {r['plan_ms'] + r['exec_ms']:.3f} |")
    for name, r in stats.items():
        lines += ["", f"Top statements of {name} (per request):", "",
                  "| calls | planning (ms) | execution (ms) | statement |", "| ---: | ---: | ---: | --- |"]
        for t in r["top"]:
            q = t["query"].replace("|", "\\|")
            lines.append(f"| {t['calls']:.2f} | {t['plan_ms']:.3f} | {t['exec_ms']:.3f} | `{q}` |")
    if instr:
        lines += ["", "| scenario | configuration | server instructions / request |", "| --- | --- | ---: |"]
        for r in instr:
            lines.append(f"| {r['scenario']} | {r['variant']} | {r['instructions']:,.0f} |")
        for r in instr:
            if "parts" in r:
                lines += ["", f"Inclusive instructions per request, {r['scenario']}:", "",
                          "| part | instructions | outermost function |", "| --- | ---: | --- |"]
                for part, _ in PARTS:
                    if part in r["parts"]:
                        count, fn = r["parts"][part]
                        lines.append(f"| {part} | {count:,.0f} | `{fn.replace('|', '/')}` |")
    return "\n".join(lines) + "\n"


def main():
    if not bench.BIN.exists():
        bench.build()
    start_cluster()
    try:
        seeded = bench.prepare_database()
        ids = bench.psql(bench.DB_URL, "SELECT id FROM providers ORDER BY md5(id::text) LIMIT 20000").split()
        scenarios = [s for s in bench.SCENARIOS if s[0] in WANTED]
        stats = statements(scenarios, ids)
        instr = instructions(scenarios, ids) if CALLGRIND and shutil.which("valgrind") else []
        # Leave the data set as seeded for a kept cluster's next run.
        bench.psql(bench.DB_URL, f"DELETE FROM providers WHERE owner_id = '{bench.OWNER}'")
    finally:
        stop_cluster()
    out = Path(os.environ.get("BREAKDOWN_OUT", bench.ROOT / "target" / f"breakdown-{bench.PROVIDERS}.json"))
    out.write_text(json.dumps({"statements": stats, "instructions": instr}, indent=1))
    print(report(stats, instr, seeded))


if __name__ == "__main__":
    main()
