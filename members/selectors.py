"""Reads of households that other apps need, without reaching into members' tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import models

from .models import Household


def issuable_households_sql(period_end: date) -> tuple[str, list]:
    """SQL for the households that receive an allocation for the period ending on
    `period_end`: active, and joined by then. Columns: id, wallet_id, adults, children,
    joined_on. Raw SQL because the issuance runs it inside set-based statements."""
    table = Household._meta.db_table
    return (
        f"SELECT id, wallet_id, adults, children, joined_on FROM {table} WHERE status = %s AND joined_on <= %s",
        [Household.Status.ACTIVE, period_end],
    )


def household_source():
    """What the monthly issuance reads from and tells members through (see
    `allocations.issuance.HouseholdSource`)."""
    from allocations.issuance import HouseholdSource

    from . import notices

    return HouseholdSource(
        eligible=issuable_households_sql,
        notify_issued=notices.notify_allocation_issued,
        remind_expiry=notices.remind_expiring_balances,
    )


def household_of(user) -> Household | None:
    """The household a logged-in person belongs to: a login is a person's."""
    if not user.is_authenticated:
        return None
    return (
        Household.objects.select_related("wallet")
        .filter(persons__user=user)
        .first()
    )


@dataclass(frozen=True)
class Movement:
    """One line of a member's history, from the wallet's point of view."""

    id: int
    at: datetime
    kind: str
    label: str
    amount: int
    incoming: bool  # into the wallet (allocation, refund) or out of it (purchase, expiry)
    shop: str


def wallet_history(household: Household, *, page: int = 1, per_page: int = 20):
    """The wallet's movements, newest first, a page at a time: two queries whatever the
    history's length (the page and its count), shop names joined in."""
    from django.core.paginator import Paginator

    from allocations.models import Transfer

    wallet_id = household.wallet_id
    transfers = (
        Transfer.objects.filter(models.Q(debit_id=wallet_id) | models.Q(credit_id=wallet_id))
        .select_related("debit__vendor", "credit__vendor")
        .only("id", "created_at", "kind", "amount", "debit_id", "credit_id", "debit__vendor__display_name",
              "credit__vendor__display_name", "debit__id", "credit__id")
        .order_by("-id")
    )
    paginator = Paginator(transfers, per_page)
    page_obj = paginator.get_page(page)
    page_obj.movements = [_movement(t, wallet_id) for t in page_obj.object_list]
    return page_obj


def _movement(transfer, wallet_id: int) -> Movement:
    incoming = transfer.credit_id == wallet_id
    other = transfer.debit if incoming else transfer.credit
    shop = getattr(getattr(other, "vendor", None), "display_name", "") if other is not None else ""
    return Movement(
        id=transfer.id,
        at=transfer.created_at,
        kind=transfer.kind,
        label=transfer.get_kind_display(),
        amount=transfer.amount,
        incoming=incoming,
        shop=shop,
    )


def paying_card(household: Household, user):
    """The card a member pays with from their own phone: their own active card, else the
    household's newest active one; None when the household has no usable card."""
    from .models import Card

    return (
        Card.objects.filter(household=household, status=Card.Status.ACTIVE)
        .order_by(models.Case(models.When(holder__user=user, then=0), default=1), "-issued_at", "-id")
        .first()
    )
