"""What check_ledger asks of the households' objects: each contribution paid agrees with
its transfers, and no exited household's wallet holds anything (registered in
MembersConfig.ready())."""

from __future__ import annotations

from allocations.integrity import ObjectMismatch
from allocations.models import Account, Transfer

from .models import ContributionPayment, Household

_T, _A = Transfer._meta.db_table, Account._meta.db_table
_C, _H = ContributionPayment._meta.db_table, Household._meta.db_table


def contributions_agree(cursor) -> list[ObjectMismatch]:
    """Paid (cash, transfer, direct debit) equals its transfer; a returned or corrected
    payment's reversal undoes exactly that transfer, and a reversed one says so."""
    cursor.execute(
        f"""
        SELECT c.id, c.amount, t.amount, c.reversal_id, v.amount, v.reverses_id = c.transfer_id,
               (SELECT COUNT(*) FROM {_T} x WHERE x.reverses_id = c.transfer_id)
        FROM {_C} c JOIN {_T} t ON t.id = c.transfer_id LEFT JOIN {_T} v ON v.id = c.reversal_id
        WHERE t.amount <> c.amount
              OR (c.reversal_id IS NOT NULL AND (v.amount <> c.amount OR v.reverses_id IS DISTINCT FROM c.transfer_id))
              OR (c.reversal_id IS NULL AND EXISTS (SELECT 1 FROM {_T} x WHERE x.reverses_id = c.transfer_id))
        ORDER BY c.id LIMIT 1000
        """
    )
    return [
        ObjectMismatch(
            f"contribution payment #{id_}",
            f"says paid {amount}{', cancelled' if reversal_id else ''}; its transfer says {moved}"
            + (f", its reversal {reversed_amount}{'' if undoes else ' of another transfer'}" if reversal_id else "")
            + (f", reversed {reversals} time(s)" if reversals and not reversal_id else ""),
        )
        for id_, amount, moved, reversal_id, reversed_amount, undoes, reversals in cursor.fetchall()
    ]


def exited_wallets_empty(cursor) -> list[ObjectMismatch]:
    cursor.execute(
        f"""
        SELECT h.reference, a.balance FROM {_H} h JOIN {_A} a ON a.id = h.wallet_id
        WHERE h.status = %s AND a.balance <> 0 ORDER BY h.id LIMIT 1000
        """,
        [Household.Status.EXITED],
    )
    return [ObjectMismatch(f"household {reference}", f"has exited but its wallet holds {balance}")
            for reference, balance in cursor.fetchall()]
