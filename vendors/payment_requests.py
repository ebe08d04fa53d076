"""Paying from one's own phone (issue 22): no card number or PIN on the shop's device.

Two ways, both ending in an ordinary purchase made by `vendors.payments` (its capture
path, caps, idempotency and partial offer), so that refunds, statements, settlements and
check_ledger treat it like any other:

- **a payment request**: the shop (web terminal or till API) asks for an amount; the
  member opens its QR code or types its short code on their own phone, sees the shop and
  the amount, and confirms, with their PIN only above the fund's amount
  (the fund's settings' `phone_pin_above_cents`). A request is single use and lives at most three
  minutes; the confirmation locks its row, so two phones make one purchase;
- **a printed stall code**, for a stall without any device: the member scans the stall's
  printed QR, types the amount and confirms; the confirmation shows the stall's code of
  the day, which the stall holder knows from their own list (another day's screenshot
  shows another code).

The shop sees the amount, the time and a short payment reference; never the card's
number (the purchase keeps no last four digits on these paths) nor the PIN.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allocations import fund
from kernel import mail
from kernel.money import format_units
from members import cards
from members.selectors import paying_card

from . import payments
from .models import IdempotencyRecord, PaymentRequest, Purchase, Vendor

# No 0/O, 1/I/L: read aloud or typed from a screen without doubt.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


class RequestExpired(payments.PaymentError):
    code = "payment_request_expired"
    status = 409
    message = _("This payment request has expired. Ask the shop for a new one.")


class RequestCancelled(payments.PaymentError):
    code = "payment_request_cancelled"
    status = 409
    message = _("The shop cancelled this payment request.")


class RequestAlreadyPaid(payments.PaymentError):
    code = "payment_request_already_paid"
    status = 409
    message = _("This payment request is already paid.")


class RequestNotFound(payments.NotFound):
    message = _("No such payment request.")


class PinRequired(payments.PaymentError):
    code = "pin_required"
    status = 400
    message = _("Above this amount, type your card's PIN.")


class NoCard(payments.Declined):
    code = "no_card"
    message = _("Your household has no card in use: ask at the desk.")


class StallCodeOutdated(payments.PaymentError):
    code = "stall_code_outdated"
    status = 409
    message = _("This page is from another day. Scan the stall's code again.")


def request_seconds() -> int:
    """How long a request waits for the member: at most three minutes."""
    return min(180, int(getattr(settings, "CAISSE_PAYMENT_REQUEST_SECONDS", 180)))


def pin_above() -> int:
    """Above this amount (cents) the member types the PIN on their own phone: the till's
    copy of the fund's settings (at most fund.TILL_REFRESH_SECONDS old)."""
    return fund.cached(within=fund.TILL_REFRESH_SECONDS).phone_pin_above_cents


def needs_pin(amount: int) -> bool:
    return amount > pin_above()


def status_of(request: PaymentRequest, now=None) -> str:
    """pending | paid | expired | cancelled: a pending request past its time is expired."""
    if request.status == PaymentRequest.Status.PENDING and (now or timezone.now()) >= request.expires_at:
        return "expired"
    return request.status


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    return "".join(char for char in (raw or "").upper() if char.isalnum())[:CODE_LENGTH]


# --- The shop's side --------------------------------------------------------------------


def create_request(*, vendor: Vendor, idempotency_key: str, amount: int, reference: str = "", till: str = "",
                   known_record=payments.LOOK_IT_UP) -> tuple[PaymentRequest, bool]:
    """A new payment request, or the one this key already made (True: replayed).

    Idempotent like a purchase, in the same records: a retry with the same key and body
    gets the same request; the same key with another body is `idempotency_key_reused`."""
    key = payments.validate_key(idempotency_key)
    amount = payments.validate_amount(amount)
    if not vendor.takes_payments:
        raise payments.VendorNotApproved()
    print_ = payments.fingerprint("payment_request", {"amount": amount, "reference": reference})
    stored = payments.stored_answer(vendor.pk, key, print_, known_record)
    if stored:
        return PaymentRequest.objects.get(pk=stored.body["id"]), True
    for _attempt in range(5):
        now = timezone.now()
        try:
            with transaction.atomic():
                request = PaymentRequest.objects.create(
                    vendor=vendor, till=till[:64], code=_new_code(), amount=amount, reference=reference,
                    capture_key=secrets.token_urlsafe(24), created_at=now,
                    expires_at=now + timedelta(seconds=request_seconds()))
                IdempotencyRecord.objects.create(vendor=vendor, key=key, fingerprint=print_, status_code=201,
                                                 body={"id": request.pk, "object": "payment_request"})
            return request, False
        except IntegrityError:
            # The same key, finished by a concurrent duplicate: its request. Otherwise a
            # code already taken: draw again.
            stored = payments.stored_answer(vendor.pk, key, print_)
            if stored:
                return PaymentRequest.objects.get(pk=stored.body["id"]), True
    raise RuntimeError("could not draw a free payment request code")  # pragma: no cover


def vendor_request(vendor: Vendor, request_id: int) -> PaymentRequest:
    """One of this vendor's requests; another vendor's is not found either."""
    request = PaymentRequest.objects.select_related("purchase").filter(pk=request_id, vendor=vendor).first()
    if request is None:
        raise RequestNotFound()
    return request


def _refuse_closed(request: PaymentRequest, now) -> None:
    """Refuse a request that can no longer be paid or cancelled, saying why."""
    status = status_of(request, now)
    if status == "expired":
        raise RequestExpired()
    if status == "cancelled":
        raise RequestCancelled()
    if status == "paid":
        raise RequestAlreadyPaid()


def cancel_request(*, vendor: Vendor, request_id: int) -> PaymentRequest:
    """The shop cancels a pending request. One conditional UPDATE: of a cancel and a
    confirmation at once, whichever takes the row first wins, and the other is told.
    Cancelling a cancelled request again changes nothing."""
    now = timezone.now()
    cancelled = PaymentRequest.objects.filter(
        pk=request_id, vendor=vendor, status=PaymentRequest.Status.PENDING, expires_at__gt=now,
    ).update(status=PaymentRequest.Status.CANCELLED, decided_at=now)
    request = vendor_request(vendor, request_id)
    if not cancelled and request.status != PaymentRequest.Status.CANCELLED:
        _refuse_closed(request, now)
    return request


# --- The member's side ------------------------------------------------------------------


def request_by_code(code: str) -> PaymentRequest:
    request = PaymentRequest.objects.select_related("vendor").filter(code=normalize_code(code)).first()
    if request is None:
        raise RequestNotFound()
    return request


def _authorize(*, household, user, amount: int, pin: str | None) -> cards.Authorization:
    """The member's own card, its PIN checked (outside any payment's transaction, so that
    a wrong PIN stays counted) when the amount asks for one."""
    card = paying_card(household, user)
    if card is None:
        raise NoCard()
    if needs_pin(amount) and not pin:
        raise PinRequired(param="pin")
    try:
        authorization = cards.authorize_own_card(card_id=card.pk, household_id=household.pk,
                                                 pin=pin if needs_pin(amount) else None)
    except cards.CardError as error:
        raise payments.declined(error)
    # The shop is not to learn anything of the card, its last digits included.
    return dataclasses.replace(authorization, last4="")


def confirm_request(*, code: str, household, user, pin: str | None = None, partial: bool = False) -> Purchase:
    """The member confirms a request on their own phone: one ordinary purchase, once.

    The request's row is locked (SELECT ... FOR UPDATE) for the purchase's transaction:
    a second phone, or the shop's cancel, waits, then finds it paid."""
    request = request_by_code(code)
    _refuse_closed(request, timezone.now())  # before the PIN: no wrong PIN counted for nothing
    authorization = _authorize(household=household, user=user, amount=request.amount, pin=pin)
    with transaction.atomic():
        request = PaymentRequest.objects.select_for_update().select_related("vendor").get(pk=request.pk)
        now = timezone.now()
        _refuse_closed(request, now)
        outcome = payments.capture_authorized(
            vendor=request.vendor, idempotency_key=request.capture_key, authorization=authorization,
            amount=request.amount, reference=request.reference or request.code, partial=partial, till=request.till)
        PaymentRequest.objects.filter(pk=request.pk).update(
            status=PaymentRequest.Status.PAID, purchase_id=outcome.body["id"], decided_at=now)
    return Purchase.objects.select_related("vendor").get(pk=outcome.body["id"])


# --- Printed stall codes ----------------------------------------------------------------


def _mac(message: str) -> str:
    return hmac.new(settings.CAISSE_STALL_CODE_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def stall_token(vendor: Vendor) -> str:
    """What the stall's printed QR code carries besides the shop: not guessable from its name."""
    return _mac(f"stall-qr:{vendor.pk}")[:20]


def stall_vendor(slug: str, token: str) -> Vendor | None:
    vendor = Vendor.objects.filter(slug=slug).first()
    if vendor is None or not hmac.compare_digest(stall_token(vendor), token or ""):
        return None
    return vendor


def stall_code(vendor: Vendor, day: date | None = None) -> str:
    """The stall's code of the day, 4 digits: shown on the member's confirmation, and on
    the stall holder's own list."""
    day = day or timezone.localdate()
    return f"{int(_mac(f'stall-day:{vendor.pk}:{day.isoformat()}')[:12], 16) % 10_000:04d}"


def stall_codes(vendor: Vendor, *, days: int = 31) -> list[tuple[date, str]]:
    """The codes of the coming days, for the stall holder's printed list."""
    today = timezone.localdate()
    return [(today + timedelta(days=offset), stall_code(vendor, today + timedelta(days=offset)))
            for offset in range(days)]


def short_reference(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:6].upper()


def pay_at_stall(*, vendor: Vendor, household, user, amount: int, code_of_the_day: str, idempotency_key: str,
                 pin: str | None = None, partial: bool = False) -> Purchase:
    """The member pays a stall from its printed code. `code_of_the_day` is the code the
    confirmation screen showed: a page kept from another day is refused, so that the code
    the stall holder checks is today's. `idempotency_key` is the member's form's: a
    double submit pays once."""
    amount = payments.validate_amount(amount)
    key = "stall:" + payments.validate_key(idempotency_key)[:200]
    if not vendor.takes_payments:
        raise payments.VendorNotApproved()
    if not hmac.compare_digest(code_of_the_day or "", stall_code(vendor)):
        raise StallCodeOutdated()
    authorization = _authorize(household=household, user=user, amount=amount, pin=pin)
    outcome = payments.capture_authorized(vendor=vendor, idempotency_key=key, authorization=authorization,
                                          amount=amount, reference=short_reference(key), partial=partial,
                                          till="stall")
    purchase = Purchase.objects.select_related("vendor").get(pk=outcome.body["id"])
    if not outcome.replayed:
        _tell_stall_holder(purchase, code_of_the_day)
    return purchase


def _tell_stall_holder(purchase: Purchase, code_of_the_day: str) -> None:
    """A stall has no device at the market: its holder gets a notice of each payment (amount,
    time, reference, code of the day), and nothing of who paid."""
    vendor = purchase.vendor
    at = timezone.localtime(purchase.created_at)
    subject = _("Payment received: %(amount)s") % {"amount": format_units(purchase.amount)}
    body = _(
        "%(shop)s received a payment of %(amount)s on %(date)s at %(time)s, from a member's phone.\n"
        "Reference: %(reference)s. Code of the day shown to the member: %(code)s.\n"
        "The payment is in your list of the day's payments."
    ) % {"shop": vendor.display_name, "amount": format_units(purchase.amount), "date": at.strftime("%d/%m/%Y"),
         "time": at.strftime("%H:%M"), "reference": purchase.reference, "code": code_of_the_day}
    mail.send_after_commit([(subject, body, vendor.contact_email)])
