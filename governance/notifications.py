"""Telling committee members (and a vendor's staff) about votes: a notification in the
portal, and an e-mail where the person has an address. Once per user, proposal, kind and
occasion, so a task that runs twice tells nobody twice."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from kernel import mail

from .models import Notification, Proposal


def notify(user_ids, proposal: Proposal, kind: str, *, occasion: str, subject: str, text: str,
           extra_addresses: list[str] = ()) -> int:
    user_ids = set(user_ids)
    already = set(
        Notification.objects.filter(proposal=proposal, kind=kind, occasion=occasion, user_id__in=user_ids)
        .values_list("user_id", flat=True)
    )
    new = sorted(user_ids - already)
    Notification.objects.bulk_create(
        [Notification(user_id=uid, proposal=proposal, kind=kind, occasion=occasion, text=text) for uid in new],
        ignore_conflicts=True,
    )
    addresses = list(
        get_user_model().objects.filter(pk__in=new).exclude(email="").values_list("email", flat=True)
    ) + [a for a in extra_addresses if a]
    # One message per person: nobody learns who else sits on the committee.
    mail.send_after_commit((subject, text, address) for address in addresses)
    return len(new)
