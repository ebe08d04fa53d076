"""Benchmark of the tills' purchase endpoint against pgbench (not a test).

    .venv/bin/python bench/purchases.py [--seconds 20] [--tills 8,32] [--workers N --threads N]

In one run, on a PostgreSQL database of its own (created, then dropped):

1. migrates it and creates 32 approved vendors, each with its own API key, and for each
   till its own cards with a large balance (no two tills share a wallet: this measures
   the endpoint, not one wallet's row lock);
2. starts gunicorn as production does (gunicorn.conf.py: gthread workers, keep-alive)
   on a free localhost port and, for each N in --tills, runs N tills (threads on bare
   sockets, so the load generator takes little of the cores it shares) that each POST
   /api/v1/purchases over one persistent HTTP connection for a fixed time; prints
   purchases/s, p50/p99 latency, and the CPU each side used per purchase;
3. runs `pgbench -i -s 10` then `pgbench -c 8 -j 2 -T 30` (tpcb-like: debit one account,
   credit another, log it) on the same database and prints the ratio;
4. profiles 300 purchases in-process with pyinstrument and prints where the time goes.

Loopback only, bounded in time and in count; about two minutes in all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import _database  # noqa: E402

PYTHON = sys.executable
DB = f"caisse_bench_purchases_{os.getpid()}"
CARDS_PER_TILL = 8
MAX_REQUESTS_PER_TILL = 200_000  # a bound on top of the time limit


def env(**extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": _database.url_of(DB),
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "PIN_HASH_KEY": "bench-only-pin-hash-key", "ACTIVATION_CODE_KEY": "bench-only-activation-key",
        "REPORT_DIGEST_KEY": "bench-only-report-key", "RESEARCH_PSEUDONYM_KEY": "bench-only-research-key",
        "DJANGO_SETTINGS_MODULE": "caisse.settings",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "API_RATE_PER_MINUTE": str(10**9),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "CACHE_KEY_PREFIX": f"bench-{os.getpid()}",
        "LOG_LEVEL": "ERROR",
        "CONN_MAX_AGE": "600",
        **extra,
    }


SETUP = r"""
import json, sys
import django; django.setup()
from allocations import ledger
from allocations.models import AccountKind, TransferKind
from members import cards
from members.models import Household
from members.services import create_household
from vendors import services
from vendors.models import Vendor
tills, per_till = int(sys.argv[1]), int(sys.argv[2])
issuance = ledger.system_account(AccountKind.ISSUANCE)
out = []
for t in range(tills):
    vendor = services.register_vendor(slug=f"bench-{t}", display_name=f"Bench {t}", kind="grocery",
                                      status=Vendor.Status.APPROVED)
    key = services.create_api_key(vendor, label=f"till {t}")[1]
    numbers = []
    for c in range(per_till):
        household = create_household(reference=f"B-{t}-{c}", status=Household.Status.ACTIVE)
        card, pin = cards.issue_card(household=household, pin="1234")
        ledger.transfer(debit=issuance, credit=household.wallet_id, amount=10**12, kind=TransferKind.ALLOCATION)
        numbers.append(card.number)
    out.append({"key": key, "cards": numbers})
print(json.dumps(out))
"""

PROFILE = r"""
import json, sys, uuid
import django; django.setup()
from django.test import Client
from pyinstrument import Profiler
till = json.loads(sys.argv[1])
client = Client()
headers = {"HTTP_AUTHORIZATION": "Bearer " + till["key"], "HTTP_HOST": "127.0.0.1"}
def one(i):
    body = json.dumps({"card": till["cards"][i % len(till["cards"])], "pin": "1234", "amount": 123})
    r = client.post("/api/v1/purchases", body, content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **headers)
    assert r.status_code == 201, r.content
for i in range(30):
    one(i)
profiler = Profiler(interval=0.0002)
profiler.start()
for i in range(int(sys.argv[2])):
    one(i)
profiler.stop()
print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=True))
from django.db import connection
from django.test.utils import CaptureQueriesContext
with CaptureQueriesContext(connection) as queries:
    one(0)
print(f"SQL statements per purchase: {len(queries)}")
for q in queries:
    print("  ", q["sql"][:110])
"""


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def till_worker(port, till, seconds, start_at, results):
    """One till: one persistent HTTP/1.1 connection, purchases back to back until the time
    is up. Written on a bare socket (request bytes built by hand, the response read by its
    Content-Length) so that the load generator, which shares the machine's cores with the
    server and PostgreSQL, costs as little CPU as it can: pgbench's client is C."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = (f"POST /api/v1/purchases HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {till['key']}\r\n"
            "Content-Type: application/json\r\n").encode()
    latencies, errors, n, buffer = [], 0, 0, b""
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = start_at + seconds
    while time.time() < deadline and n < MAX_REQUESTS_PER_TILL:
        card = till["cards"][n % len(till["cards"])]
        body = f'{{"card": "{card}", "pin": "1234", "amount": 123, "reference": "r{n}"}}'.encode()
        request = head + b"Idempotency-Key: %s\r\nContent-Length: %d\r\n\r\n" % (uuid.uuid4().hex.encode(), len(body)) + body
        begin = time.perf_counter()
        sock.sendall(request)
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            buffer += chunk
        header, _, buffer = buffer.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", header).group(1))
        while len(buffer) < length:
            buffer += sock.recv(65536)
        buffer = buffer[length:]
        latencies.append(time.perf_counter() - begin)
        if not header.startswith(b"HTTP/1.1 201"):
            errors += 1
        n += 1
    sock.close()
    results.append((latencies, errors))


def cpu_seconds(server_group: int) -> dict:
    """CPU time so far (user + system) of the gunicorn process group, of PostgreSQL's
    processes and of this process (the tills), read from /proc."""
    totals = {"gunicorn": 0.0, "postgres": 0.0, "tills": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        ticks = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if int(fields[2]) == server_group:
            totals["gunicorn"] += ticks
        elif b"postgres" in command:
            totals["postgres"] += ticks
        elif int(pid) == os.getpid():
            totals["tills"] += ticks
    return totals


def load(port, tills, seconds, server_group=None):
    results = []
    start_at = time.time() + 0.5
    threads = [threading.Thread(target=till_worker, args=(port, till, seconds, start_at, results)) for till in tills]
    before = cpu_seconds(server_group) if server_group else None
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    q = statistics.quantiles(latencies, n=100)
    if before is not None:  # CPU ms per purchase, by side
        after = cpu_seconds(server_group)
        print("        CPU per purchase: " + ", ".join(
            f"{side} {1000 * (after[side] - before[side]) / len(latencies):.2f} ms" for side in after))
    return len(latencies) / seconds, q[49] * 1000, q[98] * 1000, errors, len(latencies)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--tills", default="8,32")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py's)")
    parser.add_argument("--pgbench-seconds", type=int, default=30)
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--profile-purchases", type=int, default=300)
    args = parser.parse_args()
    levels = [int(n) for n in args.tills.split(",")]
    pgbench = _database.pgbench()
    if not pgbench:
        sys.exit("pgbench is needed (PostgreSQL client tools)")

    _database.create(DB)
    gunicorn = None
    try:
        run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env())
        tills = json.loads(run([PYTHON, "-c", SETUP, str(max(levels)), str(CARDS_PER_TILL)], cwd=ROOT,
                               env=env()).stdout.strip().splitlines()[-1])
        port = free_port()
        # The production configuration (gunicorn.conf.py, read from ROOT), unless overridden.
        overrides = [*(["-w", str(args.workers)] if args.workers else []),
                     *(["--threads", str(args.threads)] if args.threads else [])]
        gunicorn = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "caisse.wsgi", "-b", f"127.0.0.1:{port}", *overrides, "--log-level", "warning"],
            cwd=ROOT, env=env(), start_new_session=True,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        print(f"gunicorn: {args.workers or 'gunicorn.conf.py'} workers x {args.threads or 'gunicorn.conf.py'} threads "
              f"(gthread), {os.cpu_count()} CPUs")
        load(port, tills[:2], 2)  # warm up: connections, imports, plans
        figures = {}
        for n in levels:
            rate, p50, p99, errors, count = load(port, tills[:n], args.seconds, server_group=gunicorn.pid)
            figures[n] = rate
            print(f"{n:>2} tills: {rate:7.1f} purchases/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                  f"({count} purchases, {errors} not 201)")
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(10)
        gunicorn = None

        run([pgbench, "-i", "-q", "-s", str(args.pgbench_scale), _database.url_of(DB)])
        out = run([pgbench, "-c", "8", "-j", "2", "-T", str(args.pgbench_seconds), _database.url_of(DB)]).stdout
        tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
        print(f"pgbench tpcb-like -c 8 -j 2: {tps:.1f} tps")
        for n, rate in figures.items():
            print(f"ratio at {n} tills: {100 * rate / tps:.1f} % of pgbench (goal at 8 tills: 12 %)")

        print(f"\nProfile of {args.profile_purchases} purchases in-process (pyinstrument):")
        print(run([PYTHON, "-c", PROFILE, json.dumps(tills[-1]), str(args.profile_purchases)], cwd=ROOT,
                  env=env()).stdout)
    finally:
        if gunicorn is not None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(10)
        _database.drop(DB)


if __name__ == "__main__":
    main()
