"""Applying to the fund, and a household's status from applicant to exit."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allocations import keys, ledger
from allocations.models import AccountKind, TransferKind

from .models import DeskAction, Household, HouseholdStatusChange, Person
from .services import create_household

S = Household.Status
# Which status may follow which.
TRANSITIONS = {
    S.APPLICANT: {S.DRAWN, S.WAITLISTED, S.EXITED},
    S.DRAWN: {S.ACTIVE, S.WAITLISTED, S.EXITED},
    S.WAITLISTED: {S.DRAWN, S.EXITED},
    S.ACTIVE: {S.PAUSED, S.EXITED},
    S.PAUSED: {S.ACTIVE, S.EXITED},
    S.EXITED: set(),
}


def reference_for(pk: int) -> str:
    """A household's reference, which is also its application number."""
    return f"F{pk:06d}"


@transaction.atomic
def apply(*, persons: list[dict], by=None, **fields) -> Household:
    """Record an application: a household in status `applicant` with its persons.

    `persons` are dicts of first_name, last_name, birth_year, is_adult; the first is the
    applicant. `by` is the desk volunteer or coordinator who filled it in on someone's
    behalf (recorded), None for the public form.
    """
    adults = sum(1 for person in persons if person.get("is_adult", True))
    if adults < 1:
        raise ValidationError(_("A household needs at least one adult."))
    if "cohort" not in fields:
        from .lottery import current_draw

        fields["cohort"] = current_draw()
    household = create_household(
        reference=f"tmp-{uuid.uuid4().hex[:24]}",
        adults=adults,
        children=len(persons) - adults,
        status=S.APPLICANT,
        applied_on=timezone.localdate(),
        status_changed_at=timezone.now(),
        **fields,
    )
    household.reference = reference_for(household.pk)
    household.save(update_fields=["reference"])
    Person.objects.bulk_create(
        Person(
            household=household,
            first_name=person["first_name"],
            last_name=person.get("last_name", ""),
            birth_year=person.get("birth_year"),
            is_adult=person.get("is_adult", True),
        )
        for person in persons
    )
    HouseholdStatusChange.objects.create(household=household, status_to=S.APPLICANT, by=by)
    if by is not None:
        DeskAction.objects.create(actor=by, kind=DeskAction.Kind.APPLICATION, household=household)
    return household


def set_status(household: Household, status: str, *, by=None, note: str = "") -> Household:
    """Move a household to `status`, dated and recorded; refuses a move that makes no sense."""
    if status not in TRANSITIONS.get(household.status, set()):
        raise ValidationError(
            _("A household cannot go from “%(from)s” to “%(to)s”.")
            % {"from": S(household.status).label, "to": S(status).label}
        )
    with transaction.atomic():
        change = HouseholdStatusChange.objects.create(
            household=household, status_from=household.status, status_to=status, by=by, note=note)
        fields = ["status", "status_changed_at"]
        if status == S.ACTIVE and household.status == S.DRAWN:
            # Membership (allocations and contributions) starts the day the place is taken.
            household.joined_on = timezone.localdate()
            fields.append("joined_on")
        household.status = status
        household.status_changed_at = timezone.now()
        household.save(update_fields=fields)
        if status == S.EXITED:
            _return_wallet(household, key=keys.household_exit(household.pk, change.pk))
    return household


def _return_wallet(household: Household, *, key: str) -> None:
    """Whatever an exited household's wallet holds returns to the fund (the expiry
    account): no exited wallet counts in circulation."""
    wallet = household.wallet
    wallet.refresh_from_db()
    if wallet.balance > 0:
        ledger.transfer(debit=wallet, credit=ledger.system_account(AccountKind.EXPIRY), amount=wallet.balance,
                        kind=TransferKind.EXIT, idempotency_key=key, memo=f"exit {household.reference}")


@transaction.atomic
def exit_household(household: Household, *, by=None, note: str = "") -> Household:
    """The household leaves. What remains in its wallet returns to the fund (the expiry
    account), by a recorded transfer; the household's money history stays."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    return set_status(household, S.EXITED, by=by, note=note)


def return_after_exit(*, wallet_id: int, amount: int, idempotency_key: str) -> bool:
    """In the caller's transaction: money that reached the wallet of a household that
    already left (a shop's refund) goes back to the fund at once. True if it did."""
    exited = Household.objects.filter(wallet_id=wallet_id, status=S.EXITED).values_list("reference", flat=True).first()
    if exited is None:
        return False
    ledger.transfer(debit=wallet_id, credit=ledger.system_account(AccountKind.EXPIRY), amount=amount,
                    kind=TransferKind.EXIT, idempotency_key=idempotency_key, memo=f"exit {exited} (refund)")
    return True
