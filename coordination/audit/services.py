"""Reading the audit trail, and purging a household's part of it on erasure."""

from __future__ import annotations

from datetime import date, datetime, time

from django.apps import apps
from django.utils import timezone

# What coordinators filter by: a label and the event model behind it.
TRACKED = {
    "fund_rules": "audit.FundRulesEvent",
    "fund_settings": "audit.FundSettingsEvent",
    "vendor": "audit.VendorEvent",
    "household": "audit.HouseholdEvent",
    "committee": "audit.CommitteeMembershipEvent",
    "user": "audit.UserEvent",
    "group": "audit.GroupMembershipEvent",
    "refund": "audit.CoordinatorRefundEvent",
    "held_cash": "audit.HeldCashEvent",
    "desk_difference": "audit.DeskDifferenceEvent",
}


def events(*, model: str = "", since: date | None = None, until: date | None = None):
    """The events, newest first, each with its data and its before/after (`pgh_diff`)."""
    from pghistory.models import Events

    names = [TRACKED[model]] if model in TRACKED else list(TRACKED.values())
    queryset = Events.objects.across(*[apps.get_model(name) for name in names])
    tz = timezone.get_current_timezone()
    if since:
        queryset = queryset.filter(pgh_created_at__gte=datetime.combine(since, time.min, tzinfo=tz))
    if until:
        queryset = queryset.filter(pgh_created_at__lte=datetime.combine(until, time.max, tzinfo=tz))
    return queryset.order_by("-pgh_created_at", "-pgh_id")


def purge_household(household_id: int, user_ids: list[int]) -> int:
    """Erasure: the household's events and those of its persons' logins go from the trail.
    Their rows keep nothing personal, but the trail must not let anyone re-link them."""
    deleted = apps.get_model("audit.HouseholdEvent").objects.filter(pgh_obj_id=household_id).delete()[0]
    if user_ids:
        deleted += apps.get_model("audit.UserEvent").objects.filter(pgh_obj_id__in=user_ids).delete()[0]
        deleted += apps.get_model("audit.GroupMembershipEvent").objects.filter(user_id__in=user_ids).delete()[0]
    return deleted
