"""The fund's settings (name, unit, bank account, SEPA creditor id, collection day),
kept in the database and edited by coordinators; bank details change only under
four eyes (step `fund_bank_change`, registered in AllocationsConfig.ready()).

The environment's values (FUND_NAME, FUND_BANK_IBAN, ...) are the defaults read once,
when the row does not exist yet: a deployment configured by environment variables, and
the demo, keep working; afterwards the row is what counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel.banking import bic_valid, compact, iban_valid
from kernel.errors import DomainError

from . import approvals
from .models import Approval, FundSettings

BANK_CHANGE = "fund_bank_change"
BANK_FIELDS = ("bank_iban", "bank_bic", "sepa_creditor_id")
PLAIN_FIELDS = ("name", "unit_label", "collection_day")


class FundSettingsError(DomainError):
    code = "fund_settings_refused"


class BankNotConfigured(FundSettingsError):
    code = "fund_bank_not_configured"
    message = gettext_lazy("The fund's bank account is not configured: a coordinator sets its IBAN and BIC on the "
                           "fund's settings page (Coordination › Fund settings).")


def _defaults() -> dict:
    return {
        "name": settings.FUND_NAME,
        "unit_label": settings.FUND_UNIT_LABEL,
        "bank_iban": compact(getattr(settings, "FUND_BANK_IBAN", "")),
        "bank_bic": compact(getattr(settings, "FUND_BANK_BIC", "")),
        "sepa_creditor_id": compact(getattr(settings, "FUND_SEPA_CREDITOR_ID", "")),
        "collection_day": min(max(int(getattr(settings, "SEPA_DD_COLLECTION_DAY", 5)), 1), 28),
    }


def current() -> FundSettings:
    """The fund's settings: the row, made from the environment's values the first time."""
    row = FundSettings.objects.filter(pk=1).first()
    if row is None:
        row, _created = FundSettings.objects.get_or_create(pk=1, defaults=_defaults())
    return row


@dataclass(frozen=True)
class BankAccount:
    name: str
    iban: str
    bic: str
    creditor_id: str


def bank_account(*, creditor: bool = False) -> BankAccount:
    """The fund's bank account for a SEPA file; BankNotConfigured unless IBAN and BIC are
    valid (and, with `creditor`, a SEPA creditor identifier is set)."""
    row = current()
    if not (iban_valid(row.bank_iban) and bic_valid(row.bank_bic)) or (creditor and not row.sepa_creditor_id):
        raise BankNotConfigured()
    return BankAccount(row.name, compact(row.bank_iban), compact(row.bank_bic), compact(row.sepa_creditor_id))


def bank_configured() -> bool:
    try:
        bank_account()
    except BankNotConfigured:
        return False
    return True


# --- Writes -----------------------------------------------------------------------------


def update_settings(*, by, **values) -> FundSettings:
    """The settings other than the bank's: name, unit, collection day, caps. Audited by
    the caller's request (coordination.audit records the coordinator's POST)."""
    unknown = set(values) - set(PLAIN_FIELDS)
    if unknown:
        raise FundSettingsError(_("Not a setting: %(names)s") % {"names": ", ".join(sorted(unknown))})
    errors = {}
    if "name" in values and not str(values["name"]).strip():
        errors["name"] = _("The fund needs a name.")
    if "unit_label" in values and not str(values["unit_label"]).strip():
        errors["unit_label"] = _("The unit needs a name.")
    if "collection_day" in values and not 1 <= int(values["collection_day"]) <= 28:
        errors["collection_day"] = _("The collection day is a day between 1 and 28.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current()
        row = FundSettings.objects.select_for_update().get(pk=1)
        for field, value in values.items():
            setattr(row, field, value.strip() if isinstance(value, str) else value)
        row.updated_at = timezone.now()
        row.save()
    return row


def request_bank_change(*, iban: str, bic: str, creditor_id: str, by, reason: str) -> Approval:
    """First coordinator: new bank details; they take effect when a second approves."""
    iban, bic, creditor_id = compact(iban), compact(bic), compact(creditor_id)
    errors = {}
    if not iban_valid(iban):
        errors["bank_iban"] = _("This IBAN is not valid: check its letters and digits.")
    if not bic_valid(bic):
        errors["bank_bic"] = _("This BIC is not valid (8 or 11 letters and digits).")
    if creditor_id and not (creditor_id[:2].isalpha() and len(creditor_id) >= 8):
        errors["sepa_creditor_id"] = _("This SEPA creditor identifier is not valid (e.g. FR12ZZZ123456).")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current()
        row = FundSettings.objects.select_for_update().get(pk=1)
        # One change at a time (one pending approval per target): what the second
        # coordinator reads on the settings page is what is applied.
        approval = approvals.request(BANK_CHANGE, row.pk, by=by, reason=reason)
        row.proposed_bank_iban, row.proposed_bank_bic, row.proposed_sepa_creditor_id = iban, bic, creditor_id
        row.save(update_fields=["proposed_bank_iban", "proposed_bank_bic", "proposed_sepa_creditor_id"])
    return approval


def pending_bank_change() -> Approval | None:
    return approvals.pending(BANK_CHANGE, 1)


def execute_bank_change(approval: Approval) -> str:
    approvals.require(approval, BANK_CHANGE, approval.target)
    row = FundSettings.objects.select_for_update().get(pk=int(approval.target))
    before = row.bank_iban
    row.bank_iban, row.bank_bic = row.proposed_bank_iban, row.proposed_bank_bic
    row.sepa_creditor_id = row.proposed_sepa_creditor_id
    row.proposed_bank_iban = row.proposed_bank_bic = row.proposed_sepa_creditor_id = ""
    row.updated_at = timezone.now()
    row.save()
    return f"bank account …{before[-4:] or '—'} → …{row.bank_iban[-4:]}"


def bank_change_refused(approval: Approval) -> None:
    FundSettings.objects.filter(pk=int(approval.target)).update(
        proposed_bank_iban="", proposed_bank_bic="", proposed_sepa_creditor_id="")
