from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in: member of a household, coordinator, volunteer, vendor staff.

    Roles are Django groups (see `users.roles`); what a user may do follows from them.
    """

    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def save(self, *args, **kwargs):
        from .backends import normalize_phone

        # Stored as people are looked up: '06 12 34 56 78' and '+33 6 12 34 56 78' are one number.
        self.phone = normalize_phone(self.phone) if self.phone else ""
        super().save(*args, **kwargs)
