"""Posting money: the one way a balance changes.

`transfer()` writes the transfer row and moves both balances in one short database
transaction, without a table-wide lock:

1. INSERT the transfer, ``ON CONFLICT (idempotency_key) DO NOTHING``: a repeat (even a
   concurrent one, which waits on the unique index) finds the first and moves nothing;
2. a conditional ``UPDATE … SET balance = balance - amount WHERE balance >= amount``
   debits (as django-oscar allocates stock), so no read-modify-write race exists;
3. the credit ``UPDATE``.

The two account rows are locked in ascending id order so that two transfers crossing
the same pair of accounts cannot deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caisse.db import prepared_cursor

from .models import EURO_KINDS, MAY_GO_NEGATIVE, Account, AccountKind, Transfer, TransferKind, Unit

_ACCOUNT = Account._meta.db_table
_TRANSFER = Transfer._meta.db_table
_NEGATIVE_KINDS_SQL = ", ".join(f"'{kind.value}'" for kind in MAY_GO_NEGATIVE)


class LedgerError(Exception):
    code = "ledger_error"
    message = _("The transfer could not be made.")

    def __init__(self, message=None, **context):
        self.context = context
        super().__init__(message or self.message)


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


def transfer(
    *,
    debit: Account | int,
    credit: Account | int,
    amount: int,
    kind: str,
    idempotency_key: str | None = None,
    memo: str = "",
    reverses: Transfer | int | None = None,
    at: datetime | None = None,
    savepoint: bool = True,
) -> Posted:
    """Move `amount` cents from `debit` to `credit`; see the module docstring.

    `at` dates a movement that happened earlier (an import, the demo's history); the
    balances still change now, and the transfer is as immutable as any other.

    `savepoint=False` saves two round trips inside a caller's transaction that gives up
    altogether on any error (a refused payment): after an error the caller's transaction
    can then only be rolled back.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount(amount=amount)
    debit_id, credit_id = _pk(debit), _pk(credit)
    reverses_id = None if reverses is None else (reverses if isinstance(reverses, int) else reverses.pk)
    now = at or timezone.now()

    with transaction.atomic(savepoint=savepoint), prepared_cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {_TRANSFER}
                (debit_id, credit_id, unit, amount, kind, idempotency_key, reverses_id, memo, created_at)
            SELECT %s, %s, a.unit, %s, %s, %s, %s::bigint, %s, %s FROM {_ACCOUNT} a WHERE a.id = %s
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id, unit
            """,
            [debit_id, credit_id, amount, kind, idempotency_key, reverses_id, memo, now, debit_id],
        )
        row = cursor.fetchone()
        if row is None:
            if idempotency_key is None:
                raise Account.DoesNotExist(f"account {debit_id}")
            return Posted(_replayed(idempotency_key, debit_id, credit_id, amount, kind), created=False)
        transfer_id, unit = row

        units = {}
        for account_id in sorted((debit_id, credit_id)):
            if account_id == debit_id:
                cursor.execute(
                    f"UPDATE {_ACCOUNT} SET balance = balance - %s "
                    f"WHERE id = %s AND (balance >= %s OR kind IN ({_NEGATIVE_KINDS_SQL})) RETURNING unit",
                    [amount, debit_id, amount],
                )
                found = cursor.fetchone()
                if found is None:
                    raise InsufficientFunds(account_id=debit_id, amount=amount)
            else:
                cursor.execute(
                    f"UPDATE {_ACCOUNT} SET balance = balance + %s WHERE id = %s RETURNING unit",
                    [amount, credit_id],
                )
                found = cursor.fetchone()
                if found is None:
                    raise Account.DoesNotExist(f"account {credit_id}")
            units[account_id] = found[0]
        if units[debit_id] != units[credit_id]:
            raise UnitMismatch(debit=debit_id, credit=credit_id)

    return Posted(
        Transfer(
            id=transfer_id,
            debit_id=debit_id,
            credit_id=credit_id,
            unit=unit,
            amount=amount,
            kind=kind,
            idempotency_key=idempotency_key,
            reverses_id=reverses_id,
            memo=memo,
            created_at=now,
        ),
        created=True,
    )


def _replayed(key: str, debit_id: int, credit_id: int, amount: int, kind: str) -> Transfer:
    first = Transfer.objects.filter(idempotency_key=key).first()
    if first is None:  # the key is free: the insert found no debit account
        raise Account.DoesNotExist(f"account {debit_id}")
    if (first.debit_id, first.credit_id, first.amount, first.kind) != (debit_id, credit_id, amount, kind):
        raise IdempotencyConflict(key=key)
    return first


def reverse(original: Transfer | int, *, memo: str = "") -> Posted:
    """Undo a transfer with a new one in the other direction; at most once per transfer."""
    if isinstance(original, int):
        original = Transfer.objects.get(pk=original)
    return transfer(
        debit=original.credit_id,
        credit=original.debit_id,
        amount=original.amount,
        kind=TransferKind.REVERSAL,
        idempotency_key=f"reversal:{original.pk}",
        memo=memo or f"reversal of #{original.pk}",
        reverses=original.pk,
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
