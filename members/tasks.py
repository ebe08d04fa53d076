from celery import shared_task

from . import contributions, privacy


@shared_task
def apply_retention_task() -> dict:
    return privacy.apply_retention()


@shared_task
def remind_arrears_task() -> dict:
    """Monthly: the gentle reminder, then whatever else the fund's arrears rule says."""
    return {"reminded": contributions.remind_arrears(), "paused": contributions.apply_arrears_policy()}
