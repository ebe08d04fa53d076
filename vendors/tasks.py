"""Thin: the weekly settlement run (allocations.approvals guards its payment)."""

from celery import shared_task

from . import settlements


@shared_task
def weekly_settlement_run_task() -> dict:
    result = settlements.create_run(settlements.weekly_cutoff())
    return {"run": result.run.pk, "created": result.created, "status": result.run.status}


@shared_task
def lapse_emergency_suspensions_task() -> int:
    from . import services

    return services.lapse_emergency_suspensions()
