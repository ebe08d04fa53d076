"""The desk: what a volunteer (or a coordinator) does for a household, each action recorded.

A volunteer finds a household, takes a cash contribution with a numbered receipt, updates
contact details, fills an application in on someone's behalf. Nothing here returns an
income bracket or a chosen contribution: the desk never sees them.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from allocations import fund
from kernel import mail
from kernel.money import format_cents
from users import roles

from . import contributions
from .models import ContributionPayment, Desk, DeskAction, DeskSession, HeldCash, Household

CONTACT_FIELDS = ("phone", "email", "address", "postal_code", "district")


def record(actor, kind: str, household: Household | None = None, desk: Desk | None = None, **detail) -> DeskAction:
    return DeskAction.objects.create(actor=actor, kind=kind, household=household, desk=desk, detail=detail)


def open_session(desk: Desk, *, by) -> DeskSession:
    """Open the desk's cash book; a desk has one open at a time."""
    try:
        with transaction.atomic():
            session = DeskSession.objects.create(desk=desk, opened_by=by)
    except IntegrityError:
        raise ValidationError(_("The desk “%(desk)s” is already open.") % {"desk": desk.name})
    record(by, DeskAction.Kind.DESK_OPENED, desk=desk)
    return session


def open_session_of(desk: Desk) -> DeskSession | None:
    return DeskSession.objects.filter(desk=desk, closed_at__isnull=True).first()


def session_total(session: DeskSession) -> int:
    """The cash the desk should hold: payments recorded, and cash held for a coordinator."""
    held = session.held_cash.filter(payment__isnull=True, decided_at__isnull=True).values_list("amount", flat=True)
    return sum(session.payments.values_list("amount", flat=True)) + sum(held)


@transaction.atomic
def confirm_held_cash(held: HeldCash, *, by) -> ContributionPayment:
    """A coordinator confirms cash taken above the ceiling: now it is a payment, with its receipt."""
    if not roles.is_coordinator(by):
        raise PermissionDenied(_("Only a coordinator may confirm this payment."))
    held = HeldCash.objects.select_for_update().select_related("session", "household").get(pk=held.pk)
    if held.payment_id is not None:
        return held.payment
    if held.decided_at is not None:
        raise ValidationError(_("This cash was refused."), code="state")
    payment = contributions.record_payment(
        held.household, amount=held.amount, method=ContributionPayment.Method.CASH, by=held.taken_by,
        token=f"held:{held.token}", desk_session=held.session, confirmed_held_cash=True)
    held.payment, held.decided_by, held.decided_at = payment, by, timezone.now()
    held.save(update_fields=["payment", "decided_by", "decided_at"])
    return payment


def held_cash_waiting():
    """Cash taken above the ceiling that no coordinator has confirmed or refused yet."""
    return HeldCash.objects.filter(payment__isnull=True, decided_at__isnull=True)


@transaction.atomic
def refuse_held_cash(held: HeldCash, *, by, reason: str) -> HeldCash:
    """A coordinator refuses cash taken above the ceiling (a mistyped amount, cash that is not
    there): nothing enters the books, the reason is kept. Refusing it again changes nothing."""
    if not roles.is_coordinator(by):
        raise PermissionDenied(_("Only a coordinator may refuse this payment."))
    if not (reason or "").strip():
        raise ValidationError(_("Say why this cash is refused."), code="reason")
    held = HeldCash.objects.select_for_update().get(pk=held.pk)
    if held.payment_id is not None:
        raise ValidationError(_("This cash was already confirmed: its payment is recorded."), code="state")
    if held.decided_at is None:
        held.refusal_reason, held.decided_by, held.decided_at = reason.strip(), by, timezone.now()
        held.save(update_fields=["refusal_reason", "decided_by", "decided_at"])
    return held


def notify_difference(desk_id: int, difference: int) -> None:
    """Tell the coordinators that a desk closed with a difference (after the commit)."""
    recipients = list(get_user_model().objects.filter(groups__name=roles.COORDINATOR, is_active=True)
                      .exclude(email="").values_list("email", flat=True))
    if recipients:
        desk = Desk.objects.get(pk=desk_id)
        subject = _("%(desk)s closed with a difference of %(amount)s") % {"desk": desk.name,
                                                                          "amount": format_cents(difference)}
        body = _("The cash counted differs from the payments recorded. A coordinator must explain it.")
        mail.send_after_commit((subject, body, to) for to in recipients)


def unexplained_differences():
    """Desk closings whose cash counted differs from what was recorded, not yet explained."""
    return DeskSession.objects.filter(closed_at__isnull=False, difference_explained_at__isnull=True).exclude(difference=0)


@transaction.atomic
def explain_difference(session: DeskSession, *, by, explanation: str) -> DeskSession:
    if not roles.is_coordinator(by):
        raise PermissionDenied(_("Only a coordinator may close a desk's difference."))
    if not (explanation or "").strip():
        raise ValidationError(_("Say what explains the difference."), code="explanation")
    session = DeskSession.objects.select_for_update().get(pk=session.pk)
    if session.difference_explained_at is not None:
        # The first explanation stays what the trail shows: no silent rewrite.
        raise ValidationError(_("This difference is already explained."), code="state")
    if session.closed_at is None or not session.difference:
        raise ValidationError(_("This desk opening has no difference to explain."), code="state")
    session.difference_explanation = explanation.strip()
    session.difference_explained_by, session.difference_explained_at = by, timezone.now()
    session.save(update_fields=["difference_explanation", "difference_explained_by", "difference_explained_at"])
    return session


@transaction.atomic
def close_session(session: DeskSession, *, by, counted_cash: int) -> DeskSession:
    """Close the cash book with the cash counted; the difference is for a coordinator to see."""
    session = DeskSession.objects.select_for_update().get(pk=session.pk)
    if session.closed_at is not None:
        raise ValidationError(_("This desk opening is already closed."))
    if isinstance(counted_cash, bool) or not isinstance(counted_cash, int) or counted_cash < 0:
        raise ValidationError(_("The cash counted must be an amount in euros, zero or more."))
    session.closed_at, session.closed_by, session.counted_cash = timezone.now(), by, counted_cash
    session.difference = counted_cash - session_total(session)
    session.save(update_fields=["closed_at", "closed_by", "counted_cash", "difference"])
    if session.difference:
        desk_id, difference = session.desk_id, session.difference
        transaction.on_commit(lambda: notify_difference(desk_id, difference))
    record(by, DeskAction.Kind.DESK_CLOSED, desk=session.desk, receipts=session.payments.count())
    return session


def find(query: str, *, by=None, limit: int = 20) -> list[Household]:
    """Households by reference, card number or name (of anyone in the household)."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    digits = re.sub(r"\D", "", query)
    condition = Q(reference__iexact=query) | Q(persons__last_name__icontains=query) | Q(persons__first_name__icontains=query)
    if len(digits) >= 4:
        condition |= Q(phone__contains=digits)
        try:
            from .models import Card  # the payment cards (issue 4), when they exist

            condition |= Q(pk__in=Card.objects.filter(number__endswith=digits).values("household_id"))
        except ImportError:
            pass
    found = list(
        Household.objects.filter(condition, erased_at__isnull=True).distinct().order_by("reference").prefetch_related("persons")[:limit]
    )
    if by is not None:
        # Recorded without the search text: it may be a name.
        record(by, DeskAction.Kind.SEARCH, results=len(found))
    return found


def cash_ceiling() -> int:
    """The most a desk records for one cash payment (cents) without a coordinator (the
    fund's settings, as they are now)."""
    return fund.cached().desk_cash_ceiling_cents


class CashHeld(ValidationError):
    """The cash is above the ceiling: kept as HeldCash until a coordinator confirms it."""


def take_cash(session: DeskSession, household: Household, *, amount: int, by, token: str) -> ContributionPayment:
    """A cash contribution at the desk, with the next receipt number of that desk.

    Above `cash_ceiling()`, unless a coordinator takes it, nothing enters the books: the
    cash waits (HeldCash) for a coordinator to confirm it, and CashHeld says so."""
    if isinstance(amount, int) and amount > cash_ceiling() and not roles.is_coordinator(by):
        held, _created = HeldCash.objects.get_or_create(
            token=token, defaults={"session": session, "household": household, "amount": amount, "taken_by": by})
        raise CashHeld(
            _("Above %(ceiling)s, a coordinator confirms a cash payment before it is recorded. Keep the cash apart: "
              "it is waiting for a coordinator.") % {"ceiling": format_cents(cash_ceiling())}, code="held")
    payment = contributions.record_payment(
        household, amount=amount, method=ContributionPayment.Method.CASH, by=by, token=token, desk_session=session
    )
    if payment.recorded_by_id == getattr(by, "pk", None) and not DeskAction.objects.filter(
        kind=DeskAction.Kind.CASH, detail__receipt=payment.receipt_label
    ).exists():
        record(by, DeskAction.Kind.CASH, household, session.desk, receipt=payment.receipt_label)
    return payment


@transaction.atomic
def update_contact(household: Household, *, by, **values) -> Household:
    """New phone, e-mail, address or district. Records which fields changed, not their values."""
    unknown = set(values) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError(_("These details cannot be changed at the desk: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    changed = [name for name, value in values.items() if getattr(household, name) != value]
    for name in changed:
        setattr(household, name, values[name])
    if changed:
        household.full_clean(exclude=["wallet", "cohort"], validate_unique=False)
        household.save(update_fields=changed)
        record(by, DeskAction.Kind.CONTACT, household, fields=changed)
    return household
