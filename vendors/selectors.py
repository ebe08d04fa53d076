"""Reads of the vendor registry."""

from django.db.models import QuerySet

from .models import Vendor


def approved_vendors(*, kind: str = "", district: str = "") -> QuerySet[Vendor]:
    """Where members can spend, for the portal's list: only what a member may see of a shop."""
    vendors = Vendor.objects.filter(status=Vendor.Status.APPROVED).only(
        "slug", "display_name", "kind", "address", "district", "opening_hours"
    )
    if kind:
        vendors = vendors.filter(kind=kind)
    if district:
        vendors = vendors.filter(district=district)
    return vendors.order_by("display_name")


def approved_districts() -> list[str]:
    return list(
        Vendor.objects.filter(status=Vendor.Status.APPROVED)
        .exclude(district="")
        .order_by("district")
        .values_list("district", flat=True)
        .distinct()
    )
