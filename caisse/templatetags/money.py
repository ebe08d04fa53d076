from django import template

from kernel.money import format_cents, format_units

register = template.Library()


@register.filter
def euros(cents):
    return "—" if cents in (None, "") else format_cents(cents)


@register.filter
def units(cents):
    return "—" if cents in (None, "") else format_units(cents)
