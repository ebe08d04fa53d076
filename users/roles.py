"""Who may do what: the one module that decides it.

Views, decorators, the middleware, the admin, services and tasks ask here; nobody else
looks at groups or at `is_superuser`. Coordinator and desk volunteer are Django groups
whose model permissions are exactly `GROUP_PERMISSIONS` (set after every migration by
`sync_groups`); committee members and shop staff follow from their rows (a seat on the
committee, a `VendorStaff`). Nobody needs to be a superuser to run the fund.
"""

from __future__ import annotations

from datetime import date
from functools import wraps

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

COORDINATOR = "coordinator"
VOLUNTEER = "volunteer"
VENDOR_STAFF = "vendor_staff"

ALL = (COORDINATOR, VOLUNTEER, VENDOR_STAFF)
# Those who see households' data: they must log in with a second factor.
STAFF_ROLES = (COORDINATOR, VOLUNTEER)

# The model permissions each group holds, by app and model: what the work needs, no more.
# Volunteers work on the desk screen only, which their role opens: no admin permission.
# Coordinators run the fund from /coordination/ and the admin; what a change must not be
# done alone (payments, reversals, forced issuances) goes through four eyes, not through
# a missing permission. No ballot, receipt, participation (elector) or vote history: a
# secret ballot is secret from them (those have no admin screen at all).
_VIEW, _EDIT, _ADD = ("view",), ("view", "change"), ("view", "add", "change")
GROUP_PERMISSIONS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    COORDINATOR: {
        "users": {"user": _ADD, "activationcode": _VIEW, "secondfactorreset": _VIEW},
        "auth": {"group": _VIEW},
        "members": {
            "household": _ADD, "person": _ADD, "card": _EDIT, "cardevent": _VIEW, "notice": _ADD,
            "shopreport": _EDIT, "directdebitmandate": _ADD, "directdebitcollection": _VIEW,
            "directdebit": _VIEW, "draw": _ADD, "erasurerequest": _EDIT, "contributionpayment": _VIEW,
            "desk": _ADD, "desksession": _VIEW, "deskaction": _VIEW, "drawentry": _VIEW,
            "householdstatuschange": _VIEW, "contributionchoice": _VIEW,
        },
        "vendors": {
            "vendor": _ADD, "ibanchange": _EDIT, "statuschange": _VIEW, "purchase": _VIEW,
            "vendorstaff": ("view", "add", "change", "delete"), "apikey": _EDIT, "refund": _VIEW,
            "idempotencyrecord": _VIEW, "settlementrun": _VIEW, "settlement": _VIEW,
        },
        "governance": {
            "committeemembership": _ADD, "policy": _EDIT, "proposal": _ADD, "transition": _VIEW,
            "amendment": _VIEW, "meeting": _ADD, "meetingtally": _VIEW,
            "notification": _VIEW,
        },
        "allocations": {
            "account": _VIEW, "transfer": _VIEW, "fundrules": _ADD, "issuancerun": _VIEW,
            "issuancechunk": _VIEW, "approval": _VIEW, "grant": _ADD, "grantreceipt": ("view", "add"),
        },
        "django_celery_beat": {"periodictask": _EDIT, "crontabschedule": _VIEW, "intervalschedule": _VIEW},
    },
    VOLUNTEER: {},
}


# --- The questions ------------------------------------------------------------------


def _authenticated(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def has_role(user, role: str) -> bool:
    return _authenticated(user) and user.groups.filter(name=role).exists()


def is_coordinator(user) -> bool:
    """Coordinators run the fund; a superuser counts as one."""
    return _authenticated(user) and (user.is_superuser or has_role(user, COORDINATOR))


def is_volunteer(user) -> bool:
    return has_role(user, VOLUNTEER)


def may_use_desk(user) -> bool:
    return is_coordinator(user) or is_volunteer(user)


def may_use_admin(user) -> bool:
    return _authenticated(user) and (user.is_staff or is_coordinator(user))


# The apps below are above users in the layers (users imports none of them): their rows
# are reached by model name.


def is_vendor_staff(user) -> bool:
    return _authenticated(user) and apps.get_model("vendors", "VendorStaff").objects.filter(user=user).exists()


def is_committee_member(user, on: date | None = None) -> bool:
    """Holds a seat on the committee on `on` (today by default)."""
    if not _authenticated(user):
        return False
    day = on or timezone.localdate()
    seats = apps.get_model("governance", "CommitteeMembership").objects.filter(user=user, starts_on__lte=day)
    return seats.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day)).exists()


def is_member(user) -> bool:
    """A login is a person's: a person of a household is a member."""
    return _authenticated(user) and apps.get_model("members", "Person").objects.filter(user=user).exists()


def requires_second_factor(user) -> bool:
    """Staff see households' data: a password alone never lets them in."""
    return _authenticated(user) and (
        user.is_staff or user.is_superuser or user.groups.filter(name__in=STAFF_ROLES).exists()
    )


def coordinators():
    """Every active coordinator, superusers included."""
    return get_user_model().objects.filter(Q(groups__name=COORDINATOR) | Q(is_superuser=True), is_active=True).distinct()


# --- Where each person works ----------------------------------------------------------


def spaces(user) -> list[tuple[str, str, str]]:
    """(key, label, url) of each space this person has, their work first."""
    if not _authenticated(user):
        return []
    found = []
    if is_coordinator(user):
        found.append(("coordination", _("Coordination"), reverse("coordination:dashboard")))
    if may_use_desk(user):
        found.append(("desk", _("Desk"), reverse("households:desk")))
    if may_use_admin(user):
        found.append(("admin", _("Administration"), reverse("admin:index")))
    if is_vendor_staff(user):
        found.append(("terminal", _("My shop"), reverse("vendors:terminal")))
    if is_member(user):
        found.append(("portal", _("My space"), reverse("members:portal")))
    if is_committee_member(user):
        found.append(("committee", _("Committee"), reverse("governance:home")))
    return found


def landing_url(user) -> str:
    """Where a person lands after signing in: where their work is."""
    for key, _label, url in spaces(user):
        if key != "admin":
            return url
    return reverse("members:portal")


# --- For views --------------------------------------------------------------------------


def role_required(predicate):
    """A view decorator: signed in, and `predicate(user)` holds, or 403."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not predicate(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


coordinator_required = role_required(is_coordinator)
desk_required = role_required(may_use_desk)


# --- The groups ---------------------------------------------------------------------------


def sync_groups(using: str = "default") -> None:
    """Create the groups and give each exactly its permissions (after every migration)."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    # post_migrate reaches the apps one by one: make sure every app's permissions exist.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    for name in ALL:
        group, _created = Group.objects.using(using).get_or_create(name=name)
        if name not in GROUP_PERMISSIONS:
            continue
        wanted = Q(pk__in=[])
        for app_label, models in GROUP_PERMISSIONS[name].items():
            for model, actions in models.items():
                wanted |= Q(
                    content_type__app_label=app_label,
                    content_type__model=model,
                    codename__in=[f"{action}_{model}" for action in actions],
                )
        group.permissions.set(Permission.objects.using(using).filter(wanted))
