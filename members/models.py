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


class Notice(models.Model):
    """A message to a household, shown in the portal (and e-mailed where it has an address).

    One per (household, kind, period): a repeated notification is a no-op.
    """

    class Kind(models.TextChoices):
        ALLOCATION_ISSUED = "allocation", _("allocation available")
        EXPIRY_REMINDER = "expiry", _("balance about to expire")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="notices", verbose_name=_("household"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    period = models.CharField(_("period"), max_length=7)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            models.UniqueConstraint(fields=["household", "kind", "period"], name="notice_once_per_household_kind_period")
        ]
        indexes = [models.Index(fields=["household", "-created_at"], name="notice_household_recent")]

    def __str__(self):
        return f"{self.household} {self.kind} {self.period}"


class Person(models.Model):
    """Someone in a household. Adults who shop hold payment cards on the household's wallet."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="persons")
    first_name = models.CharField(_("first name"), max_length=80)
    last_name = models.CharField(_("last name"), max_length=80, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    is_adult = models.BooleanField(_("adult"), default=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
        verbose_name=_("portal login"),
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()
