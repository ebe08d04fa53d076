import logging

from celery import group, shared_task
from django.db import OperationalError

from . import issuance, periods
from .integrity import check_ledger

logger = logging.getLogger(__name__)


@shared_task
def check_ledger_task() -> bool:
    report = check_ledger()
    if not report.ok:
        logger.error(
            "Ledger check failed: %d balance mismatches %s, unbalanced units %s, mixed-unit transfers %s",
            len(report.mismatches),
            [(m.account_id, m.difference) for m in report.mismatches[:20]],
            report.unbalanced_units,
            report.mixed_unit_transfers[:20],
        )
    return report.ok


# --- Monthly issuance -----------------------------------------------------------------
# Thin: the guarantees live in allocations.issuance, which a duplicate delivery of any of
# these tasks cannot break (keys on transfers, chunk rows locked and marked done).


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def issue_due_task() -> list[str]:
    """Issue every due period, oldest first: plan it, then hand its chunks to the workers.
    The chunk that completes a period enqueues this task again for the next one."""
    planned = []
    for period in issuance.due_periods():
        try:
            run, _forecast = issuance.start_run(period)
        except issuance.IssuanceRefused:
            issuance.warn_if_runway_short()
            return planned  # in order: nothing later is issued before this one
        planned.append(period)
        pending = issuance.pending_chunks(run)
        if pending:
            group(issue_chunk_task.s(run.pk, index) for index in pending).apply_async()
            return planned
    issuance.issue_late_joiners(periods.current())
    return planned


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def issue_chunk_task(run_id: int, index: int) -> dict:
    result = issuance.issue_chunk(run_id, index)
    if result.run_finished:
        issue_due_task.delay()
    return {"credited": result.credited, "issued": result.issued, "expired": result.expired_total}


@shared_task
def check_runway_task() -> float | None:
    return issuance.warn_if_runway_short().months


@shared_task
def remind_expiring_balances_task() -> int:
    return issuance.remind_expiring_balances()
