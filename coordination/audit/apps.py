from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "coordination.audit"
    label = "audit"
    verbose_name = _("audit trail")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from members.signals import household_erased

        from .services import purge_household

        def purge(sender, *, household_id, user_ids, **kwargs):
            purge_household(household_id, user_ids)

        household_erased.connect(purge, weak=False, dispatch_uid="audit.purge_household")
