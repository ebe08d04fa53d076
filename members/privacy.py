"""Data protection: a household's copy of its data, erasure, and retention periods.

Erasure removes personal data everywhere the fund keeps it — the household's contact and
declared brackets, its persons, its logins, its notices, the free text of its history and
of the admin's log — and keeps its money records (contributions paid, ledger transfers)
under the household's reference only, as accounting law requires.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from allocations.models import Transfer
from kernel import csv as kernel_csv

from . import enrolment, signals
from .brackets import AgeBracket, IncomeBracket
from .models import (
    ContributionChoice,
    DeskAction,
    DirectDebitMandate,
    ErasureRequest,
    Household,
    HouseholdStatusChange,
    Notice,
    Person,
)

DEFAULT_RETENTION_DAYS = {
    # Applications that did not lead to membership (waitlisted, declined, withdrawn).
    "applications": 365,
    # Households that left the fund: personal data erased this long after the exit.
    "exited_households": 3 * 365,
    # The desk's record of who did what.
    "desk_actions": 2 * 365,
    # Notices shown in the portal.
    "notices": 365,
}


def retention_days() -> dict[str, int]:
    return {**DEFAULT_RETENTION_DAYS, **getattr(settings, "CAISSE_RETENTION_DAYS", {})}


def _label(choices, value) -> str:
    return str(dict(choices.choices).get(value, value or ""))


def export_data(household: Household) -> dict:
    """Everything the fund holds about the household, readable."""
    household = Household.objects.select_related("wallet").get(pk=household.pk)
    data = {
        "household": {
            "reference": household.reference,
            "status": household.status,
            "applied_on": household.applied_on.isoformat() if household.applied_on else None,
            "joined_on": household.joined_on.isoformat() if household.joined_on else None,
            "adults": household.adults,
            "children": household.children,
            "phone": household.phone,
            "email": household.email,
            "address": household.address,
            "postal_code": household.postal_code,
            "district": household.district,
            "income_bracket": _label(IncomeBracket, household.income_bracket),
            "age_bracket": _label(AgeBracket, household.age_bracket),
            "research_consent": household.research_consent,
            "monthly_contribution_cents": household.monthly_contribution,
            "cohort": household.cohort.cohort if household.cohort_id else None,
            "draw_code": household.draw_code,
            "possible_duplicate_of": household.duplicate_of,
            "status_history": [
                {"at": change.at.isoformat(), "from": change.status_from, "to": change.status_to,
                 "reason": change.reason, "note": change.note}
                for change in household.status_changes.order_by("at", "id")
            ],
        },
        "persons": [
            {
                "first_name": p.first_name,
                "last_name": p.last_name,
                "birth_year": p.birth_year,
                "adult": p.is_adult,
                "login": p.user.username if p.user_id else None,
            }
            for p in household.persons.select_related("user").order_by("id")
        ],
        "status_history": [
            {"from": c.status_from, "to": c.status_to, "at": c.at.isoformat()} for c in household.status_changes.all()
        ],
        "contribution_choices": [
            {"from_period": c.effective_from, "amount_cents": c.amount}
            for c in ContributionChoice.objects.filter(household=household).order_by("effective_from")
        ],
        "contributions_paid": [
            {
                "period": p.period,
                "paid_on": p.paid_on.isoformat(),
                "amount_cents": p.amount,
                "method": p.method,
                "receipt": p.receipt_label,
                "reference": p.reference,
                "mandate_reference": p.mandate_reference,
            }
            for p in household.payments.select_related("desk").order_by("paid_on", "id")
        ],
        "draws": [
            {"cohort": e.draw.cohort, "application_number": e.application_number, "outcome": e.outcome,
             "draw_code": e.secret}
            for e in household.draw_entries.select_related("draw")
        ],
        "wallet": {
            "balance_cents": household.wallet.balance,
            "movements": [
                {
                    "at": t.created_at.isoformat(),
                    "kind": t.kind,
                    "amount_cents": t.amount if t.credit_id == household.wallet_id else -t.amount,
                }
                for t in Transfer.objects.filter(Q(debit=household.wallet) | Q(credit=household.wallet)).order_by("id")
            ],
        },
        "notices": [{"at": n.created_at.isoformat(), "text": n.text} for n in household.notices.order_by("created_at")],
        "erasure_requests": [
            {"requested_at": r.requested_at.isoformat(), "status": r.status} for r in household.erasure_requests.all()
        ],
    }
    try:
        from .models import Card

        data["cards"] = [
            {"last4": c.number[-4:], "status": c.status, "issued_at": c.issued_at.isoformat()}
            for c in Card.objects.filter(household=household)
        ]
    except ImportError:
        pass
    return data


def export_csv(household: Household) -> str:
    """The same as `export_data`, flattened: one line per value (section, item, field, value)."""
    rows = [["section", "item", "field", "value"]]
    for section, content in export_data(household).items():
        if isinstance(content, dict):
            for name, value in content.items():
                if isinstance(value, list):
                    for index, row in enumerate(value, start=1):
                        for key, item in row.items():
                            rows.append([f"{section}.{name}", index, key, item])
                else:
                    rows.append([section, "", name, value])
        else:
            for index, row in enumerate(content, start=1):
                for name, value in row.items():
                    rows.append([section, index, name, value])
    return kernel_csv.text(rows)


def request_erasure(household: Household) -> ErasureRequest:
    try:
        with transaction.atomic():
            return ErasureRequest.objects.create(household=household)
    except IntegrityError:
        raise ValidationError(_("Your request for erasure is already waiting for a coordinator."))


@transaction.atomic
def confirm_erasure(request: ErasureRequest, *, by) -> ErasureRequest:
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ErasureRequest.Status.PENDING:
        raise ValidationError(_("This request has already been decided."))
    erase(request.household, by=by)
    request.status, request.decided_at, request.decided_by = ErasureRequest.Status.DONE, timezone.now(), by
    request.save(update_fields=["status", "decided_at", "decided_by"])
    return request


@transaction.atomic
def refuse_erasure(request: ErasureRequest, *, by, reason: str) -> ErasureRequest:
    if not reason.strip():
        raise ValidationError(_("Say why the erasure is refused."))
    request.status, request.decided_at, request.decided_by, request.reason = (
        ErasureRequest.Status.REFUSED,
        timezone.now(),
        by,
        reason.strip(),
    )
    request.save(update_fields=["status", "decided_at", "decided_by", "reason"])
    return request


def _erase_user(user) -> None:
    user.username = f"erased-{user.pk}"
    user.first_name = user.last_name = user.email = user.phone = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    try:
        from allauth.account.models import EmailAddress

        EmailAddress.objects.filter(user=user).delete()
    except ImportError:
        pass


@transaction.atomic
def erase(household: Household, *, by=None) -> Household:
    """Erase the household's personal data everywhere; keep its money records."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    if household.erased_at is not None:
        return household
    if household.status != Household.Status.EXITED:
        enrolment.exit_household(household, by=by, note="erasure")
        household.refresh_from_db()
    persons = list(household.persons.all())
    users = [p.user for p in persons if p.user is not None]
    person_ids = [str(p.pk) for p in persons]
    # The admin's history: the persons' names appear in it.
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Person), object_id__in=person_ids).update(
        object_repr="—", change_message=""
    )
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Household), object_id=str(household.pk)
    ).update(change_message="")
    try:
        from .models import Card, CardEvent

        Card.objects.filter(household=household).update(holder=None)
        CardEvent.objects.filter(card__household=household).update(note="")
    except ImportError:
        pass
    household.persons.all().delete()
    # Direct debit mandates: the reference stays with the money records; the debtor's
    # name and bank details go, and no debit can be made on it any more.
    DirectDebitMandate.objects.filter(household=household).update(debtor_name="", iban="", bic="")
    DirectDebitMandate.objects.filter(household=household, revoked_on__isnull=True).update(
        revoked_on=timezone.localdate()
    )
    Notice.objects.filter(household=household).delete()
    DeskAction.objects.filter(household=household).update(detail={})
    HouseholdStatusChange.objects.filter(household=household).update(note="")
    for user in users:
        _erase_user(user)
    household.phone = household.email = household.address = household.postal_code = household.district = ""
    household.income_bracket = household.age_bracket = ""
    household.research_consent = False
    household.erased_at = timezone.now()
    household.save()
    # Last, once nothing more changes it: the household's events in the audit trail.
    signals.household_erased.send(sender=Household, household_id=household.pk, user_ids=[user.pk for user in users])
    return household


def apply_retention(now=None) -> dict[str, int]:
    """Erase or delete what is older than its retention period (a periodic task)."""
    now = now or timezone.now()
    days = retention_days()
    done = {}
    never_members = Household.objects.filter(
        erased_at__isnull=True,
        status__in=[Household.Status.EXITED, Household.Status.WAITLISTED],
        status_changed_at__lt=now - timedelta(days=days["applications"]),
    ).exclude(status_changes__status_to=Household.Status.ACTIVE)
    left = Household.objects.filter(
        erased_at__isnull=True,
        status=Household.Status.EXITED,
        status_changed_at__lt=now - timedelta(days=days["exited_households"]),
    )
    to_erase = set(never_members.values_list("pk", flat=True)) | set(left.values_list("pk", flat=True))
    for household in Household.objects.filter(pk__in=to_erase):
        erase(household)
    done["households_erased"] = len(to_erase)
    done["desk_actions_deleted"] = DeskAction.objects.filter(at__lt=now - timedelta(days=days["desk_actions"])).delete()[0]
    done["notices_deleted"] = Notice.objects.filter(created_at__lt=now - timedelta(days=days["notices"])).delete()[0]
    return done
