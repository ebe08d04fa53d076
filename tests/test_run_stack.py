"""`make run`'s stack as a person would start it: web, worker and beat, then Ctrl-C.

Runs bin/run.py (what `make run` calls) in its own process group, fetches `/`, sends a
task through the worker and stops everything, in both shapes: nothing configured (the
embedded PostgreSQL and Redis, data under var/) and with DATABASE_URL/REDIS_URL. Then
what a person meets when something is off: a port taken, a data folder that cannot be
written, a database that does not answer, data of a newer engine.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psutil
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


def leftovers(tmp_path: Path) -> list[str]:
    """Processes still running that were started for this stack (their command line or
    environment names its folder)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            if process.pid == os.getpid():
                continue
            cmdline = " ".join(process.info["cmdline"] or [])
            environ = process.environ() if str(tmp_path) not in cmdline else {}
            if str(tmp_path) in cmdline or str(tmp_path) in environ.get("CAISSE_DATA_DIR", ""):
                found.append(f"{process.pid} {cmdline[:120]}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def run_stack_and_check(env: dict, tmp_path: Path) -> str:
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
        # Never served with DEBUG on: a missing page is the fund's 404, not Django's debug page.
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + "/no-such-page/", timeout=10)
        assert missing.value.code == 404 and "URLconf" not in missing.value.read().decode()
        credentials = json.loads(Path(env["DEMO_CREDENTIALS"]).read_text())
        assert credentials["coordinator"]["username"]

        # One task through the worker, over the configured broker.
        task = subprocess.run(
            [str(PYTHON), "-c", "from caisse.tasks import ping; print(ping.delay().get(timeout=90))"],
            env={**env, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "caisse.settings"}, cwd=ROOT, capture_output=True, text=True,
            timeout=120,
        )
        assert task.stdout.strip() == "pong", task.stderr

        log.seek(0)
        before_stop = len(log.read())
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        assert process.wait(timeout=60) == 0
        log.seek(0)
        output = log.read()
        # One line of goodbye: what the processes print as they stop goes to var/log/run.log.
        assert output[before_stop:].strip() == "*** Caisse stopped.", output[before_stop:][-3000:]
        with pytest.raises(OSError):
            urllib.request.urlopen(base + "/", timeout=3)
        assert leftovers(tmp_path) == []
        return output
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        log.seek(0)
        print(log.read()[-5000:])


def test_nothing_configured_runs_on_embedded_engines_and_restarts_on_its_data(tmp_path):
    env = base_env(tmp_path)
    output = run_stack_and_check(env, tmp_path)
    assert "embedded engines" in output
    var = tmp_path / "var"
    assert (var / "postgres" / "PG_VERSION").read_text().strip() == "16"
    # No SQLite database anywhere under var/ (its files begin with this header).
    assert not [path for path in var.rglob("*") if path.is_file() and path.open("rb").read(16) == b"SQLite format 3\x00"]
    credentials = Path(env["DEMO_CREDENTIALS"]).read_text()

    # A second start reuses the data: the demo is not loaded again, the credentials hold.
    output = run_stack_and_check(env, tmp_path)
    assert "contient déjà 20 foyers" in output  # in the fund's language (LANGUAGE_CODE)
    assert Path(env["DEMO_CREDENTIALS"]).read_text() == credentials


def test_configured_stack_uses_postgresql_and_redis(tmp_path):
    name = f"caisse_run_{uuid.uuid4().hex[:8]}"
    admin_url = os.environ.get("DATABASE_URL", "postgres:///caisse").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        env = base_env(tmp_path)
        redis_base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
        env.update(DATABASE_URL=admin_url.rsplit("/", 1)[0] + f"/{name}", REDIS_URL=f"{redis_base}/13")
        output = run_stack_and_check(env, tmp_path)
        assert "configured PostgreSQL and Redis" in output
        assert not (tmp_path / "var" / "postgres").exists()
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            households = conn.execute("SELECT count(*) FROM members_household").fetchone()[0]
        assert households == 20
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_and_fail(env: dict) -> str:
    """bin/run.py that must refuse to start: its exit code and its one line."""
    result = subprocess.run([str(PYTHON), str(ROOT / "bin" / "run.py")], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("*** ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_taken_port_is_named(tmp_path):
    env = base_env(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(env["PORT"])))
        taken.listen()
        line = start_and_fail(env)
    assert f"port {env['PORT']}" in line and "PORT=" in line
    assert not (tmp_path / "var" / "postgres").exists()


def test_a_data_folder_that_cannot_be_written_is_named(tmp_path):
    (tmp_path / "a-file").write_text("")
    env = {**base_env(tmp_path), "CAISSE_DATA_DIR": str(tmp_path / "a-file" / "var")}
    line = start_and_fail(env)
    assert "a-file/var is not writable" in line and "CAISSE_DATA_DIR" in line


def test_an_unreachable_database_is_named(tmp_path):
    env = {**base_env(tmp_path), "DATABASE_URL": f"postgres://caisse@127.0.0.1:{free_port()}/caisse",
           "REDIS_URL": "redis://127.0.0.1:6379/13"}
    line = start_and_fail(env)
    assert "the database does not answer" in line and "DATABASE_URL" in line


def test_data_of_a_newer_engine_is_left_as_it_was(tmp_path):
    folder = tmp_path / "var" / "postgres"
    folder.mkdir(parents=True)
    (folder / "PG_VERSION").write_text("99\n")
    line = start_and_fail(base_env(tmp_path))
    assert "holds PostgreSQL 99 data" in line and "left as it was" in line
    assert sorted(path.name for path in folder.iterdir()) == ["PG_VERSION"]
    assert (folder / "PG_VERSION").read_text() == "99\n"
