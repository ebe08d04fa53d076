from django import template

from members.contributions import format_euros

register = template.Library()


@register.filter
def euros(cents):
    """Integer cents as French euros: 1234 → “12,34 €”."""
    if cents in (None, ""):
        return "—"
    return format_euros(int(cents))
