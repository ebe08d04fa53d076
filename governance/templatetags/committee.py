from django import template

from governance import selectors

register = template.Library()


@register.filter
def is_committee_member(user) -> bool:
    return selectors.is_committee_member(user)


@register.filter
def lookup(mapping, key):
    return (mapping or {}).get(key)
