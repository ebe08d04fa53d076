"""What keeps the fund running for years: the periodic tasks' runs, the alarms raised to
the coordinators, the restore drills."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class TaskRun(models.Model):
    class Outcome(models.TextChoices):
        RUNNING = "running", _("running")
        OK = "ok", _("succeeded")
        FAILED = "failed", _("failed")
        RETRY = "retry", _("will be retried")

    task = models.CharField(max_length=200, db_index=True)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["task", "-started_at"], name="taskrun_task_latest")]
        ordering = ["-started_at"]


class Alarm(models.Model):
    """Raised once per cause; repeats only count while it is open, until someone acknowledges it."""

    key = models.CharField(max_length=200)
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    raised_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    occurrences = models.PositiveIntegerField(default=1)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=Q(acknowledged_at__isnull=True), name="one_open_alarm_per_key")
        ]


class RestoreDrill(models.Model):
    backup = models.CharField(max_length=300)
    ran_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    seconds = models.FloatField(default=0)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-ran_at"]
