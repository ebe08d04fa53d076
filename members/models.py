from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allocations.models import Account


class Household(models.Model):
    """A household (foyer) of the fund: it owns one wallet, shared by its cards."""

    class Status(models.TextChoices):
        APPLICANT = "applicant", _("applicant")
        DRAWN = "drawn", _("drawn")
        WAITLISTED = "waitlisted", _("waitlisted")
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")
        EXITED = "exited", _("exited")

    reference = models.CharField(_("reference"), max_length=32, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.APPLICANT)
    adults = models.PositiveSmallIntegerField(_("adults"), default=1)
    children = models.PositiveSmallIntegerField(_("children"), default=0)
    district = models.CharField(_("district"), max_length=64, blank=True)
    # The amount the household chose, in euro cents per month. Seen only by the
    # household and coordinators.
    monthly_contribution = models.PositiveIntegerField(_("monthly contribution (cents)"), default=100)
    wallet = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="household", verbose_name=_("wallet"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="household",
        verbose_name=_("portal login"),
    )
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.CheckConstraint(condition=models.Q(adults__gte=1), name="household_has_an_adult"),
        ]

    def __str__(self):
        return self.reference
