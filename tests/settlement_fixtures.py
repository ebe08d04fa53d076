"""A small fund with money in the treasury, vendors with IBANs, and two coordinators."""

import uuid
from datetime import timedelta

from django.utils import timezone

from allocations import approvals, ledger
from allocations.models import AccountKind, TransferKind
from tests.member_fixtures import make_member
from tests.vendor_fixtures import make_coordinator, make_vendor
from vendors import payments, settlements

IBAN, BIC = "FR1420041010050500013M02606", "PSSTFRPPMON"


def fund_treasury(amount=1_000_000):
    ledger.transfer(debit=ledger.system_account(AccountKind.GRANTS), credit=ledger.system_account(AccountKind.TREASURY),
                    amount=amount, kind=TransferKind.GRANT)


def shop(slug="epicerie", **fields):
    return make_vendor(slug, iban=fields.pop("iban", IBAN), bic=fields.pop("bic", BIC), **fields)


def pay(member, vendor, amount, *, till="caisse-1", reference=""):
    return payments.capture(vendor=vendor, idempotency_key=uuid.uuid4().hex, card=member.card.number,
                            pin=member.pin, amount=amount, till=till, reference=reference).body


def refund(vendor, purchase_id, amount):
    return payments.refund(vendor=vendor, purchase_id=purchase_id, idempotency_key=uuid.uuid4().hex, amount=amount)


def coordinators():
    return make_coordinator("coord-a"), make_coordinator("coord-b")


def run_and_approve(first, second, cutoff=None):
    """A run at `cutoff` (default: now), approved with four eyes: in the payment file,
    not yet paid."""
    cutoff = cutoff or timezone.now() + timedelta(microseconds=1) - timedelta(microseconds=1)
    run = settlements.create_run(cutoff).run
    if run.status == run.Status.AWAITING_APPROVAL:
        approvals.approve(settlements.request_payment(run, by=first), by=second)
        run.refresh_from_db()
    return run


def run_and_pay(first, second, cutoff=None, value_date=None):
    """A run approved, its file issued, and paid on the bank's date entered by one
    coordinator and confirmed by another (a bank without camt.053)."""
    run = run_and_approve(first, second, cutoff)
    if run.status == run.Status.APPROVED:
        settlements.mark_file_issued(run)
        run.refresh_from_db()
        confirmation = settlements.request_bank_confirmation(
            run, value_date=value_date or timezone.localdate(), by=first, reason="relevé de la banque")
        approvals.approve(confirmation, by=second)
        run.refresh_from_db()
    return run


__all__ = ["make_member", "fund_treasury", "shop", "pay", "refund", "coordinators", "run_and_approve", "run_and_pay"]
