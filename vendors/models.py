from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from allocations.models import Account


class Vendor(models.Model):
    """A shop, market stall or farm; only an approved one takes payments."""

    class Kind(models.TextChoices):
        MARKET = "market", _("market stall")
        FARM = "farm", _("farm / producer")
        GROCERY = "grocery", _("grocery shop")
        COOPERATIVE = "cooperative", _("cooperative supermarket")
        BAKERY = "bakery", _("bakery")
        BUTCHER = "butcher", _("butcher")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        APPLIED = "applied", _("applied")
        UNDER_REVIEW = "under_review", _("under review")
        APPROVED = "approved", _("approved")
        PAUSED = "paused", _("paused")
        SUSPENDED = "suspended", _("suspended")
        REVOKED = "revoked", _("revoked")

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    display_name = models.CharField(_("name"), max_length=120)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.APPLIED)
    address = models.CharField(_("address"), max_length=255, blank=True)
    district = models.CharField(_("district"), max_length=64, blank=True)
    opening_hours = models.TextField(_("opening hours"), blank=True)
    # What the fund owes the vendor, in fund units.
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="vendor", verbose_name=_("account"))

    class Meta:
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")

    def __str__(self):
        return self.display_name


class VendorStaff(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_staff")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="staff")

    class Meta:
        verbose_name = _("vendor staff member")
        verbose_name_plural = _("vendor staff")

    def __str__(self):
        return f"{self.user} @ {self.vendor}"
