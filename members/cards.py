"""Payment cards: numbers, QR tokens, PINs, locks, blocks and replacements.

`authorize()` is what a till calls (through vendors.payments) before it debits a
wallet. It counts and compares each PIN in one conditional UPDATE, in autocommit: call
it outside the payment's transaction, so that a payment rolled back afterwards still
counts a wrong PIN and the card's row is not locked across the payment. On a card with
no wrong PIN counted, a payment made in one statement tries the PIN in that statement
instead (`authorize(in_payment=True)`, `PIN_CONFIRMATION_SQL`): one round trip less.
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
    # (card id, keyed hash of the PIN typed) when the PIN is still to be tried, in the
    # payment's own statement (`PIN_CONFIRMATION_SQL`): see `authorize(in_payment=True)`.
    pin_to_confirm: tuple[int, str] | None = None


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
    return "".join(raw.split()).replace("-", "")  # split(): every kind of space, as str.isspace


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


@dataclass(frozen=True)
class Lookup:
    """Where a card is looked for: its number (spaces allowed; the check digit must be
    right) or its QR token. `card` is the card found there, when the caller's own
    statement already read it (`find_card_statement`), so that a payment reads it once."""

    column: str
    value: str
    card: Card | None = None


def lookup(identifier: str) -> Lookup | None:
    """Where to look for the card `identifier` names; None when nothing can be found."""
    if not isinstance(identifier, str):
        return None
    identifier = identifier.strip()
    number = normalize_number(identifier)
    if number.isdigit():
        return Lookup("number", number) if luhn_valid(number) else None
    return Lookup("qr_token", identifier) if identifier else None


def find_card_statement(column: str) -> str:
    """The SELECT `find_card` runs, one %s for the value: for a caller that folds it into
    its own statement (LEFT JOIN LATERAL) and reads its columns back with `card_from_row`."""
    return _FIND_CARD_SQL.format(column=column)


FIND_CARD_WIDTH = len(_CARD_FIELDS) + 3


def card_from_row(row) -> Card | None:
    """The card of a `find_card_statement` row (None if its columns are all NULL), with its
    household's status and wallet (`card.household`) and `card.notify_payments`."""
    if row[0] is None:
        return None
    width = len(_CARD_FIELDS)
    card = Card.from_db(connection.alias, _CARD_FIELDS, row[:width])
    household_status, wallet_id, card.notify_payments = row[width:FIND_CARD_WIDTH]
    card.household = Household.from_db(connection.alias, ("id", "status", "wallet_id"),
                                       (card.household_id, household_status, wallet_id))
    return card


def find_card(identifier: str) -> Card | None:
    """A card by its number (spaces allowed; the check digit must be right) or its QR token,
    with its household's status and wallet (`card.household`) and `card.notify_payments`."""
    where = lookup(identifier)
    if where is None:
        return None
    with prepared_cursor() as cursor:
        cursor.execute(find_card_statement(where.column), [where.value])
        row = cursor.fetchone()
    return None if row is None else card_from_row(row)


def _lock_until_case() -> str:
    # The lock a third wrong PIN sets, by how many locks came before it in a row.
    whens = " ".join(f"WHEN {level} THEN %(until{level})s" for level in range(len(LOCK_DURATIONS)))
    return f"CASE lock_level {whens} ELSE NULL END"


# One statement reserves the attempt and compares the PIN, under the row lock PostgreSQL
# takes for an UPDATE and releases at once (autocommit: nothing is held across the
# payment). Reading the lock state first and counting afterwards let 32 concurrent
# guesses all be compared against a card that looked unlocked; here the WHERE clause is
# evaluated again on the newest row by each waiting UPDATE, so the fourth guess finds
# the card locked and its PIN is never compared. A right PIN goes through the same
# statement: it must not slip in beside wrong ones that have not yet locked the card.
# The comparison of two keyed hashes in SQL tells a timing observer nothing about the PIN.
_WRONG = "pin_hash <> %(hash)s"
_LOCKS = f"({_WRONG} AND failed_pin_attempts + 1 >= {WRONG_PINS_BEFORE_LOCK})"
_TRY_PIN_SQL = f"""
    UPDATE {Card._meta.db_table} SET
        failed_pin_attempts = CASE WHEN {_WRONG} AND NOT {_LOCKS} THEN failed_pin_attempts + 1 ELSE 0 END,
        lock_level = CASE WHEN NOT ({_WRONG}) THEN 0 WHEN {_LOCKS} THEN lock_level + 1 ELSE lock_level END,
        locked_until = CASE WHEN {_LOCKS} THEN {_lock_until_case()} ELSE locked_until END,
        locked_indefinitely = locked_indefinitely OR ({_LOCKS} AND lock_level >= {len(LOCK_DURATIONS)})
    WHERE id = %(card)s AND status = %(active)s AND NOT locked_indefinitely
          AND (locked_until IS NULL OR locked_until <= %(now)s)
    RETURNING NOT ({_WRONG}), locked_until, locked_indefinitely
"""


def authorize_own_card(*, card_id: int, household_id: int, pin: str | None) -> Authorization:
    """A payment a signed-in member confirms on their own phone, with their household's
    card: its PIN is checked by `authorize` (and counted when wrong) when the fund asks
    for one (`pin` given); otherwise the card need only be usable."""
    token = Card.objects.filter(pk=card_id, household_id=household_id).values_list("qr_token", flat=True).first()
    if token is None:
        raise UnknownCard()
    if pin is not None:
        return authorize(token, pin)
    card = find_card(token)
    if card is None:
        raise UnknownCard()
    if card.status != Card.Status.ACTIVE or card.household.status != Household.Status.ACTIVE or card.is_locked():
        raise CardBlocked()
    return Authorization(card.pk, card.household.id, card.household.wallet_id, card.last4, card.notify_payments)


# The PIN's try inside a payment's one statement (vendors.payments), for a card that had
# no wrong PIN counted when it was read: the payment goes ahead only if this returns its
# row. FOR SHARE waits for a concurrent try in flight (an UPDATE of the row) and then
# reads the newest row again, so a wrong PIN counted or a lock set since the card was read
# fails it, as does a wrong PIN; two payments on one card do not wait for each other.
# When it fails, nothing is paid and `authorize` then tries the PIN the counted way: a
# wrong PIN and a right one on a changed card take the same statements, so timing tells
# nothing either. Parameters: the card's id, the PIN's keyed hash, the active status, now.
PIN_CONFIRMATION_SQL = f"""
    SELECT 1 FROM {Card._meta.db_table}
    WHERE id = %s AND pin_hash = %s AND status = %s AND failed_pin_attempts = 0 AND lock_level = 0
          AND NOT locked_indefinitely AND (locked_until IS NULL OR locked_until <= %s)
    FOR SHARE
"""


def pin_confirmation_params(authorization: Authorization, now) -> list:
    card_id, pin_hash = authorization.pin_to_confirm
    return [card_id, pin_hash, Card.Status.ACTIVE, now]


def authorize(identifier: str, pin: str, *, found: Lookup | None = None, in_payment: bool = False) -> Authorization:
    """Check a card and its PIN; raise UnknownCard, CardBlocked or InvalidPin.

    At most WRONG_PINS_BEFORE_LOCK wrong PINs per lock window, however many tills, API
    calls and terminals try at once: each try is counted before its answer, in one
    conditional UPDATE (see _TRY_PIN_SQL), and a locked card's PIN is never compared.
    Call it outside the payment's transaction, so that the count stays when the payment
    rolls back and the row lock is not held across it.
    `found`: where this request already looked for the card, with what it found there.
    `in_payment`: the caller's payment is one statement that can try the PIN itself
    (PIN_CONFIRMATION_SQL): on a card with no wrong PIN counted, the PIN is not tried
    here but left to it (`Authorization.pin_to_confirm`); the caller calls `authorize`
    again, without `in_payment`, when that try fails.
    """
    where = lookup(identifier)
    if where is None:
        raise UnknownCard()
    if found is not None and (found.column, found.value) == (where.column, where.value):
        card = found.card
    else:
        card = find_card(identifier)
    if card is None:
        raise UnknownCard()
    now = timezone.now()
    # The household rides along (never in the message): its members hear the reason, the till does not.
    if card.status != Card.Status.ACTIVE or card.household.status != Household.Status.ACTIVE or card.is_locked(now):
        raise CardBlocked(household_id=card.household_id)
    if not isinstance(pin, str):
        pin = ""
    pin_hash = _pin_hash(card.pk, pin)
    if in_payment and card.failed_pin_attempts == 0 and card.lock_level == 0:
        return Authorization(card.pk, card.household.id, card.household.wallet_id, card.last4, card.notify_payments,
                             pin_to_confirm=(card.pk, pin_hash))
    params = {"hash": pin_hash, "card": card.pk, "active": Card.Status.ACTIVE, "now": now}
    params.update({f"until{level}": now + duration for level, duration in enumerate(LOCK_DURATIONS)})
    with prepared_cursor() as cursor:
        cursor.execute(_TRY_PIN_SQL, params)
        row = cursor.fetchone()
    if row is None:  # locked or blocked by a concurrent request since it was read
        raise CardBlocked(household_id=card.household_id)
    right, locked_until, locked_indefinitely = row
    if not right:
        if locked_indefinitely or (locked_until is not None and locked_until > now):
            # The WHERE clause let only an unlocked card through: this try locked it.
            _event(card, CardEvent.Kind.LOCKED_WRONG_PINS, until=None if locked_indefinitely else locked_until)
        raise InvalidPin(household_id=card.household_id)
    return Authorization(card.pk, card.household.id, card.household.wallet_id, card.last4, card.notify_payments)
