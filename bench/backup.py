"""The size and time of a backup and of its restore, for N ledger transfers (not a test).

    createdb caisse_bench
    DATABASE_URL=postgres:///caisse_bench REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/backup.py --transfers 1000000

Migrates the database, writes N transfers (issuance → expiry, set-based SQL; the
balances updated to match), then times `operations.backups.take_backup` (pg_dump in the
manifest's snapshot, compression, encryption, the target's write) and
`operations.backups.restore` into `<database>_restored` (decryption, pg_restore, the
comparison with the manifest, migrate, check_ledger), and prints both with the file's size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisse.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
for _name in ("PIN_HASH_KEY", "ACTIVATION_CODE_KEY", "REPORT_DIGEST_KEY", "RESEARCH_PSEUDONYM_KEY"):
    os.environ.setdefault(_name, f"bench-only-{_name.lower()}")
os.environ.setdefault("BACKUP_ENCRYPTION_KEY", "tPj6nJ2dHq3WQn3x1i3k5k7Yv0Qm2m1q8Zr5hE4c9aA=")
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit("bench/backup.py runs on PostgreSQL: set DATABASE_URL=postgres:///caisse_bench")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from allocations import ledger  # noqa: E402
from allocations.models import Account, AccountKind, Transfer  # noqa: E402
from operations import backups  # noqa: E402
from operations.targets import LocalTarget  # noqa: E402


def fill(transfers: int) -> None:
    source, sink = ledger.system_account(AccountKind.ISSUANCE), ledger.system_account(AccountKind.EXPIRY)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Transfer._meta.db_table} (unit, amount, kind, memo, created_at, debit_id, credit_id)
            SELECT %s, 100 + (i %% 900), 'allocation', '', now(), %s, %s FROM generate_series(1, %s) AS i
            """,
            [source.unit, source.pk, sink.pk, transfers],
        )
        cursor.execute(
            f"SELECT COALESCE(sum(amount), 0) FROM {Transfer._meta.db_table} WHERE debit_id = %s AND credit_id = %s",
            [source.pk, sink.pk],
        )
        moved = cursor.fetchone()[0]
        cursor.execute(f"UPDATE {Account._meta.db_table} SET balance = balance - %s WHERE id = %s", [moved, source.pk])
        cursor.execute(f"UPDATE {Account._meta.db_table} SET balance = balance + %s WHERE id = %s", [moved, sink.pk])
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Transfer._meta.db_table}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=1_000_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    fill(args.transfers)
    name = connection.settings_dict["NAME"]
    restored = f"{name}_restored"
    with backups._psycopg("postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{restored}"')
    try:
        with tempfile.TemporaryDirectory() as folder:
            target = LocalTarget(folder)
            result = backups.take_backup(target=target, keep=False)
            started = time.monotonic()
            report = backups.restore(backup=result.name, database=restored, target=target)
            restore_seconds = time.monotonic() - started
    finally:
        with backups._psycopg("postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
    count = result.manifest["row_counts"][Transfer._meta.db_table]
    print(f"transfers: {count}")
    print(f"backup: {result.size / 1e6:.1f} MB in {result.seconds:.1f} s")
    print(f"restore (decrypt, pg_restore, manifest check, migrate, check_ledger): {restore_seconds:.1f} s")
    print("; ".join(report.steps))


if __name__ == "__main__":
    main()
