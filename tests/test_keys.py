"""The ledger's idempotency keys come from one module (allocations.keys), in Python and in
the SQL of the issuance alike."""

import datetime
import pathlib
import re

import pytest
from django.db import connection

from allocations import issuance, keys, ledger
from allocations.models import AccountKind, FundRules, Transfer, TransferKind
from members.services import create_household

ROOT = pathlib.Path(__file__).resolve().parent.parent
APPS = ("allocations", "members", "vendors", "governance", "users", "caisse", "kernel", "coordination", "demo")
KINDS = "allocation|expiry|reversal|grant|settlement|contribution|exit|purchase|refund"


@pytest.mark.django_db
@pytest.mark.parametrize("wallet, period", [(1, "2026-11"), (123456789, "2027-01"), (7, "it's")])
def test_the_sql_of_a_key_is_the_python_key(wallet, period):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {keys.allocation_sql('%s')}, {keys.expiry_sql('w.id')} FROM (SELECT %s AS id) w",
                       [wallet, period, period, wallet])
        assert cursor.fetchone() == (keys.allocation(wallet, period), keys.expiry(wallet, period))


@pytest.mark.django_db
def test_the_issuance_writes_the_key_the_portal_reads(client):
    ledger.transfer(debit=ledger.system_account(AccountKind.GRANTS), credit=ledger.system_account(AccountKind.TREASURY),
                    amount=1_000_000, kind=TransferKind.GRANT)
    if not FundRules.objects.exists():
        FundRules.objects.create(effective_from=datetime.date(2020, 1, 1), allocation_per_household=10_000)
    household = create_household(reference="K1", status="active", joined_on=datetime.date(2025, 1, 1))
    issuance.issue_period("2026-11")
    transfer = Transfer.objects.get(kind=TransferKind.ALLOCATION)
    assert transfer.idempotency_key == keys.allocation(household.wallet_id, "2026-11")


def test_purchase_keys_are_short_and_tell_vendors_apart():
    long_key = "x" * 255
    assert len(keys.purchase(10**12, long_key)) < 80
    assert keys.purchase(1, "k") != keys.purchase(2, "k") != keys.refund(1, "k")


def test_no_key_is_spelled_by_hand_outside_the_keys_module():
    hand_spelled = re.compile(rf"""f["'](?:{KINDS}):\{{|'(?:{KINDS}):' \|\|""")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in APPS if (ROOT / app).is_dir()
        for path in (ROOT / app).rglob("*.py") if path.name != "keys.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1) if hand_spelled.search(line)
    ]
    assert found == []
