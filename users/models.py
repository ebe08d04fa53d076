from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in: member of a household, coordinator, volunteer, vendor staff.

    Roles are Django groups (see `users.roles`); what a user may do follows from them.
    """

    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    # Set by the demo seeder only: `demo_totp` prints codes for these accounts and no other.
    is_demo = models.BooleanField(_("demo account"), default=False, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def save(self, *args, **kwargs):
        from .backends import normalize_phone

        # Stored as people are looked up: '06 12 34 56 78' and '+33 6 12 34 56 78' are one number.
        self.phone = normalize_phone(self.phone) if self.phone else ""
        super().save(*args, **kwargs)


class ActivationCode(models.Model):
    """A one-time code on a paper letter, for a member without e-mail to set a password."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="activation_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("activation code")
        verbose_name_plural = _("activation codes")

    def __str__(self):
        return f"{self.user} ({self.expires_at:%Y-%m-%d})"


class SecondFactorReset(models.Model):
    """A coordinator removed someone's second factor (a lost phone): who, whose, when."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="second_factor_resets")
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("second factor reset")
        verbose_name_plural = _("second factor resets")

    def __str__(self):
        return f"{self.user} ({self.at:%Y-%m-%d %H:%M})"
