#!/usr/bin/env python3
"""Per-request PostgreSQL CPU on the primary and on a streaming replica (docs/SCALING.md).

Starts the server twice on a seeded database (`make bench` or `provider-api seed` makes one):
once reading from the replica (DATABASE_READ_URL), once from the primary alone; drives each
read scenario with wrk, anonymous and identified, and the writes; and reports, per request,
the CPU the server process and each PostgreSQL cluster spent. PostgreSQL's CPU is read from
/proc for the backends of the benchmark database only (children of each cluster's postmaster
whose title names the database), so other databases' load on the same cluster does not count.
Must run on the machine of both clusters, as root or their owner.

Settings (environment):
  BENCH_DB            database (default bench12), on both clusters
  PRIMARY_URL         admin URL of the primary (default postgres://postgres@127.0.0.1:5432/postgres)
  STANDBY_URL         admin URL of the replica (default TEST_STANDBY_URL, else port 5499)
  PRIMARY_DATA        the primary's data folder (default /var/lib/postgresql/15/main)
  STANDBY_DATA        the replica's (default /tmp/provider-test-standby/data)
  API_BIN             the server (default target/release/provider-api, else target/debug)
  BENCH_DURATION      seconds per run (default 10); BENCH_CONNECTIONS (default 16)
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DB = os.environ.get("BENCH_DB", "bench12")
PRIMARY = os.environ.get("PRIMARY_URL", "postgres://postgres@127.0.0.1:5432/postgres")
STANDBY = os.environ.get("STANDBY_URL") or os.environ.get("TEST_STANDBY_URL") or "postgres://postgres@127.0.0.1:5499/postgres"
PRIMARY_DATA = os.environ.get("PRIMARY_DATA", "/var/lib/postgresql/15/main")
STANDBY_DATA = os.environ.get("STANDBY_DATA", "/tmp/provider-test-standby/data")
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
BIN = Path(os.environ.get("API_BIN") or (ROOT / "target/release/provider-api"))
if not BIN.exists():
    BIN = ROOT / "target/debug/provider-api"
LUA = ROOT / "scripts/bench/wrk.lua"
TICKS = os.sysconf("SC_CLK_TCK")
OWNER = "00000000-0000-4000-8000-00000000b0b0"

READS = [
    ("get", "GET", "/v1_0/service-provider/{id}", None),
    ("search skill + cost", "POST", "/v1_0/service-providers", {"skills": ["skill-3"], "cost_lt": 50000}),
    ("search availability window", "POST", "/v1_0/service-providers",
     {"availability": [{"from_date": "2027-06-01", "to_date": "2027-06-07"}], "cost_gt": 100000}),
    ("recommend", "POST", "/v1_0/service-providers/recommend",
     {"job_budget_in_pence": 300000, "expected_job_duration_in_days": 3, "skills": ["skill-5", "skill-40"],
      "availability": [{"from_date": "2027-03-01", "to_date": "2027-05-29"}], "minimum_review_rating": 3}),
]
WRITES = [
    ("create provider", "POST", "/v1_0/service-provider",
     {"name": "Bench Builders Ltd", "skills": ["skill-1", "skill-77", "Carpentry"], "cost_in_pence": 42000,
      "availability": [{"from_date": "2027-02-01", "to_date": "2027-02-14"}]}, OWNER),
    ("add review", "POST", "/v1_0/service-provider/{id}/review", {"rating": 4.5, "comment": "bench"}, "random"),
]


def url_of(admin, db):
    return admin.rsplit("/", 1)[0] + "/" + db


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def backends_cpu(data_dir):
    """CPU of the cluster's backends of DB (children of its postmaster naming DB)."""
    postmaster = int(Path(data_dir, "postmaster.pid").read_text().split()[0])
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != postmaster:
                continue
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if f" {DB} " in title:
                total += cpu_seconds(proc.name)
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return total


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(read_url):
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url_of(PRIMARY, DB), HOST="127.0.0.1", PORT=str(port),
               RUST_LOG="warn", WORKERS="2", MIGRATE_ON_START="false")
    env.pop("DATABASE_READ_URL", None)
    if read_url:
        env["DATABASE_READ_URL"] = read_url
    proc = subprocess.Popen([str(BIN), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            ready = json.load(urllib.request.urlopen(base + "/v1_0/health/ready", timeout=2))
            if not read_url or ready.get("replica") == "ok":
                return proc, base
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"the server on {DB} did not get ready (replica: {read_url})")


def run(base, pid, method, path, body, user, ids_file):
    env = dict(os.environ, BENCH_METHOD=method, BENCH_PATH=path, BENCH_IDS=ids_file)
    if body is not None:
        env["BENCH_BODY"] = json.dumps(body)
    if user:
        env["BENCH_USER"] = user
    before = (cpu_seconds(pid), backends_cpu(PRIMARY_DATA), backends_cpu(STANDBY_DATA))
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "-s", str(LUA), base],
                         env=env, capture_output=True, text=True, check=True).stdout
    after = (cpu_seconds(pid), backends_cpu(PRIMARY_DATA), backends_cpu(STANDBY_DATA))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    ms = [(a - b) * 1000 / max(requests, 1) for a, b in zip(after, before)]
    return rate, ms, int(errors.group(1)) if errors else 0


def main():
    ids = subprocess.run(["psql", url_of(PRIMARY, DB), "-XAtc", "SELECT id FROM providers ORDER BY id LIMIT 2000"],
                         capture_output=True, text=True, check=True).stdout
    ids_file = tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False)
    ids_file.write(ids)
    ids_file.close()
    rows = []
    routed, routed_base = start(url_of(STANDBY, DB))
    alone, alone_base = start(None)
    try:
        for name, method, path, body in READS:
            for label, proc, base, user in [("replica, anonymous", routed, routed_base, None),
                                            ("replica, identified", routed, routed_base, OWNER),
                                            ("primary only", alone, alone_base, None)]:
                rate, ms, errors = run(base, proc.pid, method, path, body, user, ids_file.name)
                rows.append((name, label, rate, ms, errors))
                print(rows[-1], file=sys.stderr, flush=True)
        for name, method, path, body, user in WRITES:
            rate, ms, errors = run(routed_base, routed.pid, method, path, body, user, ids_file.name)
            rows.append((name, "write (primary)", rate, ms, errors))
            print(rows[-1], file=sys.stderr, flush=True)
    finally:
        routed.kill()
        alone.kill()
        subprocess.run(["psql", url_of(PRIMARY, DB), "-Xqc",
                        f"DELETE FROM providers WHERE owner_id = '{OWNER}'; "
                        "DELETE FROM reviews WHERE comment = 'bench'"], check=False)
    print(f"{BIN.name} ({BIN.parent.name}), {DB}, {CONNECTIONS} connections, {DURATION} s per run\n")
    print("| scenario | reads from | requests/s | API CPU ms/req | primary CPU ms/req | replica CPU ms/req | non-2xx |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, label, rate, (api, primary, replica), errors in rows:
        print(f"| {name} | {label} | {rate:.0f} | {api:.3f} | {primary:.3f} | {replica:.3f} | {errors} |")


if __name__ == "__main__":
    main()
