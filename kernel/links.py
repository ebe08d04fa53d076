"""A committee decision's reference ("CC-12") as a link to its result, for the pages of
every app that records one (vendors' status history, fund rules versions): by URL name, so
the kernel imports no app."""

from django.urls import reverse
from django.utils.html import format_html


def decision_link(reference: str):
    if reference and reference.startswith("CC-") and reference[3:].isdigit():
        return format_html('<a href="{}">{}</a>', reverse("governance:decision", args=[reference]), reference)
    return reference or "-"
