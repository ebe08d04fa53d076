"""Settlements: reimbursing vendors in euros for the units they took (DESIGN.md).

A run takes, at a cut-off, what the fund owes each vendor and makes one numbered
`Settlement` per vendor with its statement. A second coordinator's approval
(allocations.approvals) puts the settlements in the SEPA payment file: committed, not
paid. A settlement is paid when the bank confirms it — an imported statement
(coordination.bank) or the bank's date entered under four eyes — and only then are its
units retired (vendor → issuance) and its euros paid (treasury → reimbursements), dated
at the bank's value date. A line the bank returns makes its vendor owed again.

What a vendor is owed at the cut-off is read from the ledger, not summed from
purchases:

    owed = balance now − net movements after the cut-off (settlements aside)
           − settlements made but not yet paid

Balance and later movements are read by one statement (one snapshot), so a purchase
committing meanwhile is either in both or in neither. A refund after the last
settlement makes the balance lower (even negative): it is taken from the next one, and
a vendor still in the red gets no settlement until its purchases cover it.

Never the same amount twice: runs are serialised (an advisory lock on PostgreSQL; the
immediate transaction on SQLite), a cut-off has at most one run (unique), what a run
settles counts as settled for the next one at once, and each settlement's two transfers
carry keys made from its number.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from allocations import approvals, fund, keys, ledger
from allocations.models import Account, AccountKind, Approval, Transfer, TransferKind
from kernel import csv as kernel_csv
from kernel import locks
from kernel.banking import bic_valid, compact, iban_valid
from kernel.errors import DomainError

from .models import Purchase, Refund, Settlement, SettlementRun, Vendor

_ACCOUNT = Account._meta.db_table
_TRANSFER = Transfer._meta.db_table
_VENDOR = Vendor._meta.db_table
class SettlementError(DomainError):
    code = "settlement_refused"


def weekly_cutoff(now: datetime | None = None) -> datetime:
    """The start of this week (Monday 00:00, the fund's time): the weekly run's cut-off."""
    local = timezone.localtime(now or timezone.now())
    monday = local.date() - timedelta(days=local.weekday())
    return timezone.make_aware(datetime.combine(monday, datetime.min.time()))


def _owed_at(cutoff: datetime) -> dict[int, tuple[int, int]]:
    """{vendor id: (owed at the cut-off, account id)} from the ledger, in one statement."""
    at = connection.ops.adapt_datetimefield_value(cutoff)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT v.id, a.id, a.balance - COALESCE(later.net, 0)
            FROM {_VENDOR} v JOIN {_ACCOUNT} a ON a.id = v.account_id
            LEFT JOIN (
                SELECT account_id, SUM(delta) AS net FROM (
                    SELECT credit_id AS account_id, amount AS delta FROM {_TRANSFER}
                    WHERE created_at >= %s AND kind <> %s AND unit = 'UNIT'
                    UNION ALL
                    SELECT debit_id, -amount FROM {_TRANSFER}
                    WHERE created_at >= %s AND kind <> %s AND unit = 'UNIT'
                ) moves GROUP BY account_id
            ) later ON later.account_id = a.id
            """,
            [at, TransferKind.SETTLEMENT, at, TransferKind.SETTLEMENT],
        )
        balances = {vendor_id: (int(owed), account_id) for vendor_id, account_id, owed in cursor.fetchall()}
    unpaid = dict(
        Settlement.objects.filter(status__in=UNPAID)
        .values_list("vendor_id").annotate(total=Sum("amount"))
    )
    return {vendor_id: (owed - unpaid.get(vendor_id, 0), account) for vendor_id, (owed, account) in balances.items()}


@dataclass
class Statement:
    purchases_count: int
    purchases_total: int
    refunds_total: int
    per_day: list[dict]
    per_till: list[dict]


def _statement(account_id: int, start: datetime | None, cutoff: datetime) -> Statement:
    """The purchases and refunds of one vendor in [start, cutoff), per day and per till."""
    moves = Transfer.objects.filter(created_at__lt=cutoff, kind__in=[TransferKind.PURCHASE, TransferKind.REFUND])
    if start is not None:
        moves = moves.filter(created_at__gte=start)
    rows = list(
        moves.filter(credit_id=account_id, kind=TransferKind.PURCHASE).values_list("id", "kind", "amount", "created_at")
    ) + list(moves.filter(debit_id=account_id, kind=TransferKind.REFUND).values_list("id", "kind", "amount", "created_at"))
    ids = [row[0] for row in rows]
    tills = dict(Purchase.objects.filter(transfer_id__in=ids).values_list("transfer_id", "till"))
    tills.update(Refund.objects.filter(transfer_id__in=ids).values_list("transfer_id", "purchase__till"))
    days, by_till = defaultdict(lambda: [0, 0, 0]), defaultdict(lambda: [0, 0, 0])
    count = total = refunded = 0
    for transfer_id, kind, amount, created_at in rows:
        day = timezone.localtime(created_at).date().isoformat()
        till = tills.get(transfer_id) or ""
        if kind == TransferKind.PURCHASE:
            count, total = count + 1, total + amount
            for bucket in (days[day], by_till[till]):
                bucket[0] += 1
                bucket[1] += amount
        else:
            refunded += amount
            days[day][2] += amount
            by_till[till][2] += amount
    return Statement(
        purchases_count=count,
        purchases_total=total,
        refunds_total=refunded,
        per_day=[{"day": d, "count": c, "total": t, "refunded": r} for d, (c, t, r) in sorted(days.items())],
        per_till=[{"till": k, "count": c, "total": t, "refunded": r} for k, (c, t, r) in sorted(by_till.items())],
    )


def _lock_runs() -> None:
    with connection.cursor() as cursor:
        locks.lock(cursor, locks.SETTLEMENT_RUNS)


def _next_numbers(year: int, count: int) -> list[str]:
    prefix = f"{year}-"
    last = (
        Settlement.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True).first()
    )
    start = int(last.split("-")[1]) + 1 if last else 1
    return [f"{prefix}{n:05d}" for n in range(start, start + count)]


@dataclass(frozen=True)
class RunResult:
    run: SettlementRun
    created: bool


def create_run(cutoff: datetime | None = None, *, by=None) -> RunResult:
    """The run at `cutoff` (default: now): made once; a second call returns the first."""
    cutoff = cutoff or timezone.now()
    if cutoff > timezone.now():
        raise SettlementError(_("A settlement cut-off cannot be in the future."))
    with transaction.atomic():
        _lock_runs()
        existing = SettlementRun.objects.filter(cutoff=cutoff).first()
        if existing is not None:
            return RunResult(existing, created=False)
        run = SettlementRun.objects.create(cutoff=cutoff, created_by=by)
        owed = {vendor_id: value for vendor_id, value in _owed_at(cutoff).items() if value[0] > 0}
        previous = dict(
            Settlement.objects.filter(vendor_id__in=owed).values_list("vendor_id").annotate(last=Max("cutoff"))
        )
        numbers = iter(_next_numbers(timezone.localtime(cutoff).year, len(owed)))
        settlements = []
        for vendor_id, (amount, account_id) in sorted(owed.items()):
            start = previous.get(vendor_id)
            statement = _statement(account_id, start, cutoff)
            settlements.append(
                Settlement(
                    run=run, vendor_id=vendor_id, number=next(numbers), period_start=start, cutoff=cutoff,
                    purchases_count=statement.purchases_count, purchases_total=statement.purchases_total,
                    refunds_total=statement.refunds_total,
                    carried_over=amount - (statement.purchases_total - statement.refunds_total),
                    amount=amount, statement={"per_day": statement.per_day, "per_till": statement.per_till},
                )
            )
        Settlement.objects.bulk_create(settlements)
        if not settlements:
            run.status = SettlementRun.Status.EMPTY
        run.message_id = f"CAISSE-{timezone.localtime(cutoff):%Y%m%d%H%M}-{run.pk}"[:35]
        run.save(update_fields=["status", "message_id"])
    return RunResult(run, created=True)


def vendor_payable(vendor: Vendor) -> bool:
    """Whether a credit transfer can reach the vendor: a valid IBAN and BIC."""
    return iban_valid(vendor.iban or "") and bic_valid(vendor.bic or "")


# The four-eyes steps of a run's life (registered in VendorsConfig.ready).
SETTLEMENT_PAYMENT = "settlement_payment"
SETTLEMENT_CONFIRMATION = "settlement_confirmation"
SETTLEMENT_RETURN = "settlement_return"

# Settlements whose amount is promised to the vendor but not yet paid by the bank.
UNPAID = (Settlement.Status.PENDING, Settlement.Status.COMMITTED)


def request_payment(run: SettlementRun, *, by, reason: str = "") -> Approval:
    """First coordinator: asks to pay the run; a second one approves (approvals.approve).
    Refused while the fund's bank account is not configured: no file could be made."""
    if run.status != SettlementRun.Status.AWAITING_APPROVAL:
        raise SettlementError(_("This run has nothing left to pay."))
    fund.bank_account()
    return approvals.request(
        SETTLEMENT_PAYMENT, run.pk, by=by,
        reason=reason or _("Payment of the settlement run of %(cutoff)s") % {
            "cutoff": timezone.localtime(run.cutoff).strftime("%Y-%m-%d %H:%M")},
    )


def execute_payment(approval: Approval, at: datetime | None = None) -> str:
    run = SettlementRun.objects.get(pk=int(approval.target))
    committed, carried = approve_run(run, approval=approval, at=at)
    # Shown to the coordinators on the approvals page: their language, not the code's.
    return _("%(committed)s; %(carried)s.") % {
        "committed": ngettext("%(n)s shop in the payment file", "%(n)s shops in the payment file", committed)
        % {"n": committed},
        "carried": ngettext("%(n)s carried over to the next run (no valid IBAN)",
                            "%(n)s carried over to the next run (no valid IBAN)", carried) % {"n": carried},
    }


def approve_run(run: SettlementRun, *, approval: Approval | None, at: datetime | None = None) -> tuple[int, int]:
    """The second coordinator's approval: each settlement goes into the payment file
    (committed, its vendor's IBAN fixed) or, without a valid IBAN, is carried over. No
    money moves yet: a settlement is paid when the bank confirms it (`confirm_paid`).
    """
    approvals.require(approval, SETTLEMENT_PAYMENT, run.pk)
    fund.bank_account()  # the approval is refused (rolled back) while no file can be made
    committed = carried = 0
    with transaction.atomic():
        run = SettlementRun.objects.select_for_update().get(pk=run.pk)
        if run.status != SettlementRun.Status.AWAITING_APPROVAL:
            return 0, 0
        now = at or timezone.now()
        for settlement in run.settlements.select_related("vendor").select_for_update(of=("self",)).filter(
            status=Settlement.Status.PENDING
        ).order_by("number"):
            vendor = settlement.vendor
            if not vendor_payable(vendor):
                settlement.status = Settlement.Status.CARRIED
                settlement.save(update_fields=["status"])
                carried += 1
                continue
            settlement.status = Settlement.Status.COMMITTED
            settlement.iban, settlement.bic = compact(vendor.iban), compact(vendor.bic)
            settlement.save(update_fields=["status", "iban", "bic"])
            committed += 1
        run.status, run.approved_at = SettlementRun.Status.APPROVED, now
        if not committed:
            run.status, run.paid_at = SettlementRun.Status.PAID, now
        run.save(update_fields=["status", "approved_at", "paid_at"])
    return committed, carried


def mark_file_issued(run: SettlementRun, *, at: datetime | None = None) -> None:
    """The payment file left for the bank (downloaded): the run now waits for the bank."""
    at = at or timezone.now()
    if SettlementRun.objects.filter(pk=run.pk, status=SettlementRun.Status.APPROVED).update(
            status=SettlementRun.Status.FILE_ISSUED, file_issued_at=at):
        run.status, run.file_issued_at = SettlementRun.Status.FILE_ISSUED, at


def _close_if_settled(run_id: int, now: datetime) -> None:
    """A run is paid once the bank has paid or returned each of its lines."""
    if not Settlement.objects.filter(run_id=run_id, status=Settlement.Status.COMMITTED).exists():
        SettlementRun.objects.filter(
            pk=run_id, status__in=[SettlementRun.Status.APPROVED, SettlementRun.Status.FILE_ISSUED]
        ).update(status=SettlementRun.Status.PAID, paid_at=now)


def _lock_run(run_id: int) -> SettlementRun:
    return SettlementRun.objects.select_for_update().get(pk=run_id)


def _pay(settlement: Settlement, *, value_date: date, bank_reference: str, now: datetime) -> bool:
    """The bank paid this line: its units are retired and its euros leave the treasury,
    dated at the bank's value date. Once: a second confirmation finds it paid."""
    if settlement.status != Settlement.Status.COMMITTED:
        return False
    accounts = {kind: ledger.system_account(kind).pk for kind in (
        AccountKind.ISSUANCE, AccountKind.TREASURY, AccountKind.REIMBURSEMENTS)}
    units = ledger.transfer(
        debit=settlement.vendor.account_id, credit=accounts[AccountKind.ISSUANCE], amount=settlement.amount,
        kind=TransferKind.SETTLEMENT, idempotency_key=keys.settlement_units(settlement.number),
        memo=f"settlement {settlement.number}", at=now, value_date=value_date,
    )
    euros = ledger.transfer(
        debit=accounts[AccountKind.TREASURY], credit=accounts[AccountKind.REIMBURSEMENTS],
        amount=settlement.amount, kind=TransferKind.REIMBURSEMENT,
        idempotency_key=keys.settlement_euros(settlement.number),
        memo=f"{settlement.vendor.display_name} — {settlement.number}"[:255], at=now, value_date=value_date,
    )
    settlement.status, settlement.paid_at, settlement.value_date = Settlement.Status.PAID, now, value_date
    settlement.bank_reference = bank_reference[:140]
    settlement.units_transfer_id, settlement.euros_transfer_id = units.transfer.pk, euros.transfer.pk
    settlement.save(update_fields=["status", "paid_at", "value_date", "bank_reference", "units_transfer",
                                   "euros_transfer"])
    return True


def _check_bank_date(run: SettlementRun, value_date: date) -> None:
    if value_date > timezone.localdate():
        raise SettlementError(_("The bank's date cannot be in the future."))
    if run.approved_at and value_date < timezone.localdate(run.approved_at):
        raise SettlementError(_("The bank cannot have paid this run before it was approved."))


def confirm_paid(run: SettlementRun, *, value_date: date, bank_reference: str,
                 numbers: list[str] | None = None, at: datetime | None = None) -> int:
    """The bank's statement shows the run paid (one line for the file, by its PmtInfId),
    or the settlements `numbers` (line by line, by EndToEndId). Returns how many became
    paid now: confirming again pays nothing twice. `at` dates the transfers' creation (the
    demo's history); the books date them by `value_date`."""
    now = at or timezone.now()
    with transaction.atomic():
        run = _lock_run(run.pk)
        if run.status not in (SettlementRun.Status.APPROVED, SettlementRun.Status.FILE_ISSUED,
                              SettlementRun.Status.PAID):
            raise SettlementError(_("This run has not been approved: the bank cannot have paid it."))
        _check_bank_date(run, value_date)
        lines = run.settlements.select_related("vendor").select_for_update(of=("self",)).order_by("number")
        if numbers is not None:
            lines = lines.filter(number__in=numbers)
        paid = sum(_pay(line, value_date=value_date, bank_reference=bank_reference, now=now) for line in lines)
        _close_if_settled(run.pk, now)
    return paid


def request_bank_confirmation(run: SettlementRun, *, value_date: date, by, reason: str) -> Approval:
    """For a bank without camt.053: a coordinator enters the date the bank paid the run,
    read on its statement; it takes effect when a second coordinator approves."""
    run = SettlementRun.objects.get(pk=run.pk)
    if run.status != SettlementRun.Status.FILE_ISSUED:
        raise SettlementError(_("Only a run whose payment file was issued can be confirmed as paid."))
    _check_bank_date(run, value_date)
    return approvals.request(SETTLEMENT_CONFIRMATION, f"{run.pk}:{value_date.isoformat()}", by=by, reason=reason)


def pending_confirmation(run: SettlementRun) -> Approval | None:
    return Approval.objects.filter(action=SETTLEMENT_CONFIRMATION, target__startswith=f"{run.pk}:",
                                   status=Approval.Status.PENDING).first()


def execute_bank_confirmation(approval: Approval, at: datetime | None = None) -> str:
    approvals.require(approval, SETTLEMENT_CONFIRMATION, approval.target)
    run_id, day = approval.target.split(":", 1)
    paid = confirm_paid(SettlementRun.objects.get(pk=int(run_id)), value_date=date.fromisoformat(day),
                        bank_reference=f"approval {approval.pk}", at=at)
    return f"{paid} settlements paid on {day}"


def record_return(settlement: Settlement, *, returned_on: date, reason: str, bank_reference: str) -> bool:
    """The bank returned this line (closed account, wrong IBAN): the vendor is owed it
    again. Paid, its two transfers are reversed (the units back on the vendor's account,
    the euros back in the treasury); committed, nothing had moved. The next run takes it.
    Returns False when the return was already recorded."""
    now = timezone.now()
    with transaction.atomic():
        _lock_run(settlement.run_id)
        settlement = Settlement.objects.select_related("vendor").select_for_update(of=("self",)).get(pk=settlement.pk)
        if settlement.status == Settlement.Status.RETURNED:
            return False
        if settlement.status not in (Settlement.Status.COMMITTED, Settlement.Status.PAID):
            raise SettlementError(_("Only a settlement sent to the bank can be returned by it."))
        if returned_on > timezone.localdate():
            raise SettlementError(_("The bank's date cannot be in the future."))
        if settlement.status == Settlement.Status.PAID:
            for transfer_id in (settlement.units_transfer_id, settlement.euros_transfer_id):
                ledger.reverse(transfer_id, memo=f"settlement {settlement.number} returned by the bank",
                               value_date=returned_on)
        settlement.status, settlement.returned_on = Settlement.Status.RETURNED, returned_on
        settlement.return_reason = (reason or "")[:255]
        settlement.bank_reference = (bank_reference or settlement.bank_reference)[:140]
        settlement.save(update_fields=["status", "returned_on", "return_reason", "bank_reference"])
        _close_if_settled(settlement.run_id, now)
    return True


def request_return(settlement: Settlement, *, returned_on: date, by, reason: str) -> Approval:
    """A return read on a paper statement: entered by one coordinator, applied by a second."""
    if settlement.status not in (Settlement.Status.COMMITTED, Settlement.Status.PAID):
        raise SettlementError(_("Only a settlement sent to the bank can be returned by it."))
    if returned_on > timezone.localdate():
        raise SettlementError(_("The bank's date cannot be in the future."))
    return approvals.request(SETTLEMENT_RETURN, f"{settlement.pk}:{returned_on.isoformat()}", by=by, reason=reason)


def execute_return(approval: Approval) -> str:
    approvals.require(approval, SETTLEMENT_RETURN, approval.target)
    settlement_id, day = approval.target.split(":", 1)
    settlement = Settlement.objects.get(pk=int(settlement_id))
    record_return(settlement, returned_on=date.fromisoformat(day), reason=approval.reason,
                  bank_reference=f"approval {approval.pk}")
    return f"settlement {settlement.number} returned on {day}"


# --- Reads ------------------------------------------------------------------------------


def vendor_settlements(vendor: Vendor, limit: int = 12):
    """A vendor's settlements, newest first: what its dashboard lists."""
    return list(vendor.settlements.order_by("-cutoff", "-id")[:limit])


def statement_purchases(settlement: Settlement):
    """The purchases of a settlement's statement (references, tills), for its CSV."""
    purchases = Purchase.objects.filter(vendor_id=settlement.vendor_id, created_at__lt=settlement.cutoff)
    if settlement.period_start:
        purchases = purchases.filter(created_at__gte=settlement.period_start)
    return purchases.order_by("created_at", "id")


def statement_csv(settlement: Settlement) -> str:
    """The statement as CSV (semicolons and comma decimals: what French spreadsheets open)."""
    def euros(cents):
        return f"{cents / 100:.2f}".replace(".", ",")

    rows = []
    rows.append([_("Settlement"), settlement.number])
    rows.append([_("Vendor"), settlement.vendor.display_name])
    rows.append([_("From"), timezone.localtime(settlement.period_start).isoformat() if settlement.period_start else ""])
    rows.append([_("To (cut-off)"), timezone.localtime(settlement.cutoff).isoformat()])
    rows.append([_("Purchases"), settlement.purchases_count, euros(settlement.purchases_total)])
    rows.append([_("Refunds"), "", euros(settlement.refunds_total)])
    rows.append([_("Carried over"), "", euros(settlement.carried_over)])
    rows.append([_("Amount"), "", euros(settlement.amount)])
    rows.append([_("Status"), settlement.get_status_display()])
    rows.append([])
    rows.append([_("Day"), _("Purchases"), _("Total"), _("Refunded")])
    for row in settlement.statement.get("per_day", []):
        rows.append([row["day"], row["count"], euros(row["total"]), euros(row["refunded"])])
    rows.append([])
    rows.append([_("Till"), _("Purchases"), _("Total"), _("Refunded")])
    for row in settlement.statement.get("per_till", []):
        rows.append([row["till"], row["count"], euros(row["total"]), euros(row["refunded"])])
    rows.append([])
    rows.append([_("Date"), _("Till"), _("Reference"), _("Card"), _("Amount"), _("Refunded")])
    for purchase in statement_purchases(settlement).iterator():
        rows.append([timezone.localtime(purchase.created_at).isoformat(timespec="seconds"), purchase.till,
                         purchase.reference, purchase.paid_with, euros(purchase.amount),
                         euros(purchase.refunded)])
    return kernel_csv.text(rows)
