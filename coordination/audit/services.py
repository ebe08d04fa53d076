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
    "closed_year": "audit.ClosedYearEvent",
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
# Free text (a reason, an explanation) is cut on the page: the table must fit the screen.
_LONGEST = 160

TRACKED_GROUPS = "audit.AuditedGroupMembership"


def _object_names(model_label: str) -> tuple[tuple[str, ...], object] | None:
    """For each tracked model: the columns naming an object, and how they read."""
    from django.utils.formats import date_format
    from django.utils.translation import gettext as _

    return {
        "allocations.FundRules": (("effective_from",), lambda row: _(
            "the fund rules in force from %(name)s") % {"name": date_format(row[0], "F Y")}),
        "allocations.FundSettings": (("name",), lambda row: _("the fund's settings")),
        "coordination.ClosedYear": (("year",), lambda row: _("the financial year %(name)s") % {"name": row[0]}),
        "vendors.Vendor": (("display_name",), lambda row: _("the shop “%(name)s”") % {"name": row[0]}),
        "members.Household": (("reference",), lambda row: _("the household %(name)s") % {"name": row[0]}),
        "governance.CommitteeMembership": (("user__username",), lambda row: _(
            "the committee seat of %(name)s") % {"name": row[0]}),
        "users.User": (("username",), lambda row: _("the login “%(name)s”") % {"name": row[0]}),
        "members.DeskSession": (("desk__name", "opened_at"), lambda row: _(
            "the desk “%(name)s” opened on %(date)s") % {
                "name": row[0], "date": date_format(timezone.localtime(row[1]), "j F Y")}),
    }.get(model_label)


def _fallback_object(model, obj_id) -> str:
    from django.utils.translation import gettext as _

    # A deleted object (or one whose name is not kept): its kind and number.
    return _("%(kind)s n° %(id)s") % {"kind": model._meta.verbose_name, "id": obj_id}


def _sentence(row, model, obj: str, names: dict) -> str:
    from django.utils.translation import gettext as _

    data = row.pgh_data or {}
    user = names["user"].get(data.get("user_id"), _("login n° %(id)s") % {"id": data.get("user_id")})
    group = names["group"].get(data.get("group_id"), _("group n° %(id)s") % {"id": data.get("group_id")})
    sentences = {
        "insert": _("created %(object)s"),
        "update": _("changed %(object)s"),
        "delete": _("deleted %(object)s"),
        "baseline": _("%(object)s, as it was when the trail began"),
        "group.add": _("added %(user)s to the group “%(group)s”"),
        "group.remove": _("removed %(user)s from the group “%(group)s”"),
        "refund.coordinator": _("refunded purchase n° %(purchase)s"),
        "held_cash.decided": _("decided on %(object)s"),
        "desk.difference_explained": _("explained the difference of %(object)s"),
    }
    template = sentences.get(row.pgh_label)
    if template is None:
        return f"{row.pgh_label} : {obj}"
    return template % {"object": obj, "user": user, "group": group, "purchase": data.get("purchase_id", "—")}


def _in_cents(field) -> bool:
    from django.utils import translation

    from governance.forms import RULES_EUROS

    if field.name in RULES_EUROS:
        return True
    with translation.override("en"):  # the label says its unit, in the source language
        return "(cents)" in str(field.verbose_name)


def _readable(model, name: str, value, names: dict) -> str:
    """One value as a person reads it: euros, words for codes, yes/no, names for ids."""
    from django.utils.text import Truncator
    from django.utils.translation import gettext as _

    from governance.forms import grid_text
    from kernel.money import format_cents
    from users.models import User

    if value is None or value == "":
        return "—"
    if name == "group_id":
        return names["group"].get(value, f"n° {value}")
    if name == "contribution_grid" and isinstance(value, list):
        return grid_text(value).replace("\n", " · ")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    try:
        field = model._meta.get_field(name.removesuffix("_id"))
    except Exception:  # a column of the event table, not of the model
        return Truncator(str(value)).chars(_LONGEST)
    if field.is_relation and field.related_model is User:
        return names["user"].get(value, _("login n° %(id)s") % {"id": value})
    if field.is_relation:
        return f"n° {value}"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, int) and _in_cents(field):
        return format_cents(value)
    return Truncator(str(value)).chars(_LONGEST)


def _label(model, name: str) -> str:
    from django.utils.translation import gettext as _

    if name in ("user_id", "group_id") and model is not None and model._meta.auto_created:
        return _("login") if name == "user_id" else _("group")  # the users ↔ groups table's columns
    try:
        label = str(model._meta.get_field(name.removesuffix("_id")).verbose_name)
    except Exception:
        return name
    # Amounts are shown in euros here, whatever unit the column's label names.
    return label.replace(" (centimes)", "").replace(" (cents)", "")


def _user_ids(rows: list, models: dict) -> set:
    """Who acted, and every login an event's values point to (a coordinator who decided…)."""
    from users.models import User

    ids = {(row.pgh_context or {}).get("user") for row in rows}
    for row in rows:
        model = models[row.pgh_obj_model]
        for name, value in (row.pgh_data or {}).items():
            try:
                field = model._meta.get_field(name.removesuffix("_id"))
            except Exception:
                continue
            if field.is_relation and field.related_model is User:
                ids.add(value)
                ids.update((row.pgh_diff or {}).get(name) or ())
    return ids - {None}


def describe(rows: list) -> list:
    """Each event with `who` (a name, never empty), `what` (a sentence: « a modifié le
    commerce « Épicerie X » ») and `changes` [(field label, before, after)] in words:
    field labels, euros, choices' labels, names for ids. One query for the logins, one for
    the groups if a permission changed, one per kind of object on the page."""
    from django.contrib.auth.models import Group
    from django.utils.translation import gettext as _

    from users.models import User

    models = {row.pgh_obj_model: apps.get_model(row.pgh_obj_model)._meta.concrete_model for row in rows}
    users = User.objects.filter(pk__in=_user_ids(rows, models)).values_list("pk", "username", "first_name", "last_name")
    names = {
        "user": {pk: f"{first} {last}".strip() or username for pk, username, first, last in users},
        "group": dict(Group.objects.values_list("pk", "name")) if TRACKED_GROUPS in models else {},
    }
    objects: dict[tuple[str, str], str] = {}
    for label, model in models.items():
        known = _object_names(model._meta.label)
        ids = {row.pgh_obj_id for row in rows if row.pgh_obj_model == label and row.pgh_obj_id}
        if known and ids:
            columns, read = known
            for pk, *values in model._base_manager.filter(pk__in=ids).values_list("pk", *columns):
                objects[(label, str(pk))] = read(values)
    for row in rows:
        model = models[row.pgh_obj_model]
        context_user = (row.pgh_context or {}).get("user")
        if context_user is None:
            row.who = _("the system (a task or a migration)")
        else:
            row.who = names["user"].get(context_user) or _("a login since deleted (n° %(id)s)") % {"id": context_user}
        obj = objects.get((row.pgh_obj_model, str(row.pgh_obj_id))) or _fallback_object(model, row.pgh_obj_id)
        row.what = _sentence(row, model, obj, names)
        shown = _HIDDEN | ({"user_id", "group_id"} if model._meta.auto_created else set())
        if row.pgh_diff:
            row.changes = [(_label(model, name), _readable(model, name, before, names),
                            _readable(model, name, after, names))
                           for name, (before, after) in sorted(row.pgh_diff.items()) if name not in shown]
        else:
            row.changes = [(_label(model, name), None, _readable(model, name, value, names))
                           for name, value in sorted((row.pgh_data or {}).items()) if name not in shown]
    return rows


def tracked_labels() -> list[tuple[str, str]]:
    """(filter key, what people call it) for the filter."""
    from django.utils.translation import gettext as _

    labels = {"fund_rules": _("The fund's rules"), "fund_settings": _("The fund's settings"),
              "closed_year": _("Financial years closed"), "vendor": _("Shops"), "household": _("Households"),
              "committee": _("Committee seats"), "user": _("Logins"), "group": _("Permissions (groups)"),
              "refund": _("Coordinators' refunds"), "held_cash": _("Cash waiting for a coordinator"),
              "desk_difference": _("Desks' differences explained")}
    return [(key, labels[key]) for key in TRACKED]
