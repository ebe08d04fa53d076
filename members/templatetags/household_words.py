"""Words, not codes, on the desk's and coordinators' pages: `{{ household.age_bracket|age_label }}`.
The labels are the models' choices, so that every page says the same."""

from django import template

from members.brackets import AgeBracket, IncomeBracket
from members.models import DrawEntry, ExitReason, Household, PauseReason

register = template.Library()


def _label(choices, value) -> str:
    if not value:
        return "—"
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@register.filter
def income_label(value) -> str:
    return _label(IncomeBracket, value)


@register.filter
def age_label(value) -> str:
    return _label(AgeBracket, value)


@register.filter
def status_label(value) -> str:
    return _label(Household.Status, value)


@register.filter
def outcome_label(value) -> str:
    return _label(DrawEntry.Outcome, value)


@register.filter
def reason_label(value) -> str:
    if not value:
        return ""
    for choices in (PauseReason, ExitReason):
        if value in choices.values:
            return str(choices(value).label)
    return value
