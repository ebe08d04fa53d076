"""Payments at the till: `capture()` and `refund()`, the one service behind the REST API
and the web terminal.

A purchase is one short database transaction (DESIGN.md, "The payment at the till"):
the debit of the wallet and the credit of the vendor (the ledger's transfer), the
Purchase row and the idempotency row. On PostgreSQL it is a single statement that embeds
the ledger's (ledger.Posting), one round trip; with SQLite, or when the fund caps what a
card may spend per day (a check under a lock first), the same writes run in a
transaction. The ledger key is derived from (vendor, Idempotency-Key),
and the ledger only tries its lock on it (`wait=False`), so a concurrent duplicate is
told `request_in_progress` at once instead of queueing behind the first; a duplicate
that comes after the first finished finds the ledger key used, and gets the stored
answer.

Which outcomes a key keeps (and replays): only those that moved money (201). Every
decline and every error leaves the key free, so the till can retry the same sale under
the same key once what was wrong is fixed: the member retypes a wrong PIN (the PIN is
not in the fingerprint, so a stored `invalid_pin` would otherwise be replayed for the
right PIN), accepts a partial payment (`partial` changes the body: a stored decline
would make it `idempotency_key_reused`), or gets the card unlocked at the desk. A
decline moved nothing, so answering it afresh is safe; what must never happen twice, a
movement of money, is replayed.

The card and PIN are checked (members.cards.authorize) *before* the transaction, so the
wrong-PIN count, written in its own short transaction, stays even when the purchase
rolls back.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allocations import approvals, fund, keys, ledger
from allocations.models import Approval, TransferKind
from kernel import locks
from kernel.db import prepared_cursor
from kernel.errors import DomainError
from members import cards, enrolment
from members import notices as member_notices
from members import tasks as member_tasks
from users import roles

from .models import IdempotencyRecord, Purchase, Refund, Vendor

MAX_KEY_LENGTH = 255


class PaymentError(DomainError):
    """A refusal with a stable code, an HTTP status, and the parameter at fault."""

    code = "payment_error"
    status = 400
    message = _("The request could not be processed.")

    def __init__(self, message=None, *, param: str | None = None, code: str | None = None, status: int | None = None):
        self.message = message or self.message
        self.param = param
        if code:
            self.code = code
        if status:
            self.status = status
        super().__init__(str(self.message))


class InvalidRequest(PaymentError):
    code = "invalid_request"
    message = _("The request is not valid.")


class Declined(PaymentError):
    status = 402
    message = _("The payment did not go through.")


class VendorNotApproved(PaymentError):
    code = "vendor_not_approved"
    status = 403
    message = _("This vendor is not approved to take payments at the moment.")


class NotFound(PaymentError):
    code = "not_found"
    status = 404
    message = _("No such purchase.")


class RequestInProgress(PaymentError):
    code = "request_in_progress"
    status = 409
    message = _("A request with this idempotency key is still being processed. Retry in a moment.")


class KeyReused(PaymentError):
    code = "idempotency_key_reused"
    status = 409
    message = _("This idempotency key was already used for a different request.")


class RefundExceedsCaptured(PaymentError):
    code = "refund_exceeds_captured"
    status = 400
    message = _("The refunds of a purchase cannot exceed what it captured.")


class LimitExceeded(Declined):
    code = "limit_exceeded"
    message = _("This card has reached the fund's daily limit at this shop.")


@dataclass(frozen=True)
class Outcome:
    """What to answer: a status and a JSON body; `replayed` when it was stored earlier."""

    status: int
    body: dict
    replayed: bool = False


# --- Reading the fund's limits ---------------------------------------------------------
# From the till's copy of the fund's settings, in this process and at most
# fund.TILL_REFRESH_SECONDS old: no SQL query and no Redis command per purchase.


def max_purchase() -> int:
    return fund.cached(within=fund.TILL_REFRESH_SECONDS).max_purchase_cents


def daily_cap() -> int:
    """The fund's optional cap per card, per vendor, per day (0: none)."""
    return fund.cached(within=fund.TILL_REFRESH_SECONDS).daily_cap_per_card_cents


# --- Representations (what a vendor may see) -------------------------------------------


def purchase_body(purchase: Purchase) -> dict:
    return {
        "id": purchase.pk,
        "status": purchase.status,
        "amount": purchase.amount,
        "requested": purchase.requested,
        "reference": purchase.reference,
        "created_at": iso(purchase.created_at),
        "refunded": purchase.refunded,
        "card_last4": purchase.card_last4,
    }


def refund_body(refund: Refund) -> dict:
    return {
        "id": refund.pk,
        "purchase": refund.purchase_id,
        "amount": refund.amount,
        "reason": refund.reason,
        "created_at": iso(refund.created_at),
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- Idempotency -----------------------------------------------------------------------


def validate_key(key) -> str:
    if key is None or key == "":
        raise InvalidRequest(_("The Idempotency-Key header is required."), param="Idempotency-Key")
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(_("The Idempotency-Key header must be 1 to 255 printable characters."),
                             param="Idempotency-Key")
    return key


def fingerprint(operation: str, fields: dict) -> str:
    """What the request asked, without the PIN: sorted JSON of the validated fields."""
    payload = json.dumps({"op": operation, **fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


# What a key's record holds, as `stored_answer` reads it; the API reads the same columns along
# with the till's key (vendors.api.key_of_till), one round trip less per payment.
RECORD_COLUMNS = ("fingerprint", "status_code", "body")
_STORED_SQL = (
    f"SELECT {', '.join(RECORD_COLUMNS)} FROM {IdempotencyRecord._meta.db_table} WHERE vendor_id = %s AND key = %s"
)
LOOK_IT_UP = object()  # no earlier look at the key's record: `stored_answer` makes its own


def stored_answer(vendor_id: int, key: str, print_: str, known_record=LOOK_IT_UP) -> Outcome | None:
    """The stored answer for this till's key (KeyReused if it answered another request),
    purchases, refunds and payment requests alike (one key namespace per vendor); from
    `known_record`, the RECORD_COLUMNS row (or None) read earlier in this request, when given."""
    if known_record is LOOK_IT_UP:
        # Hand-written: it runs on every payment, usually to find nothing.
        with prepared_cursor() as cursor:
            cursor.execute(_STORED_SQL, [vendor_id, key])
            row = cursor.fetchone()
    else:
        row = known_record
    if row is None:
        return None
    fingerprint_, status_code, body = row
    if fingerprint_ != print_:
        raise KeyReused(param="Idempotency-Key")
    return Outcome(status_code, json.loads(body) if isinstance(body, str) else body, replayed=True)


# --- Capture ---------------------------------------------------------------------------


def validate_amount(amount, *, param: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidRequest(_("The amount must be a whole number of cents."), param=param)
    if amount <= 0:
        raise InvalidRequest(_("The amount must be more than zero."), param=param)
    highest = max_purchase()
    if amount > highest:
        raise InvalidRequest(
            _("The amount is above the fund's maximum for one purchase (%(max)s cents).") % {"max": highest},
            param=param,
        )
    return amount


def capture(*, vendor: Vendor, idempotency_key: str, card: str, pin: str, amount: int, reference: str = "",
            partial: bool = False, till: str = "", known_record=LOOK_IT_UP,
            known_card: cards.Lookup | None = None) -> Outcome:
    """Take a payment of `amount` cents from the card's wallet to `vendor`.

    Returns the Outcome (201, or the stored response of a finished duplicate); raises a
    PaymentError for anything else. With `partial`, a short wallet pays what it holds.
    `known_record`: the key's record as this request already read it (see `stored_answer`);
    `known_card`: the card as it read it (see `cards.authorize`).
    """
    key = validate_key(idempotency_key)
    amount = validate_amount(amount)
    if not vendor.takes_payments:
        raise VendorNotApproved()
    print_ = fingerprint("purchase", {"card": card, "amount": amount, "reference": reference, "partial": partial})
    stored = stored_answer(vendor.pk, key, print_, known_record)
    if stored:
        return stored

    # A payment in one statement tries a clean card's PIN itself (cards.authorize, in_payment).
    auth = _authorize(vendor, card, pin, found=known_card, in_payment=not daily_cap())
    try:
        return _capture(vendor=vendor, key=key, print_=print_, auth=auth, amount=amount, reference=reference,
                        partial=partial, till=till)
    except _PinNotConfirmed:
        # Wrong, or the card changed since it was read: the PIN's counted try (whose WHERE
        # reads the card's newest row), then the payment.
        auth = _authorize(vendor, card, pin, found=known_card)
        return _capture(vendor=vendor, key=key, print_=print_, auth=auth, amount=amount, reference=reference,
                        partial=partial, till=till)


def _authorize(vendor: Vendor, card: str, pin: str, **how) -> cards.Authorization:
    try:
        return cards.authorize(card, pin, **how)  # outside the transaction: wrong PINs stay counted
    except cards.CardError as error:
        if error.context.get("household_id"):
            member_notices.notify_declined(household_id=error.context["household_id"], code=error.code,
                                           shop=vendor.display_name)
        raise declined(error)


def declined(error: cards.CardError) -> Declined:
    """A card's refusal as the payment's, with the parameter at fault."""
    return Declined(error.message, code=error.code, param="pin" if error.code == "invalid_pin" else "card")


def capture_authorized(*, vendor: Vendor, idempotency_key: str, authorization: cards.Authorization, amount: int,
                       reference: str = "", partial: bool = False, till: str = "") -> Outcome:
    """Capture for a card the member authorized themselves, on their own phone
    (vendors.payment_requests): the same purchase as `capture`, its caps, idempotency and
    partial offer, once the card (and its PIN when asked) was checked by the caller,
    outside its transaction. `idempotency_key` is the caller's, never a till's."""
    key = validate_key(idempotency_key)
    amount = validate_amount(amount)
    if not vendor.takes_payments:
        raise VendorNotApproved()
    print_ = fingerprint("purchase", {"card": f"id:{authorization.card_id}", "amount": amount, "reference": reference,
                                      "partial": partial})
    stored = stored_answer(vendor.pk, key, print_)
    if stored:
        return stored
    return _capture(vendor=vendor, key=key, print_=print_, auth=authorization, amount=amount, reference=reference,
                    partial=partial, till=till)


def _capture(*, vendor: Vendor, key: str, print_: str, auth: cards.Authorization, amount: int, reference: str,
             partial: bool, till: str) -> Outcome:
    posting = ledger.Posting(debit=auth.wallet_id, credit=vendor.account_id, amount=amount, kind=TransferKind.PURCHASE,
                             idempotency_key=keys.purchase(vendor.pk, key), wait=False, up_to=partial)
    purchase = Purchase(vendor=vendor, till=till[:64], card_id=auth.card_id, card_last4=auth.last4,
                        wallet_id=auth.wallet_id, requested=amount, reference=reference, created_at=posting.at)
    try:
        cap = daily_cap()
        if not cap:
            body = _post_and_record_in_one_statement(posting, purchase, key, print_, auth)
        elif auth.pin_to_confirm is not None:
            raise _PinNotConfirmed()  # only the one statement tries a PIN itself
        else:
            with transaction.atomic():
                _check_daily_cap(vendor.pk, auth.card_id, amount, partial, cap)
                with prepared_cursor() as cursor:
                    _note_posted(purchase, posting, posting.run(cursor))
                body = _record_purchase(purchase, key, print_)
    except (_KeyTaken, ledger.IdempotencyConflict):
        return _answered_before(vendor.pk, key, print_)
    except Declined as error:
        # The API still answers its code (the tills' contract); the member hears the reason.
        member_notices.notify_declined(household_id=auth.household_id, code=error.code, shop=vendor.display_name)
        raise
    if auth.notify_payments:
        shop, wallet_id, captured = vendor.display_name, auth.wallet_id, purchase.amount
        at = purchase.created_at.isoformat()
        transaction.on_commit(lambda: member_tasks.notify_payment_task.delay(
            wallet_id=wallet_id, amount=captured, shop=shop, at=at))
    return Outcome(201, body)


class _PinNotConfirmed(Exception):
    """The payment's statement found the PIN wrong, or the card changed since it was read:
    nothing was written."""


class _KeyTaken(Exception):
    """Raised inside a payment's transaction to roll it back when its key was used."""


def _answered_before(vendor_id: int, key: str, print_: str) -> Outcome:
    # The same key finished between our first look and the ledger's lock: the ledger's
    # own key (derived from it) said so, and nothing was written. Answer what was answered.
    stored = stored_answer(vendor_id, key, print_)
    if stored is None:
        raise KeyReused(param="Idempotency-Key")
    return stored


def _note_posted(purchase: Purchase, posting: ledger.Posting, ledger_row) -> None:
    """The purchase's transfer and captured amount, from what the ledger answered; or the
    refusal, as the till is to hear it."""
    try:
        posted = posting.result(*ledger_row)
    except ledger.KeyBusy:
        raise RequestInProgress(param="Idempotency-Key")
    except ledger.InsufficientFunds:
        raise Declined(_("The balance is too low for this amount."), code="insufficient_funds", param="amount")
    if not posted.created:
        raise _KeyTaken()
    purchase.transfer_id, purchase.amount = posted.transfer.pk, posted.transfer.amount


_PURCHASE_COLUMNS = "vendor_id, till, card_id, card_last4, wallet_id, transfer_id, amount, requested, refunded, reference, created_at"
_RECORD_COLUMNS = "vendor_id, key, fingerprint, status_code, body, created_at"
_INSERT_PURCHASE_SQL = f"""
    INSERT INTO {Purchase._meta.db_table} ({_PURCHASE_COLUMNS})
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s) RETURNING id
"""
_INSERT_RECORD_SQL = f"""
    INSERT INTO {IdempotencyRecord._meta.db_table} ({_RECORD_COLUMNS}) VALUES (%s, %s, %s, 201, %s, %s)
"""
# A purchase as one statement, its own transaction: the ledger's transfer, and only if it
# was posted, the purchase row and the record of the answer, whose body takes the
# purchase's id and captured amount. Nothing else is written, whatever the ledger says.
# With `{pin}`, the PIN's try (cards.PIN_CONFIRMATION_SQL) comes first: without its row
# the ledger is not called (a one-time filter) and the statement answers no row.
_POST_AND_RECORD_SQL = f"""
    WITH {{pin}}moved AS MATERIALIZED ({{ledger}}),
    purchase AS (
        INSERT INTO {Purchase._meta.db_table} ({_PURCHASE_COLUMNS})
        SELECT %s, %s, %s, %s, %s, moved.transfer_id, moved.moved, %s, 0, %s, %s FROM moved
        WHERE moved.outcome = 'posted'
        RETURNING id, amount
    ),
    record AS (
        INSERT INTO {IdempotencyRecord._meta.db_table} ({_RECORD_COLUMNS})
        SELECT %s, %s, %s, 201, %s::jsonb || jsonb_build_object('id', purchase.id, 'amount', purchase.amount), %s
        FROM purchase
    )
    SELECT {", ".join(f"moved.{column}" for column in ledger.Posting.COLUMNS)}, (SELECT id FROM purchase) FROM moved
"""
_PIN_FIRST = f"pin AS MATERIALIZED ({cards.PIN_CONFIRMATION_SQL}),\n    "


def _post_and_record_in_one_statement(posting: ledger.Posting, purchase: Purchase, key: str, print_: str,
                                      auth: cards.Authorization) -> dict:
    """PostgreSQL: the whole purchase in one round trip, instead of BEGIN, the ledger, the
    rows and COMMIT in four; with the PIN's try when `auth` leaves it to the payment
    (_PinNotConfirmed when it fails)."""
    ledger_sql, ledger_params = posting.statement()
    if auth.pin_to_confirm is None:
        pin_sql, pin_params = "", []
    else:
        pin_sql, pin_params = _PIN_FIRST, cards.pin_confirmation_params(auth, posting.at)
        ledger_sql = f"SELECT * FROM ({ledger_sql}) posted WHERE EXISTS (SELECT 1 FROM pin)"
    with prepared_cursor() as cursor:
        cursor.execute(_POST_AND_RECORD_SQL.format(pin=pin_sql, ledger=ledger_sql), [
            *pin_params, *ledger_params,
            purchase.vendor_id, purchase.till, purchase.card_id, purchase.card_last4, purchase.wallet_id,
            purchase.requested, purchase.reference, purchase.created_at,
            purchase.vendor_id, key, print_, json.dumps(purchase_body(purchase)), purchase.created_at,
        ])
        row = cursor.fetchone()
    if row is None:
        raise _PinNotConfirmed()
    *ledger_row, purchase.pk = row
    _note_posted(purchase, posting, ledger_row)
    return purchase_body(purchase)


def _record_purchase(purchase: Purchase, key: str, print_: str) -> dict:
    """The purchase and the response kept for its key, in the caller's transaction."""
    with prepared_cursor() as cursor:
        cursor.execute(_INSERT_PURCHASE_SQL, [
            purchase.vendor_id, purchase.till, purchase.card_id, purchase.card_last4, purchase.wallet_id,
            purchase.transfer_id, purchase.amount, purchase.requested, purchase.reference, purchase.created_at,
        ])
        purchase.pk = cursor.fetchone()[0]
        body = purchase_body(purchase)
        cursor.execute(_INSERT_RECORD_SQL, [purchase.vendor_id, key, print_, json.dumps(body), purchase.created_at])
    return body


def _check_daily_cap(vendor_id: int, card_id: int, amount: int, partial: bool, cap: int) -> None:
    # Serialise this card's purchases at this vendor for the rest of the transaction, so
    # two tills cannot both pass the cap.
    with connection.cursor() as cursor:
        locks.lock(cursor, locks.CARD_DAILY_CAP, vendor_id, card_id)
    start = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    spent = Purchase.objects.filter(vendor_id=vendor_id, card_id=card_id, created_at__gte=start).aggregate(
        total=Sum(F("amount") - F("refunded")))["total"] or 0
    if spent + amount > cap:
        raise LimitExceeded(param="amount")


# --- Refund ----------------------------------------------------------------------------


def refund(*, vendor: Vendor, purchase_id: int, idempotency_key: str, amount: int, reason: str = "",
           known_record=LOOK_IT_UP) -> Outcome:
    """Give back `amount` cents of a purchase to the household's wallet; idempotent like
    capture, by the same means (the ledger key). The vendor's account may go below zero
    (refund after reimbursement)."""
    key = validate_key(idempotency_key)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidRequest(_("The amount must be a whole number of cents, more than zero."), param="amount")
    if not vendor.takes_payments:
        raise VendorNotApproved()
    wallet_id = Purchase.objects.filter(pk=purchase_id, vendor_id=vendor.pk).values_list("wallet_id", flat=True).first()
    if wallet_id is None:
        raise NotFound()
    print_ = fingerprint("refund", {"purchase": purchase_id, "amount": amount, "reason": reason})
    stored = stored_answer(vendor.pk, key, print_, known_record)
    if stored:
        return stored

    try:
        with transaction.atomic():
            try:
                refund = _refund_in_transaction(
                    vendor=vendor, purchase_id=purchase_id, wallet_id=wallet_id, amount=amount, reason=reason,
                    ledger_key=keys.refund(vendor.pk, key), wait=False)
            except ledger.KeyBusy:
                raise RequestInProgress(param="Idempotency-Key")
            body = refund_body(refund)
            IdempotencyRecord.objects.create(vendor=vendor, key=key, fingerprint=print_, status_code=201, body=body)
    except (_KeyTaken, ledger.IdempotencyConflict):
        return _answered_before(vendor.pk, key, print_)
    return Outcome(201, body)


def _refund_in_transaction(*, vendor: Vendor, purchase_id: int, wallet_id: int, amount: int, reason: str,
                           ledger_key: str, wait: bool = True, recorded_by=None) -> Refund:
    """The one way a purchase is corrected, whoever asks (the shop's till, a coordinator):
    the transfer back to the wallet, the purchase's `refunded`, and the Refund row, in the
    caller's transaction. Raises RefundExceedsCaptured (the transfer rolled back with it)."""
    posted = ledger.transfer(debit=vendor.account_id, credit=wallet_id, amount=amount, kind=TransferKind.REFUND,
                             idempotency_key=ledger_key, wait=wait)
    if not posted.created:
        raise _KeyTaken()
    # One conditional UPDATE, no read-modify-write: of two concurrent refunds, the second
    # (which waited on the accounts' locks) is checked against what the first left, and
    # rolled back, transfer included, when it would pass what the purchase captured.
    if not Purchase.objects.filter(pk=purchase_id, refunded__lte=F("amount") - amount).update(
            refunded=F("refunded") + amount):
        raise RefundExceedsCaptured(param="amount")
    refund = Refund.objects.create(purchase_id=purchase_id, transfer_id=posted.transfer.pk, amount=amount,
                                   reason=reason, created_at=posted.transfer.created_at, recorded_by=recorded_by)
    # A household that left meanwhile: the units go back to the fund in this transaction,
    # so no exited wallet ever holds a balance.
    returned = enrolment.return_after_exit(wallet_id=wallet_id, amount=amount,
                                           idempotency_key=keys.exit_refund(posted.transfer.pk))
    if not returned:
        shop = vendor.display_name
        at = refund.created_at.isoformat()
        transaction.on_commit(lambda: member_tasks.notify_payment_task.delay(
            wallet_id=wallet_id, amount=amount, shop=shop, refund=True, at=at))
    return refund


# --- A coordinator's correction of a purchase -------------------------------------------

# The four-eyes step of a coordinator's refund above the threshold (kernel.four_eyes,
# registered in VendorsConfig.ready()).
PURCHASE_REFUND = "purchase_refund"


def refund_four_eyes_above() -> int:
    """Above this amount (cents), a coordinator's refund waits for a second coordinator
    (the fund's settings, as they are now)."""
    return fund.cached().refund_four_eyes_above_cents


def coordinator_refund(*, purchase_id: int, amount: int, reason: str, by) -> Refund | Approval:
    """A coordinator corrects a purchase (a wrong amount typed at the till, a shop that
    cannot refund): a refund recorded on the purchase, like the shop's own, so that a
    later refund by the shop can never pay the member twice.

    Up to `refund_four_eyes_above()` it is made now; above, it waits as an Approval that a
    second coordinator gives (allocations.approvals.approve) and is returned as such."""
    if by is None or not roles.is_coordinator(by):
        raise PermissionDenied(_("Only a coordinator may refund a purchase."))
    if not (reason or "").strip():
        raise InvalidRequest(_("Say why this purchase is refunded."), param="reason")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidRequest(_("The amount must be a whole number of cents, more than zero."), param="amount")
    purchase = Purchase.objects.filter(pk=purchase_id).first()
    if purchase is None:
        raise NotFound()
    if purchase.refunded + amount > purchase.amount:
        raise RefundExceedsCaptured(param="amount")
    if amount > refund_four_eyes_above():
        return approvals.request(PURCHASE_REFUND, f"{purchase_id}:{amount}", by=by, reason=reason)
    with transaction.atomic():
        return _coordinator_refund(purchase, amount=amount, reason=reason.strip(), by=by,
                                   ledger_key=keys.coordinator_refund(purchase_id, uuid.uuid4().hex))


def _coordinator_refund(purchase: Purchase, *, amount: int, reason: str, by, ledger_key: str) -> Refund:
    try:
        return _refund_in_transaction(vendor=purchase.vendor, purchase_id=purchase.pk, wallet_id=purchase.wallet_id,
                                      amount=amount, reason=reason[:255], ledger_key=ledger_key, recorded_by=by)
    except _KeyTaken:
        return Refund.objects.get(transfer__idempotency_key=ledger_key)


def execute_coordinator_refund(approval: Approval) -> str:
    """The second coordinator approved: the refund is made now, in the approval's transaction."""
    approvals.require(approval, PURCHASE_REFUND, approval.target)
    purchase_id, amount = (int(part) for part in approval.target.split(":"))
    purchase = Purchase.objects.select_related("vendor").get(pk=purchase_id)
    refund = _coordinator_refund(purchase, amount=amount, reason=approval.reason, by=approval.requested_by,
                                 ledger_key=keys.coordinator_refund_approved(approval.pk))
    return f"refund #{refund.pk}"
