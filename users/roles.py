"""The roles of the people who use Caisse, as Django groups."""

COORDINATOR = "coordinator"
VOLUNTEER = "volunteer"
VENDOR_STAFF = "vendor_staff"

ALL = (COORDINATOR, VOLUNTEER, VENDOR_STAFF)
# Those who see households' data: they must log in with a second factor.
STAFF_ROLES = (COORDINATOR, VOLUNTEER)


def has_role(user, role: str) -> bool:
    return user.is_authenticated and user.groups.filter(name=role).exists()


def is_coordinator(user) -> bool:
    """Coordinators run the fund; a superuser counts as one."""
    return user.is_authenticated and (user.is_superuser or has_role(user, COORDINATOR))
