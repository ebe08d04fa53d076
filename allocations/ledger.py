"""Posting money: the one way a balance changes.

`transfer()` moves both balances and writes the transfer row in one short database
transaction, without a table-wide lock, in this order:

1. with an idempotency key, a lock on the key, then a look for it: a repeat (even a
   concurrent one, which waits on the lock) finds the first and moves nothing; with
   `wait=False` a concurrent repeat is refused at once instead (KeyBusy: a till's
   retry is told the first attempt is still running);
2. the books' lock, shared (kernel.locks.BOOKS): the closing of a financial year takes it
   alone, so it never reads the ledger while a transfer is under way;
3. both account rows locked in ascending id order (two transfers crossing the same pair
   of accounts cannot deadlock) and read;
4. every check (both accounts exist, hold the same unit, the debit can pay); a refusal
   has written nothing, so it needs no savepoint and leaves the caller's transaction
   usable;
5. the two balance updates and the transfer row.

This is one statement, the `ledger_transfer()` function (migrations allocations 0009, 0012, 0014),
which a caller may also embed in a statement of its own (Posting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.db import prepared_cursor
from kernel.errors import DomainError

from . import keys
from .models import EURO_KINDS, MAY_GO_NEGATIVE, Account, AccountKind, Transfer, TransferKind, Unit

_ACCOUNT = Account._meta.db_table
_TRANSFER = Transfer._meta.db_table


class LedgerError(DomainError):
    code = "ledger_error"
    message = _("The transfer could not be made.")


class KeyBusy(LedgerError):
    code = "request_in_progress"
    message = _("A transfer with this key is under way.")


class InsufficientFunds(LedgerError):
    code = "insufficient_funds"
    message = _("The balance is too low for this amount.")


class UnitMismatch(LedgerError):
    code = "unit_mismatch"
    message = _("Both accounts of a transfer must hold the same unit.")


class IdempotencyConflict(LedgerError):
    code = "idempotency_key_reused"
    message = _("This key was already used for a different transfer.")


class InvalidAmount(LedgerError):
    code = "invalid_amount"
    message = _("The amount must be a whole, positive number of cents.")


@dataclass(frozen=True)
class Posted:
    transfer: Transfer
    created: bool  # False when the key had been used: nothing moved this time


def _pk(account: Account | int) -> int:
    return account if isinstance(account, int) else account.pk


class Posting:
    """One transfer to post: its arguments checked, the statement that posts it, and what
    that statement's answer means (`result`).

    transfer() runs it in its own short transaction. On PostgreSQL a caller that must
    write rows of its own with the transfer, atomically, may instead embed `statement()`
    in a single statement of its own (a `WITH` query reading its COLUMNS); `result` then
    reads the same columns.
    """

    COLUMNS = ("transfer_id", "outcome", "unit", "debit_balance", "moved")

    def __init__(self, *, debit: Account | int, credit: Account | int, amount: int, kind: str,
                 idempotency_key: str | None = None, memo: str = "", reverses: Transfer | int | None = None,
                 at: datetime | None = None, wait: bool = True, up_to: bool = False,
                 value_date: date | None = None):
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidAmount(amount=amount)
        self.debit_id, self.credit_id = _pk(debit), _pk(credit)
        self.amount, self.kind, self.key, self.memo = amount, kind, idempotency_key, memo
        self.reverses_id = None if reverses is None else (reverses if isinstance(reverses, int) else reverses.pk)
        self.at = at or timezone.now()
        # The bank's date for a euro movement it confirms; otherwise the fund's day of `at`.
        self.value_date = value_date or timezone.localdate(self.at)
        self.wait, self.up_to = wait, up_to

    def statement(self) -> tuple[str, list]:
        """The SELECT that posts the transfer, with its parameters."""
        return (
            f"SELECT {', '.join(self.COLUMNS)} "
            f"FROM ledger_transfer(%s, %s, %s, %s, %s, %s::bigint, %s, %s, {_NEGATIVE_KINDS_SQL}, %s, %s, %s::date)",
            [self.debit_id, self.credit_id, self.amount, self.kind, self.key, self.reverses_id, self.memo, self.at,
             self.wait, self.up_to, self.value_date],
        )

    def run(self, cursor) -> tuple:
        cursor.execute(*self.statement())
        return cursor.fetchone()

    def result(self, transfer_id, outcome, unit, balance, moved) -> Posted:
        """The Posted transfer; or the refusal raised (nothing was written)."""
        if outcome == "posted":
            return Posted(
                Transfer(id=transfer_id, debit_id=self.debit_id, credit_id=self.credit_id, unit=unit, amount=moved,
                         kind=self.kind, idempotency_key=self.key, reverses_id=self.reverses_id, memo=self.memo,
                         created_at=self.at, value_date=self.value_date),
                created=True,
            )
        if outcome == "replayed":
            return Posted(self._first_with_this_key(), created=False)
        if outcome == "busy":
            raise KeyBusy(key=self.key)
        if outcome == "insufficient_funds":
            raise InsufficientFunds(account_id=self.debit_id, amount=self.amount, balance=balance)
        if outcome == "unit_mismatch":
            raise UnitMismatch(debit=self.debit_id, credit=self.credit_id)
        raise Account.DoesNotExist(f"account {self.debit_id if outcome == 'no_debit_account' else self.credit_id}")

    def _first_with_this_key(self) -> Transfer:
        first = Transfer.objects.filter(idempotency_key=self.key).first()
        if first is None:  # the key is free: the insert found no debit account
            raise Account.DoesNotExist(f"account {self.debit_id}")
        same_amount = first.amount == self.amount or (self.up_to and first.amount < self.amount)
        if (first.debit_id, first.credit_id, first.kind) != (self.debit_id, self.credit_id, self.kind) or not same_amount:
            raise IdempotencyConflict(key=self.key)
        return first


_NEGATIVE_KINDS = [kind.value for kind in MAY_GO_NEGATIVE]
# A literal in the statement (the kinds are the code's own words): a list parameter would
# be inspected by the driver on every transfer.
_NEGATIVE_KINDS_SQL = "ARRAY[" + ", ".join(f"'{kind}'" for kind in _NEGATIVE_KINDS) + "]::text[]"


def transfer(**arguments: Any) -> Posted:
    """Move `amount` cents from `debit` to `credit` (Posting's arguments); see the module
    docstring.

    `at` dates a movement that happened earlier (an import, the demo's history); the
    balances still change now, and the transfer is as immutable as any other.
    `value_date` is the bank's date of a euro movement (a statement's value date); by
    default the fund's day of `at`. The books and the FEC date entries by it. With
    `up_to`, a debit that holds less moves what it holds (if anything): the Posted
    transfer's amount says how much.
    Raises InsufficientFunds (its `context["balance"]` is the debit's balance),
    UnitMismatch, Account.DoesNotExist, IdempotencyConflict or (with `wait=False`)
    KeyBusy; any of them has written nothing.
    """
    posting = Posting(**arguments)
    with transaction.atomic(savepoint=False), prepared_cursor() as cursor:
        row = posting.run(cursor)
    return posting.result(*row)


def reverse(original: Transfer | int, *, memo: str = "", value_date: date | None = None) -> Posted:
    """Undo a transfer with a new one in the other direction; at most once per transfer.
    `value_date`: the bank's date of the return, when the bank made it."""
    if isinstance(original, int):
        original = Transfer.objects.get(pk=original)
    return transfer(
        debit=original.credit_id,
        credit=original.debit_id,
        amount=original.amount,
        kind=TransferKind.REVERSAL,
        idempotency_key=keys.reversal(original.pk),
        memo=memo or f"reversal of #{original.pk}",
        reverses=original.pk,
        value_date=value_date,
    )


def open_account(kind: AccountKind) -> Account:
    """A new wallet or vendor account (the fund's own accounts exist from migration)."""
    if kind not in (AccountKind.WALLET, AccountKind.VENDOR):
        raise ValueError(f"{kind} is a system account; use system_account()")
    return Account.objects.create(kind=kind, unit=Unit.FUND_UNIT)


def system_account(kind: AccountKind) -> Account:
    """One of the fund's own accounts. Migration 0002 creates them; creating a missing one
    here keeps a database emptied by a flush (tests, a restore gone wrong) usable."""
    unit = Unit.EURO if kind in EURO_KINDS else Unit.FUND_UNIT
    account, _ = Account.objects.get_or_create(code=kind.value, defaults={"kind": kind, "unit": unit})
    return account


def deposit_cash(*, amount: int, deposited_on, bank_reference: str) -> Posted:
    """Cash from the desks paid in at the bank (the bank's statement shows it): the cash
    box (530) to the treasury (512), once per bank reference."""
    return transfer(
        debit=system_account(AccountKind.CASH), credit=system_account(AccountKind.TREASURY), amount=amount,
        kind=TransferKind.CASH_DEPOSIT, idempotency_key=keys.cash_deposit(bank_reference),
        memo=f"cash deposit {bank_reference}"[:255], value_date=deposited_on,
    )


def pay_bank_fee(*, amount: int, charged_on, bank_reference: str) -> Posted:
    """A fee the bank took from the fund's account (its statement shows it): the treasury
    (512) to the bank fees (627), at the bank's value date, once per bank reference."""
    return transfer(
        debit=system_account(AccountKind.TREASURY), credit=system_account(AccountKind.BANK_FEES), amount=amount,
        kind=TransferKind.BANK_FEE, idempotency_key=keys.bank_fee(bank_reference),
        memo=f"bank fee {bank_reference}"[:255], value_date=charged_on,
    )
