"""Benchmark of `check_ledger` with 1 000 000 transfers (not a test).

    DATABASE_URL=postgres:///caisse_bench REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/check_ledger.py --transfers 1000000

Builds the dashboard benchmark's fund (bench/dashboard.py: twelve months of allocations,
contributions with their payment rows, grants, purchases, refunds), gives each purchase
transfer its Purchase row, then times `check_ledger()` (balances, units, and every
object's agreement with its transfers), the median of --repeat runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# The dashboard benchmark sets Django up and builds the fund (bench/ is on the path when
# this runs as a script, the repository is added by it).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard import build, sql  # noqa: E402


def purchases() -> None:
    sql("""INSERT INTO vendors_purchase (vendor_id, till, card_id, card_last4, wallet_id, transfer_id, amount,
                                         requested, refunded, reference, created_at)
           SELECT v.id, '', 0, '0000', t.debit_id, t.id, t.amount, t.amount, 0, '', t.created_at
           FROM allocations_transfer t JOIN vendors_vendor v ON v.account_id = t.credit_id
           WHERE t.kind = 'purchase'""")
    sql("ANALYZE")


def main():
    from django.core.management import call_command

    from allocations.integrity import check_ledger

    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=1_000_000)
    parser.add_argument("--households", type=int, default=5_000)
    parser.add_argument("--vendors", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    build(args.households, args.vendors, args.transfers)
    purchases()
    print(f"built in {time.perf_counter() - t0:.1f}s")
    (count,) = sql("SELECT COUNT(*) FROM allocations_transfer")[0]
    (bought,) = sql("SELECT COUNT(*) FROM vendors_purchase")[0]
    print(f"{count} transfers, {bought} purchases")
    times, report = [], None
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = check_ledger()
        times.append(time.perf_counter() - start)
    print(f"check_ledger: median {statistics.median(times):.2f}s over {args.repeat} runs; ok={report.ok} "
          f"({len(report.mismatches)} balances, {len(report.objects)} objects off)")


if __name__ == "__main__":
    main()
