from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = _("Operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from celery.signals import task_postrun, task_prerun

        from members.signals import household_erased

        from . import backups, monitoring

        task_prerun.connect(monitoring.on_task_start, weak=False, dispatch_uid="operations.task_start")
        task_postrun.connect(monitoring.on_task_end, weak=False, dispatch_uid="operations.task_end")
        household_erased.connect(backups.journal_erasure, weak=False, dispatch_uid="operations.erasure_journal")
