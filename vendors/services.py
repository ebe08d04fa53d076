"""The vendor registry."""

from django.db import transaction

from allocations import ledger
from allocations.models import AccountKind

from .models import Vendor


@transaction.atomic
def register_vendor(*, slug: str, display_name: str, kind: str, **fields) -> Vendor:
    """A vendor with its own account of what the fund owes it."""
    account = ledger.open_account(AccountKind.VENDOR)
    return Vendor.objects.create(slug=slug, display_name=display_name, kind=kind, account=account, **fields)
