"""Codes as words, for any page: `{{ household.income_bracket|income_bracket }}` shows
"moins de 1 000 € par mois…", not "low"; `{{ obj|label_of:"status" }}` a choice's label."""

from django import template

from members.brackets import AgeBracket, IncomeBracket

register = template.Library()


@register.filter
def label_of(obj, field: str) -> str:
    """The label of `obj.field`'s choice; the value itself when the field has no choices; "—" when empty."""
    value = getattr(obj, field, None)
    if value in (None, ""):
        return "—"
    display = getattr(obj, f"get_{field}_display", None)
    return str(display()) if display else str(value)


@register.filter
def income_bracket(code: str) -> str:
    return str(dict(IncomeBracket.choices).get(code, code)) if code else "—"


@register.filter
def age_bracket(code: str) -> str:
    return str(dict(AgeBracket.choices).get(code, code)) if code else "—"
