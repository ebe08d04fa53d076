"""Problems with shops, reported by members and answered by coordinators.

A named report points at its household. An anonymous one keeps no link to it that
anyone running the fund can follow: its `follow_up` is a keyed digest of the household
and of a random salt drawn for that report alone, so two reports of one household never
share a digest (nothing to filter or sort on), and only the application, which holds
REPORT_DIGEST_KEY, can recompute it for the household signed in to find its reports
(docs/threat-model.md, "Reports about shops").
"""

import hashlib
import hmac
import secrets
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Household, ShopReport


def _follow_up(household_id: int, salt: str) -> str:
    message = f"shop-report:{household_id}:{salt}".encode()
    return hmac.new(settings.REPORT_DIGEST_KEY.encode(), message, hashlib.sha256).hexdigest()


def _start_of_day(moment: datetime) -> datetime:
    # An anonymous report keeps only its day: its minute could be matched against the
    # sign-ins and page views of the few members online at that minute.
    local = timezone.localtime(moment)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@transaction.atomic
def report_problem(*, household: Household, category: str, description: str, vendor=None,
                   anonymous: bool = False) -> ShopReport:
    if anonymous:
        salt = secrets.token_hex(16)
        return ShopReport.objects.create(
            household=None, anonymous=True, follow_up=_follow_up(household.pk, salt), follow_up_salt=salt,
            created_at=_start_of_day(timezone.now()), category=category, description=description, vendor=vendor,
        )
    return ShopReport.objects.create(household=household, category=category, description=description, vendor=vendor)


def _anonymous_ids_of(household: Household) -> list[int]:
    # One digest per anonymous report to recompute: a few thousand HMACs at most for a
    # fund's lifetime of reports, the price of storing nothing that points at the household.
    rows = ShopReport.objects.filter(anonymous=True).exclude(follow_up_salt="").values_list("pk", "follow_up", "follow_up_salt")
    return [pk for pk, digest, salt in rows if hmac.compare_digest(digest, _follow_up(household.pk, salt))]


def reports_of(household: Household) -> QuerySet[ShopReport]:
    """The household's reports, named and anonymous, newest first."""
    mine = Q(household=household) | Q(pk__in=_anonymous_ids_of(household))
    return ShopReport.objects.filter(mine).select_related("vendor").order_by("-created_at", "-pk")


@transaction.atomic
def answer_report(report: ShopReport, *, answer: str, by, status: str = ShopReport.Status.ANSWERED) -> ShopReport:
    report.answer = answer
    report.status = status
    report.answered_at = timezone.now()
    report.answered_by = by
    report.save(update_fields=["answer", "status", "answered_at", "answered_by"])
    return report
