"""What waits for a coordinator, counted for the dashboard so that nobody has to go looking."""

from __future__ import annotations

from dataclasses import dataclass

from allocations.models import Approval
from members import desk
from vendors.payments import PURCHASE_REFUND


@dataclass(frozen=True)
class Waiting:
    held_cash: int
    differences: int
    refunds: int

    @property
    def total(self) -> int:
        return self.held_cash + self.differences + self.refunds


def waiting() -> Waiting:
    return Waiting(
        held_cash=desk.held_cash_waiting().count(),
        differences=desk.unexplained_differences().count(),
        refunds=Approval.objects.filter(action=PURCHASE_REFUND, status=Approval.Status.PENDING).count(),
    )
