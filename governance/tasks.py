from celery import shared_task

from . import decisions


@shared_task
def close_due_proposals_task() -> list[int]:
    """Every few minutes (beat): close or extend the votes past their deadline."""
    return decisions.close_due()


@shared_task
def remind_voters_task() -> int:
    """Hourly (beat): remind those who have not voted, the day before the close."""
    return decisions.remind()
