"""Upgrades without fear: models and migrations agree, and a database saved from a past
release migrates to the latest schema with its ledger intact."""

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from operations import backups

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("release-*.sql.gz"))


@pytest.mark.django_db
def test_models_and_migrations_agree():
    # --check exits non-zero when a model change has no migration.
    call_command("makemigrations", check=True, dry_run=True, verbosity=0)


@pytest.fixture
def scratch_database(django_db_blocker):
    with django_db_blocker.unblock():
        name = f"{backups.connection_params()['PGDATABASE']}_release"
        with backups._psycopg("postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        yield name
        with backups._psycopg("postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_a_saved_release_migrates_to_the_latest_and_its_ledger_holds(fixture, scratch_database, django_db_blocker):
    with django_db_blocker.unblock():
        psql = backups.pg_tool("psql")
        env = os.environ | backups.connection_params(scratch_database)
        loaded = subprocess.run([psql, "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], input=gzip.decompress(fixture.read_bytes()),
                                env=env, capture_output=True)
        assert loaded.returncode == 0, loaded.stderr.decode()
        with backups._psycopg(scratch_database) as conn:
            before = conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
        url = backups.database_url(scratch_database)
        run = subprocess.run(
            [sys.executable, "manage.py", "after_restore"],
            cwd=Path(__file__).parent.parent,
            env=os.environ | {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "caisse.settings"},
            capture_output=True, text=True,
        )
        assert run.returncode == 0, run.stderr
        assert "ledger OK" in run.stdout
        with backups._psycopg(scratch_database) as conn:
            after = conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
            households = conn.execute("SELECT count(*) FROM members_household").fetchone()[0]
    assert after > before  # the release predates migrations that now ran
    assert households == 6
