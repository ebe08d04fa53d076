import logging

from celery import shared_task

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
