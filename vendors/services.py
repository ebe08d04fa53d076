"""The vendor registry: registration, the status lifecycle, IBAN changes, API keys, import.

Governance calls `change_status()` when the committee decides (with the decision's
reference, which governance itself confirms); coordinators call `suspend_now()` in an
emergency, which lapses unless the committee confirms it. Every change leaves a StatusChange.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from allocations import approvals, ledger
from allocations.models import AccountKind, Approval
from kernel.banking import compact
from users import roles

from .models import ApiKey, IbanChange, StatusChange, Vendor

S = Vendor.Status

# Which step may follow which. A vendor pauses and resumes on its own; suspension and
# revocation are decisions (the committee's, or a coordinator's emergency suspension); a
# revoked vendor applies again from the start.
TRANSITIONS: dict[str, set[str]] = {
    S.APPLIED: {S.UNDER_REVIEW, S.APPROVED, S.REVOKED},
    S.UNDER_REVIEW: {S.APPROVED, S.APPLIED, S.REVOKED},
    S.APPROVED: {S.PAUSED, S.SUSPENDED, S.REVOKED},
    S.PAUSED: {S.APPROVED, S.SUSPENDED, S.REVOKED},
    S.SUSPENDED: {S.APPROVED, S.REVOKED},
    S.REVOKED: {S.APPLIED},
}
# The steps a vendor's own staff may take from its dashboard.
VENDOR_OWN_STEPS = {(S.APPROVED, S.PAUSED), (S.PAUSED, S.APPROVED)}

KEY_PREFIX = "csk_"
# The charter a shop signs when it applies; a new text gets a new version.
CHARTER_VERSION = "2026-1"


class InvalidTransition(ValidationError):
    pass


@transaction.atomic
def register_vendor(*, slug: str, display_name: str, kind: str, by=None, reason: str = "", **fields) -> Vendor:
    """A vendor with its own account of what the fund owes it."""
    account = ledger.open_account(AccountKind.VENDOR)
    vendor = Vendor.objects.create(slug=slug, display_name=display_name, kind=kind, account=account, **fields)
    StatusChange.objects.create(vendor=vendor, from_status="", to_status=vendor.status, by=by, reason=reason)
    return vendor


def prepare_new_vendor(vendor: Vendor) -> Vendor:
    """For a vendor saved by a model form (the admin): open its account first."""
    vendor.account = ledger.open_account(AccountKind.VENDOR)
    return vendor


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "commerce"
    slug, n = base, 1
    while Vendor.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def apply(**fields) -> Vendor:
    """The public application form: a shop asks to be approved."""
    fields = {**fields, "status": S.APPLIED}
    for name in ("siret", "rna", "iban", "bic"):
        if fields.get(name):
            fields[name] = compact(fields[name])
    vendor = Vendor(slug=fields.pop("slug", "") or _unique_slug(fields["display_name"]), **fields)
    vendor.full_clean(exclude=["account", "slug"])
    fields["slug"] = vendor.slug
    return register_vendor(reason=_("Application from the public form"), **fields)


# Steps that are the registry's own work (a file reviewed, a new application): every other
# step (approval, suspension, revocation, reinstatement) is the committee's, and needs the
# reference of an adopted decision; or, for a suspension only, the emergency service.
ADMINISTRATIVE_STEPS = {(S.APPLIED, S.UNDER_REVIEW), (S.UNDER_REVIEW, S.APPLIED), (S.REVOKED, S.APPLIED)}

# (decision reference, vendor id, new status) -> whether an adopted committee decision says
# so. Governance registers it at startup (GovernanceConfig.ready): vendors does not import it.
_decision_check: Callable[[str, int, str], bool] | None = None


def register_decision_check(check: Callable[[str, int, str], bool]) -> None:
    global _decision_check
    _decision_check = check


class DecisionRequired(ValidationError):
    pass


@transaction.atomic
def change_status(vendor: Vendor, new_status: str, *, by, reason: str, decision: str | None = None,
                  emergency: bool = False) -> StatusChange:
    """Move a vendor to `new_status`, recording who, why and the decision behind it.

    Only through an adopted committee decision (`decision`, checked with governance), the
    emergency suspension (`suspend_now`), the vendor's own pause, or an administrative
    step of the registry; anything else is refused (DecisionRequired). Takes effect at
    once: the API reads the status on every request.
    """
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    if vendor.status == new_status == S.SUSPENDED and decision and _decision_check is not None \
            and _decision_check(decision, vendor.pk, new_status):
        # The committee confirms an emergency suspension: it no longer lapses.
        return StatusChange.objects.create(vendor=vendor, from_status=vendor.status, to_status=new_status, by=by,
                                           reason=reason, decision_reference=decision)
    if new_status not in TRANSITIONS.get(vendor.status, set()):
        raise InvalidTransition(
            _("A vendor cannot go from %(old)s to %(new)s.")
            % {"old": vendor.get_status_display(), "new": S(new_status).label},
            code="transition",
        )
    step = (vendor.status, new_status)
    if emergency:
        if new_status != S.SUSPENDED or not roles.is_coordinator(by) or not (reason or "").strip():
            raise DecisionRequired(_("An emergency suspension needs a coordinator and a reason."), code="decision")
    elif step not in ADMINISTRATIVE_STEPS and step not in VENDOR_OWN_STEPS:
        if not decision or _decision_check is None or not _decision_check(decision, vendor.pk, new_status):
            raise DecisionRequired(
                _("Only an adopted committee decision changes this vendor's status (or, to suspend it at once, "
                  "the emergency suspension)."),
                code="decision",
            )
    change = StatusChange.objects.create(
        vendor=vendor, from_status=vendor.status, to_status=new_status, by=by, reason=reason,
        decision_reference=decision or "", emergency=emergency,
    )
    Vendor.objects.filter(pk=vendor.pk).update(status=new_status)
    return change


def suspend_now(vendor: Vendor, *, by, reason: str) -> StatusChange:
    """A coordinator's emergency suspension (suspected fraud): immediate, with a reason the
    committee is told of; it lapses after EMERGENCY_SUSPENSION_DAYS unless the committee
    confirms it by a vote (`lapse_emergency_suspensions`, daily)."""
    if not roles.is_coordinator(by):
        raise ValidationError(_("Only a coordinator may suspend a vendor in an emergency."), code="permission")
    if not reason.strip():
        raise ValidationError(_("Say why the vendor is suspended: the committee will read it."), code="reason")
    change = change_status(vendor, S.SUSPENDED, by=by, reason=reason, emergency=True)
    if _committee_told is not None:
        told, change_id = _committee_told, change.pk
        transaction.on_commit(lambda: told(change_id))
    return change


# (status change id) -> None: tells the committee of an emergency suspension; registered by
# governance at startup.
_committee_told: Callable[[int], None] | None = None


def register_committee_notice(notice: Callable[[int], None]) -> None:
    global _committee_told
    _committee_told = notice


def emergency_suspension_days() -> int:
    return int(getattr(settings, "CAISSE_EMERGENCY_SUSPENSION_DAYS", 14))


def lapse_emergency_suspensions(*, now=None) -> int:
    """Emergency suspensions older than `emergency_suspension_days()` that no committee
    decision confirmed end: the vendor is approved again, the lapse recorded."""
    now = now or timezone.now()
    limit = now - timedelta(days=emergency_suspension_days())
    lapsed = 0
    for vendor in Vendor.objects.filter(status=S.SUSPENDED):
        last = vendor.status_changes.order_by("-id").first()
        if last is None or not last.emergency or last.at > limit:
            continue
        with transaction.atomic():
            locked = Vendor.objects.select_for_update().get(pk=vendor.pk)
            if locked.status != S.SUSPENDED:
                continue
            StatusChange.objects.create(vendor=locked, from_status=S.SUSPENDED, to_status=S.APPROVED, by=None,
                                        reason=_("Emergency suspension lapsed: no committee decision confirmed it."))
            Vendor.objects.filter(pk=locked.pk).update(status=S.APPROVED)
        lapsed += 1
    return lapsed


def pause_or_resume(vendor: Vendor, *, by, reason: str = "") -> StatusChange:
    """The vendor's own choice (a farmer's off-season)."""
    target = S.PAUSED if vendor.status == S.APPROVED else S.APPROVED
    if (vendor.status, target) not in VENDOR_OWN_STEPS:
        raise InvalidTransition(_("Only an approved or paused vendor may pause or resume."), code="transition")
    return change_status(vendor, target, by=by, reason=reason or _("The vendor's own choice"))


# --- IBAN ------------------------------------------------------------------------------


# The four-eyes step of a new IBAN (registered in VendorsConfig.ready): payment diversion
# is the classic fraud, so the numbers wait in an IbanChange until a second coordinator
# approves it through the one four-eyes mechanism (allocations.approvals).
IBAN_CHANGE = "iban_change"


def request_iban_change(vendor: Vendor, *, iban: str, bic: str, by, reason: str = "") -> IbanChange:
    if not roles.is_coordinator(by):
        raise ValidationError(_("Only a coordinator may change an IBAN."), code="permission")
    change = IbanChange(vendor=vendor, iban=compact(iban), bic=compact(bic), requested_by=by, reason=reason)
    change.full_clean(exclude=["vendor", "requested_by"])
    try:
        with transaction.atomic():
            change.save()
            approvals.request(IBAN_CHANGE, change.pk, by=by, reason=reason or _(
                "New IBAN for %(vendor)s: %(iban)s") % {"vendor": vendor.display_name, "iban": change.iban})
    except IntegrityError:
        raise ValidationError(_("Another IBAN change is already waiting for confirmation."), code="pending")
    return change


def _approval_of(change: IbanChange) -> Approval:
    approval = approvals.pending(IBAN_CHANGE, change.pk)
    if approval is None:
        raise ValidationError(_("This IBAN change is no longer waiting."), code="state")
    return approval


def confirm_iban_change(change: IbanChange, *, by) -> Vendor:
    """The second coordinator: only now does the vendor's IBAN change (approvals.approve,
    which refuses the coordinator who asked, and anyone who is not a coordinator)."""
    approvals.approve(_approval_of(change), by=by)
    return Vendor.objects.get(pk=change.vendor_id)


def cancel_iban_change(change: IbanChange, *, by) -> IbanChange:
    approval = approvals.pending(IBAN_CHANGE, change.pk)
    if approval is not None:
        approvals.refuse(approval, by=by)
    change.refresh_from_db()
    return change


def execute_iban_change(approval: Approval) -> str:
    approvals.require(approval, IBAN_CHANGE, approval.target)
    change = IbanChange.objects.select_for_update().get(pk=int(approval.target))
    if change.status != IbanChange.Status.PENDING:
        raise ValidationError(_("This IBAN change is no longer waiting."), code="state")
    change.status, change.decided_by_id, change.decided_at = (
        IbanChange.Status.CONFIRMED, approval.decided_by_id, approval.decided_at)
    change.save(update_fields=["status", "decided_by", "decided_at"])
    Vendor.objects.filter(pk=change.vendor_id).update(iban=change.iban, bic=change.bic)
    return f"IBAN of vendor #{change.vendor_id} changed"


def iban_change_refused(approval: Approval) -> None:
    IbanChange.objects.filter(pk=int(approval.target), status=IbanChange.Status.PENDING).update(
        status=IbanChange.Status.CANCELLED, decided_by_id=approval.decided_by_id, decided_at=approval.decided_at)


# --- API keys --------------------------------------------------------------------------


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(vendor: Vendor, *, label: str, by=None) -> tuple[ApiKey, str]:
    """A new key for one till; returns it with the key itself, to show once."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        vendor=vendor, label=(label or _("Till")).strip()[:64], prefix=key[:12], key_hash=hash_key(key), created_by=by
    )
    return api_key, key


def revoke_api_key(api_key: ApiKey) -> ApiKey:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db()
    return api_key


# --- CSV import ------------------------------------------------------------------------

IMPORT_COLUMNS = (
    "slug", "display_name", "legal_name", "kind", "status", "address", "district", "latitude", "longitude",
    "opening_hours", "siret", "rna", "iban", "bic", "contact_name", "contact_email", "contact_phone",
    "charter_signed_on", "charter_version",
)


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # slugs already in the registry
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    dry_run: bool = True


class _DryRun(Exception):
    pass


def import_vendors(text: str, *, by=None, dry_run: bool = True) -> ImportReport:
    """Existing vendors from a CSV (header row; `display_name` and `kind` required).

    All or nothing: one bad line and nothing is written. With `dry_run` the same checks
    run and everything is rolled back, so the report shows exactly what would happen.
    """
    report = ImportReport(dry_run=dry_run)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    unknown = set(reader.fieldnames or []) - set(IMPORT_COLUMNS)
    if unknown:
        report.errors.append((1, _("Unknown columns: %(cols)s") % {"cols": ", ".join(sorted(unknown))}))
        return report
    try:
        with transaction.atomic():
            for line, row in enumerate(reader, start=2):
                values = {k: (v or "").strip() for k, v in row.items() if k and (v or "").strip()}
                values.setdefault("status", S.APPROVED)
                # The slug (given, or made from the name) identifies a vendor already there.
                slug = values.pop("slug", "") or slugify(values.get("display_name", ""))[:50]
                if Vendor.objects.filter(slug=slug).exists():
                    report.skipped.append(slug)
                    continue
                for name in ("siret", "rna", "iban", "bic"):
                    if name in values:
                        values[name] = compact(values[name])
                candidate = Vendor(slug=slug, **values)
                try:
                    candidate.full_clean(exclude=["account"])
                except ValidationError as error:
                    report.errors.append((line, "; ".join(
                        f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())))
                    continue
                values = {name: getattr(candidate, name) for name in values}
                register_vendor(slug=slug, by=by, reason=_("Imported from CSV"), **values)
                report.created.append(slug)
            if report.errors or dry_run:
                raise _DryRun
    except _DryRun:
        if report.errors and not dry_run:
            report.created = []
    return report
