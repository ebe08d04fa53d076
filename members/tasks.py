from datetime import datetime

from celery import shared_task

from . import contributions, notices, privacy


@shared_task(acks_late=True)
def notify_payment_task(*, wallet_id: int, amount: int, shop: str, refund: bool = False, at: str | None = None) -> int:
    """Queued by the till's service after a payment or refund commits."""
    return notices.notify_payment(wallet_id=wallet_id, amount=amount, shop=shop, refund=refund,
                                  at=datetime.fromisoformat(at) if at else None)


@shared_task
def apply_retention_task() -> dict:
    return privacy.apply_retention()


@shared_task
def remind_arrears_task() -> dict:
    """Monthly: the gentle reminder, then whatever else the fund's arrears rule says."""
    return {"reminded": contributions.remind_arrears(), "paused": contributions.apply_arrears_policy()}


@shared_task
def expire_places_task() -> int:
    """Daily: places drawn and not taken in time go to the next of the same stratum."""
    from . import lottery

    return lottery.expire_places()
