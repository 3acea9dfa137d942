#!/usr/bin/env python3
"""`make bench`: seed a PostgreSQL database at a chosen scale, start the release server on it,
drive load with wrk, and write docs/benchmarks.md.

Settings (environment):
  BENCH_PROVIDERS     providers in the database (default 100000)
  BENCH_DURATION      seconds per measured run (default 10)
  BENCH_REPEATS       measured runs per scenario and connection count; the median is reported (3)
  BENCH_CONNECTIONS   connection counts, space separated (default "8 32")
  BENCH_ADMIN_URL     PostgreSQL admin URL (default DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
  BENCH_SCENARIOS     only these scenarios, space separated (default: all)
  BENCH_REPORT        report file (default docs/benchmarks.md); an existing report keeps the
                      sections of other scales and gets this scale's section replaced
  BENCH_VARIANTS      extra comparisons after the scenarios, space separated (default
                      "security observability instructions overload"; "" for none):
                        security  GET and search at 32 connections, header mode with limits off
                                  against jwt mode with a rate limit on, runs interleaved
                        observability  GET and search at 32 connections, METRICS_ENABLED=false
                                  against metrics on (the default), no trace export in either,
                                  runs interleaved
                        instructions  GET and search: instructions the server executes per
                                  request (valgrind's callgrind, one worker, sequential
                                  requests) with metrics off, on, on with jwt and a rate
                                  limit, and on with a rate limit in the process and in Redis
                                  (a throwaway redis-server, or BENCH_REDIS_URL): a measure the
                                  machine's other load does not move
                        overload  search at 4x the saturating load (4 x 32 connections):
                                  without shedding, and with MAX_IN_FLIGHT=32 for clients that
                                  wait the Retry-After they are given and for clients that retry
                                  at once; a probe client times answered requests meanwhile
  BENCH_DB            database name (default provider_bench_<N>): separate checkouts whose
                      migrations differ keep separate databases
  BENCH_BIN           the server binary to measure (default: this checkout's release build,
                      built first); e.g. an older commit's build, for before/after figures
  BENCH_INSTRUCTION_SCENARIOS  the scenarios of the instructions variant, comma separated
                      (default "get,search skill + cost")
  BENCH_INSTRUCTION_CONFIGS    only the configurations whose name contains one of these,
                      comma separated (default: all)

The moderation scenarios (a queue page, a decision) run on a fixture made through the API before
they run: max(100, N/100) reviews held by the screen (10,000 at a million providers) and one
open flag on each of 1,000 published reviews; a run replaces the previous run's fixture.

Search orders, totals and cursors: "sort <order>" runs the skill + cost search in each order
but the default, "total skill + cost" the same search with "total": true, and "cursor depth
100,000" the broad search's page of 100 after a cursor 100,000 providers deep (half the
providers at smaller scales), fetched by walking the cursors before the measured runs; the
server signs cursors with a fixed CURSOR_SECRET, so every server of the run takes it.

The database (provider_bench_<N> unless BENCH_DB names another) is seeded once (seed 1) and reused while it holds exactly N
providers with the current schema; writes made by a run (create, review) are deleted after it.
"""

import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("BENCH_BIN") or ROOT / "target" / "release" / "provider-api")
LUA = ROOT / "scripts" / "bench" / "wrk.lua"

PROVIDERS = int(os.environ.get("BENCH_PROVIDERS", "100000"))
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
CONNECTIONS = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "8 32").split()]
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL") or os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
REPORT = ROOT / os.environ.get("BENCH_REPORT", "docs/benchmarks.md")
DB = os.environ.get("BENCH_DB") or f"provider_bench_{PROVIDERS}"
_base, _, _query = ADMIN_URL.partition("?")
DB_URL = _base.rsplit("/", 1)[0] + f"/{DB}" + (f"?{_query}" if _query else "")
OWNER = "00000000-0000-4000-8000-00000000b0b0"
MODERATOR = "00000000-0000-4000-8000-0000000000d0"
HELD_COMMENT = "bench held: see www.example.com"
HELD = max(100, PROVIDERS // 100)

WINDOW_90 = [{"from_date": "2027-03-01", "to_date": "2027-05-29"}]
SKILL_COST = {"skills": ["skill-3"], "cost_lt": 50000}
CURSOR_DEPTH = min(100_000, PROVIDERS // 2 // 100 * 100)
CURSOR_SECRET = "bench-cursor-secret-bench-cursor-secret"
SCENARIOS = [
    # name, method, path, body, user
    ("get", "GET", "/v1_0/service-provider/{id}", None, None),
    ("search skill + cost", "POST", "/v1_0/service-providers",
     {"skills": ["skill-3"], "cost_lt": 50000}, None),
    ("search name substring", "POST", "/v1_0/service-providers",
     {"name": "lunar tutoring"}, None),
    ("search availability window", "POST", "/v1_0/service-providers",
     {"availability": [{"from_date": "2027-06-01", "to_date": "2027-06-07"}], "cost_gt": 100000}, None),
    ("search page 100 (broad)", "POST", "/v1_0/service-providers?page=100&page_size=100", {}, None),
    ("recommend", "POST", "/v1_0/service-providers/recommend",
     {"job_budget_in_pence": 300000, "expected_job_duration_in_days": 3,
      "skills": ["skill-5", "skill-40"], "availability": WINDOW_90, "minimum_review_rating": 3}, None),
    ("create provider", "POST", "/v1_0/service-provider",
     {"name": "Bench Builders Ltd", "skills": ["skill-1", "skill-77", "Carpentry"], "cost_in_pence": 42000,
      "availability": [{"from_date": "2027-02-01", "to_date": "2027-02-14"},
                       {"from_date": "2027-02-15", "to_date": "2027-03-01"}]}, OWNER),
    ("add review", "POST", "/v1_0/service-provider/{id}/review",
     {"rating": 4.5, "comment": "benchmark review"}, "random"),
    ("sort cost_asc (skill + cost)", "POST", "/v1_0/service-providers",
     {**SKILL_COST, "sort": "cost_asc"}, None),
    ("sort rating_desc (skill + cost)", "POST", "/v1_0/service-providers",
     {**SKILL_COST, "sort": "rating_desc"}, None),
    ("sort reviews_desc (skill + cost)", "POST", "/v1_0/service-providers",
     {**SKILL_COST, "sort": "reviews_desc"}, None),
    ("sort newest (skill + cost)", "POST", "/v1_0/service-providers",
     {**SKILL_COST, "sort": "newest"}, None),
    ("total skill + cost", "POST", "/v1_0/service-providers", {**SKILL_COST, "total": True}, None),
    (f"cursor depth {CURSOR_DEPTH:,} (broad)", "POST",
     "/v1_0/service-providers?page_size=100&cursor={cursor}", {}, None),
    ("moderation queue", "GET", "/v1_0/moderation/queue?page=1&page_size=10", None, MODERATOR),
    # Any status may be decided: each request is a real change (the review's row, its history,
    # its open flags), on one of the fixture's held reviews chosen at random.
    ("moderation decision", "POST", "/v1_0/moderation/reviews/{id}/decision",
     {"action": "hide", "rule": "bench rule", "statement": "A statement of reasons."}, MODERATOR),
]
# Scenarios whose {id} is a held review of the fixture, not a provider.
ON_HELD_REVIEWS = {"moderation decision"}


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def psql(url, sql):
    out = run(["psql", "-X", "-q", "-At", url, "-c", sql], capture_output=True)
    return out.stdout.strip()


def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("installing wrk (Debian package)")
    run(["apt-get", "update", "-qq"])
    run(["apt-get", "install", "-y", "-qq", "wrk"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def build():
    if os.environ.get("BENCH_BIN"):
        log(f"measuring {BIN} (BENCH_BIN): not building")
        return
    log("building the release binary")
    run(["cargo", "build", "--release", "-p", "provider-server", "--bin", "provider-api"], cwd=ROOT)


def prepare_database():
    exists = psql(ADMIN_URL, f"SELECT 1 FROM pg_database WHERE datname = '{DB}'") == "1"
    migrated = exists and subprocess.run(
        [str(BIN), "migrate"], env={**os.environ, "DATABASE_URL": DB_URL, "RUST_LOG": "warn"}).returncode == 0
    if exists and not migrated:
        # Made by migrations this build does not continue (e.g. before the schema was folded
        # into one baseline): such a database is recreated, not repaired.
        log(f"{DB} cannot be migrated by this build: seeding it anew")
        psql(ADMIN_URL, f'DROP DATABASE "{DB}" WITH (FORCE)')
    elif exists:
        count = int(psql(DB_URL, "SELECT count(*) FROM providers"))
        if count == PROVIDERS:
            log(f"reusing {DB} ({count} providers); VACUUM (ANALYZE) first")
            # A reused database carries the dead rows of earlier runs' cleanup and of any
            # migration that rewrote rows: vacuum so that every run starts from the same state
            # (visibility map set for index-only scans, fresh statistics).
            psql(DB_URL, "VACUUM (ANALYZE)")
            return None
        log(f"{DB} has {count} providers, not {PROVIDERS}: seeding it anew")
        psql(ADMIN_URL, f'DROP DATABASE "{DB}" WITH (FORCE)')
    psql(ADMIN_URL, f'CREATE DATABASE "{DB}"')
    log(f"seeding {PROVIDERS} providers into {DB}")
    started = time.monotonic()
    out = subprocess.run([str(BIN), "seed", "--providers", str(PROVIDERS), "--seed", "1"],
                         env={**os.environ, "DATABASE_URL": DB_URL, "RUST_LOG": "warn"},
                         stderr=subprocess.PIPE, text=True, check=True)
    elapsed = time.monotonic() - started
    summary = [l for l in out.stderr.splitlines() if l.startswith("seeded") or l.startswith("  ")]
    print("\n".join(summary), file=sys.stderr)
    return {"seconds": elapsed, "summary": summary}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, extra_env=None):
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": DB_URL, "PORT": str(self.port), "HOST": "127.0.0.1",
               "RUST_LOG": "warn", "LOG_FORMAT": "json", "MIGRATE_ON_START": "false",
               "CURSOR_SECRET": CURSOR_SECRET, "MODERATOR_IDS": MODERATOR, **(extra_env or {})}
        self.proc = subprocess.Popen([str(BIN), "serve"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        # Up to two minutes: with the read model on, readiness waits for its snapshot to load.
        for _ in range(1200):
            try:
                if self.request("GET", "/v1_0/health/ready")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def request(self, method, path, body=None, user=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if user:
            req.add_header("user-id", user)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def cpu_seconds(self):
        """User + system CPU the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self):
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
        return kb / 1024

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=40)


class LagSampler:
    """Samples the read model's `read_model_lag_seconds` from `/metrics` every 10 ms while a
    scenario runs (the write scenarios: how far behind the database the model falls)."""

    def __init__(self, server):
        self.server, self.samples, self.done = server, [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.is_set():
            try:
                with urllib.request.urlopen(self.server.base + "/metrics", timeout=5) as r:
                    for line in r.read().decode().splitlines():
                        if line.startswith("read_model_lag_seconds "):
                            value = float(line.split()[1])
                            if value == value:  # not NaN
                                self.samples.append(value * 1000)
            except OSError:
                pass
            time.sleep(0.01)

    def stop(self):
        """(p50, p99, samples) in milliseconds, or None without a read model."""
        self.done.set()
        self.thread.join()
        if not self.samples:
            return None
        return (percentile(self.samples, 0.5), percentile(self.samples, 0.99), len(self.samples))


# Scenarios whose lag of the read model is sampled while they run.
WRITE_SCENARIOS = {"create provider", "add review"}


def cursor_at_depth(server, body, depth, size=100):
    """The `next_cursor` after the first `depth` results of a search, walked page by page."""
    status, answer = server.request("POST", f"/v1_0/service-providers?page_size={size}", body)
    seen = len(answer["service_providers"])
    while seen < depth:
        assert status == 200 and answer["next_cursor"], f"cursor walk stopped at {seen}: {answer}"
        status, answer = server.request(
            "POST", f"/v1_0/service-providers?page_size={size}&cursor={answer['next_cursor']}", body)
        seen += len(answer["service_providers"])
    assert seen == depth and answer["next_cursor"], f"no cursor {depth} deep"
    return answer["next_cursor"], answer["service_providers"][-1]["id"]


def with_cursor(scenario, cursor):
    name, method, path, body, user = scenario
    return (name, method, path.replace("{cursor}", cursor), body, user)


def confidence(item):
    """The confidence-weighted rating from an answer (its mean is rounded for display, so the
    order is checked up to that rounding)."""
    count = item["review_count"]
    return (item["review_rating"] * count + 12.5) / (count + 5)


def check_order(name, sort, items):
    costs = [i["cost_in_pence"] for i in items]
    if sort == "cost_desc":
        assert costs == sorted(costs, reverse=True), f"{name}: not in cost order"
    elif sort == "cost_asc":
        assert costs == sorted(costs), f"{name}: not in ascending cost order"
    elif sort == "rating_desc":
        scores = [confidence(i) for i in items]
        assert all(a >= b - 0.01 for a, b in zip(scores, scores[1:])), f"{name}: not by rating"
    elif sort == "reviews_desc":
        counts = [i["review_count"] for i in items]
        assert counts == sorted(counts, reverse=True), f"{name}: not by review count"
    elif sort == "newest":
        # The seed mints ids as UUIDv7 in creation order: newest first is ids descending.
        keys = [i["id"] for i in items]
        assert keys == sorted(keys, reverse=True), f"{name}: not newest first"


def moderation_fixture(server):
    """Replaces the previous run's fixture: HELD reviews held by the screen, through the API, and
    one open flag on each of 1,000 published seeded reviews. Returns the held reviews' ids."""
    import uuid as uuidlib
    from concurrent.futures import ThreadPoolExecutor
    psql(DB_URL, f"DELETE FROM reviews WHERE comment = '{HELD_COMMENT}'")
    psql(DB_URL, "DELETE FROM review_flags")
    providers = psql(DB_URL, f"SELECT id FROM providers ORDER BY md5(id::text || 'held') LIMIT {HELD}").split()
    published = psql(DB_URL, "SELECT id FROM reviews WHERE status = 'published' "
                             "ORDER BY md5(id::text) LIMIT 1000").split()
    log(f"moderation fixture: {len(providers)} held reviews, {len(published)} flags")

    def hold(provider):
        status, answer = server.request("POST", f"/v1_0/service-provider/{provider}/review",
                                        {"rating": 3.0, "comment": HELD_COMMENT}, str(uuidlib.uuid4()))
        assert status == 201 and answer["status"] == "pending", f"{status} {answer}"
        return answer["id"]

    def flag(review):
        status, answer = server.request("POST", f"/v1_0/reviews/{review}/flags", {"reason": "spam"},
                                        str(uuidlib.uuid4()))
        assert status == 201, f"{status} {answer}"

    with ThreadPoolExecutor(16) as pool:
        held = list(pool.map(hold, providers))
        list(pool.map(flag, published))
    return held


def check_answers(server, ids, held, scenarios):
    """Each scenario once, checked: a benchmark of wrong answers measures nothing."""
    import uuid as uuidlib
    results = {}
    for name, method, path, body, user in scenarios:
        if name.startswith("moderation") and not held:
            continue
        p = path.replace("{id}", held[0] if name in ON_HELD_REVIEWS else ids[0])
        u = str(uuidlib.uuid4()) if user == "random" else user
        status, answer = server.request(method, p, body, u)
        expected = 201 if method == "POST" and "service-provider" in path and "providers" not in path else 200
        assert status == expected, f"{name}: {status} {answer}"
        if isinstance(answer, dict) and "service_providers" in answer:
            items = answer["service_providers"]
            assert items, f"{name}: no results; choose a filter that matches something"
            if "recommend" in path:
                for item in items:
                    assert set(s.lower() for s in item["matched_skills"]) <= {s.lower() for s in body["skills"]}
                    assert item["cost_in_pence"] * body["expected_job_duration_in_days"] <= body["job_budget_in_pence"]
                    assert item["review_rating"] >= body["minimum_review_rating"]
            else:
                costs = [i["cost_in_pence"] for i in items]
                check_order(name, body.get("sort", "cost_desc"), items)
                if "cursor=" in path:
                    assert answer["page"] is None and answer["next_cursor"], f"{name}: {answer}"
                if body.get("total"):
                    total = answer["total"]
                    assert total["value"] > 0 and total["relation"] in ("eq", "gte"), f"{name}: {total}"
                if "skills" in body:
                    assert all(any(s in body["skills"] for s in i["skills"]) for i in items)
                if "cost_lt" in body:
                    assert all(c < body["cost_lt"] for c in costs)
                if "name" in body:
                    assert all(body["name"] in i["name"].lower() for i in items)
            results[name] = f"{len(items)} on the page, has_more={answer['has_more']}"
        elif name == "moderation queue":
            assert len(answer["items"]) == 10 and answer["has_more"], answer
            # The fixture's held reviews give "link"; a seeded database also holds reviews
            # held or flagged for other reasons: every item of the queue has some.
            assert all(i["reasons"] for i in answer["items"]), answer
            results[name] = f"{len(answer['items'])} on the page, has_more={answer['has_more']}"
        elif name == "moderation decision":
            assert answer["status"] == "hidden", answer
            results[name] = "HTTP 200, hidden"
        else:
            results[name] = f"HTTP {status}"
        log(f"checked {name}: {results[name]}")
    return results


def parse_latency(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def wrk(server, scenario, connections, seconds, ids_file, authorization=None, honour_retry_after=False):
    name, method, path, body, user = scenario
    env = {**os.environ, "BENCH_METHOD": method, "BENCH_PATH": path, "BENCH_IDS": str(ids_file)}
    if honour_retry_after:
        env["BENCH_HONOUR_RETRY_AFTER"] = "1"
    if authorization:
        env["BENCH_AUTHORIZATION"] = authorization
    if body is not None:
        env["BENCH_BODY"] = json.dumps(body)
    if user:
        env["BENCH_USER"] = user
    out = run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
               "-s", str(LUA), server.base], env=env, capture_output=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = parse_latency(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = parse_latency(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = int(non2xx.group(1)) if non2xx else 0
    socket = sum(int(g) for g in socket_errors.groups()) if socket_errors else 0
    return {"rps": rps, "p50": p50, "p99": p99, "errors": non2xx + socket, "requests": total,
            "non2xx": non2xx, "socket": socket}


# jwt mode for the security variant: an HS256 token signed here with the server's secret.
JWT_SECRET = "bench-secret-bench-secret-bench-secret"


def hs256_token(sub):
    import base64
    import hashlib
    import hmac
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": sub, "exp": int(time.time()) + 24 * 3600}).encode())
    signature = hmac.new(JWT_SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


def security_variant(ids_file):
    """GET and search with identity checks and limits off, then on (jwt + a rate limit that is
    charged on every request but never refuses)."""
    import uuid as uuidlib
    return interleaved("security", ids_file, [
        ("header mode, limits off", {}, None),
        ("jwt mode, rate limit on", {"AUTH_MODE": "jwt", "JWT_HS256_SECRET": JWT_SECRET,
                                     "RATE_LIMIT_PER_MINUTE": "1000000000"},
         f"Bearer {hs256_token(str(uuidlib.uuid4()))}"),
    ])


def observability_variant(ids_file):
    """GET and search with metrics off (and no trace export), then with metrics on (the
    default) and still no export."""
    return interleaved("observability", ids_file, [
        ("metrics off, export off", {"METRICS_ENABLED": "false"}, None),
        ("metrics on, export off", {}, None),
    ])


def interleaved(label, ids_file, variants):
    """GET and search at 32 connections under each variant (name, server environment,
    Authorization), the variants' runs interleaved so drift hits all alike, a fresh server
    each."""
    rows = []
    for scenario in [SCENARIOS[0], SCENARIOS[1]]:
        runs = {name: [] for name, _, _ in variants}
        for _ in range(REPEATS):
            for name, env, authorization in variants:
                server = Server(env)
                try:
                    wrk(server, scenario, 32, 3, ids_file, authorization)  # warm-up
                    cpu = server.cpu_seconds()
                    r = wrk(server, scenario, 32, DURATION, ids_file, authorization)
                    # The server's own CPU per request: far less sensitive than requests/s to
                    # what else the shared machine runs meanwhile.
                    r["cpu_us"] = (server.cpu_seconds() - cpu) / max(r["requests"], 1) * 1e6
                    runs[name].append(r)
                finally:
                    server.stop()
        for name, _, _ in variants:
            r = runs[name]
            row = {"scenario": scenario[0], "variant": name,
                   **{k: statistics.median(x[k] for x in r) for k in ("rps", "p50", "p99", "cpu_us")},
                   "errors": sum(x["errors"] for x in r)}
            rows.append(row)
            log(f"{label} {row['scenario']:<22} {name:<26} {row['rps']:>9.0f} req/s  "
                f"p99 {row['p99']:.2f} ms  server CPU {row['cpu_us']:.0f} us/request  errors {row['errors']}")
    return rows


def callgrind_run(env, n, send, annotate=False):
    """Instructions the server executes for `n` sequential requests, each sent by
    `send(conn, i)` (which checks its answer), on one worker and one keep-alive connection:
    (total, callgrind_annotate's inclusive listing when `annotate`, else None). Only what runs
    inside an HTTP connection's task is counted (actix-web's dispatcher: parsing, the
    middleware, the handler, the store call's client side, the answer): start-up, timers and
    background tasks vary from run to run and are not a request's cost. callgrind counts
    instructions, so the figure does not depend on what else the machine runs."""
    import http.client
    import tempfile
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="bench-callgrind-"))
    out = folder / "callgrind.out"
    server_env = {**os.environ, "DATABASE_URL": DB_URL, "PORT": str(port), "HOST": "127.0.0.1",
                  "RUST_LOG": "warn", "LOG_FORMAT": "json", "MIGRATE_ON_START": "false",
                  "WORKERS": "1", **env}
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                             "--toggle-collect=<actix_http::h1::dispatcher::Dispatcher*>::poll",
                             str(BIN), "serve"], env=server_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                conn.request("GET", "/v1_0/health")
                conn.getresponse().read()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("the server under callgrind did not start")
                time.sleep(0.2)
        for i in range(n):
            send(conn, i)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    total = 0
    for f in folder.glob("callgrind.out*"):
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                total = max(total, int(line.split()[1]))
    text = None
    if annotate:
        text = run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
                   capture_output=True).stdout
    shutil.rmtree(folder, ignore_errors=True)
    return total, text


def instructions_per_request(env, scenario, ids, authorization, n):
    """[`callgrind_run`] of `n` requests of `scenario`, each answered 200: the total."""
    _, method, path, body, _ = scenario
    headers = {"content-type": "application/json"}
    if authorization:
        headers["authorization"] = authorization
    data = json.dumps(body) if body is not None else None

    def send(conn, i):
        conn.request(method, path.replace("{id}", ids[i % len(ids)]), data, headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{scenario[0]}: HTTP {response.status} under callgrind")

    return callgrind_run(env, n, send)[0]


def instructions_variant(ids):
    """GET and search under each configuration: instructions per request from two callgrind runs
    of different lengths (their difference divided by the difference in requests, so start and
    stop cancel out)."""
    import uuid as uuidlib
    if shutil.which("valgrind") is None:
        run(["apt-get", "install", "-y", "-qq", "valgrind"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    redis_url, redis = bench_redis()
    configurations = [
        ("metrics off, header mode, limits off", {"METRICS_ENABLED": "false"}, None),
        ("metrics on (the default)", {}, None),
        ("metrics on, jwt mode, rate limit on", {"AUTH_MODE": "jwt", "JWT_HS256_SECRET": JWT_SECRET,
                                                  "RATE_LIMIT_PER_MINUTE": "1000000000"},
         f"Bearer {hs256_token(str(uuidlib.uuid4()))}"),
        ("metrics on, header mode, rate limit in the process", {"RATE_LIMIT_PER_MINUTE": "1000000000"}, None),
        # The worker's side only: the Redis client runs on a thread of its own, outside the
        # connection's task that callgrind counts, and Redis is another process.
        ("metrics on, header mode, rate limit in Redis", {"RATE_LIMIT_PER_MINUTE": "1000000000",
                                                          "RATE_LIMIT_REDIS_URL": redis_url,
                                                          "RATE_LIMIT_REDIS_TIMEOUT_MS": "60000"}, None),
    ]
    wanted = os.environ.get("BENCH_INSTRUCTION_SCENARIOS", "get,search skill + cost").split(",")
    only = [c for c in os.environ.get("BENCH_INSTRUCTION_CONFIGS", "").split(",") if c]
    configurations = [c for c in configurations if not only or any(o in c[0] for o in only)]
    short, long = 300, 1200
    rows = []
    try:
        for scenario in [s for s in SCENARIOS if s[0] in wanted]:
            for name, env, authorization in configurations:
                a = instructions_per_request(env, scenario, ids, authorization, short)
                b = instructions_per_request(env, scenario, ids, authorization, long)
                per_request = (b - a) / (long - short)
                rows.append({"scenario": scenario[0], "variant": name, "instructions": per_request})
                log(f"instructions {scenario[0]:<22} {name:<50} {per_request:>10,.0f} per request")
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=30)
    return rows


def bench_redis():
    """BENCH_REDIS_URL, else a throwaway redis-server on a free port persisting nothing: its URL,
    and its process to stop (None when given)."""
    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"], None
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline:
                proc.kill()
                raise RuntimeError("the throwaway redis-server did not start")
            time.sleep(0.1)
    return f"redis://127.0.0.1:{port}", proc


def probe(base, body, stop, latencies, statuses):
    """One request at a time while the load runs: how long an answered request takes."""
    import http.client
    conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
    data = json.dumps(body)
    while not stop.is_set():
        started = time.monotonic()
        try:
            conn.request("POST", "/v1_0/service-providers", data, {"content-type": "application/json"})
            response = conn.getresponse()
            response.read()
        except OSError:
            statuses.append("error")
            conn.close()
            conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
            continue
        statuses.append(response.status)
        if response.status == 200:
            latencies.append((time.monotonic() - started) * 1000)
        time.sleep(0.01)


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def overload_variant(ids_file):
    """Search at 4x the saturating load (32 connections saturate two cores), with and without
    shedding: what a client sees of throughput, shed answers, errors and answered latency."""
    scenario = SCENARIOS[1]
    rows = []
    for name, limit, honour in [
            ("no shedding (MAX_IN_FLIGHT=100000)", "100000", False),
            ("shedding at 32, clients wait Retry-After", "32", True),
            ("shedding at 32, clients retry at once", "32", False)]:
        server = Server({"MAX_IN_FLIGHT": limit})
        try:
            wrk(server, scenario, 128, 3, ids_file, honour_retry_after=honour)  # warm-up
            stop, latencies, statuses = threading.Event(), [], []
            prober = threading.Thread(target=probe, args=(server.base, scenario[3], stop, latencies, statuses))
            prober.start()
            r = wrk(server, scenario, 128, DURATION * REPEATS, ids_file, honour_retry_after=honour)
            stop.set()
            prober.join()
        finally:
            server.stop()
        answered = r["requests"] - r["non2xx"]
        row = {"variant": name, "rps": r["rps"], "ok_rps": answered / (DURATION * REPEATS),
               "shed": r["non2xx"] / max(r["requests"], 1), "socket": r["socket"], "p99_all": r["p99"],
               "probe_p50": percentile(latencies, 0.5), "probe_p99": percentile(latencies, 0.99),
               "probe_n": len(latencies), "probe_shed": sum(1 for s in statuses if s == 503)}
        rows.append(row)
        log(f"overload {name:<36} {row['ok_rps']:>7.0f} answered/s  shed {row['shed']:.0%}  "
            f"socket errors {row['socket']}  probe p99 {row['probe_p99']:.1f} ms")
    return rows


def explain(kind, body, *args):
    out = run([str(BIN), "explain", kind, json.dumps(body), *args],
              env={**os.environ, "DATABASE_URL": DB_URL, "RUST_LOG": "warn"}, capture_output=True)
    return out.stdout.rstrip()


def machine():
    cores = os.cpu_count()
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) / 1024 / 1024
    cpu = re.search(r"model name\s+: (.*)", Path("/proc/cpuinfo").read_text())
    pg = psql(ADMIN_URL, "SHOW server_version")
    return f"{cores} cores ({cpu.group(1) if cpu else 'unknown CPU'}), {mem:.0f} GiB memory, PostgreSQL {pg}"


def main():
    ensure_wrk()
    build()
    seeded = prepare_database()
    ids_file = ROOT / "target" / f"bench-ids-{PROVIDERS}.txt"
    ids_file.write_text(psql(DB_URL, "SELECT id FROM providers ORDER BY md5(id::text) LIMIT 20000") + "\n")
    ids = ids_file.read_text().split()
    wanted = os.environ.get("BENCH_SCENARIOS", "").split()
    scenarios = [s for s in SCENARIOS if not wanted or s[0].split()[0] in wanted or s[0] in wanted]

    server = Server()
    held = moderation_fixture(server) if any(s[0].startswith("moderation") for s in scenarios) else []
    held_file = ROOT / "target" / f"bench-held-{PROVIDERS}.txt"
    held_file.write_text("\n".join(held) + "\n")
    after = None
    cursor_scenario = next(s for s in SCENARIOS if "{cursor}" in s[2])
    if cursor_scenario in scenarios:
        log(f"walking the broad search's cursors {CURSOR_DEPTH:,} deep")
        cursor, after = cursor_at_depth(server, cursor_scenario[3], CURSOR_DEPTH)
        scenarios = [with_cursor(s, cursor) if s is cursor_scenario else s for s in scenarios]
    checks = check_answers(server, ids, held, scenarios)
    rows = []
    variants = os.environ.get("BENCH_VARIANTS", "security observability instructions overload").split()
    try:
        for scenario in scenarios:
            for c in CONNECTIONS:
                targets = held_file if scenario[0] in ON_HELD_REVIEWS else ids_file
                wrk(server, scenario, c, 3, targets)  # warm-up
                sampler = LagSampler(server) if scenario[0] in WRITE_SCENARIOS else None
                runs = [wrk(server, scenario, c, DURATION, targets) for _ in range(REPEATS)]
                lag = sampler.stop() if sampler else None
                row = {"scenario": scenario[0], "connections": c,
                       **{k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")},
                       "errors": sum(r["errors"] for r in runs),
                       "requests": sum(r["requests"] for r in runs), "lag": lag}
                rows.append(row)
                log(f"{row['scenario']:<28} c={c:<3} {row['rps']:>9.0f} req/s  p50 {row['p50']:.2f} ms  "
                    f"p99 {row['p99']:.2f} ms  errors {row['errors']}"
                    + (f"  model lag p50 {lag[0]:.1f} ms p99 {lag[1]:.1f} ms" if lag else ""))
        rss = server.peak_rss_mb()
    finally:
        server.stop()
    extra = {}
    if "security" in variants:
        extra["security"] = security_variant(ids_file)
    if "observability" in variants:
        extra["observability"] = observability_variant(ids_file)
    if "instructions" in variants:
        extra["instructions"] = instructions_variant(ids)
    if "overload" in variants:
        extra["overload"] = overload_variant(ids_file)
    # Leave the data set as seeded, so the next run measures the same thing.
    psql(DB_URL, f"DELETE FROM providers WHERE owner_id = '{OWNER}'")
    psql(DB_URL, "DELETE FROM reviews WHERE comment = 'benchmark review'")
    # Only published reviews count (a schema from before moderation has no status: all do).
    moderated = psql(DB_URL, "SELECT count(*) FROM information_schema.columns "
                             "WHERE table_name = 'reviews' AND column_name = 'status'") == "1"
    counted = " AND r.status = 'published'" if moderated else ""
    psql(DB_URL, "UPDATE providers p SET review_count = s.n, rating_sum = s.sum FROM "
                 "(SELECT p.id, count(r.id) n, coalesce(sum(r.rating), 0) sum FROM providers p "
                 f"LEFT JOIN reviews r ON r.provider_id = p.id{counted} GROUP BY p.id) s "
                 "WHERE s.id = p.id AND (p.review_count, p.rating_sum) IS DISTINCT FROM (s.n, s.sum)")
    plans = {
        "search skill + cost": explain("search", SCENARIOS[1][3]),
        **{name: explain("search", body) for name, _, _, body, _ in SCENARIOS
           if name.startswith("sort ") or name.startswith("total ")},
        "recommend": explain("recommend", SCENARIOS[5][3]),
    }
    if after:
        plans[cursor_scenario[0]] = explain("search", cursor_scenario[3], "--page-size", "100",
                                            "--after", after)
    write_report(rows, rss, seeded, checks, plans, extra)


def write_report(rows, rss, seeded, checks, plans, extra):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    today = datetime.date.today().isoformat()
    lines = [f"<!-- scale:{PROVIDERS} -->", f"## {PROVIDERS:,} providers", "",
             f"Measured {today} on commit `{commit}`; {machine()}. Load generator, server and "
             f"PostgreSQL on the same machine; wrk with 2 threads; {REPEATS} runs of {DURATION} s per "
             f"row after a 3 s warm-up, medians shown; errors are non-2xx answers and socket errors "
             f"summed over the runs.", ""]
    if seeded:
        lines += [f"Seeded in {seeded['seconds']:.0f} s (`provider-api seed --providers {PROVIDERS}`):", "", "```"]
        lines += seeded["summary"] + ["```", ""]
    lines += ["| scenario | connections | requests/s | p50 (ms) | p99 (ms) | errors |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        if r["p50"] == 0 and r["errors"]:
            # wrk reports no latency when no request completed within its timeout.
            timing = f"— | — | {r['errors']} (all timed out at 5 s)"
        else:
            timing = f"{r['p50']:.2f} | {r['p99']:.2f} | {r['errors']}"
        lines.append(f"| {r['scenario']} | {r['connections']} | {r['rps']:,.0f} | {timing} |")
    lagged = [r for r in rows if r.get("lag")]
    if lagged:
        lines += ["", "The read model's lag while the write scenarios ran (`read_model_lag_seconds`, "
                  "sampled from `/metrics` every 10 ms: how old the newest database position the "
                  "model held was):", "",
                  "| scenario | connections | lag p50 (ms) | lag p99 (ms) | samples |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for r in lagged:
            p50, p99, n = r["lag"]
            lines.append(f"| {r['scenario']} | {r['connections']} | {p50:.1f} | {p99:.1f} | {n} |")
    titles = {"security": "Identity and limits on and off", "observability": "Metrics on and off"}
    for key, title in titles.items():
        if key not in extra:
            continue
        lines += ["", f"{title} (32 connections; each row the median of "
                  f"{REPEATS} runs of {DURATION} s, the variants' runs interleaved, a fresh server each):", "",
                  "| scenario | variant | requests/s | p50 (ms) | p99 (ms) | errors | vs first | server CPU per request (µs) | vs first |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        base = {}
        for r in extra[key]:
            first = base.setdefault(r["scenario"], r)
            lines.append(f"| {r['scenario']} | {r['variant']} | {r['rps']:,.0f} | {r['p50']:.2f} | "
                         f"{r['p99']:.2f} | {r['errors']} | {r['rps'] / first['rps']:.1%} | {r['cpu_us']:.0f} | "
                         f"{r['cpu_us'] / first['cpu_us']:.1%} |")
    if "instructions" in extra:
        lines += ["", "Instructions the server executes per request (callgrind; one worker, one "
                  "connection, sequential requests; counted inside the HTTP connection's task only, "
                  "the difference between runs of 300 and 1,200 requests divided by 900; runs of one "
                  "configuration agree within about 0.5%). Unlike requests/s this does not move with "
                  "the machine's other load. Not in it: PostgreSQL's own work, the driver's "
                  "connection task (the socket side of each query), and with the rate limit in "
                  "Redis the Redis client's thread (encoding, the socket) and Redis itself:", "",
                  "| scenario | configuration | instructions per request | vs first |",
                  "| --- | --- | ---: | ---: |"]
        base = {}
        for r in extra["instructions"]:
            first = base.setdefault(r["scenario"], r)
            lines.append(f"| {r['scenario']} | {r['variant']} | {r['instructions']:,.0f} | "
                         f"{r['instructions'] / first['instructions']:.1%} |")
    if "overload" in extra:
        lines += ["", f"Overload: search skill + cost at 128 connections (4 x the 32 that saturate the "
                  f"machine) for {DURATION * REPEATS} s. *answered/s* counts 200s; *shed* is the share of "
                  "503 answers; *p99 all* is wrk's over every answer; the probe sends one search at a "
                  "time meanwhile and times those answered 200:", "",
                  "| variant | answered/s | shed | socket errors | p99 all (ms) | probe p50 (ms) | probe p99 (ms) | probe answered / shed |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in extra["overload"]:
            lines.append(f"| {r['variant']} | {r['ok_rps']:,.0f} | {r['shed']:.0%} | {r['socket']} | "
                         f"{r['p99_all']:.1f} | {r['probe_p50']:.1f} | {r['probe_p99']:.1f} | "
                         f"{r['probe_n']} / {r['probe_shed']} |")
    lines += ["", f"Peak resident memory of the server over the whole run: **{rss:.0f} MB**.", "",
              "Answers checked before measuring (one request each):", ""]
    lines += [f"- {k}: {v}" for k, v in checks.items()]
    for name, plan in plans.items():
        lines += ["", f"EXPLAIN (ANALYZE, BUFFERS) of the {name} SQL, as the API sends it:", "", "```", plan, "```"]
    section = "\n".join(lines) + "\n"

    REPORT.parent.mkdir(parents=True, exist_ok=True)
    header = ("# Benchmarks\n\nWritten by `make bench` (`scripts/bench/run.py`). Rerun one scale with "
              "`BENCH_PROVIDERS=N make bench`; each run replaces its own scale's section, and keeps "
              "the text above the first section and the notes after the last.\n\n")
    old = REPORT.read_text() if REPORT.exists() else header
    # Hand-written analysis after a `<!-- notes -->` line stays at the end, untouched.
    old, marker, notes = old.partition("<!-- notes -->")
    sections = re.split(r"(?=<!-- scale:\d+ -->)", old)
    head, body = sections[0], [s for s in sections[1:] if not s.startswith(f"<!-- scale:{PROVIDERS} -->")]
    body.append(section)
    body.sort(key=lambda s: int(re.match(r"<!-- scale:(\d+)", s).group(1)))
    REPORT.write_text(head + "".join(s.rstrip("\n") + "\n\n" for s in body) + marker + notes)
    log(f"wrote {REPORT}")


if __name__ == "__main__":
    main()
