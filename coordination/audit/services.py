"""Reading the audit trail, and purging a household's part of it on erasure."""

from __future__ import annotations

from datetime import date, datetime, time

from django.apps import apps
from django.utils import timezone

# What coordinators filter by: a label and the event model behind it.
TRACKED = {
    "fund_rules": "audit.FundRulesEvent",
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


# --- The trail in words ------------------------------------------------------------------

# Technical columns nobody needs to read in a snapshot.
_HIDDEN = {"id", "created_at", "created_by_id", "pgh_obj_id"}


TRACKED_GROUPS = "audit.AuditedGroupMembership"


def _event_label(label: str) -> str:
    from django.utils.translation import gettext as _

    return {
        "insert": _("created"), "update": _("changed"), "delete": _("deleted"), "baseline": _("state when the trail began"),
        "group.add": _("added to a group"), "group.remove": _("removed from a group"),
    }.get(label, label)


def _readable(model, name: str, value, names: dict) -> str:
    """One value as a person reads it: euros, words for codes, yes/no, names for ids."""
    from django.utils.translation import gettext as _

    from governance.forms import RULES_EUROS, grid_text
    from kernel.money import format_cents

    if value is None or value == "":
        return "—"
    if name == "user_id":
        return names.get("user", {}).get(value, f"#{value}")
    if name == "group_id":
        return names.get("group", {}).get(value, f"#{value}")
    if name in RULES_EUROS and isinstance(value, int):
        return format_cents(value)
    if name == "contribution_grid" and isinstance(value, list):
        return grid_text(value).replace("\n", " · ")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    try:
        field = model._meta.get_field(name)
    except Exception:  # a column of the event table, not of the model
        return str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _label(model, name: str) -> str:
    from django.utils.translation import gettext as _

    if name in ("user_id", "group_id"):  # the users ↔ groups table's columns have no labels of their own
        return _("login") if name == "user_id" else _("group")
    try:
        label = str(model._meta.get_field(name.removesuffix("_id")).verbose_name)
    except Exception:
        return name
    # Amounts are shown in euros here, whatever unit the column's label names.
    return label.replace(" (centimes)", "").replace(" (cents)", "")


def describe(rows: list) -> list:
    """Each event with `who`, `what`, `event` and `changes` [(field label, before, after)],
    in words: field labels, euros, choices' labels, names for ids (two queries in all)."""
    from django.contrib.auth.models import Group
    from django.utils.translation import gettext as _

    from users.models import User

    user_ids = {(row.pgh_context or {}).get("user") for row in rows} | {
        (row.pgh_data or {}).get("user_id") for row in rows}
    names = {
        "user": dict(User.objects.filter(pk__in=user_ids - {None}).values_list("pk", "username")),
        "group": dict(Group.objects.values_list("pk", "name")),
    }
    for row in rows:
        model = apps.get_model(row.pgh_obj_model)._meta.concrete_model
        context_user = (row.pgh_context or {}).get("user")
        row.who = names["user"].get(context_user, "") if context_user else _("the system (a task or a migration)")
        row.what = (str(model._meta.verbose_name).capitalize() if row.pgh_obj_model != TRACKED_GROUPS
                    else _("Permissions"))
        if row.pgh_obj_id:
            row.what = f"{row.what} n° {row.pgh_obj_id}"
        row.event = _event_label(row.pgh_label)
        if row.pgh_diff:
            row.changes = [(_label(model, name), _readable(model, name, before, names),
                            _readable(model, name, after, names))
                           for name, (before, after) in sorted(row.pgh_diff.items()) if name not in _HIDDEN]
        else:
            row.changes = [(_label(model, name), None, _readable(model, name, value, names))
                           for name, value in sorted((row.pgh_data or {}).items()) if name not in _HIDDEN]
    return rows


def tracked_labels() -> list[tuple[str, str]]:
    """(filter key, what people call it) for the filter."""
    from django.utils.translation import gettext as _

    labels = {"fund_rules": _("The fund's rules"), "vendor": _("Shops"), "household": _("Households"),
              "committee": _("Committee seats"), "user": _("Logins"), "group": _("Permissions (groups)")}
    return [(key, labels.get(key, key)) for key in TRACKED]
