"""Advisory locks named in one place (kernel.locks), with one formula for their ids."""

import pytest
from django.db import connection

from kernel import locks


def _advisory_locks_held() -> set[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT classid::bigint, objid::bigint FROM pg_locks "
                       "WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        return set(cursor.fetchall())


def _pg_lock_of(lock_id: int) -> tuple[int, int]:
    # pg_locks shows a bigint key as its high and low 32 bits.
    unsigned = lock_id & 0xFFFFFFFFFFFFFFFF
    return unsigned >> 32, unsigned & 0xFFFFFFFF


@pytest.mark.django_db
def test_the_ledger_function_in_the_database_names_its_lock_as_the_kernel_does():
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'ledger_transfer'")
        source = cursor.fetchone()[0]
    assert locks.id_sql(locks.name_sql(locks.LEDGER_KEY, "p_key")) in source
    # The books' lock, shared by every transfer; the closing of a year takes it alone.
    assert f"pg_advisory_xact_lock_shared({locks.id_sql(repr(locks.name(locks.BOOKS)))})" in source


@pytest.mark.django_db
@pytest.mark.parametrize("namespace, parts", [(locks.LEDGER_KEY, ("purchase:1:abc",)),
                                              (locks.CARD_DAILY_CAP, (4, 17)), (locks.SETTLEMENT_RUNS, ()),
                                              (locks.BOOKS, ())])
def test_a_lock_is_held_under_the_id_of_its_name(namespace, parts):
    before = _advisory_locks_held()
    with connection.cursor() as cursor:
        assert locks.lock(cursor, namespace, *parts)
        cursor.execute(f"SELECT {locks.id_sql()}", [locks.name(namespace, *parts)])
        lock_id = cursor.fetchone()[0]
    assert _advisory_locks_held() - before == {_pg_lock_of(lock_id)}


def test_names_tell_namespaces_and_parts_apart():
    assert locks.name(locks.CARD_DAILY_CAP, 4, 17) == "card-daily-cap:4:17"
    assert locks.name(locks.LEDGER_KEY, "k") != locks.name(locks.CARD_DAILY_CAP, "k")


def test_no_advisory_lock_is_taken_outside_the_locks_module():
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    found = [
        f"{path.relative_to(root)}:{number}"
        for app in ("allocations", "members", "vendors", "governance", "users", "caisse", "kernel", "coordination", "demo")
        if (root / app).is_dir()
        for path in (root / app).rglob("*.py") if path.name != "locks.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "pg_advisory" in line or "pg_try_advisory" in line or "hashtextextended" in line
    ]
    assert found == []


@pytest.mark.django_db
def test_a_shared_lock_is_held_beside_another_shared_one_never_beside_an_exclusive_one():
    import psycopg

    with connection.cursor() as cursor:
        assert locks.lock(cursor, locks.BOOKS, shared=True)
    with psycopg.connect(dbname=connection.settings_dict["NAME"]) as other:
        try_lock = f"SELECT pg_try_advisory_xact_lock{{}}({locks.id_sql()})"
        assert other.execute(try_lock.format("_shared"), [locks.name(locks.BOOKS)]).fetchone()[0]
        assert not other.execute(try_lock.format(""), [locks.name(locks.BOOKS)]).fetchone()[0]
