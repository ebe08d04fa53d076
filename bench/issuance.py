"""Benchmark of the monthly issuance against a raw-SQL baseline (not a test).

    createdb caisse_bench
    DATABASE_URL=postgres:///caisse_bench REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/issuance.py --sizes 10000,100000,1000000

For each size N it rebuilds N active households (set-based SQL), gives every wallet a
balance from a previous month, then under the `none` rollover policy (the most work:
every wallet gets an expiry row *and* an allocation row) times, on the same data:

- the service: `allocations.issuance.issue_period` (forecast, solvency check, planning,
  chunks of households in bounded transactions, run bookkeeping);
- the baseline: the same rows written by hand — expiry rows and allocation rows by
  `INSERT … SELECT`, the balance `UPDATE`s — in one transaction, no chunks, no checks.

The two alternate over consecutive periods (baseline, service, baseline, service, …) so
that neither always runs against the smaller table. Prints households/s, the ratio
service ÷ baseline and the peak Python memory of the service call (tracemalloc), which
must not grow with N. Member notices are left out of both (see --notices).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisse.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
for _name in ("PIN_HASH_KEY", "ACTIVATION_CODE_KEY", "REPORT_DIGEST_KEY", "RESEARCH_PSEUDONYM_KEY"):
    os.environ.setdefault(_name, f"bench-only-{_name.lower()}")
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit("bench/issuance.py runs on PostgreSQL: set DATABASE_URL=postgres:///caisse_bench")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from allocations import issuance, ledger, periods  # noqa: E402
from allocations.models import AccountKind, FundRules, RolloverPolicy, TransferKind  # noqa: E402
from members import notices  # noqa: E402
from members.models import Household  # noqa: E402
from members.selectors import issuable_households_sql  # noqa: E402

ALLOCATION, SUPPLEMENT_ADULT, SUPPLEMENT_CHILD = 10_000, 5_000, 2_500


def sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else None


def reset(n: int) -> None:
    """An empty ledger and N active households with their wallets, set-based."""
    sql(
        "TRUNCATE members_notice, allocations_issuancechunk, allocations_issuancerun, allocations_transfer, "
        "members_household RESTART IDENTITY CASCADE"
    )
    sql("DELETE FROM allocations_account WHERE code IS NULL")
    sql("UPDATE allocations_account SET balance = 0")
    FundRules.objects.all().delete()
    FundRules.objects.create(effective_from=periods.parse("2020-01"), allocation_per_household=ALLOCATION)
    FundRules.objects.create(
        effective_from=periods.parse("2026-01"),
        allocation_per_household=ALLOCATION,
        supplement_per_extra_adult=SUPPLEMENT_ADULT,
        supplement_per_child=SUPPLEMENT_CHILD,
        rollover_policy=RolloverPolicy.NONE,
    )
    # Columns the bench sets; every other non-null column gets its default (or ""), so
    # the bench keeps working as the members app adds fields.
    own = {
        "reference": "'B' || w.id",
        "status": "'active'",
        "adults": "1 + (w.id %% 2)::int",
        "children": "(w.id %% 3)::int",
        "wallet_id": "w.id",
        "joined_on": "DATE '2025-01-01'",
    }
    columns, values, params = list(own), list(own.values()), [n]
    for field in Household._meta.concrete_fields:
        if field.primary_key or field.null or field.column in own:
            continue
        columns.append(field.column)
        values.append("%s")
        params.append(field.get_default() if field.has_default() else "")
    sql(
        f"""
        WITH w AS (
            INSERT INTO allocations_account (kind, unit, balance, created_at)
            SELECT 'wallet', 'UNIT', 0, now() FROM generate_series(1, %s) RETURNING id
        )
        INSERT INTO members_household ({", ".join(columns)}) SELECT {", ".join(values)} FROM w
        """,
        [params[0], *params[1:]],
    )
    # Euros to back everything the bench issues.
    ledger.transfer(
        debit=ledger.system_account(AccountKind.GRANTS),
        credit=ledger.system_account(AccountKind.TREASURY),
        amount=n * 60_000 * 10,
        kind=TransferKind.GRANT,
    )
    sql("VACUUM ANALYZE allocations_account")
    sql("VACUUM ANALYZE members_household")


def baseline(period: str) -> None:
    """The same rows as the service, written by hand in one transaction."""
    issuance_id = ledger.system_account(AccountKind.ISSUANCE).pk
    expiry_id = ledger.system_account(AccountKind.EXPIRY).pk
    amount = f"({ALLOCATION} + {SUPPLEMENT_ADULT} * (h.adults - 1) + {SUPPLEMENT_CHILD} * h.children)"
    with transaction.atomic():
        (expired,) = sql(
            """
            WITH written AS (
                INSERT INTO allocations_transfer (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)
                SELECT a.id, %s, 'UNIT', a.balance, 'expiry', 'expiry:' || a.id || ':' || %s, %s, now()
                FROM allocations_account a JOIN members_household h ON h.wallet_id = a.id
                WHERE h.status = 'active' AND a.balance > 0
                RETURNING debit_id, amount
            ), moved AS (
                UPDATE allocations_account a SET balance = a.balance - w.amount FROM written w WHERE a.id = w.debit_id
                RETURNING w.amount
            )
            SELECT COALESCE(SUM(amount), 0) FROM moved
            """,
            [expiry_id, period, f"expiry {period}"],
        )[0]
        sql("UPDATE allocations_account SET balance = balance + %s WHERE id = %s", [expired, expiry_id])
        (issued,) = sql(
            f"""
            WITH written AS (
                INSERT INTO allocations_transfer (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)
                SELECT %s, h.wallet_id, 'UNIT', {amount}, 'allocation', 'allocation:' || h.wallet_id || ':' || %s, %s, now()
                FROM members_household h WHERE h.status = 'active'
                RETURNING credit_id, amount
            ), moved AS (
                UPDATE allocations_account a SET balance = a.balance + w.amount FROM written w WHERE a.id = w.credit_id
                RETURNING w.amount
            )
            SELECT COALESCE(SUM(amount), 0) FROM moved
            """,
            [issuance_id, period, f"allocation {period}"],
        )[0]
        sql("UPDATE allocations_account SET balance = balance - %s WHERE id = %s", [issued, issuance_id])


def service(period: str, chunk_size: int):
    source = issuance.HouseholdSource(eligible=issuable_households_sql)
    return issuance.issue_period(period, source=source, chunk_size=chunk_size)


def timed(function, *args):
    started = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - started, value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--chunk-size", type=int, default=issuance.DEFAULT_CHUNK_SIZE)
    parser.add_argument("--rounds", type=int, default=1, help="baseline/service pairs per size")
    parser.add_argument("--notices", action="store_true", help="also time the member notices (not in the baseline)")
    parser.add_argument("--check", action="store_true", help="run check_ledger after each size")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)

    print(f"chunk size {args.chunk_size}; rollover policy none (an expiry row and an allocation row per household)")
    header = f"{'households':>11} {'baseline s':>11} {'service s':>10} {'service hh/s':>13} {'ratio':>6} {'peak py MB':>11} {'maxrss MB':>10}"
    print(header)
    for n in [int(size) for size in args.sizes.split(",")]:
        reset(n)
        # A first month, untimed, so that every wallet has a balance to expire.
        baseline("2026-01")
        # Fresh statistics (balances are no longer all zero), or the planner may pick a
        # nested loop for the baseline's join and flatter the service.
        for table in ("allocations_account", "members_household", "allocations_transfer"):
            sql(f"ANALYZE {table}")
        base_total = service_total = 0.0
        peak = 0
        period = "2026-02"
        for _round in range(args.rounds):
            seconds, _ = timed(baseline, period)
            base_total += seconds
            period = periods.shift(period, 1)
            tracemalloc.start()
            seconds, result = timed(service, period, args.chunk_size)
            peak = max(peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            service_total += seconds
            assert result.households_credited == n and result.households_expired == n, result
            if args.notices:
                notice_seconds, created = timed(notices.notify_allocation_issued, period, 0, 2**62)
                print(f"    notices: {created} in {notice_seconds:.1f} s")
            period = periods.shift(period, 1)
        maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{n:>11} {base_total / args.rounds:>11.2f} {service_total / args.rounds:>10.2f} "
            f"{n * args.rounds / service_total:>13,.0f} {service_total / base_total:>6.2f} "
            f"{peak / 2**20:>11.2f} {maxrss_mb:>10.0f}",
            flush=True,
        )
        if args.check:
            call_command("check_ledger")


if __name__ == "__main__":
    main()
