"""Amounts in cents as people read them: "1 234,50 €" in French, "1,234.50 €" in English.

The one formatter of money for pages, e-mails, messages and commands, and the one parser
of amounts people type (`parse_euros`).
"""

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kernel import fund_identity


def format_cents(cents: int, unit: str = "€") -> str:
    return f"{number_format(Decimal(int(cents)) / 100, 2, force_grouping=True)}\u00a0{unit}"


def format_units(cents: int) -> str:
    """In the fund's unit (MonA), worth one euro each: its name as the fund's settings say."""
    return format_cents(cents, fund_identity.unit_label())


# Digits, then at most two decimals after a comma or a point. No sign, no exponent: a
# till that read "1e2" as 100 € or "-5" as a payment the other way would move money
# nobody typed. Twelve digits of euros is more than any fund will hold.
_EUROS = re.compile(r"^(?P<sign>-?)(?P<whole>[0-9]{1,12})(?:[.,](?P<fraction>[0-9]{1,2}))?$")
_SPACES = str.maketrans("", "", " \u00a0\u202f€")


def parse_euros(text: str | int, *, signed: bool = False) -> int:
    """“12”, “12,50”, “12.5” or “1 234,50 €” to cents; a ValidationError, in the reader's
    language, for anything else: exponents, more than two decimals, and negative amounts
    (unless `signed`: a bank balance may be below zero, an amount to pay never is)."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    match = _EUROS.match(str(text or "").strip().translate(_SPACES))
    if match is None or (match["sign"] and not signed):
        raise ValidationError(
            _("“%(value)s” is not an amount in euros (for example 12 or 12,50).") % {"value": text}, code="amount")
    cents = int(match["whole"]) * 100 + int((match["fraction"] or "").ljust(2, "0"))
    return -cents if match["sign"] else cents


# What a person may type in one field: ten million euros, beyond anything a fund counts
# at a desk or grants at once, and within every amount column (a 32-bit integer of cents
# holds 21 million euros), so that an extra zero typed is an error, not a 500.
MAX_TYPED_CENTS = 1_000_000_000


class EurosField(forms.CharField):
    """A form field for an amount in euros, cleaned to cents by `parse_euros`."""

    def __init__(self, *, signed: bool = False, max_cents: int = MAX_TYPED_CENTS, **kwargs):
        self.signed, self.max_cents = signed, max_cents
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in (None, ""):
            return None
        cents = parse_euros(value, signed=self.signed)
        if abs(cents) > self.max_cents:
            raise ValidationError(_("At most %(amount)s.") % {"amount": format_cents(self.max_cents)}, code="max_value")
        return cents
