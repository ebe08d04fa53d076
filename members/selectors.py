"""Reads of households that other apps need, without reaching into members' tables."""

from __future__ import annotations

from datetime import date

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
