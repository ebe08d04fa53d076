"""Contributions by SEPA direct debit (SDD Core): mandates, the monthly collection file
(pain.008), its confirmation and the bank's returns.

1. `record_mandate()` keeps the mandate a household signed (reference, date of signature,
   the debtor's name, IBAN and BIC, checked by their check digits); a new one replaces
   the one in force.
2. `prepare_collection(period)` lists, for each household with a mandate in force, what it
   chose to pay for the period (`contribution_for`, less what it already paid for it),
   FRST for a mandate's first debit and RCUR after; `collection_file()` writes the
   pain.008 the fund sends its bank, validated against the official XSD sepaxml ships.
3. `confirm_collection()`, once the bank has collected, records each debit as a
   contribution paid (`record_payment`, keyed `contribution:sepa:<mandate>:<period>`, so a
   repeat moves nothing).
4. `record_rejection(mandate, period, reason)`: the bank returned a debit (R-transaction).
   The payment is kept and marked rejected, its ledger transfer is reversed, and the
   month counts as arrears again (`contributions.arrears` ignores rejected payments).
   Returns come up to 8 weeks after the collection (13 months when unauthorised): a later
   one is refused (`late_return`), see RETURN_WINDOWS.
5. `prepare_representation(period)`: the returned debits of a month presented again, as
   a new collection of the same month (its presentation number in the payment's key).
A collection is not confirmed before its collection date: the bank has not collected yet.

Why a bank return is reversed without a second coordinator (four eyes): the reversals
that need two coordinators are corrections a person decides (`approvals.request_reversal`);
a return is a fact reported by the bank — the money has already left the fund's account.
Holding it for an approval would only leave the books disagreeing with the bank
meanwhile. It still goes through the one reversal path (`ledger.reverse`: a new transfer
that references the first, at most once), and who recorded it, when and the bank's
reason code stay on the payment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from sepaxml import SepaDD

from allocations import fund, ledger, periods
from kernel.banking import compact
from kernel.errors import DomainError

from .contributions import contribution_for, idempotency_key, record_payment, suspended
from .models import (
    ContributionPayment,
    DirectDebit,
    DirectDebitCollection,
    DirectDebitMandate,
    Household,
)

# The version the EPC SDD rulebook requires since November 2023.
SCHEMA = "pain.008.001.08"
# Days between making the file and the collection date the bank still accepts.
LEAD_DAYS = 2
COLLECTED_STATUSES = (Household.Status.ACTIVE, Household.Status.PAUSED)

# The usual reasons of SEPA returns (ISO 20022 codes); any other 4-character code is kept as is.
REASONS = {
    "AC01": gettext_lazy("IBAN incorrect"),
    "AC04": gettext_lazy("account closed"),
    "AC06": gettext_lazy("account blocked"),
    "AG01": gettext_lazy("direct debit forbidden on this account"),
    "AM04": gettext_lazy("insufficient funds"),
    "MD01": gettext_lazy("no valid mandate"),
    "MD06": gettext_lazy("refund requested by the debtor"),
    "MD07": gettext_lazy("debtor deceased"),
    "MS02": gettext_lazy("refused by the debtor"),
    "MS03": gettext_lazy("reason not specified"),
    "SL01": gettext_lazy("specific service of the debtor's bank"),
}


# How late the bank may send a debit back (SEPA SDD Core rulebook, R-transactions): a
# debit the payer had authorised (a mandate in force) may be refunded on request, no
# questions asked, up to 8 weeks after it was collected (MD06); rejects and returns by the
# payer's bank (AM04, AC04...) come within days, well inside those 8 weeks. Only a debit
# the payer never authorised — no valid mandate, MD01, "unauthorised transaction" — may be
# claimed back for 13 months. So MD01 is the one unauthorised code; every other code gets
# the 8 weeks. Later than that the bank should not have debited the fund: the return is
# refused (the coordinator disputes it with the bank), never booked.
UNAUTHORISED_REASONS = frozenset({"MD01"})
AUTHORISED_RETURN_DAYS = 8 * 7
UNAUTHORISED_RETURN_MONTHS = 13


def return_deadline(collected_on: date, reason: str) -> date:
    """The last day the bank may return a debit collected on `collected_on` for `reason`."""
    if compact(reason) in UNAUTHORISED_REASONS:
        index = collected_on.year * 12 + collected_on.month - 1 + UNAUTHORISED_RETURN_MONTHS
        year, month = divmod(index, 12)
        month += 1
        last = periods.last_day(f"{year:04d}-{month:02d}").day
        return date(year, month, min(collected_on.day, last))
    return collected_on + timedelta(days=AUTHORISED_RETURN_DAYS)


def reason_label(code: str) -> str:
    """A return's reason as coordinators read it: the code (what the bank says) and its words."""
    label = REASONS.get(code)
    return f"{code} — {label}" if label else code


class DirectDebitError(DomainError, ValidationError):
    """A ValidationError too: the forms and views that show these catch ValidationError."""

    code = "direct_debit_refused"


@dataclass(frozen=True)
class CollectionFile:
    filename: str
    content: bytes
    count: int
    total: int  # cents


# --- Mandates --------------------------------------------------------------------------


@transaction.atomic
def record_mandate(
    household: Household, *, reference: str, signed_on: date, debtor_name: str, iban: str, bic: str = "", by=None
) -> DirectDebitMandate:
    """Record the mandate a household signed; the one in force before is revoked today."""
    if household.erased_at is not None:
        raise DirectDebitError(_("This household's data has been erased."))
    mandate = DirectDebitMandate(
        household=household,
        reference=(reference or "").strip(),
        signed_on=signed_on,
        debtor_name=(debtor_name or "").strip(),
        iban=compact(iban),
        bic=compact(bic),
        created_by=by,
    )
    if signed_on and signed_on > timezone.localdate():
        raise DirectDebitError(_("A mandate cannot be signed in the future."))
    mandate.full_clean(exclude=["household"])
    DirectDebitMandate.objects.filter(household=household, revoked_on__isnull=True).update(
        revoked_on=timezone.localdate()
    )
    mandate.save()
    return mandate


def revoke_mandate(mandate: DirectDebitMandate, *, on: date | None = None) -> DirectDebitMandate:
    if mandate.revoked_on is None:
        mandate.revoked_on = on or timezone.localdate()
        mandate.save(update_fields=["revoked_on"])
    return mandate


# --- The monthly collection ------------------------------------------------------------


def collection_date_for(period: str, *, today: date | None = None) -> date:
    """The setting's day of the period's month (the month's last day at most), or the
    earliest date the bank still accepts when that is already too close."""
    first = periods.parse(period)
    day = min(max(fund.current().collection_day, 1), periods.last_day(period).day)
    wanted = first.replace(day=day)
    earliest = (today or timezone.localdate()) + timedelta(days=LEAD_DAYS)
    return max(wanted, earliest)


def sequence_for(mandate: DirectDebitMandate) -> str:
    """FRST until a debit under the mandate has been collected (and not returned)."""
    collected = ContributionPayment.objects.filter(
        method=ContributionPayment.Method.DIRECT_DEBIT, mandate_reference=mandate.reference, rejected_at__isnull=True
    ).exists()
    return DirectDebit.Sequence.RECURRING if collected else DirectDebit.Sequence.FIRST


@transaction.atomic
def prepare_collection(period: str, *, by=None, collection_date: date | None = None) -> DirectDebitCollection:
    """The period's collection, (re)built from the mandates in force until it is confirmed."""
    try:
        periods.parse(period)
    except periods.InvalidPeriod as error:
        raise DirectDebitError(str(error))
    collection_date = collection_date or collection_date_for(period)
    collection = DirectDebitCollection.objects.select_for_update().filter(period=period, presentation=1).first()
    if collection is not None and collection.confirmed_at is not None:
        raise DirectDebitError(_("This collection has been confirmed; it can no longer change."))
    if collection is None:
        collection = DirectDebitCollection(period=period)
    collection.collection_date = collection_date
    # A new message id each time it is rebuilt: the bank takes each file as a new one,
    # and refuses the same file sent twice.
    collection.message_id = f"CAISSE-DD-{period}-{secrets.token_hex(4).upper()}"
    collection.created_by, collection.created_at = by, timezone.now()
    collection.save()
    collection.debits.all().delete()

    mandates = (
        DirectDebitMandate.objects.filter(
            revoked_on__isnull=True,
            signed_on__lte=collection_date,
            household__status__in=COLLECTED_STATUSES,
            household__erased_at__isnull=True,
        )
        .select_related("household")
        .order_by("id")
    )
    debits = []
    for mandate in mandates:
        household = mandate.household
        if suspended(household, period):
            continue  # paused when the month began: contributions are suspended
        paid = (
            # What the month's payments still count for: a returned or corrected one, nothing.
            ContributionPayment.objects.filter(household=household, period=period, reversal__isnull=True).aggregate(
                total=Sum("amount")
            )["total"]
            or 0
        )
        amount = contribution_for(household, period) - paid
        if amount <= 0:
            continue
        debits.append(
            DirectDebit(
                collection=collection,
                mandate=mandate,
                household=household,
                amount=amount,
                sequence=sequence_for(mandate),
                end_to_end_id=f"CAISSE-{period}-{mandate.pk}",
            )
        )
    DirectDebit.objects.bulk_create(debits)
    return collection


def _creditor() -> dict:
    try:
        account = fund.bank_account(creditor=True)
    except fund.BankNotConfigured:
        raise DirectDebitError(
            _("The fund's bank account or SEPA creditor identifier is not configured "
              "(FUND_BANK_IBAN, FUND_BANK_BIC, FUND_SEPA_CREDITOR_ID).")
        )
    return {
        "name": account.name,
        "IBAN": account.iban,
        "BIC": account.bic,
        "batch": True,
        "creditor_id": account.creditor_id,
        "currency": "EUR",
    }


def collection_file(collection: DirectDebitCollection) -> CollectionFile:
    """The pain.008 of the collection, validated against the official XSD (an invalid
    file raises, it is never returned)."""
    debits = list(collection.debits.select_related("mandate").order_by("id"))
    if not debits:
        raise DirectDebitError(_("No household has a direct debit to collect for this period."))
    sepa = SepaDD(_creditor(), schema=SCHEMA, clean=True)
    for debit in debits:
        mandate = debit.mandate
        payment = {
            "name": mandate.debtor_name,
            "IBAN": mandate.iban,
            "amount": int(debit.amount),
            "type": debit.sequence,
            "collection_date": collection.collection_date,
            "mandate_id": mandate.reference,
            "mandate_date": mandate.signed_on,
            "description": f"Cotisation {collection.period} {fund.current().name}",
            "endtoend_id": debit.end_to_end_id,
        }
        if mandate.bic:
            payment["BIC"] = mandate.bic
        sepa.add_payment(payment)
    # The collection's id, fixed, instead of sepaxml's random one: the same file downloaded
    # twice is the same file to the bank, which refuses a duplicate instead of collecting twice.
    sepa.msg_id = collection.message_id
    sepa._xml.find("CstmrDrctDbtInitn/GrpHdr/MsgId").text = collection.message_id
    content = sepa.export(validate=True)
    return CollectionFile(
        filename=f"prelevements-{collection.message_id}.xml",
        content=content,
        count=len(debits),
        total=sum(debit.amount for debit in debits),
    )


@transaction.atomic
def confirm_collection(collection: DirectDebitCollection, *, by=None) -> int:
    """The bank collected: each debit becomes a contribution paid. A repeat records nothing
    twice (the payments' keys). Returns how many payments the collection holds."""
    collection = DirectDebitCollection.objects.select_for_update().get(pk=collection.pk)
    if timezone.localdate() < collection.collection_date:
        # The bank collects on that day: before it, nothing has been collected to confirm.
        raise DirectDebitError(
            _("This collection cannot be confirmed before its collection date (%(day)s).")
            % {"day": collection.collection_date.isoformat()})
    recorded = 0
    for debit in collection.debits.select_related("mandate", "household").order_by("id"):
        if debit.household.erased_at is not None:
            continue
        record_payment(
            debit.household,
            amount=debit.amount,
            method=ContributionPayment.Method.DIRECT_DEBIT,
            period=collection.period,
            mandate_reference=debit.mandate.reference,
            mandate_signed_on=debit.mandate.signed_on,
            paid_on=collection.collection_date,
            by=by,
            presentation=collection.presentation,
        )
        recorded += 1
    if collection.confirmed_at is None:
        collection.confirmed_at, collection.confirmed_by = timezone.now(), by
        collection.save(update_fields=["confirmed_at", "confirmed_by"])
    return recorded


# --- Presenting returned debits again -------------------------------------------------


@transaction.atomic
def prepare_representation(period: str, *, by=None, collection_date: date | None = None) -> DirectDebitCollection:
    """The debits of `period` the bank returned, presented again: a new collection of the
    same month (presentation 2, 3...) for each household whose debit was returned and who
    still owes the month, under its mandate in force. Made once per return: while the
    last presentation is not confirmed, it is returned as it is."""
    last = DirectDebitCollection.objects.select_for_update().filter(period=period).order_by("-presentation").first()
    if last is None or last.confirmed_at is None:
        if last is not None and last.presentation > 1:
            return last
        raise DirectDebitError(_("Only a confirmed collection's returned debits can be presented again."))
    returned = (
        ContributionPayment.objects.filter(period=period, method=ContributionPayment.Method.DIRECT_DEBIT,
                                           rejected_at__isnull=False)
        .values_list("household_id", flat=True)
    )
    collection_date = collection_date or collection_date_for(period)
    mandates = (
        DirectDebitMandate.objects.filter(
            household_id__in=list(returned), revoked_on__isnull=True, signed_on__lte=collection_date,
            household__status__in=COLLECTED_STATUSES, household__erased_at__isnull=True,
        ).select_related("household").order_by("id")
    )
    presentation = last.presentation + 1
    debits = []
    for mandate in mandates:
        paid = ContributionPayment.objects.filter(
            household=mandate.household, period=period, rejected_at__isnull=True).aggregate(total=Sum("amount"))
        amount = contribution_for(mandate.household, period) - (paid["total"] or 0)
        if amount > 0:
            debits.append((mandate, amount))
    if not debits:
        raise DirectDebitError(_("No returned debit of %(period)s is still owed.") % {"period": period})
    collection = DirectDebitCollection.objects.create(
        period=period, presentation=presentation, collection_date=collection_date, created_by=by,
        message_id=f"CAISSE-DD-{period}-{presentation}-{secrets.token_hex(4).upper()}",
    )
    DirectDebit.objects.bulk_create(
        DirectDebit(collection=collection, mandate=mandate, household=mandate.household, amount=amount,
                    sequence=sequence_for(mandate), end_to_end_id=f"CAISSE-{period}-{mandate.pk}-{presentation}")
        for mandate, amount in debits
    )
    return collection


# --- The bank's returns ----------------------------------------------------------------


@transaction.atomic
def record_rejection(mandate_reference: str, period: str, reason: str, *, by=None,
                     presentation: int = 1, returned_on: date | None = None) -> ContributionPayment:
    """The bank returned the debit of `mandate_reference` for `period` on `returned_on` (its
    value date; today by default): the payment is marked rejected and its transfer reversed
    at that date (see the module's docstring). A repeat is a no-op. Refused when it comes
    later than the rulebook allows (`return_deadline`)."""
    returned_on = returned_on or timezone.localdate()
    reason = compact(reason)
    if len(reason) != 4 or not reason.isalnum():
        raise DirectDebitError(_("The bank's reason is a code of 4 letters and digits, for example AM04."))
    key = idempotency_key(ContributionPayment.Method.DIRECT_DEBIT, mandate_reference=mandate_reference.strip(),
                          period=period, presentation=presentation)
    payment = ContributionPayment.objects.select_for_update().filter(transfer__idempotency_key=key).first()
    if payment is None:
        raise DirectDebitError(
            _("No direct debit of mandate %(mandate)s for %(period)s has been recorded as collected.")
            % {"mandate": mandate_reference, "period": period}
        )
    if payment.rejected_at is not None:
        return payment
    deadline = return_deadline(payment.paid_on, reason)
    if returned_on > deadline:
        raise DirectDebitError(
            _("Returned too late: a debit collected on %(collected)s may be returned with the reason %(reason)s "
              "until %(deadline)s (%(window)s), not on %(returned)s. Dispute it with the bank.")
            % {"collected": payment.paid_on.isoformat(), "reason": reason, "deadline": deadline.isoformat(),
               "returned": returned_on.isoformat(),
               "window": _("13 months: unauthorised debit") if reason in UNAUTHORISED_REASONS
               else _("8 weeks: authorised debit")},
            code="late_return")
    try:
        posted = ledger.reverse(payment.transfer_id, memo=f"direct debit returned by the bank ({reason}) {period}",
                                value_date=returned_on)
    except ledger.InsufficientFunds:
        raise DirectDebitError(_("The treasury does not hold this amount: the return cannot be recorded."))
    payment.rejected_at, payment.rejection_reason, payment.rejection_recorded_by = timezone.now(), reason, by
    payment.reversal_id = posted.transfer.pk
    payment.save(update_fields=["rejected_at", "rejection_reason", "rejection_recorded_by", "reversal"])
    return payment
