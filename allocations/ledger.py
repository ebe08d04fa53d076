"""Posting money: the one way a balance changes.

`transfer()` moves both balances and writes the transfer row in one short database
transaction, without a table-wide lock, in this order:

1. with an idempotency key, a lock on the key, then a look for it: a repeat (even a
   concurrent one, which waits on the lock) finds the first and moves nothing; with
   `wait=False` a concurrent repeat is refused at once instead (KeyBusy: a till's
   retry is told the first attempt is still running);
2. both account rows locked in ascending id order (two transfers crossing the same pair
   of accounts cannot deadlock) and read;
3. every check (both accounts exist, hold the same unit, the debit can pay); a refusal
   has written nothing, so it needs no savepoint and leaves the caller's transaction
   usable;
4. the two balance updates and the transfer row.

On PostgreSQL this is one statement, the `ledger_transfer()` function (migration
allocations 0009); elsewhere (the SQLite demo) the same steps run one by one. The tests
run both on PostgreSQL, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caisse.db import prepared_cursor

from .models import EURO_KINDS, MAY_GO_NEGATIVE, Account, AccountKind, Transfer, TransferKind, Unit

_ACCOUNT = Account._meta.db_table
_TRANSFER = Transfer._meta.db_table


class LedgerError(Exception):
    code = "ledger_error"
    message = _("The transfer could not be made.")

    def __init__(self, message=None, **context):
        self.context = context
        super().__init__(message or self.message)


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
    wait: bool = True,
) -> Posted:
    """Move `amount` cents from `debit` to `credit`; see the module docstring.

    `at` dates a movement that happened earlier (an import, the demo's history); the
    balances still change now, and the transfer is as immutable as any other.
    Raises InsufficientFunds (its `context["balance"]` is the debit's balance, read under
    the row lock the caller's transaction still holds), UnitMismatch, Account.DoesNotExist
    IdempotencyConflict or (with `wait=False`) KeyBusy; any of them has written nothing.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount(amount=amount)
    debit_id, credit_id = _pk(debit), _pk(credit)
    reverses_id = None if reverses is None else (reverses if isinstance(reverses, int) else reverses.pk)
    now = at or timezone.now()
    args = (debit_id, credit_id, amount, kind, idempotency_key, reverses_id, memo, now, wait)

    with transaction.atomic(savepoint=False), prepared_cursor() as cursor:
        post = _post_in_one_statement if cursor.db.vendor == "postgresql" else _post_step_by_step
        transfer_id, outcome, unit, balance = post(cursor, *args)

    if outcome == "posted":
        return Posted(
            Transfer(id=transfer_id, debit_id=debit_id, credit_id=credit_id, unit=unit, amount=amount, kind=kind,
                     idempotency_key=idempotency_key, reverses_id=reverses_id, memo=memo, created_at=now),
            created=True,
        )
    if outcome == "replayed":
        return Posted(_replayed(idempotency_key, debit_id, credit_id, amount, kind), created=False)
    if outcome == "busy":
        raise KeyBusy(key=idempotency_key)
    if outcome == "insufficient_funds":
        raise InsufficientFunds(account_id=debit_id, amount=amount, balance=balance)
    if outcome == "unit_mismatch":
        raise UnitMismatch(debit=debit_id, credit=credit_id)
    raise Account.DoesNotExist(f"account {debit_id if outcome == 'no_debit_account' else credit_id}")


_NEGATIVE_KINDS = [kind.value for kind in MAY_GO_NEGATIVE]


def _post_in_one_statement(cursor, *args):
    cursor.execute(
        "SELECT transfer_id, outcome, unit, debit_balance "
        "FROM ledger_transfer(%s, %s, %s, %s, %s, %s::bigint, %s, %s, %s::text[], %s)",
        [*args[:-1], _NEGATIVE_KINDS, args[-1]],
    )
    return cursor.fetchone()


def _post_step_by_step(cursor, debit_id, credit_id, amount, kind, key, reverses_id, memo, now, wait):
    """ledger_transfer(), statement by statement (SQLite has no functions, and its
    immediate transactions already keep every other writer out)."""
    if debit_id == credit_id:
        raise IntegrityError("transfer_distinct_accounts: a transfer needs two distinct accounts")
    if key is not None:
        if cursor.db.vendor == "postgresql":
            lock = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
            cursor.execute(f"SELECT {lock}(hashtextextended(%s, 0))", ["ledger:" + key])
            if cursor.fetchone()[0] is False:
                return None, "busy", None, None
        cursor.execute(f"SELECT 1 FROM {_TRANSFER} WHERE idempotency_key = %s", [key])
        if cursor.fetchone():
            return None, "replayed", None, None
    for_update = " FOR UPDATE" if cursor.db.features.has_select_for_update else ""
    cursor.execute(f"SELECT id, unit, kind, balance FROM {_ACCOUNT} WHERE id IN (%s, %s) ORDER BY id{for_update}",
                   [debit_id, credit_id])
    accounts = {row[0]: row[1:] for row in cursor.fetchall()}
    if debit_id not in accounts:
        return None, "no_debit_account", None, None
    if credit_id not in accounts:
        return None, "no_credit_account", None, None
    (unit, debit_kind, balance), credit_unit = accounts[debit_id], accounts[credit_id][0]
    if unit != credit_unit:
        return None, "unit_mismatch", unit, balance
    if balance < amount and debit_kind not in _NEGATIVE_KINDS:
        return None, "insufficient_funds", unit, balance
    cursor.execute(f"UPDATE {_ACCOUNT} SET balance = balance - %s WHERE id = %s", [amount, debit_id])
    cursor.execute(f"UPDATE {_ACCOUNT} SET balance = balance + %s WHERE id = %s", [amount, credit_id])
    cursor.execute(
        f"INSERT INTO {_TRANSFER} (debit_id, credit_id, unit, amount, kind, idempotency_key, reverses_id, memo,"
        f" created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [debit_id, credit_id, unit, amount, kind, key, reverses_id, memo, now],
    )
    return cursor.fetchone()[0], "posted", unit, balance


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
