"""The fund's settings (name, unit, bank account, SEPA creditor id, collection day, the
till's caps and the corrections' thresholds), kept in the database and edited by
coordinators; bank details change only under four eyes (step `fund_bank_change`,
registered in AllocationsConfig.ready()).

The environment's values (FUND_NAME, FUND_BANK_IBAN, FUND_INITIAL_LIMITS, ...) are the
defaults read once, when the row does not exist yet: a deployment configured by
environment variables, and the demo, keep working; afterwards the row is what counts.

Who reads what, and when a change shows (`cached()`):

- every page, mail and service reads the name, the unit and the thresholds from Redis
  (kernel.versioned_cache), once per request (the copy is kept for the rest of it): a
  change shows on the next page in every process, and a page makes the same SQL queries
  whatever the cache held before, since the key does not expire and is written when a
  change commits (`transaction.on_commit`). Only an emptied Redis costs one query, once;
- the till (vendors.payments) reads its caps from the copy in its process, at most
  TILL_REFRESH_SECONDS old: no SQL query and no Redis command per purchase, and a new
  cap is enforced at every till within that many seconds.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import asdict, dataclass, fields

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel import versioned_cache
from kernel.banking import bic_valid, compact, iban_valid
from kernel.errors import DomainError
from kernel.money import format_cents

from . import approvals
from .models import CAP_LIMIT_CENTS, Approval, FundSettings

BANK_CHANGE = "fund_bank_change"
BANK_FIELDS = ("bank_iban", "bank_bic", "sepa_creditor_id")
LIMIT_FIELDS = ("max_purchase_cents", "daily_cap_per_card_cents", "refund_four_eyes_above_cents",
                "desk_cash_ceiling_cents", "phone_pin_above_cents")
PLAIN_FIELDS = ("name", "unit_label", "collection_day", *LIMIT_FIELDS)
# The till's copy of the caps is at most this old (the page says so).
TILL_REFRESH_SECONDS = 5


class FundSettingsError(DomainError):
    code = "fund_settings_refused"


class BankNotConfigured(FundSettingsError):
    code = "fund_bank_not_configured"
    message = gettext_lazy("The fund's bank account is not configured: a coordinator sets its IBAN and BIC on the "
                           "fund's settings page (Coordination › Fund settings).")


def _initial_limits() -> dict:
    limits = getattr(settings, "FUND_INITIAL_LIMITS", {})
    lowest = {"max_purchase_cents": 1}
    return {field: min(max(int(limits[field]), lowest.get(field, 0)), CAP_LIMIT_CENTS)
            for field in LIMIT_FIELDS if field in limits}


def _defaults() -> dict:
    return {
        "name": settings.FUND_NAME,
        "unit_label": settings.FUND_UNIT_LABEL,
        "bank_iban": compact(getattr(settings, "FUND_BANK_IBAN", "")),
        "bank_bic": compact(getattr(settings, "FUND_BANK_BIC", "")),
        "sepa_creditor_id": compact(getattr(settings, "FUND_SEPA_CREDITOR_ID", "")),
        "collection_day": min(max(int(getattr(settings, "SEPA_DD_COLLECTION_DAY", 5)), 1), 28),
        **_initial_limits(),
    }


def current() -> FundSettings:
    """The fund's settings: the row, made from the environment's values the first time."""
    row = FundSettings.objects.filter(pk=1).first()
    if row is None:
        row, _created = FundSettings.objects.get_or_create(pk=1, defaults=_defaults())
    return row


# --- The cached read ----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What pages, mails and the till read of the fund's settings (not the bank's)."""

    name: str
    unit_label: str
    max_purchase_cents: int
    daily_cap_per_card_cents: int
    refund_four_eyes_above_cents: int
    desk_cash_ceiling_cents: int
    phone_pin_above_cents: int

    @classmethod
    def of(cls, row: FundSettings) -> Snapshot:
        return cls(**{field.name: getattr(row, field.name) for field in fields(cls)})


_SNAPSHOT_FIELDS = frozenset(field.name for field in fields(Snapshot))
# Named after the snapshot's fields: a release that adds one reads and writes a key of its
# own (filled from the row at its first read), never a value of the older shape.
CACHE_KEY = "fund:settings:" + hashlib.sha256(",".join(sorted(_SNAPSHOT_FIELDS)).encode()).hexdigest()[:12]
# The process's latest copy and when it was read (time.time(): the till's window).
_latest: tuple[Snapshot, float] | None = None
# The copy read during the request this thread serves, if any (request_started/finished).
_request = threading.local()


def cached(*, within: float = 0) -> Snapshot:
    """The fund's settings as they are now: read from Redis once per request (kept for
    the rest of the request), or, with `within` (the till), the process's copy when it
    is at most that many seconds old."""
    global _latest
    latest = _latest
    if within and latest is not None and 0 <= time.time() - latest[1] < within:
        return latest[0]
    in_request = getattr(_request, "active", False)
    if in_request and _request.snapshot is not None:
        return _request.snapshot
    snapshot = _read()
    _latest = (snapshot, time.time())
    if in_request:
        _request.snapshot = snapshot
    return snapshot


def _read() -> Snapshot:
    found = versioned_cache.read(CACHE_KEY)
    if found is not None:
        return Snapshot(**found[1])
    # Redis was emptied: the row, once; then the cache again.
    row = current()
    snapshot = Snapshot.of(row)
    versioned_cache.publish(CACHE_KEY, row.version, asdict(snapshot))
    return snapshot


def _next_version(row: FundSettings) -> None:
    # One more, or the time in microseconds when higher: after a database restored from a
    # backup (an older version), the next change still outranks what the cache holds.
    row.version = max(row.version + 1, time.time_ns() // 1000)


def reload_cache() -> Snapshot:
    """Write the row's values to the cache whatever version it holds: after the database
    was restored from a backup (operations' restore_backup), the row is older than the cache."""
    forget_process_copy()
    row = current()
    snapshot = Snapshot.of(row)
    versioned_cache.replace(CACHE_KEY, row.version, asdict(snapshot))
    return snapshot


def _publish_on_commit(row: FundSettings) -> None:
    snapshot, version = Snapshot.of(row), row.version
    transaction.on_commit(lambda: versioned_cache.publish(CACHE_KEY, version, asdict(snapshot)))


def _request_begins(**kwargs) -> None:
    _request.active, _request.snapshot = True, None


def _request_ends(**kwargs) -> None:
    _request.active, _request.snapshot = False, None


def watch_requests() -> None:
    """Keep one copy per request (AllocationsConfig.ready)."""
    request_started.connect(_request_begins, dispatch_uid="allocations.fund.request_begins")
    request_finished.connect(_request_ends, dispatch_uid="allocations.fund.request_ends")


def forget_process_copy() -> None:
    """Drop this process's copy: the next read, the till's included, asks Redis (what
    TILL_REFRESH_SECONDS of waiting does)."""
    global _latest
    _latest = None
    _request_ends()


def publish_defaults() -> None:
    """The cache as a fund whose row is not made yet finds it after its first read (a
    fresh test database): the environment's values, at version 0, which any row replaces;
    and no copy in this process. The test suite starts every test so (tests/conftest.py)."""
    forget_process_copy()
    values = _defaults()
    versioned_cache.publish(CACHE_KEY, 0, {field: values[field] for field in _SNAPSHOT_FIELDS})


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


def _limit_errors(values: dict) -> dict:
    errors = {}
    for field in LIMIT_FIELDS:
        if field not in values:
            continue
        value = values[field]
        lowest = 1 if field == "max_purchase_cents" else 0
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= CAP_LIMIT_CENTS:
            errors[field] = _("Between %(low)s and %(high)s.") % {"low": format_cents(lowest),
                                                                   "high": format_cents(CAP_LIMIT_CENTS)}
    return errors


def update_settings(*, by, **values) -> FundSettings:
    """The settings other than the bank's: name, unit, collection day, caps (in cents).
    Audited by the caller's request (coordination.audit records the coordinator's POST);
    the cache is written when the change commits."""
    unknown = set(values) - set(PLAIN_FIELDS)
    if unknown:
        raise FundSettingsError(_("Not a setting: %(names)s") % {"names": ", ".join(sorted(unknown))})
    errors = _limit_errors(values)
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
        _next_version(row)
        row.save()
        _publish_on_commit(row)
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
    _next_version(row)
    row.save()
    _publish_on_commit(row)
    return f"bank account …{before[-4:] or '—'} → …{row.bank_iban[-4:]}"


def bank_change_refused(approval: Approval) -> None:
    FundSettings.objects.filter(pk=int(approval.target)).update(
        proposed_bank_iban="", proposed_bank_bic="", proposed_sepa_creditor_id="")
