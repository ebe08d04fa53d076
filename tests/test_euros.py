"""One parser of amounts typed in euros (kernel.money.parse_euros), used by the terminal,
the desk, the portal, the imports and the coordinators' forms."""

import pytest
from django.core.exceptions import ValidationError

from kernel.money import parse_euros
from vendors.models import Purchase

from .member_fixtures import make_member
from .vendor_fixtures import make_staff, make_vendor


@pytest.mark.parametrize("typed, cents", [
    ("12", 1_200), ("12,50", 1_250), ("12.5", 1_250), (" 1 234,50 € ", 123_450), ("0,05", 5),
    ("1\u202f234,5", 123_450), (7, 700), ("000,10", 10),
])
def test_amounts_people_type(typed, cents):
    assert parse_euros(typed) == cents


@pytest.mark.parametrize("typed", [
    "1e2", "1E2", "-5", "-0,01", "12,345", "12.3.4", "1.234,50", "abc", "", None, "NaN", "Infinity", "12,", ",5",
    "+5", "0x10", "1_000", -3, True, "١٢",
])
def test_what_is_not_an_amount_is_refused_clearly(typed):
    with pytest.raises(ValidationError) as refused:
        parse_euros(typed)
    assert "12,50" in refused.value.messages[0]


def test_a_signed_amount_only_where_asked():
    assert parse_euros("-12,50", signed=True) == -1_250
    with pytest.raises(ValidationError):
        parse_euros("-1e2", signed=True)


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["1e2", "-5", "2,001"])
def test_the_terminal_refuses_exponents_negatives_and_thirds_of_a_cent(client, typed):
    shop = make_vendor("epicerie-du-coin")
    client.force_login(make_staff(shop))
    member = make_member("F-0400", balance=50_000)

    answer = client.post("/vendor/terminal/pay/", {"card": member.card.number, "pin": member.pin, "amount": typed,
                                                   "idempotency_key": "k1"}).json()

    assert not answer["ok"] and answer["headline"] == "Le paiement n’est pas passé."
    assert "12,50" in answer["reason"]
    assert not Purchase.objects.exists()
