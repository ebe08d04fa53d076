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

    @property
    def available_reserve(self) -> int:
        """Euros not already promised to the units in circulation: what solvency reads."""
        return self.treasury - self.units_in_circulation


def fund_position() -> FundPosition:
    """The fund's position from its six system accounts: one query, whatever its size.

    Every unit in a wallet or a vendor account came from the issuance account and has
    not yet gone back to it or to the expiry account; since each unit's balances sum to
    zero (check_ledger), circulation = -(issuance + expiry), with no scan of the wallets.
    """
    balances = dict(Account.objects.filter(code__isnull=False).values_list("code", "balance"))
    return FundPosition(
        treasury=balances[AccountKind.TREASURY],
        units_in_circulation=-(balances[AccountKind.ISSUANCE] + balances[AccountKind.EXPIRY]),
        grants_received=-balances[AccountKind.GRANTS],
        contributions_received=-balances[AccountKind.CONTRIBUTIONS],
        reimbursements_paid=balances[AccountKind.REIMBURSEMENTS],
    )
