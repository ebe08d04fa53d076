from django import template
from django.contrib import messages

register = template.Library()


@register.filter
def error_messages(all_messages) -> list:
    """The error-level ones, for the error summary at the top of the page (issue 19): a
    form posted to a view that sends the person back with a message."""
    return [message for message in all_messages or () if message.level == messages.ERROR]


@register.filter
def other_messages(all_messages) -> list:
    """The rest: what went well, or is worth knowing."""
    return [message for message in all_messages or () if message.level != messages.ERROR]


@register.filter
def listed(error) -> list:
    """One error, as the list the error summary reads (`with errors=cash_error|listed`)."""
    return [error] if error else []
