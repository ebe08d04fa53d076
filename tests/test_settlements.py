"""Settlement runs: amounts from the ledger, carried negatives, never twice, four eyes,
vendors' statements."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone, translation

from allocations import approvals
from allocations.models import Account, AccountKind, Approval, Transfer, TransferKind
from allocations.selectors import fund_position
from tests.settlement_fixtures import coordinators, fund_treasury, make_member, pay, refund, run_and_pay, shop
from tests.vendor_fixtures import make_staff
from vendors import settlements
from vendors.models import Settlement, SettlementRun

pytestmark = pytest.mark.django_db


def balance(account_id):
    return Account.objects.get(pk=account_id).balance


def test_a_run_pays_each_vendor_its_balance_at_the_cutoff(ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    bakery, grocer = shop("boulangerie"), shop("epicerie")
    pay(member, bakery, 1_250, till="caisse-1", reference="T-1")
    pay(member, bakery, 750, till="caisse-2", reference="T-2")
    pay(member, grocer, 3_000)
    before = fund_position()

    run = run_and_pay(first, second)

    assert run.status == SettlementRun.Status.PAID
    by_vendor = {s.vendor_id: s for s in run.settlements.all()}
    assert by_vendor[bakery.pk].amount == 2_000 and by_vendor[grocer.pk].amount == 3_000
    assert by_vendor[bakery.pk].purchases_count == 2
    assert {row["till"]: row["total"] for row in by_vendor[bakery.pk].statement["per_till"]} == {
        "caisse-1": 1_250, "caisse-2": 750}
    assert sum(row["total"] for row in by_vendor[bakery.pk].statement["per_day"]) == 2_000
    # Units retired and euros paid, the same amounts, through the ledger.
    assert balance(bakery.account_id) == balance(grocer.account_id) == 0
    after = fund_position()
    assert before.treasury - after.treasury == 5_000
    assert after.reimbursements_paid - before.reimbursements_paid == 5_000
    assert before.units_in_circulation - after.units_in_circulation == 5_000
    assert before.available_reserve == after.available_reserve
    settlement = by_vendor[bakery.pk]
    assert (settlement.units_transfer.kind, settlement.euros_transfer.kind) == (
        TransferKind.SETTLEMENT, TransferKind.REIMBURSEMENT)
    assert settlement.status == Settlement.Status.PAID and settlement.iban
    ledger_is_clean()


def test_a_cutoff_leaves_later_purchases_for_the_next_run(ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    vendor = shop()
    pay(member, vendor, 1_000)
    cutoff = timezone.now()
    pay(member, vendor, 400)
    run = run_and_pay(first, second, cutoff)
    assert run.settlements.get().amount == 1_000
    assert balance(vendor.account_id) == 400
    later = run_and_pay(first, second)
    assert later.settlements.get().amount == 400
    assert later.settlements.get().period_start == cutoff
    ledger_is_clean()


def test_a_refund_after_the_settlement_is_taken_from_the_next(ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    vendor = shop()
    purchase = pay(member, vendor, 3_000)
    run_and_pay(first, second)
    refund(vendor, purchase["id"], 1_000)
    assert balance(vendor.account_id) == -1_000

    # Still in the red: no settlement at all.
    empty = run_and_pay(first, second)
    assert empty.status == SettlementRun.Status.EMPTY and not empty.settlements.exists()

    pay(member, vendor, 2_500)
    run = run_and_pay(first, second)
    settlement = run.settlements.get()
    assert settlement.amount == 1_500
    # The refund shows on this statement (its window starts at the last settlement).
    assert (settlement.purchases_total, settlement.refunds_total, settlement.carried_over) == (2_500, 1_000, 0)
    assert balance(vendor.account_id) == 0
    # Everything the vendor took, less what it gave back, is what it was paid.
    paid = sum(Settlement.objects.filter(vendor=vendor, status="paid").values_list("amount", flat=True))
    assert paid == 3_000 - 1_000 + 2_500
    ledger_is_clean()


def test_running_twice_pays_nothing_twice(ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    vendor = shop()
    pay(member, vendor, 1_000)
    cutoff = timezone.now()
    one = settlements.create_run(cutoff)
    again = settlements.create_run(cutoff)
    assert one.created and not again.created and one.run.pk == again.run.pk
    # Another cut-off before the first is paid: what is waiting counts as settled.
    other = settlements.create_run(cutoff + timedelta(microseconds=5))
    assert other.run.status == SettlementRun.Status.EMPTY
    approval = settlements.request_payment(one.run, by=first)
    approvals.approve(approval, by=second)
    # Approving again (a replayed approval, a second call) commits nothing more.
    assert settlements.approve_run(one.run, approval=Approval.objects.get(pk=approval.pk)) == (0, 0)
    # The bank's confirmation, twice: paid once.
    assert settlements.confirm_paid(one.run, value_date=timezone.localdate(), bank_reference="B-1") == 1
    assert settlements.confirm_paid(one.run, value_date=timezone.localdate(), bank_reference="B-1") == 0
    assert Transfer.objects.filter(kind=TransferKind.SETTLEMENT).count() == 1
    assert Transfer.objects.filter(kind=TransferKind.REIMBURSEMENT).count() == 1
    ledger_is_clean()


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_and_payments_pay_once(ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    vendors = [shop(f"shop-{n}") for n in range(3)]
    for n, vendor in enumerate(vendors):
        pay(member, vendor, 1_000 * (n + 1))
    now = timezone.now()
    cutoffs = [now, now - timedelta(microseconds=1), now, now - timedelta(microseconds=2)]
    barrier = threading.Barrier(len(cutoffs))
    errors = []

    def run(cutoff):
        try:
            barrier.wait()
            settlements.create_run(cutoff)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(cutoff,)) for cutoff in cutoffs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Settlement.objects.count() == 3
    assert sum(Settlement.objects.values_list("amount", flat=True)) == 6_000

    run = Settlement.objects.first().run
    approval = settlements.request_payment(run, by=first)
    barrier = threading.Barrier(2)

    def approve():
        try:
            barrier.wait()
            approvals.approve(approval, by=second)
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 1  # the second finds it no longer waiting
    assert not Transfer.objects.filter(kind=TransferKind.REIMBURSEMENT).exists()  # committed, not paid

    def confirm():
        try:
            barrier.wait()
            settlements.confirm_paid(run, value_date=timezone.localdate(), bank_reference="STMT-1")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    errors.clear()
    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Transfer.objects.filter(kind=TransferKind.REIMBURSEMENT).count() == 3
    assert sum(Transfer.objects.filter(kind=TransferKind.SETTLEMENT).values_list("amount", flat=True)) == 6_000
    assert all(balance(v.account_id) == 0 for v in vendors)
    ledger_is_clean()


def test_paying_needs_a_second_coordinator(ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    vendor = shop()
    pay(member, vendor, 1_000)
    run = settlements.create_run().run
    with pytest.raises(approvals.ApprovalRequired):
        settlements.approve_run(run, approval=None)
    approval = settlements.request_payment(run, by=first)
    with pytest.raises(approvals.ApprovalRequired):
        settlements.approve_run(run, approval=approval)  # asked, not approved
    with pytest.raises(approvals.ApprovalRequired):
        approvals.approve(approval, by=first)  # the same person
    forged = Approval(pk=approval.pk, action=approval.action, target=approval.target, status="executed",
                      requested_by=first, decided_by=second)
    with pytest.raises(approvals.ApprovalRequired):
        settlements.approve_run(run, approval=forged)  # built in memory, not approved in the database
    assert not Transfer.objects.filter(kind=TransferKind.SETTLEMENT).exists()
    assert balance(vendor.account_id) == 1_000
    approvals.approve(approval, by=second)
    run.refresh_from_db()
    assert run.status == SettlementRun.Status.APPROVED and balance(vendor.account_id) == 1_000
    settlements.mark_file_issued(run)
    # The bank's date entered by hand: four eyes too.
    confirmation = settlements.request_bank_confirmation(run, value_date=timezone.localdate(), by=first,
                                                         reason="relevé papier")
    with pytest.raises(approvals.ApprovalRequired):
        settlements.execute_bank_confirmation(confirmation)
    with pytest.raises(approvals.ApprovalRequired):
        approvals.approve(confirmation, by=first)
    assert balance(vendor.account_id) == 1_000
    approvals.approve(confirmation, by=second)
    assert balance(vendor.account_id) == 0
    ledger_is_clean()


def test_a_vendor_without_a_valid_iban_is_listed_and_carried(ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    ok, missing = shop("ok"), shop("sans-iban", iban="", bic="")
    pay(member, ok, 1_000)
    pay(member, missing, 700)
    run = run_and_pay(first, second)
    assert dict(run.settlements.values_list("vendor__slug", "status")) == {"ok": "paid", "sans-iban": "carried"}
    assert balance(missing.account_id) == 700  # nothing retired, nothing paid
    # Once it has an IBAN, the next run pays what it was owed.
    type(missing).objects.filter(pk=missing.pk).update(iban="FR7630006000011234567890189", bic="AGRIFRPP")
    later = run_and_pay(first, second)
    settlement = later.settlements.get()
    assert (settlement.vendor_id, settlement.amount, settlement.carried_over) == (missing.pk, 700, 700)
    ledger_is_clean()


def test_a_vendor_downloads_its_own_statements_only(client, ledger_is_clean):
    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=20_000)
    mine, theirs = shop("mine"), shop("theirs")
    pay(member, mine, 1_234, reference="TICKET-42", till="caisse-1")
    pay(member, theirs, 500)
    run = run_and_pay(first, second)
    own = run.settlements.get(vendor=mine)
    other = run.settlements.get(vendor=theirs)
    client.force_login(make_staff(mine))

    page = client.get(f"/vendor/statements/{own.number}/")
    assert page.status_code == 200 and "TICKET-42" in page.content.decode()
    csv = client.get(f"/vendor/statements/{own.number}/csv/")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    body = csv.content.decode()
    assert "TICKET-42" in body and "12,34" in body and "caisse-1" in body
    assert client.get(f"/vendor/statements/{other.number}/").status_code == 404
    assert client.get(f"/vendor/statements/{other.number}/csv/").status_code == 404
    dashboard = client.get("/vendor/").content.decode()
    assert own.number in dashboard and other.number not in dashboard
    ledger_is_clean()


def test_the_weekly_task_makes_the_run_at_monday_midnight():
    from vendors.tasks import weekly_settlement_run_task

    result = weekly_settlement_run_task()
    run = SettlementRun.objects.get(pk=result["run"])
    local = timezone.localtime(run.cutoff)
    assert (local.weekday(), local.hour, local.minute) == (0, 0, 0)
    assert weekly_settlement_run_task()["created"] is False
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.filter(task="vendors.tasks.weekly_settlement_run_task").exists()


# --- Four eyes on a reversal ----------------------------------------------------------


def test_a_reversal_takes_effect_only_with_a_second_coordinator(ledger_is_clean):
    from allocations import ledger

    fund_treasury()
    first, second = coordinators()
    member = make_member("F-1", balance=5_000)
    # An allocation credited twice by hand: no object of the domain owns it, the generic reversal corrects it.
    mistake = ledger.transfer(debit=ledger.system_account(AccountKind.ISSUANCE), credit=member.household.wallet_id,
                              amount=1_000, kind=TransferKind.ALLOCATION).transfer
    approval = approvals.request_reversal(mistake.pk, by=first, reason="credited twice")
    with pytest.raises(approvals.ApprovalRequired):
        approvals.approve(approval, by=first)
    with pytest.raises(approvals.ApprovalRequired):
        approvals.execute_reversal(approval)  # still pending
    assert not Transfer.objects.filter(reverses=mistake).exists()
    with pytest.raises(ValidationError):
        approvals.request_reversal(mistake.pk, by=first, reason="again")  # one pending per transfer
    approvals.approve(approval, by=second)
    assert Transfer.objects.get(reverses=mistake).amount == 1_000
    assert balance(member.household.wallet_id) == 5_000
    ledger_is_clean()


def test_the_generic_reversal_refuses_what_an_object_owns_and_names_its_correction():
    from allocations import ledger

    fund_treasury()
    first, _second = coordinators()
    member = make_member("F-1", balance=5_000)
    purchase = ledger.transfer(debit=member.household.wallet_id, credit=shop().account_id, amount=1_000,
                               kind=TransferKind.PURCHASE).transfer
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        approvals.request_reversal(purchase.pk, by=first, reason="typed 10 € instead of 1 €")
    assert refused.value.code == "owned" and "remboursement" in refused.value.messages[0]
    assert not Approval.objects.filter(action=Approval.Action.REVERSAL).exists()


def test_only_coordinators_ask_or_approve():
    from django.core.exceptions import PermissionDenied

    from tests.vendor_fixtures import make_user

    first, _second = coordinators()
    nobody = make_user("benevole")
    from allocations import ledger

    grant = ledger.transfer(debit=ledger.system_account(AccountKind.GRANTS),
                            credit=ledger.system_account(AccountKind.TREASURY), amount=100, kind=TransferKind.GRANT).transfer
    with pytest.raises(PermissionDenied):
        approvals.request_reversal(grant.pk, by=nobody, reason="x")
    approval = approvals.request_reversal(grant.pk, by=first, reason="x")
    with pytest.raises(PermissionDenied):
        approvals.approve(approval, by=nobody)
