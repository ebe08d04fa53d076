"""Reads of the fund's money position."""

from __future__ import annotations

from dataclasses import dataclass

from .models import Account, AccountKind


@dataclass(frozen=True)
class FundPosition:
    treasury: int  # euros in the bank, cents
    units_in_circulation: int  # members' wallets + owed to vendors, cents
    grants_received: int
    contributions_received: int
    reimbursements_paid: int
    cash: int = 0  # euros taken at the desks, not yet deposited at the bank (530)
    bank_fees: int = 0  # what the bank charged (627), already out of the treasury

    @property
    def available_reserve(self) -> int:
        """Euros not already promised to the units in circulation: what solvency reads."""
        return self.treasury + self.cash - self.units_in_circulation


def fund_position() -> FundPosition:
    """The fund's position from its system accounts: one query, whatever its size.

    Every unit in a wallet or a vendor account came from the issuance account and has
    not yet gone back to it or to the expiry account; since each unit's balances sum to
    zero (check_ledger), circulation = -(issuance + expiry), with no scan of the wallets.
    """
    balances = dict(Account.objects.filter(code__isnull=False).values_list("code", "balance"))
    return FundPosition(
        treasury=balances.get(AccountKind.TREASURY, 0),
        units_in_circulation=-(balances.get(AccountKind.ISSUANCE, 0) + balances.get(AccountKind.EXPIRY, 0)),
        grants_received=-balances.get(AccountKind.GRANTS, 0),
        contributions_received=-balances.get(AccountKind.CONTRIBUTIONS, 0),
        reimbursements_paid=balances.get(AccountKind.REIMBURSEMENTS, 0),
        cash=balances.get(AccountKind.CASH, 0),
        bank_fees=balances.get(AccountKind.BANK_FEES, 0),
    )
