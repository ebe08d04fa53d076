#!/usr/bin/env python3
"""`make run`: bring the whole platform up with demo data, stop it all on Ctrl-C.

Standard library only: it runs before anything else is known to work.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")  # for trying Caisse; production sets DEBUG off
    env.setdefault("PYTHONUNBUFFERED", "1")
    port = env.get("PORT", "8000")
    host = env.get("HOST", "127.0.0.1")
    credentials = env.get("DEMO_CREDENTIALS", str(ROOT / "demo-credentials.json"))
    zero_config = not env.get("DATABASE_URL")

    if zero_config:
        print(
            "\n*** Caisse zero-config demo: a SQLite file and a file-based task queue under "
            f"{env.get('CAISSE_DATA_DIR', ROOT / 'var')}.\n"
            "*** It is for trying Caisse, not for running a fund: set DATABASE_URL and REDIS_URL "
            "(PostgreSQL, Redis) for that.\n",
            flush=True,
        )
    else:
        print(f"*** Caisse with PostgreSQL and {'Redis' if env.get('REDIS_URL') else 'a file-based queue'}.", flush=True)

    manage = [str(BIN / "python"), str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)
    seed = [*manage, "seed_demo", "--credentials", credentials]
    if env.get("DEMO_HOUSEHOLDS"):
        seed += ["--households", env["DEMO_HOUSEHOLDS"]]
    if env.get("DEMO_VENDORS"):
        seed += ["--vendors", env["DEMO_VENDORS"]]
    subprocess.run(seed, env=env, cwd=ROOT, check=True)

    commands = {
        "web": [str(BIN / "gunicorn"), "caisse.wsgi", "--bind", f"{host}:{port}",
                "--access-logfile", "-", "--graceful-timeout", "5"],
        "worker": [str(BIN / "celery"), "-A", "caisse", "worker", "--loglevel", "INFO", "--concurrency", "2"],
        "beat": [str(BIN / "celery"), "-A", "caisse", "beat", "--loglevel", "INFO"],
    }
    processes = {name: subprocess.Popen(cmd, env=env, cwd=ROOT) for name, cmd in commands.items()}

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(
        f"\n*** Caisse is up: http://{host}:{port}/   (admin: http://{host}:{port}/admin/)\n"
        f"*** Demo credentials for every role: {credentials}\n"
        "*** Ctrl-C stops the web server, the worker and beat.\n",
        flush=True,
    )
    status = 0
    try:
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"*** {name} stopped (exit {process.returncode}); stopping the rest.", flush=True)
                    status = process.returncode or 1
                    raise KeyboardInterrupt
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        print("*** Caisse stopped.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
