from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CommitteeMembership(models.Model):
    """A seat on the citizen committee, from a date to (optionally) a date."""

    class Role(models.TextChoices):
        MEMBER = "member", _("member")
        FACILITATOR = "facilitator", _("facilitator")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="committee_seats")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    starts_on = models.DateField(_("from"), default=timezone.localdate)
    ends_on = models.DateField(_("to"), null=True, blank=True)

    class Meta:
        verbose_name = _("committee membership")
        verbose_name_plural = _("committee memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="membership_ends_after_start",
            ),
            # One open seat per person at a time.
            models.UniqueConstraint(fields=["user"], condition=Q(ends_on__isnull=True), name="one_open_seat_per_user"),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()})"
