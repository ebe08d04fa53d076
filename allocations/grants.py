"""Grants and subsidies: promised, received in tranches (each a ledger transfer
grants → treasury), and reported to their funder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from . import keys, ledger
from .models import AccountKind, Grant, GrantReceipt, Transfer, TransferKind


def create_grant(**fields) -> Grant:
    grant = Grant(**fields)
    grant.full_clean()
    grant.save()
    return grant


def record_receipt(grant: Grant, *, amount: int, received_on: date, bank_reference: str, by=None) -> GrantReceipt:
    """The money arrived: move it into the treasury. Entered twice (same bank reference),
    it moves once and returns the first receipt."""
    bank_reference = (bank_reference or "").strip()
    if not bank_reference:
        raise ValidationError(_("Give the bank's reference of the credit."), code="reference")
    existing = GrantReceipt.objects.filter(grant=grant, bank_reference=bank_reference).first()
    if existing is not None:
        return existing
    at = timezone.make_aware(datetime.combine(received_on, time(12)))
    try:
        with transaction.atomic():
            posted = ledger.transfer(
                debit=ledger.system_account(AccountKind.GRANTS), credit=ledger.system_account(AccountKind.TREASURY),
                amount=amount, kind=TransferKind.GRANT, idempotency_key=keys.grant_receipt(grant.pk, bank_reference),
                memo=f"{grant.funder_name} — {grant.reference}"[:255], at=at,
            )
            return GrantReceipt.objects.create(
                grant=grant, amount=amount, received_on=received_on, bank_reference=bank_reference,
                transfer_id=posted.transfer.pk, recorded_by=by,
            )
    except IntegrityError:  # a concurrent twin won: its receipt stands
        return GrantReceipt.objects.get(grant=grant, bank_reference=bank_reference)


@dataclass(frozen=True)
class GrantReport:
    grant: Grant
    received: int
    outstanding: int
    receipts: list
    start: date | None
    end: date | None
    # The fund over the period the grant covers: what it did with its money.
    money_in: int
    share: float  # of the money in over the period, this grant's part
    allocations_issued: int
    reimbursed_to_vendors: int
    households_served: int
    grant_part_of_reimbursements: int


def report(grant: Grant) -> GrantReport:
    receipts = list(grant.receipts.order_by("received_on", "id"))
    received = sum(receipt.amount for receipt in receipts)
    start = grant.period_start or (receipts[0].received_on if receipts else grant.promised_on)
    end = grant.period_end or timezone.localdate()
    window = Q(created_at__date__gte=start, created_at__date__lte=end)
    totals = Transfer.objects.filter(window).aggregate(
        money_in=Sum("amount", filter=Q(kind__in=[TransferKind.GRANT, TransferKind.CONTRIBUTION])),
        issued=Sum("amount", filter=Q(kind=TransferKind.ALLOCATION)),
        reimbursed=Sum("amount", filter=Q(kind=TransferKind.REIMBURSEMENT)),
        served=Count("credit_id", filter=Q(kind=TransferKind.ALLOCATION), distinct=True),
    )
    received_in_window = sum(r.amount for r in receipts if start <= r.received_on <= end)
    money_in = totals["money_in"] or 0
    share = received_in_window / money_in if money_in else 0.0
    reimbursed = totals["reimbursed"] or 0
    return GrantReport(
        grant=grant, received=received, outstanding=max(grant.amount - received, 0), receipts=receipts,
        start=start, end=end, money_in=money_in, share=share, allocations_issued=totals["issued"] or 0,
        reimbursed_to_vendors=reimbursed, households_served=totals["served"] or 0,
        grant_part_of_reimbursements=round(reimbursed * share),
    )
