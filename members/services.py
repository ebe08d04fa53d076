"""Households: enrolment and what changes them."""

from django.db import transaction

from allocations import ledger
from allocations.models import AccountKind

from .models import Household


@transaction.atomic
def create_household(*, reference: str, adults: int = 1, children: int = 0, **fields) -> Household:
    """A household with its own wallet (a fund-unit account that never goes below zero)."""
    wallet = ledger.open_account(AccountKind.WALLET)
    return Household.objects.create(reference=reference, adults=adults, children=children, wallet=wallet, **fields)
