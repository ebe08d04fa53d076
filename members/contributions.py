"""Contributions: what a household chooses to pay, what it paid, what it owes.

The household chooses any monthly amount at or above the fund's minimum (which may grow
with household size); the fund's grid only suggests. Every payment is a ledger transfer
from the `contributions` account into the `treasury`, with a key a retry cannot repeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allocations import keys, ledger, periods
from allocations.models import AccountKind, FundRules, TransferKind
from allocations.rules import NoRulesInForce, rules_for
from kernel.money import format_cents

from .brackets import INCOME_FLOOR
from .models import ContributionChoice, ContributionPayment, Household, Notice

# Default, without a fund rule saying otherwise: a gentle reminder after two months.
REMINDER_AFTER_MONTHS = 2


def rules_or_default(period: str) -> FundRules:
    try:
        return rules_for(period)
    except NoRulesInForce:
        return FundRules()  # the model's defaults: 1 € minimum, no grid


def household_size(household: Household) -> int:
    return household.adults + household.children


def minimum_for(rules: FundRules, size: int) -> int:
    """The fund's minimum monthly contribution for a household of `size` persons, in cents."""
    return rules.minimum_contribution + rules.minimum_contribution_per_extra_person * max(size - 1, 0)


def suggested_for(rules: FundRules, income_bracket: str, size: int) -> int | None:
    """The grid's suggestion for a bracket of income per person (never below the minimum)."""
    if not rules.contribution_grid or income_bracket not in INCOME_FLOOR:
        return None
    income = INCOME_FLOOR[income_bracket]
    for band in rules.contribution_grid:
        ceiling = band["income_per_person_up_to"]
        if ceiling is None or income < ceiling:
            return max(band["suggested"], minimum_for(rules, size))
    return None


def grid_for(rules: FundRules, size: int) -> list[dict]:
    """The grid as shown to a household: each band with its suggestion for that size."""
    rows, floor = [], 0
    for band in rules.contribution_grid:
        rows.append(
            {
                "from": floor,
                "up_to": band["income_per_person_up_to"],
                "suggested": max(band["suggested"], minimum_for(rules, size)),
            }
        )
        floor = band["income_per_person_up_to"] or floor
    return rows


def contribution_for(household: Household, period: str) -> int:
    """What the household chose to pay for `period`, in cents."""
    choice = (
        ContributionChoice.objects.filter(household=household, effective_from__lte=period)
        .order_by("-effective_from")
        .first()
    )
    return choice.amount if choice else household.monthly_contribution


@transaction.atomic
def choose(household: Household, amount: int, *, by=None, period: str | None = None) -> ContributionChoice:
    """The household's new monthly amount, from the next period (a period that has begun
    keeps what was chosen for it). Refused below the fund's minimum for its size."""
    period = period or periods.shift(periods.current(), 1)
    rules = rules_or_default(period)
    minimum = minimum_for(rules, household_size(household))
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < minimum:
        raise ValidationError(
            _("The monthly contribution must be at least %(minimum)s for a household of %(size)s.")
            % {"minimum": format_cents(minimum), "size": household_size(household)}
        )
    choice, _created = ContributionChoice.objects.update_or_create(
        household=household, effective_from=period, defaults={"amount": amount, "chosen_by": by, "chosen_at": timezone.now()}
    )
    if period <= periods.current():
        Household.objects.filter(pk=household.pk).update(monthly_contribution=amount)
    return choice


def _check_amount(amount) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError(_("The amount must be above zero."))
    return amount


def idempotency_key(method: str, *, token: str = "", reference: str = "", mandate_reference: str = "", period: str = "",
                    presentation: int = 1) -> str:
    """What makes a payment unique, so that a retry finds the first one."""
    if method == ContributionPayment.Method.BANK_TRANSFER:
        if not reference:
            raise ValidationError(_("A bank transfer needs its bank reference."))
        return keys.contribution_transfer(reference)
    if method == ContributionPayment.Method.DIRECT_DEBIT:
        if not mandate_reference:
            raise ValidationError(_("A direct debit needs its mandate reference."))
        return keys.contribution_direct_debit(mandate_reference, period, presentation)
    if not token:
        raise ValidationError(_("This form has expired; please fill it in again."))
    return keys.contribution_at_desk(method, token)


def record_payment(
    household: Household,
    *,
    amount: int,
    method: str,
    period: str | None = None,
    by=None,
    token: str = "",
    reference: str = "",
    mandate_reference: str = "",
    mandate_signed_on=None,
    paid_on=None,
    desk_session=None,
    confirmed_held_cash: bool = False,
    presentation: int = 1,
) -> ContributionPayment:
    """Record a contribution paid and move it into the treasury. A repeat (same bank
    reference, same mandate and period, same form token) returns the first payment."""
    _check_amount(amount)
    if method not in ContributionPayment.Method.values:
        raise ValidationError(_("Unknown payment method “%(method)s”.") % {"method": method})
    period = period or periods.current()
    try:
        periods.parse(period)
    except periods.InvalidPeriod as error:
        raise ValidationError(str(error))
    if method == ContributionPayment.Method.CASH and desk_session is None:
        raise ValidationError(_("Cash is taken at an open desk."))
    if household.erased_at is not None:
        raise ValidationError(_("This household's data has been erased."))
    key = idempotency_key(method, token=token, reference=reference, mandate_reference=mandate_reference, period=period,
                          presentation=presentation)
    existing = ContributionPayment.objects.filter(transfer__idempotency_key=key).first()
    if existing is not None:
        return existing

    with transaction.atomic():
        receipt = desk = None
        if desk_session is not None:
            from .models import Desk, DeskSession

            session = DeskSession.objects.select_related("desk").get(pk=desk_session.pk)
            # Held cash (above the desk's ceiling) is confirmed later, often once the desk closed.
            if session.closed_at is not None and not confirmed_held_cash:
                raise ValidationError(_("This desk opening is closed; open the desk again."))
            # The row lock makes receipt numbers follow each other with no gap: a payment
            # that fails rolls its number back with it.
            desk = Desk.objects.select_for_update().get(pk=session.desk_id)
        posted = ledger.transfer(
            debit=ledger.system_account(AccountKind.CONTRIBUTIONS),
            # Cash stays in the cash box (530) until it is deposited at the bank (512).
            credit=ledger.system_account(
                AccountKind.CASH if method == ContributionPayment.Method.CASH else AccountKind.TREASURY),
            amount=amount,
            kind=TransferKind.CONTRIBUTION,
            idempotency_key=key,
            memo=f"contribution {period}",
            # Paid on a known day (a direct debit's collection date): the books date it so.
            value_date=paid_on,
        )
        if not posted.created:  # a concurrent duplicate finished first
            return ContributionPayment.objects.get(transfer_id=posted.transfer.pk)
        if desk is not None:
            receipt = desk.next_receipt
            desk.next_receipt = receipt + 1
            desk.save(update_fields=["next_receipt"])
        return ContributionPayment.objects.create(
            household=household,
            amount=amount,
            method=method,
            period=period,
            paid_on=paid_on or timezone.localdate(),
            reference=reference,
            mandate_reference=mandate_reference,
            mandate_signed_on=mandate_signed_on,
            desk=desk,
            desk_session=desk_session,
            receipt_number=receipt,
            transfer_id=posted.transfer.pk,
            recorded_by=by,
        )


# --- Correcting a payment recorded by mistake ------------------------------------------

# The four-eyes step of a correction (kernel.four_eyes, registered in MembersConfig.ready()).
CONTRIBUTION_CORRECTION = "contribution_correction"


def request_correction(payment: ContributionPayment, *, by, reason: str):
    """A coordinator asks to cancel a payment recorded by mistake (a typo at the desk, a
    transfer booked twice); it takes effect when a second coordinator approves."""
    from allocations import approvals

    if payment.reversal_id is not None:
        raise ValidationError(_("This payment was already cancelled or returned."), code="state")
    return approvals.request(CONTRIBUTION_CORRECTION, payment.pk, by=by, reason=reason)


def execute_correction(approval) -> str:
    """The second coordinator approved: the payment's transfer is reversed and the payment
    says so, in the approval's transaction; the month counts as unpaid again."""
    from allocations import approvals

    approvals.require(approval, CONTRIBUTION_CORRECTION, approval.target)
    payment = ContributionPayment.objects.select_for_update().get(pk=int(approval.target))
    if payment.reversal_id is not None:
        raise ValidationError(_("This payment was already cancelled or returned."), code="state")
    posted = ledger.reverse(payment.transfer_id, memo=f"correction of contribution #{payment.pk}: {approval.reason}"[:255])
    payment.reversal_id = posted.transfer.pk
    payment.corrected_at = timezone.now()
    payment.correction_reason = approval.reason
    payment.save(update_fields=["reversal", "corrected_at", "correction_reason"])
    return _("cancelled by transfer n° %(id)s") % {"id": posted.transfer.pk}


@dataclass
class Arrears:
    amount: int = 0  # cents owed for the months that are over
    months: int = 0  # months not fully paid, oldest first after what was paid
    unpaid_periods: list[str] = field(default_factory=list)


def due_periods(household: Household, as_of: str | None = None) -> list[str]:
    """The months whose contribution was due: from joining to the last month that is
    over (so nothing is owed for the month in progress, joining day included), except
    the months that began while the household was paused (no allocation, no contribution).
    The one count of what is owed: the portal, the desk and the reminders all read it."""
    if household.status not in (Household.Status.ACTIVE, Household.Status.PAUSED) or household.joined_on is None:
        return []
    last = periods.shift(as_of or periods.current(), -1)
    first = periods.of(household.joined_on)
    if first > last:
        return []
    due = periods.between(first, last)
    changes = _pause_changes(household)
    if not changes:
        return due
    return [period for period in due if not _paused_at(changes, _first_moment(period))]


def suspended(household: Household, period: str) -> bool:
    """True when `period` began while the household was paused: nothing is owed for it,
    and no direct debit collects it."""
    return _paused_at(_pause_changes(household), _first_moment(period))


def _pause_changes(household: Household) -> list:
    return list(household.status_changes.filter(
        models.Q(status_to=Household.Status.PAUSED) | models.Q(status_from=Household.Status.PAUSED)
    ).order_by("at", "id").values_list("at", "status_to"))


def _first_moment(period: str) -> datetime:
    return timezone.make_aware(datetime.combine(periods.parse(period), time.min))


def _paused_at(changes: list, moment) -> bool:
    paused = False
    for at, status_to in changes:
        if at >= moment:
            break
        paused = status_to == Household.Status.PAUSED
    return paused


def arrears(household: Household, as_of: str | None = None) -> Arrears:
    """What the household owes: payments cover the oldest months first."""
    due = due_periods(household, as_of)
    if not due:
        return Arrears()
    # A direct debit the bank returned, or a payment corrected under four eyes, was
    # reversed: it paid nothing.
    paid = sum(household.payments.filter(reversal__isnull=True).values_list("amount", flat=True))
    result = Arrears()
    for period in due:
        expected = contribution_for(household, period)
        covered = min(paid, expected)
        paid -= covered
        if covered < expected:
            result.amount += expected - covered
            result.months += 1
            result.unpaid_periods.append(period)
    return result


def monthly_statement(household: Household, period: str) -> dict:
    """One month for one household: what it chose, what it paid, what it owes."""
    periods.parse(period)
    payments = list(household.payments.filter(period=period).order_by("paid_on", "id"))
    return {
        "period": period,
        "chosen": contribution_for(household, period),
        "payments": payments,
        "paid": sum(payment.amount for payment in payments if payment.reversal_id is None),
        # What is owed by the end of that month, the month in progress never included.
        "arrears": arrears(household, min(periods.shift(period, 1), periods.current())),
    }


def remind_arrears(period: str | None = None, *, after_months: int = REMINDER_AFTER_MONTHS) -> int:
    """The gentle reminder: a notice (once a period) to each household with `after_months`
    months or more unpaid. What else arrears do is the fund's rule; by default nothing."""
    from django.conf import settings
    from django.utils.translation import override

    period = period or periods.current()
    sent = 0
    with override(settings.LANGUAGE_CODE):
        text = _(
            "We have not received your contribution for a while. If paying is difficult, come and see us at the "
            "desk: you can change the amount at any time."
        )
    candidates = Household.objects.filter(status=Household.Status.ACTIVE, erased_at__isnull=True)
    for household in candidates.iterator(chunk_size=500):
        if arrears(household, period).months >= after_months:
            _notice, created = Notice.objects.get_or_create(
                household=household, kind=Notice.Kind.ARREARS_REMINDER, period=period, defaults={"text": text}
            )
            sent += created
    return sent


def apply_arrears_policy(period: str | None = None) -> int:
    """Under the fund's `pause` rule, pause the households whose unpaid months exceed the
    grace period (they then receive no allocation until the desk reactivates them).
    Under the default rule, nothing happens. Returns how many were paused."""
    from allocations.models import ArrearsPolicy

    from . import enrolment

    period = period or periods.current()
    rules = rules_or_default(period)
    if rules.arrears_policy != ArrearsPolicy.PAUSE_AFTER_GRACE:
        return 0
    paused = 0
    candidates = Household.objects.filter(status=Household.Status.ACTIVE, erased_at__isnull=True)
    for household in candidates.iterator(chunk_size=500):
        owed = arrears(household, period)
        if owed.months > rules.arrears_grace_months:
            enrolment.set_status(
                household,
                Household.Status.PAUSED,
                note=f"arrears: {owed.months} months unpaid, beyond the fund's grace of {rules.arrears_grace_months}",
            )
            paused += 1
    return paused
