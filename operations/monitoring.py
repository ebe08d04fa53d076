"""The periodic tasks' runs, and one alarm per cause when one fails or is not run when due.

Runs are recorded by Celery's signals around every task that beat schedules (and the
heartbeat), so no task has to remember to report. The dead-man check (`check_overdue`)
runs in the worker (a periodic task) and on the pages that must see it even when beat or
the worker is dead: the coordinators' dashboard and the monitor's status endpoint.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from allocations import fund
from users import roles

from .models import Alarm, TaskRun

logger = logging.getLogger(__name__)

HEARTBEAT = "operations.tasks.heartbeat_task"


# --- Recording runs -------------------------------------------------------------------


def monitored_tasks() -> set[str]:
    from django_celery_beat.models import PeriodicTask

    return set(PeriodicTask.objects.filter(enabled=True, one_off=False).values_list("task", flat=True)) | {HEARTBEAT}


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def on_task_start(sender=None, task_id=None, task=None, **kwargs):
    name = getattr(task, "name", None) or getattr(sender, "name", "")
    try:
        if name not in monitored_tasks():
            return
        TaskRun.objects.create(task=name, task_id=task_id or "", started_at=timezone.now())
    except Exception:  # recording must never stop the task itself
        logger.exception("could not record the start of %s", name)


def on_task_end(sender=None, task_id=None, task=None, retval=None, state=None, **kwargs):
    name = getattr(task, "name", None) or getattr(sender, "name", "")
    try:
        run = TaskRun.objects.filter(task=name, task_id=task_id or "", outcome=TaskRun.Outcome.RUNNING).first()
        if run is None:
            return
        run.finished_at = timezone.now()
        if state == "SUCCESS":
            run.outcome, run.result = TaskRun.Outcome.OK, _jsonable(retval)
        elif state == "RETRY":
            run.outcome, run.error = TaskRun.Outcome.RETRY, repr(retval)
        else:
            run.outcome, run.error = TaskRun.Outcome.FAILED, f"{type(retval).__name__}: {retval}"
        run.save(update_fields=["finished_at", "outcome", "result", "error"])
        if run.outcome == TaskRun.Outcome.FAILED:
            raise_alarm(
                key=f"failed:{name}",
                title=_("The periodic task %(task)s failed") % {"task": name},
                detail=_("Run started %(start)s: %(error)s") % {"start": run.started_at.isoformat(timespec="seconds"), "error": run.error},
            )
    except Exception:
        logger.exception("could not record the end of %s", name)


# --- Alarms ---------------------------------------------------------------------------


def raise_alarm(*, key: str, title: str, detail: str = "") -> bool:
    """Open the alarm for `key`, or count one more occurrence of the open one.
    Returns True when it was opened now: only then are the coordinators e-mailed."""
    table = Alarm._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (key, title, detail, raised_at, last_seen_at, occurrences)
            VALUES (%s, %s, %s, now(), now(), 1)
            ON CONFLICT (key) WHERE acknowledged_at IS NULL
            DO UPDATE SET last_seen_at = now(), occurrences = {table}.occurrences + 1, detail = EXCLUDED.detail
            RETURNING (xmax = 0)
            """,
            [key, title[:300], detail],
        )
        opened = cursor.fetchone()[0]
        if opened:
            logger.error("alarm: %s — %s", title, detail)
            transaction.on_commit(lambda: _mail_alarm(title, detail))
    return opened


def alarm_recipients() -> list[str]:
    users = get_user_model().objects.filter(Q(is_superuser=True) | Q(groups__name=roles.COORDINATOR), is_active=True)
    emails = {email for email in users.exclude(email="").values_list("email", flat=True)}
    return sorted(emails | set(settings.ALARM_EMAILS))


def _mail_alarm(title: str, detail: str) -> None:
    # Sent here (after the commit), not queued by kernel.mail.send_after_commit: an alarm may
    # say that the workers or the scheduler are down, and a queued mail would wait on them.
    recipients = alarm_recipients()
    if not recipients:
        logger.error("alarm with nobody to tell: %s", title)
        return
    body = "\n\n".join([
        detail,
        _("Acknowledge it on the coordination dashboard once it is handled: it stays there until then."),
    ])
    try:
        send_mail(f"[{fund.cached().name}] {title}", body, None, recipients)
    except Exception:  # the banner on the dashboard still shows it
        logger.exception("could not e-mail the alarm %s", title)


def open_alarms():
    return Alarm.objects.filter(acknowledged_at__isnull=True)


@transaction.atomic
def acknowledge(*, alarm_id: int, by) -> Alarm:
    alarm = Alarm.objects.select_for_update().get(pk=alarm_id)
    if alarm.acknowledged_at is None:
        alarm.acknowledged_at, alarm.acknowledged_by = timezone.now(), by
        alarm.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alarm


# --- The dead-man check ---------------------------------------------------------------


@dataclass(frozen=True)
class TaskStatus:
    name: str
    task: str
    last_started: datetime | None
    last_outcome: str | None
    due_by: datetime
    overdue: bool

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "task": self.task,
            "last_started": self.last_started.isoformat() if self.last_started else None,
            "last_outcome": self.last_outcome,
            "due_by": self.due_by.isoformat(),
            "overdue": self.overdue,
        }


def task_statuses(now: datetime | None = None) -> list[TaskStatus]:
    from django_celery_beat.models import PeriodicTask

    now = now or timezone.now()
    grace = timedelta(minutes=settings.TASK_GRACE_MINUTES)
    latest = {
        run.task: run
        for run in TaskRun.objects.order_by("task", "-started_at").distinct("task").only("task", "started_at", "outcome")
    }
    statuses = []
    for periodic in PeriodicTask.objects.filter(enabled=True, one_off=False).order_by("name"):
        run = latest.get(periodic.task)
        # Never run yet: due from when it was scheduled (or last changed).
        since = run.started_at if run else periodic.date_changed
        remaining = periodic.schedule.remaining_estimate(since)
        due_by = now + remaining
        statuses.append(TaskStatus(
            name=periodic.name,
            task=periodic.task,
            last_started=run.started_at if run else None,
            last_outcome=run.outcome if run else None,
            due_by=due_by,
            overdue=now > due_by + grace,
        ))
    return statuses


def check_overdue(now: datetime | None = None) -> list[TaskStatus]:
    """Raise an alarm for each task not run when due. When the heartbeat itself is late,
    beat (or the worker) is down: that one alarm, not one per task it stopped."""
    statuses = task_statuses(now)
    heartbeat = [s for s in statuses if s.task == HEARTBEAT]
    if heartbeat and heartbeat[0].overdue:
        since = heartbeat[0].last_started
        raise_alarm(
            key="overdue:beat",
            title=_("Celery beat or the worker is not running"),
            detail=_("No heartbeat since %(since)s: no periodic task (issuance, ledger check, settlements, backups) runs.")
            % {"since": since.isoformat(timespec="seconds") if since else _("it was scheduled")},
        )
        return [s for s in statuses if s.overdue]
    for status in statuses:
        if status.overdue:
            raise_alarm(
                key=f"overdue:{status.task}",
                title=_("The periodic task “%(name)s” did not run when due") % {"name": status.name},
                detail=_("It was due by %(due)s; its last run started %(last)s.")
                % {
                    "due": status.due_by.isoformat(timespec="seconds"),
                    "last": status.last_started.isoformat(timespec="seconds") if status.last_started else _("never"),
                },
            )
    return [s for s in statuses if s.overdue]
