from django import template
from django.utils.translation import gettext as _

from allocations.models import ArrearsPolicy, RolloverPolicy
from governance import selectors
from governance.forms import RULES_EUROS, grid_text
from kernel.money import format_cents

register = template.Library()


@register.filter
def is_committee_member(user) -> bool:
    return selectors.is_committee_member(user)


@register.filter
def lookup(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def rule_value(value, name):
    """A rules value as people read it: euros for amounts, the grid in words, labels for choices."""
    if name in RULES_EUROS and isinstance(value, int):
        return format_cents(value)
    if name == "contribution_grid":
        return grid_text(value).replace("\n", " · ") or "—"
    choices = {"rollover_policy": RolloverPolicy, "arrears_policy": ArrearsPolicy}
    if name in choices:
        return dict(choices[name].choices).get(value, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value
