"""`make run`'s stack as a person would start it: web, worker and beat, then Ctrl-C.

Runs bin/run.py (what `make run` calls) in its own process group, fetches `/`, sends a
task through the worker and stops everything, in both shapes: zero-config (SQLite and
a file-based queue) and with DATABASE_URL/REDIS_URL (PostgreSQL and Redis).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        CAISSE_DATA_DIR=str(tmp_path / "var"),
        PORT=str(free_port()),
        DEMO_HOUSEHOLDS="20",
        DEMO_VENDORS="50",  # the whole mix of statuses, as `make run` seeds them
        DEMO_CREDENTIALS=str(tmp_path / "credentials.json"),
        PATH=f"{PYTHON.parent}:{env.get('PATH', '')}",
    )
    return env


def wait_for(url: str, process: subprocess.Popen, timeout: float = 240) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the stack exited early with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            time.sleep(1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def run_stack_and_check(env: dict, tmp_path: Path) -> None:
    log = open(tmp_path / "stack.log", "w+")
    process = subprocess.Popen(
        [str(PYTHON), str(ROOT / "bin" / "run.py")], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{env['PORT']}"
        home = wait_for(base + "/", process)
        assert "<h1>" in home
        assert 'name="login"' in wait_for(base + "/admin/login/", process)  # through allauth
        credentials = json.loads(Path(env["DEMO_CREDENTIALS"]).read_text())
        assert credentials["coordinator"]["username"]

        # One task through the worker, over the configured broker.
        task = subprocess.run(
            [str(PYTHON), "-c", "from caisse.tasks import ping; print(ping.delay().get(timeout=90))"],
            env={**env, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "caisse.settings"}, cwd=ROOT, capture_output=True, text=True,
            timeout=120,
        )
        assert task.stdout.strip() == "pong", task.stderr

        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        assert process.wait(timeout=60) == 0
        log.seek(0)
        output = log.read()
        assert "Caisse stopped." in output
        with pytest.raises(OSError):
            urllib.request.urlopen(base + "/", timeout=3)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        log.seek(0)
        print(log.read()[-5000:])


def test_zero_config_stack_serves_pages_and_runs_a_task(tmp_path):
    env = base_env(tmp_path)
    run_stack_and_check(env, tmp_path)
    log = (tmp_path / "stack.log").read_text()
    assert "not for running a fund" in log
    assert (tmp_path / "var" / "caisse.sqlite3").exists()


def test_configured_stack_uses_postgresql_and_redis(tmp_path):
    name = f"caisse_run_{uuid.uuid4().hex[:8]}"
    admin_url = os.environ.get("DATABASE_URL", "postgres:///caisse").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        env = base_env(tmp_path)
        redis_base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
        env.update(DATABASE_URL=admin_url.rsplit("/", 1)[0] + f"/{name}", REDIS_URL=f"{redis_base}/13")
        run_stack_and_check(env, tmp_path)
        assert not (tmp_path / "var" / "caisse.sqlite3").exists()
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            households = conn.execute("SELECT count(*) FROM members_household").fetchone()[0]
        assert households == 20
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
