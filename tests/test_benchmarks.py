"""Each benchmark in bench/ runs at a tiny size, so that a change of schema or service
that breaks one fails the suite. Nothing here is timed: a benchmark's figures are read
by people, from a full run (README: Benchmarks)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bench import _database

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def run_bench(script: str, *args: str, database: bool = True) -> str:
    name = f"caisse_smoke_{uuid.uuid4().hex[:8]}"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    if database:
        env["DATABASE_URL"] = _database.create(name)
    try:
        result = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=600)
    finally:
        if database:
            _database.drop(name)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_issuance_benchmark_runs():
    out = run_bench("issuance.py", "--sizes", "200", "--check")
    assert "ratio" in out.lower()


def test_dashboard_benchmark_runs():
    out = run_bench("dashboard.py", "--transfers", "3000", "--households", "60", "--vendors", "6", "--repeat", "1")
    assert "ratio" in out and "transfers" in out


def test_purchases_benchmark_runs():
    out = run_bench("purchases.py", "--seconds", "1", "--tills", "2", "--pgbench-seconds", "1",
                    "--pgbench-scale", "1", "--profile-purchases", "20", database=False)
    assert "ratio at 2 tills" in out and "not 201" in out
    assert "(0 purchases" not in out


def test_backup_benchmark_runs():
    out = run_bench("backup.py", "--transfers", "1000")
    assert "transfers: 1" in out and "ledger OK" in out
