"""Applying to the fund, and a household's status from applicant to exit."""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Lower, Right, Trim
from django.utils import timezone
from django.utils.translation import gettext as _

from allocations import keys, ledger
from allocations.models import AccountKind, TransferKind

from .models import Card, DeskAction, ExitReason, Household, HouseholdStatusChange, PauseReason, Person
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


# No 0/O, 1/I: the code is read from paper and typed on a phone.
DRAW_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
DRAW_CODE_LENGTH = 10  # 50 bits: out of reach of guessing behind the check page's rate limit


def new_draw_code() -> str:
    return "".join(secrets.choice(DRAW_CODE_ALPHABET) for _ in range(DRAW_CODE_LENGTH))


def normalise_draw_code(typed: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", (typed or "").upper())


def display_draw_code(code: str) -> str:
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


# --- Possible duplicates ----------------------------------------------------------------

PHONE_DIGITS = 9  # a French number without its 0 or +33: what two spellings share


def _phone_tail(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    return digits[-PHONE_DIGITS:] if len(digits) >= PHONE_DIGITS else ""


def _plain(text: str) -> str:
    """Lower case, single spaces: how two spellings of a name or an address compare."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"\s+", " ", text).strip().casefold()


def possible_duplicates(household: Household) -> list[str]:
    """References of other applications with the same phone, e-mail, or applicant's
    name and address. Never merged: a social worker may apply for several households
    from one phone; a person decides."""
    condition = Q(pk__in=[])
    tail = _phone_tail(household.phone)
    if tail:
        digits = Func(F("phone"), Value(r"\D"), Value(""), Value("g"), function="regexp_replace")
        condition |= Q(pk__in=Household.objects.annotate(tail=Right(digits, PHONE_DIGITS)).filter(tail=tail).values("pk"))
    if household.email:
        condition |= Q(email__iexact=household.email.strip())
    applicant = household.persons.order_by("id").first()
    address = _plain(household.address)
    if applicant is not None and address:
        condition |= Q(
            pk__in=Household.objects.annotate(plain_address=Func(
                Lower(Trim("address")), Value(r"\s+"), Value(" "), Value("g"), function="regexp_replace"))
            .filter(plain_address=address, persons__first_name__iexact=applicant.first_name.strip(),
                    persons__last_name__iexact=applicant.last_name.strip())
            .values("pk")
        )
    return list(
        Household.objects.filter(condition, erased_at__isnull=True).exclude(pk=household.pk)
        .order_by("reference").values_list("reference", flat=True)[:20]
    )


def flag_if_duplicate(household: Household) -> Household:
    found = possible_duplicates(household)
    if found:
        household.duplicate_of = ", ".join(found)[:200]
        household.duplicate_flagged_at = timezone.now()
        household.save(update_fields=["duplicate_of", "duplicate_flagged_at"])
    return household


def awaiting_duplicate_check():
    """Applications flagged as possible duplicates that nobody has cleared yet."""
    return Household.objects.filter(
        duplicate_flagged_at__isnull=False, duplicate_cleared_at__isnull=True, erased_at__isnull=True,
        status=S.APPLICANT,
    )


@transaction.atomic
def clear_duplicate(household: Household, *, by) -> Household:
    """A person at the desk looked: these are different households. The application
    then enters the next draw that closes."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    if household.duplicate_flagged_at is None or household.duplicate_cleared_at is not None:
        return household
    household.duplicate_cleared_at, household.duplicate_cleared_by = timezone.now(), by
    household.save(update_fields=["duplicate_cleared_at", "duplicate_cleared_by"])
    DeskAction.objects.create(actor=by, kind=DeskAction.Kind.DUPLICATE_CLEARED, household=household,
                              detail={"looked_like": household.duplicate_of})
    return household


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

        # None when no draw is open: the application then joins the next draw to close.
        fields["cohort"] = current_draw()
    household = create_household(
        reference=f"tmp-{uuid.uuid4().hex[:24]}",
        draw_code=new_draw_code(),
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
    flag_if_duplicate(household)
    if by is not None:
        DeskAction.objects.create(actor=by, kind=DeskAction.Kind.APPLICATION, household=household)
    return household


def set_status(household: Household, status: str, *, by=None, note: str = "", reason: str = "") -> Household:
    """Move a household to `status`, dated and recorded; refuses a move that makes no sense."""
    if status not in TRANSITIONS.get(household.status, set()):
        raise ValidationError(
            _("A household cannot go from “%(from)s” to “%(to)s”.")
            % {"from": S(household.status).label, "to": S(status).label}
        )
    with transaction.atomic():
        change = HouseholdStatusChange.objects.create(
            household=household, status_from=household.status, status_to=status, by=by, note=note[:200],
            reason=reason)
        fields = ["status", "status_changed_at"]
        if status == S.ACTIVE and household.status == S.DRAWN:
            # Membership (allocations and contributions) starts the day the place is taken.
            household.joined_on = timezone.localdate()
            fields.append("joined_on")
        household.status = status
        household.status_changed_at = timezone.now()
        household.save(update_fields=fields)
        if status == S.EXITED:
            # Cards before the wallet, the order a payment takes them in (its PIN's try,
            # then the ledger): a payment at that moment waits, then finds the card blocked.
            _block_cards(household, by=by)
            returned = _return_wallet(household, key=keys.household_exit(household.pk, change.pk))
            if household.status_changes.filter(status_to=S.ACTIVE).exists():  # a member, not an applicant
                from . import notices

                notices.notify_exit(household, returned=returned)
    return household


def _block_cards(household: Household, *, by) -> None:
    from . import cards

    for card in Card.objects.filter(household=household, status=Card.Status.ACTIVE):
        cards.block_card(card, by=by, note="household left the fund")


def _return_wallet(household: Household, *, key: str) -> int:
    """Whatever an exited household's wallet holds returns to the fund (the expiry
    account): no exited wallet counts in circulation. Returns the amount."""
    wallet = household.wallet
    wallet.refresh_from_db()
    if wallet.balance <= 0:
        return 0
    amount = wallet.balance
    ledger.transfer(debit=wallet, credit=ledger.system_account(AccountKind.EXPIRY), amount=amount,
                    kind=TransferKind.EXIT, idempotency_key=key, memo=f"exit {household.reference}")
    return amount


@transaction.atomic
def exit_household(household: Household, *, by=None, note: str = "", reason: str = "") -> Household:
    """The household leaves. What remains in its wallet returns to the fund (the expiry
    account), by a recorded transfer in the same transaction; its cards are blocked; the
    household's money history stays, its personal data until the retention period ends
    (members.privacy.apply_retention)."""
    if reason and reason not in ExitReason.values:
        raise ValidationError(_("Choose a reason from the list."))
    household = Household.objects.select_for_update().get(pk=household.pk)
    set_status(household, S.EXITED, by=by, note=note, reason=reason)
    if by is not None:
        DeskAction.objects.create(actor=by, kind=DeskAction.Kind.EXITED, household=household)
    return household


@transaction.atomic
def pause(household: Household, *, reason: str, by=None, note: str = "") -> Household:
    """No allocation while paused (the issuance takes active households only) and no
    contribution owed for a month that begins paused (contributions.due_periods)."""
    if reason not in PauseReason.values:
        raise ValidationError(_("Choose a reason from the list."))
    household = Household.objects.select_for_update().get(pk=household.pk)
    set_status(household, S.PAUSED, by=by, note=note, reason=reason)
    if by is not None:
        DeskAction.objects.create(actor=by, kind=DeskAction.Kind.PAUSED, household=household)
    return household


@transaction.atomic
def resume(household: Household, *, by=None, note: str = "") -> Household:
    household = Household.objects.select_for_update().get(pk=household.pk)
    set_status(household, S.ACTIVE, by=by, note=note)
    if by is not None:
        DeskAction.objects.create(actor=by, kind=DeskAction.Kind.RESUMED, household=household)
    return household


def exit_transfer(household: Household):
    """The transfer that returned the wallet's balance when the household left, if any."""
    from allocations.models import Transfer

    return Transfer.objects.filter(debit_id=household.wallet_id, kind=TransferKind.EXIT).order_by("id").first()


def return_after_exit(*, wallet_id: int, amount: int, idempotency_key: str) -> bool:
    """In the caller's transaction: money that reached the wallet of a household that
    already left (a shop's refund) goes back to the fund at once. True if it did."""
    exited = Household.objects.filter(wallet_id=wallet_id, status=S.EXITED).values_list("reference", flat=True).first()
    if exited is None:
        return False
    ledger.transfer(debit=wallet_id, credit=ledger.system_account(AccountKind.EXPIRY), amount=amount,
                    kind=TransferKind.EXIT, idempotency_key=idempotency_key, memo=f"exit {exited} (refund)")
    return True
