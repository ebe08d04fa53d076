"""A household with a person who logs in and holds a card, as the portal and till tests need."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from allocations import ledger
from allocations.models import AccountKind, TransferKind
from members import cards
from members.models import Card, Household, Person
from members.services import create_household

PASSWORD = "un-mot-de-passe-solide"


@dataclass
class Member:
    household: Household
    person: Person
    user: object
    card: Card
    pin: str


def make_member(reference: str, *, email: str = "", phone: str = "", balance: int = 0, pin: str = "2468") -> Member:
    household = create_household(reference=reference, status=Household.Status.ACTIVE)
    user = get_user_model().objects.create_user(
        username=f"user-{reference.lower()}", email=email, phone=phone, password=PASSWORD
    )
    person = Person.objects.create(household=household, first_name="Prénom", last_name=reference, user=user)
    card, pin = cards.issue_card(household=household, holder=person, pin=pin)
    if balance:
        ledger.transfer(
            debit=ledger.system_account(AccountKind.ISSUANCE), credit=household.wallet_id, amount=balance,
            kind=TransferKind.ALLOCATION,
        )
    household.refresh_from_db()
    return Member(household, person, user, card, pin)
