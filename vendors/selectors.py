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


# --- For a vendor: its own purchases and account; never a member's data ------------------


def purchases_page(vendor, *, limit: int, before_id=None, created_after=None, created_before=None, till=None):
    """(purchases, more): at most `limit` of the vendor's purchases, newest first."""
    from .models import Purchase

    purchases = Purchase.objects.filter(vendor=vendor)
    if before_id:
        purchases = purchases.filter(pk__lt=before_id)
    if created_after:
        purchases = purchases.filter(created_at__gt=created_after)
    if created_before:
        purchases = purchases.filter(created_at__lt=created_before)
    if till is not None:
        purchases = purchases.filter(till=till)
    rows = list(purchases.order_by("-id")[: limit + 1])
    return rows[:limit], len(rows) > limit


def vendor_purchase(vendor, purchase_id: int):
    from .models import Purchase

    return Purchase.objects.filter(vendor=vendor, pk=purchase_id).first()


def reimbursements(vendor, limit: int = 12):
    """Past reimbursements: the vendor's paid settlements, newest first."""
    from .models import Settlement

    return list(
        Settlement.objects.filter(vendor=vendor, status=Settlement.Status.PAID)
        .order_by("-paid_at", "-id").values("number", "amount", "paid_at", "cutoff")[:limit]
    )


def vendor_summary(vendor) -> dict:
    from allocations.models import Account

    from .payments import iso

    last = reimbursements(vendor, limit=1)
    return {
        "slug": vendor.slug,
        "name": vendor.display_name,
        "status": vendor.status,
        "owed": Account.objects.filter(pk=vendor.account_id).values_list("balance", flat=True).first() or 0,
        "last_reimbursement": {"amount": last[0]["amount"], "at": iso(last[0]["paid_at"])} if last else None,
    }


# --- For a coordinator correcting a purchase ---------------------------------------------


def purchases_matching(query: str, *, limit: int = 20):
    """Purchases whose number or shop reference is exactly `query`, newest first, with their
    shop. The reference has no index of its own (one less to write on every payment): a
    coordinator's rare search scans, the till's hot path does not pay for it."""
    from django.db.models import Q

    from .models import Purchase

    query = (query or "").strip().lstrip("#")
    if not query:
        return []
    condition = Q(reference=query)
    if query.isdigit() and int(query) < 2**63:
        condition |= Q(pk=int(query))
    return list(Purchase.objects.filter(condition).select_related("vendor").order_by("-pk")[:limit])


def committed_total() -> int:
    """Euros in approved payment files the bank has not yet confirmed: promised to the
    shops and still in the treasury — neither available nor paid."""
    from django.db.models import Sum

    from .models import Settlement

    return Settlement.objects.filter(status=Settlement.Status.COMMITTED).aggregate(total=Sum("amount"))["total"] or 0


def returned_settlements(vendor=None, limit: int = 50):
    """Transfers the bank returned (closed account, wrong IBAN): owed again to the shop."""
    from .models import Settlement

    rows = Settlement.objects.filter(status=Settlement.Status.RETURNED).select_related("vendor")
    if vendor is not None:
        rows = rows.filter(vendor=vendor)
    return list(rows.order_by("-returned_on", "-id")[:limit])
