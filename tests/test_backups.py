"""Backups that are restored, not only taken: the round trip, the refusals, the drill."""

import io
import json
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from allocations.models import Unit
from members import privacy
from members.models import Household
from operations import backups, crypto
from operations.models import Alarm, RestoreDrill
from operations.targets import LocalTarget, TargetError
from tests.member_fixtures import make_member
from tests.vendor_fixtures import make_coordinator


@pytest.fixture
def backup_dir(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "target"
    return settings.BACKUP_DIR


@pytest.fixture
def scratch(django_db_blocker):
    """An empty database beside the test database, dropped after."""
    names = []

    def make(suffix="restored"):
        name = f"{backups.connection_params()['PGDATABASE']}_{suffix}"
        with backups._psycopg("postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return name

    yield make
    with django_db_blocker.unblock():
        for name in names:
            with backups._psycopg("postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _query(database, sql, params=()):
    with backups._psycopg(database) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_elsewhere_equals_its_manifest_and_erasures_since_stay_erased(backup_dir, scratch):
    kept = make_member("BK-KEPT", balance=5_000)
    erased_later = make_member("BK-GONE", balance=3_000)
    result = backups.take_backup()
    assert result.size > 0 and Path(backup_dir / result.name).exists()
    manifest = result.manifest
    assert manifest["row_counts"]["members_household"] == 2
    assert manifest["row_counts"]["members_person"] == 2
    assert manifest["ledger"][Unit.FUND_UNIT]["amount"] >= 8_000
    assert "operations" in manifest["migrations"]

    # After the backup: a new household, and an erasure (journaled outside the database).
    make_member("BK-LATER", balance=1_000)
    privacy.erase(erased_later.household)
    assert backups.journaled_erasures() == [erased_later.household.pk]

    database = scratch()
    report = backups.restore(backup=result.name, database=database)

    assert report.steps[:2] == ["restored", "matches its manifest"]
    assert "1 erasures applied again; ledger OK" in report.steps[2]
    references = dict(_query(database, "SELECT reference, erased_at IS NOT NULL FROM members_household"))
    assert references == {"BK-KEPT": False, "BK-GONE": True}  # no BK-LATER: it came after
    names = [row[0] for row in _query(database, "SELECT last_name FROM members_person")]
    assert names == ["BK-KEPT"]  # the erased person did not come back
    assert kept.household.pk in [row[0] for row in _query(database, "SELECT id FROM members_household")]

    # Restoring again into a database that holds data is refused, and leaves it as it was.
    with pytest.raises(crypto.BackupError, match="contient déjà des données"):
        backups.restore(backup=result.name, database=database)
    assert len(_query(database, "SELECT id FROM members_household")) == 2


@pytest.fixture
def one_backup(db, backup_dir):
    return backups.take_backup()


def test_a_truncated_a_corrupted_file_and_a_wrong_key_are_refused_with_a_message(one_backup, backup_dir, tmp_path):
    sealed = (backup_dir / one_backup.name).read_bytes()
    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(sealed[: len(sealed) // 2])
    corrupted = tmp_path / "corrupted.backup"
    corrupted.write_bytes(sealed[:200] + bytes([sealed[200] ^ 1]) + sealed[201:])

    with pytest.raises(CommandError, match="tronquée"):
        call_command("restore_backup", str(truncated), database="never-touched")
    with pytest.raises(crypto.DamagedBackup, match="corrompue"):
        backups.open_backup(str(corrupted), tmp_path / "c")
    with pytest.raises(crypto.WrongKey, match="autre clé"):
        backups.open_backup(one_backup.name, tmp_path, key=crypto.new_key())
    with pytest.raises(crypto.BackupError, match="BACKUP_ENCRYPTION_KEY"):
        backups.open_backup(one_backup.name, tmp_path, key="not a key")
    # The real file opens with the right key.
    assert backups.open_backup(one_backup.name, tmp_path / "ok")["row_counts"] == one_backup.manifest["row_counts"]


def _sealed(manifest: dict, key: str) -> bytes:
    out = io.BytesIO()
    writer = crypto.EncryptingWriter(out, crypto.load_key(key))
    with tarfile.open(fileobj=writer, mode="w|") as tar:
        for name, data in (("manifest.json", json.dumps(manifest).encode()), ("database.dump", b"not used")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    writer.close()
    return out.getvalue()


@pytest.mark.django_db
def test_a_backup_from_a_newer_schema_is_refused(settings, tmp_path):
    future = tmp_path / "future.backup"
    manifest = {"migrations": {"operations": ["0001_initial", "0999_from_a_newer_caisse"]}, "row_counts": {}, "ledger": {}}
    future.write_bytes(_sealed(manifest, settings.BACKUP_ENCRYPTION_KEY))
    with pytest.raises(crypto.BackupError, match=r"version plus récente de Caisse.*operations\.0999_from_a_newer_caisse"):
        backups.restore(backup=str(future), database="never-touched")


def test_an_unwritable_target_says_so(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(TargetError, match="Impossible d’écrire dans le dossier des sauvegardes"):
        LocalTarget(blocker / "backups").put("x", io.BytesIO(b"data"))


def test_retention_keeps_14_daily_8_weekly_12_monthly():
    start = datetime(2025, 1, 1, 2, 30, tzinfo=UTC)
    names = [backups.backup_name(start + timedelta(days=d, hours=h)) for d in range(500) for h in (0, 12)]
    keep = backups.to_keep(names, daily=14, weekly=8, monthly=12)
    kept = sorted(backups.taken_at(n) for n in keep)
    newest = start + timedelta(days=499, hours=12)
    assert kept[-1] == newest
    assert len([k for k in kept if k > newest - timedelta(days=14)]) == 14  # one a day, the day's last
    assert kept[0] > newest - timedelta(days=366)  # nothing older than the 12 months
    assert len(keep) <= 14 + 8 + 12


@pytest.mark.django_db(transaction=True)
def test_the_drill_restores_the_latest_backup_and_records_it_and_a_failed_drill_raises_one_alarm(backup_dir, settings):
    coordinator = make_coordinator("coord-drill")
    coordinator.email = "coord@example.org"
    coordinator.save()
    make_member("DRILL-1", balance=2_000)
    first = backups.take_backup()

    drill = backups.restore_drill()
    assert drill.ok, drill.detail
    assert drill.backup == first.name
    assert "ledger OK" in drill.detail
    assert Alarm.objects.count() == 0

    # A newer backup, cut short on its way to the target.
    later = backups.backup_name(backups.taken_at(first.name) + timedelta(hours=1))
    (backup_dir / later).write_bytes((backup_dir / first.name).read_bytes()[:1000])
    failed = backups.restore_drill()
    assert not failed.ok and "tronquée" in failed.detail
    assert list(RestoreDrill.objects.values_list("ok", flat=True)) == [False, True]
    assert Alarm.objects.get().key == "restore-drill"
    assert [m.to for m in mail.outbox] == [["coord@example.org"]]
    assert Household.objects.filter(reference="DRILL-1").exists()  # the live data untouched
