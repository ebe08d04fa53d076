"""Vendors, their tills' keys and coordinators, as the vendor and API tests need."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from users import roles
from vendors import services
from vendors.models import Vendor, VendorStaff

PASSWORD = "un-mot-de-passe-solide"


def make_vendor(slug: str = "epicerie-du-coin", *, status=Vendor.Status.APPROVED, name: str = "", **fields) -> Vendor:
    return services.register_vendor(slug=slug, display_name=name or slug.replace("-", " ").title(),
                                    kind=Vendor.Kind.GROCERY, status=status, **fields)


def make_key(vendor: Vendor, label: str = "Caisse 1") -> str:
    return services.create_api_key(vendor, label=label)[1]


def make_user(username: str, role: str | None = None, **fields):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, **fields)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def make_coordinator(username: str = "coord"):
    return make_user(username, roles.COORDINATOR, is_staff=True)


def make_staff(vendor: Vendor, username: str = "vendeur"):
    user = make_user(username, roles.VENDOR_STAFF)
    VendorStaff.objects.create(user=user, vendor=vendor)
    return user


def adopted_decision(vendor: Vendor, status: str, *, kind: str | None = None) -> str:
    """The reference of an adopted committee decision moving `vendor` to `status` (a vendor's
    status changes only by one, or by the emergency suspension)."""
    from governance.models import Kind, Proposal
    from governance.proposals import VENDOR_TARGET

    if kind is None:
        if status == Vendor.Status.APPROVED:
            kind = Kind.REINSTATE_VENDOR if vendor.status == Vendor.Status.SUSPENDED else Kind.APPROVE_VENDOR
        else:
            kind = next(k for k, target in VENDOR_TARGET.items() if target == status)
    author = get_user_model().objects.filter(username="comite").first() or make_user("comite")
    proposal = Proposal.objects.create(kind=kind, title=f"{kind} {vendor.slug}", author=author, vendor=vendor,
                                       state=Proposal.State.ADOPTED)
    return proposal.reference
