"""Notices to households: in the portal, and by e-mail where the household has one.

Created set-based (one INSERT … SELECT per chunk of households) and at most once per
household, kind and period, so a repeated call sends nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import connection
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from allocations import keys, periods
from allocations.models import Account, Transfer
from kernel import mail
from kernel.money import format_units

from .models import Household, Notice

_NOTICE = Notice._meta.db_table
_HOUSEHOLD = Household._meta.db_table
_ACCOUNT = Account._meta.db_table
_TRANSFER = Transfer._meta.db_table
_EMAIL_BATCH = 500


def _month_label(period: str) -> str:
    return formats.date_format(periods.parse(period), "F Y")


def notify_allocation_issued(period: str, lo: int, hi: int) -> int:
    """Tell the households of ids [lo, hi) credited for `period` that it is available."""
    with override(settings.LANGUAGE_CODE):
        subject = _("Your allocation for %(month)s is available") % {"month": _month_label(period)}
        text = _("Your allocation for %(month)s is available in your account. You can spend it at the approved shops.") % {
            "month": _month_label(period)
        }
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {_NOTICE} (household_id, kind, period, text, created_at)
            SELECT h.id, %s, %s, %s, %s FROM {_HOUSEHOLD} h
            JOIN {_TRANSFER} t ON t.idempotency_key = {keys.allocation_sql('h.wallet_id')}
            WHERE h.id >= %s AND h.id < %s
            ON CONFLICT (household_id, kind, period) DO NOTHING
            RETURNING household_id
            """,
            [Notice.Kind.ALLOCATION_ISSUED, period, text, timezone.now(), period, lo, hi],
        )
        created = [row[0] for row in cursor.fetchall()]
    _email(created, subject, text)
    return len(created)


def remind_expiring_balances(period: str, kept: int, expires_on: date) -> int:
    """Remind active households whose balance is above what they keep at the period's end."""
    with override(settings.LANGUAGE_CODE):
        subject = _("Your balance expires soon")
        if kept:
            text = _(
                "Unspent balance above %(kept)s returns to the fund at the end of %(day)s. Spend it before then."
            ) % {"kept": format_units(kept), "day": formats.date_format(expires_on, "j F Y")}
        else:
            text = _("Your unspent balance returns to the fund at the end of %(day)s. Spend it before then.") % {
                "day": formats.date_format(expires_on, "j F Y")
            }
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {_NOTICE} (household_id, kind, period, text, created_at)
            SELECT h.id, %s, %s, %s, %s FROM {_HOUSEHOLD} h JOIN {_ACCOUNT} a ON a.id = h.wallet_id
            WHERE h.status = %s AND a.balance > %s
            ON CONFLICT (household_id, kind, period) DO NOTHING
            RETURNING household_id
            """,
            [Notice.Kind.EXPIRY_REMINDER, period, text, timezone.now(), Household.Status.ACTIVE, kept],
        )
        created = [row[0] for row in cursor.fetchall()]
    _email(created, subject, text)
    return len(created)


def _email(household_ids: list[int], subject: str, body: str) -> None:
    """E-mail the notified households that have an address, by a task after the commit."""
    for start in range(0, len(household_ids), _EMAIL_BATCH):
        addresses = (
            Household.objects.filter(pk__in=household_ids[start : start + _EMAIL_BATCH])
            .exclude(email="")
            .values_list("email", flat=True)
        )
        mail.send_after_commit((subject, body, address) for address in addresses)


def notify_payment(*, wallet_id: int, amount: int, shop: str, refund: bool = False, at: datetime | None = None) -> int:
    """E-mail the people of the household who asked to hear of every payment.

    Run by a task (members.tasks.notify_payment_task) that the till's service queues once
    the payment has committed: the till's request neither looks the addresses up nor
    waits on the mail server.
    """
    from .models import Person

    addresses = list(
        Person.objects.filter(household__wallet_id=wallet_id, email_each_payment=True, user__isnull=False)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not addresses:
        return 0
    with override(settings.LANGUAGE_CODE):
        if refund:
            subject = _("Refund of %(amount)s from %(shop)s") % {"amount": format_units(amount), "shop": shop}
        else:
            subject = _("Payment of %(amount)s at %(shop)s") % {"amount": format_units(amount), "shop": shop}
        body = _(
            "%(subject)s, on %(when)s.\n\nNot you? Lock your card in your space on the fund's website, "
            "and tell the coordinators."
        ) % {"subject": subject, "when": formats.date_format(timezone.localtime(at), "DATETIME_FORMAT")}
    mail.send_after_commit((subject, body, address) for address in addresses)
    return len(addresses)


def _declined_reason(code: str) -> str:
    reasons = {
        "invalid_pin": _("The code typed was wrong. After 3 wrong codes, the card is locked for a while."),
        "card_blocked": _("The card is locked or blocked. You can unlock it in “My cards”, or ask the desk."),
        "insufficient_funds": _("The balance was too low for the amount. You can see your balance on your space."),
        "limit_exceeded": _("The card has reached the fund’s limit for one day in this shop."),
    }
    return reasons.get(code, _("The card could not be used."))


def notify_declined(*, household_id: int, code: str, shop: str, at: datetime | None = None) -> Notice:
    """Tell the household why a payment did not go through: the till only says that it did not.

    A notice in the portal (the month's latest refusal replaces the previous one, unread
    again), and an e-mail to those who asked to hear of every payment.
    """
    from .models import Person

    at = at or timezone.now()
    with override(settings.LANGUAGE_CODE):
        subject = _("A payment at %(shop)s did not go through") % {"shop": shop}
        text = _("On %(when)s, a payment at %(shop)s did not go through. %(reason)s") % {
            "when": formats.date_format(timezone.localtime(at), "DATETIME_FORMAT"), "shop": shop,
            "reason": _declined_reason(code),
        }
    notice, _created = Notice.objects.update_or_create(
        household_id=household_id, kind=Notice.Kind.PAYMENT_DECLINED, period=periods.of(timezone.localdate(at)),
        defaults={"text": text, "created_at": at, "read_at": None},
    )
    addresses = list(
        Person.objects.filter(household_id=household_id, email_each_payment=True, user__isnull=False)
        .exclude(user__email="").values_list("user__email", flat=True)
    )
    mail.send_after_commit((subject, text, address) for address in addresses)
    return notice
