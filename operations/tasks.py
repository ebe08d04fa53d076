"""Thin: the heartbeat, the dead-man check, the nightly backup and the weekly drill."""

from celery import shared_task

from . import backups, monitoring
from .crypto import BackupError


@shared_task
def heartbeat_task() -> str:
    """Every few minutes (beat): its recorded runs prove that beat and a worker are alive."""
    return "alive"


@shared_task
def check_overdue_task() -> list[str]:
    return [status.name for status in monitoring.check_overdue()]


@shared_task
def backup_task() -> dict:
    try:
        result = backups.take_backup()
    except BackupError as error:
        # Recorded as the run's failure, which raises the alarm (monitoring.on_task_end).
        raise RuntimeError(str(error)) from error
    return {"name": result.name, "size": result.size, "seconds": result.seconds, "deleted": result.deleted}


@shared_task
def restore_drill_task() -> dict:
    drill = backups.restore_drill()
    return {"backup": drill.backup, "ok": drill.ok, "seconds": drill.seconds, "detail": drill.detail}
