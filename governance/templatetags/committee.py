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


@register.simple_tag
def rules_compared(proposal):
    """The proposed rules beside the rules in force, line by line, with the form's labels
    (in euros): what a voter compares. One query, for the version in force."""
    from governance.forms import ProposalForm, rules_in_force

    in_force = rules_in_force()
    rows = []
    for name, proposed in (proposal.proposed_rules or {}).items():
        field = ProposalForm.base_fields.get(f"rules_{name}")
        current = getattr(in_force, name, None) if in_force else None
        rows.append({
            "label": field.label if field else name,
            "in_force": rule_value(current, name) if in_force else "—",
            "proposed": rule_value(proposed, name),
            "changed": in_force is not None and current != proposed,
        })
    return rows
