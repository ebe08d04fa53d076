"""The desk: what a volunteer (or a coordinator) does for a household, each action recorded.

A volunteer finds a household, takes a cash contribution with a numbered receipt, updates
contact details, fills an application in on someone's behalf. Nothing here returns an
income bracket or a chosen contribution: the desk never sees them.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import contributions
from .models import ContributionPayment, Desk, DeskAction, DeskSession, Household

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
    return sum(session.payments.values_list("amount", flat=True))


@transaction.atomic
def close_session(session: DeskSession, *, by, counted_cash: int) -> DeskSession:
    """Close the cash book with the cash counted; the difference is for a coordinator to see."""
    session = DeskSession.objects.select_for_update().get(pk=session.pk)
    if session.closed_at is not None:
        raise ValidationError(_("This desk opening is already closed."))
    if isinstance(counted_cash, bool) or not isinstance(counted_cash, int) or counted_cash < 0:
        raise ValidationError(_("The cash counted must be an amount in euros, zero or more."))
    session.closed_at, session.closed_by, session.counted_cash = timezone.now(), by, counted_cash
    session.save(update_fields=["closed_at", "closed_by", "counted_cash"])
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


def take_cash(session: DeskSession, household: Household, *, amount: int, by, token: str) -> ContributionPayment:
    """A cash contribution at the desk, with the next receipt number of that desk."""
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
