"""Grants and subsidies: promised, received in tranches (each a ledger transfer
grants → treasury), and reported to their funder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from . import keys, ledger
from .integrity import ObjectMismatch
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
    received: int  # net: a receipt reversed (entered twice, returned) is not received
    outstanding: int
    receipts: list  # each with `.reversed`
    start: date | None
    end: date | None
    # The fund over the period the grant covers: what it did with its money, in euros net
    # of what went back (a reversed grant, a returned or corrected contribution), and units.
    money_in: int
    money_returned: int  # grants and contributions reversed over the period, shown apart
    share: float  # of the net money in over the period, this grant's part
    allocations_issued: int  # units
    reimbursed_to_vendors: int  # euros, net of transfers the shops' banks returned
    households_served: int
    grant_part_of_reimbursements: int


def _with_reversed(receipts):
    return receipts.annotate(reversed=Exists(Transfer.objects.filter(reverses_id=OuterRef("transfer_id"))))


def report(grant: Grant) -> GrantReport:
    receipts = list(_with_reversed(grant.receipts.order_by("received_on", "id")))
    kept = [receipt for receipt in receipts if not receipt.reversed]
    received = sum(receipt.amount for receipt in kept)
    start = grant.period_start or (receipts[0].received_on if receipts else grant.promised_on)
    end = grant.period_end or timezone.localdate()
    window = Q(created_at__date__gte=start, created_at__date__lte=end)
    money_kinds = [TransferKind.GRANT, TransferKind.CONTRIBUTION]
    reversal = Q(kind=TransferKind.REVERSAL)
    totals = Transfer.objects.filter(window).aggregate(
        money_in=Sum("amount", filter=Q(kind__in=money_kinds)),
        money_returned=Sum("amount", filter=reversal & Q(reverses__kind__in=money_kinds)),
        issued=Sum("amount", filter=Q(kind=TransferKind.ALLOCATION)),
        issued_back=Sum("amount", filter=reversal & Q(reverses__kind=TransferKind.ALLOCATION)),
        reimbursed=Sum("amount", filter=Q(kind=TransferKind.REIMBURSEMENT)),
        reimbursed_back=Sum("amount", filter=reversal & Q(reverses__kind=TransferKind.REIMBURSEMENT)),
        served=Count("credit_id", filter=Q(kind=TransferKind.ALLOCATION), distinct=True),
    )
    received_in_window = sum(r.amount for r in kept if start <= r.received_on <= end)
    returned = totals["money_returned"] or 0
    money_in = (totals["money_in"] or 0) - returned
    share = min(received_in_window / money_in, 1.0) if money_in > 0 else 0.0
    reimbursed = (totals["reimbursed"] or 0) - (totals["reimbursed_back"] or 0)
    return GrantReport(
        grant=grant, received=received, outstanding=max(grant.amount - received, 0), receipts=receipts,
        start=start, end=end, money_in=money_in, money_returned=returned, share=share,
        allocations_issued=(totals["issued"] or 0) - (totals["issued_back"] or 0),
        reimbursed_to_vendors=reimbursed, households_served=totals["served"] or 0,
        grant_part_of_reimbursements=round(reimbursed * share),
    )


@dataclass(frozen=True)
class RegisterAndBooks:
    """Grants as the books see them (the ledger's grants account, net of reversals) and as
    the register does (receipts not reversed): they must be the same."""

    books: int
    register: int
    unregistered: int  # grant transfers with no receipt in the register (count)

    @property
    def difference(self) -> int:
        return self.books - self.register


def books_and_register() -> RegisterAndBooks:
    grants_account = ledger.system_account(AccountKind.GRANTS)
    books = -grants_account.balance
    register = _with_reversed(GrantReceipt.objects.all()).filter(reversed=False).aggregate(
        total=Sum("amount"))["total"] or 0
    unregistered = Transfer.objects.filter(kind=TransferKind.GRANT).exclude(
        pk__in=GrantReceipt.objects.values("transfer_id")).count()
    return RegisterAndBooks(books=books, register=register, unregistered=unregistered)


def receipts_agree(cursor) -> list[ObjectMismatch]:
    """Each grant receipt says what its transfer moved: the same amount, a grant's transfer
    (a receipt reversed stays a receipt; the register nets it, as the books do)."""
    cursor.execute(
        f"""
        SELECT r.id, g.reference, r.amount, t.amount, t.kind
        FROM {GrantReceipt._meta.db_table} r JOIN {Grant._meta.db_table} g ON g.id = r.grant_id
        JOIN {Transfer._meta.db_table} t ON t.id = r.transfer_id
        WHERE t.amount <> r.amount OR t.kind <> %s
        ORDER BY r.id LIMIT 1000
        """,
        [TransferKind.GRANT],
    )
    return [
        ObjectMismatch(f"grant receipt #{id_} ({reference})",
                       f"says received {amount}; its transfer moved {moved} as {kind}")
        for id_, reference, amount, moved, kind in cursor.fetchall()
    ]
