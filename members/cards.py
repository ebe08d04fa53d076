"""Payment cards: numbers, QR tokens, PINs, locks, blocks and replacements.

`authorize()` is what a till calls (through vendors.payments) before it debits a
wallet. It counts wrong PINs in its own short transaction: call it outside the
payment's transaction, so that a payment rolled back afterwards still counts them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import segno
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.db import model_order, prepared_cursor
from kernel.errors import DomainError

from .models import Card, CardEvent, Household, Person

WRONG_PINS_BEFORE_LOCK = 3
# The first lock lasts 15 minutes, the second an hour, the third until someone unlocks
# it: a member who mistypes is not stranded for a weekend, and guessing 1 PIN in 10 000
# three tries at a time stays out of reach.
LOCK_DURATIONS = (timedelta(minutes=15), timedelta(hours=1))


class CardError(DomainError):
    code = "card_error"
    message = _("This card cannot be used.")


class UnknownCard(CardError):
    code = "unknown_card"
    message = _("This card number or QR code is not known.")


class CardBlocked(CardError):
    code = "card_blocked"
    message = _("This card is locked or blocked.")


class InvalidPin(CardError):
    code = "invalid_pin"
    message = _("The PIN is wrong.")


class PinFormatError(CardError):
    code = "invalid_pin_format"
    message = _("A PIN is exactly 4 digits.")


@dataclass(frozen=True)
class Authorization:
    card_id: int
    household_id: int
    wallet_id: int
    last4: str
    notify_payments: bool = False  # someone in the household asked for an e-mail per payment


# --- Numbers and secrets ---------------------------------------------------------------


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # every second digit from the right, the check digit to come excluded
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return len(number) >= 2 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def normalize_number(raw: str) -> str:
    return "".join(char for char in raw if not char.isspace() and char != "-")


def _new_number() -> str:
    body = settings.CARD_NUMBER_PREFIX + "".join(secrets.choice("0123456789") for _ in range(15 - len(settings.CARD_NUMBER_PREFIX)))
    return body + luhn_check_digit(body)


def _new_qr_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def qr_svg(card: Card, *, scale: int = 5) -> str:
    """The card's QR code as inline SVG. A viewBox and no fixed size, so that CSS scales it
    whole (a fixed width cut two corner squares off); the 4-module quiet zone scanners need."""
    svg = segno.make(card.qr_token, error="m").svg_inline(scale=scale, border=4, omitsize=True,
                                                          title=str(_("Card QR code")))
    return svg.replace("<svg ", '<svg role="img" ', 1)


def _pin_hash(card_id: int, pin: str) -> str:
    # Keyed: a copy of the database alone does not let anyone try the 10 000 PINs.
    return hmac.new(settings.PIN_HASH_KEY.encode(), f"{card_id}:{pin}".encode(), hashlib.sha256).hexdigest()


def _validate_pin(pin: str) -> str:
    if not isinstance(pin, str) or len(pin) != 4 or not pin.isdigit():
        raise PinFormatError()
    return pin


def random_pin() -> str:
    return f"{secrets.randbelow(10_000):04d}"


# --- Issuing ---------------------------------------------------------------------------


def _event(card: Card, kind: str, by=None, until=None, note: str = "") -> None:
    CardEvent.objects.create(card=card, kind=kind, by=by, until=until, note=note)


@transaction.atomic
def issue_card(*, household: Household, holder: Person | None = None, pin: str | None = None, by=None,
               replaces: Card | None = None) -> tuple[Card, str]:
    """A new card on the household's wallet; returns it with its PIN (to print once)."""
    pin = _validate_pin(pin) if pin is not None else random_pin()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                card = Card.objects.create(
                    household=household, holder=holder, number=_new_number(), qr_token=_new_qr_token(), replaces=replaces
                )
            break
        except IntegrityError:  # a number already taken: 1 in 10^11, draw again
            continue
    else:  # pragma: no cover
        raise RuntimeError("could not draw a free card number")
    card.pin_hash = _pin_hash(card.pk, pin)
    card.save(update_fields=["pin_hash"])
    _event(card, CardEvent.Kind.ISSUED, by=by)
    return card, pin


@transaction.atomic
def replace_card(card: Card, *, by=None, note: str = "") -> tuple[Card, str]:
    """Block a lost or damaged card and issue its successor to the same holder, with a new PIN.

    From this moment the old number and QR token are refused.
    """
    card = Card.objects.select_for_update().get(pk=card.pk)
    if card.status == Card.Status.REPLACED:
        raise CardBlocked(_("This card was already replaced."))
    card.status = Card.Status.REPLACED
    card.blocked_at = card.blocked_at or timezone.now()
    card.save(update_fields=["status", "blocked_at"])
    _event(card, CardEvent.Kind.REPLACED, by=by, note=note)
    return issue_card(household=card.household, holder=card.holder, by=by, replaces=card)


@transaction.atomic
def block_card(card: Card, *, by=None, note: str = "") -> Card:
    """Lost or stolen: refused for good (a replacement is a new card)."""
    card = Card.objects.select_for_update().get(pk=card.pk)
    if card.status == Card.Status.ACTIVE:
        card.status = Card.Status.BLOCKED
        card.blocked_at = timezone.now()
        card.save(update_fields=["status", "blocked_at"])
        _event(card, CardEvent.Kind.BLOCKED, by=by, note=note)
    return card


@transaction.atomic
def lock_card(card: Card, *, by=None) -> Card:
    """The holder puts the card aside for a while (can't find it, lent the phone): undone by unlock."""
    card = Card.objects.select_for_update().get(pk=card.pk)
    card.locked_indefinitely = True
    card.save(update_fields=["locked_indefinitely"])
    _event(card, CardEvent.Kind.LOCKED_BY_HOLDER, by=by)
    return card


@transaction.atomic
def unlock_card(card: Card, *, by=None) -> Card:
    """By the holder when logged in, or at the desk: clears every lock and the wrong-PIN count."""
    card = Card.objects.select_for_update().get(pk=card.pk)
    card.locked_indefinitely = False
    card.locked_until = None
    card.failed_pin_attempts = 0
    card.lock_level = 0
    card.save(update_fields=["locked_indefinitely", "locked_until", "failed_pin_attempts", "lock_level"])
    _event(card, CardEvent.Kind.UNLOCKED, by=by)
    return card


@transaction.atomic
def change_pin(card: Card, *, new_pin: str, by=None) -> None:
    _validate_pin(new_pin)
    Card.objects.filter(pk=card.pk).update(pin_hash=_pin_hash(card.pk, new_pin), failed_pin_attempts=0)
    _event(card, CardEvent.Kind.PIN_CHANGED, by=by)


@transaction.atomic
def reset_pin(card: Card, *, by=None) -> str:
    """At the desk: a new random PIN, given on paper; also lifts a wrong-PIN lock."""
    pin = random_pin()
    Card.objects.filter(pk=card.pk).update(
        pin_hash=_pin_hash(card.pk, pin), failed_pin_attempts=0, lock_level=0, locked_until=None,
        locked_indefinitely=False,
    )
    _event(card, CardEvent.Kind.PIN_RESET, by=by)
    return pin


# --- At the till -----------------------------------------------------------------------


_CARD_FIELDS = model_order(Card, "id", "household_id", "holder_id", "number", "pin_hash", "status",
                           "failed_pin_attempts", "lock_level", "locked_until", "locked_indefinitely")
# Every payment at a till reads the card: one hand-written statement, which also says
# whether anyone in the household wants an e-mail for each payment (most do not, and
# then the payment need not look).
_FIND_CARD_SQL = f"""
    SELECT {", ".join(f"c.{name}" for name in _CARD_FIELDS)}, h.status, h.wallet_id,
           EXISTS (SELECT 1 FROM {Person._meta.db_table} p
                   WHERE p.household_id = h.id AND p.email_each_payment AND p.user_id IS NOT NULL)
    FROM {Card._meta.db_table} c JOIN {Household._meta.db_table} h ON h.id = c.household_id
    WHERE c.{{column}} = %s
"""


def find_card(identifier: str) -> Card | None:
    """A card by its number (spaces allowed; the check digit must be right) or its QR token,
    with its household's status and wallet (`card.household`) and `card.notify_payments`."""
    identifier = (identifier or "").strip()
    number = normalize_number(identifier)
    if number.isdigit():
        if not luhn_valid(number):
            return None
        column, value = "number", number
    else:
        column, value = "qr_token", identifier
    with prepared_cursor() as cursor:
        cursor.execute(_FIND_CARD_SQL.format(column=column), [value])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(_CARD_FIELDS)
    card = Card.from_db(connection.alias, _CARD_FIELDS, row[:width])
    household_status, wallet_id, card.notify_payments = row[width:]
    card.household = Household.from_db(connection.alias, ("id", "status", "wallet_id"),
                                       (card.household_id, household_status, wallet_id))
    return card


def authorize(identifier: str, pin: str) -> Authorization:
    """Check a card and its PIN; raise UnknownCard, CardBlocked or InvalidPin.

    A card that is locked is refused before its PIN is even looked at, so a lock also
    stops guessing.
    """
    card = find_card(identifier)
    if card is None:
        raise UnknownCard()
    now = timezone.now()
    # The household rides along (never in the message): its members hear the reason, the till does not.
    if card.status != Card.Status.ACTIVE or card.household.status != Household.Status.ACTIVE or card.is_locked(now):
        raise CardBlocked(household_id=card.household_id)
    if not isinstance(pin, str) or not hmac.compare_digest(card.pin_hash, _pin_hash(card.pk, pin)):
        _count_wrong_pin(card.pk, now)
        raise InvalidPin(household_id=card.household_id)
    if card.failed_pin_attempts or card.lock_level:
        Card.objects.filter(pk=card.pk).update(failed_pin_attempts=0, lock_level=0)
    return Authorization(card.pk, card.household.id, card.household.wallet_id, card.last4, card.notify_payments)


def _count_wrong_pin(card_id: int, now) -> None:
    # Its own transaction, committed even when the caller's payment rolls back; the row
    # lock serialises concurrent wrong PINs so none is lost.
    with transaction.atomic():
        card = Card.objects.select_for_update().get(pk=card_id)
        card.failed_pin_attempts += 1
        if card.failed_pin_attempts < WRONG_PINS_BEFORE_LOCK:
            card.save(update_fields=["failed_pin_attempts"])
            return
        card.failed_pin_attempts = 0
        if card.lock_level < len(LOCK_DURATIONS):
            card.locked_until = now + LOCK_DURATIONS[card.lock_level]
        else:
            card.locked_indefinitely = True
        card.lock_level += 1
        card.save(update_fields=["failed_pin_attempts", "lock_level", "locked_until", "locked_indefinitely"])
        _event(card, CardEvent.Kind.LOCKED_WRONG_PINS, until=None if card.locked_indefinitely else card.locked_until)
