"""Where to spend ("où dépenser"): the approved shops, for members, linked from their
portal. Served by the vendors app, which owns the shops; members does not import it."""

from django.shortcuts import render

from members.portal import member_required

from .models import Vendor
from .selectors import approved_districts, approved_vendors


@member_required
def shops(request):
    kind = request.GET.get("kind", "")
    district = request.GET.get("district", "")
    if kind not in Vendor.Kind.values:
        kind = ""
    return render(
        request,
        "portal/shops.html",
        {
            "vendors": approved_vendors(kind=kind, district=district),
            "kinds": Vendor.Kind.choices,
            "districts": approved_districts(),
            "kind": kind,
            "district": district,
        },
    )
