"""The ledger's idempotency keys, one builder per kind of transfer.

A key makes a transfer that a retry could repeat happen once: the ledger refuses a
second transfer with the same key (a UNIQUE column) and answers the first. Two call
sites spelling the same key by hand would one day spell it differently, and the money
would move twice; so every key is built here, and the SQL that builds keys row by row
(the monthly issuance, its notices) takes its expression from here too (`*_sql`),
from the same template.

Keys are at most 255 characters (Transfer.idempotency_key).
"""

from __future__ import annotations

import hashlib
from string import Formatter

ALLOCATION = "allocation:{wallet}:{period}"
EXPIRY = "expiry:{wallet}:{period}"
REVERSAL = "reversal:{transfer}"
GRANT_RECEIPT = "grant:{grant}:{bank_reference}"
SETTLEMENT_UNITS = "settlement:{number}:units"
SETTLEMENT_EUROS = "settlement:{number}:euros"
CONTRIBUTION_TRANSFER = "contribution:transfer:{reference}"
CONTRIBUTION_DIRECT_DEBIT = "contribution:sepa:{mandate}:{period}"
# A debit returned by the bank and presented again for the same month: its n-th presentation.
CONTRIBUTION_DIRECT_DEBIT_AGAIN = "contribution:sepa:{mandate}:{period}:{presentation}"
CONTRIBUTION_AT_DESK = "contribution:{method}:{token}"  # cash, card...: the form's one-time token
HOUSEHOLD_EXIT = "exit:{household}:{change}"
CASH_DEPOSIT = "cash-deposit:{bank_reference}"
BANK_FEE = "bank-fee:{bank_reference}"
EXIT_REFUND = "exit-refund:{transfer}"  # a refund that reached a household already gone
PURCHASE = "purchase:{vendor}:{key_digest}"
REFUND = "refund:{vendor}:{key_digest}"
COORDINATOR_REFUND = "coordinator-refund:{purchase}:{token}"
COORDINATOR_REFUND_APPROVED = "coordinator-refund:approval:{approval}"


def allocation(wallet_id: int, period: str) -> str:
    return ALLOCATION.format(wallet=wallet_id, period=period)


def expiry(wallet_id: int, period: str) -> str:
    return EXPIRY.format(wallet=wallet_id, period=period)


def reversal(transfer_id: int) -> str:
    return REVERSAL.format(transfer=transfer_id)


def grant_receipt(grant_id: int, bank_reference: str) -> str:
    return GRANT_RECEIPT.format(grant=grant_id, bank_reference=bank_reference)


def settlement_units(number: str) -> str:
    return SETTLEMENT_UNITS.format(number=number)


def settlement_euros(number: str) -> str:
    return SETTLEMENT_EUROS.format(number=number)


def contribution_transfer(reference: str) -> str:
    return CONTRIBUTION_TRANSFER.format(reference=reference)


def contribution_direct_debit(mandate_reference: str, period: str, presentation: int = 1) -> str:
    if presentation > 1:
        return CONTRIBUTION_DIRECT_DEBIT_AGAIN.format(mandate=mandate_reference, period=period,
                                                      presentation=presentation)
    return CONTRIBUTION_DIRECT_DEBIT.format(mandate=mandate_reference, period=period)


def contribution_at_desk(method: str, token: str) -> str:
    return CONTRIBUTION_AT_DESK.format(method=method, token=token)


def household_exit(household_id: int, change_id: int) -> str:
    return HOUSEHOLD_EXIT.format(household=household_id, change=change_id)


def cash_deposit(bank_reference: str) -> str:
    return CASH_DEPOSIT.format(bank_reference=bank_reference)


def bank_fee(bank_reference: str) -> str:
    return BANK_FEE.format(bank_reference=bank_reference)


def exit_refund(transfer_id: int) -> str:
    return EXIT_REFUND.format(transfer=transfer_id)


def _digest(key: str) -> str:
    # A till's key may be up to 255 characters of its own: its digest keeps the ledger's
    # key short and unique across the fund.
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def purchase(vendor_id: int, idempotency_key: str) -> str:
    return PURCHASE.format(vendor=vendor_id, key_digest=_digest(idempotency_key))


def refund(vendor_id: int, idempotency_key: str) -> str:
    return REFUND.format(vendor=vendor_id, key_digest=_digest(idempotency_key))


def coordinator_refund(purchase_id: int, token: str) -> str:
    return COORDINATOR_REFUND.format(purchase=purchase_id, token=token)


def coordinator_refund_approved(approval_id: int) -> str:
    return COORDINATOR_REFUND_APPROVED.format(approval=approval_id)


def sql(template: str, **expressions: str) -> str:
    """The template as a SQL expression: its literal parts quoted, each field replaced by
    the SQL expression given for it (a column, or `%s` for a parameter), joined by ||."""
    parts = []
    for literal, field, _spec, _conversion in Formatter().parse(template):
        if literal:
            parts.append("'" + literal.replace("'", "''") + "'")
        if field is not None:
            parts.append(f"({expressions[field]})")
    return " || ".join(parts)


def allocation_sql(wallet: str, period: str = "%s") -> str:
    """The allocation key of each row, `wallet` the column of its wallet's id."""
    return sql(ALLOCATION, wallet=wallet, period=period)


def expiry_sql(wallet: str, period: str = "%s") -> str:
    return sql(EXPIRY, wallet=wallet, period=period)
