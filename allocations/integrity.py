"""The ledger's invariants, checked against what the transfers say."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction

from .models import Account, Transfer

_ACCOUNT = Account._meta.db_table
_TRANSFER = Transfer._meta.db_table


@dataclass(frozen=True)
class BalanceMismatch:
    account_id: int
    label: str
    stored: int
    computed: int

    @property
    def difference(self) -> int:
        return self.stored - self.computed


@dataclass
class LedgerReport:
    mismatches: list[BalanceMismatch] = field(default_factory=list)
    unbalanced_units: dict[str, int] = field(default_factory=dict)  # unit -> sum of balances
    mixed_unit_transfers: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.mismatches or self.unbalanced_units or self.mixed_unit_transfers)


def check_ledger() -> LedgerReport:
    """Each stored balance equals credits minus debits; each unit's balances sum to zero.

    Runs in one snapshot (REPEATABLE READ) so that transfers committed
    while it reads cannot show up as false alarms.
    """
    report = LedgerReport()
    own_transaction = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if own_transaction:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute(
            f"""
            SELECT a.id, COALESCE(a.code, a.kind), a.balance,
                   COALESCE(c.total, 0) - COALESCE(d.total, 0) AS computed
            FROM {_ACCOUNT} a
            LEFT JOIN (SELECT credit_id AS account_id, SUM(amount) AS total
                       FROM {_TRANSFER} GROUP BY credit_id) c ON c.account_id = a.id
            LEFT JOIN (SELECT debit_id AS account_id, SUM(amount) AS total
                       FROM {_TRANSFER} GROUP BY debit_id) d ON d.account_id = a.id
            WHERE a.balance <> COALESCE(c.total, 0) - COALESCE(d.total, 0)
            ORDER BY a.id
            """
        )
        report.mismatches = [BalanceMismatch(id_, label, int(stored), int(computed)) for id_, label, stored, computed in cursor.fetchall()]
        cursor.execute(f"SELECT unit, SUM(balance) FROM {_ACCOUNT} GROUP BY unit HAVING SUM(balance) <> 0")
        report.unbalanced_units = {unit: int(total) for unit, total in cursor.fetchall()}
        cursor.execute(
            f"""
            SELECT t.id FROM {_TRANSFER} t
            JOIN {_ACCOUNT} d ON d.id = t.debit_id JOIN {_ACCOUNT} c ON c.id = t.credit_id
            WHERE d.unit <> t.unit OR c.unit <> t.unit ORDER BY t.id LIMIT 100
            """
        )
        report.mixed_unit_transfers = [row[0] for row in cursor.fetchall()]
    return report
