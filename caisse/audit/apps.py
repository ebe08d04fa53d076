from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "caisse.audit"
    label = "audit"
    verbose_name = _("audit trail")
    default_auto_field = "django.db.models.BigAutoField"
