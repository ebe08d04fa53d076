#!/usr/bin/env python3
"""`make run`: bring the whole platform up with demo data, stop it all on Ctrl-C.

With nothing configured it starts an embedded PostgreSQL and Redis (caisse.embedded),
their data under CAISSE_DATA_DIR (default var/); with DATABASE_URL / REDIS_URL it uses
those servers. Either way the same code runs. The demo is loaded only into a database
that holds no household: a second start reuses what is there, and a real fund's data is
never touched.

Every process's output is also written to var/log/run.log; once Ctrl-C is pressed only
that file gets it, and the terminal gets one line of goodbye.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))


class Stop(Exception):
    """Ctrl-C, SIGTERM, or a process of the stack that ended."""


def fail(message: str) -> int:
    print(f"*** Caisse cannot start: {message}", file=sys.stderr, flush=True)
    return 1


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def database_answers(url: str) -> str | None:
    """None when the database answers; else why not, in a few words."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


class Output:
    """Forwards each child's lines to the log file, and to the terminal until muted."""

    def __init__(self, log_path: Path):
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(log_path, "a", buffering=1, encoding="utf-8", errors="replace")
        self.muted = threading.Event()
        self.threads: list[threading.Thread] = []

    def follow(self, name: str, stream) -> None:
        def pump():
            for line in iter(stream.readline, ""):
                self.log.write(f"{name}: {line}")
                if not self.muted.is_set():
                    sys.stdout.write(line)
                    sys.stdout.flush()
            stream.close()

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        self.threads.append(thread)

    def close(self) -> None:
        for thread in self.threads:
            thread.join(timeout=5)
        self.log.close()


def main() -> int:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["CAISSE_LOCAL_RUN"] = "1"  # plain HTTP on this machine; the secret key kept in var/
    port = env.get("PORT", "8000")
    host = env.get("HOST", "127.0.0.1")
    data_dir = Path(env.get("CAISSE_DATA_DIR", ROOT / "var")).resolve()
    env["CAISSE_DATA_DIR"] = str(data_dir)
    credentials = env.get("DEMO_CREDENTIALS", str(ROOT / "demo-credentials.json"))

    if not port.isdigit() or not port_is_free(host, int(port)):
        return fail(f"port {port} on {host} is taken (or not a port number): stop what uses it, or choose another "
                    f"with PORT=8001 make run.")

    from caisse import embedded

    engines = None
    engines_file = data_dir / "engines.json"
    try:
        if not (env.get("DATABASE_URL") and env.get("REDIS_URL")):
            embedded.check_writable(data_dir)
            if not env.get("DATABASE_URL"):
                engines = embedded.Engines()
                env["DATABASE_URL"] = engines.start_postgres(data_dir / "postgres")
            if not env.get("REDIS_URL"):
                engines = engines or embedded.Engines()
                env["REDIS_URL"] = engines.start_redis(data_dir / "redis")
            engines_file.write_text(json.dumps({"database_url": env["DATABASE_URL"], "redis_url": env["REDIS_URL"]}))
            print(f"*** Caisse on embedded engines, data in {data_dir} (for trying Caisse; a fund runs on its own "
                  "PostgreSQL and Redis: DATABASE_URL, REDIS_URL).", flush=True)
        else:
            print("*** Caisse on the configured PostgreSQL and Redis.", flush=True)
        problem = database_answers(env["DATABASE_URL"])
        if problem:
            raise embedded.EngineError(f"the database does not answer ({problem}): check DATABASE_URL and that the "
                                       "server is running.")
    except embedded.EngineError as error:
        if engines:
            engines.stop()
            engines_file.unlink(missing_ok=True)
        return fail(str(error))

    output = Output(data_dir / "log" / "run.log")
    processes: dict[str, subprocess.Popen] = {}

    def stop(*_):
        raise Stop

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def launch(name: str, command: list[str]) -> subprocess.Popen:
        # Its own session: Ctrl-C reaches this script only, which stops each in order.
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True)
        output.follow(name, process.stdout)
        return process

    def step(name: str, command: list[str]) -> None:
        process = launch(name, command)
        processes[name] = process
        if process.wait() != 0:
            raise RuntimeError(f"{name} failed (exit {process.returncode}); see {output.log.name}")
        del processes[name]

    manage = [str(BIN / "python"), str(ROOT / "manage.py")]
    status = 0
    try:
        step("migrate", [*manage, "migrate", "--noinput", "-v", "0"])
        seed = [*manage, "seed_demo", "--if-empty", "--credentials", credentials]
        if env.get("DEMO_HOUSEHOLDS"):
            seed += ["--households", env["DEMO_HOUSEHOLDS"]]
        if env.get("DEMO_VENDORS"):
            seed += ["--vendors", env["DEMO_VENDORS"]]
        step("demo", seed)
        commands = {
            "web": [str(BIN / "gunicorn"), "caisse.wsgi", "--bind", f"{host}:{port}", "--access-logfile", "-",
                    "--graceful-timeout", "5"],
            "worker": [str(BIN / "celery"), "-A", "caisse", "worker", "--loglevel", "INFO", "--concurrency", "2"],
            "beat": [str(BIN / "celery"), "-A", "caisse", "beat", "--loglevel", "INFO",
                     "--pidfile", str(data_dir / "celerybeat.pid")],
        }
        for name, command in commands.items():
            processes[name] = launch(name, command)
        print(
            f"\n*** Caisse is up: http://{host}:{port}/\n"
            f"*** Demo credentials for every role: {credentials} (README: signing in)\n"
            "*** Ctrl-C stops the web server, the worker, beat and the embedded engines.\n",
            flush=True,
        )
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"*** {name} stopped (exit {process.returncode}); stopping the rest "
                          f"(see {output.log.name}).", flush=True)
                    status = process.returncode or 1
                    raise Stop
            time.sleep(0.5)
    except Stop:
        pass
    except RuntimeError as error:
        print(f"*** {error}", flush=True)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        output.muted.set()
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 20
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if engines:
            engines.stop()
            engines_file.unlink(missing_ok=True)
        output.close()
        print("*** Caisse stopped.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
