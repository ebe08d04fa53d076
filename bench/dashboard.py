"""Benchmark of the coordinators' dashboard with 1 000 000 transfers (not a test).

    createdb caisse_bench
    DATABASE_URL=postgres:///caisse_bench REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/dashboard.py --transfers 1000000

Builds, set-based, a fund of --households households and --vendors vendors with twelve
months of history (allocations, contributions with their payment rows, grants, purchases,
refunds) until the ledger holds --transfers transfers, sets the balances from the
transfers, then times in the same run, each the median of --repeat:

- each page, through Django's test client (view, queries, template): the dashboard for the
  last 12 months and for one month, and three of its CSV tables;
- the raw SQL aggregates that page needs, run by hand on the same connection: the
  position (committed settlements and the runway included), the trends (contributions net
  of returns, allocations by their period), spending by shop, kind and district for the
  same span (small groups merged), contributions by bracket, participation, what waits;

checks that the raw SQL's figures are the page's, and prints the ratio page ÷ raw SQL
(goal: ≤ 3×). 1 % of the contributions are returned by the bank, so that "net of
returns" has work to do.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisse.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
for _name in ("PIN_HASH_KEY", "ACTIVATION_CODE_KEY", "REPORT_DIGEST_KEY", "RESEARCH_PSEUDONYM_KEY"):
    os.environ.setdefault(_name, f"bench-only-{_name.lower()}")
os.environ.setdefault("DEBUG", "0")
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit("bench/dashboard.py runs on PostgreSQL: set DATABASE_URL=postgres:///caisse_bench")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from allocations import periods  # noqa: E402
from coordination import reports  # noqa: E402
from members.models import ContributionPayment, Household  # noqa: E402
from vendors.models import Vendor  # noqa: E402


def sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else None


def _defaults(model, own: dict) -> tuple[list[str], list[str], list]:
    columns, values, params = list(own), list(own.values()), []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.null or field.column in own:
            continue
        columns.append(field.column)
        values.append("%s")
        default = field.get_default() if field.has_default() else ""
        params.append(default() if callable(default) else default)
    return columns, values, params


def build(households: int, vendors: int, transfers: int) -> None:
    sql("TRUNCATE vendors_settlement, vendors_settlementrun, vendors_refund, vendors_purchase, "
        "vendors_idempotencyrecord, vendors_statuschange, vendors_ibanchange, vendors_apikey, vendors_vendorstaff, "
        "members_contributionpayment, allocations_grantreceipt, allocations_issuancechunk, allocations_issuancerun, "
        "allocations_transfer, members_household, vendors_vendor RESTART IDENTITY CASCADE")
    sql("DELETE FROM allocations_account WHERE code IS NULL")
    sql("UPDATE allocations_account SET balance = 0")
    ids = dict(sql("SELECT code, id FROM allocations_account WHERE code IS NOT NULL"))
    months = [periods.shift(periods.current(), -n) for n in range(11, -1, -1)]
    districts = ["Mosson", "Celleneuve", "Figuerolles", "Près d'Arènes", "Croix d'Argent", "Hôpitaux-Facultés",
                 "Port Marianne", "Beaux-Arts"]
    columns, values, params = _defaults(Household, {
        "reference": "'B' || w.id", "status": "'active'", "wallet_id": "w.id", "adults": "1", "children": "0",
        "joined_on": "%s::date", "district": "(ARRAY[" + ", ".join(["%s"] * len(districts)) + "])[1 + w.id %% 8]",
        "income_bracket": "(ARRAY['low','modest','middle','high'])[1 + w.id %% 4]",
    })
    sql(f"""WITH w AS (INSERT INTO allocations_account (kind, unit, balance, created_at)
                     SELECT 'wallet', 'UNIT', 0, now() FROM generate_series(1, %s) RETURNING id)
            INSERT INTO members_household ({", ".join(columns)}) SELECT {", ".join(values)} FROM w""",
        [households, f"{months[0]}-01", *districts, *params])
    columns, values, params = _defaults(Vendor, {
        "slug": "'v' || w.id", "display_name": "'Vendor ' || w.id", "status": "'approved'", "account_id": "w.id",
        "kind": "(ARRAY['market','farm','grocery','cooperative','bakery','butcher','other'])[1 + w.id %% 7]",
    })
    sql(f"""WITH w AS (INSERT INTO allocations_account (kind, unit, balance, created_at)
                     SELECT 'vendor', 'UNIT', 0, now() FROM generate_series(1, %s) RETURNING id)
            INSERT INTO vendors_vendor ({", ".join(columns)}) SELECT {", ".join(values)} FROM w""",
        [vendors, *params])
    start = f"{months[0]}-01"
    # Allocations: each household each month.
    sql("""INSERT INTO allocations_transfer (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)
           SELECT %s, h.wallet_id, 'UNIT', 10000, 'allocation', 'allocation:' || h.wallet_id || ':' || m, '',
                  (m || '-01')::date + interval '1 hour'
           FROM members_household h CROSS JOIN unnest(%s::text[]) m""", [ids["issuance"], months])
    # Contributions: each household each month, with its payment row (every other column
    # at its model default, so that a new column cannot break the benchmark).
    columns, values, params = _defaults(ContributionPayment, {
        "household_id": "split_part(memo, ':', 1)::bigint", "amount": "amount", "method": "'sepa'",
        "period": "split_part(memo, ':', 2)", "paid_on": "created_at::date", "reference": "''",
        "mandate_reference": "'M-' || split_part(memo, ':', 1)", "transfer_id": "id", "recorded_at": "created_at",
    })
    sql(f"""WITH t AS (
             INSERT INTO allocations_transfer (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)
             SELECT %s, %s, 'EUR', 100 + (h.id %% 40) * 100, 'contribution', 'contribution:' || h.id || ':' || m,
                    h.id::text || ':' || m, (m || '-05')::date + interval '10 hours'
             FROM members_household h CROSS JOIN unnest(%s::text[]) m
             RETURNING id, amount, memo, created_at)
           INSERT INTO members_contributionpayment ({", ".join(columns)}) SELECT {", ".join(values)} FROM t""",
        [ids["contributions"], ids["treasury"], months, *params])
    # 1 % of the contributions returned by the bank three days later (a reversal, the payment
    # marked rejected): the dashboard counts contributions net of returns, and returns apart.
    sql("""WITH r AS (
             INSERT INTO allocations_transfer (debit_id, credit_id, unit, amount, kind, idempotency_key, reverses_id,
                                               memo, created_at, value_date)
             SELECT credit_id, debit_id, unit, amount, 'reversal', 'reversal:' || id, id, '',
                    created_at + interval '3 days', (created_at + interval '3 days')::date
             FROM allocations_transfer WHERE kind = 'contribution' AND id %% 100 = 0
             RETURNING id, reverses_id, created_at)
           UPDATE members_contributionpayment p SET reversal_id = r.id, rejected_at = r.created_at,
                  rejection_reason = 'AM04'
           FROM r WHERE p.transfer_id = r.reverses_id""")
    # Grants: one a month.
    sql("""INSERT INTO allocations_transfer (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)
           SELECT %s, %s, 'EUR', %s, 'grant', 'bench-grant:' || m, '', (m || '-02')::date FROM unnest(%s::text[]) m""",
        [ids["grants"], ids["treasury"], households * 6000, months])
    (so_far,) = sql("SELECT COUNT(*) FROM allocations_transfer")[0]
    purchases = max(transfers - so_far, 0)
    # Purchases spread over the window, 2 % of them followed by a refund.
    sql("""INSERT INTO allocations_transfer (debit_id, credit_id, unit, amount, kind, idempotency_key, memo, created_at)
           SELECT h.wallet_id, v.account_id, 'UNIT', 500, CASE WHEN g %% 50 = 0 THEN 'refund' ELSE 'purchase' END,
                  NULL, '', %s::timestamptz + (g::float / %s) * (now() - %s::timestamptz)
           FROM generate_series(1, %s) g
           JOIN members_household h ON h.id = 1 + (g::bigint * 7919) %% %s
           JOIN vendors_vendor v ON v.id = 1 + (g::bigint * 104729) %% %s""",
        [start, purchases, start, purchases, households, vendors])
    # Refunds go the other way.
    sql("ALTER TABLE allocations_transfer DISABLE TRIGGER USER")
    sql("UPDATE allocations_transfer SET debit_id = credit_id, credit_id = debit_id WHERE kind = 'refund'")
    sql("ALTER TABLE allocations_transfer ENABLE TRIGGER USER")
    sql("""UPDATE allocations_account a SET balance = s.net FROM (
             SELECT id, SUM(net) AS net FROM (
               SELECT credit_id AS id, amount AS net FROM allocations_transfer
               UNION ALL SELECT debit_id, -amount FROM allocations_transfer) x GROUP BY id) s
           WHERE a.id = s.id""")
    sql("VACUUM ANALYZE")


# What the dashboard computes, by hand: the same aggregates, no ORM, no template, on the
# same span (the last 12 months, or one month for "dashboard (month)"). Kept in step with
# coordination/reports.py: `check()` below compares their figures with the page's.
POSITION = [
    ("SELECT code, balance FROM allocations_account WHERE code IS NOT NULL", []),
    ("SELECT SUM(balance) FROM allocations_account WHERE kind = 'vendor'", []),
    # Committed settlements: in approved payment files, not yet confirmed by the bank.
    ("SELECT COALESCE(SUM(amount), 0) FROM vendors_settlement WHERE status = 'committed'", []),
    # The runway: next month's rules and what a month of allocations costs under them.
    ("""SELECT allocation_per_household, supplement_per_extra_adult, supplement_per_child FROM allocations_fundrules
        WHERE effective_from <= %s ORDER BY effective_from DESC LIMIT 1""", ["next_month"]),
    ("""SELECT COALESCE(SUM(10000 + 0 * (adults - 1) + 0 * children), 0) FROM members_household
        WHERE status = 'active' AND joined_on <= %s""", ["next_month_end"]),
]
TRENDS = ("""
    SELECT month, kind, effective, SUM(amount) FROM (
        SELECT CASE WHEN t.kind = 'allocation'
                    THEN COALESCE(NULLIF(split_part(t.idempotency_key, ':', 3), ''),
                                  to_char(COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date), 'YYYY-MM'))
                    ELSE to_char(COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date), 'YYYY-MM') END AS month,
               t.kind, t.kind AS effective, t.amount
        FROM allocations_transfer t
        WHERE t.kind IN ('allocation', 'purchase', 'refund', 'contribution', 'grant', 'reimbursement')
          AND (t.created_at >= %s OR COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date) >= %s)
        UNION ALL
        SELECT CASE WHEN o.kind = 'allocation'
                    THEN COALESCE(NULLIF(split_part(o.idempotency_key, ':', 3), ''),
                                  to_char(COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date), 'YYYY-MM'))
                    ELSE to_char(COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date), 'YYYY-MM') END,
               t.kind, o.kind, t.amount
        FROM allocations_transfer t JOIN allocations_transfer o ON o.id = t.reverses_id
        WHERE t.kind = 'reversal'
          AND o.kind IN ('allocation', 'purchase', 'refund', 'contribution', 'grant', 'reimbursement')
          AND (t.created_at >= %s OR COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date) >= %s)
    ) moved GROUP BY 1, 2, 3""", ["tz", "tz", "trend_start_ahead", "tz", "trend_first_day",
                                  "tz", "tz", "trend_start_ahead", "tz", "trend_first_day"])


SPENDING = ("""
    WITH per AS (
        SELECT v.id AS shop, v.kind, h.id AS who, h.district,
               SUM(CASE WHEN t.kind = 'purchase' THEN t.amount ELSE -t.amount END) AS spent
        FROM allocations_transfer t
        JOIN members_household h ON h.wallet_id = CASE WHEN t.kind = 'purchase' THEN t.debit_id ELSE t.credit_id END
        JOIN vendors_vendor v ON v.account_id = CASE WHEN t.kind = 'purchase' THEN t.credit_id ELSE t.debit_id END
        WHERE t.kind IN ('purchase', 'refund') AND t.created_at >= %s AND t.created_at < %s
        GROUP BY v.id, h.id
    ), grouped AS (
        SELECT 'shop' AS tbl, shop::text AS label, who, spent FROM per
        UNION ALL SELECT 'kind', kind, who, SUM(spent) FROM per GROUP BY kind, who
        UNION ALL SELECT 'district', district, who, SUM(spent) FROM per GROUP BY district, who
    ), sized AS (SELECT *, COUNT(*) OVER (PARTITION BY tbl, label) AS n FROM grouped)
    SELECT tbl, CASE WHEN n >= %s AND COALESCE(label, '') <> '' THEN label END,
           SUM(spent), COUNT(DISTINCT who), array_agg(DISTINCT label)
    FROM sized GROUP BY 1, 2 ORDER BY 1, 2 NULLS LAST""", ["start", "stop", "min_cell"])
# Spending by shop, kind and district (small groups merged) and the shops' names.
SHOPS = [SPENDING, ("SELECT id, display_name, slug, status FROM vendors_vendor WHERE status = 'approved'", [])]
BRACKETS = ("""
    SELECT h.income_bracket,
           SUM(CASE WHEN t.kind = 'reversal' THEN -t.amount ELSE t.amount END),
           COALESCE(SUM(t.amount) FILTER (WHERE t.kind = 'reversal'), 0),
           COUNT(DISTINCT h.id) FILTER (WHERE t.kind <> 'reversal' AND r.id IS NULL),
           COUNT(*) FILTER (WHERE t.kind <> 'reversal' AND r.id IS NULL),
           COALESCE(SUM(t.amount) FILTER (WHERE t.kind <> 'reversal' AND r.id IS NULL), 0)
    FROM allocations_transfer t LEFT JOIN allocations_transfer o ON o.id = t.reverses_id
    LEFT JOIN allocations_transfer r ON r.reverses_id = t.id
    LEFT JOIN members_contributionpayment p ON p.transfer_id = COALESCE(o.id, t.id)
    LEFT JOIN members_household h ON h.id = p.household_id
    WHERE t.kind IN ('contribution', 'reversal') AND COALESCE(o.kind, t.kind) = 'contribution'
      AND COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date) >= %s
      AND COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date) < %s
    GROUP BY 1 ORDER BY 1""", ["tz", "first_day", "tz", "end_day"])
PARTICIPATION = [
    ("""WITH allocated AS (
            SELECT DISTINCT COALESCE(NULLIF(split_part(t.idempotency_key, ':', 3), ''),
                                     to_char(COALESCE(t.value_date, (t.created_at AT TIME ZONE %s)::date), 'YYYY-MM'))
                            AS period, t.credit_id AS wallet
            FROM allocations_transfer t
            WHERE t.kind = 'allocation' AND t.created_at >= %s
              AND NOT EXISTS (SELECT 1 FROM allocations_transfer r WHERE r.reverses_id = t.id)
        ), spent AS (
            SELECT to_char(t.created_at AT TIME ZONE %s, 'YYYY-MM') AS period,
                   CASE WHEN t.kind = 'purchase' THEN t.debit_id ELSE t.credit_id END AS wallet
            FROM allocations_transfer t
            WHERE t.kind IN ('purchase', 'refund') AND t.created_at >= %s AND t.created_at < %s
            GROUP BY 1, 2 HAVING SUM(CASE WHEN t.kind = 'purchase' THEN t.amount ELSE -t.amount END) > 0
        )
        SELECT a.period, COUNT(*), COUNT(s.wallet)
        FROM allocated a LEFT JOIN spent s ON s.period = a.period AND s.wallet = a.wallet
        WHERE a.period = ANY(%s) GROUP BY 1""", ["tz", "start_ahead", "tz", "start", "stop", "months"]),
    ("SELECT COUNT(*) FROM members_household WHERE status = 'active'", []),
    ("""SELECT date_trunc('month', joined_on), COUNT(*) FROM members_household
        WHERE joined_on >= %s AND joined_on < %s AND status NOT IN ('applicant', 'waitlisted', 'drawn')
        GROUP BY 1""", ["first_day", "end_day"]),
    ("""SELECT date_trunc('month', status_changed_at AT TIME ZONE %s), COUNT(*) FROM members_household
        WHERE status = 'exited' AND status_changed_at >= %s AND status_changed_at < %s GROUP BY 1""",
     ["tz", "start", "stop"]),
]
WAITING = [
    ("SELECT COUNT(*) FROM members_heldcash WHERE decided_at IS NULL AND payment_id IS NULL", []),
    ("""SELECT COUNT(*) FROM members_desksession
        WHERE closed_at IS NOT NULL AND difference_explained_at IS NULL AND difference <> 0""", []),
    ("SELECT COUNT(*) FROM allocations_approval WHERE action = 'purchase_refund' AND status = 'pending'", []),
]
DASHBOARD = [*POSITION, TRENDS, *SHOPS, BRACKETS, *PARTICIPATION, *WAITING]
RAW = {
    "dashboard": DASHBOARD,
    "dashboard (month)": DASHBOARD,
    "trends.csv": [TRENDS],
    "shops.csv": SHOPS,
    "districts.csv": SHOPS,  # the page computes the three spending tables for any of them
}
PAGES = {"dashboard": "/coordination/", "dashboard (month)": "/coordination/?period={month}",
         "trends.csv": "/coordination/export/trends.csv", "shops.csv": "/coordination/export/shops.csv",
         "districts.csv": "/coordination/export/districts.csv"}


def span_values(span) -> dict:
    """The parameters of the raw SQL for a span of the dashboard."""
    next_month = periods.shift(periods.current(), 1)
    trend_first = periods.parse(span.trend_months[0])
    return {"tz": settings.TIME_ZONE, "start": span.start, "stop": span.stop, "months": list(span.months),
            "first_day": span.first_day, "end_day": span.end_day, "min_cell": reports.MIN_CELL,
            "start_ahead": span.start - timedelta(days=62), "trend_first_day": trend_first,
            "trend_start_ahead": timezone.make_aware(datetime.combine(trend_first, dtime.min)) - timedelta(days=62),
            "next_month": periods.parse(next_month), "next_month_end": periods.last_day(next_month)}


def check(span, values) -> None:
    """The raw SQL computes what the page shows: the same totals, or the ratio is not honest."""
    def run(query):
        statement, names = query
        return sql(statement, [values[name] for name in names])

    trends = reports.in_span(reports.monthly_trends(span), span)
    spent = sum(row.spent for row in trends)
    raw_spent = sum((1 if effective == "purchase" else -1) * (-1 if kind == "reversal" else 1) * total
                    for month, kind, effective, total in run(TRENDS)
                    if month in span.months and effective in ("purchase", "refund"))
    assert raw_spent == spent
    for table in ("shop", "kind", "district"):
        assert sum(row[2] for row in run(SPENDING) if row[0] == table) == spent, table
    assert sum(row[1] for row in run(BRACKETS)) == sum(row.contributions for row in trends)
    assert sum(row[2] for row in run(BRACKETS)) == sum(row.contributions_returned for row in trends)
    assert [row["total"] for row in reports.contributions_by_bracket(span)] == [row[1] for row in run(BRACKETS)]
    page = reports.participation(trends, span)
    raw = {period: (allocated, who) for period, allocated, who in run(PARTICIPATION[0])}
    assert {m.period: (m.allocated, m.spent) for m in page.months if m.allocated} == raw
    assert reports.position().committed_to_vendors == run(POSITION[2])[0][0]


def timed(fn, repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=1_000_000)
    parser.add_argument("--households", type=int, default=5_000)
    parser.add_argument("--vendors", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-build", action="store_true", help="reuse the data of the previous run")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if not args.no_build:
        t0 = time.perf_counter()
        build(args.households, args.vendors, args.transfers)
        print(f"built in {time.perf_counter() - t0:.1f}s")
    (count,) = sql("SELECT COUNT(*) FROM allocations_transfer")[0]
    print(f"{count} transfers, {args.households} households, {args.vendors} vendors")

    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from users import second_factor

    user, _created = get_user_model().objects.get_or_create(username="bench-coordinator")
    user.groups.add(Group.objects.get_or_create(name="coordinator")[0])
    password = secrets.token_urlsafe(16)
    user.set_password(password)
    user.save()
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    secret = get_adapter().decrypt(totp.data["secret"]) if totp else generate_totp_secret()
    if totp is None:
        TOTP.activate(user, secret)
    settings.ALLOWED_HOSTS = ["*"]
    client = Client(HTTP_HOST="localhost")
    # Signed in as a coordinator is: password, then the code (a session without it is signed out).
    client.post("/accounts/login/", {"login": user.username, "password": password}, secure=True)
    client.post("/accounts/2fa/authenticate/", {"code": second_factor.current_code(secret)}, secure=True)

    last_12, month = reports.span(), reports.span(periods.current())
    values = {"dashboard": span_values(last_12), "dashboard (month)": span_values(month)}
    check(last_12, values["dashboard"])
    check(month, values["dashboard (month)"])
    print("the raw SQL's figures agree with the page's (spending, contributions net and returned, participation)")

    def raw(queries, values):
        def run():
            for statement, names in queries:
                sql(statement, [values[name] for name in names])
        return run

    print(f"{'page':<20}{'page ms':>10}{'raw SQL ms':>12}{'ratio':>8}")
    for name, url in PAGES.items():
        def page():
            response = client.get(url.format(month=month.key), secure=True)  # noqa: B023 (timed within this iteration)
            assert response.status_code == 200, response.status_code
        page_s = timed(page, args.repeat)
        raw_s = timed(raw(RAW[name], values.get(name, values["dashboard"])), args.repeat)
        print(f"{name:<20}{page_s * 1000:>10.1f}{raw_s * 1000:>12.1f}{page_s / raw_s:>8.2f}")


if __name__ == "__main__":
    main()
