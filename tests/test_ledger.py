"""The ledger's guarantees, against PostgreSQL."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections, transaction

from allocations import ledger
from allocations.models import Account, AccountKind, Transfer, TransferKind
from allocations.selectors import fund_position


def allocate(wallet, amount, key=None):
    issuance = ledger.system_account(AccountKind.ISSUANCE)
    return ledger.transfer(debit=issuance, credit=wallet, amount=amount, kind=TransferKind.ALLOCATION, idempotency_key=key)


@pytest.fixture
def wallet(db):
    return ledger.open_account(AccountKind.WALLET)


@pytest.fixture
def vendor_account(db):
    return ledger.open_account(AccountKind.VENDOR)


def test_transfer_moves_both_balances_and_records_the_transfer(wallet, vendor_account, ledger_is_clean):
    allocate(wallet, 10_000)
    posted = ledger.transfer(debit=wallet, credit=vendor_account, amount=1_250, kind=TransferKind.PURCHASE)

    wallet.refresh_from_db()
    vendor_account.refresh_from_db()
    assert (wallet.balance, vendor_account.balance) == (8_750, 1_250)
    stored = Transfer.objects.get(pk=posted.transfer.pk)
    assert (stored.debit_id, stored.credit_id, stored.amount, stored.unit) == (wallet.pk, vendor_account.pk, 1_250, "UNIT")
    ledger_is_clean()


def test_a_wallet_never_goes_below_zero(wallet, vendor_account):
    allocate(wallet, 1_000)
    with pytest.raises(ledger.InsufficientFunds):
        ledger.transfer(debit=wallet, credit=vendor_account, amount=1_001, kind=TransferKind.PURCHASE)
    wallet.refresh_from_db()
    assert wallet.balance == 1_000
    assert not Transfer.objects.filter(kind=TransferKind.PURCHASE).exists()


def test_a_refusal_writes_nothing_and_leaves_the_callers_transaction_usable(wallet, vendor_account):
    allocate(wallet, 1_000)
    with transaction.atomic():
        with pytest.raises(ledger.InsufficientFunds) as short:
            ledger.transfer(debit=wallet, credit=vendor_account, amount=1_500, kind=TransferKind.PURCHASE)
        assert short.value.context["balance"] == 1_000  # read under the lock the transaction keeps
        ledger.transfer(debit=wallet, credit=vendor_account, amount=1_000, kind=TransferKind.PURCHASE)
    wallet.refresh_from_db()
    assert wallet.balance == 0
    assert Transfer.objects.filter(kind=TransferKind.PURCHASE).count() == 1


def test_up_to_moves_what_a_short_account_holds_and_once(wallet, vendor_account, ledger_is_clean):
    allocate(wallet, 700)
    posted = ledger.transfer(debit=wallet, credit=vendor_account, amount=1_000, kind=TransferKind.PURCHASE,
                             idempotency_key="partial-1", up_to=True)
    assert (posted.created, posted.transfer.amount) == (True, 700)
    again = ledger.transfer(debit=wallet, credit=vendor_account, amount=1_000, kind=TransferKind.PURCHASE,
                            idempotency_key="partial-1", up_to=True)
    assert (again.created, again.transfer.pk, again.transfer.amount) == (False, posted.transfer.pk, 700)
    with pytest.raises(ledger.InsufficientFunds):  # nothing left: nothing moves
        ledger.transfer(debit=wallet, credit=vendor_account, amount=1, kind=TransferKind.PURCHASE, up_to=True)
    wallet.refresh_from_db()
    assert wallet.balance == 0
    assert Transfer.objects.get(pk=posted.transfer.pk).amount == 700
    ledger_is_clean()


def test_a_transfer_to_the_same_account_is_refused_by_the_database(wallet):
    allocate(wallet, 1_000)
    with pytest.raises(IntegrityError), transaction.atomic():
        ledger.transfer(debit=wallet, credit=wallet, amount=100, kind=TransferKind.PURCHASE)
    wallet.refresh_from_db()
    assert wallet.balance == 1_000


def test_an_unknown_account_is_named(wallet):
    with pytest.raises(Account.DoesNotExist, match=f"account {wallet.pk + 1000}"):
        ledger.transfer(debit=wallet, credit=wallet.pk + 1000, amount=100, kind=TransferKind.PURCHASE)


def test_the_database_refuses_a_negative_wallet_even_behind_the_service(wallet):
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=wallet.pk).update(balance=-1)


def test_a_vendor_account_may_go_below_zero(wallet, vendor_account):
    """A refund after the vendor's reimbursement: taken from its next one."""
    ledger.transfer(debit=vendor_account, credit=wallet, amount=500, kind=TransferKind.REFUND)
    vendor_account.refresh_from_db()
    assert vendor_account.balance == -500


def test_euros_and_units_never_mix(wallet):
    treasury = ledger.system_account(AccountKind.TREASURY)
    allocate(wallet, 1_000)
    with pytest.raises(ledger.UnitMismatch):
        ledger.transfer(debit=wallet, credit=treasury, amount=100, kind=TransferKind.PURCHASE)
    treasury.refresh_from_db()
    assert treasury.balance == 0


def test_the_database_refuses_a_transfer_between_units_written_behind_the_service(wallet):
    treasury = ledger.system_account(AccountKind.TREASURY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(debit=treasury, credit=wallet, unit="EUR", amount=1, kind=TransferKind.GRANT)
        connection.check_constraints()  # the (account, unit) keys are checked at commit


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True])
def test_only_positive_whole_cents_move(wallet, vendor_account, amount):
    with pytest.raises(ledger.InvalidAmount):
        ledger.transfer(debit=wallet, credit=vendor_account, amount=amount, kind=TransferKind.PURCHASE)


def test_a_repeated_idempotent_transfer_moves_money_once(wallet, ledger_is_clean):
    first = allocate(wallet, 10_000, key="allocation:test:2026-12")
    again = allocate(wallet, 10_000, key="allocation:test:2026-12")

    assert first.created and not again.created
    assert again.transfer.pk == first.transfer.pk
    wallet.refresh_from_db()
    assert wallet.balance == 10_000
    assert Transfer.objects.filter(idempotency_key="allocation:test:2026-12").count() == 1
    ledger_is_clean()


def test_a_key_reused_for_another_transfer_is_refused(wallet):
    allocate(wallet, 10_000, key="k-1")
    with pytest.raises(ledger.IdempotencyConflict):
        allocate(wallet, 9_000, key="k-1")
    wallet.refresh_from_db()
    assert wallet.balance == 10_000


def test_reversal_is_a_new_transfer_referencing_the_first_and_happens_once(wallet, vendor_account, ledger_is_clean):
    allocate(wallet, 5_000)
    purchase = ledger.transfer(debit=wallet, credit=vendor_account, amount=2_000, kind=TransferKind.PURCHASE).transfer

    reversal = ledger.reverse(purchase)
    again = ledger.reverse(purchase.pk)

    assert reversal.created and not again.created
    assert reversal.transfer.reverses_id == purchase.pk
    assert (reversal.transfer.debit_id, reversal.transfer.credit_id) == (vendor_account.pk, wallet.pk)
    wallet.refresh_from_db()
    assert wallet.balance == 5_000
    ledger_is_clean()


@pytest.mark.parametrize("statement", ["UPDATE {t} SET amount = amount + 1", "DELETE FROM {t}"])
def test_the_database_refuses_to_change_or_delete_a_transfer(wallet, statement):
    allocate(wallet, 100)
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(t=Transfer._meta.db_table))
    assert Transfer.objects.get().amount == 100


def test_fund_position_reads_the_reserve_from_the_system_accounts(wallet, vendor_account):
    treasury = ledger.system_account(AccountKind.TREASURY)
    grants = ledger.system_account(AccountKind.GRANTS)
    ledger.transfer(debit=grants, credit=treasury, amount=50_000, kind=TransferKind.GRANT)
    allocate(wallet, 10_000)
    ledger.transfer(debit=wallet, credit=vendor_account, amount=3_000, kind=TransferKind.PURCHASE)

    position = fund_position()

    assert position.treasury == 50_000
    assert position.grants_received == 50_000
    assert position.units_in_circulation == 10_000  # 7 000 in the wallet + 3 000 owed to the vendor
    assert position.available_reserve == 40_000


def test_check_ledger_catches_a_balance_changed_behind_its_back(wallet, capsys):
    allocate(wallet, 10_000)
    call_command("check_ledger")
    Account.objects.filter(pk=wallet.pk).update(balance=12_345)

    with pytest.raises(CommandError) as failure:
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert failure.value.returncode == 1  # the exit status from the shell
    assert f"account {wallet.pk}" in err
    assert "off by +2345 cents" in err
    assert "unit UNIT: balances sum to +2345" in err


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_spending_from_one_wallet_never_take_it_below_zero():
    wallet = ledger.open_account(AccountKind.WALLET)
    shops = [ledger.open_account(AccountKind.VENDOR) for _ in range(4)]
    allocate(wallet, 10_000)
    amount, attempts_per_thread, threads = 700, 3, 20  # 60 attempts of 7 € on 100 €: 14 can succeed

    succeeded, refused, errors = [], [], []
    start = threading.Barrier(threads)

    def spend(n):
        try:
            start.wait()
            for i in range(attempts_per_thread):
                try:
                    posted = ledger.transfer(
                        debit=wallet.pk, credit=shops[n % 4].pk, amount=amount, kind=TransferKind.PURCHASE
                    )
                    succeeded.append(posted.transfer.amount)
                except ledger.InsufficientFunds:
                    refused.append(n)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=spend, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    wallet.refresh_from_db()
    assert wallet.balance >= 0
    assert len(succeeded) == 14 and len(refused) == threads * attempts_per_thread - 14
    assert sum(succeeded) == 10_000 - wallet.balance
    assert sum(Account.objects.filter(pk__in=[s.pk for s in shops]).values_list("balance", flat=True)) == sum(succeeded)
    call_command("check_ledger")


@pytest.mark.django_db(transaction=True)
def test_transfers_crossing_one_pair_of_accounts_in_both_directions_never_deadlock():
    wallet, shop = ledger.open_account(AccountKind.WALLET), ledger.open_account(AccountKind.VENDOR)
    allocate(wallet, 100_000)
    errors, start = [], threading.Barrier(8)

    def cross(n):
        try:
            start.wait()
            for _ in range(15):
                debit, credit = (wallet, shop) if n % 2 else (shop, wallet)
                kind = TransferKind.PURCHASE if n % 2 else TransferKind.REFUND
                ledger.transfer(debit=debit.pk, credit=credit.pk, amount=100, kind=kind)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=cross, args=(n,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    wallet.refresh_from_db()
    assert wallet.balance == 100_000  # as many purchases as refunds of the same amount
    call_command("check_ledger")


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_of_one_idempotent_transfer_move_money_once():
    wallet = ledger.open_account(AccountKind.WALLET)
    results, start = [], threading.Barrier(10)

    def post():
        try:
            start.wait()
            results.append(allocate(wallet.pk, 10_000, key="allocation:race:2026-12").created)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=post) for _ in range(10)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    wallet.refresh_from_db()
    assert sorted(results) == [False] * 9 + [True]
    assert wallet.balance == 10_000
    call_command("check_ledger")
