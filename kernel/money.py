"""Amounts in cents as people read them: "1 234,50 €" in French, "1,234.50 €" in English.

The one formatter of money for pages, e-mails, messages and commands.
"""

from decimal import Decimal

from django.conf import settings
from django.utils.formats import number_format


def format_cents(cents: int, unit: str = "€") -> str:
    return f"{number_format(Decimal(int(cents)) / 100, 2, force_grouping=True)}\u00a0{unit}"


def format_units(cents: int) -> str:
    """In the fund's unit (MonA), worth one euro each."""
    return format_cents(cents, settings.FUND_UNIT_LABEL)
