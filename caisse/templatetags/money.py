"""Amounts in cents as people read them: "1 234,50 €" in French, "1,234.50 €" in English."""

from decimal import Decimal

from django import template
from django.conf import settings
from django.utils.formats import number_format

register = template.Library()


def format_cents(cents: int, unit: str = "€") -> str:
    return f"{number_format(Decimal(cents) / 100, 2, force_grouping=True)}\u00a0{unit}"


@register.filter
def euros(cents):
    return "" if cents is None else format_cents(int(cents))


@register.filter
def units(cents):
    """In the fund's unit (MonA), worth one euro each."""
    return "" if cents is None else format_cents(int(cents), settings.FUND_UNIT_LABEL)
