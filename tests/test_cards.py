"""Payment cards: numbers, PINs, locks that grow, blocks and replacements."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from members import cards
from members.models import CardEvent, Household, Person
from members.services import create_household

pytestmark = pytest.mark.django_db


@pytest.fixture
def household():
    return create_household(reference="F-0001", adults=2, status=Household.Status.ACTIVE)


@pytest.fixture
def card(household):
    holder = Person.objects.create(household=household, first_name="Nadia")
    card, _pin = cards.issue_card(household=household, holder=holder, pin="4821")
    return card


def test_card_numbers_carry_a_luhn_check_digit_and_tokens_are_long_random_secrets(household):
    issued = [cards.issue_card(household=household)[0] for _ in range(5)]
    for card in issued:
        assert len(card.number) == 16 and cards.luhn_valid(card.number)
        assert len(card.qr_token) >= 32  # 24 random bytes, base64url: 192 bits
    assert len({card.qr_token for card in issued}) == 5
    assert cards.luhn_valid("79927398713") and not cards.luhn_valid("79927398710")


def test_the_pin_is_stored_as_a_keyed_hash_never_in_clear(card):
    card.refresh_from_db()
    assert "4821" not in card.pin_hash and len(card.pin_hash) == 64
    other, _ = cards.issue_card(household=card.household, pin="4821")
    assert other.pin_hash != card.pin_hash  # the same PIN hashes differently per card


def test_authorize_by_number_with_spaces_or_by_qr_token(card):
    by_number = cards.authorize(card.display_number, "4821")
    by_token = cards.authorize(card.qr_token, "4821")
    assert by_number == by_token
    assert by_number.wallet_id == card.household.wallet_id and by_number.last4 == card.number[-4:]


def test_a_mistyped_number_is_unknown_not_someone_elses_card(card):
    wrong_digit = card.number[:-1] + str((int(card.number[-1]) + 1) % 10)
    with pytest.raises(cards.UnknownCard):
        cards.authorize(wrong_digit, "4821")


def test_three_wrong_pins_lock_for_15_minutes_then_an_hour_then_until_unlocked(card):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _attempt in range(2):
            with pytest.raises(cards.InvalidPin):
                cards.authorize(card.number, "0000")
        with pytest.raises(cards.InvalidPin):
            cards.authorize(card.number, "0000")  # the third: locks
        card.refresh_from_db()
        assert card.locked_until == start + timedelta(minutes=15)
        # Locked: even the right PIN is refused, so guessing stops too.
        with pytest.raises(cards.CardBlocked):
            cards.authorize(card.number, "4821")

        clock.shift(timedelta(minutes=16))
        for _attempt in range(3):
            with pytest.raises(cards.InvalidPin):
                cards.authorize(card.number, "1111")
        card.refresh_from_db()
        assert card.locked_until == start + timedelta(minutes=16) + timedelta(hours=1)

        clock.shift(timedelta(hours=2))
        for _attempt in range(3):
            with pytest.raises(cards.InvalidPin):
                cards.authorize(card.number, "2222")
        card.refresh_from_db()
        assert card.locked_indefinitely
        clock.shift(timedelta(days=3))  # Saturday to Monday and beyond: still locked
        with pytest.raises(cards.CardBlocked):
            cards.authorize(card.number, "4821")

    assert list(CardEvent.objects.filter(card=card, kind=CardEvent.Kind.LOCKED_WRONG_PINS).order_by("at", "pk").values_list("until", flat=True)) == [
        start + timedelta(minutes=15),
        start + timedelta(minutes=16, hours=1),
        None,
    ]
    cards.unlock_card(card)
    assert cards.authorize(card.number, "4821").card_id == card.pk


def test_a_right_pin_clears_the_count_of_wrong_ones(card):
    for _attempt in range(2):
        with pytest.raises(cards.InvalidPin):
            cards.authorize(card.number, "9999")
    cards.authorize(card.number, "4821")
    for _attempt in range(2):
        with pytest.raises(cards.InvalidPin):
            cards.authorize(card.number, "9999")
    card.refresh_from_db()
    assert not card.is_locked() and card.failed_pin_attempts == 2


def test_a_replaced_card_is_refused_and_its_successor_works_on_the_same_wallet(card):
    new_card, new_pin = cards.replace_card(card, note="lost")
    with pytest.raises(cards.CardBlocked):
        cards.authorize(card.number, "4821")
    with pytest.raises(cards.CardBlocked):
        cards.authorize(card.qr_token, "4821")
    auth = cards.authorize(new_card.qr_token, new_pin)
    assert auth.wallet_id == card.household.wallet_id
    assert new_card.number != card.number and new_card.replaces_id == card.pk and new_card.holder_id == card.holder_id


def test_several_cards_draw_on_the_one_wallet_of_the_household(household):
    first, pin1 = cards.issue_card(household=household, holder=Person.objects.create(household=household, first_name="A"))
    second, pin2 = cards.issue_card(household=household, holder=Person.objects.create(household=household, first_name="B"))
    assert cards.authorize(first.number, pin1).wallet_id == cards.authorize(second.number, pin2).wallet_id == household.wallet_id


def test_a_blocked_card_and_a_paused_household_cannot_pay(card):
    Household.objects.filter(pk=card.household_id).update(status=Household.Status.PAUSED)
    with pytest.raises(cards.CardBlocked):
        cards.authorize(card.number, "4821")
    Household.objects.filter(pk=card.household_id).update(status=Household.Status.ACTIVE)
    cards.block_card(card, note="stolen")
    with pytest.raises(cards.CardBlocked):
        cards.authorize(card.number, "4821")


def test_the_holder_can_lock_and_unlock_and_each_is_recorded(card):
    cards.lock_card(card)
    with pytest.raises(cards.CardBlocked):
        cards.authorize(card.number, "4821")
    cards.unlock_card(card)
    assert cards.authorize(card.number, "4821")
    assert list(card.events.order_by("at", "pk").values_list("kind", flat=True)) == ["issued", "locked", "unlocked"]


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "", " 123"])
def test_a_pin_is_exactly_four_digits(card, pin):
    with pytest.raises(cards.PinFormatError):
        cards.change_pin(card, new_pin=pin)


def test_reset_pin_gives_a_new_one_and_lifts_a_lock(card):
    for _attempt in range(3):
        with pytest.raises(cards.InvalidPin):
            cards.authorize(card.number, "0000")
    new_pin = cards.reset_pin(card)
    assert cards.authorize(card.number, new_pin).card_id == card.pk
    with pytest.raises(cards.InvalidPin):
        cards.authorize(card.number, "4821" if new_pin != "4821" else "4822")
