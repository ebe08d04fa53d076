from celery import shared_task

from . import contributions, privacy


@shared_task
def apply_retention_task() -> dict:
    return privacy.apply_retention()


@shared_task
def remind_arrears_task() -> int:
    return contributions.remind_arrears()
