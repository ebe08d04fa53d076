"""Problems with shops, reported by members and answered by coordinators."""

import hashlib
import hmac

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Household, ShopReport


def _follow_up(household: Household) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"shop-report:{household.pk}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def report_problem(*, household: Household, category: str, description: str, vendor=None,
                   anonymous: bool = False) -> ShopReport:
    return ShopReport.objects.create(
        household=None if anonymous else household,
        anonymous=anonymous,
        follow_up=_follow_up(household),
        category=category,
        description=description,
        vendor=vendor,
    )


def reports_of(household: Household) -> QuerySet[ShopReport]:
    return ShopReport.objects.filter(follow_up=_follow_up(household)).select_related("vendor").order_by("-created_at")


@transaction.atomic
def answer_report(report: ShopReport, *, answer: str, by, status: str = ShopReport.Status.ANSWERED) -> ShopReport:
    report.answer = answer
    report.status = status
    report.answered_at = timezone.now()
    report.answered_by = by
    report.save(update_fields=["answer", "status", "answered_at", "answered_by"])
    return report
